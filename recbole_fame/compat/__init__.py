"""What the plugin does about RecBole 1.2.1 on today's numpy and torch, and the explicit patch of RecBole.

Importing :mod:`recbole_fame` does one thing to the process: numpy >= 2 removed ``np.float_``,
``np.complex_``, ``np.unicode_`` and ``np.bool8``, which RecBole's ``Config`` and ray 2.6.3 touch at import
time, so :func:`add_numpy_aliases` adds the missing ones back (nothing that exists is rebound). No class or
module attribute of RecBole is replaced, torch's global flags are left as they are, and RecBole's sequential
models are not imported (their ``sine.py`` switches autograd's anomaly detection on for the whole process).

The plugin's fixes of RecBole's trainer (trusted checkpoint loading on torch >= 2.6, exact resume, unique
checkpoint names, atomic best checkpoints, the NaN/inf stop, anomaly detection off while training, CPU
multi-process training, ``exist_ok`` folders) live in the plugin's trainer classes
(:mod:`recbole_fame.trainer.trainer`), which ``recbole_fame.get_trainer`` returns for every model.

For a pipeline that keeps RecBole's own ``Trainer``, :func:`patch_recbole` applies the same fixes to
RecBole's ``Trainer`` class (and so to its subclasses), once, when called.

The pipeline (:mod:`recbole_fame.runner.pipeline`) applies :func:`add_scipy_dok_update` before it builds a model: scipy
1.13 removed ``dok_matrix._update``, with which RecBole's graph models fill their adjacency matrix.
"""

import contextlib
import logging
import os

import numpy as np
import torch

_NUMPY_ALIASES = (
    ("float_", np.float64),
    ("complex_", np.complex128),
    ("unicode_", np.str_),
    ("bool8", np.bool_),
)


def add_numpy_aliases():
    """Add back the numpy 1.x aliases RecBole and ray 2.6.3 still use, only where missing."""
    for name, value in _NUMPY_ALIASES:
        if name not in np.__dict__:
            setattr(np, name, value)


def _dok_update(self, data):
    """scipy < 1.13's ``dok_matrix._update``: store ``data`` ({(row, column): value}) without checks."""
    self._dict.update(data)


def add_scipy_dok_update():
    """Add back ``scipy.sparse.dok_matrix._update`` where scipy >= 1.13 removed it (it keeps its entries in
    ``_dict`` there): RecBole 1.2.1's LightGCN, NGCF, NCL, GCMC, SpectralCF, KGIN and MCCLK build their adjacency
    matrix with it. Nothing that exists is rebound; applied by the runner, not by importing recbole_fame."""
    import scipy.sparse

    if not hasattr(scipy.sparse.dok_matrix, "_update") and hasattr(scipy.sparse.dok_matrix((1, 1)), "_dict"):
        scipy.sparse.dok_matrix._update = _dok_update


@contextlib.contextmanager
def anomaly_mode_kept():
    """Autograd's anomaly detection as it was on entry, whatever is imported inside: RecBole's ``sine.py``
    switches it on for the whole process when RecBole's sequential models are first imported."""
    enabled = torch.is_anomaly_enabled()
    check_nan = torch.is_anomaly_check_nan_enabled()
    try:
        yield
    finally:
        if (torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()) != (enabled, check_nan):
            torch.set_anomaly_enabled(enabled, check_nan)


# the root logger's handlers (console, log file) RecBole's init_logger installed for this process's current run
_RUN_HANDLERS = []


def init_logger(config):
    """RecBole's ``init_logger`` for one run: a log file of its own, also for the second and later runs of a
    process (a tuning sweep, ``benchmarks.compare``). RecBole's installs its console and file handlers only on a
    root logger without any, so every later run wrote into the first run's log file: the handlers the previous
    run installed are removed (its log file closed) first. Its ``./log/<model>`` folders are created with
    ``exist_ok``: RecBole's ``ensure_dir`` (exists, then makedirs) fails when several processes start at once."""
    from recbole.utils import init_logger as recbole_init_logger

    root = logging.getLogger()
    while _RUN_HANDLERS:
        handler = _RUN_HANDLERS.pop()
        root.removeHandler(handler)
        handler.close()
    os.makedirs(os.path.join("log", str(config["model"])), exist_ok=True)
    before = list(root.handlers)
    recbole_init_logger(config)
    _RUN_HANDLERS.extend(handler for handler in root.handlers if handler not in before)


