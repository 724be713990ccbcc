"""The plugin's ``create_dataset`` and ``data_preparation``: RecBole's, given the run's plan
(:class:`recbole_fame.runner.plan.RunPlan`), with the plugin's dataset classes (the efficient training mode), the
dataset checks, and each dataloader built once with all its options: the length-bucketed training loader, the
hiding of already-seen items at full-sort evaluation (``eval_exclude_history``), evaluation sorted by history
length and exact multi-process evaluation."""

from contextlib import contextmanager
from logging import getLogger

import pandas as pd
from recbole.data.dataloader import FullSortEvalDataLoader as RecBoleFullSortEvalDataLoader
from recbole.data.utils import create_samplers, get_dataloader, load_split_dataloaders, save_split_dataloaders
from recbole.sampler import KGSampler
from recbole.utils import ModelType, set_color

from recbole_fame.data.checks import check_dataset_files, find_atomic_file_problem
from recbole_fame.data.dataloader import LengthBucketedTrainDataLoader
from recbole_fame.data.dataset import dataset_class_for
from recbole_fame.data.eval_dataloader import FullSortEvalDataLoader
from recbole_fame.data.history import full_sort_only, user_history_of
from recbole_fame.data.sorted_eval import LengthSortedFullSortEvalDataLoader
from recbole_fame.errors import ConfigurationError, DatasetFormatError
from recbole_fame.memory import check_prefix_samples_fit
from recbole_fame.storage.checkpoint import check_pickled_files

BATCH_UNITS = ("targets", "sequences")


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


def data_preparation(config, dataset, plan):
    """Split ``dataset`` and build the train/valid/test dataloaders as RecBole does, each once, with the options
    of ``plan``: with ``length_bucketing`` (single process) the training loader batches samples of similar
    length, in the sequence mode its batch is :func:`sequences_per_batch` sequences, with hidden history
    (``eval_exclude_history: True``) full-sort validation and test hide every item of the user's earlier history,
    with sorted evaluation the full-sort evaluation of a model that supports batch trimming runs in batches of
    similar history length (same metrics, :mod:`recbole_fame.data.sorted_eval`), and with several processes
    full-sort evaluation gives exactly one process's metrics (:mod:`recbole_fame.data.eval_dataloader`).
    Dataloaders RecBole saved (``save_dataloaders``) give back their splits and samplers."""
    check_pickled_files(config)  # dataloaders_save_path: RecBole unpickles it
    check_topk_fits(config, dataset)
    if (config["MODEL_TYPE"] == ModelType.SEQUENTIAL and plan.train_mode == "prefix"
            and isinstance(dataset.inter_feat, pd.DataFrame)):  # dataset.build() makes the samples from it
        check_prefix_samples_fit(config, dataset)
    if config["eval_exclude_history"] and not full_sort_only(config):
        getLogger().warning("eval_exclude_history applies to full-sort evaluation only (eval_args mode: full); "
                            f"this run evaluates with mode {config['eval_args']['mode']}, so nothing is hidden.")
    loaded = load_split_dataloaders(config)
    if loaded is not None:
        dataset._change_feat_format()
        splits, samplers = [loader._dataset for loader in loaded], [loader._sampler for loader in loaded]
    else:
        splits = dataset.build()
        samplers = create_samplers(config, dataset, splits)
    history = user_history_of(dataset) if plan.hides_history else None
    train_data = _train_loader(config, plan, dataset, splits[0], samplers[0])
    valid_data, test_data = (_eval_loader(config, plan, phase, split, sampler, history)
                             for phase, split, sampler in zip(("valid", "test"), splits[1:], samplers[1:]))
    if config["save_dataloaders"] and loaded is None:
        _save_dataloaders(config, (train_data, valid_data, test_data))
    training = f"[{config['train_batch_size']}]", f"[{config['train_neg_sample_args']}]"
    getLogger().info(set_color("[Training]: ", "pink") + set_color("train_batch_size", "cyan") + " = "
                     + set_color(training[0], "yellow") + set_color(" train_neg_sample_args", "cyan") + ": "
                     + set_color(training[1], "yellow"))
    getLogger().info(set_color("[Evaluation]: ", "pink") + set_color("eval_batch_size", "cyan") + " = "
                     + set_color(f"[{config['eval_batch_size']}]", "yellow") + set_color(" eval_args", "cyan") + ": "
                     + set_color(f"[{config['eval_args']}]", "yellow"))
    return train_data, valid_data, test_data


