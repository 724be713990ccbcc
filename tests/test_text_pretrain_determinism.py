"""FAMETextPretrain is deterministic: two runs with the same seed and settings give the same metrics, report
and saved tensors, whether the item text embeddings are encoded from scratch or read from the cache.

Two encoders: the tiny random BERT of test_text_pretrain.py, and the same BERT saved without its pooler, whose
loading initialises the missing pooler from torch's global random state (as a sentence-transformers folder
without pooler weights does). Unless encoding leaves that state as it was, a run that encodes and a run that
reads the cache start the projections from different random numbers."""

import shutil

import pytest
import torch
from safetensors.torch import load_file
from transformers import BertModel

from recbole_fame import run_recbole_fame
from recbole_fame.text import load_text_checkpoint
from recbole_fame.text.encoder import TextEncoder
from tests.conftest import tiny_settings
from tests.test_text_pretrain import text_settings, tiny_encoder  # noqa: F401  (tiny_encoder: a fixture)


@pytest.fixture(scope="module")
def encoder_without_pooler(tmp_path_factory, tiny_encoder):  # noqa: F811
    """The tiny BERT saved without its pooler: loading it draws random numbers for the pooler's weights."""
    folder = tmp_path_factory.mktemp("tiny_bert_no_pooler")
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(f"{tiny_encoder}/{name}", folder / name)
    full = BertModel.from_pretrained(tiny_encoder)
    no_pooler = BertModel(full.config, add_pooling_layer=False)
    no_pooler.load_state_dict(full.state_dict(), strict=False)
    no_pooler.save_pretrained(str(folder))
    return str(folder)


@pytest.fixture(params=["complete", "without pooler"])
def encoder(request, tiny_encoder, encoder_without_pooler):  # noqa: F811
    return tiny_encoder if request.param == "complete" else encoder_without_pooler


def pretrain(folder, encoder, cache_dir, monkeypatch, **overrides):
    """One runner pass in ``folder`` (its own ./log and checkpoint_dir) with the text cache in ``cache_dir``;
    returns the runner's result and the saved checkpoint's tensors and metadata."""
    folder.mkdir()
    monkeypatch.chdir(folder)
    settings = text_settings(lambda **o: tiny_settings(folder, **o), encoder, n_heads=4, epochs=3,
                             text_cache_dir=str(cache_dir), **overrides)
    result = run_recbole_fame(model="FAMETextPretrain", dataset="tiny", config_dict=settings)
    tensors, metadata = load_text_checkpoint(result["saved_model_file"])
    return result, tensors, metadata


def comparable(result):
    """The parts of a runner result that must not change between equal runs (not the time per epoch)."""
    keys = ("best_valid_score", "best_valid_result", "test_result", "epochs", "best_epoch", "parameters")
    return {key: result[key] for key in keys}


def assert_same_run(first, second):
    (result_a, tensors_a, metadata_a), (result_b, tensors_b, metadata_b) = first, second
    assert comparable(result_a) == comparable(result_b)
    assert metadata_a == metadata_b  # the facet-by-head report, best epoch, encoder identity, settings
    assert set(tensors_a) == set(tensors_b) == {"item_embedding", "facet_projection", "facet_bias"}
    for name, tensor in tensors_a.items():
        assert torch.equal(tensor, tensors_b[name]), name


def cached_embedding(cache_dir):
    (path,) = cache_dir.glob("text-*.safetensors")
    return path.name, load_file(str(path))["embedding"]


def no_encoding(self, texts):
    raise AssertionError("the encoder ran although the cache holds the embeddings")


def test_same_seed_same_report_and_tensors_with_and_without_the_cache(encoder, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    scratch = pretrain(tmp_path / "scratch", encoder, cache, monkeypatch)  # encodes, fills the cache
    with monkeypatch.context() as patch:
        patch.setattr(TextEncoder, "encode", no_encoding)
        cached = pretrain(tmp_path / "cached", encoder, cache, monkeypatch)  # reads the cache
    assert_same_run(scratch, cached)

    again = pretrain(tmp_path / "again", encoder, tmp_path / "cache2", monkeypatch)  # encodes again
    assert_same_run(scratch, again)
    (name, embedding), (name2, embedding2) = cached_embedding(cache), cached_embedding(tmp_path / "cache2")
    assert name == name2 and torch.equal(embedding, embedding2)


def test_encoding_leaves_the_global_random_state_as_it_was(encoder_without_pooler):
    torch.manual_seed(0)
    state = torch.get_rng_state()
    first = TextEncoder(encoder_without_pooler, show_progress=False).encode(["red lipstick", "blue", "red lipstick"])
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(1)  # the random pooler is not used: the embeddings do not depend on the seed
    second = TextEncoder(encoder_without_pooler, show_progress=False).encode(["red lipstick", "blue", "red lipstick"])
    assert torch.equal(first, second) and torch.equal(first[0], first[2])


def test_another_seed_gives_other_projections(tiny_encoder, tmp_path, monkeypatch):  # noqa: F811
    """The comparison above can fail: another seed trains other projections from the same cached text."""
    cache = tmp_path / "cache"
    first = pretrain(tmp_path / "seed1", tiny_encoder, cache, monkeypatch)
    other = pretrain(tmp_path / "seed2", tiny_encoder, cache, monkeypatch, seed=2)
    assert not torch.equal(first[1]["facet_projection"], other[1]["facet_projection"])
