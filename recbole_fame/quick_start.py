"""Quick start for plugin and RecBole models alike.

RecBole's own ``run_recbole`` finds models by name in RecBole only, so, as RecBole-GNN does, the plugin
has its own, on the plugin's :class:`~recbole_fame.config.Config`, models and trainers. Every entry point runs
the one pipeline of :mod:`recbole_fame.runner.pipeline` (Config -> plan -> data -> model -> trainer -> report).
Nothing here imports ray: it is needed only to tune with Ray Tune.
"""

import logging
import sys
from logging import getLogger

import torch.distributed as dist
from recbole.utils import init_seed

from recbole_fame.compat import init_logger
from recbole_fame.runner.console import brief_console, log_file, summary_text
from recbole_fame.runner.pipeline import make_config, train_and_test
from recbole_fame.runner.trained import load_data_and_model

__all__ = ["run", "run_recbole_fame", "run_recbole_fames", "objective_function", "load_data_and_model", "make_config"]


def run(model, dataset, config_file_list=None, config_dict=None, saved=True, nproc=1, world_size=-1,
        ip="localhost", port="5678", group_offset=0):
    """Train and test ``model`` on ``dataset``, in one process or with RecBole's distributed launcher.

    ``nproc`` processes are started on this machine; ``world_size``, ``ip``, ``port`` and ``group_offset``
    describe a multi-machine run exactly as in RecBole's ``run_recbole.py``.
    """
    if nproc == 1 and world_size <= 0:
        return run_recbole_fame(model=model, dataset=dataset, config_file_list=config_file_list,
                                config_dict=config_dict, saved=saved)
    if world_size == -1:
        world_size = nproc
    import torch.multiprocessing as mp

    queue = mp.get_context("spawn").SimpleQueue()
    config_dict = dict(config_dict or {})
    config_dict.update({"world_size": world_size, "ip": ip, "port": port, "nproc": nproc, "offset": group_offset})
    mp.spawn(run_recbole_fames, args=(model, dataset, config_file_list, {"config_dict": config_dict,
             "queue": queue, "saved": saved}), nprocs=nproc, join=True)
    return None if queue.empty() else queue.get()


def run_recbole_fames(rank, *args):
    """Entry point of one spawned process (rank ``rank``)."""
    model, dataset, config_file_list, kwargs = args
    kwargs["config_dict"] = dict(kwargs["config_dict"], local_rank=rank)
    run_recbole_fame(model=model, dataset=dataset, config_file_list=config_file_list, **kwargs)


def run_recbole_fame(model=None, dataset=None, config_file_list=None, config_dict=None, saved=True, queue=None):
    """Train on the training split, early-stop on the validation split, test the best model.

    The console shows progress and ends with a summary (test metrics, best epoch, checkpoint, log file; see
    :mod:`recbole_fame.runner.console`); the log file under ``./log/`` keeps everything RecBole logs.

    Args:
        model (str or class): a plugin model (``FAME``) or any RecBole model name (``SASRec``, ...).
        dataset (str): dataset name; its atomic files are read from ``data_path/<dataset>/``.
        config_file_list (list of str): yaml files, later ones overriding earlier ones.
        config_dict (dict): settings overriding the files.
        saved (bool): save the best checkpoint and reload it before testing (and keep the last epoch's
            state for ``resume_from``, see :mod:`recbole_fame.storage.training_state`).

    Returns:
        dict with ``model``, ``best_valid_score``, ``valid_score_bigger``, ``best_valid_result``,
        ``test_result``, ``saved_model_file``, ``last_checkpoint_file`` (None if not written or removed: it is
        removed when the run finishes unless ``keep_last_checkpoint: True``), ``epochs``
        (trained), ``best_epoch`` (0-based), ``seconds_per_epoch`` (training and validation) and ``parameters`` (trainable).
    """
    config = make_config(model=model, dataset=dataset, config_file_list=config_file_list, config_dict=config_dict)
    init_seed(config["seed"], config["reproducibility"])
    init_logger(config)
    with brief_console(config) as brief:
        result = train_and_test(config, saved)
        if config["local_rank"] == 0:
            text = summary_text(result, config, log_file())
            getLogger().info("\n" + text)  # the log file (and a full console)
            if brief:
                print(text, flush=True)
    if not config["single_spec"]:
        dist.destroy_process_group()
    if config["local_rank"] == 0 and queue is not None:
        queue.put(result)
    return result


def objective_function(config_dict=None, config_file_list=None, saved=True):
    """The objective RecBole's ``HyperTuning`` calls: one quiet training run, returning its results.

    Reports to Ray Tune only when Ray Tune is in use (imported by the caller); ray is otherwise not needed.
    """
    config = make_config(config_dict=config_dict, config_file_list=config_file_list)
    init_seed(config["seed"], config["reproducibility"])
    logger = getLogger()
    for handler in logger.handlers[:]:
        logger.removeHandler(handler)
    init_logger(config)
    logging.basicConfig(level=logging.ERROR)
    result = train_and_test(config, saved, verbose=False, resume=False)
    if "ray.tune" in sys.modules:
        from ray import tune

        tune.report(**result["test_result"])
    return {key: result[key] for key in ("model", "best_valid_score", "valid_score_bigger", "best_valid_result",
                                         "test_result")}
