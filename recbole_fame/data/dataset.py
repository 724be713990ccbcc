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

from collections import Counter

import numpy as np
import torch
from recbole.data.dataset import SequentialDataset
from recbole.data.interaction import Interaction
from recbole.utils import FeatureType

from recbole_fame.capabilities import supports_sequence_training
from recbole_fame.data.history import (
    HISTORY_LENGTH_FIELD,
    UserHistory,
    dataset_class_recording_history,
    excludes_history,
)
from recbole_fame.registry import get_model
from recbole_fame.defaults import train_mode
from recbole_fame.errors import require


class SequenceTrainingDataset(SequentialDataset):
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
        records_history = excludes_history(self.config)  # the whole sequences (recbole_fame.data.history)
        if records_history:
            self.user_history = UserHistory.from_sorted(user_ids, self.inter_feat[self.iid_field].numpy(),
                                                        self.user_num)
        held_out = LEAVE_ONE_OUT[self.config["eval_args"]["split"]["LS"]]  # per user, when it has that many
        train_samples = samples - np.minimum(held_out, samples - 1)  # what RecBole's leave-one-out leaves to training
        keep = (position >= 1) & ((sample >= train_samples) | ((train_samples - 1 - sample) % window == 0))

        target = np.flatnonzero(keep)
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


def dataset_class_for(config):
    """The plugin dataset class for this configuration, or None for RecBole's default."""
    if train_mode(config) == "prefix":
        return recbole_class_recording_history(config) if excludes_history(config) else None
    check_split(config)
    require(
        supports_sequence_training(get_model(config["model"])),
        f"train_mode 'sequence' trains a loss at every position, which {config['model']} does not compute: "
        "use it with FAME, or set train_mode: prefix.",
    )
    return SequenceTrainingDataset


def recbole_class_recording_history(config):
    """RecBole's dataset class for this model (as RecBole's ``create_dataset`` picks it), recording every user's
    whole history for ``eval_exclude_history``."""
    import recbole.data.dataset as recbole_datasets

    recbole_class = getattr(recbole_datasets, f"{config['model']}Dataset", recbole_datasets.SequentialDataset)
    return dataset_class_recording_history(recbole_class)
