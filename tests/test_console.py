"""The console of a run: progress, the epochs' lines, and a short summary at the end; the log file keeps the rest."""

import os
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np

from recbole_fame.runner.console import metrics_table, summary_text
from tests.conftest import HUNG_AFTER_SECONDS, TEST_DATA

REPO = Path(__file__).resolve().parents[1]


def run_runner(tmp_path, *extra):
    args = [sys.executable, str(REPO / "run_recbole_fame.py"), "--model=FAME", "--dataset=tiny",
            f"--data_path={TEST_DATA}", "--load_col={'inter': ['user_id', 'item_id', 'timestamp']}",
            f"--checkpoint_dir={tmp_path / 'saved'}", "--epochs=2", "--hidden_size=16", "--inner_size=32",
            "--n_heads=2", "--num_experts=2", "--MAX_ITEM_LIST_LENGTH=20", "--use_gpu=False", *extra]
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=HUNG_AFTER_SECONDS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_the_runner_ends_with_a_summary_not_recboles_wall_of_config(tmp_path):
    proc = run_runner(tmp_path)
    out, err = proc.stdout, proc.stderr
    assert "test result (the best validation checkpoint):" in out
    assert "ndcg" in out and "@10" in out and "best validation NDCG@10" in out
    assert "np.float64" not in out and "OrderedDict" not in out
    [checkpoint] = [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("best checkpoint: ")]
    assert Path(tmp_path, checkpoint).is_file() or Path(checkpoint).is_file()
    [log] = [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("full log: ")]
    log_text = Path(tmp_path, log).read_text() if not Path(log).is_absolute() else Path(log).read_text()
    console = out + err
    # what the console no longer shows, and the log file still has
    for wall in ("General Hyper Parameters", "learning_rate", "Trainable parameters", "The number of users",
                 "FutureWarning"):
        assert wall not in console, wall
    for kept in ("General Hyper Parameters", "learning_rate", "Trainable parameters", "test result"):
        assert kept in log_text, kept
    # what it shows: a progress bar and each epoch's training and evaluation line
    assert "Train     0" in err and "100%" in err
    assert "epoch 1 training" in err and "epoch 1 evaluating" in err
    assert not list((tmp_path / "saved").glob("*-last.pth"))  # removed at the normal end of the run


def test_console_full_is_recboles_console(tmp_path):
    proc = run_runner(tmp_path, "--console=full", "--show_progress=False")
    assert "General Hyper Parameters" in proc.stdout + proc.stderr
    assert "test result" in proc.stdout + proc.stderr


def test_metrics_print_as_plain_numbers_in_a_table():
    result = OrderedDict([("hit@5", np.float64(0.05)), ("hit@10", 0.1), ("ndcg@5", np.float32(0.025)),
                          ("ndcg@10", 0.0512), ("mrr@10", 0.02), ("gauc", 0.7)])
    table = metrics_table(result)
    lines = table.splitlines()
    assert lines[0].split() == ["@5", "@10"]
    assert lines[1].split() == ["hit", "0.0500", "0.1000"]
    assert lines[2].split() == ["ndcg", "0.0250", "0.0512"]
    assert lines[3].split() == ["mrr", "-", "0.0200"]
    assert lines[4].split() == ["gauc", "0.7000"]
    text = summary_text({"model": "FAME", "best_valid_score": np.float64(0.06), "best_epoch": 3, "epochs": 9,
                         "seconds_per_epoch": 1.25, "test_result": result, "saved_model_file": "saved/x.pth"},
                        {"valid_metric": "NDCG@10", "dataset": "ml-100k"})
    assert "best validation NDCG@10 0.0600 at epoch 3" in text and "best checkpoint: saved/x.pth" in text
    assert "np." not in text


def test_the_text_pretraining_names_what_its_results_measure():
    """FAMETextPretrain's validation score is a facet precision and its test 'result' a text-similarity ranking:
    the summary says so instead of calling them a recommender's validation and test results."""
    result = {"model": "FAMETextPretrain", "best_valid_score": 0.4, "best_epoch": 1, "epochs": 2,
              "seconds_per_epoch": 1.0, "test_result": {"ndcg@10": 0.01}, "saved_model_file": "saved/x.safetensors"}
    text = summary_text(result, {"valid_metric": "NDCG@10", "dataset": "ml-100k"})
    assert "best facet precision" in text and "NDCG@10" not in text
    assert "text-similarity ranking of the next item" in text and "test result" not in text


def test_each_run_of_a_process_writes_its_own_log_file(tmp_path):
    """RecBole's init_logger installs its console and file handlers only on a root logger without any, so every
    later run of a process (a tuning sweep, benchmarks.compare) wrote into the first run's log file."""
    code = (
        "from pathlib import Path\n"
        "from recbole_fame import run_recbole_fame\n"
        "from recbole_fame.runner.console import log_file\n"
        "from tests.conftest import tiny_settings\n"
        "for seed in (11, 12):\n"
        "    run_recbole_fame(model='FAME', dataset='tiny', config_dict=tiny_settings(Path('.'), epochs=1, seed=seed,\n"
        "                                                                           state='INFO'))\n"
        "    print('log file:', log_file())\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=HUNG_AFTER_SECONDS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    logs = [line.split(": ", 1)[1] for line in proc.stdout.splitlines() if line.startswith("log file: ")]
    assert len(logs) == len(set(logs)) == 2
    for log, seed, other in ((logs[0], 11, 12), (logs[1], 12, 11)):
        text = Path(tmp_path, log).read_text()
        assert f"\nseed = {seed}\n" in text and f"\nseed = {other}\n" not in text, log
        assert text.count("The running environment of this training") == 1, log  # one run's end, its own
