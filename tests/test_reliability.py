"""Same seed, same numbers; a diverging loss stops with where and why; CPU multi-process training."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from recbole.trainer import Trainer as RecBoleTrainer

from recbole_fame import FAME, Config, create_dataset, data_preparation, run_recbole_fame
from recbole_fame.errors import OutputError, TrainingDivergedError
from recbole_fame.trainer import Trainer
from tests.conftest import HUNG_AFTER_SECONDS, free_ports, seed_everything

REPO = Path(__file__).resolve().parents[1]


def python(code, cwd=None):
    """Run ``code`` in a fresh interpreter with this checkout first on the path; returns its stdout."""
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd,
                         timeout=HUNG_AFTER_SECONDS)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_same_seed_same_metrics(settings):
    first = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(), saved=False)
    second = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(), saved=False)
    assert first["test_result"] == second["test_result"]
    third = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(seed=2), saved=False)
    assert third["test_result"] != first["test_result"]


def test_non_finite_loss_stops_with_epoch_step_and_setting(settings):
    seed_everything()  # the initial weights and any other draw: not left to the tests that ran before
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
    calls["n"] = 0  # RecBole's own trainer, without patch_recbole(), is RecBole's: it trains on through inf, and
    # stops at the NaN that follows ("Training loss is nan", or autograd's error when sine.py left anomaly mode on)
    with pytest.raises((ValueError, RuntimeError)) as error:
        RecBoleTrainer(config, model).fit(train_data, valid_data, saved=False, show_progress=False)
    assert not isinstance(error.value, TrainingDivergedError)


def test_two_cpu_processes_train_and_end_with_identical_parameters(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    [port] = free_ports(1)
    worker = Path(__file__).resolve().parent / "ddp_worker.py"
    proc = subprocess.run([sys.executable, str(worker), str(tmp_path), port], capture_output=True, text=True,
                          timeout=HUNG_AFTER_SECONDS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in (0, 1))  # numpy floats
    for name, value in rank0["state_dict"].items():
        torch.testing.assert_close(value, rank1["state_dict"][name], rtol=0, atol=0, msg=name)
    assert rank0["result"] == rank1["result"]  # metrics are gathered over both ranks' users
    assert set(rank0["result"]) >= {"hit@10", "ndcg@10"}


def test_with_patch_recbole_the_folders_recbole_creates_tolerate_another_process_creating_them(
        tmp_path, monkeypatch, patched_recbole):
    """Two ranks starting together both see ./log missing and both create it: RecBole's ensure_dir then fails
    with FileExistsError in one of them (seen in the two-process text pre-training test). The plugin's runner
    and trainers create the folders with exist_ok first; patch_recbole() makes RecBole's ensure_dir do so."""
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


# --- import changes nothing; the trainers carry the fixes -------------------------------------------------------
SNAPSHOT = """
import numpy as np
for name, value in (("float_", np.float64), ("complex_", np.complex128), ("unicode_", np.str_), ("bool8", np.bool_)):
    if name not in np.__dict__:
        setattr(np, name, value)  # what importing the plugin may add; RecBole cannot be imported without them
import importlib, importlib.util, inspect, sys, torch
for name in ("recbole.config", "recbole.data", "recbole.data.utils", "recbole.data.dataloader", "recbole.data.dataset",
             "recbole.trainer", "recbole.trainer.trainer", "recbole.utils", "recbole.utils.utils", "recbole.utils.logger",
             "recbole.model.abstract_recommender", "recbole.model.layers", "recbole.evaluator", "recbole.quick_start"):
    if name == "recbole.quick_start" and importlib.util.find_spec("ray") is None:
        continue  # it imports ray, which is not installed from Python 3.12 on (scripts/setup.sh)
    importlib.import_module(name)
{pre}
torch.autograd.set_detect_anomaly(True, check_nan=False)  # not the default: a reset would show

def snapshot():
    state = {}
    for name, module in list(sys.modules.items()):
        if name == "recbole" or name.startswith("recbole."):
            for key, value in list(vars(module).items()):
                state[(name, key)] = id(value)
                if inspect.isclass(value) and value.__module__ == name:
                    for attr, member in vars(value).items():
                        state[(name, key, attr)] = id(member)
    flags = (torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled(), torch.is_grad_enabled(),
             torch.are_deterministic_algorithms_enabled(), torch.get_default_dtype(), torch.get_num_threads(),
             torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic)
    return state, flags

before, flags = snapshot()
import recbole_fame
{use}
after, flags_after = snapshot()
changed = sorted(str(key) for key in before if after.get(key) != before[key])
print(changed, flags_after == flags, flags_after)
print("recbole.model.sequential_recommender" in sys.modules)
"""


