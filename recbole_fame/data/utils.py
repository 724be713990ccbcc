"""RecBole's ``data_preparation`` with the plugin's optional length-bucketed training loader and the optional
hiding of already-seen items at full-sort evaluation (``eval_exclude_history``)."""

from logging import getLogger

from recbole.data import data_preparation as recbole_data_preparation
from recbole_fame.data.dataloader import BUCKETING_REFUSED, LengthBucketedTrainDataLoader
from recbole_fame.data.eval_dataloader import hide_history
from recbole_fame.data.history import excludes_history, full_sort_only, user_history_of
from recbole_fame.errors import ConfigurationError


def data_preparation(config, dataset):
    """Split ``dataset`` and build the train/valid/test dataloaders exactly as RecBole does; with
    ``length_bucketing: True`` (single process) the training loader batches samples of similar length, and with
    ``eval_exclude_history: True`` full-sort validation and test hide every item of the user's earlier history."""
    model = config["model"]
    if config["length_bucketing"] and model in BUCKETING_REFUSED:
        raise ConfigurationError(f"length_bucketing: True cannot train {model}: {BUCKETING_REFUSED[model]}. "
                                 "Set length_bucketing: False for it (RecBole's shuffled batches).")
    train_data, valid_data, test_data = recbole_data_preparation(config, dataset)  # builds the samples
    if config["length_bucketing"] and config["single_spec"]:
        train_data = LengthBucketedTrainDataLoader(config, train_data._dataset, train_data._sampler)
    if config["eval_exclude_history"] and not full_sort_only(config):
        getLogger().warning("eval_exclude_history applies to full-sort evaluation only (eval_args mode: full); "
                            f"this run evaluates with mode {config['eval_args']['mode']}, so nothing is hidden.")
    if excludes_history(config):
        valid_data, test_data = hide_history(config, valid_data, test_data, user_history_of(dataset))
    return train_data, valid_data, test_data
