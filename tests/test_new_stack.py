"""What the newer stacks (Python 3.12/3.13, numpy 2, pandas 3, torch >= 2.6) changed, checked on every stack.

Each test passes on the 3.11 set (numpy 1.26, pandas 2, torch 2.13) as on the newer ones; scripts/check_stacks.sh
runs the suite on each.
"""

import math
import os
import shutil
import tempfile
from collections import OrderedDict

import numpy as np
import pandas as pd
import pytest

from conftest import TEST_DATA


def test_plain_numbers_keep_values_and_containers():
    from recbole_fame.runner.results import plain_numbers

    result = OrderedDict([("hit@5", np.float64(0.0183)), ("ndcg@10", np.float32(0.5)), ("n", np.int64(3))])
    plain = plain_numbers({"test_result": result, "pair": (np.float64(1.5), [np.bool_(True)]), "name": "FAME"})
    assert type(plain["test_result"]) is OrderedDict and list(plain["test_result"]) == ["hit@5", "ndcg@10", "n"]
    assert [type(v) for v in plain["test_result"].values()] == [float, float, int]
    assert plain["test_result"]["hit@5"] == 0.0183 and plain["pair"] == (1.5, [True]) and plain["name"] == "FAME"
    assert "np." not in repr(plain)


def test_run_returns_plain_floats_after_loading_its_best_checkpoint(settings):
    """numpy 2 printed the metrics as np.float64(...); and on torch >= 2.6 the best checkpoint (a pickle with
    RecBole's Config) loads for the test only through the plugin's loader (saved=True)."""
    from recbole_fame import run_recbole_fame

    result = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(epochs=1), saved=True)
    assert os.path.isfile(result["saved_model_file"])
    for key in ("best_valid_result", "test_result"):
        assert result[key] and all(type(v) is float for v in result[key].values()), result[key]
        assert "np." not in repr(result[key])
    assert type(result["best_valid_score"]) is float


def test_recbole_metrics_and_config_run_on_this_numpy(settings):
    """RecBole's Config assigned np.float_ and friends (gone in numpy 2), and its metrics use np.float and
    np.bool: with the plugin's Config they compute what they should."""
    from recbole.evaluator.metrics import GAUC, MAP, MRR, NDCG

    from recbole_fame import Config

    had_long = getattr(np, "long", None)
    config = Config(model="FAME", dataset="tiny", config_dict=settings(metrics=["MRR", "NDCG", "MAP"], topk=[2],
                                                                             valid_metric="NDCG@2"))
    assert getattr(np, "long", None) is had_long  # numpy 2's own np.long is not rebound
    pos_index = np.array([[False, True], [True, False]])
    pos_len = np.array([1, 1])
    assert MRR(config).metric_info(pos_index).tolist() == [[0.0, 0.5], [1.0, 1.0]]
    assert np.allclose(NDCG(config).metric_info(pos_index, pos_len), [[0.0, 1 / math.log2(3)], [1.0, 1.0]])
    assert np.allclose(MAP(config).metric_info(pos_index, pos_len), [[0.0, 0.5], [1.0, 1.0]])
    # two users, each with one positive among three items, ranked first and last
    assert GAUC(config).metric_info(np.array([3, 1]), np.array([3, 3]), np.array([1, 1])) == pytest.approx(0.5)


def _dataset_with_empty_sequence_cells(root):
    """tests/test_data/tiny as 'gappy', with some empty token_seq cells (genre, title) and a missing brand."""
    folder = root / "gappy"
    folder.mkdir(parents=True)
    shutil.copy(TEST_DATA / "tiny" / "tiny.inter", folder / "gappy.inter")
    lines = (TEST_DATA / "tiny" / "tiny.item").read_text().splitlines()
    rows = [line.split("\t") for line in lines[1:]]
    for n, row in enumerate(rows):
        if n % 7 == 3:
            row[2] = ""  # genre
        if n % 11 == 5:
            row[3] = ""  # brand
    rows[0][1] = ""  # a title
    (folder / "gappy.item").write_text("\n".join([lines[0]] + ["\t".join(row) for row in rows]) + "\n")
    return {row[0]: row for row in rows}


def _item_tokens(dataset, field, item):
    row = dataset.token2id(dataset.iid_field, item)
    ids = dataset.item_feat[field][row]
    ids = ids.tolist() if hasattr(ids, "tolist") else ids
    ids = ids if isinstance(ids, list) else [ids]
    return [dataset.field2id_token[field][int(i)] for i in ids if i != 0]


@pytest.mark.parametrize("train_mode, exclude_history", [("prefix", False), ("prefix", True), ("sequence", False)])
def test_empty_token_seq_cells_load_as_empty_sequences(tmp_path, settings, monkeypatch, train_mode, exclude_history):
    """pandas 3 (copy on write) broke RecBole's token_seq loading: an empty cell stopped it ('float' object has
    no attribute 'split') and any item token_seq field failed in _remap. The plugin's dataset classes load
    them on pandas 2 and 3 alike, and leave no temporary file behind."""
    from recbole_fame import Config, create_dataset

    rows = _dataset_with_empty_sequence_cells(tmp_path / "data")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    fields = ["item_id", "title", "genre", "brand"]
    config = Config(model="FAME", dataset="gappy", config_dict=settings(
        data_path=str(tmp_path / "data"), train_mode=train_mode, eval_exclude_history=exclude_history,
        load_col={"inter": ["user_id", "item_id", "timestamp"], "item": fields}))
    dataset = create_dataset(config)
    assert list(scratch.iterdir()) == []
    for item, row in rows.items():
        assert _item_tokens(dataset, "title", item) == row[1].split()
        assert _item_tokens(dataset, "genre", item) == row[2].split()
        assert _item_tokens(dataset, "brand", item) == ([row[3]] if row[3] else [])
    train = dataset.build()[0]
    assert len(train) > 0 and (getattr(dataset, "user_history", None) is not None) == exclude_history
    if int(pd.__version__.split(".")[0]) < 3 and train_mode == "prefix" and not exclude_history:
        # where RecBole's own loading works, the plugin's class gives exactly its features
        from recbole.data.dataset import SequentialDataset

        from recbole_fame.data.dataset import PrefixDataset

        ours, recbole = PrefixDataset(config), SequentialDataset(config)
        for feat in ("inter_feat", "item_feat"):
            theirs = getattr(recbole, feat)
            assert list(getattr(ours, feat).columns) == list(theirs.columns)
            for field in theirs.columns:
                a, b = getattr(ours, feat)[field].to_numpy(), theirs[field].to_numpy()
                assert a.dtype == b.dtype, (feat, field)
                if a.dtype == object:
                    assert all(np.array_equal(x, y) for x, y in zip(a, b)) and len(a) == len(b), (feat, field)
                else:
                    assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), (feat, field)
        assert {f: list(t) for f, t in ours.field2id_token.items()} == \
            {f: list(t) for f, t in recbole.field2id_token.items()}


def test_files_without_empty_sequence_cells_are_read_in_place():
    from recbole_fame.data.dataset import _without_empty_seq_cells

    for name in ("tiny.item", "tiny.inter"):
        assert _without_empty_seq_cells(str(TEST_DATA / "tiny" / name), "\t", " ", "utf-8") is None
