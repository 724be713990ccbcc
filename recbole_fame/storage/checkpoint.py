"""Loading RecBole checkpoints without running code from files of unknown origin.

RecBole writes checkpoints with ``torch.save({"config": Config, "state_dict": ...})``: a pickle that can
only be read by full unpickling, which can execute arbitrary code. The plugin therefore unpickles such a
file only when it lies inside the run's own ``checkpoint_dir`` (RecBole wrote it there), when the run wrote it
itself, or when the user opts in with ``trust_checkpoint: True``. Everything else is refused with a message
that says why, before any byte of it is unpickled. A file that cannot be read as a checkpoint (truncated by a
full disk or a killed writer, or not a checkpoint at all) is one :class:`~recbole_fame.errors.CheckpointError`
naming the file.

The opt-in and the boundary are taken from the command line or from Python (``config_dict``), never from a
config file alone: a shared yaml is data, and must not decide what is unpickled (:func:`trust_rule`). A file
may still set ``checkpoint_dir``, the folder the run writes to; pickles are then read only from RecBole's
default ``saved/`` (and the run's own checkpoints) until the command line confirms the folder.
"""

import os
from collections import namedtuple

import torch

from recbole_fame.errors import CheckpointError, ConfigurationError

#: RecBole's own checkpoint_dir (its overall.yaml): the trust boundary when no trusted source names another
DEFAULT_CHECKPOINT_DIR = "saved"

#: The settings that decide what may be unpickled: read from the command line or Python only
TRUST_SETTINGS = ("trust_checkpoint", "checkpoint_dir")

TrustRule = namedtuple("TrustRule", "anywhere folder note")
TrustRule.__doc__ = """What a run may unpickle: any file (``anywhere``), or the files inside ``folder``; ``note``
says why ``folder`` is not the run's checkpoint_dir ("" when it is)."""


def is_inside(path, folder):
    """Whether ``path`` lies in ``folder`` (links resolved)."""
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([path, folder]) == folder


def setting(config, key):
    """``config[key]`` of a Config or a plain dict of settings, None when it has no such setting."""
    if isinstance(config, dict):
        return config.get(key)
    return config[key] if key in config else None


def set_by_a_file_only(sources, key):
    """The config file that alone gave ``key`` (neither the command line nor ``config_dict`` did), or None.

    ``sources`` is a RecBole ``Config`` (it keeps each source's settings apart: ``file_config_dict``,
    ``variable_config_dict``, ``cmd_config_dict``); a plain dict of settings comes from Python."""
    files = getattr(sources, "file_config_dict", None)
    if not isinstance(files, dict) or key not in files:
        return None
    if any(key in (getattr(sources, name, None) or {}) for name in ("variable_config_dict", "cmd_config_dict")):
        return None
    return (getattr(sources, "setting_files", None) or {}).get(key, "a config file")


def trust_rule(config, sources=None):
    """The :class:`TrustRule` of ``config`` (a Config or a dict of settings; ``sources``: the Config that tells
    where each setting came from, ``config`` itself by default)."""
    sources = config if sources is None else sources
    anywhere = setting(config, "trust_checkpoint") is True and not set_by_a_file_only(sources, "trust_checkpoint")
    checkpoint_dir = setting(config, "checkpoint_dir") or DEFAULT_CHECKPOINT_DIR
    file = set_by_a_file_only(sources, "checkpoint_dir")
    if file is None or is_inside(checkpoint_dir, DEFAULT_CHECKPOINT_DIR):
        return TrustRule(anywhere, checkpoint_dir, "")
    return TrustRule(anywhere, DEFAULT_CHECKPOINT_DIR, (
        f"; checkpoint_dir {checkpoint_dir} is set by {file} alone, and a config file says where a run writes, not "
        f"what it may unpickle: confirm the folder on the command line with --checkpoint_dir={checkpoint_dir}"
    ))


def refusal(subject, reason, rule):
    """The message refusing ``subject`` ("to unpickle <file>", "<setting>=<file>") for ``reason`` under ``rule``."""
    return (
        f"Refusing {subject}: {reason}; the file is not in the run's checkpoint_dir ({rule.folder}){rule.note}. "
        "Nothing was read. Move it there, or opt in if you trust where it came from: --trust_checkpoint=True on the "
        "command line (trust_checkpoint: True in config_dict; a config file cannot opt in; --trust_checkpoint "
        "for explain)."
    )


