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
"""

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


def patch_trainer_checkpoint_loading():
    """Route RecBole's ``Trainer`` checkpoint loads through the plugin's trusted loader (idempotent)."""
    from recbole.trainer import trainer as trainer_module

    trainer_cls = trainer_module.Trainer
    if getattr(trainer_cls, "_recbole_fame_patched", False):
        return
    from recbole_fame.checkpoint import load_recbole_checkpoint

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

    evaluate.__doc__ = original_evaluate.__doc__
    resume_checkpoint.__doc__ = original_resume.__doc__
    trainer_cls.evaluate = evaluate
    trainer_cls.resume_checkpoint = resume_checkpoint
    trainer_cls._recbole_fame_patched = True
