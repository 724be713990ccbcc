"""Tuning with hyperopt, through RecBole's own :class:`recbole.trainer.HyperTuning`.

Its ``exhaustive`` algorithm would stop a grid after ``early_stop`` trials without improvement; the caller
(:func:`recbole_fame.tuning.search.run_tuning`) sets ``early_stop`` to the number of trials by default.
"""

from recbole_fame.errors import ConfigurationError
from recbole_fame.tuning.outputs import trial_record


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


def tune_with_hyperopt(params_file, fixed, config_file_list, algo, max_evals, early_stop, on_trial):
    """Run RecBole's ``HyperTuning``; returns ``(trials, hyper_tuning)``."""
    try:
        import hyperopt  # noqa: F401
    except ImportError as error:
        raise ConfigurationError(
            f"--tool=Hyperopt needs hyperopt, which failed to import ({error}): pip install 'hyperopt==0.2.5' "
            "(or the package's [hyperopt] extra)."
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
