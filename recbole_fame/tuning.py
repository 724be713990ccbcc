"""Hyper-parameter tuning of plugin and RecBole models, with hyperopt or Ray Tune (``run_hyper.py``).

Both tools train with :func:`recbole_fame.quick_start.objective_function` (one quiet run per trial) and
read the search space from a RecBole params file: one ``name type values`` line per parameter, with the
types ``choice [a,b,...]``, ``uniform low,high``, ``quniform low,high,q`` and ``loguniform low,high`` (the
bounds of ``loguniform`` are exponents: values are ``exp(U(low, high))``, as in RecBole).

* hyperopt goes through RecBole's own :class:`recbole.trainer.HyperTuning`. Its ``exhaustive`` algorithm
  would stop a grid after ``early_stop`` (RecBole's default 10) trials without improvement; here
  ``early_stop`` defaults to the number of trials, so a grid is run in full, or up to ``max_evals`` of its
  points (in hyperopt's random order of distinct points) when that is given.
* Ray Tune is imported only in :func:`tune_with_ray` (``ray`` is never imported by the hyperopt path). On a
  machine without CUDA each trial asks for one CPU, not a GPU (RecBole's script would leave CPU trials
  pending for ever); config files and ``data_path`` are made absolute because Ray runs each trial in its
  own folder.

Each finished trial is appended to a list of ``{"params", "best_valid_score", "best_valid_result",
"test_result"}`` that :func:`write_outputs` saves as JSON next to RecBole's text export.
"""

import ast
import glob
import json
import math
import os
import sys
import time

from recbole_fame.errors import ConfigurationError

PARAM_TYPES = ("choice", "uniform", "quniform", "loguniform")
ALGOS = ("exhaustive", "random", "bayes")
DEFAULT_MAX_EVALS = 100  # trials of random/bayes search when --max_evals is not given
TOOLS = ("Hyperopt", "Ray")


# ----------------------------------------------------------------------------------------------------------
# Params files and settings
# ----------------------------------------------------------------------------------------------------------


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
    from recbole_fame.quick_start import make_config

    config = make_config(config_dict=dict(fixed, state="ERROR"), config_file_list=config_file_list)
    unknown = [name for name in space if name not in config.final_config_dict]
    if unknown:
        print(
            f"warning: the params file tunes {', '.join(unknown)}, which no yaml of {config['model']} defines; "
            "check the spelling against the model's yaml (e.g. properties/model/FAME.yaml).",
            file=sys.stderr,
        )
    return config


# ----------------------------------------------------------------------------------------------------------
# Trials and outputs
# ----------------------------------------------------------------------------------------------------------


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


class RecordingObjective:
    """The objective given to RecBole's ``HyperTuning``: the fixed settings plus the trial's parameters go
    to :func:`objective_function`, and every result is kept (and saved after each trial when ``on_trial``
    is given, so an interrupted search keeps its finished trials)."""

    def __init__(self, fixed, on_trial=None):
        self.fixed = dict(fixed)
        self.trials = []
        self.on_trial = on_trial

    def __call__(self, params, config_file_list=None):
        from recbole_fame.quick_start import objective_function

        result = objective_function(config_dict={**self.fixed, **params}, config_file_list=config_file_list)
        self.trials.append(trial_record(params, result))
        if self.on_trial is not None:
            self.on_trial(self.trials)
        return result


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


# ----------------------------------------------------------------------------------------------------------
# The two tools
# ----------------------------------------------------------------------------------------------------------


def tune_with_hyperopt(params_file, fixed, config_file_list, algo, max_evals, early_stop, on_trial):
    """Run RecBole's ``HyperTuning``; returns ``(trials, hyper_tuning)``."""
    try:
        import hyperopt  # noqa: F401
    except ImportError as error:
        raise ConfigurationError(
            "--tool=Hyperopt needs hyperopt: pip install 'hyperopt==0.2.5' (or the package's [hyperopt] extra)."
        ) from error
    from recbole.trainer import HyperTuning

    objective = RecordingObjective(fixed, on_trial)
    hyper = HyperTuning(objective, params_file=params_file, fixed_config_file_list=config_file_list,
                        algo=algo, max_evals=max_evals, early_stop=early_stop)
    # RecBole sets an exhaustive search's trials to the grid's size; a cap keeps the first max_evals of its
    # (randomly ordered, distinct) grid points
    hyper.max_evals = min(hyper.max_evals, max_evals)
    hyper.run()
    return objective.trials, hyper


