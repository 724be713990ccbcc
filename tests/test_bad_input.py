"""Mistakes end in one clear message (exit status 2), not a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import run_recbole_fame
from recbole_fame.checkpoint import load_recbole_checkpoint
from recbole_fame.errors import CheckpointError
from tests.conftest import TEST_DATA

REPO = Path(__file__).resolve().parents[1]
TINY_SETTINGS = {"data_path": TEST_DATA, "state": "ERROR", "show_progress": False, "epochs": 1,
                 "hidden_size": 16, "inner_size": 32, "n_heads": 2, "num_experts": 2}


def tiny(**overrides):
    """The tiny run's --key=value arguments with some settings replaced."""
    return [f"--{key}={value}" for key, value in dict(TINY_SETTINGS, **overrides).items()]


TINY = tiny()


def run_main(monkeypatch, *args):
    argv = ["run_recbole_fame.py", *args]
    monkeypatch.setattr(sys, "argv", argv)  # RecBole's Config reads --key=value from sys.argv
    return run_recbole_fame.main(argv[1:])


@pytest.mark.parametrize(
    "args,message",
    [
        (["--model=FAME", "--dataset=tiny", *tiny(hidden_size=30, n_heads=4)],
         "hidden_size (30) must be divisible by n_heads (4)"),
        (["--model=FAME", "--dataset=tiny", *tiny(num_experts=0)], "num_experts must be an integer >= 1"),
        (["--model=FAME", "--dataset=tiny", *TINY, "--head_mixing=max"], "head_mixing must be 'logits' or 'probs'"),
        (["--model=NoSuchModel", "--dataset=tiny", *TINY], "Unknown model 'NoSuchModel'"),
        (["--model=FAME", "--dataset=amazon-beauty", "--data_path=nowhere"], "Dataset 'amazon-beauty' not found"),
        (["--model=FAME", "--dataset=tiny", *TINY, "--epochs=2"], "invalid configuration"),
    ],
)
def test_bad_input_gives_one_clear_message(monkeypatch, capsys, args, message):
    assert run_main(monkeypatch, *args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_missing_dataset_names_folder_and_prepare_command(monkeypatch, capsys, tmp_path):
    assert run_main(monkeypatch, "--model=SASRec", "--dataset=ml-20m", f"--data_path={tmp_path}") == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "ml-20m") in err
    assert "recbole_fame.prepare" in err or "dataset/README.md" in err


def test_cli_end_to_end_prints_test_metrics(tmp_path):
    """The real script in a fresh process: trains FAME, reloads the best checkpoint, reports metrics."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [sys.executable, str(REPO / "run_recbole_fame.py"), "--model=FAME", "--dataset=tiny",
         *tiny(state="INFO", checkpoint_dir=tmp_path / "saved")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    output = proc.stdout + proc.stderr
    assert "Loading model structure and parameters from" in output
    assert "test result" in output and "ndcg@10" in output


def test_crafted_pickle_outside_checkpoint_dir_is_not_unpickled(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    import pickle

    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps(Exploit()))
    with pytest.raises(CheckpointError, match="Refusing to unpickle"):
        load_recbole_checkpoint(evil, {"checkpoint_dir": str(tmp_path / "saved"), "trust_checkpoint": False})
    assert not marker.exists()
