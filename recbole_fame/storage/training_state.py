"""Exact resume: the state a training run needs to continue as if it had never stopped.

RecBole saves a checkpoint only when the validation score improves, and without the random number
generators, so ``Trainer.resume_checkpoint`` continues from the best epoch (not the last one) with fresh
randomness (other dropout masks, another shuffle). The plugin's trainers (see
:mod:`recbole_fame.trainer.trainer`) therefore also keeps a *last* checkpoint next to the best one,
``<best file without .pth>-last.pth``, rewritten at the start of every epoch after the first, i.e. with the
state at the end of the previous epoch (its validation and early-stopping bookkeeping included):

* what RecBole's checkpoint holds (config, epoch, ``cur_step``, ``best_valid_score``, model and optimizer);
* the best validation result and its epoch, the per-epoch training losses and the path of the best checkpoint;
* the random states of ``random``, numpy, torch (and CUDA), and of the training dataloader's generators.

``Trainer.resume_checkpoint(<...-last.pth>)`` (or ``--resume_from=<...-last.pth>`` for
``run_recbole_fame.py``) restores all of it: the resumed run trains the same batches with the same dropout
masks and ends with the same test metrics as an uninterrupted run with the same seed (on CPU; CUDA kernels
may differ in the last bits). A best checkpoint written by RecBole itself is still accepted and resumes
as RecBole resumes it. In multi-process runs only rank 0's random state is kept, so a resumed run
continues from the last epoch but not bit for bit.

``save_last_checkpoint: False`` turns the extra file off. Exact for RecBole's ``Trainer`` and the plugin's
models; trainers that switch between optimizers (RecVAE) or keep their shuffling generators in nested
loaders (knowledge-graph models) resume from the last epoch, but not bit for bit.
"""

import os
import random

import numpy as np
import torch

from recbole_fame.storage.checkpoint import setting
from recbole_fame.errors import CheckpointError, OutputError, output_error
from recbole_fame.storage.files import atomic_write, check_writable_folder, claim_name, is_own_claim, take_lock

# the attributes of RecBole's training dataloaders that hold torch generators (RecBole's shuffling
# generator and the length-bucketed loader's own)
_LOADER_GENERATORS = ("generator", "_epoch_generator")


LAST_SUFFIX = "-last.pth"


def last_checkpoint_file(best_checkpoint_file):
    """The path of the last-epoch checkpoint that belongs to ``best_checkpoint_file``."""
    return os.path.splitext(str(best_checkpoint_file))[0] + LAST_SUFFIX


def best_checkpoint_file(last_file):
    """The best checkpoint beside the last-epoch checkpoint ``last_file`` (same folder, wherever it was
    written from), or None when ``last_file`` is not named like one."""
    last_file = str(last_file)
    return last_file[: -len(LAST_SUFFIX)] + ".pth" if last_file.endswith(LAST_SUFFIX) else None


# settings that change what training computes; a resumed run with other values is not the same run
TRAINING_KEYS = ("seed", "learning_rate", "learner", "weight_decay", "train_batch_size", "stopping_step", "eval_step",
                 "valid_metric", "clip_grad_norm", "train_mode", "length_bucketing", "bucket_batches", "MAX_ITEM_LIST_LENGTH",
                 "sequence_loss_weighting", "train_batch_unit", "eval_exclude_history", "validation_items",
                 "train_exclude_history")


CHECKPOINT_DIR_FIX = "set checkpoint_dir to another folder (--checkpoint_dir=...)"


def check_checkpoint_dir(config):
    """Before a run trains: its ``checkpoint_dir`` can be created and written to, else one
    :class:`~recbole_fame.errors.OutputError` naming the folder and the fix (a run used to fail at its first
    checkpoint, after an epoch of training, with an OSError traceback)."""
    folder = config["checkpoint_dir"] or "saved"
    try:
        check_writable_folder(folder)
    except FileExistsError as error:
        raise OutputError(f"checkpoint_dir {folder} is a file, not a folder, so the run's checkpoints cannot be "
                          f"written there: move the file, or {CHECKPOINT_DIR_FIX}.") from error
    except NotADirectoryError as error:
        raise OutputError(f"checkpoint_dir {folder} cannot be created: a folder above it is a file. Move the file, "
                          f"or {CHECKPOINT_DIR_FIX}.") from error
    except OSError as error:
        raise output_error("the run's checkpoints into", folder, error, CHECKPOINT_DIR_FIX) from error


