"""Loading RecBole checkpoints without running code from files of unknown origin.

RecBole writes checkpoints with ``torch.save({"config": Config, "state_dict": ...})``: a pickle that can
only be read by full unpickling, which can execute arbitrary code. The plugin therefore unpickles such a
file only when it lies inside the run's own ``checkpoint_dir`` (RecBole wrote it there), or when the user
opts in with ``trust_checkpoint: True``. Everything else is refused with a message that says why.
"""

import os

import torch

from recbole_fame.errors import CheckpointError


def _inside(path, folder):
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([path, folder]) == folder


def load_recbole_checkpoint(path, config, map_location="cpu"):
    """Unpickle a RecBole checkpoint after checking that it may be trusted.

    Args:
        path (str): the checkpoint file.
        config (Config): the run's configuration (``checkpoint_dir`` and ``trust_checkpoint`` are read).
        map_location: passed to :func:`torch.load`.
    """
    path = str(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"Checkpoint file not found: {path}")
    checkpoint_dir = config["checkpoint_dir"] or "saved"
    if not (config["trust_checkpoint"] or _inside(path, checkpoint_dir)):
        raise CheckpointError(
            f"Refusing to unpickle {path}: RecBole checkpoints are Python pickles, which can run code "
            f"when loaded, and this file is not in the run's checkpoint_dir ({checkpoint_dir}). "
            "Move it there, or opt in if you trust where it came from: trust_checkpoint: True in the "
            "configuration (--trust_checkpoint=True for run_recbole_fame.py, --trust_checkpoint for explain)."
        )
    return torch.load(path, map_location=map_location, weights_only=False)
