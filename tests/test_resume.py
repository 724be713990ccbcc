"""An interrupted run resumed from its last checkpoint ends exactly like the uninterrupted run; the best epoch a run
reports is the epoch of its best checkpoint, however the run ends."""

from pathlib import Path

import pytest
import torch
from recbole_fame import run_recbole_fame
from recbole_fame.errors import CheckpointError
from recbole_fame.trainer import RecBoleFameTrainerMixin


class Killed(BaseException):
    """Stands in for the process being killed: nothing in the trainer catches it."""


def kill_during(monkeypatch, epoch, step):
    """Make training die at ``step`` of ``epoch`` (after that step's loss, before its update)."""
    check = RecBoleFameTrainerMixin._check_nan

    def check_then_die(self, loss):
        check(self, loss)
        if self.train_position == [epoch, step]:
            raise Killed

    monkeypatch.setattr(RecBoleFameTrainerMixin, "_check_nan", check_then_die)


MODES = {
    "prefix": {},
    "sequence, length-bucketed": {"train_mode": "sequence", "length_bucketing": True, "bucket_batches": 2,
                                  "train_batch_size": 16},
}


@pytest.mark.parametrize("mode", MODES)
def test_resumed_run_ends_with_the_metrics_of_the_uninterrupted_run(settings, tmp_path, monkeypatch, mode):
    def config(name, **extra):
        return settings(epochs=5, stopping_step=10, checkpoint_dir=str(tmp_path / name), **MODES[mode], **extra)

    uninterrupted = run_recbole_fame(model="FAME", dataset="tiny", config_dict=config("whole"))
    assert uninterrupted["last_checkpoint_file"] is None  # removed at the normal end of the run
    assert not list((tmp_path / "whole").glob("*-last.pth"))

    with monkeypatch.context() as patch:
        kill_during(patch, epoch=3, step=2)
        with pytest.raises(Killed):
            run_recbole_fame(model="FAME", dataset="tiny", config_dict=config("killed"))
    [last] = Path(tmp_path / "killed").glob("*-last.pth")
    assert torch.load(last, weights_only=False)["epoch"] == 2  # the state after the last finished epoch

    resumed = run_recbole_fame(model="FAME", dataset="tiny", config_dict=config("killed", resume_from=str(last)))
    assert resumed["epochs"] == uninterrupted["epochs"] == 5
    assert resumed["best_epoch"] == uninterrupted["best_epoch"]
    assert resumed["best_valid_result"] == pytest.approx(uninterrupted["best_valid_result"], abs=1e-6)
    assert resumed["test_result"] == pytest.approx(uninterrupted["test_result"], abs=1e-6)
    assert Path(resumed["saved_model_file"]).parent == tmp_path / "killed"  # the killed run's best checkpoint


def test_without_the_random_states_the_resumed_run_would_differ(settings, tmp_path, monkeypatch):
    """The check above can fail: resuming from the same epoch with fresh random states gives other numbers."""
    from recbole_fame.storage import training_state

    def config(name, **extra):
        return settings(epochs=4, stopping_step=10, checkpoint_dir=str(tmp_path / name), **extra)

    uninterrupted = run_recbole_fame(model="FAME", dataset="tiny", config_dict=config("whole"))
    with monkeypatch.context() as patch:
        kill_during(patch, epoch=2, step=1)
        with pytest.raises(Killed):
            run_recbole_fame(model="FAME", dataset="tiny", config_dict=config("killed"))
    [last] = Path(tmp_path / "killed").glob("*-last.pth")
    monkeypatch.setattr(training_state, "set_random_states", lambda states: None)
    monkeypatch.setattr(training_state, "set_loader_generator_states", lambda loader, states: None)
    resumed = run_recbole_fame(model="FAME", dataset="tiny", config_dict=config("killed", resume_from=str(last)))
    assert resumed["test_result"] != uninterrupted["test_result"]


def test_a_best_checkpoint_written_by_recbole_still_resumes(settings, tmp_path):
    first = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(epochs=2))
    resumed = run_recbole_fame(
        model="FAME", dataset="tiny", config_dict=settings(epochs=4, resume_from=first["saved_model_file"])
    )
    # training goes on after the best epoch; RecBole's format keeps no losses of the epochs before it
    assert resumed["epochs"] == 4 - (first["best_epoch"] + 1)
    assert set(resumed["test_result"]) >= {"ndcg@10", "hit@10"}


