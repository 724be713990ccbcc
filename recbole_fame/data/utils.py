"""RecBole's ``data_preparation`` with the plugin's optional length-bucketed training loader."""

from recbole.data import data_preparation as recbole_data_preparation

from recbole_fame.data.dataloader import BUCKETING_REFUSED, LengthBucketedTrainDataLoader
from recbole_fame.errors import ConfigurationError


def data_preparation(config, dataset):
    """Split ``dataset`` and build the train/valid/test dataloaders exactly as RecBole does; with
    ``length_bucketing: True`` (single process) the training loader batches samples of similar length."""
    model = config["model"]
    if config["length_bucketing"] and model in BUCKETING_REFUSED:
        raise ConfigurationError(f"length_bucketing: True cannot train {model}: {BUCKETING_REFUSED[model]}. "
                                 "Set length_bucketing: False for it (RecBole's shuffled batches).")
    from recbole_fame.settings import check_pickled_files

    check_pickled_files(config)  # dataloaders_save_path: RecBole unpickles it
    check_topk_fits(config, dataset)
    train_data, valid_data, test_data = recbole_data_preparation(config, dataset)
    if config["length_bucketing"] and config["single_spec"]:
        train_data = LengthBucketedTrainDataLoader(config, train_data._dataset, train_data._sampler)
    return train_data, valid_data, test_data


def check_topk_fits(config, dataset):
    """Full-sort metrics at k need at least k items to rank (RecBole fails in torch.topk otherwise)."""
    topk = config["topk"] or []
    largest = max(topk if isinstance(topk, (list, tuple)) else [topk])
    items = dataset.item_num - 1  # without the padding item
    if isinstance(largest, int) and largest > items:
        raise ConfigurationError(
            f"topk {list(topk)} asks for the top {largest} items, and dataset {config['dataset']} has {items} items: "
            f"set topk to values <= {items} (e.g. --topk=[{min(5, items)}]) and valid_metric to one of them."
        )
