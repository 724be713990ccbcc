"""The plugin's defaults: where its yaml files are, and reading a setting with its one default.

``properties/`` holds ``overall.yaml`` (the protocol and the run-level defaults, ``train_mode`` among them),
``model/<Model>.yaml`` and ``dataset/<name>.yaml``. A model reads its own settings with
:func:`model_settings`, which falls back to its yaml, so RecBole's plain ``Config`` (which does not read the
plugin's yaml) still gets every default.
"""

import os
import re

import yaml

from recbole_fame.errors import require

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def properties_dir():
    """The folder of the plugin's yaml files.

    An installed package carries them as ``recbole_fame/properties``; a source checkout keeps them in the
    top-level ``properties/`` folder beside the package.
    """
    for candidate in (
        os.path.join(_PACKAGE_DIR, "properties"),
        os.path.join(os.path.dirname(_PACKAGE_DIR), "properties"),
    ):
        if os.path.isfile(os.path.join(candidate, "overall.yaml")):
            return candidate
    raise FileNotFoundError(
        f"recbole_fame's properties folder is missing (looked in {_PACKAGE_DIR}/properties and beside "
        "the package): reinstall the package with `pip install .`"
    )


def property_file(kind, name):
    """Path of ``properties/<kind>/<name>.yaml`` (``kind`` in model, dataset), or None."""
    path = os.path.join(properties_dir(), kind, f"{name}.yaml")
    return path if os.path.isfile(path) else None


class _YamlLoader(yaml.SafeLoader):
    """Safe yaml loading that, like RecBole's Config, reads ``1e-12`` as a float (YAML 1.1 would not)."""


_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)$"),
    list("-+0123456789"),
)


def load_yaml(path):
    with open(path, "r", encoding="utf-8") as f:
        return yaml.load(f, Loader=_YamlLoader) or {}


def model_settings(config, model_name, keys):
    """Every setting a plugin model reads, read once: ``keys`` from ``config``, falling back to the defaults in
    ``properties/model/<model_name>.yaml``, and the run's settings a model needs (:func:`run_settings`).

    The yaml is the one place a default lives, so a plain RecBole ``Config(model=FAME, ...)``, which does not
    know the plugin's yaml, still gets every setting.
    """
    defaults = load_yaml(property_file("model", model_name))
    settings = {}
    for key in keys:
        value = config[key] if key in config else None
        if value is None:
            value = defaults.get(key)
        settings[key] = value
    settings.update(run_settings(config))
    return settings


def run_settings(config):
    """The run's settings a model reads: the training mode, ``train_exclude_history``, the training batch and the
    processes it is split over, the label field, the optimizer and the device."""
    return {
        "train_mode": train_mode(config),
        "train_exclude_history": bool(config["train_exclude_history"]),
        "train_batch_size": config["train_batch_size"],
        "processes": 1 if config["single_spec"] is not False else (config["world_size"] or 1),
        "LABEL_FIELD": config["LABEL_FIELD"] or "label",
        "learner": config["learner"],
        "device": config["device"] or "cpu",
    }


def train_mode(config):
    """The run's ``train_mode``, ``prefix`` or ``sequence``: the one reader of the setting, its one default
    (``properties/overall.yaml``, also when a plain RecBole ``Config`` lacks it) and its one check."""
    value = config["train_mode"] if "train_mode" in config else None
    if value is None:
        value = load_yaml(os.path.join(properties_dir(), "overall.yaml")).get("train_mode")
    require(value in TRAIN_MODES, f"train_mode must be 'prefix' or 'sequence', got {value!r}")
    return value


TRAIN_MODES = ("prefix", "sequence")
