"""python -m recbole_fame.recommend and recbole_fame.recommendations: every user's top-k list is the test ranking's,
for the plugin's models and RecBole's, under both protocols; the output files; bad input."""

import csv
import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from recbole.data.interaction import Interaction

from recbole_fame import recommendations, run_recbole_fame
from recbole_fame.storage import files
from recbole_fame.errors import CheckpointError, ConfigurationError
from recbole_fame.quick_start import load_data_and_model
from recbole_fame.recommend import main
from recbole_fame.recommend import lists as lists_module
from recbole_fame.recommend import writers
from recbole_fame.runner.registry import get_trainer
from tests.conftest import TEST_DATA, tiny_settings
from tests.test_text_pretrain import LOAD_COL as TEXT_LOAD_COL
from tests.test_text_pretrain import text_settings, tiny_encoder  # noqa: F401  (a fixture)

REPO = Path(__file__).resolve().parents[1]
MAX_LENGTH = 8  # shorter than many users' histories (6 to 16 items): the input window is full for them
SEQUENTIAL = {"FAME": {"eval_exclude_history": True}, "SASRecSeq": {}, "GRU4Rec": {},
              "DIN": {"train_neg_sample_args": {"distribution": "uniform", "sample_num": 1}}}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, one_torch_thread):
    """One checkpoint per model, trained for one epoch on a copy of the tiny fixture: FAME under the hidden-history
    protocol, SASRecSeq, RecBole's GRU4Rec and DIN (which has no full_sort_predict) under RecBole's, and a BPR."""
    root = tmp_path_factory.mktemp("recommend")
    data = root / "data"
    shutil.copytree(TEST_DATA / "tiny", data / "tiny")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setattr(sys, "argv", sys.argv[:1])  # RecBole's Config would read pytest's arguments as settings
        checkpoints = {}
        for model, settings in {**SEQUENTIAL, "BPR": {}}.items():
            config = tiny_settings(root, data_path=str(data), epochs=1, MAX_ITEM_LIST_LENGTH=MAX_LENGTH, **settings)
            checkpoints[model] = run_recbole_fame(model=model, dataset="tiny", config_dict=config)["saved_model_file"]
    return SimpleNamespace(root=root, data=data, **checkpoints)


def user_items(user, folder=TEST_DATA / "tiny"):
    """The user's items in time order, read straight from the .inter file."""
    rows = [line.split("\t") for line in (folder / "tiny.inter").read_text().splitlines()[1:]]
    return [item for _, item, _ in sorted((float(t), i, u) for u, i, t in rows if u == user)]


def reference_ranking(checkpoint, topk, exclude_history=None):
    """Each user's top-k as the test evaluation ranks: RecBole's trainer's own full-sort batch evaluation over the
    checkpoint's test dataloader. Returns {user token: (item tokens, scores)}, items scored -inf left out."""
    config_dict = None if exclude_history is None else {"eval_exclude_history": exclude_history}
    config, model, dataset, _, _, test_data = load_data_and_model(checkpoint, trust_checkpoint=True,
                                                                  config_dict=config_dict)
    model.eval()
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
    trainer.tot_item_num, trainer.item_tensor = dataset.item_num, dataset.get_item_feature()
    ranking = {}
    with torch.no_grad():
        for batch in test_data:
            interaction, scores, _, _ = trainer._full_sort_batch_eval(batch)
            values, ids = torch.topk(scores, topk)
            for user, row_ids, row_values in zip(interaction[dataset.uid_field].tolist(), ids, values):
                finite = torch.isfinite(row_values)
                ranking[dataset.id2token(dataset.uid_field, user)] = (
                    list(dataset.id2token(dataset.iid_field, row_ids[finite].numpy())), row_values[finite])
    return ranking


def left(folder):
    """The files in ``folder``, but the RecBole log folder the checkpoint's loading writes (./log)."""
    return sorted(name for name in os.listdir(folder) if name != "log")


def as_lists(frame):
    """{user: (items, scores)} of a recommendations DataFrame, checking that each user's ranks are 1, 2, ..."""
    lists = {}
    for user, rows in frame.groupby("user", sort=False):
        assert rows["rank"].tolist() == list(range(1, len(rows) + 1))
        lists[user] = (rows["item"].tolist(), torch.tensor(rows["score"].to_numpy()))
    return lists


