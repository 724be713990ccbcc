"""Loading RecBole checkpoints without running code from files of unknown origin.

RecBole writes checkpoints with ``torch.save({"config": Config, "state_dict": ...})``: a pickle that can
only be read by full unpickling, which can execute arbitrary code. The plugin therefore unpickles such a
file only when it lies inside the run's own ``checkpoint_dir`` (RecBole wrote it there), or when the user
opts in with ``trust_checkpoint: True``. Everything else is refused with a message that says why, before
any byte of it is unpickled. A file that cannot be read as a checkpoint (truncated by a full disk or a killed
writer, or not a checkpoint at all) is one :class:`~recbole_fame.errors.CheckpointError` naming the file.
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