def test_importing_the_plugin_changes_nothing_of_recbole_or_torch():
    """``import recbole_fame`` adds the numpy aliases and nothing else: every attribute of RecBole's modules and
    classes is the object it was, torch's flags are as they were (anomaly detection on, here, stays on), and
    RecBole's sequential models, whose sine.py switches anomaly detection on, are not imported."""
    out = python(SNAPSHOT.replace("{pre}", "").replace("{use}", "")).splitlines()
    assert out[0].startswith("[] True "), out[0]
    assert out[1] == "False"


def test_training_through_the_plugin_leaves_recbole_and_torch_as_they_were(tmp_path):
    """Even whole runs (FAME and RecBole's SASRec, through the plugin's Config, runner and trainers) replace
    nothing of RecBole and leave torch's flags as they found them."""
    use = ("from pathlib import Path\n"
           "from tests.conftest import tiny_settings\n"
           "from recbole_fame import run_recbole_fame\n"
           "for model in ('FAME', 'SASRec'):\n"
           "    run_recbole_fame(model=model, dataset='tiny', config_dict=tiny_settings(Path('.'), epochs=2))\n")
    pre = "import recbole.model.sequential_recommender  # sine.py's effect comes before the snapshot"
    # RecBole's init_seed, which every RecBole run calls, sets cudnn's flags for reproducibility: reset them
    use += "torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = False, False\n"
    out = python(SNAPSHOT.replace("{pre}", pre).replace("{use}", use), cwd=tmp_path).splitlines()
    assert out[-2].startswith("[] True "), out[-2]


def test_the_plugin_trainer_trains_without_anomaly_detection_and_leaves_the_flag_as_found(settings):
    """RecBole's sine.py switches anomaly detection on for the process (1.6-1.7x the time of a step): the plugin's
    trainers train with it off unless detect_anomaly: True, and leave the flag as they found it."""
    seed_everything()  # the initial weights and any other draw: not left to the tests that ran before
    torch.autograd.set_detect_anomaly(True)  # as RecBole's sine.py leaves it (imported already by earlier tests)
    for detect_anomaly in (False, True):
        config = Config(model="FAME", dataset="tiny", config_dict=settings(epochs=1, detect_anomaly=detect_anomaly))
        train_data, valid_data, _ = data_preparation(config, create_dataset(config))
        model = FAME(config, train_data._dataset)
        seen = []
        real_loss = model.calculate_loss
        model.calculate_loss = lambda interaction: seen.append(torch.is_anomaly_enabled()) or real_loss(interaction)
        Trainer(config, model).fit(train_data, valid_data, saved=False)
        assert set(seen) == {detect_anomaly}
        assert torch.is_anomaly_enabled()  # as found
    torch.autograd.set_detect_anomaly(False)


def test_patch_recbole_gives_recbole_trainer_the_fixes_and_can_be_told_apart(settings, patched_recbole):
    """With patch_recbole(), RecBole's own Trainer trains without anomaly detection and stops on an infinite loss
    with the plugin's message (RecBole alone trains on through it)."""
    seed_everything()  # the initial weights and any other draw: not left to the tests that ran before
    torch.autograd.set_detect_anomaly(True)  # as RecBole's sine.py leaves it
    config = Config(model="FAME", dataset="tiny", config_dict=settings(epochs=1))
    train_data, valid_data, _ = data_preparation(config, create_dataset(config))
    model = FAME(config, train_data._dataset)
    seen = []
    real_loss = model.calculate_loss

    def loss(interaction):
        seen.append(torch.is_anomaly_enabled())
        return real_loss(interaction) * (float("inf") if len(seen) == 2 else 1)

    model.calculate_loss = loss
    with pytest.raises(TrainingDivergedError, match=r"epoch 0, step 2.*learning_rate"):
        RecBoleTrainer(config, model).fit(train_data, valid_data, saved=False)
    assert seen == [False, False] and torch.is_anomaly_enabled()
    torch.autograd.set_detect_anomaly(False)


def test_unpatching_restores_every_attribute_patch_recbole_replaced(patched_recbole):
    from recbole_fame import compat

    replaced = list(compat._PATCHED)
    assert replaced and RecBoleTrainer._check_nan is not replaced[0][2]
    compat._unpatch_recbole()
    assert all(getattr(owner, name) is value for owner, name, value in replaced)
    compat.patch_recbole()  # for the fixture, which undoes it again


