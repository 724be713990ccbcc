"""One pipeline for every entry point: Config -> plan -> data -> model -> trainer -> report.

The runner (:func:`recbole_fame.quick_start.run_recbole_fame`), the tuning objective
(:func:`recbole_fame.quick_start.objective_function`) and the checkpoint loader
(:func:`recbole_fame.runner.trained.load_data_and_model`) all assemble a run here: :func:`plan_run` decides once what
the run is (:class:`~recbole_fame.runner.plan.RunPlan`), :func:`build` reads the dataset, builds each dataloader
once and the model and trainer from the plan, and :func:`train_and_test` trains, tests and reports.
``create_dataset`` and ``data_preparation`` are RecBole's two calls for a drop-in pipeline, planned the same way.
"""

import os
import sys
import time
from dataclasses import dataclass
from logging import getLogger

from recbole.utils import get_environment, init_seed, set_color

from recbole_fame.compat import add_scipy_dok_update
from recbole_fame.config import Config
from recbole_fame.data import utils as data_utils
from recbole_fame.errors import ConfigurationError, RecBoleFameError, TrainingInterrupted
from recbole_fame.runner.console import result_names
from recbole_fame.runner.plan import plan_run
from recbole_fame.runner.registry import check_model_packages
from recbole_fame.runner.results import plain_numbers
from recbole_fame.storage.training_state import check_checkpoint_dir, last_checkpoint_file


def make_config(**kwargs):
    """The plugin's Config, with RecBole's own configuration errors turned into one clear message, and the
    packages the model needs beyond RecBole's checked."""
    try:
        config = Config(**kwargs)
    except RecBoleFameError:
        raise
    except (SyntaxError, KeyError, ValueError, TypeError, NotImplementedError, FileNotFoundError) as error:
        raise ConfigurationError(f"invalid configuration: {error}") from error
    check_model_packages(config)
    return config


def create_dataset(config):
    """RecBole's ``create_dataset`` for ``config`` (a drop-in pipeline's call), with the plugin's dataset class."""
    return data_utils.create_dataset(config, plan_run(config))


def data_preparation(config, dataset):
    """RecBole's ``data_preparation`` for ``config`` (a drop-in pipeline's call), with the plugin's dataloaders."""
    return data_utils.data_preparation(config, dataset, plan_run(config))


@dataclass
class BuiltRun:
    plan: object
    dataset: object  # the whole dataset, as read
    train_data: object
    valid_data: object
    test_data: object
    model: object  # on config["device"], seeded
    trainer: object  # None when not asked for


def build(config, saved=True, trainer=True, verbose=True):
    """The run of ``config`` built: its plan, dataset, dataloaders, model and (``trainer``) trainer.

    ``saved``: the run will write checkpoints (checkpoint_dir is checked first); ``verbose``: the dataset and the
    model are logged, as RecBole's quick start logs them. RecBole's graph models get back the scipy method they
    build their adjacency matrix with (:func:`recbole_fame.compat.add_scipy_dok_update`).
    """
    plan = plan_run(config)
    if saved:
        check_checkpoint_dir(config)  # before the data is read (the trainer checks again when it is built)
    dataset = data_utils.create_dataset(config, plan)
    train_data, valid_data, test_data = data_utils.data_preparation(config, dataset, plan)
    add_scipy_dok_update()
    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
    model = plan.model_class(config, train_data._dataset).to(config["device"])
    if verbose:
        getLogger().info(dataset)
        getLogger().info(model)
    return BuiltRun(plan, dataset, train_data, valid_data, test_data, model,
                    plan.trainer_class(config, model) if trainer else None)


def remove_last_checkpoint(config, last_file, saved=True):
    """A run that finished needs no state to resume it: remove ``-last.pth`` (model, optimizer moments and random
    states, about three times the best checkpoint) unless ``keep_last_checkpoint: True`` (e.g. to train a
    finished run for more epochs with ``resume_from``)."""
    if saved and not config["keep_last_checkpoint"] and config["local_rank"] in (0, None) and os.path.isfile(last_file):
        os.remove(last_file)
        getLogger().info(f"removed {last_file}: the run finished (keep_last_checkpoint: True keeps it)")


def interrupted_message(trainer):
    """Where an interrupted training stopped, and the resume command when its last-epoch state was kept."""
    epoch = trainer.train_position[0]
    last = last_checkpoint_file(trainer.saved_model_file)
    where = f"interrupted at epoch {epoch}" if epoch is not None else "interrupted before the first epoch"
    if trainer.last_checkpoint_epoch is not None and os.path.isfile(last):
        return (f"{where}: the state after epoch {trainer.last_checkpoint_epoch} is kept in {last}; resume with "
                f"--resume_from={last}")
    return f"{where}, before a last-epoch state was kept (save_last_checkpoint): nothing to resume, run it again"


def train_and_test(config, saved=True, verbose=True, resume=True):
    """Build the run, train on the training split, early-stop on the validation split, test the best model.

    ``verbose``: the run as RecBole's quick start logs it (command line, settings, dataset, model, training log,
    progress bars with ``show_progress``, environment and results); ``resume``: continue from ``resume_from`` when
    it is set. The tuning objective runs quietly, every trial from the start.
    Returns the result dict of :func:`recbole_fame.quick_start.run_recbole_fame`.
    """
    logger = getLogger()
    if verbose:
        logger.info(sys.argv)
        logger.info(config)
    run = build(config, saved, verbose=verbose)
    trainer, progress = run.trainer, verbose and config["show_progress"]
    if resume and config["resume_from"]:
        trainer.resume_checkpoint(config["resume_from"])
    epochs_before = len(trainer.train_loss_dict)  # trained before an interruption (resume_from)
    fit_start = time.time()
    try:
        best_valid_score, best_valid_result = trainer.fit(run.train_data, run.valid_data, verbose=verbose,
                                                          saved=saved, show_progress=progress)
    except KeyboardInterrupt as interrupt:
        raise TrainingInterrupted(interrupted_message(trainer)) from interrupt
    fit_seconds = time.time() - fit_start
    last_file = last_checkpoint_file(trainer.saved_model_file)
    epochs = len(trainer.train_loss_dict)
    test_result = trainer.evaluate(run.test_data, load_best_model=saved, show_progress=progress)
    best_valid_score, best_valid_result, test_result = plain_numbers((best_valid_score, best_valid_result, test_result))
    remove_last_checkpoint(config, last_file, saved)
    if verbose:
        logger.info("The running environment of this training is as follows:\n" + get_environment(config).draw())
        valid_name, test_name = result_names(config["model"])
        logger.info(set_color(valid_name or "best valid ", "yellow") + f": {best_valid_result}")
        logger.info(set_color(test_name or "test result", "yellow") + f": {test_result}")
    return {
        "model": config["model"],
        "best_valid_score": best_valid_score,
        "valid_score_bigger": config["valid_metric_bigger"],
        "best_valid_result": best_valid_result,
        "test_result": test_result,
        "saved_model_file": trainer.saved_model_file if saved else None,
        "last_checkpoint_file": last_file if saved and os.path.isfile(last_file) else None,
        "epochs": epochs,
        # the epoch of the best validation score (without validation RecBole keeps the last epoch's weights)
        "best_epoch": epochs - 1 if trainer.best_valid_epoch is None else trainer.best_valid_epoch,
        "seconds_per_epoch": fit_seconds / max(epochs - epochs_before, 1),
        "parameters": sum(p.numel() for p in run.model.parameters() if p.requires_grad),
    }
