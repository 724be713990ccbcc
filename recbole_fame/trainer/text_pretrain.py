"""The trainer of :class:`~recbole_fame.model.sequential_recommender.fametextpretrain.FAMETextPretrain`.

The plugin's :class:`~recbole_fame.trainer.trainer.Trainer` (RecBole's ``Trainer`` with the plugin's fixes: the
non-finite-loss stop, unique checkpoint names, anomaly detection off, CPU multi-process training) with these
changes:

* ``_train_epoch`` iterates over batches of items (``pretrain_batch_size``, all items shuffled each epoch)
  instead of the interaction loader, and alternates the heads' objectives by step or by epoch
  (``facet_alternation``); ``visited_tasks`` counts the steps each head was trained.
* ``_valid_epoch`` scores the heads on their own tasks (label precision@k of the facet, or text-neighbour
  overlap for identity heads); the mean drives RecBole's early stopping and best-epoch choice.
* ``_save_checkpoint`` writes the safe checkpoint FAME starts from (``<model>-<time>.safetensors`` plus a
  ``.json`` copy of its metadata, see :mod:`recbole_fame.text.checkpoint`) instead of a pickle, under a name
  claimed for this run as the plugin's trainer claims FAME's (``...-1.safetensors`` when a run started in the
  same second holds it; with several processes rank 0 claims it and the others learn it).
* ``fit`` ends by reloading the best epoch, logging the facet-by-head table and storing it in the checkpoint;
  ``evaluate(load_best_model=True)`` reloads the best projections from that file before RecBole's usual
  full-sort evaluation of the model's text-similarity ranking.

Several processes (``--nproc``, ``--world_size``; NCCL on GPUs, gloo on CPU): RecBole's trainer wraps the
model in ``DistributedDataParallel``, whose construction copies rank 0's parameters to every rank; this
trainer then keeps the ranks in step itself instead of RecBole's ``set_reduce_hook``/``sync_grad_loss``
(which would also broadcast the large text-embedding buffer from rank 0 at every step):

* Each epoch every rank draws the same permutation of the items (a generator seeded with ``seed + epoch``)
  and cuts it into the same batches of ``pretrain_batch_size`` items; rank r trains on batches
  r, r + world_size, ... (``pretrain_batch_size`` is the batch of one process, SupCon's in-batch
  negatives are the process's own batch). The list is padded cyclically to a multiple of ``world_size``,
  so every rank takes the same number of steps, and the head trained at a step is the same on every rank.
* After ``backward`` the gradients of all parameters (zeros where a parameter got none) and the loss are
  averaged over the ranks in one ``all_reduce``, and only the trained head's parameters keep theirs (the others
  go back to None, so the optimizer leaves them alone); the NaN/inf check, gradient clipping and the optimizer
  step then see the same numbers on every rank (a diverging rank stops every rank, none is left waiting).
  The epoch's training loss is the sum over steps of the loss averaged over ranks.
* Validation scores and the facet-by-head report are computed on every rank and rank 0's are broadcast,
  so early stopping and the best epoch agree everywhere. Only rank 0 writes the checkpoint (under rank 0's
  file name; a failed write, e.g. a full disk, is raised on every rank); reloading the best epoch reads the
  file on rank 0 and broadcasts the parameters, so the other ranks never read a file being written and
  need no shared file system.
"""

import os
import pickle
from collections import Counter

import torch
import torch.distributed as dist
from recbole.data.interaction import Interaction
from recbole.utils import set_color
from tqdm import tqdm

from recbole_fame.storage import training_state
from recbole_fame.compat.distributed import barrier
from recbole_fame.errors import ConfigurationError, RecBoleFameError
from recbole_fame.text.disentanglement import format_report
from recbole_fame.trainer.trainer import Trainer


def alternation(schedule, n_tasks, epoch, step):
    """The task (head) trained at global step ``step`` of epoch ``epoch``: they take turns by step or by epoch."""
    return (step if schedule == "step" else epoch) % n_tasks


