"""The efficient training mode: each training sequence once, with a loss at every position.

RecBole's :class:`~recbole.data.dataset.SequentialDataset` turns every prefix of every user's sequence into
its own training sample (item list -> next item), so an epoch runs one forward pass per training target.
With ``train_mode: sequence``, :class:`SequenceTrainingDataset` trains, per user, only on the samples whose
item list ends a window of ``MAX_ITEM_LIST_LENGTH`` targets: the last training sample, the one
``MAX_ITEM_LIST_LENGTH`` earlier, and so on. A model that predicts at every position of such a sample (item
t+1 from the items up to t, the last position predicting the sample's target) then sees every training
(prefix, next item) pair exactly once, as the original SASRec code trains. Validation and test samples are
RecBole's own, so the evaluation is unchanged.

Windows start where the previous one ended, so a target early in a window of a user with more than
``MAX_ITEM_LIST_LENGTH`` training items sees a shorter history than the prefix sample for it would (the
prefix sample's sliding window); for users with no more than ``MAX_ITEM_LIST_LENGTH`` items, nothing differs.
"""

import os
import tempfile
from collections import Counter

import numpy as np
import pandas as pd
import torch
from recbole.data.dataset import SequentialDataset
from recbole.data.interaction import Interaction
from recbole.utils import FeatureType, ModelType

from recbole_fame.data.history import (
    HISTORY_LENGTH_FIELD,
    HistoryRecordingMixin,
    UserHistory,
    dataset_class_recording_history,
)
from recbole_fame.errors import require
from recbole_fame.memory import check_sequence_rows_fit


class SeqFieldLoading:
    """RecBole 1.2.1's loading of ``token_seq`` / ``float_seq`` fields, made to work on pandas 3 as on pandas 2.

    pandas 3 copies on write, and three steps of RecBole's :class:`~recbole.data.dataset.Dataset` relied on the
    old behaviour (a mixin for RecBole's dataset classes; RecBole itself is left as it is):

    * ``_load_feat`` fills empty sequence cells with ``df[field].fillna("", inplace=True)``, which no longer
      reaches the frame: a missing genre or category then stops loading with ``'float' object has no attribute
      'split'``. Here RecBole reads a copy of such a file whose empty sequence cells hold the separator alone,
      which RecBole's own parsing turns into the same empty sequence.
    * ``_remap`` took the per-row lengths with ``Series.agg(len)``, which pandas 3 applies to the whole column
      (``Length of values (1) does not match length of index``, on any dataset with an item ``token_seq``).
    * ``_fill_nan`` filled missing token and float values with inplace calls on a column, which are no-ops now.

    The methods below compute what RecBole's compute on pandas 2, on either pandas.
    """

    def _load_feat(self, filepath, source):
        sanitized = _without_empty_seq_cells(filepath, self.config["field_separator"], self.config["seq_separator"],
                                             self.config["encoding"])
        if sanitized is None:
            return super()._load_feat(filepath, source)
        try:
            return super()._load_feat(sanitized, source)
        finally:
            os.remove(sanitized)

    def _remap(self, remap_list):
        if len(remap_list) == 0:
            return
        columns = []
        for feat, field, ftype in remap_list:
            if ftype == FeatureType.TOKEN:
                columns.append(np.asarray(feat[field].to_numpy(), dtype=object))
            elif ftype == FeatureType.TOKEN_SEQ:
                rows = [np.asarray(row, dtype=object) for row in feat[field].to_numpy()]
                columns.append(np.concatenate(rows) if rows else np.array([], dtype=object))
        new_ids, tokens = pd.factorize(np.concatenate(columns))
        new_ids = new_ids + 1  # 0 is [PAD], and pd.factorize gives missing values -1
        id2token = np.array(["[PAD]"] + list(tokens))
        token2id = {token: i for i, token in enumerate(id2token)}
        start = 0
        for (feat, field, ftype), column in zip(remap_list, columns):
            ids = new_ids[start:start + len(column)]
            start += len(column)
            if field not in self.field2id_token:
                self.field2id_token[field] = id2token
                self.field2token_id[field] = token2id
            if ftype == FeatureType.TOKEN:
                feat[field] = ids
            elif ftype == FeatureType.TOKEN_SEQ:
                ends = np.cumsum([len(row) for row in feat[field].to_numpy()])
                feat[field] = _object_column([ids[end - len(row):end] for end, row in
                                              zip(ends, feat[field].to_numpy())], feat.index)

    def _fill_nan(self):
        for feat_name in self.feat_name_list:
            feat = getattr(self, feat_name)
            for field in feat:
                ftype = self.field2type[field]
                if ftype == FeatureType.TOKEN:
                    feat[field] = feat[field].fillna(0)
                elif ftype == FeatureType.FLOAT:
                    feat[field] = feat[field].fillna(feat[field].mean())
                else:
                    dtype = np.int64 if ftype == FeatureType.TOKEN_SEQ else np.float64
                    feat[field] = _object_column([np.array([], dtype=dtype) if isinstance(value, float) else value
                                                  for value in feat[field].to_numpy()], feat.index)


