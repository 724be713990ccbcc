"""Randomly drawn settings: every valid draw is accepted, and every draw with one setting out of range or of
the wrong type gets one ConfigurationError that names that setting (FAME and the text pre-training)."""

import random

import pytest

from recbole_fame.errors import ConfigurationError
from recbole_fame.model.sequential_recommender import fame, fametextpretrain

BAD_INT = [0, -1, 2.5, "3", True, None, [2]]
BAD_PROBABILITY = [-0.1, 1, 1.5, "0.2", True, None]
BAD_CHOICE = ["nope", 0, None, True]

FAME_SPACE = {  # key: (valid values, bad values)
    "n_layers": ([1, 2, 3], BAD_INT),
    "n_heads": ([1, 2, 4, 8], BAD_INT),
    "hidden_size": ([64, 128], BAD_INT),
    "inner_size": ([32, 256], BAD_INT),
    "num_experts": ([1, 2, 4, 32], BAD_INT),
    "hidden_dropout_prob": ([0, 0.2, 0.5], BAD_PROBABILITY),
    "attn_dropout_prob": ([0.0, 0.5, 0.99], BAD_PROBABILITY),
    "loss_type": (["CE"], ["BPR", None, 1]),
    "head_mixing": (["logits", "probs"], BAD_CHOICE),
    "sequence_loss_weighting": (["target", "batch"], BAD_CHOICE),
    "attention_residual": ([True, False], ["yes", 1, None]),
    "scale_by_heads": ([False], ["yes", 1, None]),
    "facet_init": (["slice", "normal"], BAD_CHOICE),
    "combine_warm_starts": ([True, False], ["yes", 1, None]),
}
FAME_FIXED = {"pretrained_path": None, "text_pretrained_path": None}

TEXT_SPACE = {
    "n_heads": ([1, 2, 4], BAD_INT),
    "hidden_size": ([64, 128], BAD_INT),
    "text_max_length": ([16, 128], BAD_INT),
    "text_batch_size": ([1, 64], BAD_INT),
    "report_k": ([1, 10], BAD_INT),
    "score_last_items": ([1, 3], BAD_INT),
    "pretrain_batch_size": ([2, 512], BAD_INT + [1]),
    "extra_heads": (["identity", "cycle"], BAD_CHOICE),
    "facet_alternation": (["step", "epoch"], BAD_CHOICE),
    "temperature": ([0.05, 1, 2.5], [0, -0.1, "0.1", None]),
    "text_dropout": ([0, 0.1, 0.9], BAD_PROBABILITY),
    "projection_init_std": ([None, 0.01, 1], [0, -1, "0.1"]),
    "validation_items": ([0, 0.1, 0.5], [-0.1, 1, "0.1", None, True]),
}
TEXT_FIXED = {"text_fields": ["title"], "facet_fields": [], "text_encoder": "x", "text_cache_dir": None}


def draw(space, rng, fixed=None):
    settings = {key: rng.choice(valid) for key, (valid, _) in space.items()}
    settings.update(fixed or {})
    return settings


CASES = [("FAME", fame.check_settings, FAME_SPACE, FAME_FIXED),
         ("FAMETextPretrain", fametextpretrain.check_settings, TEXT_SPACE, TEXT_FIXED)]


@pytest.mark.parametrize("name,check,space,fixed", CASES, ids=[c[0] for c in CASES])
def test_random_settings_are_accepted_or_named(name, check, space, fixed):
    rng = random.Random(7)
    for _ in range(300):
        settings = draw(space, rng, fixed)
        settings["hidden_size"] = settings["n_heads"] * rng.choice([8, 16])  # valid draws divide evenly
        check(settings)  # a valid draw never fails
        key = rng.choice(list(space))
        settings[key] = rng.choice(space[key][1])
        with pytest.raises(ConfigurationError) as error:
            check(settings)
        assert key in str(error.value), f"{name}: {key}={settings[key]!r} gave: {error.value}"
