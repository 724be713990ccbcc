"""Warm starts read when a model is first used, never once weights were loaded into it.

A model that starts from files (FAME from a SASRec checkpoint or the text pre-training, SASRecSeq from the
text pre-training) holds its start as pending loaders until it first trains (``model.train()``, which
RecBole's trainer calls at each epoch's start) or computes anything. ``load_state_dict`` cancels them: weights
loaded into the model (its own checkpoint: ``load_data_and_model``, ``explain``, a resume, RecBole's
``load_best_model``) already hold the start's result, so a checkpoint reloads after the files it started from
are gone. What the loaders import (RecBole's sequential models, whose ``sine.py`` switches autograd's anomaly
detection on) leaves the flag as it was.
"""

from recbole_fame.compat import anomaly_mode_kept


class DeferredStart:
    """Mixin for ``torch.nn.Module`` models: :meth:`defer_start` in ``__init__``, :meth:`warm_start` before
    the model computes."""

    _pending_start = None

    def defer_start(self, loaders):
        """Hold ``loaders`` (callables taking the model, applied in order) until the model is first used."""
        self._pending_start = list(loaders) or None
        self.register_load_state_dict_post_hook(DeferredStart._weights_loaded)

    @property
    def warm_start_pending(self):
        """True while the model still has to read the files it starts from."""
        return self._pending_start is not None

    def warm_start(self):
        """Apply the pending start now, if any; returns the model. A failed start stays pending."""
        pending, self._pending_start = self._pending_start, None
        if pending is None:
            return self
        try:
            with anomaly_mode_kept():
                for load in pending:
                    load(self)
        except BaseException:
            self._pending_start = pending  # not done: the next use tries again
            raise
        return self

    @staticmethod
    def _weights_loaded(module, incompatible_keys):
        module._pending_start = None

    def train(self, mode=True):
        if mode:
            self.warm_start()
        return super().train(mode)
