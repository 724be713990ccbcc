"""Every user's whole item history, for hiding already-seen items at evaluation (``eval_exclude_history``).

RecBole's full-sort evaluation of sequential models ranks every item, including the ones the user already
interacted with: its dataloader passes no ``history_index`` for them. The S3-Rec / ICLRec / BSARec code, whose
Amazon files and numbers the FAME paper's Table 2 sits beside, sets the scores of all of a user's earlier
items to 0 before ranking (so a hidden item still ranks above the visible items scored below 0); the plugin
sets them to -inf and never counts an item scored -inf a hit (:mod:`recbole_fame.trainer.collector`), so a repeated
target is always a miss. :class:`UserHistory` keeps, for every user, the items in time order
(the whole sequence, not only the last ``MAX_ITEM_LIST_LENGTH`` items a sample carries) and, for every
sample, how many of them come before its target, so the evaluation can hide exactly those.

The number is stored per sample in the interaction field :data:`HISTORY_LENGTH_FIELD`, added when the samples
are made, before RecBole splits them, so it travels with every validation and test sample (also through a
distributed sampler).
"""

import numpy as np
import torch
from recbole.data.dataset import GRU4RecKGDataset, KGSeqDataset, KSRDataset, SequentialDataset
from recbole.data.interaction import Interaction
from recbole.utils import ModelType

from recbole_fame.errors import ConfigurationError

# samples' count of the user's earlier interactions (its target's position in the user's whole sequence)
HISTORY_LENGTH_FIELD = "history_length"


def full_sort_only(config):
    """Whether validation and test both rank all items (``eval_args`` mode ``full``)."""
    mode = config["eval_args"]["mode"]
    return set(mode.values() if isinstance(mode, dict) else [mode]) == {"full"}


def excludes_history(config):
    """Whether this run hides every earlier item of the user in full-sort evaluation of a sequential model."""
    return bool(config["eval_exclude_history"]) and config["MODEL_TYPE"] == ModelType.SEQUENTIAL and full_sort_only(config)


class UserHistory:
    """All users' items in time order, as one array with a start offset per user (CSR layout).

    Args:
        items (np.ndarray): [I] item ids of all interactions, grouped by user, in time order within a user.
        user_offset (np.ndarray): [U + 1] ``items[user_offset[u]:user_offset[u + 1]]`` is user u's sequence.
    """

    def __init__(self, items, user_offset):
        self.items = np.asarray(items, dtype=np.int64)
        self.user_offset = np.asarray(user_offset, dtype=np.int64)

    @classmethod
    def from_sorted(cls, user_ids, item_ids, user_num):
        """From all interactions sorted by user, then time (``user_ids``, ``item_ids``: [I])."""
        counts = np.bincount(np.asarray(user_ids, dtype=np.int64), minlength=user_num)
        return cls(item_ids, np.r_[0, np.cumsum(counts)])

    def hidden(self, users, lengths):
        """The (row, item) pairs to hide for samples of ``users`` whose targets follow ``lengths`` earlier items.

        Args:
            users (torch.LongTensor): [B] user ids.
            lengths (torch.LongTensor): [B] how many of the user's interactions precede each sample's target.

        Returns:
            tuple(torch.LongTensor, torch.LongTensor): row indices [H] and item ids [H], H = lengths.sum().
        """
        users = users.cpu().numpy()
        lengths = lengths.cpu().numpy().astype(np.int64)
        rows = np.repeat(np.arange(len(users)), lengths)
        # the positions starts[b], ..., starts[b] + lengths[b] - 1 of every row b, in one array
        starts = self.user_offset[users]
        first = np.repeat(np.cumsum(lengths) - lengths, lengths)
        positions = np.repeat(starts, lengths) + np.arange(len(rows)) - first
        return torch.from_numpy(rows), torch.from_numpy(self.items[positions])

    def repeated_targets(self, users, lengths, targets):
        """[B] bool: whether each sample's target is among the items before it (it then counts as a miss)."""
        rows, items = self.hidden(users, lengths)
        repeated = np.zeros(len(users), dtype=bool)
        np.logical_or.at(repeated, rows.numpy(), items.numpy() == targets.cpu().numpy()[rows.numpy()])
        return repeated


