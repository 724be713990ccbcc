"""Same seed, same numbers; a diverging loss stops with where and why; CPU multi-process training."""

import pytest
import torch
from recbole.trainer import Trainer

from recbole_fame import FAME, Config, create_dataset, data_preparation, run_recbole_fame
from recbole_fame.errors import TrainingDivergedError


def test_same_seed_same_metrics(settings):
    first = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(), saved=False)
    second = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(), saved=False)
    assert first["test_result"] == second["test_result"]
    third = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(seed=2), saved=False)
    assert third["test_result"] != first["test_result"]


def test_non_finite_loss_stops_with_epoch_step_and_setting(settings):
    config = Config(model="FAME", dataset="tiny", config_dict=settings(train_batch_size=16))
    train_data, valid_data, _ = data_preparation(config, create_dataset(config))
    model = FAME(config, train_data._dataset)
    calls = {"n": 0}
    real_loss = model.calculate_loss

    def loss_that_explodes(interaction):
        calls["n"] += 1
        loss = real_loss(interaction)
        return loss * float("inf") if calls["n"] == 3 else loss

    model.calculate_loss = loss_that_explodes
    with pytest.raises(TrainingDivergedError, match=r"epoch 0, step 3.*learning_rate \(0.001\)"):
        Trainer(config, model).fit(train_data, valid_data, saved=False, show_progress=False)


def test_two_cpu_processes_train_and_end_with_identical_parameters(tmp_path):
    import socket
    import subprocess
    import sys
    from pathlib import Path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    worker = Path(__file__).resolve().parent / "ddp_worker.py"
    proc = subprocess.run([sys.executable, str(worker), str(tmp_path), port], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    for name, value in rank0["state_dict"].items():
        torch.testing.assert_close(value, rank1["state_dict"][name], rtol=0, atol=0, msg=name)
    assert rank0["result"] == rank1["result"]  # metrics are gathered over both ranks' users
    assert set(rank0["result"]) >= {"hit@10", "ndcg@10"}


def test_folders_recbole_creates_at_start_tolerate_another_process_creating_them(tmp_path, monkeypatch):
    """Two ranks starting together both see ./log missing and both create it: RecBole's ensure_dir then fails
    with FileExistsError in one of them (seen in the two-process text pre-training test)."""
    import os

    import recbole.data.utils
    import recbole.utils.logger
    from recbole.trainer import trainer

    folder = tmp_path / "log"
    folder.mkdir()
    monkeypatch.setattr(os.path, "exists", lambda path: False)  # the other rank created it after our check
    for module in (recbole.utils.logger, recbole.data.utils, trainer):
        module.ensure_dir(str(folder))


def test_runs_started_in_the_same_second_keep_their_own_checkpoints(settings, tmp_path, monkeypatch):
    """RecBole names the best checkpoint <model>-<time to the second>.pth; two runs started together (seeds in
    parallel) used to write one file, and the first run's file then held the second run's weights."""
    from recbole.trainer import trainer

    monkeypatch.setattr(trainer, "get_local_time", lambda: "Nov-29-2026_17-08-32")
    folder = str(tmp_path / "saved")
    first = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(epochs=2, seed=1, checkpoint_dir=folder,
                                                                                keep_last_checkpoint=True))
    second = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(epochs=2, seed=2, checkpoint_dir=folder,
                                                                                 keep_last_checkpoint=True))
    assert first["saved_model_file"].endswith("FAME-Nov-29-2026_17-08-32.pth")
    assert second["saved_model_file"].endswith("FAME-Nov-29-2026_17-08-32-1.pth")
    for run, seed in ((first, 1), (second, 2)):
        assert torch.load(run["saved_model_file"], weights_only=False)["config"]["seed"] == seed
        last = torch.load(run["last_checkpoint_file"], weights_only=False)
        assert last["config"]["seed"] == seed and last["best_model_file"] == run["saved_model_file"]


def test_recbole_leaves_anomaly_detection_on_and_the_plugin_switches_it_off():
    import os
    import subprocess
    import sys
    from pathlib import Path

    probe = (
        "import torch, importlib; import recbole.model.sequential_recommender; on = torch.is_anomaly_enabled(); "
        "import recbole_fame; from recbole_fame import get_model; get_model('BERT4Rec'); "
        "importlib.import_module('recbole.model.sequential_recommender.sine'); "
        "print(on, torch.is_anomaly_enabled())"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env,
                         timeout=300).stdout.split()
    assert out == ["True", "False"]  # RecBole's sine.py switches it on at import; importing the plugin, off


def test_detect_anomaly_setting_switches_anomaly_detection_for_the_run(settings):
    try:
        Config(model="FAME", dataset="tiny", config_dict=settings(detect_anomaly=True))
        assert torch.is_anomaly_enabled()
        Config(model="FAME", dataset="tiny", config_dict=settings())
        assert not torch.is_anomaly_enabled()
    finally:
        torch.autograd.set_detect_anomaly(False)
