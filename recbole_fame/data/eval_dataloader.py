"""RecBole's full-sort evaluation dataloader, optionally hiding every item of a user's history, and exact in
multi-process runs.

With ``eval_exclude_history: True`` the loader of a sequential model returns, with each batch, the
``history_index`` RecBole's trainer already applies for general models (``scores[history_index] = -inf``):
every item the user interacted with before the scored target, over the user's whole history
(:mod:`recbole_fame.data.history`). A target the user already had is hidden with the rest and counts as a
miss, also when fewer than k items are left visible and the top k reaches the hidden ones
(:mod:`recbole_fame.trainer.collector`). Non-sequential models are RecBole's as they are: RecBole
already hides their training (and, at test, validation) items.

Several processes: RecBole's loaders split the samples with torch's ``DistributedSampler``, which pads the list
to a multiple of the process count (up to ``world_size - 1`` samples evaluated twice), and its trainer averages
the processes' metrics, each already rounded, weighted by their batch counts. This loader instead cuts the
samples, in the order one process evaluates them (:meth:`FullSortEvalDataLoader.evaluation_order`), into the
batches of ``eval_batch_size`` one process makes, and process r of W evaluates whole batches r, r + W, ...:
every sample once, in exactly the batch it has in one process. ``evaluated_rows`` holds the sample (dataset
index) of each row the process evaluates, in order; the plugin's collector gathers every process's rows by it
and computes the metrics once, over all samples in dataset order (:mod:`recbole_fame.trainer.collector`), so they
equal one process's for any number of processes.
"""

from contextlib import contextmanager

import numpy as np
import torch.distributed as dist
from recbole.data.dataloader import FullSortEvalDataLoader as RecBoleFullSortEvalDataLoader

from recbole_fame.data.history import HISTORY_LENGTH_FIELD


def batch_share(order, batch_size, rank, world_size):
    """The entries of ``order`` in batches rank, rank + world_size, ... of ``batch_size`` consecutive entries."""
    batch = np.arange(len(order)) // batch_size
    return np.asarray(order, dtype=np.int64)[batch % world_size == rank]


@contextmanager
def _built_as_one_process(config):
    """Around RecBole's ``__init__``: no ``DistributedSampler`` (and the whole ``eval_batch_size``); the loader
    takes its share of the batches itself."""
    single_spec = config["single_spec"]
    config["single_spec"] = True
    try:
        yield
    finally:
        config["single_spec"] = single_spec


class FullSortEvalDataLoader(RecBoleFullSortEvalDataLoader):
    """Args as RecBole's, plus ``history`` (:class:`~recbole_fame.data.history.UserHistory` or None: hide nothing
    beyond what RecBole hides). In a multi-process run, this process's share of whole batches (module docstring)."""

    def __init__(self, config, dataset, sampler, shuffle=False, history=None):
        self.history = history
        self.process = (0, 1) if config["single_spec"] else (dist.get_rank(), dist.get_world_size())
        with _built_as_one_process(config):
            super().__init__(config, dataset, sampler, shuffle=shuffle)

    def _init_batch_size_and_step(self):
        super()._init_batch_size_and_step()
        if getattr(self, "evaluated_rows", None) is None:  # once (RecBole's update_config calls this again)
            self.evaluated_rows = batch_share(self.evaluation_order(), self.step, *self.process)
            self.sample_size = len(self.evaluated_rows)  # the rows RecBole's loader batches: this process's

    def __bool__(self):
        """RecBole skips an evaluation (and validation) whose loader has no batch: in a multi-process run a process
        without one still takes part, to gather the others' rows."""
        return len(self) > 0 or self.process[1] > 1

    def evaluation_order(self):
        """The samples (dataset indices; users for general models) in the order one process evaluates them."""
        return np.arange(self.sample_size)

    def collate_fn(self, index):
        rows = self.evaluated_rows[np.asarray(index, dtype=np.int64)]
        interaction, history_index, positive_u, positive_i = super().collate_fn(rows)
        if self.history is not None and self.is_sequential:
            history_index = self.history.hidden(interaction[self.uid_field], interaction[HISTORY_LENGTH_FIELD])
        return interaction, history_index, positive_u, positive_i

    def repeated_target_count(self):
        """How many of the loader's samples have a target the user had already interacted with."""
        feat = self._dataset.inter_feat
        repeated = self.history.repeated_targets(feat[self.uid_field], feat[HISTORY_LENGTH_FIELD],
                                                 feat[self.iid_field])
        return int(repeated.sum())

