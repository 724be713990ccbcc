"""The outputs of a tuning run: one JSON-ready record per trial, the JSON document, RecBole's text export.

Both files are checked writable before the first trial (:func:`check_output_files`) and rewritten after every
trial through :func:`recbole_fame.storage.files.atomic_write`; a file that cannot be written is one
:class:`~recbole_fame.errors.OutputError` naming it, and the previous version of it is kept.
"""

import json
import os

from recbole_fame.errors import output_error
from recbole_fame.storage.files import atomic_write, check_writable_folder

OUTPUT_FIX = "pass --output_file=<a file in a folder you can write>"


def plain(value):
    """JSON-ready copy of a result value (numpy scalars and OrderedDicts included)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value


def trial_record(params, result):
    """One trial of the JSON output."""
    return {
        "params": plain(params),
        "best_valid_score": plain(result["best_valid_score"]),
        "best_valid_result": plain(result["best_valid_result"]),
        "test_result": plain(result["test_result"]),
    }

def output_paths(output_file):
    """``(text_file, json_file)``: RecBole's text export and the JSON beside it.

    ``x.result`` gives ``x.result`` and ``x.json``; ``x.json`` gives ``x.txt`` and ``x.json``.
    """
    stem, extension = os.path.splitext(output_file)
    if extension == ".json":
        return stem + ".txt", output_file
    return output_file, stem + ".json"


def summary(trials, header):
    """The JSON document: the run's description, the best trial by validation score, every trial."""
    bigger = header.get("valid_metric_bigger", True)
    best = None
    if trials:
        best = (max if bigger else min)(trials, key=lambda t: t["best_valid_score"])
    return dict(header, best_params=best["params"] if best else None, trials=trials)


def check_output_files(*paths):
    """Before the first trial: the folders of ``paths`` can be created and written to, else one OutputError."""
    for path in paths:
        folder = os.path.dirname(os.path.abspath(path))
        try:
            check_writable_folder(folder)
        except OSError as error:
            raise output_error("the tuning results", path, error, OUTPUT_FIX) from error


def _write_text_file(path, text):
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    try:
        atomic_write([(path, write)])
    except OSError as error:
        raise output_error("the tuning results", path, error, OUTPUT_FIX) from error


def write_json(path, trials, header):
    """Write :func:`summary` to ``path``."""
    _write_text_file(path, json.dumps(summary(trials, header), indent=1))


def write_text(path, trials):
    """RecBole-style text export (parameters, valid and test results per trial)."""
    from recbole.utils.utils import dict2str

    lines = []
    for trial in trials:
        lines.append(", ".join(f"{k}:{v}" for k, v in trial["params"].items()) + "\n")
        lines.append("Valid result:\n" + dict2str(trial["best_valid_result"]) + "\n")
        lines.append("Test result:\n" + dict2str(trial["test_result"]) + "\n\n")
    _write_text_file(path, "".join(lines))