def _object_column(values, index):
    """A column of one array per row (a plain list of equal-length arrays would become a 2-d array)."""
    column = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        column[i] = value
    return pd.Series(column, index=index)


def _without_empty_seq_cells(filepath, field_separator, seq_separator, encoding):
    """A temporary copy of the atomic file ``filepath`` whose empty ``token_seq`` / ``float_seq`` cells hold
    ``seq_separator`` (an empty sequence to RecBole's parser), or None when it has no such cell."""
    with open(filepath, "r", encoding=encoding) as f:
        header = f.readline()[:-1].split(field_separator)
        seq_columns = [i for i, field in enumerate(header) if field.endswith("_seq")]
        if not seq_columns:
            return None
        lines = f.read().split("\n")
    changed = False
    for n, line in enumerate(lines):
        if not line:
            continue
        cells = line.split(field_separator)
        for i in seq_columns:
            if i < len(cells) and cells[i] == "":
                cells[i] = seq_separator
                changed = True
        lines[n] = field_separator.join(cells)
    if not changed:
        return None
    handle, path = tempfile.mkstemp(prefix="recbole_fame-", suffix=os.path.splitext(filepath)[1])
    with os.fdopen(handle, "w", encoding=encoding) as f:
        f.write(field_separator.join(header) + "\n" + "\n".join(lines))
    return path


class PrefixDataset(SeqFieldLoading, SequentialDataset):
    """RecBole's :class:`~recbole.data.dataset.SequentialDataset` (its prefix samples), loading sequence fields on
    pandas 3 too (:class:`SeqFieldLoading`)."""


class PrefixDatasetWithHistory(HistoryRecordingMixin, PrefixDataset):
    """:class:`PrefixDataset` recording every user's history for ``eval_exclude_history``."""


def recbole_dataset_class(config):
    """The dataset class RecBole's ``create_dataset`` builds for this model: its own (``KSRDataset``, ...) or its
    type's."""
    import recbole.data.dataset as recbole_datasets

    own = getattr(recbole_datasets, f"{config['model']}Dataset", None)
    if own is not None:
        return own
    return {ModelType.SEQUENTIAL: recbole_datasets.SequentialDataset,
            ModelType.KNOWLEDGE: recbole_datasets.KnowledgeBasedDataset}.get(config["MODEL_TYPE"], recbole_datasets.Dataset)


def _seq_field_loading_classes():
    """RecBole's non-sequential dataset classes with :class:`SeqFieldLoading`, as module-level classes (their
    datasets can be pickled)."""
    import recbole.data.dataset as recbole_datasets

    classes = {}
    for name in ("Dataset", "KnowledgeBasedDataset", "DIENDataset", "KGSeqDataset", "GRU4RecKGDataset", "KSRDataset"):
        recbole_class = getattr(recbole_datasets, name)
        plugin_name = f"SeqFieldLoading{name}"
        classes[recbole_class] = type(plugin_name, (SeqFieldLoading, recbole_class),
                                      {"__module__": __name__, "__qualname__": plugin_name})
    globals().update({cls.__name__: cls for cls in classes.values()})
    return classes


