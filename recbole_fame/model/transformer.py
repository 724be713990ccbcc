"""What the plugin's models change in RecBole's Transformer layers, on their own instances only.

* :func:`use_fused_gelu`: RecBole's ``FeedForward.gelu`` is the erf form written in Python
  (``x * 0.5 * (1 + erf(x / sqrt(2)))``: four elementwise kernels and three temporaries, forward and backward);
  ``torch.nn.functional.gelu`` (``approximate='none'``) is the same function in one kernel. The layers of the
  plugin's models use it; RecBole's classes, and RecBole's own models, are left as they are.
* :func:`encode_last_position`: RecBole's ``TransformerEncoder`` computes every position of every layer. A model
  that scores only the last position needs the last layer's keys and values at every position but its query,
  output projection and feed-forward only there. This runs the encoder's own modules that way; the result is the
  full encoder's output at ``index`` (to float tolerance: the same products, summed in another blocking).
"""

import torch
import torch.nn.functional as F
from recbole.model.layers import FeedForward


def use_fused_gelu(module):
    """Give every RecBole ``FeedForward`` inside ``module`` that uses RecBole's Python gelu torch's fused gelu.

    The attribute is set on the instances (no parameter or state-dict key changes). Returns how many were changed.
    """
    changed = 0
    for sub in module.modules():
        if isinstance(sub, FeedForward) and getattr(sub.intermediate_act_fn, "__func__", None) is FeedForward.gelu:
            sub.intermediate_act_fn = F.gelu
            changed += 1
    return changed


def encode_last_position(encoder, hidden, attention_mask, index):
    """The output of RecBole's ``TransformerEncoder`` at one position per sequence.

    Args:
        encoder: a RecBole ``TransformerEncoder`` with at least one layer.
        hidden: [B, L, d] its input.
        attention_mask: [B, 1, L, L] additive mask, as for the encoder.
        index: [B] the position to compute per sequence.

    Returns:
        [B, d], equal to ``encoder(hidden, attention_mask, output_all_encoded_layers=False)[-1][rows, index]``.
    """
    *lower, last = encoder.layer
    for layer in lower:
        hidden = layer(hidden, attention_mask)
    attention = last.multi_head_attention
    batch, length, size = hidden.shape
    heads, head_size = attention.num_attention_heads, attention.attention_head_size
    rows = torch.arange(batch, device=hidden.device)
    x = hidden[rows, index].unsqueeze(1)  # [B, 1, d]
    query = attention.query(x).view(batch, 1, heads, head_size).transpose(1, 2)  # [B, H, 1, d']
    key = attention.key(hidden).view(batch, length, heads, head_size).permute(0, 2, 3, 1)  # [B, H, d', L]
    value = attention.value(hidden).view(batch, length, heads, head_size).transpose(1, 2)  # [B, H, L, d']
    scores = (query @ key) / attention.sqrt_attention_head_size + attention_mask[rows, :, index].unsqueeze(2)
    probs = attention.attn_dropout(attention.softmax(scores))  # [B, H, 1, L]
    context = (probs @ value).transpose(1, 2).reshape(batch, 1, size)
    out = attention.LayerNorm(attention.out_dropout(attention.dense(context)) + x)
    return last.feed_forward(out).squeeze(1)