def ray_space(space, algo):
    """The Ray Tune search space of a params file (grid search for ``exhaustive``)."""
    from ray import tune

    result = {}
    for name, (kind, values) in space.items():
        if kind == "choice":
            result[name] = tune.grid_search(values) if algo == "exhaustive" else tune.choice(values)
        elif kind == "uniform":
            result[name] = tune.uniform(*values)
        elif kind == "quniform":
            result[name] = tune.quniform(*values)
        else:
            result[name] = tune.loguniform(math.exp(values[0]), math.exp(values[1]))
    return result


def ray_trial(params, fixed=None, config_file_list=None):
    """One Ray Tune trial: train, then report the validation and test results as one flat dict."""
    from ray import tune

    from recbole_fame.quick_start import objective_function

    sys.argv = sys.argv[:1]  # the worker's own arguments are not RecBole settings
    result = objective_function(config_dict={**(fixed or {}), **params}, config_file_list=config_file_list)
    report = {"best_valid_score": float(result["best_valid_score"]),
              "trial_record": json.dumps(trial_record(params, result))}
    report.update({f"valid/{k}": float(v) for k, v in result["best_valid_result"].items()})
    report.update({f"test/{k}": float(v) for k, v in result["test_result"].items()})
    tune.report(**report)


def absolute_paths(fixed, config_file_list, config):
    """Fixed settings and config files with absolute paths (Ray runs each trial in another folder)."""
    fixed = dict(fixed)
    fixed["data_path"] = os.path.abspath(os.path.dirname(os.path.normpath(config["data_path"])))
    if "checkpoint_dir" in fixed:
        fixed["checkpoint_dir"] = os.path.abspath(fixed["checkpoint_dir"])
    files = [os.path.abspath(f) for f in config_file_list] if config_file_list else None
    return fixed, files


