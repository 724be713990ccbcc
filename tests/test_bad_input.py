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
    # the console ends with the summary (tests/test_console.py); RecBole's messages are in the log file
    assert "test result (the best validation checkpoint):" in output and "ndcg" in output and "@10" in output
    [log] = (tmp_path / "log" / "FAME").glob("*.log")
    assert "Loading model structure and parameters from" in log.read_text()


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


@pytest.mark.parametrize(
    "header,message",
    [
        ("", "is empty"),
        ("user_id:token\titem_id:token\n", "lacks the column(s) ['timestamp']"),
        ("user_id:float\titem_id:token\ttimestamp:float\n", "the column user_id is typed 'float'"),
        ("user_id:token\titem_id\ttimestamp:float\n", "the column item_id is typed 'nothing'"),
        ("user_id:token\titem_id:token_seq\ttimestamp:float\n", "it must be 'item_id:token'"),
        ("user_id:token\titem_id:token\ttimestamp:token\n", "it must be 'timestamp:float'"),
    ],
)
def test_bad_interaction_file_is_named_with_what_is_wrong(monkeypatch, capsys, tmp_path, header, message):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "broken.inter").write_text(header + ("u1\ti1\n" if header else ""))
    assert run_main(monkeypatch, "--model=FAME", "--dataset=broken", f"--data_path={tmp_path}") == 2
    err = capsys.readouterr().err
    assert message in err and str(folder / "broken.inter") in err


BAD_SETTINGS = {
    "n_heads": [0, -2, 2.5, "four", True],
    "num_experts": [0, -1, 1.5, "x"],
    "n_layers": [0, 3.0],
    "hidden_size": [0, "64"],
    "hidden_dropout_prob": [1.0, -0.1, "high"],
    "attn_dropout_prob": [2, True],
    "head_mixing": ["max", 1],
    "train_mode": ["all", 0],
    "sequence_loss_weighting": ["mean", 1],
    "facet_init": ["identity"],
    "attention_residual": ["yes", 1],
    "scale_by_heads": ["no", 0],
    "loss_type": ["BPR"],
}


@pytest.mark.parametrize("key,value", [(k, v) for k, values in BAD_SETTINGS.items() for v in values])
def test_every_fame_setting_out_of_range_gives_one_configuration_error(settings, key, value):
    from recbole_fame import FAME, Config, create_dataset, data_preparation
    from recbole_fame.errors import ConfigurationError

    config = Config(model="FAME", dataset="tiny", config_dict=settings())
    train_data, _, _ = data_preparation(config, create_dataset(config))
    config[key] = value
    with pytest.raises(ConfigurationError, match=key):
        FAME(config, train_data._dataset)
