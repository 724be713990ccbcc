"""The search driver used by ``run_hyper.py``: check the request, run it with hyperopt or Ray Tune, write the outputs."""

import sys

from recbole_fame.runner.console import each_warning_once
from recbole_fame.errors import ConfigurationError
from recbole_fame.tuning.outputs import check_output_files, output_paths, plain, summary, write_json, write_text
from recbole_fame.tuning.params import check_params_against_model, grid_size, read_params_file
from recbole_fame.tuning.with_hyperopt import tune_with_hyperopt
from recbole_fame.tuning.with_ray import tune_with_ray

ALGOS = ("exhaustive", "random", "bayes")
DEFAULT_MAX_EVALS = 100  # trials of random/bayes search when --max_evals is not given
TOOLS = ("Hyperopt", "Ray")


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
    check_output_files(text_file, json_file)  # before the first trial, whose result would be lost
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
        with each_warning_once():  # not once per trial
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