def forget_claim(path):
    """Remove ``path`` if it is still this process's claim of the name (after its first write failed)."""
    if is_own_claim(path):
        os.remove(path)


def claim_checkpoint_name(trainer):
    """Make the trainer's best-checkpoint name its own before the run first writes it.

    RecBole names it ``<model>-<local time to the second>.pth``, so two runs that start in the same second
    (seeds in parallel, a tuning sweep) write the same file and each tests the other's weights. The first
    write creates the name exclusively (atomic across processes, :func:`recbole_fame.storage.files.claim_name`: a claim
    naming this process, which the next write into the folder removes once the process is gone without writing
    it); a name that exists already gets the first free suffix ``-1``, ``-2``, ... Claimed once per trainer
    (``trainer.checkpoint_name_claimed``); a resumed run owns the file it resumed from.
    """
    if trainer.checkpoint_name_claimed:
        return trainer.saved_model_file
    trainer.checkpoint_name_claimed = True
    os.makedirs(os.path.dirname(trainer.saved_model_file) or ".", exist_ok=True)
    stem, extension = os.path.splitext(trainer.saved_model_file)
    candidate, number = trainer.saved_model_file, 0
    while True:
        try:
            claim_name(candidate)
            break
        except FileExistsError:
            number += 1
            candidate = f"{stem}-{number}{extension}"
        except OSError as error:  # the folder became read-only, or the disk is full, since check_checkpoint_dir
            raise output_error("the best checkpoint", candidate, error, CHECKPOINT_DIR_FIX) from error
    if candidate != trainer.saved_model_file:
        trainer.logger.warning(f"{trainer.saved_model_file} belongs to another run (started in the same second); "
                               f"this run's best checkpoint is {candidate}")
        trainer.saved_model_file = candidate
    return candidate


def save_checkpoint_file(state, path, what):
    """``torch.save`` ``state`` to ``path`` through :func:`recbole_fame.storage.files.atomic_write`: a temporary file
    beside it, moved into place when complete, so that a failed write (a full disk, a kill) leaves the
    previous file as it was and no partial file. A failure is one :class:`~recbole_fame.errors.OutputError`
    naming the file (``what``: e.g. "the best checkpoint") and the fix."""
    fix = CHECKPOINT_DIR_FIX
    try:
        atomic_write([(path, lambda tmp: _torch_save(state, tmp))])
    except OSError as error:
        raise output_error(what, path, error, fix) from error
    except RuntimeError as error:  # torch's zip writer reports a failed write as a RuntimeError
        cause = _os_error_behind(error)
        if cause is not None:  # e.g. ENOSPC: "the disk holding ... is full", not torch's internal message
            raise output_error(what, path, cause, fix) from error
        raise OutputError(f"Cannot write {what} {path}: {error}. Nothing was left half-written (the previous "
                          f"file, if any, is as it was); free some disk space or {fix}.") from error
    return path


def _torch_save(state, path):
    """``torch.save`` through a Python file, so that a failed write keeps its OSError (and errno) behind torch's
    RuntimeError; torch's own file writer reports only "file write failed"."""
    with open(path, "wb") as f:
        torch.save(state, f, pickle_protocol=4)


