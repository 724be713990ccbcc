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
* RecBole stops on a NaN loss with "Training loss is nan" and trains on through an infinite one. The
  patched ``Trainer._check_nan`` stops on either with the epoch, the step and the setting most likely at
  fault (:class:`~recbole_fame.errors.TrainingDivergedError`).
* RecBole wraps the model in ``DistributedDataParallel(model, device_ids=[local_rank])``, which fails for a
  model on the CPU; there the wrapper is built without ``device_ids`` (multi-process training on CPU with
  gloo, see :class:`recbole_fame.config.Config`); and the trainer creates its ``checkpoint_dir`` with
  ``exist_ok``, since RecBole's ``ensure_dir`` races when several processes start at once.
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


def patch_recbole_trainer():
    """Apply the ``Trainer`` fixes listed in the module docstring (idempotent)."""
    from recbole.trainer import trainer as trainer_module

    trainer_cls = trainer_module.Trainer
    if getattr(trainer_cls, "_recbole_fame_patched", False):
        return
    import torch

    from recbole_fame.checkpoint import load_recbole_checkpoint
    from recbole_fame.errors import TrainingDivergedError

    original_evaluate = trainer_cls.evaluate
    original_resume = trainer_cls.resume_checkpoint

    def evaluate(self, eval_data, load_best_model=True, model_file=None, show_progress=False):
        if load_best_model and eval_data:
            checkpoint_file = model_file or self.saved_model_file
            checkpoint = load_recbole_checkpoint(checkpoint_file, self.config, map_location=self.device)
            self.model.load_state_dict(checkpoint["state_dict"])
            self.model.load_other_parameter(checkpoint.get("other_parameter"))
            self.logger.info(f"Loading model structure and parameters from {checkpoint_file}")
        return original_evaluate(self, eval_data, load_best_model=False, show_progress=show_progress)

    def resume_checkpoint(self, resume_file):
        # Same steps as RecBole's method, with the checkpoint read by the trusted loader.
        resume_file = str(resume_file)
        self.saved_model_file = resume_file
        checkpoint = load_recbole_checkpoint(resume_file, self.config, map_location=self.device)
        self.start_epoch = checkpoint["epoch"] + 1
        self.cur_step = checkpoint["cur_step"]
        self.best_valid_score = checkpoint["best_valid_score"]
        if checkpoint["config"]["model"].lower() != self.config["model"].lower():
            self.logger.warning(
                "Architecture configuration given in config file is different from that of checkpoint. "
                "This may yield an exception while state_dict is being loaded."
            )
        self.model.load_state_dict(checkpoint["state_dict"])
        self.model.load_other_parameter(checkpoint.get("other_parameter"))
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        self.logger.info(f"Checkpoint loaded. Resume training from epoch {self.start_epoch}")

    original_train_epoch = trainer_cls._train_epoch

    def _train_epoch(self, train_data, epoch_idx, *args, **kwargs):
        self._recbole_fame_position = [epoch_idx, 0]
        return original_train_epoch(self, train_data, epoch_idx, *args, **kwargs)

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
    trainer_cls.evaluate = evaluate
    trainer_cls.resume_checkpoint = resume_checkpoint
    trainer_cls._train_epoch = _train_epoch
    trainer_cls._check_nan = _check_nan
    ddp = trainer_module.DistributedDataParallel

    def distributed_data_parallel(module, device_ids=None, **kwargs):
        on_cpu = next(module.parameters()).device.type == "cpu"
        return ddp(module, device_ids=None if on_cpu else device_ids, **kwargs)

    trainer_module.DistributedDataParallel = distributed_data_parallel
    trainer_module.ensure_dir = lambda path: os.makedirs(path, exist_ok=True)
    trainer_cls._recbole_fame_patched = True