def shard_item_batches(n_items, batch_size, seed, rank, world_size):
    """Rank ``rank``'s batches of one epoch of the real items 1..n_items-1 under ``world_size`` processes.

    Every rank draws the same permutation (seeded with ``seed``) and cuts it into the same batches; rank r
    takes batches r, r + world_size, ..., the list padded cyclically to a multiple of ``world_size`` so that
    every rank gets ``ceil(batches / world_size)`` of them.
    """
    generator = torch.Generator().manual_seed(int(seed))
    items = torch.randperm(n_items - 1, generator=generator) + 1
    batches = list(torch.split(items, batch_size))
    steps = -(-len(batches) // world_size)
    return [batches[(step * world_size + rank) % len(batches)] for step in range(steps)]


class FAMETextPretrainTrainer(Trainer):
    def __init__(self, config, model):
        super().__init__(config, model)
        self.distributed = not config["single_spec"]
        self.world_size = dist.get_world_size() if self.distributed else 1
        self.rank = dist.get_rank() if self.distributed else 0
        self.saved_model_file = self._from_rank0(os.path.splitext(self.saved_model_file)[0] + ".safetensors")
        self.global_step = 0
        self.visited_tasks = Counter()
        self.report = None

    def resume_checkpoint(self, resume_file):
        raise ConfigurationError(
            f"FAMETextPretrain does not resume from a checkpoint ({resume_file}): its checkpoints keep the best "
            "projections for FAME, not the training state, and a pre-training run takes minutes. Run it again "
            "without resume_from."
        )

    # --- several processes -----------------------------------------------------------------------------------
    def _from_rank0(self, value):
        """``value`` as rank 0 has it (any picklable object), on every rank."""
        if not self.distributed:
            return value
        holder = [value]
        dist.broadcast_object_list(holder, src=0, device=self.device if self.device.type == "cuda" else None)
        return holder[0]

    def _barrier(self):
        if self.distributed:
            barrier(self.device)

    def _all_reduce_gradients(self, loss):
        """Average the gradients of every trainable parameter and the loss over the ranks (one all_reduce);
        returns the averaged loss."""
        params = [p for p in self.model.parameters() if p.requires_grad]
        grads = [torch.zeros_like(p) if p.grad is None else p.grad for p in params]
        # only the parameters of the head trained at this step (the same head on every rank) keep a gradient;
        # the others go back to None, so that the optimizer leaves them exactly as they are
        trained = {id(p) for p in self.model.head_parameters(self.model.task)}
        flat = torch.cat([g.reshape(-1) for g in grads] + [loss.detach().reshape(1).to(grads[0].dtype)])
        dist.all_reduce(flat)
        flat /= self.world_size
        offset = 0
        for param, grad in zip(params, grads):
            param.grad = grad.copy_(flat[offset: offset + grad.numel()].view_as(grad)) if id(param) in trained else None
            offset += grad.numel()
        return flat[-1]

    def _load_best(self, path, missing_ok=False):
        """Load the projections of checkpoint ``path`` on every rank; returns its metadata (None when
        ``missing_ok`` and there is no file). With several processes rank 0 reads the file and broadcasts
        the parameters (and any error, so that no rank is left waiting)."""
        if not self.distributed:
            if missing_ok and not os.path.isfile(path):
                return None
            return self.model.load_text_checkpoint(path)
        outcome = None
        if self.rank == 0 and not (missing_ok and not os.path.isfile(path)):
            try:
                outcome = self.model.load_text_checkpoint(path)
            except Exception as error:  # raised on every rank below
                outcome = error
                try:
                    pickle.dumps(error)
                except Exception:  # an error that cannot travel: its message does
                    outcome = RuntimeError(f"{type(error).__name__}: {error}")
        outcome = self._from_rank0(outcome)
        if isinstance(outcome, Exception):
            raise outcome
        if outcome is not None:
            with torch.no_grad():
                for param in self.model.parameters():
                    dist.broadcast(param.data, src=0)
            self.model._item_embedding_cache = None
        return outcome

    # --- training ----------------------------------------------------------------------------------------------
    def _item_batches(self, epoch_idx=0):
        if not self.distributed:
            items = torch.randperm(self.model.n_items - 1) + 1  # every real item, the padding item 0 left out
            return list(torch.split(items, self.model.pretrain_batch_size))
        return shard_item_batches(self.model.n_items, self.model.pretrain_batch_size, self.config["seed"] + epoch_idx,
                                  self.rank, self.world_size)

    def _train_epoch(self, train_data, epoch_idx, loss_func=None, show_progress=False):
        self.model.train()
        self.train_position = [epoch_idx, 0]  # epoch and step for the non-finite-loss message
        loss_func = loss_func or self.model.calculate_loss
        batches = self._item_batches(epoch_idx)
        if show_progress:
            batches = tqdm(batches, total=len(batches), ncols=100, desc=set_color(f"Train {epoch_idx:>5}", "pink"))
        total_loss = 0.0
        for items in batches:
            task = alternation(self.model.facet_alternation, self.model.n_heads, epoch_idx, self.global_step)
            self.model.select_task(task)
            self.visited_tasks[self.model.head_tasks[task] + f"@head{task + 1}"] += 1
            interaction = Interaction({self.model.ITEM_ID: items}).to(self.device)
            self.optimizer.zero_grad()
            loss = loss_func(interaction)
            if self.distributed:
                loss.backward()
                loss = self._all_reduce_gradients(loss)  # every rank checks and steps on the same numbers
                self._check_nan(loss)
            else:
                self._check_nan(loss)
                loss.backward()
            if self.clip_grad_norm:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), **self.clip_grad_norm)
            self.optimizer.step()
            total_loss += loss.item()
            self.global_step += 1
        return total_loss

    def _valid_epoch(self, valid_data, show_progress=False):
        self.model.eval()
        scores = self.model.task_scores()
        result = {f"{name} p@{self.model.report_k}": round(value, 4) for name, value in scores.items()}
        return self._from_rank0((sum(scores.values()) / len(scores), result))

    def _save_checkpoint(self, epoch, verbose=True, **kwargs):
        saved_model_file = kwargs.pop("saved_model_file", None)
        failure = None
        if self.rank == 0:  # the one writer; a failed write is raised on every rank, none is left waiting
            try:
                if saved_model_file is None:
                    saved_model_file = training_state.claim_checkpoint_name(self)
                self.model.save_text_checkpoint(saved_model_file, epoch=epoch, report=kwargs.pop("report", None))
            except (RecBoleFameError, OSError) as error:
                failure = error
                if saved_model_file is not None:  # a failed first write leaves no file, not the claim
                    training_state.forget_claim(saved_model_file)
        if self.distributed:  # the name rank 0 claimed, on every rank
            self.saved_model_file = self._from_rank0(self.saved_model_file)
            self.checkpoint_name_claimed = True
        saved_model_file = saved_model_file or self.saved_model_file
        failure = self._from_rank0(failure)
        if failure is not None:
            raise failure
        if verbose:
            self.logger.info(set_color("Saving current", "blue") + f": {saved_model_file}")

    def fit(self, train_data, valid_data=None, verbose=True, saved=True, show_progress=False, callback_fn=None):
        best_valid_score, best_valid_result = super().fit(
            train_data, valid_data, verbose=verbose, saved=saved, show_progress=show_progress, callback_fn=callback_fn
        )
        epoch = None
        if saved:
            metadata = self._load_best(self.saved_model_file, missing_ok=True)
            epoch = metadata.get("epoch") if metadata else None
        self.model.eval()
        self.report = self._from_rank0(self.model.disentanglement_report())
        if saved:
            self._save_checkpoint(epoch, verbose=False, report=self.report)
            self._barrier()  # the checkpoint is complete when fit returns, on every rank
        self.logger.info(
            set_color("Text pre-training", "yellow")
            + f": heads trained for {dict(self.visited_tasks)} steps; best epoch {epoch}\n"
            + format_report(self.report)
            + (f"\nCheckpoint for FAME: --text_pretrained_path={self.saved_model_file}" if saved else "")
        )
        return best_valid_score, best_valid_result

    def evaluate(self, eval_data, load_best_model=True, model_file=None, show_progress=False):
        if load_best_model and eval_data:
            checkpoint_file = model_file or self.saved_model_file
            self._load_best(checkpoint_file)
            self.logger.info(f"Loading the best text projections from {checkpoint_file}")
        return super().evaluate(eval_data, load_best_model=False, show_progress=show_progress)
