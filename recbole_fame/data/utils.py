"""RecBole's ``create_dataset`` and ``data_preparation`` with the plugin's dataset classes (the efficient
training mode), the dataset checks, the optional length-bucketed training loader and the optional hiding of
already-seen items at full-sort evaluation (``eval_exclude_history``)."""

from contextlib import contextmanager
from logging import getLogger

import pandas as pd
from recbole.data import data_preparation as recbole_data_preparation
from recbole.utils import ModelType

from recbole_fame.capabilities import length_bucketing_refused
from recbole_fame.data.checks import check_dataset_files, find_atomic_file_problem
from recbole_fame.data.dataloader import LengthBucketedTrainDataLoader
from recbole_fame.data.dataset import dataset_class_for
from recbole_fame.data.eval_dataloader import evaluate_exactly, hide_history
from recbole_fame.data.history import excludes_history, full_sort_only, user_history_of
from recbole_fame.data.sorted_eval import sort_evaluation, sorts_evaluation
from recbole_fame.errors import ConfigurationError, DatasetFormatError
from recbole_fame.memory import check_prefix_samples_fit
from recbole_fame.defaults import train_mode
from recbole_fame.registry import get_model

BATCH_UNITS = ("targets", "sequences")


def uses_length_bucketing(config):
    """``length_bucketing``; unset (``~``, FAME's default) it follows the training mode: on in the sequence mode,
    off (RecBole's shuffled batches) in the prefix mode."""
    value = config["length_bucketing"]
    if value is None:
        return train_mode(config) == "sequence" and not length_bucketing_refused(get_model(config["model"]))
    return bool(value)


def sequences_per_batch(config, train_dataset):
    """The training batch of the sequence mode, in whole sequences (None in the prefix mode).

    With ``train_batch_unit: targets`` (the default) ``train_batch_size`` counts training targets, as in RecBole's
    prefix mode: a batch takes ``round(train_batch_size / mean training sequence length)`` sequences (at least one),
    so an epoch makes about as many updates as the prefix mode at the same ``train_batch_size``. With
    ``sequences`` it is the number of sequences itself. In multi-process runs both are global batches.
    """
    if not getattr(train_dataset, "trains_whole_sequences", False):
        return None
    unit = config["train_batch_unit"] or "targets"
    if unit not in BATCH_UNITS:
        raise ConfigurationError(f"train_batch_unit must be one of {BATCH_UNITS}, got {unit!r}")
    batch_size = config["train_batch_size"]
    if unit == "sequences":
        return batch_size
    return max(1, round(batch_size / max(train_dataset.targets_per_sequence, 1.0)))


@contextmanager
def _train_batch_size(config, value):
    saved = config["train_batch_size"]
    config["train_batch_size"] = value
    try:
        yield
    finally:
        config["train_batch_size"] = saved