def _os_error_behind(error):
    """The OSError that caused ``error`` (its ``__cause__`` or ``__context__`` chain), or None."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError):
            return error
        error = error.__cause__ or error.__context__
    return None


#: settings that shape a model's weights (besides the model yaml's own, which are compared too)
MODEL_SHAPE_KEYS = ("hidden_size", "embedding_size", "n_heads", "n_layers", "inner_size", "num_experts",
                    "MAX_ITEM_LIST_LENGTH")


def weights_mismatch(saved_state, own_state):
    """The first weight whose shape differs between a checkpoint's state dict and the model's, or that only one of
    them has, as a phrase; None when every weight fits."""
    for name, tensor in own_state.items():
        if name not in saved_state:
            return f"the checkpoint has no {name}"
        if tuple(saved_state[name].shape) != tuple(tensor.shape):
            return f"{name} is {list(saved_state[name].shape)} in the checkpoint and {list(tensor.shape)} here"
    extra = [name for name in saved_state if name not in own_state]
    return f"the checkpoint has {extra[0]}, which this model lacks" if extra else None


def check_weights_fit(resume_file, checkpoint, model, config):
    """A checkpoint whose weights do not fit ``model`` is one CheckpointError naming the settings that differ (a
    load_state_dict size-mismatch traceback otherwise)."""
    mismatch = weights_mismatch(checkpoint["state_dict"], model.state_dict())
    if mismatch is None:
        return
    saved_config = checkpoint["config"]
    keys = list(MODEL_SHAPE_KEYS) + sorted(set(getattr(config, "_recbole_fame_model_keys", ())) - set(MODEL_SHAPE_KEYS))
    changed = [(key, setting(saved_config, key), setting(config, key)) for key in keys
               if setting(saved_config, key) != setting(config, key) and setting(saved_config, key) is not None]
    if not changed:
        raise CheckpointError(f"Cannot resume from {resume_file}: its weights do not fit this model ({mismatch}), "
                              "though no model setting differs: the dataset's items or users have changed since. "
                              "Train without --resume_from.")
    raise CheckpointError(
        f"Cannot resume from {resume_file}: it was trained with other model sizes "
        f"({'; '.join(f'{key} {old!r} -> {new!r}' for key, old, new in changed)}), so its weights do not fit this "
        f"model ({mismatch}). Resume with the checkpoint's values ({' '.join(f'--{key}={old}' for key, old, _ in changed)}), "
        "or train without --resume_from."
    )


def lock_resume(resume_file):
    """Claim the resume of ``resume_file`` for this process with ``<resume_file>.lock`` beside it: the same state
    resumed twice at once would write the same checkpoints. A lock of a process that no longer runs is taken over.
    Returns the lock file (release it with :func:`recbole_fame.storage.files.release_lock`)."""
    lock = f"{resume_file}.lock"
    holder = take_lock(lock)
    if holder is not None:
        host, pid = holder
        raise CheckpointError(
            f"Cannot resume from {resume_file}: process {pid} on {host} is resuming it already (lock file {lock}), "
            "and two runs of the same state would write the same checkpoints. Wait for that run to finish, or "
            f"remove {lock} if it is no longer running."
        )
    return lock


def changed_training_settings(saved_config, config):
    """The training settings whose values differ between a checkpoint's config and this run's."""
    return [f"{key} {saved_config[key]!r} -> {config[key]!r}" for key in TRAINING_KEYS
            if saved_config[key] != config[key]]


def random_states():
    """The states of every random number generator training draws from."""
    states = {"random": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_random_states(states):
    # generator states are CPU byte tensors, wherever the checkpoint was mapped to
    random.setstate(states["random"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"].cpu())
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([state.cpu() for state in states["cuda"]])


def loader_generator_states(train_data):
    return {
        name: getattr(train_data, name).get_state()
        for name in _LOADER_GENERATORS
        if isinstance(getattr(train_data, name, None), torch.Generator)
    }


def set_loader_generator_states(train_data, states):
    for name, state in states.items():
        generator = getattr(train_data, name, None)
        if isinstance(generator, torch.Generator):
            generator.set_state(state.cpu())


def save_last_checkpoint(trainer, train_data, epoch):
    """Write the state after ``epoch`` to the trainer's last checkpoint (:func:`save_checkpoint_file`, so a
    run killed while writing keeps the previous one)."""
    path = last_checkpoint_file(trainer.saved_model_file)
    state = {
        "config": trainer.config,
        "epoch": epoch,
        "cur_step": trainer.cur_step,
        "best_valid_score": trainer.best_valid_score,
        "best_valid_result": trainer.best_valid_result,
        "best_valid_epoch": trainer.best_valid_epoch,
        "train_loss_dict": dict(trainer.train_loss_dict),
        "state_dict": trainer.model.state_dict(),
        "other_parameter": trainer.model.other_parameter(),
        "optimizer": trainer.optimizer.state_dict(),
        "best_model_file": trainer.saved_model_file,
        "random_states": random_states(),
        "loader_generator_states": loader_generator_states(train_data),
    }
    return save_checkpoint_file(state, path, "the last-epoch checkpoint")
