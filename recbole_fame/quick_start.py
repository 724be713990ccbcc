"""Quick start for plugin and RecBole models alike.

RecBole's own ``run_recbole`` finds models by name in RecBole only, so, as RecBole-GNN does, the plugin
has its own copy that uses the plugin's :class:`~recbole_fame.config.Config`, ``create_dataset``,
``get_model`` and ``get_trainer``. Nothing here imports ray: it is needed only to tune with Ray Tune.
"""

import logging
import os
import re
import sys
import time
import warnings
from collections import namedtuple
from logging import getLogger

import torch.distributed as dist
from recbole.utils import get_environment, init_seed, set_color

from recbole_fame.compat import add_scipy_dok_update, init_logger
from recbole_fame.config import Config
from recbole_fame.console import brief_console, log_file, result_names, summary_text
from recbole_fame.data.utils import create_dataset, data_preparation
from recbole_fame.errors import CheckpointError, ConfigurationError, RecBoleFameError, TrainingInterrupted
from recbole_fame.registry import check_model_packages, get_model, get_trainer
from recbole_fame.results import plain_numbers
from recbole_fame.training_state import check_checkpoint_dir, last_checkpoint_file


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


def build_model(config, dataset):
    """The model of ``config`` on the training ``dataset``, seeded, on its device; RecBole's graph models get back
    the scipy method they build their adjacency matrix with (:func:`recbole_fame.compat.add_scipy_dok_update`)."""
    add_scipy_dok_update()
    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
    return get_model(config["model"])(config, dataset).to(config["device"])


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
    :mod:`recbole_fame.console`); the log file under ``./log/`` keeps everything RecBole logs.

    Args:
        model (str or class): a plugin model (``FAME``) or any RecBole model name (``SASRec``, ...).
        dataset (str): dataset name; its atomic files are read from ``data_path/<dataset>/``.
        config_file_list (list of str): yaml files, later ones overriding earlier ones.
        config_dict (dict): settings overriding the files.
        saved (bool): save the best checkpoint and reload it before testing (and keep the last epoch's
            state for ``resume_from``, see :mod:`recbole_fame.training_state`).

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
        result = _train_and_test(config, saved)
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


def _train_and_test(config, saved):
    logger = getLogger()
    logger.info(sys.argv)
    logger.info(config)
    if saved:
        check_checkpoint_dir(config)  # before the data is read (the trainer checks again when it is built)

    dataset = create_dataset(config)
    logger.info(dataset)
    train_data, valid_data, test_data = data_preparation(config, dataset)

    model = build_model(config, train_data._dataset)
    logger.info(model)

    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
    if config["resume_from"]:
        trainer.resume_checkpoint(config["resume_from"])
    epochs_before = len(trainer.train_loss_dict)  # trained before an interruption (resume_from)
    fit_start = time.time()
    try:
        best_valid_score, best_valid_result = trainer.fit(
            train_data, valid_data, saved=saved, show_progress=config["show_progress"]
        )
    except KeyboardInterrupt as interrupt:
        raise TrainingInterrupted(interrupted_message(trainer)) from interrupt
    fit_seconds = time.time() - fit_start
    last_file = last_checkpoint_file(trainer.saved_model_file)
    epochs = len(trainer.train_loss_dict)
    test_result = trainer.evaluate(test_data, load_best_model=saved, show_progress=config["show_progress"])
    best_valid_score, best_valid_result, test_result = plain_numbers((best_valid_score, best_valid_result, test_result))
    remove_last_checkpoint(config, last_file, saved)

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
        "parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }


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
    if saved:
        check_checkpoint_dir(config)
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    model = build_model(config, train_data._dataset)
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
    best_valid_score, best_valid_result = trainer.fit(train_data, valid_data, verbose=False, saved=saved)
    test_result = trainer.evaluate(test_data, load_best_model=saved)
    best_valid_score, best_valid_result, test_result = plain_numbers((best_valid_score, best_valid_result, test_result))
    remove_last_checkpoint(config, last_checkpoint_file(trainer.saved_model_file), saved)
    if "ray.tune" in sys.modules:
        from ray import tune

        tune.report(**test_result)
    return {
        "model": config["model"],
        "best_valid_score": best_valid_score,
        "valid_score_bigger": config["valid_metric_bigger"],
        "best_valid_result": best_valid_result,
        "test_result": test_result,
    }