class HistoryRecordingMixin:
    """Over a RecBole sequential dataset class: keep the :class:`UserHistory` of its samples.

    RecBole's augmentation (``SequentialDataset.data_augmentation``, also under its model-specific dataset
    classes) makes one sample per interaction but each user's first, in time order, so the k-th sample of a user
    (k = 0, 1, ...) follows k + 1 interactions and the user's sequence is the first sample's one history item
    followed by every sample's target. (The plugin's sequence-mode dataset records both while it builds.)
    """

    def data_augmentation(self):
        super().data_augmentation()
        self.user_history = _history_of_recbole_samples(self)


def _recording_class(recbole_class):
    name = f"{recbole_class.__name__}WithHistory"
    return type(name, (HistoryRecordingMixin, recbole_class), {"__module__": __name__, "__qualname__": name})


# RecBole's sequential dataset classes, as module-level classes so that their datasets can be pickled
_RECORDING_CLASSES = {
    recbole_class: _recording_class(recbole_class)
    for recbole_class in (SequentialDataset, KGSeqDataset, GRU4RecKGDataset, KSRDataset)
}
globals().update({cls.__name__: cls for cls in _RECORDING_CLASSES.values()})


def dataset_class_recording_history(recbole_class):
    """``recbole_class`` (a RecBole sequential dataset class) with :class:`HistoryRecordingMixin`."""
    if recbole_class not in _RECORDING_CLASSES:
        raise ConfigurationError(f"eval_exclude_history: True is not available for {recbole_class.__name__}; "
                                 "set eval_exclude_history: False for this model.")
    return _RECORDING_CLASSES[recbole_class]


def user_history_of(dataset):
    """The :class:`UserHistory` a built sequential dataset recorded, or one clear error."""
    if dataset.config["benchmark_filename"] is not None:
        raise ConfigurationError(
            "eval_exclude_history: True needs each user's whole history, and with benchmark_filename the samples "
            "come ready-made from the files, so it is not known. Convert the files with python -m "
            "recbole_fame.prepare seqfile (one sequence per user), or set eval_exclude_history: False."
        )
    history = getattr(dataset, "user_history", None)
    if history is None:
        raise ConfigurationError(
            f"eval_exclude_history: True needs each user's whole history, which {type(dataset).__name__} does not "
            "record: build the dataset with recbole_fame.create_dataset (not RecBole's, nor a saved dataset file), "
            "or set eval_exclude_history: False."
        )
    return history


def _history_of_recbole_samples(dataset):
    feat = dataset.inter_feat
    users = feat[dataset.uid_field].numpy()
    n = len(users)
    if n and np.any(users[1:] < users[:-1]):
        raise ConfigurationError("eval_exclude_history: the samples are not grouped by user, as RecBole's "
                                 "augmentation leaves them, so each user's history cannot be read off them.")
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]]) if n else np.zeros(0, dtype=np.int64)
    counts = np.diff(np.r_[starts, n])
    rank = np.arange(n) - np.repeat(starts, counts)  # the sample's index among its user's samples
    lengths = feat[dataset.item_list_length_field].numpy()
    if np.any(lengths != np.minimum(rank + 1, dataset.max_item_list_len)):
        raise ConfigurationError(
            "eval_exclude_history: the samples are not RecBole's augmentation (one per interaction but each user's "
            "first, the k-th following k + 1 items), so each user's whole history cannot be read off them. "
            "Set eval_exclude_history: False for this dataset class."
        )
    item_lists = feat[dataset.item_id_list_field]
    first_items = item_lists[torch.from_numpy(starts), 0].numpy()
    targets = feat[dataset.iid_field].numpy()
    # per user: the first sample's history item, then every sample's target
    sequence_index = np.arange(n) + np.repeat(np.arange(1, len(starts) + 1), counts)  # shift by users so far
    items = np.empty(n + len(starts), dtype=np.int64)
    items[sequence_index] = targets
    items[starts + np.arange(len(starts))] = first_items
    user_of = np.empty(n + len(starts), dtype=np.int64)
    user_of[sequence_index] = users
    user_of[starts + np.arange(len(starts))] = users[starts]
    feat.update(Interaction({HISTORY_LENGTH_FIELD: torch.from_numpy(rank + 1)}))
    return UserHistory.from_sorted(user_of, items, dataset.user_num)
