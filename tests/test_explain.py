"""python -m recbole_fame.explain: the report of one user's recommendation, and its bad inputs."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from recbole_fame import run_recbole_fame
from recbole_fame.explain import main
from recbole_fame.quick_start import load_data_and_model
from tests.conftest import HUNG_AFTER_SECONDS, TEST_DATA, tiny_settings

REPO = Path(__file__).resolve().parents[1]
LOAD_COL = {"inter": ["user_id", "item_id", "timestamp"], "item": ["item_id", "title"]}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, one_torch_thread):
    """A tiny FAME (H=2, N=3, items with titles) and a tiny SASRec, trained once for the module on a copy of
    the tiny fixture (conftest's ``tiny_settings``, what its ``settings`` fixture returns)."""
    root = tmp_path_factory.mktemp("explain")
    data = root / "data"
    shutil.copytree(TEST_DATA / "tiny", data / "tiny")
    cwd, argv = os.getcwd(), sys.argv
    os.chdir(root)
    sys.argv = sys.argv[:1]  # RecBole's Config would read pytest's arguments as settings
    try:
        common = dict(data_path=str(data), load_col=LOAD_COL, num_experts=3)
        fame = run_recbole_fame(model="FAME", dataset="tiny", config_dict=tiny_settings(root, **common), saved=True)
        sasrec = run_recbole_fame(model="SASRec", dataset="tiny", saved=True,
                                  config_dict=tiny_settings(root, data_path=str(data), epochs=1))
    finally:
        os.chdir(cwd)
        sys.argv = argv
    return SimpleNamespace(root=root, data=data, fame=fame["saved_model_file"], sasrec=sasrec["saved_model_file"])


def user_items(user):
    """The user's items in time order, read straight from the fixture's .inter file."""
    rows = [line.split("\t") for line in (TEST_DATA / "tiny" / "tiny.inter").read_text().splitlines()[1:]]
    return [item for _, item, _ in sorted((float(t), i, u) for u, i, t in rows if u == user)]


def fresh_scores(checkpoint, history_ids):
    """FAME's explain outputs recomputed independently for one sequence of internal item ids."""
    _, model, _, _, _, _ = load_data_and_model(checkpoint, trust_checkpoint=True)
    model.eval()
    seq = torch.zeros(1, model.max_seq_length, dtype=torch.long)
    seq[0, : len(history_ids)] = torch.tensor(history_ids)
    return model.explain(seq, torch.tensor([len(history_ids)]))


def ids_by_score(scores, k):
    """The k best item ids, the padding item 0 excluded."""
    scores = scores.clone()
    scores[0] = -float("inf")
    return torch.argsort(scores, descending=True)[:k].tolist()


def test_report_json_and_figure(trained, tmp_path, capsys):
    out_json, out_png = tmp_path / "u1.json", tmp_path / "u1.png"
    assert main(["--checkpoint", trained.fame, "--trust_checkpoint", "--user", "u1", "--topk", "5", "--json", str(out_json),
                 "--png", str(out_png)]) == 0
    text = capsys.readouterr().out
    for section in ("Recent history", "Held-out test item", "Gate weights per head", "Expert (router) weights",
                    "Head 1 top-5", "Head 2 top-5", "Fused top-5", "Equal-weight heads top-5",
                    "Held-out item rank among all items", "story number"):
        assert section in text

    report = json.loads(out_json.read_text())
    items = user_items("u1")
    assert [h["item"] for h in report["history"]] == items[:-1][-20:]  # the test input: all but the test item
    assert report["held_out"]["item"] == items[-1]
    assert f"story number {items[-1][1:]}" in report["held_out"]["title"]  # titles from tiny.item
    assert report["n_heads"] == 2 and report["num_experts"] == 3
    assert sum(report["gate"]) == pytest.approx(1, abs=1e-5)
    assert len(report["expert_weights"]) == 2
    assert all(len(w) == 3 and sum(w) == pytest.approx(1, abs=1e-5) for w in report["expert_weights"])

    out = fresh_scores(trained.fame, [h["id"] for h in report["history"]])
    fused, heads = out["scores"][0], out["head_scores"][0]
    held = report["held_out"]["id"]
    assert [i["id"] for i in report["fused"]["topk"]] == ids_by_score(fused, 5)
    assert [i["id"] for i in report["equal_weight"]["topk"]] == ids_by_score(heads.mean(0), 5)
    for h, head in enumerate(report["heads"]):
        assert [i["id"] for i in head["topk"]] == ids_by_score(heads[h], 5)
        assert head["gate"] == pytest.approx(report["gate"][h])
    masked = fused.clone()
    masked[0] = -float("inf")
    assert report["fused"]["held_out_rank"] == int((masked > masked[held]).sum()) + 1
    for ranked in [report["fused"], report["equal_weight"], *report["heads"]]:
        assert 0 not in [i["id"] for i in ranked["topk"]]  # padding is never recommended
        assert 1 <= ranked["held_out_rank"] <= report["n_items"]

    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out_png.stat().st_size > 20_000


def test_unknown_user_names_it_and_shows_examples(trained, tmp_path):
    """The real entry point in a fresh process: one message, exit status 2, no traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "recbole_fame.explain", "--checkpoint", trained.fame, "--trust_checkpoint",
         "--user", "nobody"],
        cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1"),
        capture_output=True, text=True, timeout=HUNG_AFTER_SECONDS,
    )
    assert proc.returncode == 2
    assert "Unknown user 'nobody'" in proc.stderr and "u1, u2" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_checkpoint_of_another_model_is_refused(trained, capsys):
    assert main(["--checkpoint", trained.sasrec, "--trust_checkpoint", "--user", "u1"]) == 2
    err = capsys.readouterr().err
    assert "explain needs a FAME checkpoint, this is SASRec" in err and "Traceback" not in err


def test_checkpoint_outside_saved_needs_the_opt_in(trained, capsys):
    assert main(["--checkpoint", trained.fame, "--user", "u1"]) == 2  # the test runs in another folder
    err = capsys.readouterr().err
    assert "Refusing to unpickle" in err and "Traceback" not in err


def test_dataset_without_the_checkpoints_items_is_refused(trained, tmp_path, capsys):
    """The checkpoint's dataset lost ten items since training (here: its data_path points at such a copy)."""
    smaller = tmp_path / "data" / "tiny"
    smaller.mkdir(parents=True)
    gone = {f"i{n}" for n in range(41, 51)}
    for name, column in (("tiny.inter", 1), ("tiny.item", 0)):
        lines = (trained.data / "tiny" / name).read_text().splitlines()
        (smaller / name).write_text("\n".join(l for l in lines if l.split("\t")[column] not in gone) + "\n")
    checkpoint = torch.load(trained.fame, weights_only=False)
    checkpoint["config"]["data_path"] = str(smaller)
    moved = tmp_path / "saved" / "FAME-moved.pth"
    moved.parent.mkdir()
    torch.save(checkpoint, moved)

    assert main(["--checkpoint", str(moved), "--user", "u1"]) == 2
    err = capsys.readouterr().err
    assert "does not hold the checkpoint's items" in err and "50 items" in err and "40 items" in err
    assert "Traceback" not in err


def crafted_pickle(folder, marker):
    """A .pth whose unpickling would create ``marker`` (what a malicious checkpoint would do)."""
    import pickle

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = folder / "evil.pth"
    path.write_bytes(pickle.dumps(Exploit()))
    return path


def test_crafted_checkpoint_outside_saved_is_never_unpickled(tmp_path, capsys):
    """explain used to unpickle the file (trust checked against the file's own folder) before refusing it."""
    marker = tmp_path / "pwned"
    evil = crafted_pickle(tmp_path, marker)  # the test runs in tmp_path: ./saved is tmp_path/saved
    assert main(["--checkpoint", str(evil), "--user", "u1"]) == 2
    err = capsys.readouterr().err
    assert "Refusing to unpickle" in err and str(evil) in err and "Traceback" not in err
    assert not marker.exists()
    with pytest.raises(Exception, match="Refusing to unpickle"):
        load_data_and_model(str(evil))
    assert not marker.exists()


def test_truncated_checkpoint_is_one_error_naming_the_file(trained, tmp_path, capsys):
    broken = tmp_path / "saved" / "FAME-truncated.pth"
    broken.parent.mkdir()
    data = Path(trained.fame).read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    assert main(["--checkpoint", str(broken), "--user", "u1"]) == 2
    err = capsys.readouterr().err
    assert f"Cannot read the checkpoint {broken}" in err and "truncated or corrupt" in err and "Traceback" not in err
    from recbole_fame.errors import CheckpointError

    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_data_and_model(str(broken))


@pytest.mark.parametrize("option", ["--json", "--png"])
def test_output_into_an_unwritable_folder_is_one_error(trained, tmp_path, capsys, monkeypatch, option):
    import errno

    from recbole_fame.storage import files

    def create_temporary(path):  # as in a read-only folder (root ignores chmod)
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(files.temporary_name(path)))

    monkeypatch.setattr(files, "create_temporary", create_temporary)
    out = tmp_path / "locked" / "u1.out"
    assert main(["--checkpoint", trained.fame, "--trust_checkpoint", "--user", "u1", option, str(out)]) == 2
    err = capsys.readouterr().err
    assert f"Cannot write the explanation" in err and str(out) in err and "is not writable" in err
    assert f"pass {option} a file in a folder you can write" in err and "Traceback" not in err
    assert not out.exists()


def test_report_hides_the_users_history_under_eval_exclude_history(tmp_path, capsys):
    """With eval_exclude_history the report ranks as the test does: none of the user's earlier items is listed."""
    settings = tiny_settings(tmp_path, epochs=1, eval_exclude_history=True, MAX_ITEM_LIST_LENGTH=5)
    checkpoint = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings)["saved_model_file"]
    out_json = tmp_path / "u1.json"
    assert main(["--checkpoint", checkpoint, "--trust_checkpoint", "--user", "u1", "--topk", "20",
                 "--json", str(out_json)]) == 0
    report = json.loads(out_json.read_text())
    earlier = set(user_items("u1")[:-1])  # the whole history, beyond the 5 items of the model's input
    assert len(report["history"]) == 5 and report["hidden_history_items"] == len(user_items("u1")) - 1
    for ranked in [report["fused"], report["equal_weight"], *report["heads"]]:
        assert not earlier & {i["item"] for i in ranked["topk"]}
