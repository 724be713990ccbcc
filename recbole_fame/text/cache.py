"""Item text embeddings cached on disk.

The cache file is ``<cache_dir>/text-<key>.safetensors`` with one tensor ``embedding`` [N, D], where the key
is a SHA-256 of the encoder's identity (its files, pooling and ``max_length``; see
:func:`recbole_fame.text.encoder.encoder_identity`) and of the exact texts in order. It is written to a
temporary file in the same folder and moved into place with ``os.replace``, so a crashed or concurrent run
never leaves a half-written cache; it is read with safetensors (no pickle). A file that cannot be read or
has the wrong shape is ignored and rewritten. A cache that cannot be written (folder not writable, disk
full) is only a warning naming the file and the fix: the run goes on with the embeddings it has computed,
and no temporary file is left behind.
"""

import functools
import hashlib
import json
from logging import getLogger
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save

from recbole_fame.errors import output_error
from recbole_fame.storage.files import atomic_write as files_atomic_write
from recbole_fame.storage.files import write_bytes


def cache_key(encoder_identity, texts):
    digest = hashlib.sha256(encoder_identity.encode())
    digest.update(json.dumps(list(texts), ensure_ascii=False).encode())
    return digest.hexdigest()


def atomic_write(files):
    """Write ``files``, a list of ``(path, bytes)``, so that none is left half-written
    (:func:`recbole_fame.storage.files.atomic_write`: temporary files moved into place when all are complete; on an
    OSError, folder not writable or disk full, nothing is left behind and the error is raised)."""
    files_atomic_write([(path, functools.partial(_write_data, data=data)) for path, data in files])


def _write_data(tmp, data):
    write_bytes(tmp, data)


def tensor_bytes(tensors, metadata=None):
    """The ``.safetensors`` file content of ``tensors`` (a dict of tensors) with header ``metadata``."""
    return save({k: v.contiguous() for k, v in tensors.items()}, metadata=metadata)


def atomic_save_tensors(tensors, path, metadata=None):
    """Write ``tensors`` to the ``.safetensors`` file ``path`` with :func:`atomic_write`."""
    atomic_write([(path, tensor_bytes(tensors, metadata))])


def atomic_write_text(text, path):
    """Write ``text`` (UTF-8) to ``path`` with :func:`atomic_write`."""
    atomic_write([(path, text.encode("utf-8"))])


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
    try:
        atomic_save_tensors({"embedding": embedding}, path, metadata={"encoder": encoder.name, "texts": str(len(texts))})
    except OSError as error:  # a cache only saves time: the run goes on with what it has just computed
        problem = output_error("the text embedding cache", path, error, "set text_cache_dir to another folder")
        logger.warning(f"{problem} The run goes on with the embeddings just computed; the next run computes "
                       "them again.")
        return embedding, path, False
    logger.info(f"Item text embeddings computed and cached in {path}")
    return embedding, path, False
