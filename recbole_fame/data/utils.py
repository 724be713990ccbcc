"""RecBole's ``create_dataset`` and ``data_preparation`` with the plugin's dataset classes (the efficient
training mode), the dataset checks, the optional length-bucketed training loader and the optional hiding of
already-seen items at full-sort evaluation (``eval_exclude_history``)."""

from logging import getLogger

from recbole.data import data_preparation as recbole_data_preparation

from recbole_fame.capabilities import length_bucketing_refused
from recbole_fame.data.checks import check_dataset_files
from recbole_fame.data.dataloader import LengthBucketedTrainDataLoader
from recbole_fame.data.dataset import dataset_class_for
from recbole_fame.data.eval_dataloader import hide_history
from recbole_fame.data.history import excludes_history, full_sort_only, user_history_of
from recbole_fame.errors import ConfigurationError
from recbole_fame.registry import get_model


def data_preparation(config, dataset):
    """Split ``dataset`` and build the train/valid/test dataloaders exactly as RecBole does; with
    ``length_bucketing: True`` (single process) the training loader batches samples of similar length, and with
    ``eval_exclude_history: True`` full-sort validation and test hide every item of the user's earlier history."""
    model = config["model"]
    refused = length_bucketing_refused(get_model(model)) if config["length_bucketing"] else None
    if refused:
        raise ConfigurationError(f"length_bucketing: True cannot train {model}: {refused}. "
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


def create_dataset(config):
    """RecBole's ``create_dataset``, with the plugin's dataset classes and the missing-files check first."""
    check_dataset_files(config)
    dataset_class = dataset_class_for(config)
    if dataset_class is None:
        from recbole.data import create_dataset as recbole_create_dataset

        return recbole_create_dataset(config)
    return dataset_class(config)
