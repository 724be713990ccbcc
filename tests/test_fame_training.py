"""FAME trains: normalised weights, gradients everywhere, small configurations, the runner end to end,
the warm start from SASRec and the drop-in RecBole pipeline."""

import os
import shutil

import pytest
import torch
from recbole.config import Config as RecBoleConfig
from recbole.data import create_dataset as recbole_create_dataset
from recbole.data import data_preparation
from recbole.model.sequential_recommender import SASRec
from recbole.trainer import Trainer
from recbole.utils import init_seed

from recbole_fame import FAME, Config, create_dataset, objective_function, run_recbole_fame
from recbole_fame.errors import CheckpointError
from tests.conftest import TEST_DATA

METRICS = {f"{m}@{k}" for m in ("hit", "ndcg") for k in (5, 10, 20)}


def model_and_batch(settings, **overrides):
    config = Config(model="FAME", dataset="tiny", config_dict=settings(**overrides))
    train_data, _, _ = data_preparation(config, create_dataset(config))
    torch.manual_seed(0)
    model = FAME(config, train_data._dataset).warm_start()  # what its first training step or score would do
    return model, next(iter(train_data))


@pytest.mark.parametrize("n_heads,num_experts", [(2, 4), (1, 1), (4, 1), (1, 3)])
def test_one_step_trains_every_parameter(settings, n_heads, num_experts):
    model, batch = model_and_batch(settings, n_heads=n_heads, num_experts=num_experts)
    assert (model.facet_prediction.gate is None) == (n_heads == 1)
    assert (model.moe_attention.router is None) == (num_experts == 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    loss = model.calculate_loss(batch)
    assert torch.isfinite(loss)
    loss.backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, f"{name} got no gradient"
    optimizer.step()
    assert all(not torch.equal(before[name], p) for name, p in model.named_parameters())


def test_gate_and_router_weights_are_distributions(settings):
    model, batch = model_and_batch(settings, n_heads=4, num_experts=3)
    model.eval()
    out = model.explain(batch[model.ITEM_SEQ], batch[model.ITEM_SEQ_LEN])
    for key, size in (("gate", 4), ("expert_weights", 3)):
        weights = out[key]
        assert weights.shape[-1] == size
        assert (weights >= 0).all()
        torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:-1]))
    assert out["head_scores"].shape == (len(batch), 4, model.n_items)
    assert out["scores"].shape == (len(batch), model.n_items)


def test_runner_trains_fame_and_reloads_best_checkpoint(settings, tmp_path):
    result = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(), saved=True)
    assert set(result["test_result"]) == METRICS
    assert result["model"] == "FAME"
    assert result["saved_model_file"].startswith(str(tmp_path / "saved"))
    assert all(0 <= v <= 1 for v in result["test_result"].values())


@pytest.mark.parametrize("baseline", ["SASRec", "GRU4Rec", "BERT4Rec", "CORE", "FEARec"])
def test_runner_trains_recbole_baselines(settings, baseline):
    result = run_recbole_fame(model=baseline, dataset="tiny", config_dict=settings(epochs=1), saved=True)
    assert set(result["test_result"]) == METRICS


def test_objective_function_returns_what_hypertuning_reads(settings):
    config = settings(model="FAME", dataset="tiny", epochs=1)
    result = objective_function(config_dict=config, saved=False)
    assert {"model", "best_valid_score", "valid_score_bigger", "best_valid_result", "test_result"} <= set(result)


def sasrec_checkpoint(settings):
    return run_recbole_fame(model="SASRec", dataset="tiny", config_dict=settings(epochs=1), saved=True)[
        "saved_model_file"
    ]


def test_warm_start_keeps_sasrec_parts_and_starts_new_parts_fresh(settings):
    path = sasrec_checkpoint(settings)
    sasrec = torch.load(path, weights_only=False)["state_dict"]
    model, batch = model_and_batch(settings, pretrained_path=path)
    own = model.state_dict()
    torch.testing.assert_close(own["item_embedding.weight"], sasrec["item_embedding.weight"])
    torch.testing.assert_close(own["position_embedding.weight"], sasrec["position_embedding.weight"])
    for name in ("dense_1.weight", "LayerNorm.bias"):
        key = f"trm_encoder.layer.0.feed_forward.{name}"
        torch.testing.assert_close(own[key], sasrec[key])
    torch.testing.assert_close(own["moe_attention.key.weight"], sasrec["trm_encoder.layer.1.multi_head_attention.key.weight"])
    torch.testing.assert_close(own["moe_attention.value.bias"], sasrec["trm_encoder.layer.1.multi_head_attention.value.bias"])
    fresh, _ = model_and_batch(settings)
    torch.testing.assert_close(own["moe_attention.expert_query"], fresh.state_dict()["moe_attention.expert_query"])
    assert torch.isfinite(model.calculate_loss(batch))