def test_resuming_from_a_checkpoint_of_another_model_says_which(settings, tmp_path):
    first = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(epochs=3, keep_last_checkpoint=True))
    with pytest.raises(CheckpointError, match=r"model FAME, and this run is of model SASRec.*--model=FAME"):
        run_recbole_fame(model="SASRec", dataset="tiny",
                         config_dict=settings(epochs=3, resume_from=first["last_checkpoint_file"]))


def test_save_last_checkpoint_false_writes_only_the_best(settings, tmp_path):
    result = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(epochs=3, save_last_checkpoint=False))
    assert result["last_checkpoint_file"] is None
    assert [p.name for p in (tmp_path / "saved").iterdir()] == [Path(result["saved_model_file"]).name]


def test_resume_from_another_folder_finds_the_best_checkpoint_beside_the_last(settings, tmp_path, monkeypatch):
    def config(**extra):
        return settings(**{"epochs": 3, "stopping_step": 10, "checkpoint_dir": "saved", **extra})  # relative folder

    with monkeypatch.context() as patch:
        kill_during(patch, epoch=2, step=1)
        with pytest.raises(Killed):
            run_recbole_fame(model="FAME", dataset="tiny", config_dict=config())
    [last] = (tmp_path / "saved").glob("*-last.pth")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    resumed = run_recbole_fame(model="FAME", dataset="tiny",
                               config_dict=config(checkpoint_dir=str(tmp_path / "saved"), resume_from=str(last)))
    assert Path(resumed["saved_model_file"]) == Path(str(last).replace("-last.pth", ".pth"))
    assert resumed["epochs"] == 3


def test_resume_with_nothing_left_to_train_is_refused_before_the_best_checkpoint_is_touched(settings, tmp_path):
    from recbole_fame.errors import ConfigurationError

    first = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(epochs=3, keep_last_checkpoint=True))
    best = Path(first["saved_model_file"]).read_bytes()
    with pytest.raises(ConfigurationError, match=r"ends after epoch 2 .*epochs=2.*--epochs with more than 2"):
        run_recbole_fame(model="FAME", dataset="tiny",
                         config_dict=settings(epochs=2, resume_from=first["last_checkpoint_file"]))
    assert Path(first["saved_model_file"]).read_bytes() == best


def test_a_finished_run_keeps_its_last_epoch_state_only_when_asked(settings, tmp_path):
    """The last-epoch state is for resuming an interrupted run: a run that ends removes it (it holds the model
    and the optimizer's moments: about three times the best checkpoint), unless keep_last_checkpoint: True."""
    ended = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(epochs=2))
    assert ended["last_checkpoint_file"] is None
    assert [p.name for p in (tmp_path / "saved").iterdir()] == [Path(ended["saved_model_file"]).name]
    kept = run_recbole_fame(model="FAME", dataset="tiny",
                            config_dict=settings(epochs=2, keep_last_checkpoint=True, checkpoint_dir=str(tmp_path / "k")))
    assert Path(kept["last_checkpoint_file"]).is_file()
    longer = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(
        epochs=3, checkpoint_dir=str(tmp_path / "k"), resume_from=kept["last_checkpoint_file"]))
    assert longer["epochs"] == 3 and longer["last_checkpoint_file"] is None


def test_changed_training_settings_are_listed():
    from recbole_fame.storage.training_state import changed_training_settings

    saved = {key: None for key in ("seed", "learning_rate")} | {"seed": 1, "learning_rate": 0.001}
    now = dict(saved, learning_rate=0.01)
    missing = type("Config", (dict,), {"__missing__": lambda self, key: None})
    assert changed_training_settings(missing(saved), missing(now)) == ["learning_rate 0.001 -> 0.01"]


@pytest.mark.parametrize("changed,message", [({"n_heads": 4}, "n_heads 2 -> 4"),
                                             ({"num_experts": 3}, "num_experts 2 -> 3"),
                                             ({"hidden_size": 32, "inner_size": 64}, "hidden_size 16 -> 32")])
def test_resuming_with_other_model_sizes_names_the_setting(settings, tmp_path, changed, message):
    """A checkpoint of another n_heads or num_experts used to end in load_state_dict's size-mismatch traceback."""
    first = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(epochs=2, keep_last_checkpoint=True))
    last = first["last_checkpoint_file"]
    with pytest.raises(CheckpointError) as caught:
        run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(epochs=4, resume_from=last, **changed))
    text = str(caught.value)
    assert text.startswith(f"Cannot resume from {last}: it was trained with other model sizes") and message in text
    assert "--resume_from" in text


