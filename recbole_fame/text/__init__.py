"""Text-enhanced facet-aware pre-training (FAME 2026 extension): the pieces the model and trainer use.

* :mod:`~recbole_fame.text.encoder`: the frozen Hugging Face text encoder (mean pooling), found offline.
* :mod:`~recbole_fame.text.cache`: item text embeddings cached on disk, keyed by encoder and texts.
* :mod:`~recbole_fame.text.items`: item text and facet labels from a RecBole dataset's item features.
* :mod:`~recbole_fame.text.losses`: the supervised contrastive loss (Khosla et al., NeurIPS 2020).
* :mod:`~recbole_fame.text.disentanglement`: the facet-by-head disentanglement report, printed for any
  checkpoint by ``python -m recbole_fame.text.report <checkpoint>``.
* :mod:`~recbole_fame.text.checkpoint`: the safe checkpoint format (safetensors + JSON metadata).
"""

from recbole_fame.text.checkpoint import (
    load_text_checkpoint,
    read_text_metadata,
    save_text_checkpoint,
)
from recbole_fame.text.losses import shares_label, supcon_loss

__all__ = [
    "load_text_checkpoint", "read_text_metadata", "save_text_checkpoint", "shares_label", "supcon_loss",
]
