"""Warm start of FAME from a trained RecBole SASRec (paper Section 4.4.2).

Kept from SASRec: the item and position embeddings, the input LayerNorm, the lower Transformer layers and
the last layer's key and value projections, so that FAME's last layer sees exactly the hidden states
SASRec's last layer saw (which needs the same ``n_heads``: the same weights split into other heads compute
another function, so another ``n_heads`` is refused). FAME's query experts, router, FFN', facet projections and gate
keep their fresh initialisation. A checkpoint of another model, dataset or size is refused with one message
that lists every difference.
"""

from logging import getLogger

import torch

from recbole_fame.storage.checkpoint import load_recbole_checkpoint
from recbole_fame.errors import CheckpointError


def _differences(fame, ckpt_config, state_dict, config):
    found = []
    if str(ckpt_config["model"]) not in ("SASRec", "SASRecSeq"):
        found.append(f"model is {ckpt_config['model']}, expected SASRec (or the plugin's SASRecSeq)")
    if ckpt_config["dataset"] != config["dataset"]:
        found.append(f"dataset is '{ckpt_config['dataset']}', this run's is '{config['dataset']}'")
    # n_heads too: the lower layers' attention and the last layer's keys and values are split into heads,
    # and the same weights split into other heads compute another function.
    for key, ours in (("hidden_size", fame.hidden_size), ("n_layers", fame.n_layers), ("n_heads", fame.n_heads),
                      ("MAX_ITEM_LIST_LENGTH", fame.max_seq_length)):
        if ckpt_config[key] != ours:
            found.append(f"{key} is {ckpt_config[key]}, this run's is {ours}")
    items = state_dict.get("item_embedding.weight")
    if items is not None and items.shape[0] != fame.n_items:
        found.append(f"it has {items.shape[0]} item ids, this dataset has {fame.n_items}")
    return found


def load_sasrec_into_fame(fame, path, config):
    """Copy the SASRec parts of the checkpoint at ``path`` into ``fame`` (in place)."""
    checkpoint = load_recbole_checkpoint(path, config)
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint or "config" not in checkpoint:
        raise CheckpointError(f"{path} is not a RecBole checkpoint (no 'config' and 'state_dict' inside)")
    state_dict, ckpt_config = checkpoint["state_dict"], checkpoint["config"]
    differences = _differences(fame, ckpt_config, state_dict, config)
    if differences:
        raise CheckpointError(
            f"Cannot warm-start FAME from {path}: " + "; ".join(differences)
            + ". Train SASRec on this dataset with the same hidden_size, n_layers, n_heads and MAX_ITEM_LIST_LENGTH."
        )

    last = f"trm_encoder.layer.{fame.n_layers - 1}.multi_head_attention."
    mapping = {}
    for name in fame.state_dict():
        if name.startswith(("item_embedding.", "position_embedding.", "LayerNorm.", "trm_encoder.")):
            mapping[name] = name
    for part in ("key", "value"):
        for kind in ("weight", "bias"):
            mapping[f"moe_attention.{part}.{kind}"] = f"{last}{part}.{kind}"
    missing = [source for source in mapping.values() if source not in state_dict]
    if missing:
        raise CheckpointError(f"{path} lacks SASRec parameters FAME needs: {', '.join(missing[:5])}")
    with torch.no_grad():
        own = fame.state_dict()
        for target, source in mapping.items():
            own[target].copy_(state_dict[source].to(own[target].device))
    getLogger().info(f"Warm start from {path}: loaded {len(mapping)} SASRec tensors (embeddings, "
                     f"{fame.n_layers - 1} lower layer(s), last layer's K and V); FAME's new parts start fresh.")
