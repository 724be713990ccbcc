"""RecBole params files and ``--key=value`` settings for :mod:`recbole_fame.tuning`: the search space, checked.

A params file has one ``name type values`` line per parameter, with the types ``choice [a,b,...]``,
``uniform low,high``, ``quniform low,high,q`` and ``loguniform low,high`` (exponents, as in RecBole).
"""

import ast
import math
import os
import sys

from recbole_fame.storage.checkpoint import TRUST_SETTINGS
from recbole_fame.errors import ConfigurationError

PARAM_TYPES = ("choice", "uniform", "quniform", "loguniform")


def _parse_values(name, kind, text, where):
    """The values of one params-file line, checked."""
    try:
        if kind == "choice":
            values = ast.literal_eval(text)
            if not isinstance(values, (list, tuple)) or not values:
                raise ValueError("not a non-empty list")
            return list(values)
        values = [float(v) for v in text.split(",")]
    except (ValueError, SyntaxError) as error:
        raise ConfigurationError(
            f"{where}: cannot read the values of {name!r} ({error}). Write e.g. `{name} choice [1,2,4]`, "
            f"`{name} uniform 0.1,0.5`, `{name} quniform 1,10,1` or `{name} loguniform -8,0`."
        ) from error
    expected = 3 if kind == "quniform" else 2
    if len(values) != expected:
        raise ConfigurationError(f"{where}: {kind} needs {expected} comma-separated numbers, got {text!r}")
    return values


def read_params_file(path):
    """The search space of a RecBole params file, as ``{name: (type, values)}`` in file order."""
    if not os.path.isfile(path):
        raise ConfigurationError(f"params file not found: {path}. Pass --params_file=properties/hyper/FAME.hyper "
                                 "or a file of `name type values` lines.")
    space = {}
    with open(path, "r", encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            parts = line.strip().split()
            if not parts:
                continue
            where = f"{path}, line {number}"
            if parts[0].startswith("#"):
                raise ConfigurationError(f"{where}: RecBole params files have no comments; remove the line.")
            if len(parts) < 3 or parts[1] not in PARAM_TYPES:
                raise ConfigurationError(
                    f"{where}: expected `name type values` with type one of {', '.join(PARAM_TYPES)}, "
                    f"got {line.strip()!r}"
                )
            name, kind = parts[0], parts[1]
            if name in TRUST_SETTINGS:
                raise ConfigurationError(
                    f"{where}: {name} cannot be tuned: whether, and from where, files are unpickled is set on the "
                    f"command line only (--{name}=...), never by a file. Remove the line."
                )
            space[name] = (kind, _parse_values(name, kind, "".join(parts[2:]), where))
    if not space:
        raise ConfigurationError(f"{path} defines no parameter: write one `name type values` line per parameter.")
    return space


def grid_size(space):
    """Number of points of an all-``choice`` space (the trials of an exhaustive search)."""
    not_choice = [name for name, (kind, _) in space.items() if kind != "choice"]
    if not_choice:
        raise ConfigurationError(
            f"--algo=exhaustive needs every parameter as `choice`; {', '.join(not_choice)} is not. "
            "Use --algo=random or --algo=bayes, or turn them into choice lists."
        )
    return math.prod(len(values) for _, values in space.values())


def parse_setting(text):
    """A ``--key=value`` value as RecBole reads it: a Python literal where possible, else the string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def extra_settings(args):
    """``--key=value`` arguments the runner does not know, as a settings dict (e.g. ``--epochs=15``)."""
    settings = {}
    for arg in args:
        if not arg.startswith("--") or "=" not in arg:
            raise ConfigurationError(f"unrecognised argument {arg!r}: settings are given as --key=value")
        key, value = arg[2:].split("=", 1)
        settings[key] = parse_setting(value)
    return settings


def check_params_against_model(space, fixed, config_file_list):
    """Build the run's configuration once (a bad setting fails here, before any trial) and warn about tuned
    names no configuration file defines (often a typo, which would tune nothing)."""
    from recbole_fame.runner.pipeline import make_config

    config = make_config(config_dict=dict(fixed, state="ERROR"), config_file_list=config_file_list)
    unknown = [name for name in space if name not in config.final_config_dict]
    if unknown:
        print(
            f"warning: the params file tunes {', '.join(unknown)}, which no yaml of {config['model']} defines; "
            "check the spelling against the model's yaml (e.g. properties/model/FAME.yaml).",
            file=sys.stderr,
        )
    return config
