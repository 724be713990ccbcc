"""What a run of ``benchmarks.compare`` was: its resolved settings, read the same way by every table.

A run's JSON holds ``settings`` (the command line's overrides) and, since the protocol could also come from a
dataset yaml or ``--config_files`` (every ``amazon-*`` yaml sets ``eval_exclude_history: True``), ``resolved``:
every setting of the run's Config, after RecBole's, the plugin's and the dataset's yaml, the config files and
the overrides, as the run read them. Tables read the protocol, the training mode and the model's shape from
``resolved`` (:func:`resolved_settings`); for a JSON written before it existed, the Config is rebuilt from the
JSON's model, dataset, config files and overrides (no data is read), which gives the same settings as long as
the yaml files have not changed since.
"""

import json
import math

# settings that name files or places, not what was trained: left out when a Config is rebuilt for an old JSON
# (the files may be gone; they do not decide the protocol or the model's shape)
_PLACES = ("pretrained_path", "text_pretrained_path", "checkpoint_dir", "resume_from", "data_path")

# the resolved settings a table shows beside each run (besides the protocol)
SHAPE = ("train_mode", "n_heads", "num_experts", "hidden_size", "n_layers", "stopping_step", "learning_rate",
         "train_batch_size", "train_batch_unit", "MAX_ITEM_LIST_LENGTH")


def _plain(value):
    """A JSON-safe copy of a setting's value, or ``None`` when it has none (devices, classes, enums)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        items = [_plain(v) for v in value]
        return items if all(v is not None or o is None for v, o in zip(items, value)) else None
    if isinstance(value, dict):
        items = {str(k): _plain(v) for k, v in value.items()}
        return items if all(items[str(k)] is not None or v is None for k, v in value.items()) else None
    return None


def config_settings(config):
    """Every setting of a built Config whose value is plain data (numbers, strings, lists, dicts), sorted."""
    settings = {}
    for key, value in config.final_config_dict.items():
        plain = _plain(value)
        if plain is not None or value is None:
            settings[key] = plain
    return dict(sorted(settings.items()))


def resolve(model, dataset, config_files, overrides):
    """The resolved settings a run of ``model`` on ``dataset`` with these config files and overrides reads."""
    from recbole_fame.runner.pipeline import make_config

    config = make_config(model=model, dataset=dataset, config_file_list=config_files or None,
                         config_dict=dict(overrides))
    return config_settings(config)


def resolved_settings(run):
    """The run's resolved settings: recorded in its JSON, or rebuilt from what the JSON holds (older runs)."""
    if "resolved" in run:
        return run["resolved"]
    overrides = {k: v for k, v in run["settings"].items() if k not in _PLACES}
    resolved = resolve(run["model"], run["dataset"], run.get("config_files"), overrides)
    run["resolved"] = resolved  # once per loaded run
    run["resolved_rebuilt"] = True
    return resolved


def setting_text(run, key):
    """A resolved setting as a table shows it; ``*`` marks a value rebuilt from today's yaml files and defaults
    (an older JSON that recorded only its overrides: a default changed since shows today's value, not the run's)."""
    value = str(resolved_settings(run).get(key))
    return value + "*" if run.get("resolved_rebuilt") and key not in run["settings"] else value


REBUILT_NOTE = ("* not recorded by the run: rebuilt from its overrides with today's yaml files and defaults, which "
                "may differ from what it ran with (e.g. runs from before train_batch_unit (2026-12-01) batched "
                "sequences, where today's default is targets)")


def hides_history(run):
    """Whether the run was trained and selected under the hidden-history protocol (``eval_exclude_history``)."""
    return bool(resolved_settings(run).get("eval_exclude_history"))


def trained_under(run):
    """``'hidden'`` (the S3-Rec lineage's protocol) or ``'kept'`` (RecBole's), as the run was trained."""
    return "hidden" if hides_history(run) else "kept"


def load_run(run_file):
    with open(run_file) as f:
        return json.load(f)
