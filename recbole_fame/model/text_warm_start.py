"""FAME (or SASRecSeq) started from the text-enhanced facet-aware pre-training (``text_pretrained_path``).

The checkpoint of :class:`~recbole_fame.model.sequential_recommender.fametextpretrain.FAMETextPretrain`
(safetensors + JSON metadata, see :mod:`recbole_fame.text.checkpoint`) gives FAME:

* ``item_embedding``: x_v = [z_v^(1) | ... | z_v^(H)], the items' facet-specific text embeddings (cold items,
  which have text but no training interaction, included; the padding item stays zero);
* ``facet_prediction.facet_projection`` W_f^(h) [H, d, d']: the block selector (W_f^(h)[h d' + i, i] = 1, else
  0), so FAME's per-head item sub-embedding x_v W_f^(h) (Eq. 9) starts as exactly head h's pre-trained slice
  z_v^(h), the space the pre-training shaped for facet h.

Everything else keeps its initialisation (or the SASRec warm start, when ``pretrained_path`` is also set
with ``combine_warm_starts: True``), and the whole model is then fine-tuned end to end. A checkpoint for another dataset, item set (count or
token order), hidden_size or n_heads is refused with one message listing every difference.

SASRecSeq takes the item embeddings only (:func:`load_text_item_embeddings`): the extension's pipeline, text
before sequential training, is the text pre-training, then SASRecSeq from its item embeddings, then FAME
warm-started from that SASRecSeq (``pretrained_path``), whose lower layers were trained on the embeddings FAME
starts from.
"""

from logging import getLogger

import torch

from recbole_fame.errors import CheckpointError
from recbole_fame.model.layers import block_selector  # noqa: F401  (where it lives; imported from here too)
from recbole_fame.text.checkpoint import load_text_checkpoint


def _differences(model, metadata, tensors, config, dataset):
    found = []
    if metadata.get("dataset") != config["dataset"]:
        found.append(f"dataset is '{metadata.get('dataset')}', this run's is '{config['dataset']}'")
    tokens = [str(token) for token in dataset.field2id_token[dataset.iid_field]]
    theirs = metadata.get("item_tokens") or []
    if len(theirs) != len(tokens):
        found.append(f"it has {len(theirs)} item ids, this dataset has {len(tokens)}")
    else:
        moved = [i for i, (a, b) in enumerate(zip(theirs, tokens)) if a != b]
        if moved:
            i = moved[0]
            found.append(f"the item tokens are in another order ({len(moved)} ids differ, e.g. id {i} is "
                         f"'{theirs[i]}' there and '{tokens[i]}' here)")
    for key, ours in (("hidden_size", model.hidden_size), ("n_heads", model.n_heads)):
        if metadata.get(key) != ours:
            found.append(f"{key} is {metadata.get(key)}, this run's is {ours}")
    items = tensors.get("item_embedding")
    if items is None:
        found.append("it has no item_embedding tensor")
    elif not found and tuple(items.shape) != tuple(model.item_embedding.weight.shape):
        found.append(f"item_embedding has shape {tuple(items.shape)}, the model's is "
                     f"{tuple(model.item_embedding.weight.shape)}")
    return found


def load_text_item_embeddings(model, path, config, dataset):
    """Start ``model``'s item embeddings (FAME's, or SASRec's) from the text checkpoint at ``path`` (in place);
    returns the checkpoint's metadata."""
    name = type(model).__name__
    tensors, metadata = load_text_checkpoint(path)
    differences = _differences(model, metadata, tensors, config, dataset)
    if differences:
        raise CheckpointError(
            f"Cannot start {name} from the text checkpoint {path}: " + "; ".join(differences)
            + f". Pre-train on this dataset with {name}'s sizes: python run_recbole_fame.py --model=FAMETextPretrain "
            f"--dataset={config['dataset']} --hidden_size={model.hidden_size} --n_heads={model.n_heads} "
            "(with the same data settings, e.g. load_col, as this run)."
        )
    with torch.no_grad():
        model.item_embedding.weight.copy_(tensors["item_embedding"].to(model.item_embedding.weight.device))
    getLogger().info(
        f"Text warm start of {name} from {path}: item embeddings of {metadata['n_items'] - 1} items from "
        f"{metadata['encoder']['name']} with facet heads {metadata.get('head_tasks')}."
    )
    return metadata


def load_text_checkpoint_into_fame(fame, path, config, dataset):
    """Start ``fame``'s item embeddings and facet projections from the text checkpoint at ``path`` (in place):
    the projections W_f start as the block selector, so head h first scores items with its pre-trained slice."""
    load_text_item_embeddings(fame, path, config, dataset)
    fame.facet_prediction.select_head_slices()
    with torch.no_grad():
        if fame.text_anchor_items is not None:  # text_anchor: the start the item vectors are pulled towards
            fame.text_anchor_items.copy_(fame.item_embedding.weight)
        if fame.text_item_embedding is not None:  # 'residual': the text part frozen, the learned part from 0
            fame.text_item_embedding.copy_(fame.item_embedding.weight)
            fame.item_embedding.weight.zero_()
