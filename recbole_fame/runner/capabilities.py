"""What a model can do in the plugin's training modes, in one place.

* ``supports_sequence_training``: the model computes a loss at every position of a whole training sequence
  (``train_mode: sequence``, :mod:`recbole_fame.data.dataset`).
* ``supports_batch_trimming``: the model's scores cannot depend on the padding after a sequence's last item,
  so the length-bucketed loader may cut a batch to its longest sequence (:mod:`recbole_fame.data.dataloader`).
* ``supports_train_exclude_history``: the model's loss honours ``train_exclude_history`` (its sequence's items
  out of each target's softmax).
* ``length_bucketing_refused``: why ``length_bucketing: True`` would change the model's objective (None: it
  does not).

The plugin's models declare them as class attributes (FAME, SASRecSeq); RecBole's classes, which know nothing
of them, are described by :data:`RECBOLE_MODELS`, keyed by class (module and name, so that nothing of RecBole
is imported here), each entry checked by a test. A class in neither (a user's subclass of a RecBole model) gets
the defaults: no sequence training, no trimming, bucketing allowed.
"""

DEFAULTS = {"supports_sequence_training": False, "supports_batch_trimming": False,
            "supports_train_exclude_history": False, "length_bucketing_refused": None}

_SEQUENTIAL = "recbole.model.sequential_recommender"

#: RecBole's models, by ``<module>.<class name>``
RECBOLE_MODELS = {
    # checked by tests/test_sequence_mode.py::test_trimming_a_batch_changes_no_score_of_a_trimmable_model:
    # SASRec and CORE mask the padding in attention, GRU4Rec is causal and reads position item_length - 1
    # (not FEARec, whose frequency filter reads the padded sequence)
    f"{_SEQUENTIAL}.sasrec.SASRec": {"supports_batch_trimming": True},
    f"{_SEQUENTIAL}.gru4rec.GRU4Rec": {"supports_batch_trimming": True},
    f"{_SEQUENTIAL}.core.CORE": {"supports_batch_trimming": True},
    # checked by tests/test_sequence_mode.py::test_bert4rec_is_refused_length_bucketing_for_a_reason
    f"{_SEQUENTIAL}.bert4rec.BERT4Rec": {
        "length_bucketing_refused": "RecBole's BERT4Rec averages its loss over the masked items of a batch and never "
        "counts a mask at the first position, so a batch of one-item sequences has no target and a NaN loss, and "
        "batches sorted by length would weigh each masked item differently from RecBole's shuffled batches",
    },
}


def capability(model_class, name):
    """The capability ``name`` (a key of :data:`DEFAULTS`) of ``model_class``."""
    if name not in DEFAULTS:
        raise KeyError(f"unknown capability {name!r}: one of {sorted(DEFAULTS)}")
    if hasattr(model_class, name):  # the plugin's models (and their subclasses) say it themselves
        return getattr(model_class, name)
    entry = RECBOLE_MODELS.get(f"{model_class.__module__}.{model_class.__qualname__}", {})
    return entry.get(name, DEFAULTS[name])


def supports_sequence_training(model_class):
    return bool(capability(model_class, "supports_sequence_training"))


def supports_batch_trimming(model_class):
    return bool(capability(model_class, "supports_batch_trimming"))


def supports_train_exclude_history(model_class):
    return bool(capability(model_class, "supports_train_exclude_history"))


def length_bucketing_refused(model_class):
    return capability(model_class, "length_bucketing_refused")
