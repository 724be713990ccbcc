"""RecBole's ``data_preparation`` with the plugin's optional length-bucketed training loader."""

from recbole.data import data_preparation as recbole_data_preparation

from recbole_fame.data.dataloader import LengthBucketedTrainDataLoader


def data_preparation(config, dataset):
    """Split ``dataset`` and build the train/valid/test dataloaders exactly as RecBole does; with
    ``length_bucketing: True`` (single process) the training loader batches samples of similar length."""
    train_data, valid_data, test_data = recbole_data_preparation(config, dataset)
    if config["length_bucketing"] and config["single_spec"]:
        train_data = LengthBucketedTrainDataLoader(config, train_data._dataset, train_data._sampler)
    return train_data, valid_data, test_data