def data_preparation(config, dataset):
    """Split ``dataset`` and build the train/valid/test dataloaders exactly as RecBole does; with
    ``length_bucketing`` (single process) the training loader batches samples of similar length, in the
    sequence mode its batch is :func:`sequences_per_batch` sequences, with ``eval_exclude_history: True``
    full-sort validation and test hide every item of the user's earlier history, with ``sorted_evaluation``
    (default True) the full-sort evaluation of a model that supports batch trimming runs in batches of similar
    history length (same metrics, :mod:`recbole_fame.data.sorted_eval`), and with several processes full-sort
    evaluation gives exactly one process's metrics (:mod:`recbole_fame.data.eval_dataloader`)."""
    model = config["model"]
    refused = length_bucketing_refused(get_model(model)) if config["length_bucketing"] else None
    if refused:
        raise ConfigurationError(f"length_bucketing: True cannot train {model}: {refused}. "
                                 "Set length_bucketing: False for it (RecBole's shuffled batches).")
    from recbole_fame.settings import check_pickled_files

    check_pickled_files(config)  # dataloaders_save_path: RecBole unpickles it
    check_topk_fits(config, dataset)
    if (config["MODEL_TYPE"] == ModelType.SEQUENTIAL and train_mode(config) == "prefix"
            and isinstance(dataset.inter_feat, pd.DataFrame)):  # RecBole's build makes the samples from it
        check_prefix_samples_fit(config, dataset)
    if config["length_bucketing"] and config["shuffle"] is False:
        raise ConfigurationError("length_bucketing: True draws its own order every epoch (samples shuffled, sorted "
                                 "by length within chunks, batches shuffled), so shuffle: False would be ignored. "
                                 "Set shuffle: True, or length_bucketing: False for RecBole's unshuffled order.")
    train_data, valid_data, test_data = recbole_data_preparation(config, dataset)  # builds the samples
    train_dataset, sampler = train_data._dataset, getattr(train_data, "_sampler", None)
    # RecBole's knowledge-aware loader wraps two loaders and has no sampler attribute: it is never rebuilt
    rebuildable = hasattr(train_data, "_sampler")
    sequences = sequences_per_batch(config, train_dataset)
    bucketing = uses_length_bucketing(config) and config["single_spec"]
    if sequences is not None:
        train_dataset.sequences_per_batch = sequences  # read by the models' SequenceLoss
        if (config["train_batch_unit"] or "targets") == "targets":
            getLogger().info(
                f"train_mode sequence: train_batch_size {config['train_batch_size']} counts training targets, so a "
                f"batch takes {sequences} sequences (mean training sequence length "
                f"{train_dataset.targets_per_sequence:.1f}); train_batch_unit: sequences counts sequences instead")
    if rebuildable and (bucketing or (sequences is not None and sequences != config["train_batch_size"])):
        loader_class = LengthBucketedTrainDataLoader if bucketing else type(train_data)
        with _train_batch_size(config, sequences or config["train_batch_size"]):
            train_data = loader_class(config, train_dataset, sampler, shuffle=train_data.shuffle)
    if config["eval_exclude_history"] and not full_sort_only(config):
        getLogger().warning("eval_exclude_history applies to full-sort evaluation only (eval_args mode: full); "
                            f"this run evaluates with mode {config['eval_args']['mode']}, so nothing is hidden.")
    if excludes_history(config):
        valid_data, test_data = hide_history(config, valid_data, test_data, user_history_of(dataset))
    if sorts_evaluation(config):
        valid_data, test_data = sort_evaluation(config, valid_data), sort_evaluation(config, test_data)
    valid_data, test_data = evaluate_exactly(config, valid_data), evaluate_exactly(config, test_data)
    return train_data, valid_data, test_data


def create_dataset(config):
    """RecBole's ``create_dataset``, with the plugin's dataset classes and the missing-files check first.

    A value RecBole cannot read (non-UTF-8 bytes, a non-number in a float column) is one
    :class:`DatasetFormatError` naming the file, line and column; nothing RecBole pickled is read from outside
    ``checkpoint_dir`` (:func:`recbole_fame.settings.check_pickled_files`)."""
    from recbole_fame.settings import check_pickled_files

    check_pickled_files(config)
    check_dataset_files(config)
    dataset_class = dataset_class_for(config)
    try:
        if dataset_class is None:
            from recbole.data import create_dataset as recbole_create_dataset

            return recbole_create_dataset(config)
        return dataset_class(config)
    except ValueError as error:  # pandas' parse errors and UnicodeDecodeError are ValueErrors
        problem = find_atomic_file_problem(config)
        if problem is None and "Some feat is empty" in str(error):
            problem = (f"no interaction of dataset {config['dataset']} ({config['data_path']}) is left after RecBole's "
                       "filtering (user_inter_num_interval, item_inter_num_interval, val_interval, ...): loosen them")
        if problem is None:
            raise
        raise DatasetFormatError(f"Cannot read dataset {config['dataset']}: {problem}") from error


def check_topk_fits(config, dataset):
    """Full-sort metrics at k need at least k items to rank (RecBole fails in torch.topk otherwise). Fewer than
    k items may be left visible to a user whose history is hidden (``eval_exclude_history``): the top k then
    reaches hidden items, and a hidden target there is still a miss (:mod:`recbole_fame.collector`)."""
    topk = config["topk"] or []
    largest = max(topk if isinstance(topk, (list, tuple)) else [topk])
    items = dataset.item_num - 1  # without the padding item
    if isinstance(largest, int) and largest > items:
        raise ConfigurationError(
            f"topk {list(topk)} asks for the top {largest} items, and dataset {config['dataset']} has {items} items: "
            f"set topk to values <= {items} (e.g. --topk=[{min(5, items)}]) and valid_metric to one of them."
        )
