"""The layers FAME adds to SASRec's last Transformer block.

Notation (paper Section 4): B batch, L sequence length, Lq positions that get a query (L, or 1 when only
the scored position is needed), H heads, N experts per head, d hidden size, d' = d / H, V items.
Every operation is batched over heads and experts (batched matmul, einsum); there is no Python loop over either.
"""

import math

import torch
from torch import nn
import torch.nn.functional as F


def trim_padding(item_seq, item_seq_len):
    """Cut [B, L] sequences to the batch's longest, [B, L'] (padding cannot change a score).

    On CPU this saves the padded positions' work. On an accelerator, reading the longest length back
    makes the host wait for every queued kernel, once per forward, so the batch is left as it is there
    (the length-bucketing dataloader trims batches on the host, before they reach the device).
    """
    if item_seq.device.type != "cpu":
        return item_seq
    return item_seq[:, : int(item_seq_len.max())]


def embed_sequence(model, item_seq):
    """SASRec's input block, ``Dropout(LayerNorm(item + position embedding))`` of [B, L] ids -> [B, L, d], with
    ``model``'s ``item_embedding``, ``position_embedding``, ``LayerNorm`` and ``dropout`` (FAME and SASRecSeq)."""
    positions = torch.arange(item_seq.size(1), device=item_seq.device).unsqueeze(0)
    items = model.embed_items(item_seq) if hasattr(model, "embed_items") else model.item_embedding(item_seq)
    return model.dropout(model.LayerNorm(items + model.position_embedding(positions)))


def block_selector(n_heads, hidden_size):
    """[H, d, d'] with W^(h)[h d' + i, i] = 1, else 0: x W^(h) is head h's slice of x."""
    head_size = hidden_size // n_heads
    eye = torch.eye(hidden_size).view(hidden_size, n_heads, head_size)  # [d, H, d']
    return eye.permute(1, 0, 2).contiguous()


