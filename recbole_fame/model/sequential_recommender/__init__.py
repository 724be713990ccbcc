"""The plugin's models. Each is imported when first asked for (``from ... import FAME``), not with the package:
importing SASRecSeq imports RecBole's sequential models, whose ``sine.py`` switches autograd's anomaly detection
on for the whole process, and importing ``recbole_fame`` changes nothing (:mod:`recbole_fame.compat`)."""

import importlib

_MODULES = {"FAME": "fame", "FAMETextPretrain": "fametextpretrain", "SASRecSeq": "sasrecseq"}

__all__ = list(_MODULES)


def __getattr__(name):
    if name in _MODULES:
        return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_MODULES))