# --- the best checkpoint written temp-then-rename -------------------------------------------------------------
def test_a_failed_best_checkpoint_write_is_one_error_and_keeps_the_previous_best(settings, tmp_path, monkeypatch):
    """A full disk while writing the best checkpoint used to end in a traceback and leave a truncated .pth that a
    later evaluate or resume read."""
    seed_everything()  # the initial weights and any other draw: not left to the tests that ran before
    import errno

    config = Config(model="FAME", dataset="tiny", config_dict=settings(epochs=1))
    train_data, valid_data, _ = data_preparation(config, create_dataset(config))
    trainer = Trainer(config, FAME(config, train_data._dataset))
    trainer._save_checkpoint(0, verbose=False)
    best = Path(trainer.saved_model_file)
    previous = best.read_bytes()
    real_save = torch.save

    def half_then_full(state, file, *args, **kwargs):
        import io

        buffer = io.BytesIO()
        real_save(state, buffer, *args, **kwargs)
        file.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), getattr(file, "name", None))

    monkeypatch.setattr(torch, "save", half_then_full)
    with pytest.raises(OutputError, match=r"Cannot write the best checkpoint .*FAME-.*\.pth: the disk holding .* is full"):
        trainer._save_checkpoint(1, verbose=False)
    assert best.read_bytes() == previous
    assert [p.name for p in best.parent.iterdir()] == [best.name]  # no temporary file left


