"""Tuning with Ray Tune; ``ray`` is imported only inside these functions (never by the hyperopt path).

On a machine without CUDA each trial asks for one CPU, not a GPU; config files and ``data_path`` are made
absolute because Ray runs each trial in its own folder.
"""

import glob
import json
import math
import os
import sys
import time

from recbole_fame.errors import ConfigurationError
from recbole_fame.tuning.outputs import trial_record


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
            f"--tool=Ray needs Ray Tune, which failed to import ({error}): pip install 'ray[tune]<=2.6.3' (RecBole "
            "1.2.1's pin), or use --tool=Hyperopt."
        ) from error
    fixed, files = absolute_paths(fixed, config_file_list, config)
    package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # above recbole_fame/
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