@pytest.mark.parametrize("model", sorted(SEQUENTIAL))
@pytest.mark.parametrize("exclude_history", [None, True, False])
def test_lists_equal_the_test_rankings_top_k_for_every_user(trained, model, exclude_history):
    """None: the checkpoint's own protocol (FAME's hides the history, the others' do not). DIN is evaluated on
    sampled candidates (RecBole's quick-start setting for DIN, eval_args mode uni100), which record no history to
    hide: asking to hide it is refused with the way to rank without it."""
    checkpoint = getattr(trained, model)
    if model == "DIN" and exclude_history:
        with pytest.raises(ConfigurationError, match="does not record it.*--keep_history"):
            recommendations(checkpoint, topk=10, exclude_history=exclude_history, trust_checkpoint=True)
        return
    expected = reference_ranking(checkpoint, 10, exclude_history)
    frame = recommendations(checkpoint, topk=10, exclude_history=exclude_history, trust_checkpoint=True)
    got = as_lists(frame)
    assert list(frame.columns) == ["user", "rank", "item", "score"]
    assert set(got) == set(expected) and len(got) == 80
    for user, (items, scores) in expected.items():
        assert got[user][0] == items, user
        torch.testing.assert_close(got[user][1], scores, rtol=1e-5, atol=1e-6)
    hides = exclude_history if exclude_history is not None else model == "FAME"
    earlier = {user: set(user_items(user)[:-1]) for user in got}  # the whole history, beyond the input window
    listed_earlier = sum(len(earlier[user] & set(items)) for user, (items, _) in got.items())
    assert (listed_earlier == 0) if hides else (listed_earlier > 0)


@pytest.mark.parametrize("model, exclude_history", [("FAME", None), ("SASRecSeq", None), ("SASRecSeq", True)])
def test_position_next_ranks_after_the_whole_history(trained, model, exclude_history):
    """Recomputed from the .inter file: the input is the user's last MAX_ITEM_LIST_LENGTH items, test item
    included; hidden (FAME's protocol, or asked): every item the user had, test item included."""
    checkpoint = getattr(trained, model)
    _, net, dataset, _, _, _ = load_data_and_model(checkpoint, trust_checkpoint=True)
    net.eval()
    hides = exclude_history or model == "FAME"
    frame = recommendations(checkpoint, topk=10, position="next", exclude_history=exclude_history,
                            trust_checkpoint=True)
    got = as_lists(frame)
    assert len(got) == 80
    for user, (items, scores) in got.items():
        history = [int(i) for i in dataset.token2id(dataset.iid_field, user_items(user))]
        window = history[-MAX_LENGTH:]
        sequence = torch.zeros(1, MAX_LENGTH, dtype=torch.long)
        sequence[0, : len(window)] = torch.tensor(window)
        with torch.no_grad():
            expected = net.full_sort_predict(Interaction({net.ITEM_SEQ: sequence,
                                                          net.ITEM_SEQ_LEN: torch.tensor([len(window)])}))[0]
        expected[0] = -float("inf")
        if hides:
            expected[history] = -float("inf")
        values, ids = torch.topk(expected, 10)
        assert items == list(dataset.id2token(dataset.iid_field, ids.numpy())), user
        torch.testing.assert_close(scores, values, rtol=1e-5, atol=1e-6)
    # the test item is now history: with hiding no list holds it; the inputs differ from the test position's
    test_items = {user: user_items(user)[-1] for user in got}
    if hides:
        assert not any(test_items[user] in items for user, (items, _) in got.items())
    at_test = as_lists(recommendations(checkpoint, topk=10, exclude_history=exclude_history, trust_checkpoint=True))
    assert {user: items for user, (items, _) in at_test.items()} != {user: items for user, (items, _) in got.items()}


