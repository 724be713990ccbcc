"""Regression tests of issue 17's review: each failed before its fix."""

import os

import pytest
import torch
from recbole.trainer import Trainer

from recbole_fame import FAME, Config, create_dataset, data_preparation, run_recbole_fame
from recbole_fame.explain import main as explain_main
from recbole_fame.quick_start import load_data_and_model
from recbole_fame.storage.training_state import changed_training_settings


def test_resume_compares_the_sequence_loss_weighting(settings):
    """A resumed run with another sequence_loss_weighting trains another objective: the resume names it."""
    saved = Config(model="FAME", dataset="tiny", config_dict=settings(train_mode="sequence"))
    config = Config(model="FAME", dataset="tiny", config_dict=settings(train_mode="sequence",
                                                                       sequence_loss_weighting="batch"))
    assert changed_training_settings(saved, config) == ["sequence_loss_weighting 'target' -> 'batch'"]


@pytest.mark.parametrize("key, value", [("train_batch_unit", "sequences"), ("eval_exclude_history", True)])
def test_resume_compares_the_batch_unit_and_the_protocol(settings, key, value):
    """Batches counted otherwise, or validation under another protocol (another early-stopping choice), make
    another run: the resume names the setting."""
    saved = Config(model="FAME", dataset="tiny", config_dict=settings(train_mode="sequence"))
    config = Config(model="FAME", dataset="tiny", config_dict=settings(train_mode="sequence", **{key: value}))
    assert [change.split()[0] for change in changed_training_settings(saved, config)] == [key]


# --- 1. a warm-started FAME reloads from its own checkpoint after the file it started from is gone ------------
def warm_started_fame(settings, tmp_path):
    """A FAME run warm-started from a SASRec checkpoint, whose file is deleted afterwards."""
    sasrec = run_recbole_fame(model="SASRec", dataset="tiny", config_dict=settings(epochs=1), saved=True)
    fame = run_recbole_fame(model="FAME", dataset="tiny", saved=True,  # its -last.pth kept for the resume below
                            config_dict=settings(epochs=2, pretrained_path=sasrec["saved_model_file"],
                                                 keep_last_checkpoint=True))
    os.remove(sasrec["saved_model_file"])
    return fame


def test_warm_started_fame_reloads_after_its_sasrec_checkpoint_is_gone(settings, tmp_path, capsys):
    fame = warm_started_fame(settings, tmp_path)
    checkpoint = torch.load(fame["saved_model_file"], weights_only=False)

    config, model, _, _, _, test_data = load_data_and_model(fame["saved_model_file"], checkpoint_dir=str(tmp_path))
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, checkpoint["state_dict"][name], rtol=0, atol=0, msg=name)
    model.eval()
    assert Trainer(config, model).evaluate(test_data, load_best_model=False) == pytest.approx(fame["test_result"])

    # the same rebuild done by hand, as RecBole's own load_data_and_model does it
    rebuilt = FAME(checkpoint["config"], test_data._dataset)
    rebuilt.load_state_dict(checkpoint["state_dict"])
    batch = next(iter(test_data))[0]
    torch.testing.assert_close(rebuilt.eval().full_sort_predict(batch), model.full_sort_predict(batch))
    rebuilt.train()  # training on from the loaded weights reads no file either
    assert not rebuilt.warm_start_pending

    assert explain_main(["--checkpoint", fame["saved_model_file"], "--user", "u1", "--trust_checkpoint"]) == 0
    assert "u1" in capsys.readouterr().out

    resumed = run_recbole_fame(model="FAME", dataset="tiny", saved=True, config_dict=settings(
        epochs=3, pretrained_path=checkpoint["config"]["pretrained_path"], resume_from=fame["last_checkpoint_file"]))
    assert fame["last_checkpoint_file"] and resumed["epochs"] == 3


def test_warm_start_happens_when_the_model_first_trains_or_scores(settings):
    sasrec = run_recbole_fame(model="SASRec", dataset="tiny", config_dict=settings(epochs=1), saved=True)
    weights = torch.load(sasrec["saved_model_file"], weights_only=False)["state_dict"]["item_embedding.weight"]
    config = Config(model="FAME", dataset="tiny", config_dict=settings(pretrained_path=sasrec["saved_model_file"]))
    train_data, _, _ = data_preparation(config, create_dataset(config))
    trained, scored = FAME(config, train_data._dataset), FAME(config, train_data._dataset)
    assert trained.warm_start_pending and not torch.equal(trained.item_embedding.weight.detach(), weights)
    trained.train()  # what RecBole's trainer does at each epoch's start
    scored.eval().full_sort_predict(next(iter(train_data)))
    for model in (trained, scored):
        assert not model.warm_start_pending
        torch.testing.assert_close(model.item_embedding.weight.detach(), weights, rtol=0, atol=0)


# --- cost: predict scores only the asked items --------------------------------------------------------------
@pytest.mark.parametrize("head_mixing", ["logits", "probs"])
def test_fame_predict_is_the_full_sort_score_of_the_asked_item(settings, head_mixing, monkeypatch):
    from recbole_fame.model.layers import FacetPrediction

    config = Config(model="FAME", dataset="tiny", config_dict=settings(head_mixing=head_mixing))
    train_data, _, _ = data_preparation(config, create_dataset(config))
    torch.manual_seed(0)
    model = FAME(config, train_data._dataset).double().eval()
    batch = next(iter(train_data))
    expected = model.full_sort_predict(batch).gather(1, batch[model.ITEM_ID].unsqueeze(1)).squeeze(1)
    if head_mixing == "logits":  # a sampled evaluation must not score every item
        monkeypatch.setattr(FacetPrediction, "scores", lambda *args: pytest.fail("scored every item"))
    torch.testing.assert_close(model.predict(batch), expected, atol=1e-12, rtol=0)
