"""FAME's defaults: the efficient sequence mode, and a train_batch_size that means what it means in RecBole."""

import pytest
from recbole.data.dataloader import TrainDataLoader

from recbole_fame import Config, create_dataset, data_preparation, get_model
from recbole_fame.data.dataloader import LengthBucketedTrainDataLoader
from recbole_fame.errors import ConfigurationError
from tests.conftest import seed_everything, tiny_settings


def prepared(tmp_path, model="FAME", **overrides):
    settings = tiny_settings(tmp_path, **overrides)
    for key in [key for key, value in overrides.items() if value is None]:
        settings.pop(key)  # not set at all: the yaml defaults apply
    config = Config(model=model, dataset="tiny", config_dict=settings)
    train_data, _, _ = data_preparation(config, create_dataset(config))
    return config, train_data


def test_fame_trains_in_the_length_bucketed_sequence_mode_by_default(tmp_path):
    config, train_data = prepared(tmp_path, train_mode=None)
    assert config["train_mode"] == "sequence"
    assert train_data._dataset.trains_whole_sequences
    assert isinstance(train_data, LengthBucketedTrainDataLoader)


def test_the_prefix_mode_is_one_setting_away_with_recboles_shuffled_batches(tmp_path):
    config, train_data = prepared(tmp_path, train_mode="prefix")
    assert not getattr(train_data._dataset, "trains_whole_sequences", False)
    assert type(train_data) is TrainDataLoader and train_data.step == config["train_batch_size"]
    _, bucketed = prepared(tmp_path, train_mode="prefix", length_bucketing=True)  # asked for: still there
    assert isinstance(bucketed, LengthBucketedTrainDataLoader)


@pytest.mark.parametrize("bucketing", [True, False])
def test_sequence_mode_batches_hold_train_batch_size_targets(tmp_path, bucketing):
    """train_batch_size counts training targets in the sequence mode too, so an epoch makes about as many
    updates as the prefix mode's (ml-100k's 256 used to be 256 whole sequences: ~4 updates an epoch)."""
    seed_everything()  # the initial weights and any other draw: not left to the tests that ran before
    _, prefix = prepared(tmp_path, train_mode="prefix", train_batch_size=64)
    config, train_data = prepared(tmp_path, train_mode="sequence", train_batch_size=64, length_bucketing=bucketing)
    dataset = train_data._dataset
    per_sequence = dataset.targets_per_sequence
    assert per_sequence > 2  # so that the two meanings differ
    assert train_data.step == dataset.sequences_per_batch == round(64 / per_sequence)
    assert abs(len(train_data) - len(prefix)) <= 0.5 * len(prefix)  # about as many updates per epoch
    assert config["train_batch_size"] == 64  # the setting itself is left as given
    model = get_model("FAME")(config, dataset)
    assert model.sequence_loss.targets_per_batch == pytest.approx(train_data.step * per_sequence)
    assert abs(model.sequence_loss.targets_per_batch - 64) <= per_sequence / 2


def test_train_batch_unit_sequences_keeps_whole_sequences_per_batch(tmp_path):
    seed_everything()  # the initial weights and any other draw: not left to the tests that ran before
    config, train_data = prepared(tmp_path, train_mode="sequence", train_batch_size=8, train_batch_unit="sequences")
    assert train_data.step == 8
    model = get_model("FAME")(config, train_data._dataset)
    assert model.sequence_loss.targets_per_batch == pytest.approx(8 * train_data._dataset.targets_per_sequence)
    with pytest.raises(ConfigurationError, match="train_batch_unit must be one of"):
        prepared(tmp_path, train_mode="sequence", train_batch_unit="items")
