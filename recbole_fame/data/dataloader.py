"""A training dataloader that groups samples of similar length into the same batch.

With ``length_bucketing: True``, each epoch shuffles the samples, sorts them by length within chunks of
``bucket_batches`` batches, cuts the chunks into batches and shuffles the batches. Every sample is still seen once
per epoch. For the models that support batch trimming (:mod:`recbole_fame.runner.capabilities`; the run's plan says
so) each batch's sequence fields are also cut to its longest sequence, so batches of short sequences cost less:
those models' scores cannot depend on the padding after a sequence's last item (FAME and SASRecSeq trim it
themselves; RecBole's SASRec and CORE mask it in attention, GRU4Rec is causal and reads position
``item_length - 1``). Other models get bucketed batches at full width: FEARec, for one, filters the padded sequence
in the frequency domain, so its width matters.

Bucketing keeps a model's objective only where the batch loss is a mean over samples of one target each, as for
the models above. Models whose ``length_bucketing_refused`` capability gives a reason are refused with it.
"""

import numpy as np
import torch
from recbole.data.dataloader import TrainDataLoader

from recbole_fame.data.sorted_eval import trim_to_longest


class LengthBucketedTrainDataLoader(TrainDataLoader):
    """Args as RecBole's ``TrainDataLoader``, plus ``trims_batches``: cut each batch to its longest sequence (for
    a model that supports batch trimming, :class:`recbole_fame.runner.plan.RunPlan`)."""

    def __init__(self, config, dataset, sampler, shuffle=True, trims_batches=False):
        self.bucket_batches = config["bucket_batches"] or 50
        self.trims_batches = trims_batches
        self._order = None
        self._epoch_generator = torch.Generator().manual_seed(config["seed"])
        super().__init__(config, dataset, sampler, shuffle=False)  # the order is ours, see _new_order

    def _new_order(self):
        lengths = self._dataset.inter_feat[self._dataset.item_list_length_field].numpy()
        n = len(lengths)
        perm = torch.randperm(n, generator=self._epoch_generator).numpy()
        chunk = self.step * self.bucket_batches
        pieces = []
        for start in range(0, n, chunk):
            part = perm[start : start + chunk]
            part = part[np.argsort(lengths[part], kind="stable")]
            pieces.extend(np.split(part, range(self.step, len(part), self.step)))
        # RecBole cuts the order into batches of self.step from its start, so each piece must stay aligned:
        # the one piece shorter than a batch (the end of the last chunk) goes last, the full ones are shuffled.
        full = [piece for piece in pieces if len(piece) == self.step]
        short = [piece for piece in pieces if len(piece) != self.step]
        batch_order = torch.randperm(len(full), generator=self._epoch_generator).numpy()
        return np.concatenate([full[i] for i in batch_order] + short)

    def __iter__(self):
        self._order = self._new_order()
        return super().__iter__()

    def collate_fn(self, index):
        data = self._dataset[self._order[np.array(index)]]
        if self.trims_batches:
            trim_to_longest(data, self._dataset.item_list_length_field, self.config["LIST_SUFFIX"])
        return self._neg_sampling(self.transform(self._dataset, data))
