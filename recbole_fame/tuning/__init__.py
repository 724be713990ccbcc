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

One module per job: :mod:`~recbole_fame.tuning.params` (params files and settings),
:mod:`~recbole_fame.tuning.outputs` (trial records, JSON and text outputs),
:mod:`~recbole_fame.tuning.with_hyperopt` and :mod:`~recbole_fame.tuning.with_ray` (the two tools) and
:mod:`~recbole_fame.tuning.search` (the driver, :func:`run_tuning`); this package re-exports their names.
"""

from recbole_fame.tuning.outputs import output_paths, plain, summary, trial_record, write_json, write_text
from recbole_fame.tuning.params import (
    PARAM_TYPES,
    check_params_against_model,
    extra_settings,
    grid_size,
    parse_setting,
    read_params_file,
)
from recbole_fame.tuning.search import ALGOS, DEFAULT_MAX_EVALS, TOOLS, planned_trials, run_tuning
from recbole_fame.tuning.with_hyperopt import RecordingObjective, tune_with_hyperopt
from recbole_fame.tuning.with_ray import absolute_paths, ray_space, ray_trial, read_ray_trials, tune_with_ray

__all__ = [
    "ALGOS", "DEFAULT_MAX_EVALS", "PARAM_TYPES", "TOOLS", "RecordingObjective", "absolute_paths",
    "check_params_against_model", "extra_settings", "grid_size", "output_paths", "parse_setting", "plain",
    "planned_trials", "ray_space", "ray_trial", "read_params_file", "read_ray_trials", "run_tuning", "summary",
    "trial_record", "tune_with_hyperopt", "tune_with_ray", "write_json", "write_text",
]
