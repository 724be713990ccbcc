"""No code runs from a file nobody trusted: every file RecBole or the plugin unpickles in a plugin run is read
only from inside checkpoint_dir, or anywhere after trust_checkpoint: True; and that opt-in, like every boolean
setting, is parsed strictly (``--trust_checkpoint=no`` used to turn it on)."""

import os
import pickle
import sys

import pytest

import run_recbole_fame
from recbole_fame.errors import ConfigurationError
from recbole_fame.settings import BOOLEAN_SETTINGS, PICKLED_FILE_SETTINGS, check_pickled_files
from tests.test_bad_input import tiny


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def evil(tmp_path):
    """A pickle outside checkpoint_dir whose loading would create tmp_path/pwned."""
    marker = tmp_path / "pwned"
    path = tmp_path / "shared" / "evil.pth"
    path.parent.mkdir()
    path.write_bytes(pickle.dumps(Exploit(marker)))
    return path, marker


def run_main(monkeypatch, *args):
    argv = ["run_recbole_fame.py", *args]
    monkeypatch.setattr(sys, "argv", argv)
    return run_recbole_fame.main(argv[1:])


@pytest.mark.parametrize("key", ["dataset_save_path", "dataloaders_save_path"])
def test_recbole_pickles_outside_checkpoint_dir_are_not_loaded(monkeypatch, capsys, tmp_path, evil, key):
    path, marker = evil
    args = ["--model=FAME", "--dataset=tiny", *tiny(checkpoint_dir=tmp_path / "saved"), f"--{key}={path}"]
    if key == "dataloaders_save_path":
        args.append("--save_dataloaders=True")
    assert run_main(monkeypatch, *args) == 2
    err = capsys.readouterr().err
    assert f"Refusing {key}={path}" in err and "trust_checkpoint: True" in err and "Traceback" not in err
    assert not marker.exists()


def test_trust_no_does_not_turn_trust_on(monkeypatch, capsys, tmp_path, evil):
    path, marker = evil
    assert run_main(monkeypatch, "--model=FAME", "--dataset=tiny", *tiny(checkpoint_dir=tmp_path / "saved"),
                    f"--dataset_save_path={path}", "--trust_checkpoint=no") == 2
    err = capsys.readouterr().err
    assert "trust_checkpoint must be True or False" in err and "'no'" in err
    assert not marker.exists()


def test_the_drop_in_pipeline_applies_the_rule_too(settings, evil):
    from recbole.config import Config as RecBoleConfig

    from recbole_fame import Config, create_dataset, data_preparation

    path, marker = evil
    with pytest.raises(ConfigurationError, match="Refusing dataloaders_save_path"):
        Config(model="FAME", dataset="tiny", config_dict=settings(dataloaders_save_path=str(path)))
    # RecBole's own Config does not check; the plugin's create_dataset and data_preparation do
    config = RecBoleConfig(model="SASRec", dataset="tiny",
                           config_dict=settings(dataset_save_path=str(path), train_neg_sample_args=None))
    with pytest.raises(ConfigurationError, match="Refusing dataset_save_path"):
        create_dataset(config)
    config = Config(model="SASRec", dataset="tiny", config_dict=settings())
    dataset = create_dataset(config)
    config["dataloaders_save_path"] = str(path)
    with pytest.raises(ConfigurationError, match="Refusing dataloaders_save_path"):
        data_preparation(config, dataset)
    assert not marker.exists()


@pytest.mark.parametrize("key", sorted(PICKLED_FILE_SETTINGS))
def test_every_pickled_file_setting_follows_the_trust_rule(tmp_path, key):
    outside, inside = str(tmp_path / "elsewhere" / "f.pth"), str(tmp_path / "saved" / "f.pth")
    base = {"checkpoint_dir": str(tmp_path / "saved"), "trust_checkpoint": False}
    with pytest.raises(ConfigurationError, match=f"Refusing {key}="):
        check_pickled_files(dict(base, **{key: outside}))
    check_pickled_files(dict(base, **{key: inside}))
    check_pickled_files(dict(base, trust_checkpoint=True, **{key: outside}))
    with pytest.raises(ConfigurationError):  # only a real True opts in
        check_pickled_files(dict(base, trust_checkpoint="no", **{key: outside}))


@pytest.mark.parametrize("value,expected", [("True", True), ("true", True), ("1", True), ("False", False),
                                            ("false", False), ("0", False)])
def test_booleans_on_the_command_line_are_read_strictly(settings, monkeypatch, value, expected):
    from recbole_fame import Config

    monkeypatch.setattr(sys, "argv", ["x", f"--trust_checkpoint={value}", f"--length_bucketing={value}"])
    config = Config(model="FAME", dataset="tiny", config_dict=settings())
    assert config["trust_checkpoint"] is expected and config["length_bucketing"] is expected


@pytest.mark.parametrize("key", BOOLEAN_SETTINGS)
@pytest.mark.parametrize("value", ["no", "yes", "2", "maybe", "None", "[]"])
def test_every_boolean_setting_refuses_anything_else(settings, monkeypatch, key, value):
    from recbole_fame import Config

    if key == "length_bucketing" and value == "None":
        pytest.skip("FAME's length_bucketing default is ~ (follow the training mode): None is a valid value there")
    monkeypatch.setattr(sys, "argv", ["x", f"--{key}={value}"])
    with pytest.raises(ConfigurationError, match=f"^{key} must be True or False"):
        Config(model="FAME", dataset="tiny", config_dict=settings())


def test_kd_dagfm_teacher_is_not_evaluated(settings, tmp_path):
    from recbole_fame import Config

    marker = tmp_path / "pwned"
    teacher = f"__import__('os').system('touch {marker}') or CrossNet"
    with pytest.raises(ConfigurationError, match="teacher must be a model name"):
        Config(model="KD_DAGFM", dataset="tiny", config_dict=settings(teacher=teacher, phase="teacher_training"))
    assert not marker.exists()


def test_command_line_values_are_read_as_literals_not_run(monkeypatch, capsys, tmp_path):
    """RecBole eval()s every --key=value string: a shared command line (or config_dict) could run code."""
    marker = tmp_path / "pwned"
    assert run_main(monkeypatch, "--model=FAME", "--dataset=tiny", *tiny(),
                    f"--seed=__import__('os').system('touch {marker}')") == 2
    err = capsys.readouterr().err
    assert "seed must be an integer" in err and "Traceback" not in err
    assert not marker.exists()
