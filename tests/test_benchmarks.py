"""The benchmark recipes: parameters instead of Beauty's names, the interpreter of the venv, warm starts
without hand-copied model settings, logs without progress bars, and --help texts that are whole."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_DATA

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((REPO / "benchmarks" / "recipes").glob("*.sh"))
TINY = [f"data_path={TEST_DATA}", "load_col={'inter':['user_id','item_id','timestamp']}", "epochs=2",
        "hidden_size=16", "inner_size=32", "MAX_ITEM_LIST_LENGTH=20", "use_gpu=False", "state=INFO"]


def env():
    return dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_every_recipe_takes_its_dataset_and_interpreter_as_parameters(script):
    text = script.read_text()
    subprocess.run(["bash", "-n", str(script)], check=True)
    code = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    bare = [line for line in code if re.search(r"(^|[\s($;|&])python3? ", line) and "print(" not in line]
    assert not bare, f"{script.name} calls a bare python: {bare}"
    assert "PYTHON=${PYTHON:-.venv/bin/python}" in text
    assert "DATASET=${DATASET:-amazon-beauty}" in text
    assert "amazon-beauty" not in "\n".join(line for line in code if "DATASET=${DATASET" not in line
                                             and "WARM=" not in line and "--dataset=amazon-beauty" not in line
                                             or "--dataset=amazon-beauty" in line and "compare" in line)
    if "benchmarks.compare" in text and "--table_only" not in text.split("benchmarks.compare", 1)[1][:200]:
        assert "SEED=${SEED:-2020}" in text
    # results and checkpoints are parameters too (Beauty's folders by default)
    assert "results/beauty" not in "\n".join(line for line in code if "${" not in line), script.name


def test_compare_help_is_not_cut_mid_sentence():
    proc = subprocess.run([sys.executable, "-m", "benchmarks.compare", "--help"], capture_output=True,
                          text=True, env=env(), cwd=REPO, check=True)
    description = " ".join(proc.stdout.split("\n\n")[1].split())
    assert description.endswith("wall time per epoch and parameter count.")
    assert "warm_start=LABEL" in proc.stdout


def test_compare_warm_starts_fame_from_a_sequence_mode_sasrec_without_copied_settings(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.compare", "--dataset=tiny", f"--out={out}", "--seed=1",
         "--set", *TINY, f"checkpoint_dir={tmp_path / 'saved'}", "--models",
         "SASRec (sequence mode)=SASRecSeq:n_heads=2,train_mode=sequence; "
         "FAME (warm start)=FAME:warm_start=SASRec (sequence mode),num_experts=2"],
        cwd=tmp_path, capture_output=True, text=True, env=env(), timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    sasrec = json.loads((out / "SASRec__sequence_mode_-seed1.json").read_text())
    fame = json.loads((out / "FAME__warm_start_-seed1.json").read_text())
    assert fame["settings"]["pretrained_path"] == sasrec["checkpoint"]
    assert fame["settings"]["n_heads"] == 2 and fame["settings"]["hidden_size"] == 16  # from the checkpoint
    assert fame["settings"]["inner_size"] == 32 and "warm_start" not in fame["settings"]
    assert "\r" not in proc.stdout + proc.stderr  # no progress bars in the logs
    assert "| FAME (warm start) |" in proc.stdout  # the table


def load_text_benchmark():
    import importlib

    return importlib.import_module("benchmarks.text_pretrain.run")


def test_text_benchmark_reads_lists_config_files_and_follows_the_pretrainings_heads(tmp_path, monkeypatch):
    bench = load_text_benchmark()
    assert bench.parse_settings(["facet_fields=['a','b']", "epochs=3", "train_mode=sequence"]) == {
        "facet_fields": ["a", "b"], "epochs": 3, "train_mode": "sequence"}
    with pytest.raises(SystemExit, match="quote its items"):
        bench.parse_settings(["facet_fields=[a,b]"])
    runs = []

    def fake_run(model, dataset, settings, config_files=None):
        runs.append((model, dict(settings), config_files))
        return {"checkpoint": str(tmp_path / "t.safetensors"), "command": bench.command(model, dataset, settings, config_files)}

    monkeypatch.setattr(bench, "run", fake_run)
    monkeypatch.setattr(bench, "read_text_metadata",
                        lambda path: {"n_heads": 2, "hidden_size": 32, "report": {}, "encoder": {"name": "x"}})
    monkeypatch.setattr(bench, "format_report", lambda report: "")
    monkeypatch.setattr(bench, "write_markdown", lambda out: None)
    bench.main(["--dataset=ml-100k", f"--out={tmp_path}", "--config_files=a.yaml b.yaml",
                "--pretrain_set", "n_heads=2", "facet_fields=['class','release_year']", "--set", "epochs=1"])
    (pre, pre_settings, files), (_, fame_settings, _), (_, text_settings, _) = runs
    assert pre == "FAMETextPretrain" and pre_settings["facet_fields"] == ["class", "release_year"]
    assert files == ["a.yaml", "b.yaml"]
    assert fame_settings["n_heads"] == 2 and fame_settings["hidden_size"] == 32 and fame_settings["epochs"] == 1
    assert text_settings["text_pretrained_path"] == str(tmp_path / "t.safetensors")
    assert '--facet_fields="[\'class\', \'release_year\']"' in bench.command(pre, "ml-100k", pre_settings)