def _save_dataloaders(config, loaders):
    """RecBole's ``save_split_dataloaders``, which drops each loader's generator to pickle it: the loaders of
    this run get theirs back, so that saving them does not change how they draw."""
    generators = [(loader.generator, getattr(loader.sampler, "generator", None)) for loader in loaders]
    save_split_dataloaders(config, dataloaders=loaders)
    for loader, (generator, sampler_generator) in zip(loaders, generators):
        loader.generator = generator
        loader.sampler.generator = sampler_generator  # a shuffling sampler draws from it


def _train_loader(config, plan, dataset, train_dataset, sampler):
    """The training loader: RecBole's (its knowledge-aware one with a KG sampler), or the length-bucketed one; in
    the sequence mode with :func:`sequences_per_batch` sequences per batch."""
    if config["MODEL_TYPE"] == ModelType.KNOWLEDGE:
        kg_sampler = KGSampler(dataset, config["train_neg_sample_args"]["distribution"],
                               config["train_neg_sample_args"]["alpha"])
        return get_dataloader(config, "train")(config, train_dataset, sampler, kg_sampler, shuffle=True)
    sequences = sequences_per_batch(config, train_dataset)
    if sequences is not None:
        train_dataset.sequences_per_batch = sequences  # read by the models' SequenceLoss
        if (config["train_batch_unit"] or "targets") == "targets":
            getLogger().info(
                f"train_mode sequence: train_batch_size {config['train_batch_size']} counts training targets, so a "
                f"batch takes {sequences} sequences (mean training sequence length "
                f"{train_dataset.targets_per_sequence:.1f}); train_batch_unit: sequences counts sequences instead")
    with _train_batch_size(config, sequences or config["train_batch_size"]):
        if plan.length_bucketing:
            return LengthBucketedTrainDataLoader(config, train_dataset, sampler, trims_batches=plan.trims_batches)
        return get_dataloader(config, "train")(config, train_dataset, sampler, shuffle=config["shuffle"])


def _eval_loader(config, plan, phase, split, sampler, history):
    """RecBole's loader for ``phase``; a full-sort one is the plugin's when the plan hides history, sorts
    evaluation or evaluates in several processes."""
    loader_class = get_dataloader(config, phase)
    if loader_class is not RecBoleFullSortEvalDataLoader:
        return loader_class(config, split, sampler, shuffle=False)
    if plan.sorted_evaluation:
        loader_class = LengthSortedFullSortEvalDataLoader
    elif history is not None or plan.exact_evaluation:
        loader_class = FullSortEvalDataLoader
    else:
        return loader_class(config, split, sampler, shuffle=False)
    loader = loader_class(config, split, sampler, shuffle=False, history=history)
    if history is not None:  # the plan hides history of sequential models only
        getLogger().info(
            f"eval_exclude_history: every earlier item of a user is hidden at {phase}; "
            f"{loader.repeated_target_count()} of {len(split)} {phase} targets were already in their user's "
            "history and count as misses.")
    return loader


def create_dataset(config, plan):
    """RecBole's ``create_dataset``, with the plugin's dataset class for ``plan`` and the missing-files check first.

    A value RecBole cannot read (non-UTF-8 bytes, a non-number in a float column) is one
    :class:`DatasetFormatError` naming the file, line and column; nothing RecBole pickled is read from outside
    ``checkpoint_dir`` (:func:`recbole_fame.storage.checkpoint.check_pickled_files`)."""
    check_pickled_files(config)
    check_dataset_files(config)
    dataset_class = dataset_class_for(config, plan)
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
    reaches hidden items, and a hidden target there is still a miss (:mod:`recbole_fame.trainer.collector`)."""
    topk = config["topk"] or []
    largest = max(topk if isinstance(topk, (list, tuple)) else [topk])
    items = dataset.item_num - 1  # without the padding item
    if isinstance(largest, int) and largest > items:
        raise ConfigurationError(
            f"topk {list(topk)} asks for the top {largest} items, and dataset {config['dataset']} has {items} items: "
            f"set topk to values <= {items} (e.g. --topk=[{min(5, items)}]) and valid_metric to one of them."
        )
