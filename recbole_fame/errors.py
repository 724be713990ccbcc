"""Errors the plugin raises for bad input.

Each carries a message that names the problem and the fix; the runner prints it without a
traceback and exits with status 2.
"""


class RecBoleFameError(Exception):
    """Base class of every user-facing error of recbole_fame."""


class ConfigurationError(RecBoleFameError, ValueError):
    """A setting is missing, out of range or of the wrong type."""


class DatasetNotFoundError(RecBoleFameError, FileNotFoundError):
    """The atomic files of a dataset are not where the configuration says."""


class CheckpointError(RecBoleFameError, ValueError):
    """A checkpoint does not fit the model or dataset it is loaded into, or may not be trusted."""


class UnknownModelError(RecBoleFameError, ValueError):
    """Neither the plugin nor RecBole defines a model of that name."""


class TrainingDivergedError(RecBoleFameError, ValueError):
    """The training loss became NaN or infinite."""