class MoEAttention(nn.Module):
    r"""Mixture-of-experts self-attention of one layer (Eq. 12-17).

    Each head h has N query experts :math:`W_{Q(n)}^{(h)} \in R^{d \times d'}` (Eq. 12), one key and one value
    projection shared by its experts (Eq. 13), per-expert scaled dot-product attention (Eq. 14-15) and a
    router :math:`W_{exp}^{(h)} \in R^{N d' \times N}` whose softmax weights the experts' outputs (Eq. 16-17).
    The key and value projections are ``nn.Linear(d, d)`` laid out like RecBole's ``MultiHeadAttention``
    so a SASRec checkpoint's last-layer K and V load into them unchanged.
    """

    def __init__(self, n_heads, hidden_size, num_experts, attn_dropout_prob, residual=False):
        super().__init__()
        self.residual = residual
        self.n_heads = n_heads
        self.num_experts = num_experts
        self.head_size = hidden_size // n_heads
        self.key = nn.Linear(hidden_size, hidden_size)
        self.value = nn.Linear(hidden_size, hidden_size)
        # W_Q(n)^(h): [H, N, d, d']
        self.expert_query = nn.Parameter(torch.empty(n_heads, num_experts, hidden_size, self.head_size))
        # W_exp^(h): [H, N*d', N]; with one expert the router's softmax is constantly 1, so none is built.
        self.router = (
            nn.Parameter(torch.empty(n_heads, num_experts * self.head_size, num_experts))
            if num_experts > 1
            else None
        )
        self.attn_dropout = nn.Dropout(attn_dropout_prob)

    def _split_heads(self, x):
        # [B, L, d] -> [B, H, L, d']
        batch, length, _ = x.shape
        return x.view(batch, length, self.n_heads, self.head_size).transpose(1, 2)

    def forward(self, hidden, attention_mask, query_index=None):
        """
        Args:
            hidden: [B, L, d] the layer's input x.
            attention_mask: [B, 1, L, L] additive mask (0 where attention is allowed, -10000 elsewhere).
            query_index: None to compute every position, or [B] the one position per sequence to compute.

        Returns:
            f: [B, H, Lq, d'] the integrated head representations f_i^(h) (Eq. 17).
            beta: [B, H, Lq, N] the router weights (Eq. 16).
        """
        key = self._split_heads(self.key(hidden))  # [B, H, L, d']
        value = self._split_heads(self.value(hidden))  # [B, H, L, d']
        if query_index is None:
            query_input, mask = hidden, attention_mask  # [B, L, d], [B, 1, L, L]
        else:
            rows = torch.arange(hidden.size(0), device=hidden.device)
            query_input = hidden[rows, query_index].unsqueeze(1)  # [B, 1, d]
            mask = attention_mask[rows, :, query_index].unsqueeze(2)  # [B, 1, 1, L]

        batch, positions, hidden_size = query_input.shape
        heads, experts, size = self.n_heads, self.num_experts, self.head_size
        # Eq. 12, all H*N experts in one product: [B, Lq, d] x [d, H*N*d'] -> [B, H, N*Lq, d']
        weights = self.expert_query.permute(2, 0, 1, 3).reshape(hidden_size, heads * experts * size)
        query = (query_input @ weights).view(batch, positions, heads, experts, size)
        query = query.permute(0, 2, 3, 1, 4).reshape(batch, heads, experts * positions, size)
        # Eq. 14, keys shared by a head's experts: [B, H, N*Lq, d'] x [B, H, d', L] -> [B, H, N, Lq, L]
        scores = (query @ key.transpose(-1, -2)).view(batch, heads, experts, positions, -1) / math.sqrt(size)
        scores = scores + mask.unsqueeze(1)  # mask [B, 1, 1, Lq, L]
        probs = self.attn_dropout(torch.softmax(scores, dim=-1))  # [B, H, N, Lq, L]
        # Eq. 15, values shared too: [B, H, N*Lq, L] x [B, H, L, d'] -> [B, H, N, Lq, d']
        expert_out = (probs.view(batch, heads, experts * positions, -1) @ value).view(batch, heads, experts, positions, size)

        if self.router is None:
            f = expert_out.squeeze(2)  # [B, H, Lq, d']
            beta = f.new_ones(f.shape[:-1] + (1,))
        else:
            # the experts' outputs side by side: [B, H, Lq, N*d']
            concat = expert_out.transpose(2, 3).reshape(batch, heads, positions, experts * size)
            beta = torch.softmax(concat @ self.router.unsqueeze(0), dim=-1)  # [B, H, Lq, N] Eq. 16
            # Eq. 17: [B, H, Lq, 1, N] x [B, H, Lq, N, d'] -> [B, H, Lq, d']
            f = (beta.unsqueeze(-2) @ concat.view(batch, heads, positions, experts, size)).squeeze(-2)
        if self.residual:  # not in the paper's equations: SASRec's residual, head h gets its slice of x_i
            f = f + self._split_heads(query_input)
        return f, beta


class HeadFeedForward(nn.Module):
    r"""FFN' of Eq. 7, shared by all heads: ``LayerNorm(f + Dropout(W_2' ReLU(W_1' f + b_1') + b_2'))`` on d'."""

    def __init__(self, head_size, hidden_dropout_prob, layer_norm_eps):
        super().__init__()
        self.dense_1 = nn.Linear(head_size, head_size)
        self.dense_2 = nn.Linear(head_size, head_size)
        self.dropout = nn.Dropout(hidden_dropout_prob)
        self.LayerNorm = nn.LayerNorm(head_size, eps=layer_norm_eps)

    def forward(self, f):
        # f: [..., d'] -> F: [..., d']
        return self.LayerNorm(f + self.dropout(self.dense_2(F.relu(self.dense_1(f)))))