SEQ_FIELD_LOADING_CLASSES = _seq_field_loading_classes()


def prefix_dataset_class(config, records_history):
    """The dataset class of the prefix mode (and of every model type but the sequence mode's). On pandas 2, where
    RecBole's loading works: RecBole's choice (None), or the one recording the users' histories for
    ``eval_exclude_history``. On pandas 3: for RecBole's ``SequentialDataset`` :class:`PrefixDataset`
    (:class:`PrefixDatasetWithHistory`); for RecBole's other classes (general, context-aware and knowledge-aware
    models, DIEN, KSR, ...) the same class with :class:`SeqFieldLoading`."""
    recbole_class = recbole_dataset_class(config)
    if int(pd.__version__.split(".")[0]) < 3:
        return recbole_class_recording_history(config) if records_history else None
    if recbole_class is SequentialDataset:
        return PrefixDatasetWithHistory if records_history else PrefixDataset
    if records_history:
        return recbole_class_recording_history(config)  # with RecBole's loading: token_seq fields fail on pandas 3
    return SEQ_FIELD_LOADING_CLASSES.get(recbole_class)


class SequenceTrainingDataset(SeqFieldLoading, SequentialDataset):
    records_history = False  # SequenceTrainingDatasetWithHistory: the users' whole histories for eval_exclude_history

    """RecBole's sequential dataset that builds only the samples the sequence mode trains and evaluates on.

    RecBole's ``data_augmentation`` materialises every prefix of every user as a dense row of
    ``MAX_ITEM_LIST_LENGTH`` ids per interaction field (ml-20m at length 50: ~12 GB) and the split keeps
    them all. Here the same samples are computed with array operations, and only these are materialised:
    per user, the validation and test samples RecBole's leave-one-out split takes (``valid_and_test``: the
    user's last two samples, the last one if the user has only two; ``valid_only`` / ``test_only``: the last
    one), and the training samples that end a window (the last
    training sample, the one ``MAX_ITEM_LIST_LENGTH`` before it, ...). RecBole's split of these rows gives
    exactly RecBole's validation and test samples and one training sample per window.
    """

    def data_augmentation(self):
        self._aug_presets()
        self._check_field("uid_field", "time_field")
        window = self.config["MAX_ITEM_LIST_LENGTH"]
        self.sort(by=[self.uid_field, self.time_field], ascending=True)
        user_ids = self.inter_feat[self.uid_field].numpy()
        rows = len(user_ids)
        starts = np.flatnonzero(np.r_[True, user_ids[1:] != user_ids[:-1]])
        counts = np.diff(np.r_[starts, rows])
        user_start = np.repeat(starts, counts)
        position = np.arange(rows) - user_start  # the row's index in its user's sequence
        samples = np.repeat(counts - 1, counts)  # a sample per interaction but the user's first
        sample = position - 1  # the row's index among its user's samples
        records_history = self.records_history  # the whole sequences (recbole_fame.data.history)
        if records_history:
            self.user_history = UserHistory.from_sorted(user_ids, self.inter_feat[self.iid_field].numpy(),
                                                        self.user_num)
        held_out = LEAVE_ONE_OUT[self.config["eval_args"]["split"]["LS"]]  # per user, when it has that many
        train_samples = samples - np.minimum(held_out, samples - 1)  # what RecBole's leave-one-out leaves to training
        keep = (position >= 1) & ((sample >= train_samples) | ((train_samples - 1 - sample) % window == 0))

        target = np.flatnonzero(keep)
        check_sequence_rows_fit(self.config, len(target), len([f for f in self.inter_feat if f != self.uid_field]))
        seq_start = np.maximum(user_start[target], target - window)
        length = target - seq_start
        offsets = np.arange(window)
        present = offsets[None, :] < length[:, None]  # [R, L]
        index = torch.from_numpy(np.where(present, seq_start[:, None] + offsets[None, :], 0))
        present = torch.from_numpy(present)

        new_data = self.inter_feat[target]
        new_dict = {self.item_list_length_field: torch.from_numpy(length.astype(np.int64))}
        if records_history:
            new_dict[HISTORY_LENGTH_FIELD] = torch.from_numpy(position[target].astype(np.int64))
        for field in self.inter_feat:
            if field == self.uid_field:
                continue
            values = self.inter_feat[field][index]  # [R, L, ...]
            mask = present.view(present.shape + (1,) * (values.dim() - 2))
            new_dict[getattr(self, f"{field}_list_field")] = torch.where(mask, values, torch.zeros_like(values))
        new_data.update(Interaction(new_dict))
        self.inter_feat = new_data

    def counter(self, field):
        """RecBole's counter of a field's values over the training targets, as in the prefix mode: each kept
        sample of the training split stands for every target of its window (the items of its list after the
        first, and its own target), not for its own target only."""
        if not getattr(self, "trains_whole_sequences", False) or self.field2type.get(field) != FeatureType.TOKEN:
            return super().counter(field)
        lengths = self.inter_feat[self.item_list_length_field]
        if field == self.uid_field:  # one target per position
            values = torch.repeat_interleave(self.inter_feat[field], lengths)
        elif field in self.inter_feat and hasattr(self, f"{field}_list_field"):
            lists = self.inter_feat[getattr(self, f"{field}_list_field")]
            positions = torch.arange(lists.size(1)).unsqueeze(0)
            inside = (positions >= 1) & (positions < lengths.unsqueeze(1))
            values = torch.cat([lists[inside], self.inter_feat[field]])
        else:
            return super().counter(field)
        return Counter(values.numpy())

    def build(self):
        datasets = super().build()
        train = datasets[0]
        train.trains_whole_sequences = True
        # every position of a training sample is a target (see recbole_fame.model.sequence_loss)
        lengths = train.inter_feat[train.item_list_length_field]
        train.targets_per_sequence = float(lengths.double().mean()) if len(lengths) else 1.0
        return datasets


