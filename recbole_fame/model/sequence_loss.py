"""The loss of ``train_mode: sequence``: full-softmax cross-entropy at every position of a batch of sequences.

In RecBole's prefix mode a batch holds ``train_batch_size`` (prefix, next item) samples and the loss is their
mean, so every training target weighs the same. A batch of whole sequences holds as many targets as its
sequences have positions, and that number varies: with ``length_bucketing`` a batch of one-item sequences holds
``train_batch_size`` targets and a batch of 50-item sequences 50 times more. ``sequence_loss_weighting``:

* ``'target'``: the sum of the batch's losses divided by the number of targets a batch holds on average
  (``train_batch_size`` per process times the training sequences' mean length). Every target weighs the same
  in every batch, as in the prefix mode, and a batch of average length gets the prefix mode's mean.
* ``'batch'``: the mean over the batch's own targets, so each batch weighs the same and a target weighs less the
  longer the sequences it is batched with (with length bucketing, about 1 / its sequence's length).

'target' is the default: on Amazon Beauty, SASRec trained with 'batch' and length bucketing converged 10% below
the same SASRec on RecBole's prefix samples (test NDCG@10 0.036 vs 0.040), and 'target' follows the prefix
mode's validation curve (results/beauty/modes/).
"""

import torch.nn.functional as F
from torch import nn

from recbole_fame.errors import require

WEIGHTINGS = ("target", "batch")


def check_weighting(value):
    require(value in WEIGHTINGS, f"sequence_loss_weighting must be one of {WEIGHTINGS}, got {value!r}")


class SequenceLoss(nn.Module):
    def __init__(self, config, dataset):
        super().__init__()
        self.weighting = config["sequence_loss_weighting"] or "target"
        check_weighting(self.weighting)
        processes = 1 if config["single_spec"] is not False else (config["world_size"] or 1)
        batch_size = max(1, config["train_batch_size"] // processes)  # RecBole's per-process batch
        # the training dataset of the sequence mode knows its sequences' mean length; 1 elsewhere
        self.targets_per_batch = batch_size * getattr(dataset, "targets_per_sequence", 1.0)

    def forward(self, logits, targets):
        """``logits`` [P, V] and ``targets`` [P] of the batch's P positions -> scalar loss."""
        if self.weighting == "batch":
            return F.cross_entropy(logits, targets)
        return F.cross_entropy(logits, targets, reduction="sum") / self.targets_per_batch
