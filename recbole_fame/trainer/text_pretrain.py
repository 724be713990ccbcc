"""The trainer of :class:`~recbole_fame.model.sequential_recommender.fametextpretrain.FAMETextPretrain`.

RecBole's :class:`~recbole.trainer.Trainer` with four changes:

* ``_train_epoch`` iterates over batches of items (``pretrain_batch_size``, all items shuffled each epoch)
  instead of the interaction loader, and alternates the heads' objectives by step or by epoch
  (``facet_alternation``); ``visited_tasks`` counts the steps each head was trained.
* ``_valid_epoch`` scores the heads on their own tasks (label precision@k of the facet, or text-neighbour
  overlap for identity heads); the mean drives RecBole's early stopping and best-epoch choice.
* ``_save_checkpoint`` writes the safe checkpoint FAME starts from (``<model>-<time>.safetensors`` plus a
  ``.json`` copy of its metadata, see :mod:`recbole_fame.text.checkpoint`) instead of a pickle.
* ``fit`` ends by reloading the best epoch, logging the facet-by-head table and storing it in the checkpoint;
  ``evaluate(load_best_model=True)`` reloads the best projections from that file before RecBole's usual
  full-sort evaluation of the model's text-similarity ranking.
"""

import os
from collections import Counter

import torch
from recbole.data.interaction import Interaction
from recbole.trainer import Trainer
from recbole.utils import set_color
from tqdm import tqdm

from recbole_fame.model.sequential_recommender.fametextpretrain import alternation
from recbole_fame.text.disentanglement import format_report
from recbole_fame.utils import require


class FAMETextPretrainTrainer(Trainer):
    def __init__(self, config, model):
        require(
            config["single_spec"] is not False,
            "FAMETextPretrain trains in one process (it trains small projections of cached text embeddings): "
            "run it without --nproc/--world_size.",
        )
        super().__init__(config, model)
        self.saved_model_file = os.path.splitext(self.saved_model_file)[0] + ".safetensors"
        self.global_step = 0
        self.visited_tasks = Counter()
        self.report = None

    def _item_batches(self):
        items = torch.randperm(self.model.n_items - 1) + 1  # every real item, the padding item 0 left out
        return list(torch.split(items, self.model.pretrain_batch_size))

    def _train_epoch(self, train_data, epoch_idx, loss_func=None, show_progress=False):
        self.model.train()
        self._recbole_fame_position = [epoch_idx, 0]  # epoch and step for the plugin's non-finite-loss message
        loss_func = loss_func or self.model.calculate_loss
        batches = self._item_batches()
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
        return sum(scores.values()) / len(scores), result

    def _save_checkpoint(self, epoch, verbose=True, **kwargs):
        saved_model_file = kwargs.pop("saved_model_file", self.saved_model_file)
        self.model.save_text_checkpoint(saved_model_file, epoch=epoch, report=kwargs.pop("report", None))
        if verbose:
            self.logger.info(set_color("Saving current", "blue") + f": {saved_model_file}")

    def fit(self, train_data, valid_data=None, verbose=True, saved=True, show_progress=False, callback_fn=None):
        best_valid_score, best_valid_result = super().fit(
            train_data, valid_data, verbose=verbose, saved=saved, show_progress=show_progress, callback_fn=callback_fn
        )
        epoch = None
        if saved and os.path.isfile(self.saved_model_file):
            epoch = self.model.load_text_checkpoint(self.saved_model_file).get("epoch")
        self.model.eval()
        self.report = self.model.disentanglement_report()
        if saved:
            self._save_checkpoint(epoch, verbose=False, report=self.report)
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
            self.model.load_text_checkpoint(checkpoint_file)
            self.logger.info(f"Loading the best text projections from {checkpoint_file}")
        return super().evaluate(eval_data, load_best_model=False, show_progress=show_progress)
