"""No code runs from a file nobody trusted: every file RecBole or the plugin unpickles in a plugin run is read
only from inside checkpoint_dir, or anywhere after trust_checkpoint: True; and that opt-in, like every boolean
setting, is parsed strictly (``--trust_checkpoint=no`` used to turn it on)."""

import os
import pickle
import sys

import pytest

import run_recbole_fame
from recbole_fame.errors import ConfigurationError
from recbole_fame.runner.settings import BOOLEAN_SETTINGS
from recbole_fame.storage.checkpoint import PICKLED_FILE_SETTINGS, check_pickled_files
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


# --- a config file can neither opt in to trust nor move the trust boundary (issue 25) -------------------------


def yaml_file(tmp_path, text):
    path = tmp_path / "shared.yaml"
    path.write_text(text)
    return path


def test_a_config_file_cannot_opt_in_to_trust(monkeypatch, capsys, tmp_path, evil):
    path, marker = evil
    config_file = yaml_file(tmp_path, f"trust_checkpoint: True\ndataset_save_path: {path}\n")
    assert run_main(monkeypatch, "--model=FAME", "--dataset=tiny", *tiny(checkpoint_dir=tmp_path / "saved"),
                    f"--config_files={config_file}") == 2
    err = capsys.readouterr().err
    assert f"{config_file} sets trust_checkpoint: True" in err and "--trust_checkpoint=True" in err
    assert "Traceback" not in err and not marker.exists()


def test_a_config_file_cannot_move_the_trust_boundary_onto_crafted_files(monkeypatch, capsys, tmp_path, evil):
    path, marker = evil  # in tmp_path/shared, which the yaml makes the run's checkpoint_dir
    config_file = yaml_file(tmp_path, f"checkpoint_dir: {path.parent}\nsave_dataloaders: True\n"
                                      f"dataloaders_save_path: {path}\n")
    assert run_main(monkeypatch, "--model=FAME", "--dataset=tiny", *tiny(), f"--config_files={config_file}") == 2
    err = capsys.readouterr().err
    assert f"Refusing dataloaders_save_path={path}" in err and f"--checkpoint_dir={path.parent}" in err
    assert "Traceback" not in err and not marker.exists()


def test_recbole_default_pickles_in_a_checkpoint_dir_from_a_file_are_not_loaded(monkeypatch, capsys, tmp_path, evil):
    """RecBole's data_preparation unpickles <checkpoint_dir>/<dataset>-for-<model>-dataloader.pth whenever it exists,
    with no setting naming it."""
    path, marker = evil
    default = path.parent / "tiny-for-FAME-dataloader.pth"
    default.write_bytes(path.read_bytes())
    config_file = yaml_file(tmp_path, f"checkpoint_dir: {path.parent}\n")
    assert run_main(monkeypatch, "--model=FAME", "--dataset=tiny", *tiny(), f"--config_files={config_file}") == 2
    err = capsys.readouterr().err
    assert f"Refusing {default}" in err and "Traceback" not in err
    assert not marker.exists()


def test_a_checkpoint_dir_from_a_file_is_where_the_run_writes(monkeypatch, capsys, tmp_path):
    """The common, legitimate use: a yaml says where checkpoints go; the run writes there and tests its own best
    checkpoint from there."""
    folder = tmp_path / "runs" / "ckpt"
    config_file = yaml_file(tmp_path, f"checkpoint_dir: {folder}\n")
    assert run_main(monkeypatch, "--model=FAME", "--dataset=tiny", *tiny(), f"--config_files={config_file}") == 0
    assert [p.name for p in folder.glob("FAME-*.pth")]


def test_the_command_line_confirms_a_file_s_trust_settings(settings, tmp_path, monkeypatch, evil):
    from recbole_fame import Config

    path, _ = evil
    config_file = yaml_file(tmp_path, f"trust_checkpoint: True\ncheckpoint_dir: {path.parent}\n")
    base = {k: v for k, v in settings().items() if k != "checkpoint_dir"}
    monkeypatch.setattr(sys, "argv", ["x", "--trust_checkpoint=True", f"--checkpoint_dir={path.parent}"])
    config = Config(model="FAME", dataset="tiny", config_file_list=[str(config_file)], config_dict=base)
    assert config["trust_checkpoint"] is True
    check_pickled_files(config)
    # config_dict (Python) confirms too
    monkeypatch.setattr(sys, "argv", ["x"])
    config = Config(model="FAME", dataset="tiny", config_file_list=[str(config_file)],
                    config_dict=dict(base, trust_checkpoint=True))
    assert config["trust_checkpoint"] is True


@pytest.mark.parametrize("name", ["trust_checkpoint", "checkpoint_dir"])
def test_a_params_file_cannot_tune_the_trust_settings(tmp_path, name):
    from recbole_fame.tuning import read_params_file

    params = tmp_path / "p.hyper"
    params.write_text(f"{name} choice [True]\n")
    with pytest.raises(ConfigurationError, match=f"{name} cannot be tuned"):
        read_params_file(str(params))


def yaml_booleans():
    """Every setting a shipped yaml gives a boolean default, or documents as ``(bool)``: the plugin's overall, model
    and dataset yaml, and RecBole's overall.yaml (but valid_metric_bigger, which RecBole derives from valid_metric)."""
    import glob
    import re

    import recbole
    import yaml

    from recbole_fame.defaults import properties_dir

    files = [os.path.join(properties_dir(), "overall.yaml"), *sorted(glob.glob(os.path.join(properties_dir(), "*",
             "*.yaml"))), os.path.join(os.path.dirname(recbole.__file__), "properties", "overall.yaml")]
    found = set()
    for file in files:
        with open(file, encoding="utf-8") as f:
            text = f.read()
        found |= {key for key, value in (yaml.safe_load(text) or {}).items() if isinstance(value, bool)}
        found |= set(re.findall(r"^(\w+):.*#\s*\(bool\)", text, re.M))
    return sorted(found - {"valid_metric_bigger"})


def test_every_boolean_of_the_yaml_defaults_is_read_strictly():
    """A new boolean setting cannot be missed: keep_last_checkpoint, sorted_evaluation, compile_model and
    combine_warm_starts took 'yes' and '2', and read 'no' as true (compile_model=no compiled)."""
    booleans = yaml_booleans()
    assert {"keep_last_checkpoint", "compile_model", "trust_checkpoint", "combine_warm_starts"} <= set(booleans)
    assert set(booleans) <= set(BOOLEAN_SETTINGS), sorted(set(booleans) - set(BOOLEAN_SETTINGS))


@pytest.mark.parametrize("key", ["keep_last_checkpoint", "sorted_evaluation", "compile_model", "combine_warm_starts"])
@pytest.mark.parametrize("value", ["no", "yes", "2"])
def test_the_booleans_that_took_anything_refuse_it(settings, monkeypatch, key, value):
    from recbole_fame import Config

    monkeypatch.setattr(sys, "argv", ["x", f"--{key}={value}"])
    with pytest.raises(ConfigurationError, match=f"^{key} must be True or False"):
        Config(model="FAME", dataset="tiny", config_dict=settings())
