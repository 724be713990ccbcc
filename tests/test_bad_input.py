"""Mistakes end in one clear message (exit status 2), not a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import run_recbole_fame
from recbole_fame.storage.checkpoint import load_recbole_checkpoint
from recbole_fame.errors import CheckpointError
from tests.conftest import HUNG_AFTER_SECONDS, TEST_DATA

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
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=HUNG_AFTER_SECONDS,
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


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"epochs": 0}, "epochs must be an integer >= 1, got 0"),
        ({"epochs": -1}, "epochs must be an integer >= 1, got -1"),
        ({"epochs": "two"}, "epochs must be an integer >= 1, got 'two'"),
        ({"MAX_ITEM_LIST_LENGTH": 0}, "MAX_ITEM_LIST_LENGTH must be an integer >= 1, got 0"),
        ({"train_batch_size": 0}, "train_batch_size must be an integer >= 1, got 0"),
        ({"eval_batch_size": -5}, "eval_batch_size must be an integer >= 1"),
        ({"learning_rate": "nan"}, "learning_rate must be a finite number > 0, got 'nan'"),
        ({"learning_rate": -0.1}, "learning_rate must be a finite number > 0, got -0.1"),
        ({"learning_rate": 0}, "learning_rate must be a finite number > 0, got 0"),
        ({"topk": "[10,100]"}, "topk [10, 100] asks for the top 100 items, and dataset tiny has 50 items"),
        ({"topk": "[0]"}, "topk must be an integer >= 1"),
        ({"save_last_checkpoint": "no"}, "save_last_checkpoint must be True or False"),
        ({"length_bucketing": "yes"}, "length_bucketing must be True or False"),
        ({"detect_anomaly": "on"}, "detect_anomaly must be True or False"),
        ({"scale_by_heads": "nope"}, "scale_by_heads must be True or False"),
        ({"valid_metric": "NDCG@30"}, "valid_metric NDCG@30 is not computed by this run"),
        ({"valid_metric": "MRR@10"}, "valid_metric MRR@10 is not computed by this run"),
        ({"metrics": "['Recall']"}, "valid_metric NDCG@10 is not computed by this run"),
        ({"learner": "sgdx"}, "learner must be one of adam"),
        ({"clip_grad_norm": 5}, "clip_grad_norm must be a mapping"),
    ],
)
def test_bad_settings_end_in_one_message(monkeypatch, capsys, overrides, message):
    assert run_main(monkeypatch, "--model=FAME", "--dataset=tiny", *tiny(**overrides)) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and "test result" not in err


@pytest.mark.parametrize("model", ["SASRec", "BERT4Rec", "FAME", "SASRecSeq", "FEARec", "LightSANs"])
def test_any_model_with_hidden_size_not_divisible_by_n_heads(monkeypatch, capsys, model):
    assert run_main(monkeypatch, f"--model={model}", "--dataset=tiny", *tiny(hidden_size=30, n_heads=4)) == 2
    err = capsys.readouterr().err
    assert "hidden_size (30) must be divisible by n_heads (4)" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "text,message",
    [
        ("epochs: [1, 2\n", "is not valid yaml"),
        ("epochs: 1\n\tlearning_rate: 0.1\n", "is not valid yaml"),
        ("- epochs\n- 1\n", "must be a mapping of settings"),
        (b"epochs: 1 # \xff\xfe\n", "is not UTF-8 text"),
    ],
)
def test_bad_yaml_file_is_named(monkeypatch, capsys, tmp_path, text, message):
    path = write(tmp_path / "bad.yaml", text)
    assert run_main(monkeypatch, "--model=FAME", "--dataset=tiny", *TINY, f"--config_files={path}") == 2
    err = capsys.readouterr().err
    assert f"The config file {path}" in err and message in err and "Traceback" not in err


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system", "!!python/object/new:os.system",
                                 "!!python/name:os.system", "!!python/object:os.system"])
def test_yaml_python_tags_are_refused_and_not_executed(monkeypatch, capsys, tmp_path, tag):
    marker = tmp_path / "pwned"
    path = write(tmp_path / "evil.yaml", f"seed: {tag} ['touch {marker}']\n")
    assert run_main(monkeypatch, "--model=FAME", "--dataset=tiny", *TINY, f"--config_files={path}") == 2
    err = capsys.readouterr().err
    assert "never executed or constructed" in err and str(path) in err and "Traceback" not in err
    assert not marker.exists()


def test_missing_config_file_is_named(monkeypatch, capsys, tmp_path):
    assert run_main(monkeypatch, "--model=FAME", "--dataset=tiny", *TINY, f"--config_files={tmp_path}/no.yaml") == 2
    err = capsys.readouterr().err
    assert f"Cannot read the config file {tmp_path}/no.yaml" in err and "Traceback" not in err


def tiny_copy(tmp_path, name="broken"):
    folder = tmp_path / name
    folder.mkdir()
    for suffix in ("inter", "item"):
        (folder / f"{name}.{suffix}").write_bytes((TEST_DATA / "tiny" / f"tiny.{suffix}").read_bytes())
    return folder


def test_interaction_file_with_a_header_and_no_rows(monkeypatch, capsys, tmp_path):
    folder = tiny_copy(tmp_path)
    inter = folder / "broken.inter"
    inter.write_text(inter.read_text().splitlines()[0] + "\n\n")
    assert run_main(monkeypatch, "--model=FAME", "--dataset=broken", *tiny(data_path=tmp_path)) == 2
    err = capsys.readouterr().err
    assert f"{inter} has a header and no interaction" in err and "Traceback" not in err


def test_non_number_in_a_float_column_names_file_line_and_column(monkeypatch, capsys, tmp_path):
    folder = tiny_copy(tmp_path)
    inter = folder / "broken.inter"
    lines = inter.read_text().splitlines()
    lines[4] = lines[4].rsplit("\t", 1)[0] + "\tsoon"
    inter.write_text("\n".join(lines) + "\n")
    assert run_main(monkeypatch, "--model=FAME", "--dataset=broken", *tiny(data_path=tmp_path)) == 2
    err = capsys.readouterr().err
    assert f"{inter}, line 5: the column timestamp is typed 'float' and holds 'soon'" in err and "Traceback" not in err


def test_non_utf8_bytes_in_the_item_file_name_file_and_line(monkeypatch, capsys, tmp_path):
    folder = tiny_copy(tmp_path)
    item = folder / "broken.item"
    lines = item.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b"story", b"st\xff\xfery")
    item.write_bytes(b"\n".join(lines))
    load_col = "{'inter':['user_id','item_id','timestamp'],'item':['item_id','title']}"
    assert run_main(monkeypatch, "--model=FAME", "--dataset=broken", *tiny(data_path=tmp_path, load_col=load_col)) == 2
    err = capsys.readouterr().err
    assert f"{item}, line 4: bytes that are not utf-8 text" in err and "Traceback" not in err


def test_truncated_checkpoint_given_to_resume_is_one_error(monkeypatch, capsys, tmp_path):
    import torch

    broken = tmp_path / "saved" / "FAME-x-last.pth"
    broken.parent.mkdir()
    torch.save({"state_dict": {"w": torch.zeros(1000)}, "config": {}}, broken)
    broken.write_bytes(broken.read_bytes()[:700])
    assert run_main(monkeypatch, "--model=FAME", "--dataset=tiny", *tiny(checkpoint_dir=tmp_path / "saved"),
                    f"--resume_from={broken}") == 2
    err = capsys.readouterr().err
    assert f"Cannot read the checkpoint {broken}" in err and "truncated or corrupt" in err and "Traceback" not in err


def test_a_pickle_that_is_not_a_checkpoint_is_refused(tmp_path):
    import torch

    path = tmp_path / "saved" / "list.pth"
    path.parent.mkdir()
    torch.save([1, 2, 3], path)
    with pytest.raises(CheckpointError, match="is not a RecBole checkpoint"):
        load_recbole_checkpoint(path, {"checkpoint_dir": str(tmp_path / "saved"), "trust_checkpoint": False})


GOOD_METADATA = {"format": "recbole_fame.text_pretrain", "version": 1, "dataset": "tiny", "n_items": 3,
                 "hidden_size": 2, "n_heads": 1, "encoder": {"name": "x"}, "item_tokens": ["[PAD]", "i1", "i2"],
                 "report": None}


def bad_metadata_cases():
    import json

    def edited(**changes):
        return json.dumps({k: v for k, v in dict(GOOD_METADATA, **changes).items() if v != "DROP"})

    return [
        ("{not json", "its metadata is not valid JSON"),
        (json.dumps([1, 2]), "its metadata must be a JSON object, it is a JSON list"),
        (edited(n_items="DROP"), "its metadata's n_items must be an integer >= 1, it is None"),
        (edited(encoder="DROP"), "its metadata lacks the encoder"),
        (edited(encoder="minilm"), "its metadata lacks the encoder"),
        (edited(version="1"), "its metadata's version must be an integer >= 1, it is '1'"),
        (edited(version=1.5), "its metadata's version must be an integer >= 1, it is 1.5"),
        (edited(version=99), "has format version 99"),
        (edited(report=[1]), "its metadata's report must be a JSON object"),
    ]


@pytest.mark.parametrize("text,message", bad_metadata_cases())
def test_bad_text_checkpoint_metadata_is_one_error(tmp_path, capsys, text, message):
    import torch
    from safetensors.torch import save_file

    from recbole_fame.text.checkpoint import load_text_checkpoint
    from recbole_fame.text.report import main as report_main

    path = tmp_path / "FAMETextPretrain-x.safetensors"
    save_file({"item_embedding": torch.zeros(3, 2)}, str(path),
              metadata={"format": "recbole_fame.text_pretrain", "recbole_fame": text})
    with pytest.raises(CheckpointError) as caught:
        load_text_checkpoint(path)
    assert message in str(caught.value) and str(path) in str(caught.value)
    json_copy = write(tmp_path / "FAMETextPretrain-x.json", text)
    for target in (path, json_copy):
        assert report_main([str(target)]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err


@pytest.mark.parametrize("content", [b"\xff\xfe not utf-8", b"", b"null"])
def test_report_on_an_unreadable_json_is_one_error(tmp_path, capsys, content):
    from recbole_fame.text.report import main as report_main

    path = write(tmp_path / "x.json", content)
    assert report_main([str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "Traceback" not in err


def test_report_with_a_malformed_table_is_one_error(tmp_path, capsys):
    import json

    from recbole_fame.text.report import main as report_main

    path = write(tmp_path / "x.json", json.dumps(dict(GOOD_METADATA, report={"k": 10})))
    assert report_main([str(path)]) == 2
    err = capsys.readouterr().err
    assert "holds a malformed report" in err and "Traceback" not in err


def test_truncated_text_checkpoint_is_one_error(tmp_path):
    import json

    import torch
    from safetensors.torch import save_file

    from recbole_fame.text.checkpoint import load_text_checkpoint

    path = tmp_path / "t.safetensors"
    save_file({"item_embedding": torch.zeros(300, 20)}, str(path),
              metadata={"format": "recbole_fame.text_pretrain", "recbole_fame": json.dumps(GOOD_METADATA)})
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match=str(path)):
        load_text_checkpoint(path)


def test_binary_interaction_file_is_one_error(monkeypatch, capsys, tmp_path):
    folder = tiny_copy(tmp_path)
    (folder / "broken.inter").write_bytes(b"\xa0\xff\x00garbage\n\x01\x02\n")
    assert run_main(monkeypatch, "--model=FAME", "--dataset=broken", *tiny(data_path=tmp_path)) == 2
    err = capsys.readouterr().err
    assert "its header line is not utf-8 text" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "row,message",
    [
        ("u1\ti22\tnan", "the time column timestamp holds 'nan'"),
        ("u1\ti22\t", "the time column timestamp is empty"),
        ("u1\ti22\tinf", "the time column timestamp holds 'inf'"),
        ("u1\ti22", "the line has 2 fields and the header 3"),
        ("u1\ti22\t1001109\t5", "the line has 4 fields and the header 3"),
    ],
)
def test_a_row_without_a_usable_time_or_with_other_fields_names_file_line_and_value(monkeypatch, capsys, tmp_path,
                                                                                    row, message):
    """A NaN or empty time used to be filled in with the mean time (reordering that user's sequence) and a row with
    more fields than the header ended in a pandas traceback."""
    folder = tiny_copy(tmp_path)
    inter = folder / "broken.inter"
    lines = inter.read_text().splitlines()
    lines[6] = row
    inter.write_text("\n".join(lines) + "\n")
    assert run_main(monkeypatch, "--model=FAME", "--dataset=broken", *tiny(data_path=tmp_path)) == 2
    err = capsys.readouterr().err
    assert f"{inter}, line 7: {message}" in err and "Traceback" not in err


def test_a_misspelt_setting_on_the_command_line_is_refused_with_the_nearest_name(monkeypatch, capsys):
    """--epoch=5 used to be ignored without a word (the run trained for the default epochs)."""
    assert run_main(monkeypatch, "--model=FAME", "--dataset=tiny", *TINY, "--epoch=5") == 2
    err = capsys.readouterr().err
    assert "unknown setting epoch in --epoch=... (did you mean epochs?)" in err and "Traceback" not in err
    assert run_main(monkeypatch, "--model=FAME", "--dataset=tiny", *TINY, "--max_item_list_length=5") == 2
    assert "(did you mean MAX_ITEM_LIST_LENGTH?)" in capsys.readouterr().err


def test_an_unknown_setting_in_a_file_or_config_dict_is_one_warning(monkeypatch, capsys, tmp_path, settings):
    """A shared yaml may carry settings of other tools: the run goes on, with one line naming the file."""
    from recbole_fame import Config

    path = write(tmp_path / "shared.yaml", "epoch: 5\nlearning_rat: 0.01\n")
    for _ in range(2):  # once per name and process
        Config(model="FAME", dataset="tiny", config_file_list=[str(path)], config_dict=settings(hiden_size=8))
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: unknown setting")]
    assert lines == [f"warning: unknown setting epoch in {path} (did you mean epochs?): no RecBole or recbole_fame "
                     "setting has that name, so it would be ignored; it is ignored.",
                     f"warning: unknown setting learning_rat in {path} (did you mean learning_rate?): no RecBole or "
                     "recbole_fame setting has that name, so it would be ignored; it is ignored.",
                     "warning: unknown setting hiden_size in config_dict (did you mean hidden_size?): no RecBole or "
                     "recbole_fame setting has that name, so it would be ignored; it is ignored."]


def test_settings_of_other_models_are_known(monkeypatch, capsys):
    """Names that RecBole's other models read (a shared command line for several models) are not typos."""
    assert run_main(monkeypatch, "--model=FAME", "--dataset=tiny", *TINY, "--mask_ratio=0.2", "--encoding=utf-8") == 0
    assert "unknown setting" not in capsys.readouterr().err


def test_run_hyper_refuses_a_misspelt_setting_before_any_trial(tmp_path, capsys):
    import run_hyper

    params = write(tmp_path / "p.hyper", "n_heads choice [1,2]\n")
    assert run_hyper.main(["--model=FAME", "--dataset=tiny", f"--params_file={params}", "--epoch=5",
                           f"--output_file={tmp_path / 'o.result'}"]) == 2
    err = capsys.readouterr().err
    assert "unknown setting epoch" in err and "did you mean epochs?" in err and not (tmp_path / "o.result").exists()


@pytest.mark.parametrize("name,data_path,dataset", [("../../x", "../..", "x"), ("data/tiny", "data", "tiny"),
                                                    ("..", None, None)])
def test_a_dataset_name_with_a_path_in_it_is_refused(monkeypatch, capsys, name, data_path, dataset):
    """It was reported only as "not found"."""
    assert run_main(monkeypatch, "--model=FAME", f"--dataset={name}", *TINY) == 2
    err = capsys.readouterr().err
    assert f"dataset must be a name, not a path: got {name!r}" in err and "Traceback" not in err
    if data_path:
        assert f"--data_path={data_path} --dataset={dataset}" in err


@pytest.mark.parametrize(
    "args,message",
    [
        (["--eval_args={'split':{'LS':'valid_and_test'},'order':'TO','mode':'uni5'}"],
         "eval_args mode uni5 ranks each target among 6 items (itself and 5 sampled negatives), so metrics at topk "
         "[10, 20] count every target as a hit"),
        (["--eval_args={'split':{'LS':'valid_and_test'},'order':'TO','mode':{'valid':'full','test':'pop9'}}"],
         "eval_args mode pop9 ranks each target among 10 items"),
        (["--gpu_id=abc"], "gpu_id must name GPUs (e.g. 0, or 0,1), got 'abc'"),
        (["--gpu_id=0;1"], "gpu_id must name GPUs (e.g. 0, or 0,1), got '0;1'"),
    ],
)
def test_sampled_evaluation_below_topk_and_a_gpu_id_that_names_no_gpu_are_refused(monkeypatch, capsys, args, message):
    """RecBole accepts both: with mode uni5 Hit@10 and Hit@20 are 1 for every user, and gpu_id=abc hides every GPU
    (CUDA_VISIBLE_DEVICES=abc), so the run silently trains on the CPU."""
    assert run_main(monkeypatch, "--model=FAME", "--dataset=tiny", *TINY, *args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("args", [["--eval_args={'split':{'LS':'valid_and_test'},'order':'TO','mode':'uni100'}"],
                                  ["--eval_args={'split':{'LS':'valid_and_test'},'order':'TO','mode':'uni5'}",
                                   "--topk=[1,5]", "--valid_metric=NDCG@5"]])
def test_sampled_evaluation_that_ranks_more_items_than_topk_passes(settings, monkeypatch, args):
    from recbole_fame import Config

    monkeypatch.setattr(sys, "argv", ["x", *args])
    Config(model="FAME", dataset="tiny", config_dict=settings())


@pytest.mark.parametrize("gpu_id", [0, "0", "0,1", (0, 1), "", "GPU-8f3e2c1a-0b1d-4c2e-9f00-123456789abc",
                                    "MIG-GPU-8f3e2c1a-0b1d-4c2e-9f00-123456789abc/1/0"])
def test_gpu_ids_that_name_gpus_pass(gpu_id):
    """(Checked directly: RecBole's Config exports gpu_id as CUDA_VISIBLE_DEVICES for the whole process.)"""
    from recbole_fame.runner.settings import check_gpu_id

    check_gpu_id(gpu_id)
