"""Item text embeddings cached on disk.

The cache file is ``<cache_dir>/text-<key>.safetensors`` with one tensor ``embedding`` [N, D], where the key
is a SHA-256 of the encoder's identity (its files, pooling and ``max_length``; see
:func:`recbole_fame.text.encoder.encoder_identity`) and of the exact texts in order. It is written to a
temporary file in the same folder and moved into place with ``os.replace``, so a crashed or concurrent run
never leaves a half-written cache; it is read with safetensors (no pickle). A file that cannot be read or
has the wrong shape is ignored and rewritten.
"""

import hashlib
import json
import os
import tempfile
from logging import getLogger
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file


def cache_key(encoder_identity, texts):
    digest = hashlib.sha256(encoder_identity.encode())
    digest.update(json.dumps(list(texts), ensure_ascii=False).encode())
    return digest.hexdigest()


def atomic_save_tensors(tensors, path, metadata=None):
    """``safetensors`` ``save_file`` to a temporary file beside ``path``, then ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        save_file({k: v.contiguous() for k, v in tensors.items()}, tmp, metadata=metadata)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_write_text(text, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def cached_text_embeddings(texts, encoder, cache_dir):
    """Embeddings [len(texts), D] of ``texts`` by ``encoder``, from ``cache_dir`` when already computed.

    Returns ``(embeddings, path, from_cache)``.
    """
    logger = getLogger()
    path = Path(cache_dir) / f"text-{cache_key(encoder.identity, texts)[:40]}.safetensors"
    if path.is_file():
        try:
            embedding = load_file(str(path))["embedding"]
            if embedding.dim() == 2 and embedding.shape[0] == len(texts):
                logger.info(f"Item text embeddings loaded from cache {path} ({len(texts)} texts, {encoder.name})")
                return embedding, path, True
            logger.warning(f"Ignoring text cache {path}: shape {tuple(embedding.shape)} does not fit {len(texts)} texts")
        except (OSError, ValueError, KeyError, SafetensorError) as error:  # unreadable or truncated: encode again
            logger.warning(f"Ignoring unreadable text cache {path}: {error}")
    embedding = encoder.encode(texts)
    atomic_save_tensors({"embedding": embedding}, path, metadata={"encoder": encoder.name, "texts": str(len(texts))})
    logger.info(f"Item text embeddings computed and cached in {path}")
    return embedding, path, False
