"""The loss of ``train_mode: sequence``: full-softmax cross-entropy at every position of a batch of sequences.

In RecBole's prefix mode a batch holds ``train_batch_size`` (prefix, next item) samples and the loss is their
mean, so every training target weighs the same. A batch of whole sequences holds as many targets as its
sequences have positions, and that number varies: with ``length_bucketing`` a batch of one-item sequences holds
``train_batch_size`` targets and a batch of 50-item sequences 50 times more. ``sequence_loss_weighting``:

* ``'target'``: the sum of the batch's losses divided by the number of targets a batch holds on average
  (the sequences per batch and process times the training sequences' mean length; with ``train_batch_unit:
  targets`` about ``train_batch_size``). Every target weighs the same
  in every batch, as in the prefix mode, and a batch of average length gets the prefix mode's mean.
* ``'batch'``: the mean over the batch's own targets, so each batch weighs the same and a target weighs less the
  longer the sequences it is batched with (with length bucketing, about 1 / its sequence's length).

'target' is the default: on Amazon Beauty, SASRec trained with 'batch' and length bucketing converged 10% below
the same SASRec on RecBole's prefix samples (test NDCG@10 0.036 vs 0.040), and 'target' follows the prefix
mode's validation curve (results/beauty/modes/).

``train_exclude_history: True`` (both training modes, FAME and SASRecSeq) removes from each target's softmax
the items its sequence holds before it (the target itself stays), so that training ranks the target against
the items the hidden-history protocol (``eval_exclude_history``) ranks it against; the padding item 0 is
removed with them. The sequence a sample carries holds its user's last ``MAX_ITEM_LIST_LENGTH`` items.
"""

import torch
import torch.nn.functional as F
from torch import nn

from recbole_fame.errors import require

WEIGHTINGS = ("target", "batch")


def check_weighting(value):
    require(value in WEIGHTINGS, f"sequence_loss_weighting must be one of {WEIGHTINGS}, got {value!r}")


def next_item_targets(item_seq, item_seq_len, pos_items, length):
    """The target of every position of a batch of sequences cut to ``length`` positions: position t predicts
    item t+1, the sequence's last position its sample's own target ``pos_items``.

    Returns ``targets`` [B, length] and ``valid`` [B, length] (True at the positions inside each sequence);
    ``targets[valid]`` lines up with the model's outputs at ``valid``.
    """
    targets = torch.cat([item_seq[:, 1:length], item_seq.new_zeros(item_seq.size(0), 1)], dim=1)
    targets[torch.arange(targets.size(0), device=targets.device), item_seq_len - 1] = pos_items
    valid = torch.arange(length, device=targets.device).unsqueeze(0) < item_seq_len.unsqueeze(1)
    return targets, valid


def earlier_items_at_every_position(item_seq, length):
    """The items before each position's target, [B, length, length]: row t holds ``item_seq[:, :t + 1]`` and 0
    (the padding item) after it."""
    seq = item_seq[:, :length]
    causal = torch.ones(length, length, dtype=torch.bool, device=seq.device).tril()  # [L', L'] j <= t
    return seq.unsqueeze(1).masked_fill(~causal, 0)  # [B, L', L']


def hide_earlier_items(logits, earlier, targets):
    """``logits`` [P, V] with the items ``earlier`` [P, K] (item ids, 0 = none) of each row set to -inf, except
    the row's own target ``targets`` [P]; the padding item 0 is set to -inf too."""
    earlier = F.pad(earlier.masked_fill(earlier == targets.unsqueeze(1), 0), (0, 1))  # [P, K + 1], the last 0
    return logits.scatter(1, earlier, float("-inf"))  # [P, V], out of place: gradients flow to the rest


class SequenceLoss(nn.Module):
    """The loss of ``train_mode: sequence``; ``settings``: the model's (:func:`recbole_fame.defaults.model_settings`:
    ``sequence_loss_weighting`` and the training batch), ``dataset``: the training dataset."""

    def __init__(self, settings, dataset):
        super().__init__()
        self.weighting = settings["sequence_loss_weighting"] or "target"
        check_weighting(self.weighting)
        # sequences per batch: what recbole_fame.data.utils.data_preparation gave the loader (train_batch_size
        # converted from targets, by default), else train_batch_size; per process as RecBole splits it
        sequences = getattr(dataset, "sequences_per_batch", None) or settings["train_batch_size"]
        batch_size = max(1, sequences // settings["processes"])
        # the training dataset of the sequence mode knows its sequences' mean length; 1 elsewhere
        self.targets_per_batch = batch_size * getattr(dataset, "targets_per_sequence", 1.0)

    def forward(self, logits, targets):
        """``logits`` [P, V] and ``targets`` [P] of the batch's P positions -> scalar loss."""
        if self.weighting == "batch":
            return F.cross_entropy(logits, targets)
        return F.cross_entropy(logits, targets, reduction="sum") / self.targets_per_batch
