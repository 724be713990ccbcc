"""recbole_fame: the FAME sequential recommender (WSDM 2025) as a RecBole plugin.

Importing the package adds back the numpy aliases RecBole 1.2.1 needs and changes nothing else: no class or
module attribute of RecBole, no torch flag (see :mod:`recbole_fame.compat`). The plugin's fixes of RecBole's
trainer live in its trainer classes (``get_trainer``, :mod:`recbole_fame.trainer`); ``patch_recbole()`` applies
them to RecBole's own ``Trainer`` for pipelines that keep it.

The names below are imported when first used, so that ``import recbole_fame`` does not import RecBole's
sequential models (whose ``sine.py`` switches autograd's anomaly detection on for the whole process).
"""

import importlib

from recbole_fame.compat import add_numpy_aliases, patch_recbole

add_numpy_aliases()

__version__ = "0.1.0"

_EXPORTS = {
    "Config": "recbole_fame.config",
    "FAME": "recbole_fame.model.sequential_recommender.fame",
    "FAMETextPretrain": "recbole_fame.model.sequential_recommender.fametextpretrain",
    "SASRecSeq": "recbole_fame.model.sequential_recommender.sasrecseq",
    "Trainer": "recbole_fame.trainer.trainer",
    "create_dataset": "recbole_fame.runner.pipeline",
    "data_preparation": "recbole_fame.runner.pipeline",
    "get_model": "recbole_fame.runner.registry",
    "get_trainer": "recbole_fame.runner.registry",
    "load_data_and_model": "recbole_fame.quick_start",
    "objective_function": "recbole_fame.quick_start",
    "recommendations": "recbole_fame.recommend",
    "run": "recbole_fame.quick_start",
    "run_recbole_fame": "recbole_fame.quick_start",
}

__all__ = sorted([*_EXPORTS, "patch_recbole"])


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