def load_recbole_checkpoint(path, config, map_location="cpu", written_by_this_run=False):
    """Unpickle a RecBole checkpoint after checking that it may be trusted.

    Args:
        path (str): the checkpoint file.
        config (Config): the run's configuration (``checkpoint_dir`` and ``trust_checkpoint``, and where they
            came from: :func:`trust_rule`).
        map_location: passed to :func:`torch.load`.
        written_by_this_run (bool): the run wrote ``path`` itself (its best checkpoint).
    """
    path = str(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"Checkpoint file not found: {path}")
    rule = trust_rule(config)
    if not (rule.anywhere or written_by_this_run or is_inside(path, rule.folder)):
        raise CheckpointError(refusal(f"to unpickle {path}",
                                      "RecBole checkpoints are Python pickles, which can run code when loaded", rule))
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=False)
    except CheckpointError:
        raise
    except Exception as error:  # truncated zip, bad pickle, missing module, ...: many possible errors
        size = os.path.getsize(path)
        raise CheckpointError(
            f"Cannot read the checkpoint {path} ({size} bytes): it is truncated or corrupt, or not a RecBole "
            f"checkpoint ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}). A run that "
            "was killed or ran out of disk while writing it leaves such a file: use another checkpoint, or train again."
        ) from error
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise CheckpointError(
            f"{path} is not a RecBole checkpoint (a dict with 'config' and 'state_dict'; it holds "
            f"{type(checkpoint).__name__}). Pass the .pth file that run_recbole_fame.py saved in checkpoint_dir."
        )
    return checkpoint


#: Settings naming a file RecBole unpickles (pickle.load) or torch.loads, by the models that read them.
PICKLED_FILE_SETTINGS = {
    "dataset_save_path": "RecBole's create_dataset unpickles it",
    "dataloaders_save_path": "RecBole's data_preparation unpickles it",
    "pre_model_path": "RecBole's S3Rec, RaCT and ConvNCF torch.load it",
    "pretrain_path": "RecBole's NAIS torch.loads it",
    "mf_pretrain_path": "RecBole's NeuMF torch.loads it",
    "mlp_pretrain_path": "RecBole's NeuMF torch.loads it",
    "warm_up": "RecBole's KD_DAGFM torch.loads it",
}


def recbole_default_pickles(config):
    """The files RecBole unpickles from ``checkpoint_dir`` when they exist, with no setting naming them: the saved
    dataset (``<dataset>-<dataset class>.pth``, read by ``create_dataset``) and dataloaders
    (``<dataset>-for-<model>-dataloader.pth``, read by ``data_preparation``)."""
    folder = setting(config, "checkpoint_dir") or "saved"
    dataset, model = setting(config, "dataset"), setting(config, "model")
    if not (isinstance(folder, (str, os.PathLike)) and isinstance(dataset, str) and isinstance(model, str)):
        return []
    classes = (f"{model}Dataset", "Dataset", "SequentialDataset", "KnowledgeBasedDataset")
    names = [f"{dataset}-{name}.pth" for name in classes] + [f"{dataset}-for-{model}-dataloader.pth"]
    return [path for path in (os.path.join(folder, name) for name in names) if os.path.isfile(path)]


def check_pickled_files(config, sources=None):
    """Refuse a setting, or a file of RecBole's in ``checkpoint_dir``, that would make RecBole unpickle a file from
    outside the trust boundary without the opt-in (``config``: a Config or a plain dict of settings; ``sources``:
    the Config that tells where each setting came from, :func:`recbole_fame.storage.checkpoint.trust_rule`)."""
    rule = trust_rule(config, sources)
    if rule.anywhere:
        return
    for key, why in PICKLED_FILE_SETTINGS.items():
        path = setting(config, key)
        if not path or not isinstance(path, (str, os.PathLike)):
            continue
        if not is_inside(path, rule.folder):
            raise ConfigurationError(refusal(f"{key}={path}", f"{why}, and a Python pickle can run code when it is "
                                             "loaded", rule))
    for path in recbole_default_pickles(config):
        if not is_inside(path, rule.folder):
            raise ConfigurationError(refusal(path, "RecBole unpickles this file of checkpoint_dir when it exists, and "
                                             "a Python pickle can run code when it is loaded", rule))
