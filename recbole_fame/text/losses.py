"""Supervised contrastive loss (Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020).

For L2-normalised features z_i of a batch I, positives P(i) (the other samples sharing a label with i) and
A(i) = I \\ {i}, the loss is Eq. 2 of the paper (L^sup_out):

    L = 1/|I'| sum_{i in I'} -1/|P(i)| sum_{p in P(i)} log( exp(z_i . z_p / tau) / sum_{a in A(i)} exp(z_i . z_a / tau) )

where I' are the anchors with at least one positive (anchors without one have no term). Labels may be
multi-label: i and j are positives when they share any label.
"""

import torch


def shares_label(labels_a, labels_b):
    """Whether rows share a label: [N, m] and [M, m'] label ids (-1 = padding) -> [N, M] bool."""
    equal = labels_a[:, None, :, None] == labels_b[None, :, None, :]
    valid = (labels_a >= 0)[:, None, :, None]
    return (equal & valid).flatten(2).any(-1)


def supcon_loss(features, positive, temperature):
    """L^sup_out of Khosla et al. (Eq. 2).

    Args:
        features: [N, k] L2-normalised embeddings.
        positive: [N, N] bool, True where j is a positive of anchor i (the diagonal is ignored).
        temperature: tau.

    Returns:
        The mean loss over anchors with at least one positive (0, still differentiable, if there is none).
    """
    n = features.size(0)
    self_mask = torch.eye(n, dtype=torch.bool, device=features.device)
    logits = (features @ features.transpose(0, 1) / temperature).masked_fill(self_mask, float("-inf"))
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)  # log of the softmax over A(i)
    positive = positive & ~self_mask
    counts = positive.sum(1)
    anchors = counts > 0
    if not bool(anchors.any()):
        return features.sum() * 0.0
    mean_log_prob_pos = log_prob.masked_fill(~positive, 0.0).sum(1)[anchors] / counts[anchors]
    return -mean_log_prob_pos.mean()
