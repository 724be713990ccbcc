"""RecBole's evaluation ``Collector`` with a cheaper ``rec.topk`` for batches of one positive item per row.

For the ranking metrics (Hit, NDCG, MRR, Recall, Precision, MAP) RecBole's ``Collector.eval_batch_collect``
builds a dense [B, V] int matrix of the positive items (a fill of B x V zeros), sums it per row (a cast of the
whole matrix to int64 on the way) and gathers it at the top-k items: on Beauty, one thread, a 4096 x 12101
batch took 3.5-4.1 s of which the top-k itself 0.5-0.8 s, and after the sorted evaluation that was the larger part
of a validation pass. Full-sort evaluation of a sequential model has exactly one positive per row
(``positive_u`` is ``0, 1, ..., B - 1``), so the same result is the top-k compared with each row's positive and
a count of 1 per row: the same tensor, same dtype, from the same ``torch.topk`` call. Every other case
(several positives per row: general models; labelled evaluation, which has no ``positive_u``: context-aware
models; the other keys) is RecBole's code.

One difference: a positive scored -inf (hidden: the padding item, or with ``eval_exclude_history`` an item the
user had before) is a miss wherever ``torch.topk`` puts it. RecBole counts it a hit when fewer than k items
are left above -inf and the top k reaches down among the hidden items, where the ties fall as they may.

The rows in dataset order, from every process: the plugin's full-sort loaders say which sample each row they
give is (``evaluated_rows``, :mod:`recbole_fame.data.eval_dataloader`; the trainer hands it over as
:attr:`Collector.evaluated_rows`). The collected rows are then put in dataset order before the metrics are
computed, and in a multi-process run every process's rows are gathered first, so every process computes the
metrics of all samples, rounded once, exactly as one process does (:attr:`Collector.gathered`; RecBole's
trainer would average the processes' rounded metrics, weighted by their batch counts).
"""

import torch
import torch.distributed as dist
from recbole.evaluator import Collector as RecBoleCollector

_FAST_KEYS = ("rec.items", "rec.topk")
# the keys RecBole's collector fills one row per evaluated row (user or sample) and resets after each evaluation
ROW_KEYS = ("rec.topk", "rec.meanrank", "rec.score", "rec.items", "data.label")


class Collector(RecBoleCollector):
    def __init__(self, config):
        super().__init__(config)
        #: the sample (dataset index) of each row the evaluation collects, in order; None: RecBole's order
        self.evaluated_rows = None
        #: whether the last data struct holds the rows of every process
        self.gathered = False

    def get_data_struct(self):
        """RecBole's, with the rows in dataset order and, in a multi-process run, every process's rows."""
        self.gathered = False
        if self.evaluated_rows is not None:
            self._all_rows_in_dataset_order()
        return super().get_data_struct()

    def _all_rows_in_dataset_order(self):
        mine = {key: self.data_struct[key].cpu() for key in ROW_KEYS if key in self.data_struct}
        mine["sample"] = torch.as_tensor(self.evaluated_rows, dtype=torch.int64)
        everyone = [mine]
        if dist.is_available() and dist.is_initialized() and not self.config["single_spec"]:
            everyone = [None] * dist.get_world_size()
            dist.all_gather_object(everyone, mine)  # CPU tensors, any size (a process may have had no batch)
            self.gathered = True
        order = torch.argsort(torch.cat([rows["sample"] for rows in everyone]))
        for key in ROW_KEYS:
            parts = [rows[key] for rows in everyone if key in rows]
            if parts:
                self.data_struct.set(key, torch.cat(parts)[order])

    def eval_batch_collect(self, scores_tensor, interaction, positive_u, positive_i):
        rows = scores_tensor.size(0)
        one_positive_each = (  # labelled evaluation (context-aware models) passes no positive_u
            positive_u is not None
            and scores_tensor.dim() == 2
            and positive_u.numel() == rows
            and torch.equal(positive_u.cpu(), torch.arange(rows, dtype=positive_u.dtype))
        )
        if not (one_positive_each and self.register.need("rec.topk")):
            return super().eval_batch_collect(scores_tensor, interaction, positive_u, positive_i)
        topk_scores, topk_idx = torch.topk(scores_tensor, max(self.topk), dim=-1)  # n_users x k, as RecBole's
        if self.register.need("rec.items"):
            self.data_struct.update_tensor("rec.items", topk_idx)
        hits = (topk_idx == positive_i.to(topk_idx.device).unsqueeze(1)) & ~torch.isneginf(topk_scores)
        pos_idx = hits.int()
        pos_len_list = torch.ones(rows, 1, dtype=torch.int64, device=topk_idx.device)
        self.data_struct.update_tensor("rec.topk", torch.cat((pos_idx, pos_len_list), dim=1))
        # the rest (rec.meanrank, rec.score, data.label) as RecBole collects it
        needed = {key: self.register.need(key) for key in _FAST_KEYS}
        try:
            for key in _FAST_KEYS:
                setattr(self.register, key, False)
            super().eval_batch_collect(scores_tensor, interaction, positive_u, positive_i)
        finally:
            for key, value in needed.items():
                setattr(self.register, key, value)
