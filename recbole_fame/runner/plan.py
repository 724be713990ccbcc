"""What a run is, decided once: :class:`RunPlan`, made by :func:`plan_run` from the resolved Config.

Every choice that depends on the model (what it can train on, whether its batches may be cut to their longest
sequence) or that several steps share (hidden history, sorted evaluation, the trainer) is made here, once, and
the plan is handed to the data and training steps (:mod:`recbole_fame.runner.pipeline`). So the data package never
looks a model up, and a setting a model cannot honour is refused here, before any data is read.
"""

from dataclasses import dataclass

from recbole.utils import ModelType

from recbole_fame.data.history import excludes_history
from recbole_fame.defaults import train_mode
from recbole_fame.errors import ConfigurationError
from recbole_fame.runner.capabilities import (
    length_bucketing_refused,
    supports_batch_trimming,
    supports_sequence_training,
    supports_train_exclude_history,
)
from recbole_fame.runner.registry import get_model, get_trainer


@dataclass(frozen=True)
class RunPlan:
    model_class: type  # the model built on the training split
    trainer_class: type  # trains and evaluates it (the plugin's fixes included)
    train_mode: str  # 'sequence': each training sequence once, loss at every position; 'prefix': RecBole's samples
    length_bucketing: bool  # training batches of samples of similar length (one process only)
    trims_batches: bool  # the model's scores ignore padding after a sequence's end: batches may be cut to it
    hides_history: bool  # eval_exclude_history: every earlier item of the user hidden at full-sort evaluation
    sorted_evaluation: bool  # sequential full-sort evaluation in batches of similar history length, each trimmed
    exact_evaluation: bool  # several processes: the collector computes the metrics once over every sample


def plan_run(config):
    """The :class:`RunPlan` of ``config`` (the plugin's Config, or RecBole's for a drop-in pipeline), or one
    :class:`~recbole_fame.errors.ConfigurationError` naming the setting the model cannot honour and the fix."""
    name = config["model"]
    model_class = getattr(config, "model_class", None) or get_model(name)
    mode = train_mode(config)
    refused = length_bucketing_refused(model_class)
    if config["length_bucketing"] and refused:
        raise ConfigurationError(f"length_bucketing: True cannot train {name}: {refused}. "
                                 "Set length_bucketing: False for it (RecBole's shuffled batches).")
    if config["length_bucketing"] and config["shuffle"] is False:
        raise ConfigurationError("length_bucketing: True draws its own order every epoch (samples shuffled, sorted "
                                 "by length within chunks, batches shuffled), so shuffle: False would be ignored. "
                                 "Set shuffle: True, or length_bucketing: False for RecBole's unshuffled order.")
    if config["train_exclude_history"] and not supports_train_exclude_history(model_class):
        raise ConfigurationError(
            f"train_exclude_history leaves a sequence's items out of the training softmax, which {name}'s "
            "loss does not do: use it with FAME or SASRecSeq, or set train_exclude_history: False.")
    if mode == "sequence" and not supports_sequence_training(model_class):
        raise ConfigurationError(f"train_mode 'sequence' trains a loss at every position, which {name} does not "
                                 "compute: use it with FAME, or set train_mode: prefix.")
    bucketing = config["length_bucketing"]
    if bucketing is None:  # unset (FAME's default): on in the sequence mode, off in the prefix mode
        bucketing = mode == "sequence" and not refused
    trims = supports_batch_trimming(model_class)
    return RunPlan(
        model_class=model_class,
        trainer_class=get_trainer(config["MODEL_TYPE"], name),
        train_mode=mode,
        length_bucketing=bool(bucketing) and bool(config["single_spec"]),
        trims_batches=trims,
        hides_history=excludes_history(config),
        sorted_evaluation=(config["sorted_evaluation"] is not False and trims
                           and config["MODEL_TYPE"] == ModelType.SEQUENTIAL),
        exact_evaluation=not config["single_spec"],
    )
