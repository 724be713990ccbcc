"""Errors the plugin raises for bad input or an output it cannot write.

Each carries a message that names the problem and the fix; the runner prints it without a
traceback and exits with status 2.
"""

import errno
import os
from pathlib import Path

#: errno values of a folder that may not be written to, and of a full disk (or quota).
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}
_FULL = {errno.ENOSPC, errno.EDQUOT}
#: errno values of a path whose folder (or one above it) is a file
_NOT_A_FOLDER = {errno.ENOTDIR, errno.EEXIST}


class RecBoleFameError(Exception):
    """Base class of every user-facing error of recbole_fame."""


class ConfigurationError(RecBoleFameError, ValueError):
    """A setting is missing, out of range or of the wrong type."""


class DatasetNotFoundError(RecBoleFameError, FileNotFoundError):
    """The atomic files of a dataset are not where the configuration says."""


class DatasetFormatError(RecBoleFameError, ValueError):
    """A dataset file is there but not in the form RecBole reads (e.g. an id column not typed token)."""


class CheckpointError(RecBoleFameError, ValueError):
    """A checkpoint does not fit the model or dataset it is loaded into, or may not be trusted."""


class UnknownModelError(RecBoleFameError, ValueError):
    """Neither the plugin nor RecBole defines a model of that name."""


class MissingPackageError(RecBoleFameError, ImportError):
    """A model needs a package that is not installed (RecBole does not declare it)."""


class TrainingDivergedError(RecBoleFameError, ValueError):
    """The training loss became NaN or infinite."""


class TrainingInterrupted(KeyboardInterrupt):
    """Training was interrupted (Ctrl-C); the message says at which epoch and how to resume. A KeyboardInterrupt, so
    that code catching those sees it as before; the runner prints the message alone and exits with status 130."""


class OutputError(RecBoleFameError, OSError):
    """A result file cannot be written: its folder is not writable, or the disk is full. No partial file of
    it is left behind (see :func:`output_error`)."""


def output_error(what, path, error, fix):
    """The :class:`OutputError` for ``path`` (``what``: e.g. "the text embedding cache") that failed with the
    OSError ``error``: it names the file, the folder at fault, the reason and the fix (``fix``: how to pick
    another folder, e.g. "pass --out=<another folder>")."""
    path = Path(path)
    reason = (error.strerror or os.strerror(error.errno)) if error.errno else str(error)
    # the folder at fault: the one a file or folder could not be created in (error.filename), else path's
    folder = Path(error.filename).parent if error.errno in _DENIED and error.filename else path.parent
    if error.errno in _DENIED:
        why, remedy = f"the folder {folder} is not writable ({reason})", f"make {folder} writable or {fix}"
    elif error.errno in _FULL:
        why, remedy = f"the disk holding {folder} is full ({reason})", f"free some disk space or {fix}"
    elif error.errno in _NOT_A_FOLDER:
        why, remedy = f"a folder above it is a file ({reason})", f"move that file or {fix}"
    else:
        why, remedy = reason, fix
    return OutputError(f"Cannot write {what} {path}: {why}. Nothing was left half-written; {remedy}.")


def require(condition, message):
    """Raise :class:`ConfigurationError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise ConfigurationError(message)


def is_int(value):
    """An integer setting (``True`` and ``False`` are not counted as 1 and 0)."""
    return isinstance(value, int) and not isinstance(value, bool)
