"""The efficient training mode: each training sequence once, with a loss at every position.

RecBole's :class:`~recbole.data.dataset.SequentialDataset` turns every prefix of every user's sequence into
its own training sample (item list -> next item), so an epoch runs one forward pass per training target.
With ``train_mode: sequence``, :class:`SequenceTrainingDataset` keeps, per user, only the samples whose item
list ends a window of ``MAX_ITEM_LIST_LENGTH`` targets: the last training sample, the one
``MAX_ITEM_LIST_LENGTH`` earlier, and so on. A model that predicts at every position of such a sample (item
t+1 from the items up to t, the last position predicting the sample's target) then sees every training
(prefix, next item) pair exactly once, as the original SASRec code trains. Validation and test samples are
RecBole's own, so the evaluation is unchanged.

Windows start where the previous one ended, so a target early in a window of a user with more than
``MAX_ITEM_LIST_LENGTH`` training items sees a shorter history than the prefix sample for it would (the
prefix sample's sliding window); for users with no more than ``MAX_ITEM_LIST_LENGTH`` items, nothing differs.
"""

import numpy as np
from recbole.data.dataset import SequentialDataset

from recbole_fame.utils import get_model, require


def window_ends(user_ids, window):
    """Indices of the rows that end a window of ``window`` targets, per user.

    ``user_ids`` must list each user's rows in time order (RecBole's splits do). Counting from each user's
    last row, every ``window``-th row is kept.
    """
    order = np.argsort(user_ids, kind="stable")
    sorted_ids = user_ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    counts = np.diff(np.r_[starts, len(user_ids)])
    position = np.arange(len(user_ids)) - np.repeat(starts, counts)
    from_end = np.repeat(counts, counts) - 1 - position
    return np.sort(order[from_end % window == 0])


class SequenceTrainingDataset(SequentialDataset):
    """RecBole's sequential dataset whose training split holds one sample per window (see module doc)."""

    def build(self):
        datasets = super().build()
        train = datasets[0]
        keep = window_ends(train.inter_feat[self.uid_field].numpy(), self.config["MAX_ITEM_LIST_LENGTH"])
        train.inter_feat = train.inter_feat[keep]
        train.trains_whole_sequences = True
        return datasets


def dataset_class_for(config):
    """The plugin dataset class for this configuration, or None for RecBole's default."""
    train_mode = config["train_mode"] or "prefix"
    if train_mode == "prefix":
        return None
    require(train_mode == "sequence", f"train_mode must be 'prefix' or 'sequence', got {train_mode!r}")
    model_class = get_model(config["model"])
    require(
        getattr(model_class, "supports_sequence_training", False),
        f"train_mode 'sequence' trains a loss at every position, which {config['model']} does not compute: "
        "use it with FAME, or set train_mode: prefix.",
    )
    return SequenceTrainingDataset
