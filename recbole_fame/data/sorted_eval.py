"""Full-sort evaluation in batches of similar history length, each cut to its longest history.

RecBole's full-sort evaluation runs its users in dataset order, so nearly every batch of ``eval_batch_size``
users holds some history of ``MAX_ITEM_LIST_LENGTH`` items and is computed at that width, although the mean
history is much shorter (Beauty: 8.9 items of 50). With ``sorted_evaluation: True`` (the default) and a model
that supports batch trimming (``supports_batch_trimming``, :mod:`recbole_fame.runner.capabilities`: its scores cannot
depend on the padding after a sequence's last item), the users a process evaluates are taken shortest history
first and each batch's sequence fields are cut to its longest history.

It sits on the plugin's full-sort loader (:mod:`recbole_fame.data.eval_dataloader`), so the hidden-history
protocol (``eval_exclude_history``) hides the same items of the same users, and in a multi-process run each
process evaluates whole batches of the sorted order. The metrics are RecBole's: every user is evaluated once,
only in another order, with the scores, history mask and positive item RecBole's batch would give it (to float
tolerance), and the collector computes the metrics over the users in dataset order, as RecBole's loader gives
them.
"""

import numpy as np

from recbole_fame.data.eval_dataloader import FullSortEvalDataLoader


def trim_to_longest(data, length_field, list_suffix):
    """``data`` with every sequence field ([B, L, ...]) cut to the batch's longest sequence, L' <= L."""
    longest = int(data[length_field].max()) if len(data) else 0
    for field in list(data.interaction):
        if field.endswith(list_suffix) and data[field].dim() >= 2:
            data.interaction[field] = data[field][:, :longest]
    return data


class LengthSortedEvalMixin:
    """Over the plugin's full-sort eval loader: the samples evaluated shortest history first, and each batch's
    sequence fields cut to its longest history."""

    def evaluation_order(self):
        lengths = self._dataset.inter_feat[self._dataset.item_list_length_field].numpy()
        return np.argsort(lengths, kind="stable")

    def collate_fn(self, index):
        data = super().collate_fn(index)
        interaction = data[0]
        trim_to_longest(interaction, self._dataset.item_list_length_field, self.config["LIST_SUFFIX"])
        return data


class LengthSortedFullSortEvalDataLoader(LengthSortedEvalMixin, FullSortEvalDataLoader):
    """The plugin's (RecBole's) sequential full-sort evaluation loader, with batches sorted by history length and
    trimmed; ``history`` as for :class:`~recbole_fame.data.eval_dataloader.FullSortEvalDataLoader`."""