def load_data_and_model(model_file, trust_checkpoint=False, checkpoint_dir="saved", config_dict=None):
    """Rebuild the configuration, dataset, dataloaders and trained model from a checkpoint.

    The checkpoint is a pickle: it is read only from inside ``checkpoint_dir`` (RecBole's default folder for
    the runs' own checkpoints) unless ``trust_checkpoint`` is True. ``config_dict`` overrides settings of the
    checkpoint's configuration that shape the data, e.g. ``{"eval_exclude_history": False}`` to score the same
    weights under RecBole's protocol.
    """

    import torch

    from recbole_fame.checkpoint import load_recbole_checkpoint

    checkpoint = load_recbole_checkpoint(
        model_file, {"checkpoint_dir": checkpoint_dir, "trust_checkpoint": trust_checkpoint}, map_location="cpu"
    )
    config = checkpoint["config"]
    # RecBole's Config sets numpy aliases its metrics use (np.float in NDCG) when it is built, not when it
    # is unpickled: without this a process that only loads a checkpoint fails in Trainer.evaluate
    config.compatibility_settings()
    config["single_spec"], config["local_rank"] = True, 0  # a checkpoint of a DDP run loads in one process
    for key, value in (config_dict or {}).items():
        config[key] = value
    config["device"] = torch.device("cuda" if torch.cuda.is_available() and config["use_gpu"] else "cpu")
    init_seed(config["seed"], config["reproducibility"])
    init_logger(config)
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    model = build_model(config, train_data._dataset)
    model.load_state_dict(checkpoint["state_dict"])
    model.load_other_parameter(checkpoint.get("other_parameter"))
    return config, model, dataset, train_data, valid_data, test_data


#: what :func:`read_checkpoint_header` reads off a checkpoint: the model's name and type (RecBole's ``ModelType``),
#: its item-embedding row count (None for a model without ``item_embedding``) and the dataset's data_path
CheckpointHeader = namedtuple("CheckpointHeader", ["model", "model_type", "item_rows", "data_path"])


def read_checkpoint_header(path, trust_checkpoint=False, checkpoint_dir="saved"):
    """The checkpoint's :data:`CheckpointHeader`, read under the loader's trust rule.

    Checking these first turns a checkpoint of another model, or of another item set, into one clear
    message before the (slower) dataset rebuild.
    """
    from recbole_fame.checkpoint import load_recbole_checkpoint

    # the same trust rule as load_data_and_model's (./saved), checked before anything is unpickled
    checkpoint = load_recbole_checkpoint(
        path, {"checkpoint_dir": checkpoint_dir, "trust_checkpoint": trust_checkpoint}, map_location="cpu"
    )
    if "config" not in checkpoint:
        raise CheckpointError(
            f"{path} is not a RecBole checkpoint (no 'config' and 'state_dict'). "
            "Pass the .pth file that run_recbole_fame.py saved in checkpoint_dir."
        )
    config = checkpoint["config"]
    item_rows = checkpoint["state_dict"].get("item_embedding.weight")
    return CheckpointHeader(config["model"], config["MODEL_TYPE"], None if item_rows is None else int(item_rows.shape[0]),
                            config["data_path"])


def _rows_in_error(error):
    """The dataset's item-table rows named in torch's size-mismatch message, or None."""
    found = re.search(r"item_embedding\.weight.*?Size\(\[(\d+),.*?Size\(\[(\d+),", str(error))
    return int(found.group(2)) if found else None


def _item_count_message(path, checkpoint_rows, dataset_rows, data_path, use):
    """The message for a dataset whose item count differs from the checkpoint's (rows include padding)."""
    checkpoint_items = checkpoint_rows - 1
    dataset_items = None if dataset_rows is None else dataset_rows - 1
    have = f"{dataset_items} items" if dataset_items is not None else "a different number of items"
    return (
        f"The dataset does not hold the checkpoint's items: {path} was trained on {checkpoint_items} items, "
        f"but the dataset at its data_path ({data_path}) now has {have}. Restore the dataset files the model was "
        f"trained on (same atomic files and filtering settings), or {use} a checkpoint trained on this dataset."
    )


def load_trained(path, header, trust_checkpoint=False, config_dict=None, use="use"):
    """A checkpoint's configuration, model (in eval mode), dataset and test dataloader, loaded quietly with
    :func:`load_data_and_model`; ``header`` is its :func:`read_checkpoint_header`. A dataset whose items are not
    the checkpoint's is one :class:`~recbole_fame.errors.CheckpointError` (``use``: the verb its message ends
    with, e.g. "explain" a checkpoint trained on this dataset).

    Returns ``(config, model, dataset, test_data)``.
    """
    rows = header.item_rows
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # RecBole's pandas FutureWarnings while rebuilding the dataset
            logging.disable(logging.INFO)  # and its dataloader summaries: the caller's output is what counts
            config, model, dataset, _, _, test_data = load_data_and_model(
                path, trust_checkpoint=trust_checkpoint, config_dict=config_dict
            )
    except RuntimeError as error:
        if "size mismatch" in str(error) and rows is not None:
            raise CheckpointError(_item_count_message(path, rows, _rows_in_error(error), header.data_path, use)) from error
        raise
    finally:
        logging.disable(logging.NOTSET)
    if rows is not None and rows != dataset.item_num:
        raise CheckpointError(_item_count_message(path, rows, dataset.item_num, header.data_path, use))
    model.eval()
    return config, model, dataset, test_data
