"""Fixes that make RecBole 1.2.1 work on today's numpy and torch.

Importing :mod:`recbole_fame` applies them once:

* numpy >= 2 removed ``np.float_``, ``np.complex_``, ``np.unicode_`` and ``np.bool8``, which RecBole's
  ``Config.compatibility_settings`` and ray 2.6.3 touch at import time: the missing aliases are added
  back (nothing that exists is rebound).
* torch >= 2.6 loads with ``weights_only=True`` by default, and RecBole's checkpoints (which pickle the
  whole ``Config``) then fail to load in ``Trainer.evaluate(load_best_model=True)`` and
  ``Trainer.resume_checkpoint``. Both methods of RecBole's ``Trainer`` are wrapped so that they read the
  checkpoint through :func:`recbole_fame.checkpoint.load_recbole_checkpoint`, which unpickles only files in
  the run's own ``checkpoint_dir`` (or anywhere after the explicit opt-in ``trust_checkpoint: True``).
  This covers RecBole's own trainers too, so the drop-in pipeline and the baselines work unchanged.
* RecBole keeps only the best epoch, without random states, so a resumed run neither continues from
  where it stopped nor repeats the uninterrupted run. The patched ``_train_epoch`` also keeps a last-epoch
  checkpoint with the random states, and ``resume_checkpoint`` restores it
  (:mod:`recbole_fame.training_state`).
* RecBole names the best checkpoint after the model and the second the trainer was built, so runs started
  in the same second overwrite each other's checkpoints. The patched ``_save_checkpoint`` claims the name
  exclusively at the first write and moves to ``...-1.pth`` when another run holds it
  (:func:`recbole_fame.training_state.claim_checkpoint_name`; single-process runs).
* RecBole stops on a NaN loss with "Training loss is nan" and trains on through an infinite one. The
  patched ``Trainer._check_nan`` stops on either with the epoch, the step and the setting most likely at
  fault (:class:`~recbole_fame.errors.TrainingDivergedError`).
* RecBole wraps the model in ``DistributedDataParallel(model, device_ids=[local_rank])``, which fails for a
  model on the CPU; there the wrapper is built without ``device_ids`` (multi-process training on CPU with
  gloo, see :class:`recbole_fame.config.Config`); and RecBole's ``ensure_dir`` (the trainer's
  ``checkpoint_dir``, the logger's ``./log``) creates folders with ``exist_ok``, since it races when several
  processes start at once.
* RecBole's ``sine.py`` calls ``torch.autograd.set_detect_anomaly(True)`` when it is imported, and
  ``recbole.model.sequential_recommender`` imports it, so every RecBole run of a sequential model trains with
  autograd's anomaly detection, a debugging mode that records a traceback for every operation and checks
  every gradient for NaN: 1.6-1.7x the time of a training step for SASRec and FAME on Beauty here
  (results/anomaly_mode_cpu.md). It is switched off once RecBole's models are imported;
  ``detect_anomaly: True`` turns it back on for a run (:class:`recbole_fame.config.Config`). A non-finite
  loss still stops training (``_check_nan`` above).
* RecBole's evaluation collector builds a dense [users, items] matrix of the positive items for every batch, most
  of a sorted validation pass's time: the trainer's ``eval_collector`` is :class:`recbole_fame.collector.Collector`,
  which computes the same top-k result without it where each row has one positive (sequential full sort).
"""

import os

import numpy as np

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


def switch_off_recbole_anomaly_detection():
    """Import RecBole's sequential models (whose ``sine.py`` switches autograd's anomaly detection on at import
    time, once per process) and switch it off again."""
    import recbole.model.sequential_recommender  # noqa: F401
    import torch

    torch.autograd.set_detect_anomaly(False)


