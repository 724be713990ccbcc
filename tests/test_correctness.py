"""Regression tests of issue 17's review: each failed before its fix."""

from recbole_fame import Config
from recbole_fame.training_state import changed_training_settings


def test_resume_compares_the_sequence_loss_weighting(settings):
    """A resumed run with another sequence_loss_weighting trains another objective: the resume names it."""
    saved = Config(model="FAME", dataset="tiny", config_dict=settings(train_mode="sequence"))
    config = Config(model="FAME", dataset="tiny", config_dict=settings(train_mode="sequence",
                                                                       sequence_loss_weighting="batch"))
    assert changed_training_settings(saved, config) == ["sequence_loss_weighting 'target' -> 'batch'"]