class FacetPrediction(nn.Module):
    r"""Per-head item sub-embeddings, per-head scores and the gate over heads (Eq. 8-11).

    ``facet_projection`` holds :math:`W_f^{(h)} \in R^{d \times d'}` (Eq. 9); ``gate`` is
    :math:`W_g \in R^{d \times H}, b_g` (Eq. 10). With one head the gate is constantly 1 and is not built.
    """

    def __init__(self, n_heads, hidden_size, head_mixing, scale_by_heads=False):
        super().__init__()
        self.n_heads = n_heads
        self.head_mixing = head_mixing
        # 'logits' mixing: the gate weights sum to 1, so H scores over d' = d / H dimensions each add up to
        # about 1/H of a d-dimensional dot product's scale; scale_by_heads multiplies the fused logits by H.
        self.logit_scale = float(n_heads) if scale_by_heads else 1.0
        head_size = hidden_size // n_heads
        self.facet_projection = nn.Parameter(torch.empty(n_heads, hidden_size, head_size))  # [H, d, d']
        self.gate = nn.Linear(hidden_size, n_heads) if n_heads > 1 else None

    def select_head_slices(self):
        """Set W_f^(h) to the block selector, so that x_v^(h) starts as head h's slice of x_v."""
        heads, hidden, _ = self.facet_projection.shape
        with torch.no_grad():
            self.facet_projection.copy_(block_selector(heads, hidden).to(self.facet_projection))

    def distance_from_block_selector(self):
        """Squared distance of W_f from the block selector, summed over its entries (a scalar)."""
        heads, hidden, _ = self.facet_projection.shape
        return (self.facet_projection - block_selector(heads, hidden).to(self.facet_projection)).pow(2).sum()

    def gate_weights(self, head_states):
        # head_states [..., H, d'] -> g~ [..., H]  (Eq. 10)
        if self.gate is None:
            return head_states.new_ones(head_states.shape[:-1])
        return torch.softmax(self.gate(head_states.flatten(-2)), dim=-1)

    def head_item_embeddings(self, item_embedding):
        # x_v^(h) = x_v W_f^(h): [V, d] -> [H, V, d']  (Eq. 9)
        return torch.einsum("vd,hdk->hvk", item_embedding, self.facet_projection)

    def head_scores(self, head_states, item_embedding):
        # P^(h)(v) = x_v^(h) . F^(h): [..., H, d'] x [V, d] -> [..., H, V]  (Eq. 8)
        return torch.einsum("...hk,hvk->...hv", head_states, self.head_item_embeddings(item_embedding))

    def user_vector(self, head_states, gate):
        """'logits' mixing: u = sum_h g_h W_f^(h) F^(h) (times H with scale_by_heads), [..., d], so that the fused
        score of item v is x_v . u."""
        heads, hidden_size, head_size = self.facet_projection.shape
        weighted = (gate.unsqueeze(-1) * head_states).flatten(-2)  # g~_h F^(h) side by side: [..., H*d']
        # [..., H*d'] x [H*d', d] -> u [..., d]
        user = weighted @ self.facet_projection.transpose(1, 2).reshape(heads * head_size, hidden_size)
        return self.logit_scale * user if self.logit_scale != 1.0 else user

    def item_scores(self, head_states, gate, item_embedding, items):
        """The fused score (Eq. 11) of one item per row, ``items`` [B] -> [B]: with 'logits', x_v . u of those
        items only; with 'probs', each head's softmax needs its normaliser over all items first."""
        if self.head_mixing == "logits":
            return (self.user_vector(head_states, gate) * item_embedding[items]).sum(-1)
        return self.scores(head_states, gate, item_embedding).gather(-1, items.unsqueeze(-1)).squeeze(-1)

    def scores(self, head_states, gate, item_embedding):
        """Fused scores over all items, [..., V] (Eq. 11).

        'logits': sum_h g_h P^(h)(v) (times H with scale_by_heads). Because P^(h) is linear in x_v, this equals x_v . u with the user vector
        u = sum_h g_h W_f^(h) F^(h) in R^d, so it costs one [.., d] x [d, V] product like SASRec's.
        'probs': log sum_h g_h softmax_v(P^(h)(v)), a log-probability, so cross-entropy on it is the mixture's
        negative log-likelihood.
        """
        if self.head_mixing == "logits":
            return self.user_vector(head_states, gate) @ item_embedding.transpose(0, 1)
        log_probs = torch.log_softmax(self.head_scores(head_states, item_embedding), dim=-1)  # [..., H, V]
        return torch.logsumexp(log_probs + torch.log(gate.clamp_min(1e-12)).unsqueeze(-1), dim=-2)
