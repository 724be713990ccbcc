"""The checkpoint of the text-enhanced pre-training: safe to load, self-describing.

One ``.safetensors`` file holds plain tensors:

* ``item_embedding`` [n_items, hidden_size]: what FAME's item embedding starts from (row 0, the padding
  item, is zero); head h's slice ``[:, h d' : (h + 1) d']`` is the item's facet-h sub-embedding;
* ``facet_projection`` [n_heads, text_dim, d'] and ``facet_bias`` [n_heads, d']: the trained projections.

Its header metadata (``{"format": FORMAT, "recbole_fame": <JSON>}``) holds the JSON metadata: dataset name,
item field and item tokens in id order, hidden_size, n_heads, text and facet fields, the heads' tasks, the
encoder (name, identity hash), the training settings and the disentanglement report. A copy of the metadata
is written beside it as ``<name>.json`` for reading; loading uses only the ``.safetensors`` file. Nothing
is pickled: ``safetensors`` cannot run code when loading. Both files are written atomically (temporary files
moved into place); a write that fails raises :class:`~recbole_fame.errors.OutputError` and leaves nothing
half-written.
"""

import json
from pathlib import Path

from safetensors import SafetensorError, safe_open

from recbole_fame.errors import CheckpointError, output_error
from recbole_fame.text.cache import atomic_write, tensor_bytes

FORMAT = "recbole_fame.text_pretrain"
VERSION = 1


def metadata_path(path):
    return Path(path).with_suffix(".json")


def save_text_checkpoint(path, tensors, metadata):
    """Write ``tensors`` and ``metadata`` (plain JSON data) to ``path`` and ``<path>.json``, atomically.

    Both files are written to temporary files first and moved into place only when both are complete. A
    folder that is not writable or a full disk raises :class:`~recbole_fame.errors.OutputError` naming the
    file and the fix; no partial or temporary file is left, and an earlier checkpoint at ``path`` is kept.
    """
    metadata = dict(metadata, format=FORMAT, version=VERSION)
    text = json.dumps(metadata, ensure_ascii=False)
    files = [
        (path, tensor_bytes(tensors, metadata={"format": FORMAT, "recbole_fame": text})),
        (metadata_path(path), json.dumps(metadata, ensure_ascii=False, indent=1).encode("utf-8")),
    ]
    try:
        atomic_write(files)
    except OSError as error:
        raise output_error("the text pre-training checkpoint", path, error,
                           "set checkpoint_dir to another folder (--checkpoint_dir=...)") from error


def _open(path):
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"Text pre-training checkpoint not found: {path}")
    try:
        handle = safe_open(str(path), framework="pt", device="cpu")
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(
            f"{path} is not a FAMETextPretrain checkpoint (a .safetensors file written by "
            f"`run_recbole_fame.py --model=FAMETextPretrain`): {error}"
        ) from error
    header = handle.metadata() or {}
    if header.get("format") != FORMAT or "recbole_fame" not in header:
        raise CheckpointError(
            f"{path} is a safetensors file but not a FAMETextPretrain checkpoint (no '{FORMAT}' metadata). "
            "Pass the .safetensors file that `run_recbole_fame.py --model=FAMETextPretrain` saved."
        )
    return handle, json.loads(header["recbole_fame"])


def read_text_metadata(path):
    """The JSON metadata of a checkpoint (the ``.safetensors`` file, or its ``.json`` copy)."""
    path = Path(path)
    if path.suffix == ".json":
        if not path.is_file():
            raise CheckpointError(f"Text pre-training metadata not found: {path}")
        metadata = json.loads(path.read_text(encoding="utf-8"))
        if metadata.get("format") != FORMAT:
            raise CheckpointError(f"{path} is not the metadata of a FAMETextPretrain checkpoint")
        return metadata
    return _open(path)[1]


def load_text_checkpoint(path):
    """``(tensors, metadata)`` of a checkpoint; tensors on CPU."""
    handle, metadata = _open(path)
    tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    if metadata.get("version", 0) > VERSION:
        raise CheckpointError(f"{path} has format version {metadata['version']}; this recbole_fame reads up to {VERSION}: upgrade it")
    return tensors, metadata
