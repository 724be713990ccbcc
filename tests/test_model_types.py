"""Any RecBole model through the plugin's runner: one model of each of RecBole's model types."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from recbole_fame import run_recbole_fame
from recbole_fame.errors import DatasetNotFoundError, MissingPackageError
from tests.conftest import TEST_DATA, tiny_settings

REPO = Path(__file__).resolve().parents[1]

METRICS = {f"{m}@{k}" for m in ("hit", "ndcg") for k in (5, 10, 20)}


def knowledge_graph_data(folder):
    """tests/test_data/tiny plus the .kg and .link files RecBole's knowledge-aware models read: every item is an
    entity, linked to its brand and genre entities."""
    data = folder / "kg_data" / "tiny"
    shutil.copytree(TEST_DATA / "tiny", data)
    header, *rows = (data / "tiny.item").read_text().splitlines()
    links, triples = ["item_id:token\tentity_id:token"], ["head_id:token\trelation_id:token\ttail_id:token"]
    for row in rows:
        item, _, genres, brand = row.split("\t")
        links.append(f"{item}\te_{item}")
        triples.append(f"e_{item}\thas_brand\tbrand_{brand}")
        triples += [f"e_{item}\thas_genre\tgenre_{genre}" for genre in genres.split()]
    (data / "tiny.link").write_text("\n".join(links) + "\n")
    (data / "tiny.kg").write_text("\n".join(triples) + "\n")
    return data.parent


@pytest.mark.parametrize("model", ["BPR", "FM", "GRU4Rec", "CKE"])
def test_runner_trains_one_model_of_each_recbole_model_type(settings, tmp_path, model):
    """General (BPR), context-aware (FM: needs numpy's np.long alias, which RecBole's Config sets; evaluated as in
    RecBole's quick start, AUC and LogLoss on labels), sequential
    (GRU4Rec) and knowledge-aware (CKE: needs the .kg and .link files) models train and test through the runner."""
    overrides = {"epochs": 1}
    if model == "FM":  # RecBole's context-aware settings: labels from the rating's threshold, labelled evaluation
        overrides.update(data_path=str(rated_data(tmp_path)), threshold={"rating": 4}, load_col=None)
    if model == "CKE":  # every column, the items' token_seq fields too (RecBole's loading of them fails on pandas 3)
        overrides.update(data_path=str(knowledge_graph_data(tmp_path)), load_col=None)
    result = run_recbole_fame(model=model, dataset="tiny", config_dict=settings(**overrides), saved=True)
    assert set(result["test_result"]) == ({"auc", "logloss"} if model == "FM" else METRICS)
    assert all(0 <= value <= 1 for key, value in result["test_result"].items() if key != "logloss")


def rated_data(folder):
    """tests/test_data/tiny with a rating column (1-5, a fixed pattern), for the context-aware models' labels
    (RecBole's threshold)."""
    data = folder / "rated_data" / "tiny"
    shutil.copytree(TEST_DATA / "tiny", data)
    header, *rows = (data / "tiny.inter").read_text().splitlines()
    lines = [header + "\trating:float"] + [f"{row}\t{1 + number * 7 % 5}" for number, row in enumerate(rows)]
    (data / "tiny.inter").write_text("\n".join(lines) + "\n")
    return data.parent


def test_recbole_settings_of_the_model_type_stay_over_the_plugins_sequential_protocol():
    """RecBole's quick-start settings for a model's type (labelled evaluation and the rating threshold of its
    context-aware models on ml-100k, the kg and link columns of its knowledge-aware models, DIN's sampled
    evaluation) are not replaced by the plugin's overall.yaml and ml-100k.yaml (which once left FM without its
    rating column and CKE without its kg); the plugin's protocol stays for the sequential models."""
    from recbole_fame import Config

    def config(model, **settings):
        return Config(model=model, dataset="ml-100k", config_dict={"use_gpu": False, "state": "ERROR", **settings})

    fm = config("FM")
    assert fm["threshold"] == {"rating": 4} and "rating" in fm["load_col"]["inter"]
    assert fm["eval_args"]["mode"] == {"valid": "labeled", "test": "labeled"} and fm["valid_metric"] == "AUC"
    cke = config("CKE")
    assert cke["load_col"]["kg"] == ["head_id", "relation_id", "tail_id"] and "link" in cke["load_col"]
    assert config("DIN")["eval_args"]["mode"] == {"valid": "uni100", "test": "uni100"}
    sasrec = config("SASRec")
    assert sasrec["load_col"]["inter"] == ["user_id", "item_id", "timestamp"] and sasrec["valid_metric"] == "NDCG@10"
    assert sasrec["eval_args"]["mode"] == {"valid": "full", "test": "full"}
    assert config("FM", valid_metric="LogLoss")["valid_metric"] == "LogLoss"  # the user's settings still win


@pytest.mark.parametrize("model", ["KD_DAGFM", "LightGCN"])
def test_runner_trains_the_models_the_zoo_fixes_touched(settings, tmp_path, model):
    """KD_DAGFM: labelled evaluation has no positive_u (the plugin's collector failed on it); LightGCN builds its
    adjacency with scipy's dok_matrix._update, which scipy 1.13 removed (the runner adds it back). Both read the
    items' token_seq fields (RecBole's loading of them fails on pandas 3)."""
    overrides = {"epochs": 1, "load_col": None}
    if model == "KD_DAGFM":
        overrides.update(data_path=str(rated_data(tmp_path)), threshold={"rating": 4})
    result = run_recbole_fame(model=model, dataset="tiny", config_dict=settings(**overrides), saved=True)
    expected = {"auc", "logloss"} if model == "KD_DAGFM" else METRICS
    assert set(result["test_result"]) == expected
    assert all(0 <= value <= 1 for key, value in result["test_result"].items() if key != "logloss")


def test_the_runners_scipy_method_fills_a_dok_matrix_as_scipy_1_12_did():
    """RecBole's graph models call dok_matrix._update({(row, column): value}); scipy 1.13 removed it (on Python
    3.12+: AttributeError), and add_scipy_dok_update puts it back there (scipy 1.12's own is left as it is)."""
    import numpy as np
    import scipy.sparse as sp

    from recbole_fame.compat import add_scipy_dok_update

    had = hasattr(sp.dok_matrix, "_update")
    add_scipy_dok_update()
    try:
        matrix = sp.dok_matrix((2, 3), dtype=np.float32)
        matrix._update({(0, 1): 1.0, (np.int32(1), np.int64(2)): 2.0})
        assert matrix.toarray().tolist() == [[0, 1, 0], [0, 0, 2]] and matrix.nnz == 2
    finally:
        if not had:
            del sp.dok_matrix._update


def test_importing_the_plugin_leaves_scipys_dok_matrix_as_it_is():
    code = ("import scipy.sparse as s; before = '_update' in vars(s.dok_matrix); import recbole_fame; "
            "print(before, '_update' in vars(s.dok_matrix))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=str(REPO))).stdout.split()
    assert out[0] == out[1]


@pytest.mark.parametrize("model, error, names", [
    ("CKE", DatasetNotFoundError, ["tiny.kg (the knowledge graph", "tiny.link (the items' entities"]),
    ("GRU4RecKG", DatasetNotFoundError, ["tiny.ent (additional_feat_suffix"]),
    ("NCL", MissingPackageError, ["needs the package faiss", "pip install faiss-cpu"]),
    ("KGIN", MissingPackageError, ["needs the package torch_scatter", "pip install torch-scatter"]),
])
def test_a_model_whose_files_or_package_are_missing_is_refused_before_training(settings, tmp_path, model, error,
                                                                                names):
    """Before: CKE ended in RecBole's TypeError, GRU4RecKG in a ValueError traceback, NCL in a
    ModuleNotFoundError after its first epoch, KGIN in one at its first step."""
    if error is MissingPackageError and importlib.util.find_spec(names[0].split()[-1]) is not None:
        pytest.skip(f"{names[0].split()[-1]} is installed here")
    if model == "KGIN":
        settings = lambda **overrides: tiny_settings(tmp_path, data_path=str(knowledge_graph_data(tmp_path)), **overrides)
    with pytest.raises(error) as raised:
        run_recbole_fame(model=model, dataset="tiny", config_dict=settings(epochs=1, load_col=None))
    assert all(name in str(raised.value) for name in names), str(raised.value)
    assert not (tmp_path / "saved").exists() or not list((tmp_path / "saved").iterdir())  # nothing trained


@pytest.mark.parametrize("model, stage", [("S3Rec", "pretrain"), ("RaCT", "actor_pretrain")])
def test_a_pre_training_stage_that_would_save_no_checkpoint_is_refused_before_training(settings, tmp_path, model,
                                                                                      stage):
    """S3Rec with --pretrain_epochs=1 (its save_step is 50) pre-trained, then ended in 'Checkpoint file not found'
    when the runner tested the checkpoint RecBole never wrote."""
    from recbole_fame.errors import ConfigurationError

    with pytest.raises(ConfigurationError) as raised:
        run_recbole_fame(model=model, dataset="tiny", config_dict=settings(train_stage=stage, pretrain_epochs=1,
                                                                           save_step=5, load_col=None))
    assert "--save_step=1" in str(raised.value) and f"train_stage {stage}" in str(raised.value)
    assert not (tmp_path / "saved").exists() or not list((tmp_path / "saved").iterdir())  # nothing trained