class SequenceTrainingDatasetWithHistory(SequenceTrainingDataset):
    """:class:`SequenceTrainingDataset` recording every user's whole history, for ``eval_exclude_history``."""

    records_history = True


# RecBole's leave-one-out modes -> the samples per user it holds out of training (if the user has more)
LEAVE_ONE_OUT = {"valid_and_test": 2, "valid_only": 1, "test_only": 1}


def check_split(config):
    """The sequence mode rebuilds RecBole's leave-one-out split from the data (see data_augmentation); any
    other split is refused with the reason."""
    split = (config["eval_args"] or {}).get("split") or {}
    require(
        config["benchmark_filename"] is None,
        f"train_mode 'sequence' cannot use benchmark_filename ({config['benchmark_filename']}): RecBole reads those "
        "files' samples as they are, without the per-user sequences the sequence mode trains on. Use "
        "train_mode: prefix with benchmark files, or the atomic .inter file with eval_args.split LS.",
    )
    require(
        list(split) == ["LS"] and split["LS"] in LEAVE_ONE_OUT,
        f"train_mode 'sequence' supports RecBole's leave-one-out splits (eval_args.split: {{'LS': "
        f"{' | '.join(LEAVE_ONE_OUT)}}}), got {split!r}: use train_mode: prefix for ratio (RS) or time (TS) splits.",
    )


def dataset_class_for(config, plan):
    """The plugin dataset class for the run's ``plan`` (:class:`recbole_fame.runner.plan.RunPlan`, which has refused
    a training mode the model cannot train in, and says whether the users' histories are hidden), or None for
    RecBole's default."""
    if plan.train_mode == "prefix":
        return prefix_dataset_class(config, plan.hides_history)
    check_split(config)
    return SequenceTrainingDatasetWithHistory if plan.hides_history else SequenceTrainingDataset


def recbole_class_recording_history(config):
    """RecBole's dataset class for this model (as RecBole's ``create_dataset`` picks it), recording every user's
    whole history for ``eval_exclude_history``."""
    import recbole.data.dataset as recbole_datasets

    recbole_class = getattr(recbole_datasets, f"{config['model']}Dataset", recbole_datasets.SequentialDataset)
    return dataset_class_recording_history(recbole_class)