INTERRUPT = r"""
import sys
from recbole_fame.trainer import RecBoleFameTrainerMixin
import run_recbole_fame

check = RecBoleFameTrainerMixin._check_nan

def check_then_interrupt(self, loss):
    check(self, loss)
    if self.train_position == [2, 1]:
        raise KeyboardInterrupt  # what Ctrl-C raises in the main thread

RecBoleFameTrainerMixin._check_nan = check_then_interrupt
sys.exit(run_recbole_fame.main(sys.argv[1:]))
"""


def test_ctrl_c_during_training_is_one_line_with_the_resume_command(tmp_path):
    """It was a 34-line KeyboardInterrupt traceback with no hint; the -last.pth it leaves does resume."""
    import os
    import subprocess
    import sys

    from tests.test_bad_input import REPO, tiny

    args = ["--model=FAME", "--dataset=tiny", *tiny(epochs=3, checkpoint_dir=tmp_path / "saved")]
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", INTERRUPT, *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    [last] = (tmp_path / "saved").glob("*-last.pth")
    assert proc.returncode == 130, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"interrupted at epoch 2: the state after epoch 1 is kept in {last}; resume with --resume_from={last}")
    resumed = subprocess.run([sys.executable, str(REPO / "run_recbole_fame.py"), *args, f"--resume_from={last}"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]


def test_the_same_resume_started_twice_at_once_is_refused(settings, tmp_path):
    """Both runs used to go on, writing the same checkpoints. The lock of a process that is gone is taken over."""
    import socket
    import subprocess
    import sys

    first = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(epochs=2, keep_last_checkpoint=True))
    last = first["last_checkpoint_file"]
    lock = Path(f"{last}.lock")
    host = socket.gethostname()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        lock.write_text(f"{host} {other.pid}")  # another run, still resuming it
        with pytest.raises(CheckpointError, match=f"process {other.pid} on {host} is resuming it already"):
            run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(epochs=3, resume_from=last))
    finally:
        other.kill()
        other.wait()
    # that run is gone: its lock is stale, the resume goes on and releases its own lock at the end
    resumed = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(epochs=3, resume_from=last))
    assert resumed["epochs"] == 3 and not lock.exists()


@pytest.mark.parametrize("eval_step, epochs", [(2, 5), (3, 7)])
def test_best_epoch_is_the_best_checkpoints_when_the_epoch_cap_falls_between_evaluations(settings, eval_step, epochs):
    """Validation every eval_step epochs, and the cap one or more epochs after the last evaluation: the best
    epoch is an evaluated epoch, the one whose weights the best checkpoint holds."""
    result = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(
        epochs=epochs, eval_step=eval_step, stopping_step=10, keep_last_checkpoint=True))
    assert result["epochs"] == epochs and epochs % eval_step != 0
    evaluated = [epoch for epoch in range(epochs) if (epoch + 1) % eval_step == 0]
    assert result["best_epoch"] in evaluated
    assert result["best_epoch"] == torch.load(result["saved_model_file"], weights_only=False)["epoch"]
    assert torch.load(result["last_checkpoint_file"], weights_only=False)["best_valid_epoch"] == result["best_epoch"]


def test_a_resumed_run_reports_the_best_epoch_of_the_run_it_continues(settings, tmp_path, monkeypatch):
    """Killed after the last evaluation, resumed for the epochs left, which have none: the best epoch is the
    killed run's."""
    config = settings(epochs=5, eval_step=2, stopping_step=10, checkpoint_dir=str(tmp_path / "killed"))
    with monkeypatch.context() as patch:
        kill_during(patch, epoch=4, step=1)
        with pytest.raises(Killed):
            run_recbole_fame(model="FAME", dataset="tiny", config_dict=config)
    [last] = Path(tmp_path / "killed").glob("*-last.pth")
    best = torch.load(last, weights_only=False)["best_model_file"]
    resumed = run_recbole_fame(model="FAME", dataset="tiny", config_dict=dict(config, resume_from=str(last)))
    assert resumed["best_epoch"] == torch.load(best, weights_only=False)["epoch"] in (1, 3)