def patch_recbole_trainer():
    """Apply the ``Trainer`` fixes listed in the module docstring (idempotent)."""
    from recbole.trainer import trainer as trainer_module

    trainer_cls = trainer_module.Trainer
    if getattr(trainer_cls, "_recbole_fame_patched", False):
        return
    import torch
    import torch.distributed as dist

    from recbole_fame import training_state
    from recbole_fame.checkpoint import load_recbole_checkpoint
    from recbole_fame.errors import CheckpointError, ConfigurationError, TrainingDivergedError

    original_evaluate = trainer_cls.evaluate
    original_resume = trainer_cls.resume_checkpoint
    original_init = trainer_cls.__init__

    def __init__(self, config, model):
        original_init(self, config, model)
        from recbole_fame.collector import Collector

        self.eval_collector = Collector(config)  # the same results, cheaper for one positive per row

    def evaluate(self, eval_data, load_best_model=True, model_file=None, show_progress=False):
        if load_best_model and eval_data:
            checkpoint_file = model_file or self.saved_model_file
            checkpoint = load_recbole_checkpoint(checkpoint_file, self.config, map_location=self.device)
            self.model.load_state_dict(checkpoint["state_dict"])
            self.model.load_other_parameter(checkpoint.get("other_parameter"))
            self.logger.info(f"Loading model structure and parameters from {checkpoint_file}")
        return original_evaluate(self, eval_data, load_best_model=False, show_progress=show_progress)

    def resume_checkpoint(self, resume_file):
        # RecBole's steps, with the checkpoint read by the trusted loader, a clear error for a checkpoint of
        # another model or dataset, and the rest of the training state of a last checkpoint restored.
        resume_file = str(resume_file)
        checkpoint = load_recbole_checkpoint(resume_file, self.config, map_location=self.device)
        for key in ("model", "dataset"):
            if str(checkpoint["config"][key]).lower() != str(self.config[key]).lower():
                raise CheckpointError(
                    f"Cannot resume from {resume_file}: it was written by a run of {key} "
                    f"{checkpoint['config'][key]}, and this run is of {key} {self.config[key]}. "
                    f"Pass --{key}={checkpoint['config'][key]} or a checkpoint of this {key}."
                )
        is_last = "random_states" in checkpoint  # a last checkpoint (recbole_fame.training_state)
        start_epoch = checkpoint["epoch"] + 1
        if start_epoch >= self.epochs:
            raise ConfigurationError(
                f"Cannot resume from {resume_file}: it ends after epoch {start_epoch} and this run trains "
                f"epochs={self.epochs}, so nothing is left to train (and RecBole would overwrite the best checkpoint "
                f"with these weights). Pass --epochs with more than {start_epoch} to train further."
            )
        changed = training_state.changed_training_settings(checkpoint["config"], self.config)
        if changed:
            self.logger.warning(f"Resuming with other training settings than the checkpoint's ({'; '.join(changed)}): "
                                "the run goes on, but it is not the run that was interrupted.")
        # the best checkpoint lies beside the last one, wherever the run was started from
        best = training_state.best_checkpoint_file(resume_file) if is_last else None
        self.saved_model_file = best if best and os.path.isfile(best) else checkpoint.get("best_model_file", resume_file)
        self._recbole_fame_name_claimed = True  # the resumed run goes on writing its own files
        self.start_epoch = start_epoch
        self.cur_step = checkpoint["cur_step"]
        self.best_valid_score = checkpoint["best_valid_score"]
        self.model.load_state_dict(checkpoint["state_dict"])
        self.model.load_other_parameter(checkpoint.get("other_parameter"))
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        if is_last:
            self.best_valid_result = checkpoint["best_valid_result"]
            self.train_loss_dict = dict(checkpoint["train_loss_dict"])
            # applied when training restarts, where they were taken
            self._recbole_fame_resume_states = (checkpoint["random_states"], checkpoint["loader_generator_states"])
        self.logger.info(f"Checkpoint loaded. Resume training from epoch {self.start_epoch}")

    original_fit = trainer_cls.fit

    def fit(self, train_data, valid_data=None, verbose=True, saved=True, show_progress=False, callback_fn=None):
        self._recbole_fame_saved = saved
        return original_fit(self, train_data, valid_data, verbose=verbose, saved=saved,
                            show_progress=show_progress, callback_fn=callback_fn)

    original_train_epoch = trainer_cls._train_epoch

    def _train_epoch(self, train_data, epoch_idx, *args, **kwargs):
        resume_states = getattr(self, "_recbole_fame_resume_states", None)
        if resume_states is not None:
            self._recbole_fame_resume_states = None
            training_state.set_random_states(resume_states[0])
            training_state.set_loader_generator_states(train_data, resume_states[1])
        elif (
            epoch_idx > self.start_epoch
            and getattr(self, "_recbole_fame_saved", False)
            and self.config["save_last_checkpoint"] is not False
            and (self.config["single_spec"] is not False or dist.get_rank() == 0)  # one writer in all
            and getattr(self, "_recbole_fame_last_saved", None) != epoch_idx - 1  # trainers that call this twice
        ):
            if self.config["single_spec"] is not False:
                training_state.claim_checkpoint_name(self)
            path = training_state.save_last_checkpoint(self, train_data, epoch_idx - 1)
            if getattr(self, "_recbole_fame_last_saved", None) is None:
                self.logger.info(f"Resumable state of the last epoch kept in {path} (--resume_from={path})")
            self._recbole_fame_last_saved = epoch_idx - 1
        self._recbole_fame_position = [epoch_idx, 0]
        return original_train_epoch(self, train_data, epoch_idx, *args, **kwargs)

    original_save_checkpoint = trainer_cls._save_checkpoint

    def _save_checkpoint(self, epoch, verbose=True, **kwargs):
        if "saved_model_file" not in kwargs and self.config["single_spec"] is not False:
            training_state.claim_checkpoint_name(self)
        return original_save_checkpoint(self, epoch, verbose=verbose, **kwargs)

    def _check_nan(self, loss):
        position = getattr(self, "_recbole_fame_position", [None, 0])
        position[1] += 1
        if not torch.isfinite(loss).all():
            lr = self.config["learning_rate"]
            raise TrainingDivergedError(
                f"Training loss became {loss.item()} at epoch {position[0]}, step {position[1]}. The setting most "
                f"likely at fault is learning_rate ({lr}): lower it (e.g. --learning_rate={lr / 10:g}), or bound the "
                "updates with --clip_grad_norm=\"{'max_norm': 5.0}\"."
            )

    evaluate.__doc__ = original_evaluate.__doc__
    resume_checkpoint.__doc__ = original_resume.__doc__
    fit.__doc__ = original_fit.__doc__
    __init__.__doc__ = original_init.__doc__
    trainer_cls.__init__ = __init__
    trainer_cls.fit = fit
    trainer_cls.evaluate = evaluate
    trainer_cls.resume_checkpoint = resume_checkpoint
    trainer_cls._train_epoch = _train_epoch
    trainer_cls._check_nan = _check_nan
    _save_checkpoint.__doc__ = original_save_checkpoint.__doc__
    trainer_cls._save_checkpoint = _save_checkpoint
    ddp = trainer_module.DistributedDataParallel

    def distributed_data_parallel(module, device_ids=None, **kwargs):
        on_cpu = next(module.parameters()).device.type == "cpu"
        return ddp(module, device_ids=None if on_cpu else device_ids, **kwargs)

    trainer_module.DistributedDataParallel = distributed_data_parallel
    # RecBole's ensure_dir (exists, then makedirs) races when several processes start at once: the trainer's
    # checkpoint_dir and init_logger's ./log are created with exist_ok wherever RecBole imported it.
    import recbole.data.utils
    import recbole.utils
    import recbole.utils.logger
    import recbole.utils.utils

    def ensure_dir(path):
        os.makedirs(path, exist_ok=True)

    for module in (trainer_module, recbole.utils, recbole.utils.utils, recbole.utils.logger, recbole.data.utils):
        module.ensure_dir = ensure_dir
    trainer_cls._recbole_fame_patched = True