def read_ray_trials(experiment_dir):
    """The trial records of a finished Ray Tune experiment, read from its trial folders' ``result.json``.

    Reading the files (rather than Ray's ``ExperimentAnalysis``) also works when pyarrow, which ray 2.6.3's
    analysis needs but a plain ``pip install ray`` lacks, is missing.
    """
    records = []
    for trial_dir in sorted(glob.glob(os.path.join(experiment_dir, "*", "result.json"))):
        last = None
        with open(trial_dir, "r", encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    last = json.loads(line)
        if last and "trial_record" in last:
            records.append(json.loads(last["trial_record"]))
        else:
            print(f"Ray trial {os.path.dirname(trial_dir)} did not finish; left out.", file=sys.stderr)
    return records


def tune_with_ray(space, fixed, config_file_list, config, algo, max_evals, use_gpu):
    """Run Ray Tune over ``space`` (imports ray); returns the trial records in trial order."""
    try:
        import ray
        from ray import tune
    except ImportError as error:
        raise ConfigurationError(
            "--tool=Ray needs Ray Tune: pip install 'ray[tune]<=2.6.3' (RecBole 1.2.1's pin), or use --tool=Hyperopt."
        ) from error
    fixed, files = absolute_paths(fixed, config_file_list, config)
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    pythonpath = os.pathsep.join(p for p in (package_parent, os.environ.get("PYTHONPATH")) if p)
    ray.init(ignore_reinit_error=True, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": pythonpath}})
    search_alg = None
    if algo == "bayes":
        from ray.tune.search.hyperopt import HyperOptSearch

        search_alg = HyperOptSearch(metric="best_valid_score", mode="max" if config["valid_metric_bigger"] else "min")
        # objective_function's own first report holds only the test result; the search reads the final one.
        os.environ.setdefault("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1")
    local_dir = os.path.abspath("ray_log")
    name = f"{config['model']}-{config['dataset']}-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        tune.run(
            tune.with_parameters(ray_trial, fixed=fixed, config_file_list=files),
            config=ray_space(space, algo),
            num_samples=1 if algo == "exhaustive" else max_evals,
            search_alg=search_alg,
            resources_per_trial={"cpu": 1, "gpu": 1} if use_gpu else {"cpu": 1},
            local_dir=local_dir,
            name=name,
            verbose=1,
        )
    except RuntimeError as error:
        # ray 2.6.3 builds its ExperimentAnalysis after the trials, which fails without pyarrow; the
        # trials' results are on disk all the same.
        if "pyarrow" not in str(error):
            raise
    finally:
        ray.shutdown()
    return read_ray_trials(os.path.join(local_dir, name))


# ----------------------------------------------------------------------------------------------------------
# Entry point used by run_hyper.py
# ----------------------------------------------------------------------------------------------------------


def planned_trials(space, algo, max_evals=None):
    """The number of trials a search runs: the grid (capped at ``max_evals``) for ``exhaustive``, ``max_evals``
    (default 100) for ``random`` and ``bayes``."""
    if algo == "exhaustive":
        grid = grid_size(space)
        return grid if max_evals is None else min(grid, max_evals)
    return DEFAULT_MAX_EVALS if max_evals is None else max_evals


def run_tuning(model, dataset, params_file, output_file, tool="Hyperopt", algo="exhaustive", max_evals=None,
               early_stop=None, config_file_list=None, settings=None):
    """Tune ``model`` on ``dataset`` over the space of ``params_file``; write the outputs; return the JSON
    document (:func:`summary`). ``max_evals``: trials of random/bayes search (default 100); for an exhaustive
    search a cap on the grid (default: the whole grid)."""
    if tool not in TOOLS:
        raise ConfigurationError(f"--tool must be one of {', '.join(TOOLS)}, got {tool!r}")
    if algo not in ALGOS:
        raise ConfigurationError(f"--algo must be one of {', '.join(ALGOS)}, got {algo!r}")
    if (max_evals is not None and max_evals < 1) or (early_stop is not None and early_stop < 1):
        raise ConfigurationError(f"--max_evals and --early_stop must be >= 1, got {max_evals} and {early_stop}")
    space = read_params_file(params_file)
    trials_total = planned_trials(space, algo, max_evals)
    if algo == "exhaustive" and tool == "Ray" and trials_total < grid_size(space):
        raise ConfigurationError(f"--max_evals={max_evals} caps an exhaustive search only with --tool=Hyperopt "
                                 f"(Ray Tune's grid search runs all {grid_size(space)} points); use --algo=random with Ray.")
    max_evals = trials_total
    fixed = dict(settings or {}, model=model, dataset=dataset)
    config = check_params_against_model(space, fixed, config_file_list)
    text_file, json_file = output_paths(output_file)
    header = {
        "model": model, "dataset": dataset, "tool": tool, "algo": algo, "params_file": params_file,
        "space": {name: {"type": kind, "values": values} for name, (kind, values) in space.items()},
        "fixed_settings": plain(settings or {}), "config_files": config_file_list or [],
        "valid_metric": config["valid_metric"], "valid_metric_bigger": config["valid_metric_bigger"],
    }

    def save(trials):
        write_json(json_file, trials, header)
        write_text(text_file, trials)

    what = (f"{trials_total} of the grid's {grid_size(space)} points" if algo == "exhaustive" else f"{trials_total} trials")
    print(f"{algo} search with {tool}: {what}, each a full training of {model} on {dataset}"
          + (" (--max_evals caps it)" if algo == "exhaustive" and trials_total == grid_size(space) > 1 else ""),
          file=sys.stderr, flush=True)
    if tool == "Hyperopt":
        trials, _ = tune_with_hyperopt(params_file, fixed, config_file_list, algo, max_evals,
                                       early_stop or trials_total, save)
    else:
        use_gpu = bool(config["use_gpu"]) and config["device"].type == "cuda"
        trials = tune_with_ray(space, fixed, config_file_list, config, algo, max_evals, use_gpu)
    save(trials)
    document = summary(trials, header)
    print(f"best params: {document['best_params']}")
    print(f"results: {text_file} (text), {json_file} (JSON, {len(trials)} trials)")
    return document