def test_a_failed_first_best_checkpoint_write_leaves_no_file(settings, tmp_path, monkeypatch):
    """With no previous best, a full disk at the first write leaves nothing: not the empty file that claimed the
    run's checkpoint name, which a later evaluate would read."""
    seed_everything()  # the initial weights and any other draw: not left to the tests that ran before
    import errno

    config = Config(model="FAME", dataset="tiny", config_dict=settings(epochs=1))
    train_data, _, _ = data_preparation(config, create_dataset(config))
    trainer = Trainer(config, FAME(config, train_data._dataset))

    def full(state, path, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(OutputError):
        trainer._save_checkpoint(0, verbose=False)
    folder = Path(trainer.saved_model_file).parent
    assert not any(folder.iterdir())


def test_a_full_disk_under_torch_s_writer_says_the_disk_is_full(settings, tmp_path, monkeypatch):
    """torch's zip writer turns a failed write into a RuntimeError ("unexpected pos ..."), which the message used
    to quote; the OSError behind it says the disk is full."""
    import builtins
    import errno

    from recbole_fame.storage import training_state

    config = Config(model="FAME", dataset="tiny", config_dict=settings(epochs=1))
    train_data, _, _ = data_preparation(config, create_dataset(config))
    trainer = Trainer(config, FAME(config, train_data._dataset))

    class FullDisk:
        """A file on a disk that fills up after 4 KB, as a real one does in the middle of torch's writes."""

        def __init__(self, path, mode):
            self.file, self.written = builtins.open(path, mode), 0

        def write(self, data):
            self.written += len(data)
            if self.written > 4096:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.file.write(data)

        def __getattr__(self, name):
            return getattr(self.file, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

    monkeypatch.setattr(training_state, "open", FullDisk, raising=False)
    with pytest.raises(OutputError) as caught:
        trainer._save_checkpoint(0, verbose=False)
    message = str(caught.value)
    assert "is full (No space left on device)" in message and "enforce fail" not in message
    assert not any(Path(trainer.saved_model_file).parent.iterdir())


def test_orphan_temporary_files_of_a_killed_writer_are_removed_at_the_next_write(tmp_path):
    """A writer killed mid-write leaves its temporary file; the next write into the folder removes it, and the
    dead writers' temporary files of other targets too (a run killed at its first checkpoint never writes that
    file again), and leaves alone the temporary files of writers still running and of other machines."""
    from recbole_fame.storage import files

    target = tmp_path / "FAME-x.pth"
    killed = (
        "import os, signal, sys\n"
        "from recbole_fame.storage.files import atomic_write\n"
        "def write(tmp):\n"
        "    open(tmp, 'wb').write(b'half')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        f"atomic_write([({str(target)!r}, write)])\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    assert subprocess.run([sys.executable, "-c", killed], env=env, timeout=HUNG_AFTER_SECONDS).returncode == -9
    [orphan] = tmp_path.glob(".FAME-x.pth.*.tmp")
    running = files.temporary_name(target)  # this process's, as if it were writing now
    running.write_bytes(b"in progress")
    other = files.temporary_name(tmp_path / "FAME-y.pth")
    dead_other = other.with_name(other.name.replace(f".{os.getpid()}.", ".999999999."))
    dead_other.write_bytes(b"other target, dead writer")
    running_other = files.temporary_name(tmp_path / "FAME-z.pth")
    running_other.write_bytes(b"other target, running writer")
    elsewhere = other.with_name(other.name.replace(f".{files.host_name()}.", ".another-machine."))
    elsewhere.write_bytes(b"other machine")
    old_style = tmp_path / "FAME-x.pth.abcd1234.tmp"  # an older version's name, without its writer
    old_style.write_bytes(b"old")
    os.utime(old_style, (0, 0))
    files.atomic_write([(target, lambda tmp: Path(tmp).write_bytes(b"whole"))])
    assert target.read_bytes() == b"whole"
    assert not orphan.exists() and not old_style.exists()
    assert running.exists() and running_other.exists() and elsewhere.exists()
    assert not dead_other.exists()


def test_the_name_claim_of_a_run_killed_at_its_first_best_checkpoint_is_removed_at_the_next_write(tmp_path):
    """A run claims its best checkpoint's name before its first write; killed during that write, it used to leave
    its claim under the checkpoint's name for good. The next write into the folder removes a claim whose
    run is gone (and an empty checkpoint of an older version after an hour), not a running run's claim."""
    from types import SimpleNamespace

    from recbole_fame.storage import training_state
    from recbole_fame.storage import files

    saved = tmp_path / "saved"
    killed = (
        "import os, signal, torch\n"
        "from pathlib import Path\n"
        "from recbole_fame import FAME, Config, create_dataset, data_preparation\n"
        "from recbole_fame.trainer import Trainer\n"
        "from tests.conftest import tiny_settings\n"
        f"config = Config(model='FAME', dataset='tiny', config_dict=tiny_settings(Path({str(tmp_path)!r})))\n"
        "train_data, _, _ = data_preparation(config, create_dataset(config))\n"
        "trainer = Trainer(config, FAME(config, train_data._dataset))\n"
        "def half_then_killed(state, f, *args, **kwargs):  # the temporary file's file object\n"
        "    f.write(b'half')\n"
        "    f.flush()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "torch.save = half_then_killed\n"
        "trainer._save_checkpoint(0, verbose=False)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    assert subprocess.run([sys.executable, "-c", killed], env=env, cwd=tmp_path,
                          timeout=HUNG_AFTER_SECONDS).returncode == -9
    [claim] = saved.glob("FAME-*.pth")  # the name the killed run claimed, and never wrote
    assert list(saved.glob(f".{claim.name}.*.tmp"))  # its half-written temporary file
    running = saved / "FAME-running.pth"  # this process's claim, as a run still training holds it
    training_state.claim_checkpoint_name(SimpleNamespace(saved_model_file=str(running), checkpoint_name_claimed=False))
    older = saved / "FAME-older.pth"
    older.write_bytes(b"")  # an older version's claim, an hour old
    os.utime(older, (0, 0))
    recent = saved / "FAME-recent.pth"
    recent.write_bytes(b"")
    files.atomic_write([(saved / "FAME-next.pth", lambda tmp: Path(tmp).write_bytes(b"whole"))])
    assert not claim.exists() and not older.exists()
    assert running.exists() and recent.exists() and (saved / "FAME-next.pth").read_bytes() == b"whole"
    assert not list(saved.glob(".*.tmp"))  # the killed write's temporary file too


# --- a NaN right after loading weights names them -------------------------------------------------------------
def poisoned(path, folder, name="item_embedding.weight"):
    """A copy of the checkpoint ``path`` in ``folder`` whose ``name`` holds NaN."""
    checkpoint = torch.load(path, weights_only=False)
    checkpoint["state_dict"][name] = torch.full_like(checkpoint["state_dict"][name], float("nan"))
    copy = Path(folder) / ("poisoned-" + Path(path).name)
    torch.save(checkpoint, copy)
    return copy


def test_a_nan_loss_right_after_resuming_blames_the_checkpoint_not_the_learning_rate(settings, tmp_path):
    first = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(epochs=2, keep_last_checkpoint=True))
    last = poisoned(first["last_checkpoint_file"], tmp_path / "saved")
    with pytest.raises(TrainingDivergedError) as error:
        run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(epochs=4, resume_from=str(last)))
    message = str(error.value)
    assert f"the first step after loading the weights of {last} (resume_from)" in message
    assert "item_embedding.weight" in message and "learning_rate" not in message


def test_a_nan_loss_right_after_a_warm_start_blames_the_pretrained_checkpoint(settings, tmp_path):
    sasrec = run_recbole_fame(model="SASRec", dataset="tiny", config_dict=settings(epochs=1))
    path = poisoned(sasrec["saved_model_file"], tmp_path / "saved")
    with pytest.raises(TrainingDivergedError, match=r"step 1, the first step after loading the weights of .*poisoned-"
                                                     r"SASRec-.*\(pretrained_path\)"):
        run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(epochs=1, pretrained_path=str(path)))


