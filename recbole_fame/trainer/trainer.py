"""The plugin's trainers: RecBole's trainer classes with the plugin's fixes, for RecBole's models and its own.

:class:`RecBoleFameTrainerMixin` goes in front of a RecBole trainer class (``with_plugin_fixes(KGTrainer)``);
``recbole_fame.get_trainer`` returns such a class for every model the runner trains, and :class:`Trainer`
is RecBole's ``Trainer`` with them. Nothing of RecBole itself is changed (for RecBole's own ``Trainer``,
:func:`recbole_fame.patch_recbole` applies the same fixes to it, explicitly). The fixes:

* Checkpoints load on torch >= 2.6, which loads with ``weights_only=True`` by default and so fails on
  RecBole's checkpoints (they pickle the whole ``Config``): ``evaluate(load_best_model=True)`` and
  ``resume_checkpoint`` read them with :func:`recbole_fame.storage.checkpoint.load_recbole_checkpoint`, which
  unpickles only files in the run's own ``checkpoint_dir``, the best checkpoints this trainer wrote itself
  (``written_checkpoints``), or anything after ``trust_checkpoint: True``.
* Exact resume: besides the best checkpoint, a last-epoch checkpoint with the random states
  (``<best>-last.pth``, :mod:`recbole_fame.storage.training_state`), which ``resume_checkpoint`` restores; a lock file
  beside it (``<file>.lock``, held until ``fit`` ends) refuses the same resume started twice at once.
* Unique checkpoint names: RecBole names the best checkpoint after the model and the second the trainer was
  built; the first write claims the name exclusively and moves to ``...-1.pth`` when another run holds it
  (single-process runs).
* The best checkpoint is written to a temporary file and moved into place: a failed write (a full disk) is
  one :class:`~recbole_fame.errors.OutputError` and leaves the previous best file as it was.
* A NaN or infinite loss stops training with the epoch, the step and the likelier cause
  (:class:`~recbole_fame.errors.TrainingDivergedError`): the weights just loaded (resume, warm start) when it
  comes at the first step after loading them, else the learning rate. RecBole stops on NaN only.
* Autograd's anomaly detection is off while training unless ``detect_anomaly: True``: RecBole's ``sine.py``
  switches it on for the whole process when RecBole's sequential models are imported, a debugging mode that
  makes every training step 1.6-1.7x slower (results/anomaly_mode_cpu.md). The flag is set at each epoch's
  start, after the model's ``train()`` (where FAME reads its warm start, which imports those models late), and
  again before each step's backward pass, so nothing imported during ``fit`` can switch it; it is as it was
  after ``fit``.
* Several processes on CPU (gloo): RecBole builds ``DistributedDataParallel(model, device_ids=[local_rank])``,
  which torch accepts for GPU modules only; on CPU it is built without ``device_ids``.
* The ``checkpoint_dir`` is created with ``exist_ok`` (RecBole's ``ensure_dir`` races between processes) and
  checked writable when the trainer is built, before training (:func:`recbole_fame.storage.training_state.check_checkpoint_dir`).
* The evaluation collector is :class:`recbole_fame.trainer.collector.Collector`: RecBole's, without its dense
  [users, items] positive-item matrix where every row has one positive (sequential full sort); the same results.
  With the plugin's full-sort loaders it computes the metrics over the rows in dataset order, in a
  multi-process run gathered from every process, so they are exactly one process's (RecBole pads the users and
  averages each process's rounded metrics).

* The epoch of the best validation score is noted when it is reached (``best_valid_epoch``), and kept in the
  last checkpoint: RecBole logs it only when early stopping ends the run.

The state of these fixes is kept in ordinary attributes of the trainer: ``saves_checkpoints``,
``checkpoint_name_claimed``, ``resume_states``, ``last_checkpoint_epoch``, ``best_valid_epoch``,
``train_position`` (epoch, step) and ``loaded_weights`` (the file the weights came from, while no update has
been made since).
"""

import contextlib
import os

import torch
import torch.distributed as dist
from recbole.trainer import trainer as recbole_trainer
from recbole.utils import set_color
from torch.nn.parallel import DistributedDataParallel

from recbole_fame.storage import training_state
from recbole_fame.storage.checkpoint import load_recbole_checkpoint
from recbole_fame.errors import CheckpointError, ConfigurationError, TrainingDivergedError
from recbole_fame.storage.files import release_lock


