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
    return handle, parse_metadata(path, header["recbole_fame"])


def parse_metadata(path, text):
    """The checked metadata dict of ``path`` from its JSON ``text``: one :class:`CheckpointError` naming the file
    and the field for JSON that does not parse, is not an object, or lacks or mistypes what the loaders read."""
    try:
        metadata = json.loads(text)
    except ValueError as error:  # JSONDecodeError
        raise CheckpointError(f"{path}: its metadata is not valid JSON ({error}); the file is corrupt or was not "
                              "written by FAMETextPretrain.") from error
    if not isinstance(metadata, dict):
        raise CheckpointError(f"{path}: its metadata must be a JSON object, it is a JSON {type(metadata).__name__}.")
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not the metadata of a FAMETextPretrain checkpoint (format is "
                              f"{metadata.get('format')!r}, expected {FORMAT!r})")
    version = metadata.get("version")
    if not (isinstance(version, int) and not isinstance(version, bool) and version >= 1):
        raise CheckpointError(f"{path}: its metadata's version must be an integer >= 1, it is {version!r}.")
    if version > VERSION:
        raise CheckpointError(f"{path} has format version {version}; this recbole_fame reads up to {VERSION}: upgrade it")
    for key in ("n_items", "hidden_size", "n_heads"):
        value = metadata.get(key)
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            raise CheckpointError(f"{path}: its metadata's {key} must be an integer >= 1, it is {value!r}.")
    encoder = metadata.get("encoder")
    if not (isinstance(encoder, dict) and isinstance(encoder.get("name"), str)):
        raise CheckpointError(f"{path}: its metadata lacks the encoder (an object with a name), it has {encoder!r}.")
    if not isinstance(metadata.get("dataset"), str):
        raise CheckpointError(f"{path}: its metadata's dataset must be a name, it is {metadata.get('dataset')!r}.")
    if not isinstance(metadata.get("item_tokens", []), list):
        raise CheckpointError(f"{path}: its metadata's item_tokens must be a list of tokens.")
    if metadata.get("report") is not None and not isinstance(metadata["report"], dict):
        raise CheckpointError(f"{path}: its metadata's report must be a JSON object.")
    return metadata


def read_text_metadata(path):
    """The JSON metadata of a checkpoint (the ``.safetensors`` file, or its ``.json`` copy)."""
    path = Path(path)
    if path.suffix == ".json":
        if not path.is_file():
            raise CheckpointError(f"Text pre-training metadata not found: {path}")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CheckpointError(f"Cannot read the text pre-training metadata {path}: {error}") from error
        return parse_metadata(path, text)
    return _open(path)[1]


def load_text_checkpoint(path):
    """``(tensors, metadata)`` of a checkpoint; tensors on CPU."""
    handle, metadata = _open(path)
    try:
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"Cannot read the tensors of {path}: the file is truncated or corrupt ({error}).") from error
    return tensors, metadata