def test_a_nan_loss_later_in_training_still_names_the_learning_rate(settings, tmp_path):
    first = run_recbole_fame(model="FAME", dataset="tiny", config_dict=settings(epochs=2, keep_last_checkpoint=True))
    config = Config(model="FAME", dataset="tiny", config_dict=settings(epochs=4))
    train_data, valid_data, _ = data_preparation(config, create_dataset(config))
    model = FAME(config, train_data._dataset)
    calls = {"n": 0}
    real_loss = model.calculate_loss

    def loss(interaction):
        calls["n"] += 1
        return real_loss(interaction) * (float("nan") if calls["n"] == 2 else 1)

    model.calculate_loss = loss
    trainer = Trainer(config, model)
    trainer.resume_checkpoint(first["last_checkpoint_file"])
    with pytest.raises(TrainingDivergedError, match=r"epoch 1, step 2\. The setting most likely at fault is learning_rate"):
        trainer.fit(train_data, valid_data, saved=False)


def test_patch_recbole_gives_recbole_trainer_unique_names_last_checkpoints_and_trusted_loading(
        settings, tmp_path, monkeypatch, patched_recbole):
    """Every earlier behaviour also through the explicit patch: two RecBole Trainers built in the same second get
    their own best checkpoints, each keeps its -last.pth, and both evaluate their best file on torch >= 2.6."""
    seed_everything()  # the initial weights and any other draw: not left to the tests that ran before
    from recbole.trainer import trainer

    monkeypatch.setattr(trainer, "get_local_time", lambda: "Nov-29-2026_17-08-32")
    config = Config(model="FAME", dataset="tiny", config_dict=settings(epochs=2))
    train_data, valid_data, test_data = data_preparation(config, create_dataset(config))
    trainers = [RecBoleTrainer(config, FAME(config, train_data._dataset)) for _ in range(2)]
    for each in trainers:
        each.fit(train_data, valid_data, saved=True)
        assert set(each.evaluate(test_data, load_best_model=True)) >= {"ndcg@10"}
    names = sorted(p.name for p in (tmp_path / "saved").iterdir())
    assert names == ["FAME-Nov-29-2026_17-08-32-1-last.pth", "FAME-Nov-29-2026_17-08-32-1.pth",
                     "FAME-Nov-29-2026_17-08-32-last.pth", "FAME-Nov-29-2026_17-08-32.pth"]


WARM_STARTED_RUN = """
import torch
from pathlib import Path
from tests.conftest import tiny_settings
from recbole_fame import run_recbole_fame
from recbole_fame.model.sequential_recommender import fame

seen = []
real_loss = fame.FAME.calculate_loss
fame.FAME.calculate_loss = lambda self, interaction: seen.append(torch.is_anomaly_enabled()) or real_loss(self, interaction)
late = "recbole.model.sequential_recommender" not in __import__("sys").modules
run = run_recbole_fame(model="FAME", dataset="tiny",
                       config_dict=tiny_settings(Path("."), epochs=2, pretrained_path={checkpoint!r}))
print("RESULT", late, sorted(set(seen)), len(seen) > 0, torch.is_anomaly_enabled())
"""


def test_a_warm_started_run_trains_every_step_without_anomaly_detection(tmp_path):
    """The SASRec warm start is read inside ``fit`` (the model's first ``train()``), and what it imports late
    (RecBole's sequential models, whose sine.py switches anomaly detection on) must not slow the run: every
    training step of a fresh process's warm-started run sees the flag off, and it is off after the run."""
    sasrec = python("from pathlib import Path\nfrom tests.conftest import tiny_settings\n"
                    "from recbole_fame import run_recbole_fame\n"
                    "print(run_recbole_fame(model='SASRecSeq', dataset='tiny', "
                    "config_dict=tiny_settings(Path('.'), epochs=1))['saved_model_file'])", cwd=tmp_path)
    checkpoint = sasrec.strip().splitlines()[-1]
    out = python(WARM_STARTED_RUN.replace("{checkpoint!r}", repr(checkpoint)), cwd=tmp_path)
    # the sequential models are imported late (by the warm start), as in the runner; every step saw the flag off
    assert "RESULT True [False] True False" in out.splitlines(), out[-2000:]