def test_warm_started_fame_feeds_its_last_layer_what_sasrec_fed_its_own(settings):
    """Section 4.4.2 swaps only the last layer: the hidden states entering it are SASRec's."""
    path = sasrec_checkpoint(settings)
    checkpoint = torch.load(path, weights_only=False)
    config = Config(model="FAME", dataset="tiny", config_dict=settings(pretrained_path=path))
    train_data, _, _ = data_preparation(config, create_dataset(config))
    model, batch = FAME(config, train_data._dataset), next(iter(train_data))
    sasrec = SASRec(checkpoint["config"], train_data._dataset)
    sasrec.load_state_dict(checkpoint["state_dict"])
    model.eval(), sasrec.eval()
    item_seq, item_seq_len = batch[model.ITEM_SEQ], batch[model.ITEM_SEQ_LEN]
    captured = {}
    model.moe_attention.register_forward_hook(lambda module, args, out: captured.update(fame=args[0]))
    sasrec.trm_encoder.layer[-1].register_forward_hook(lambda module, args, out: captured.update(sasrec=args[0]))
    with torch.no_grad():
        model.forward(item_seq, item_seq_len)
        sasrec.forward(item_seq, item_seq_len)
    length = int(item_seq_len.max())  # FAME trims the padding beyond the longest sequence
    torch.testing.assert_close(captured["fame"], captured["sasrec"][:, :length])


def test_warm_start_refuses_other_size_heads_and_dataset(settings, tmp_path):
    path = sasrec_checkpoint(settings)
    with pytest.raises(CheckpointError, match=r"hidden_size is 16, this run's is 32"):
        model_and_batch(settings, pretrained_path=path, hidden_size=32, inner_size=64)
    with pytest.raises(CheckpointError, match=r"n_heads is 2, this run's is 4.*same hidden_size, n_layers, n_heads"):
        model_and_batch(settings, pretrained_path=path, n_heads=4)
    other = tmp_path / "data"
    shutil.copytree(TEST_DATA / "tiny", other / "tiny2")
    (other / "tiny2" / "tiny.inter").rename(other / "tiny2" / "tiny2.inter")
    config = Config(model="FAME", dataset="tiny2", config_dict=settings(data_path=str(other), pretrained_path=path))
    train_data, _, _ = data_preparation(config, create_dataset(config))
    with pytest.raises(CheckpointError, match=r"dataset is 'tiny', this run's is 'tiny2'"):
        FAME(config, train_data._dataset).train()  # read when it starts training


def test_warm_start_refuses_checkpoint_outside_checkpoint_dir(settings, tmp_path):
    path = sasrec_checkpoint(settings)
    elsewhere = tmp_path / "elsewhere.pth"
    shutil.copy(path, elsewhere)
    with pytest.raises(CheckpointError, match="trust_checkpoint"):
        model_and_batch(settings, pretrained_path=str(elsewhere))
    model, _ = model_and_batch(settings, pretrained_path=str(elsewhere), trust_checkpoint=True)
    assert model is not None


def drop_in_config(tmp_path):
    return RecBoleConfig(
        model=FAME,
        dataset="tiny",
        config_dict={
            "data_path": str(TEST_DATA),
            "checkpoint_dir": str(tmp_path / "saved"),
            "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
            "epochs": 1,
            "state": "ERROR",
            "show_progress": False,
            "use_gpu": False,
        },
    )


@pytest.mark.parametrize("way", ["the plugin's Trainer", "RecBole's Trainer after patch_recbole()"])
def test_drop_in_recbole_pipeline_needs_nothing_fame_specific(tmp_path, request, way):
    """RecBole's own Config, create_dataset and data_preparation with only data settings, and either the
    plugin's Trainer or RecBole's own after the explicit recbole_fame.patch_recbole()."""
    from recbole_fame.trainer import Trainer as PluginTrainer

    if way.startswith("RecBole"):
        request.getfixturevalue("patched_recbole")
    config = drop_in_config(tmp_path)
    init_seed(config["seed"], config["reproducibility"])  # as RecBole's run_recbole does
    train_data, valid_data, test_data = data_preparation(config, recbole_create_dataset(config))
    model = FAME(config, train_data._dataset)
    assert (model.n_heads, model.num_experts, model.hidden_size) == (4, 4, 64)  # FAME.yaml defaults
    trainer = (PluginTrainer if way.startswith("the plugin") else Trainer)(config, model)
    trainer.fit(train_data, valid_data, saved=True, show_progress=False)
    result = trainer.evaluate(test_data, load_best_model=True)
    assert "ndcg@10" in result and 0 <= result["ndcg@10"] <= 1


def test_without_the_patch_recbole_trainer_is_recbole_own(tmp_path):
    """Importing recbole_fame changes nothing of RecBole: its Trainer still loads with torch's defaults (which,
    on torch >= 2.6, refuse RecBole's pickled Config) and keeps no last-epoch checkpoint."""
    config = drop_in_config(tmp_path)
    init_seed(config["seed"], config["reproducibility"])  # as RecBole's run_recbole does
    train_data, valid_data, test_data = data_preparation(config, recbole_create_dataset(config))
    trainer = Trainer(config, FAME(config, train_data._dataset))
    trainer.fit(train_data, valid_data, saved=True, show_progress=False)
    assert [p.name for p in (tmp_path / "saved").iterdir()] == [os.path.basename(trainer.saved_model_file)]
    if tuple(int(part) for part in torch.__version__.split(".")[:2]) >= (2, 6):
        with pytest.raises(Exception, match="weights_only"):
            trainer.evaluate(test_data, load_best_model=True)
