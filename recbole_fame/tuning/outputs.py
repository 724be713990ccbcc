"""The outputs of a tuning run: one JSON-ready record per trial, the JSON document, RecBole's text export."""

import json
import os


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


def write_json(path, trials, header):
    """Write :func:`summary` to ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(summary(trials, header), f, indent=1)


def write_text(path, trials):
    """RecBole-style text export (parameters, valid and test results per trial)."""
    from recbole.utils.utils import dict2str

    with open(path, "w", encoding="utf-8") as f:
        for trial in trials:
            f.write(", ".join(f"{k}:{v}" for k, v in trial["params"].items()) + "\n")
            f.write("Valid result:\n" + dict2str(trial["best_valid_result"]) + "\n")
            f.write("Test result:\n" + dict2str(trial["test_result"]) + "\n\n")
