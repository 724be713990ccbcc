"""Randomly drawn settings: every valid draw is accepted, and every draw with one setting out of range or of
the wrong type gets one ConfigurationError that names that setting (FAME and the text pre-training); and whole
runs with RecBole's common settings and FAME's drawn at random either work or end in one RecBoleFameError."""

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
    "text_item_embedding": (["start"], BAD_CHOICE),  # 'residual' and an anchor need text_pretrained_path
    "text_anchor": ([0, 0.0], [-0.1, "0.1", True, None, float("inf")]),
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


# ------------------------------------------------------------------ whole runs with settings drawn at random

RUN_SPACE = {  # setting: (valid values, bad values), as strings, the way --key=value passes them
    "model": (["FAME", "SASRec", "GRU4Rec", "SASRecSeq"], []),
    "epochs": (["1"], ["0", "-1", "two", "1.5"]),
    "train_batch_size": (["16", "64"], ["0", "-3", "big"]),
    "eval_batch_size": (["64", "4096"], ["0", "none"]),
    "learning_rate": (["0.001", "1e-2"], ["nan", "-0.1", "0", "fast"]),
    "weight_decay": (["0", "1e-4"], ["-1", "nan"]),
    "MAX_ITEM_LIST_LENGTH": (["5", "20"], ["0", "-1", "long"]),
    "stopping_step": (["1", "10"], ["0", "x"]),
    "eval_step": (["1"], ["0", "-2"]),
    "topk": (["[5,10]", "[10]", "10"], ["[0]", "[5,500]", "ten"]),
    "seed": (["1", "2020"], ["1.5", "abc"]),
    "learner": (["adam", "AdamW", "sgd"], ["sgdx", "1"]),
    "clip_grad_norm": (["None", "{'max_norm': 5.0}"], ["5", "[5]"]),
    "valid_metric": (["NDCG@10", "Hit@10"], ["NDCG@30", "MRR@10"]),
    "reproducibility": (["True", "false"], ["maybe", "2"]),
    "shuffle": (["True", "0"], ["no", "yes"]),
    "length_bucketing": (["False", "True"], ["on"]),
    "save_last_checkpoint": (["True", "0"], ["never"]),
    "trust_checkpoint": (["False"], ["no", "yes"]),
    "detect_anomaly": (["False"], ["off"]),
    "hidden_dropout_prob": (["0.1", "0.5"], []),
    "n_heads": (["1", "2"], ["0", "3"]),  # 3 does not divide hidden_size 16
    "hidden_size": (["16"], ["0", "15"]),
    "num_experts": (["1", "2"], []),
    "head_mixing": (["logits", "probs"], []),
    "scale_by_heads": (["False"], ["nope"]),
    "attention_residual": (["True", "False"], ["perhaps"]),
    "train_mode": (["prefix"], []),
}


@pytest.mark.parametrize("draw_seed", range(8))
def test_random_runs_work_or_end_in_one_plugin_error(settings, draw_seed):
    """Every setting the runner passes on, drawn at random for a whole (tiny, one-epoch) run: a valid draw either
    trains and tests or is refused with a RecBoleFameError (e.g. a combination a model refuses); a draw with one
    bad value always ends in a RecBoleFameError naming the setting, and never in a traceback or a result."""
    from recbole_fame import run_recbole_fame
    from recbole_fame.errors import RecBoleFameError

    rng = random.Random(draw_seed)
    drawn = {key: rng.choice(valid) for key, (valid, _) in RUN_SPACE.items()}
    bad_key = None
    if draw_seed % 2:  # every other draw gets one bad value
        bad_key = rng.choice([key for key, (_, bad) in RUN_SPACE.items() if bad])
        drawn[bad_key] = rng.choice(RUN_SPACE[bad_key][1])
    model = drawn.pop("model")
    config = settings(**drawn)
    try:
        result = run_recbole_fame(model=model, dataset="tiny", config_dict=config, saved=False)
    except RecBoleFameError as error:
        if bad_key is not None:
            assert bad_key in str(error), f"{bad_key}={drawn[bad_key]!r} gave: {error}"
        return
    assert bad_key is None, f"{bad_key}={drawn[bad_key]!r} was accepted: {result['test_result']}"
    assert result["epochs"] == 1 and result["test_result"]
