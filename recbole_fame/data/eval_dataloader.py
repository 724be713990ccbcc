"""RecBole's full-sort evaluation dataloader, optionally hiding every item of a user's history.

With ``eval_exclude_history: True`` the loader of a sequential model returns, with each batch, the
``history_index`` RecBole's trainer already applies for general models (``scores[history_index] = -inf``):
every item the user interacted with before the scored target, over the user's whole history
(:mod:`recbole_fame.data.history`). A target the user already had is hidden with the rest and counts as a
miss, also when fewer than k items are left visible and the top k reaches the hidden ones
(:mod:`recbole_fame.collector`). Non-sequential models are RecBole's as they are: RecBole
already hides their training (and, at test, validation) items.
"""

from logging import getLogger

from recbole.data.dataloader import FullSortEvalDataLoader as RecBoleFullSortEvalDataLoader

from recbole_fame.data.history import HISTORY_LENGTH_FIELD


class FullSortEvalDataLoader(RecBoleFullSortEvalDataLoader):
    """Args as RecBole's, plus ``history`` (:class:`~recbole_fame.data.history.UserHistory` or None: hide nothing
    beyond what RecBole hides)."""

    def __init__(self, config, dataset, sampler, shuffle=False, history=None):
        self.history = history
        super().__init__(config, dataset, sampler, shuffle=shuffle)

    def collate_fn(self, index):
        interaction, history_index, positive_u, positive_i = super().collate_fn(index)
        if self.history is not None and self.is_sequential:
            history_index = self.history.hidden(interaction[self.uid_field], interaction[HISTORY_LENGTH_FIELD])
        return interaction, history_index, positive_u, positive_i

    def repeated_target_count(self):
        """How many of the loader's samples have a target the user had already interacted with."""
        feat = self._dataset.inter_feat
        repeated = self.history.repeated_targets(feat[self.uid_field], feat[HISTORY_LENGTH_FIELD],
                                                 feat[self.iid_field])
        return int(repeated.sum())


def hide_history(config, valid_data, test_data, history):
    """The validation and test loaders rebuilt to hide every user's earlier items; logs the repeated targets."""
    loaders = []
    for phase, loader in (("valid", valid_data), ("test", test_data)):
        loader = FullSortEvalDataLoader(config, loader._dataset, loader._sampler, history=history)
        repeated = loader.repeated_target_count()
        getLogger().info(
            f"eval_exclude_history: every earlier item of a user is hidden at {phase}; {repeated} of "
            f"{len(loader._dataset)} {phase} targets were already in their user's history and count as misses."
        )
        loaders.append(loader)
    return loaders
