"""A training dataloader that groups samples of similar length into the same batch.

FAME trims each batch to its longest sequence (padding cannot change any score), so batches of similar
lengths cost less. With ``length_bucketing: True``, each epoch shuffles the samples, sorts them by length
within chunks of ``bucket_batches`` batches, cuts the chunks into batches and shuffles the batches. Every
sample is still seen once per epoch.
"""

import numpy as np
import torch
from recbole.data.dataloader import TrainDataLoader


class LengthBucketedTrainDataLoader(TrainDataLoader):
    def __init__(self, config, dataset, sampler, shuffle=True):
        self.bucket_batches = config["bucket_batches"] or 50
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
        batch_order = torch.randperm(len(pieces), generator=self._epoch_generator).numpy()
        return np.concatenate([pieces[i] for i in batch_order])

    def __iter__(self):
        self._order = self._new_order()
        return super().__iter__()

    def collate_fn(self, index):
        return super().collate_fn(self._order[np.array(index)])