# what patch_recbole replaced: (owner, attribute name, original value)
_PATCHED = []


def patch_recbole():
    """Apply the plugin's trainer fixes to RecBole's own ``Trainer`` (and its subclasses), in this process.

    For pipelines that build ``recbole.trainer.Trainer`` themselves; the plugin's runner and
    ``recbole_fame.get_trainer`` need no patch. After the call RecBole's ``Trainer`` loads checkpoints on
    torch >= 2.6 (only from ``checkpoint_dir`` unless ``trust_checkpoint: True``), keeps the last-epoch
    checkpoint for exact resume, claims a checkpoint name of its own, writes the best checkpoint
    temp-then-rename, stops on a NaN or infinite loss with the likelier cause, trains with anomaly detection
    off unless ``detect_anomaly: True``, trains on CPU with several processes, and, with the plugin's full-sort
    loaders, computes the metrics once over every process's rows; RecBole's ``ensure_dir`` creates folders with
    ``exist_ok``. Calling it again does nothing.
    """
    if _PATCHED:
        return
    import recbole.data.utils
    import recbole.utils
    import recbole.utils.logger
    import recbole.utils.utils
    from recbole.trainer import trainer as trainer_module

    from recbole_fame.trainer.trainer import RecBoleFameTrainerMixin as Fixes
    from recbole_fame.storage.training_state import check_checkpoint_dir
    from recbole_fame.trainer.trainer import _cpu_distributed_model_deferred

    trainer_cls = trainer_module.Trainer
    original = {name: trainer_cls.__dict__[name]
                for name in ("__init__", "fit", "_train_epoch", "evaluate", "_map_reduce")}

    def __init__(self, config, model):
        check_checkpoint_dir(config)
        with _cpu_distributed_model_deferred(config, model) as deferred:
            original["__init__"](self, config, model)
        Fixes._init_plugin_state(self, deferred)

    def fit(self, train_data, valid_data=None, verbose=True, saved=True, show_progress=False, callback_fn=None):
        with Fixes._fit_scope(self, saved):
            return original["fit"](self, train_data, valid_data, verbose=verbose, saved=saved,
                                   show_progress=show_progress, callback_fn=Fixes._best_epoch_noted(self, callback_fn))

    def _train_epoch(self, train_data, epoch_idx, loss_func=None, show_progress=False):
        Fixes._start_epoch(self, train_data, epoch_idx)
        return original["_train_epoch"](self, train_data, epoch_idx, loss_func=loss_func, show_progress=show_progress)

    def evaluate(self, eval_data, load_best_model=True, model_file=None, show_progress=False):
        if load_best_model and eval_data:
            Fixes._load_best_model(self, model_file)
        Fixes._note_evaluated_rows(self, eval_data)
        return original["evaluate"](self, eval_data, load_best_model=False, show_progress=show_progress)

    def _map_reduce(self, result, num_sample):
        if self.eval_collector.gathered:
            return result
        return original["_map_reduce"](self, result, num_sample)

    replacements = {"__init__": __init__, "fit": fit, "_train_epoch": _train_epoch, "evaluate": evaluate,
                    "_map_reduce": _map_reduce}
    for name in replacements:
        replacements[name].__doc__ = original[name].__doc__
    for name in ("_check_nan", "_save_checkpoint", "resume_checkpoint"):  # the plugin's own, calling none of RecBole's
        replacements[name] = Fixes.__dict__[name]

    def ensure_dir(path):
        os.makedirs(path, exist_ok=True)

    for name, value in replacements.items():
        _PATCHED.append((trainer_cls, name, trainer_cls.__dict__[name]))
        setattr(trainer_cls, name, value)
    for module in (trainer_module, recbole.utils, recbole.utils.utils, recbole.utils.logger, recbole.data.utils):
        _PATCHED.append((module, "ensure_dir", module.ensure_dir))
        module.ensure_dir = ensure_dir


def _unpatch_recbole():
    """Undo :func:`patch_recbole` (for the tests, which check both ways in one process)."""
    while _PATCHED:
        owner, name, value = _PATCHED.pop()
        setattr(owner, name, value)