@contextlib.contextmanager
def _cpu_distributed_model_deferred(config, model):
    """Around RecBole's ``__init__``: on CPU with several processes, keep RecBole's ``AbstractTrainer`` from
    building ``DistributedDataParallel`` with ``device_ids`` (GPU modules only); yields whether the caller
    must build it itself, without them."""
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else config["device"]
    deferred = not config["single_spec"] and torch.device(device).type == "cpu"
    if deferred:
        config["single_spec"] = True
    try:
        yield deferred
    finally:
        if deferred:
            config["single_spec"] = False


def _warm_start_file(config):
    for key in ("pretrained_path", "text_pretrained_path"):
        if key in config and config[key]:
            return f"{config[key]} ({key})"
    return None


def _keep_anomaly_mode(config):
    """Anomaly detection as ``detect_anomaly`` says, whatever was imported since the last check."""
    wanted = config["detect_anomaly"] is True
    if torch.is_anomaly_enabled() != wanted:
        torch.set_anomaly_enabled(wanted)


class RecBoleFameTrainerMixin:
    """The plugin's fixes (module docstring), in front of a RecBole trainer class derived from ``Trainer``.

    The methods that call RecBole's own do it through ``super()``; the logic sits in methods that do not, so
    that :func:`recbole_fame.compat.patch_recbole` can apply the same code to RecBole's ``Trainer``."""

    def __init__(self, config, model):
        training_state.check_checkpoint_dir(config)
        with _cpu_distributed_model_deferred(config, model) as deferred:
            super().__init__(config, model)
        self._init_plugin_state(deferred)

    def _init_plugin_state(self, build_cpu_distributed_model=False):
        if build_cpu_distributed_model:
            self.model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(self.model)
            self.distributed_model = DistributedDataParallel(self.model)
        self.saves_checkpoints = True
        self.written_checkpoints = set()  # real paths of the best checkpoints this trainer wrote
        self.checkpoint_name_claimed = False
        self.resume_states = None
        self.resume_lock = None  # <resume file>.lock while this trainer resumes it
        self.last_checkpoint_epoch = None
        self.best_valid_epoch = None
        self.train_position = [None, 0]
        self.loaded_weights = _warm_start_file(self.config)
        from recbole_fame.trainer.collector import Collector

        self.eval_collector = Collector(self.config)  # RecBole's results, cheaper for one positive per row

    # --- training ----------------------------------------------------------------------------------------------
    def fit(self, train_data, valid_data=None, verbose=True, saved=True, show_progress=False, callback_fn=None):
        with self._fit_scope(saved):
            return super().fit(train_data, valid_data, verbose=verbose, saved=saved, show_progress=show_progress,
                               callback_fn=self._best_epoch_noted(callback_fn))

    def _best_epoch_noted(self, callback_fn):
        """The callback RecBole's ``fit`` calls after each evaluation: notes the epoch in ``best_valid_epoch``
        when the evaluation was the best so far (RecBole's early stopping has then just reset ``cur_step`` to
        0), then calls ``callback_fn``."""
        def after_evaluation(epoch_idx, valid_score):
            if self.cur_step == 0:
                self.best_valid_epoch = epoch_idx
            if callback_fn:
                callback_fn(epoch_idx, valid_score)

        return after_evaluation

    @contextlib.contextmanager
    def _fit_scope(self, saved):
        """What a ``fit`` runs inside: whether it saves checkpoints, and autograd's anomaly detection as
        ``detect_anomaly`` says (off unless True), the flag restored afterwards."""
        self.saves_checkpoints = saved
        try:
            with torch.autograd.set_detect_anomaly(self.config["detect_anomaly"] is True):
                yield
        finally:
            if self.resume_lock is not None:
                release_lock(self.resume_lock)
                self.resume_lock = None

    def _train_epoch(self, train_data, epoch_idx, loss_func=None, show_progress=False):
        self._start_epoch(train_data, epoch_idx)
        return super()._train_epoch(train_data, epoch_idx, loss_func=loss_func, show_progress=show_progress)

    def _start_epoch(self, train_data, epoch_idx):
        """Before an epoch's first step: restore the random states of a resumed last checkpoint, or keep the
        state after the previous epoch in the last checkpoint; the model in training mode (FAME reads its warm
        start there) and anomaly detection as asked."""
        self.model.train()
        _keep_anomaly_mode(self.config)
        if self.resume_states is not None:
            random_states, loader_states = self.resume_states
            self.resume_states = None
            training_state.set_random_states(random_states)
            training_state.set_loader_generator_states(train_data, loader_states)
        elif (
            epoch_idx > self.start_epoch
            and self.saves_checkpoints
            and self.config["save_last_checkpoint"] is not False
            and (self.config["single_spec"] is not False or dist.get_rank() == 0)  # one writer in all
            and self.last_checkpoint_epoch != epoch_idx - 1  # trainers that call _train_epoch twice (RecVAE)
        ):
            if self.config["single_spec"] is not False:
                training_state.claim_checkpoint_name(self)
            path = training_state.save_last_checkpoint(self, train_data, epoch_idx - 1)
            if self.last_checkpoint_epoch is None:
                self.logger.info(f"Resumable state of the last epoch kept in {path} (--resume_from={path})")
            self.last_checkpoint_epoch = epoch_idx - 1
        self.train_position = [epoch_idx, 0]

    def _check_nan(self, loss):
        """Stop on a NaN or infinite loss, naming the epoch, the step and the likelier cause (before the step's
        backward pass, where anomaly detection is set as asked again)."""
        _keep_anomaly_mode(self.config)
        self.train_position[1] += 1
        loaded, self.loaded_weights = self.loaded_weights, None  # an update follows: later steps are training's
        if torch.isfinite(loss).all():
            return
        epoch, step = self.train_position
        where = f"Training loss became {loss.item()} at epoch {epoch}, step {step}"
        if loaded is not None:
            broken = [name for name, p in self.model.named_parameters() if not torch.isfinite(p).all()]
            found = (f" {len(broken)} of the model's parameter tensors hold NaN or inf (e.g. {broken[0]})."
                     if broken else "")
            raise TrainingDivergedError(
                f"{where}, the first step after loading the weights of {loaded}, before any update: the likelier "
                f"cause is those weights, not the learning rate.{found} Check that file (a run that diverged, "
                "or one of other settings), or start from another checkpoint."
            )
        lr = self.config["learning_rate"]
        raise TrainingDivergedError(
            f"{where}. The setting most likely at fault is learning_rate ({lr}): lower it (e.g. "
            f"--learning_rate={lr / 10:g}), or bound the updates with --clip_grad_norm=\"{{'max_norm': 5.0}}\"."
        )

    # --- checkpoints -------------------------------------------------------------------------------------------
    def _save_checkpoint(self, epoch, verbose=True, **kwargs):
        """RecBole's best checkpoint, under a name of this run's own, written temp-then-rename."""
        if not self.config["single_spec"] and self.config["local_rank"] != 0:
            return
        saved_model_file = kwargs.pop("saved_model_file", None)
        if saved_model_file is None:
            if self.config["single_spec"] is not False:
                training_state.claim_checkpoint_name(self)
            saved_model_file = self.saved_model_file
        state = {
            "config": self.config,
            "epoch": epoch,
            "cur_step": self.cur_step,
            "best_valid_score": self.best_valid_score,
            "state_dict": self.model.state_dict(),
            "other_parameter": self.model.other_parameter(),
            "optimizer": self.optimizer.state_dict(),
        }
        try:
            training_state.save_checkpoint_file(state, saved_model_file, "the best checkpoint")
        except BaseException:
            # a failed first write leaves no file: not this run's claim of the name
            training_state.forget_claim(saved_model_file)
            raise
        self.written_checkpoints.add(os.path.realpath(saved_model_file))
        if verbose:
            self.logger.info(set_color("Saving current", "blue") + f": {saved_model_file}")

    def resume_checkpoint(self, resume_file):
        """RecBole's resume, with the checkpoint read by the trusted loader, a clear error for a checkpoint of
        another model or dataset, and the rest of the training state of a last checkpoint restored."""
        resume_file = str(resume_file)
        checkpoint = load_recbole_checkpoint(resume_file, self.config, map_location=self.device)
        for key in ("model", "dataset"):
            if str(checkpoint["config"][key]).lower() != str(self.config[key]).lower():
                raise CheckpointError(
                    f"Cannot resume from {resume_file}: it was written by a run of {key} "
                    f"{checkpoint['config'][key]}, and this run is of {key} {self.config[key]}. "
                    f"Pass --{key}={checkpoint['config'][key]} or a checkpoint of this {key}."
                )
        is_last = "random_states" in checkpoint  # a last checkpoint (recbole_fame.storage.training_state)
        start_epoch = checkpoint["epoch"] + 1
        if start_epoch >= self.epochs:
            raise ConfigurationError(
                f"Cannot resume from {resume_file}: it ends after epoch {start_epoch} and this run trains "
                f"epochs={self.epochs}, so nothing is left to train (and RecBole would overwrite the best checkpoint "
                f"with these weights). Pass --epochs with more than {start_epoch} to train further."
            )
        training_state.check_weights_fit(resume_file, checkpoint, self.model, self.config)
        if self.config["single_spec"] is not False or self.config["local_rank"] == 0:
            self.resume_lock = training_state.lock_resume(resume_file)
        changed = training_state.changed_training_settings(checkpoint["config"], self.config)
        if changed:
            self.logger.warning(f"Resuming with other training settings than the checkpoint's ({'; '.join(changed)}): "
                                "the run goes on, but it is not the run that was interrupted.")
        # the best checkpoint lies beside the last one, wherever the run was started from
        best = training_state.best_checkpoint_file(resume_file) if is_last else None
        self.saved_model_file = best if best and os.path.isfile(best) else checkpoint.get("best_model_file", resume_file)
        self.checkpoint_name_claimed = True  # the resumed run goes on writing its own files
        self.start_epoch = start_epoch
        self.cur_step = checkpoint["cur_step"]
        self.best_valid_score = checkpoint["best_valid_score"]
        self.model.load_state_dict(checkpoint["state_dict"])
        self.model.load_other_parameter(checkpoint.get("other_parameter"))
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        self.loaded_weights = f"{resume_file} (resume_from)"
        # a best checkpoint holds the best epoch's state; a last one notes the best epoch (None: written before
        # the plugin noted it)
        self.best_valid_epoch = checkpoint.get("best_valid_epoch") if is_last else checkpoint["epoch"]
        if is_last:
            self.best_valid_result = checkpoint["best_valid_result"]
            self.train_loss_dict = dict(checkpoint["train_loss_dict"])
            # applied when training restarts, where they were taken
            self.resume_states = (checkpoint["random_states"], checkpoint["loader_generator_states"])
        self.logger.info(f"Checkpoint loaded. Resume training from epoch {self.start_epoch}")

    def evaluate(self, eval_data, load_best_model=True, model_file=None, show_progress=False):
        if load_best_model and eval_data:
            self._load_best_model(model_file)
        self._note_evaluated_rows(eval_data)
        return super().evaluate(eval_data, load_best_model=False, show_progress=show_progress)

    def _note_evaluated_rows(self, eval_data):
        """Tell the collector which sample each row of the plugin's full-sort loaders is (``evaluated_rows``;
        None for RecBole's loaders)."""
        self.eval_collector.evaluated_rows = getattr(eval_data, "evaluated_rows", None)

    def _map_reduce(self, result, num_sample):
        if self.eval_collector.gathered:  # the metrics of every process's rows already, on every process
            return result
        return super()._map_reduce(result, num_sample)

    def _load_best_model(self, model_file=None):
        """Load the best checkpoint (or ``model_file``) with the trusted loader."""
        checkpoint_file = model_file or self.saved_model_file
        written = os.path.realpath(checkpoint_file) in getattr(self, "written_checkpoints", ())
        checkpoint = load_recbole_checkpoint(checkpoint_file, self.config, map_location=self.device,
                                             written_by_this_run=written)
        self.model.load_state_dict(checkpoint["state_dict"])
        self.model.load_other_parameter(checkpoint.get("other_parameter"))
        self.logger.info(f"Loading model structure and parameters from {checkpoint_file}")