def test_listed_users_in_the_files_order_once_each(trained, tmp_path, capsys):
    users = tmp_path / "users.txt"
    users.write_text("u3\n\n  u1 \nu3\n")
    out = tmp_path / "recs.csv"
    assert main(["--checkpoint", trained.FAME, "--trust_checkpoint", "--users", str(users), "--topk", "5",
                 "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"Wrote the top-5 lists of 2 users (10 rows) to {out}"
    rows = list(csv.DictReader(out.open()))
    assert [row["user"] for row in rows] == ["u3"] * 5 + ["u1"] * 5
    every = as_lists(recommendations(trained.FAME, topk=5, trust_checkpoint=True))
    assert [row["item"] for row in rows] == every["u3"][0] + every["u1"][0]


def test_unknown_users_are_one_error_naming_them(trained, tmp_path):
    """The real entry point in a fresh process: one line, exit status 2, no traceback, no output file."""
    users = tmp_path / "users.txt"
    users.write_text("u3\nnobody\nu1\n[PAD]\nghost\n")
    out = tmp_path / "recs.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "recbole_fame.recommend", "--checkpoint", trained.FAME, "--trust_checkpoint",
         "--users", str(users), "--out", str(out)],
        cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1"),
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: Unknown users, 3 of the 5 listed: 'nobody', '[PAD]', 'ghost'.")
    assert "valid tokens look like: u1, u2" in proc.stderr and proc.stderr.count("\n") == 1
    assert not out.exists() and left(tmp_path) == ["users.txt"]
    with pytest.raises(ConfigurationError, match="Unknown users, 1 of the 2 listed: 'nobody'"):
        recommendations(trained.FAME, users=["u1", "nobody"], trust_checkpoint=True)
    with pytest.raises(ConfigurationError, match="users must be a list of user tokens, got the string 'u1'"):
        recommendations(trained.FAME, users="u1", trust_checkpoint=True)


def test_csv_and_jsonl_hold_the_lists(trained, tmp_path):
    frame = recommendations(trained.SASRecSeq, topk=7, trust_checkpoint=True)
    assert len(frame) == 80 * 7
    for option, name in ((None, "recs.csv"), ("jsonl", "recs.txt")):
        out = tmp_path / name
        args = ["--checkpoint", trained.SASRecSeq, "--trust_checkpoint", "--topk", "7", "--out", str(out)]
        assert main(args + (["--format", option] if option else [])) == 0
        text = out.read_text(encoding="utf-8")
        if option is None:
            assert text.startswith("user,rank,item,score\n")
            rows = list(csv.DictReader(text.splitlines()))
            assert [(r["user"], int(r["rank"]), r["item"]) for r in rows] == list(
                zip(frame["user"], frame["rank"], frame["item"]))
            assert np.array_equal(np.array([r["score"] for r in rows], dtype=np.float32), frame["score"])  # exact
        else:
            lines = [json.loads(line) for line in text.splitlines()]
            assert [line["user"] for line in lines] == list(dict.fromkeys(frame["user"]))
            for line in lines:
                rows = frame[frame["user"] == line["user"]]
                assert line["items"] == rows["item"].tolist()
                assert np.array_equal(np.array(line["scores"], dtype=np.float32), rows["score"])


def test_output_format_needs_an_extension_or_format(trained, tmp_path, capsys):
    assert main(["--checkpoint", trained.FAME, "--trust_checkpoint", "--out", str(tmp_path / "recs.txt")]) == 2
    err = capsys.readouterr().err
    assert "Cannot tell the output format" in err and "--format" in err and err.count("\n") == 1
    assert not (tmp_path / "recs.txt").exists()


def test_parquet_without_pyarrow_says_what_to_install(trained, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if not installed: importing it raises ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    out = tmp_path / "recs.parquet"
    assert main(["--checkpoint", trained.FAME, "--trust_checkpoint", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Writing Parquet needs pyarrow") and "pip install pyarrow" in err
    assert not out.exists() and left(tmp_path) == []


def test_parquet_holds_the_lists(trained, tmp_path):
    parquet = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "recs.parquet"
    written = recommendations(trained.GRU4Rec, topk=4, out=str(out), batch_size=16, trust_checkpoint=True)
    assert written == (str(out), 80, 320)
    table = parquet.read_table(out).to_pandas()
    frame = recommendations(trained.GRU4Rec, topk=4, trust_checkpoint=True)
    assert table["user"].tolist() == frame["user"].tolist() and table["item"].tolist() == frame["item"].tolist()
    assert table["rank"].tolist() == frame["rank"].tolist() and table["score"].tolist() == frame["score"].tolist()


def test_rows_stream_to_the_file_batch_by_batch(trained, tmp_path, monkeypatch):
    """Memory holds one batch: each batch's rows are written as it finishes, into the temporary file, and the
    output appears only when complete."""
    out = tmp_path / "recs.csv"
    seen = []
    real_write = writers.AtomicOutput.write

    def write(self, frame):
        assert not out.exists()
        seen.append((frame["user"].nunique(), os.path.getsize(self.tmp)))
        real_write(self, frame)

    monkeypatch.setattr(writers.AtomicOutput, "write", write)
    written = recommendations(trained.FAME, topk=3, out=str(out), batch_size=16, trust_checkpoint=True)
    assert written.users == 80 and [users for users, _ in seen] == [16] * 5
    sizes = [size for _, size in seen]
    assert sizes == sorted(sizes) and len(set(sizes)) == 5  # the earlier batches are on disk already
    assert len(out.read_text().splitlines()) == 1 + 80 * 3


def test_a_failure_while_ranking_leaves_no_file(trained, tmp_path, monkeypatch):
    out = tmp_path / "recs.csv"
    out.write_text("the earlier file\n")
    calls = []
    real_frame = lists_module.batch_frame

    def failing_frame(*args):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("ranking failed")
        return real_frame(*args)

    monkeypatch.setattr(lists_module, "batch_frame", failing_frame)
    with pytest.raises(RuntimeError, match="ranking failed"):
        recommendations(trained.FAME, topk=3, out=str(out), batch_size=16, trust_checkpoint=True)
    assert out.read_text() == "the earlier file\n" and left(tmp_path) == ["recs.csv"]


def test_a_full_disk_is_one_error_naming_the_file_and_leaves_none(trained, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out" / "recs.jsonl"
    real_write = writers._JsonlWriter.write

    def write(self, frame):
        if self.file.tell() > 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_write(self, frame)

    monkeypatch.setattr(writers._JsonlWriter, "write", write)
    assert main(["--checkpoint", trained.FAME, "--trust_checkpoint", "--out", str(out), "--batch_size", "16"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: Cannot write the recommendations {out}: the disk holding {out.parent} is full")
    assert "Nothing was left half-written" in err and err.count("\n") == 1
    assert left(out.parent) == []


def test_an_unwritable_folder_is_one_error_before_loading(trained, tmp_path, capsys, monkeypatch):
    def create_temporary(path):  # as in a read-only folder (root ignores chmod)
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(files.temporary_name(path)))

    def no_loading(*args, **kwargs):
        raise AssertionError("the checkpoint was loaded before the output was known to be writable")

    monkeypatch.setattr(files, "create_temporary", create_temporary)
    monkeypatch.setattr(lists_module, "read_checkpoint_header", no_loading)
    out = tmp_path / "locked" / "recs.csv"
    assert main(["--checkpoint", trained.FAME, "--trust_checkpoint", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"Cannot write the recommendations {out}: the folder {out.parent} is not writable" in err
    assert "pass another output file" in err and "Traceback" not in err and not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--topk", "0"], "error: topk must be an integer >= 1, got 0"),
    (["--topk", "51"], "error: topk 51 is more than the 50 items of dataset tiny: choose 1 to 50."),
    (["--users", "missing.txt"], "error: --users file not found: missing.txt."),
    (["--batch_size", "0"], "error: batch_size must be an integer >= 1, got 0"),
])
def test_bad_arguments_are_one_error(trained, tmp_path, capsys, args, message):
    out = tmp_path / "recs.csv"
    assert main(["--checkpoint", trained.FAME, "--trust_checkpoint", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
    assert not out.exists() and left(tmp_path) == []


def test_checkpoint_of_a_model_that_is_not_sequential_is_refused(trained, tmp_path, capsys):
    assert main(["--checkpoint", trained.BPR, "--trust_checkpoint", "--out", str(tmp_path / "recs.csv")]) == 2
    err = capsys.readouterr().err
    assert f"error: recommend needs a sequential model's checkpoint, and {trained.BPR} holds BPR, a general model" in err
    assert err.count("\n") == 1 and left(tmp_path) == []
    assert main(["--checkpoint", str(tmp_path / "none.pth"), "--out", str(tmp_path / "recs.csv")]) == 2
    assert f"error: Checkpoint file not found: {tmp_path / 'none.pth'}" in capsys.readouterr().err


def test_crafted_checkpoint_outside_saved_is_never_unpickled(trained, tmp_path, capsys):
    import pickle

    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "shared" / "evil.pth"
    evil.parent.mkdir()
    evil.write_bytes(pickle.dumps(Exploit()))
    out = tmp_path / "recs.csv"
    assert main(["--checkpoint", str(evil), "--out", str(out)]) == 2  # the test runs in tmp_path: ./saved is empty
    err = capsys.readouterr().err
    assert err.startswith(f"error: Refusing to unpickle {evil}") and "--trust_checkpoint" in err
    with pytest.raises(CheckpointError, match="Refusing to unpickle"):
        recommendations(str(evil))
    assert not marker.exists() and not out.exists()
    # a genuine checkpoint outside ./saved needs the opt-in too; inside ./saved it does not
    assert main(["--checkpoint", trained.FAME, "--out", str(out)]) == 2
    assert "Refusing to unpickle" in capsys.readouterr().err and not out.exists()
    os.chdir(trained.root)
    assert len(recommendations(os.path.relpath(trained.FAME), topk=2)) == 160


def test_progress_bar_on_stderr(trained, capsys):
    recommendations(trained.FAME, topk=2, batch_size=32, trust_checkpoint=True, show_progress=True)
    captured = capsys.readouterr()
    assert "recommend" in captured.err and "80/80" in captured.err and captured.out == ""
    recommendations(trained.FAME, topk=2, trust_checkpoint=True, show_progress=False)
    assert capsys.readouterr().err == ""


def test_a_cold_item_from_the_text_start_is_recommended(settings, tiny_encoder, tmp_path):
    """i51 is in the .item file with i6's text and in no interaction: FAME started from the text pre-training
    scores it as i6, and recommend lists it wherever the test ranking puts it in the top k. (FAME as the runner
    saves it from the text start, after a step of learning rate 1e-12: fine-tuning at a usual rate pushes an item
    that is never a target below the others, as the softmax lowers every non-target.)"""
    data = tmp_path / "cold"
    shutil.copytree(TEST_DATA / "tiny", data / "tiny")
    item_file = data / "tiny" / "tiny.item"
    twin = next(line for line in item_file.read_text().splitlines() if line.startswith("i6\t"))
    item_file.write_text(item_file.read_text() + "i51" + twin[2:] + "\n")
    assert "i51" not in (data / "tiny" / "tiny.inter").read_text()
    base = lambda **o: settings(data_path=str(data), **o)
    text = run_recbole_fame(model="FAMETextPretrain", dataset="tiny",
                            config_dict=text_settings(base, tiny_encoder, n_heads=4))["saved_model_file"]
    checkpoint = run_recbole_fame(model="FAME", dataset="tiny", config_dict=base(
        load_col=TEXT_LOAD_COL, n_heads=4, epochs=1, learning_rate=1e-12, text_pretrained_path=text))["saved_model_file"]

    everything = as_lists(recommendations(checkpoint, topk=51, trust_checkpoint=True))
    expected = reference_ranking(checkpoint, 51)
    top = as_lists(recommendations(checkpoint, topk=20, trust_checkpoint=True))
    reached = 0
    for user, (items, scores) in everything.items():
        score = dict(zip(items, scores.tolist()))
        assert score == pytest.approx(dict(zip(expected[user][0], expected[user][1].tolist())), rel=1e-5)
        assert score["i51"] == score["i6"]  # its text twin
        # the model ranks i51 within the top 20, ties with it included: every top-20 list must hold it
        if sum(value >= score["i51"] for value in score.values()) <= 20:
            reached += 1
            assert "i51" in top[user][0], user
    assert reached > 0
