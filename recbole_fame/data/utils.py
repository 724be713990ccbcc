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
    if config["length_bucketing"] and config["shuffle"] is False:
        raise ConfigurationError("length_bucketing: True draws its own order every epoch (samples shuffled, sorted "
                                 "by length within chunks, batches shuffled), so shuffle: False would be ignored. "
                                 "Set shuffle: True, or length_bucketing: False for RecBole's unshuffled order.")
    train_data, valid_data, test_data = recbole_data_preparation(config, dataset)
    if config["length_bucketing"] and config["single_spec"]:
        train_data = LengthBucketedTrainDataLoader(config, train_data._dataset, train_data._sampler)
    return train_data, valid_data, test_data
