"""RecBole's ``data_preparation`` with the plugin's optional length-bucketed training loader and its
length-sorted full-sort evaluation loader."""

from recbole.data import data_preparation as recbole_data_preparation
from recbole.data.dataloader import FullSortEvalDataLoader

from recbole_fame.data.dataloader import BUCKETING_REFUSED, LengthBucketedTrainDataLoader
from recbole_fame.data.sorted_eval import LengthSortedFullSortEvalDataLoader, sorts_evaluation
from recbole_fame.errors import ConfigurationError


def data_preparation(config, dataset):
    """Split ``dataset`` and build the train/valid/test dataloaders exactly as RecBole does; with
    ``length_bucketing: True`` (single process) the training loader batches samples of similar length; with
    ``sorted_evaluation: True`` (the default) the full-sort evaluation of a model of ``TRIMMABLE_MODELS`` runs
    in batches of similar history length (same metrics, :mod:`recbole_fame.data.sorted_eval`)."""
    model = config["model"]
    if config["length_bucketing"] and model in BUCKETING_REFUSED:
        raise ConfigurationError(f"length_bucketing: True cannot train {model}: {BUCKETING_REFUSED[model]}. "
                                 "Set length_bucketing: False for it (RecBole's shuffled batches).")
    train_data, valid_data, test_data = recbole_data_preparation(config, dataset)
    if config["length_bucketing"] and config["single_spec"]:
        train_data = LengthBucketedTrainDataLoader(config, train_data._dataset, train_data._sampler)
    if sorts_evaluation(config):
        valid_data, test_data = (
            LengthSortedFullSortEvalDataLoader(config, data._dataset, data._sampler, shuffle=False)
            if type(data) is FullSortEvalDataLoader else data
            for data in (valid_data, test_data)
        )
    return train_data, valid_data, test_data