_FIXED = {}  # RecBole trainer class -> the plugin's class


def with_plugin_fixes(trainer_class):
    """The plugin's trainer class for the RecBole trainer class ``trainer_class``: the mixin in front of it,
    one class per RecBole class, under RecBole's name, in this module. Classes not derived from RecBole's
    ``Trainer`` (the decision-tree trainers of XGBoost and LightGBM, which share none of its training loop)
    and classes that have the fixes already are returned as they are."""
    if issubclass(trainer_class, RecBoleFameTrainerMixin) or not issubclass(trainer_class, recbole_trainer.Trainer):
        return trainer_class
    if trainer_class not in _FIXED:
        name = trainer_class.__name__
        fixed = type(name, (RecBoleFameTrainerMixin, trainer_class), {
            "__module__": __name__,
            "__qualname__": name,
            "__doc__": f"RecBole's ``{name}`` with the plugin's fixes (:mod:`recbole_fame.trainer.trainer`).",
        })
        _FIXED[trainer_class] = fixed
        globals().setdefault(name, fixed)
    return _FIXED[trainer_class]


#: RecBole's ``Trainer`` with the plugin's fixes: the trainer of FAME, SASRecSeq and RecBole's sequential models
Trainer = with_plugin_fixes(recbole_trainer.Trainer)
