"""run_hyper.py (hyperopt, Ray only when asked), the shipped params files and the sweep plots."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recbole_fame.errors import ConfigurationError
from recbole_fame.tuning import extra_settings, grid_size, output_paths, read_params_file, summary
from tests.conftest import HUNG_AFTER_SECONDS, TEST_DATA

REPO = Path(__file__).resolve().parents[1]


def test_hyperopt_exhaustive_runs_the_whole_grid_without_importing_ray(tmp_path):
    """A 2x1 grid on the tiny fixture: two trials in the JSON and text outputs; ray never imported."""
    params = tmp_path / "grid.hyper"
    params.write_text("n_heads choice [1,2]\nnum_experts choice [2]\n")
    args = [
        "--model=FAME", "--dataset=tiny", "--tool=Hyperopt", "--algo=exhaustive", f"--params_file={params}",
        f"--output_file={tmp_path / 'out' / 'tiny.result'}", f"--data_path={TEST_DATA}",
        "--load_col={'inter': ['user_id', 'item_id', 'timestamp']}", f"--checkpoint_dir={tmp_path / 'saved'}",
        "--epochs=1", "--hidden_size=16", "--inner_size=32", "--n_layers=1", "--MAX_ITEM_LIST_LENGTH=10",
        "--state=ERROR", "--show_progress=False", "--use_gpu=False",
    ]
    script = (
        "import sys, run_hyper\n"
        f"status = run_hyper.main({args!r})\n"
        "print('RAY_IMPORTED', any(m == 'ray' or m.startswith('ray.') for m in sys.modules))\n"
        "sys.exit(status)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=HUNG_AFTER_SECONDS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "RAY_IMPORTED False" in proc.stdout
    document = json.loads((tmp_path / "out" / "tiny.json").read_text())
    assert sorted(t["params"]["n_heads"] for t in document["trials"]) == [1, 2]  # both grid points, any order
    assert all(t["params"]["num_experts"] == 2 for t in document["trials"])
    for trial in document["trials"]:
        assert set(trial) == {"params", "best_valid_score", "best_valid_result", "test_result"}
        assert trial["best_valid_score"] == trial["best_valid_result"]["ndcg@10"]
        assert "ndcg@20" in trial["test_result"] and "hit@20" in trial["test_result"]
    assert document["best_params"] in [t["params"] for t in document["trials"]]
    text = (tmp_path / "out" / "tiny.result").read_text()
    assert text.count("Test result:") == 2


def test_bad_params_file_and_settings_give_clear_errors(tmp_path):
    bad = tmp_path / "bad.hyper"
    bad.write_text("n_heads pick [1,2]\n")
    with pytest.raises(ConfigurationError, match="line 1"):
        read_params_file(bad)
    with pytest.raises(ConfigurationError, match="params file not found"):
        read_params_file(tmp_path / "missing.hyper")
    with pytest.raises(ConfigurationError, match="exhaustive needs every parameter as `choice`"):
        grid_size({"learning_rate": ("loguniform", [-8.0, 0.0])})
    with pytest.raises(ConfigurationError, match="--key=value"):
        extra_settings(["epochs"])


def test_run_hyper_bad_input_exits_2(tmp_path, capsys):
    import run_hyper

    bad = tmp_path / "bad.hyper"
    bad.write_text("n_heads choice [1,2\n")
    assert run_hyper.main(["--model=FAME", "--dataset=tiny", f"--params_file={bad}"]) == 2
    err = capsys.readouterr().err
    assert "cannot read the values of 'n_heads'" in err and "Traceback" not in err


def test_shipped_params_files_are_the_papers_grids():
    hyper = REPO / "properties" / "hyper"
    fame = read_params_file(hyper / "FAME.hyper")
    assert fame == {"n_heads": ("choice", [1, 2, 4, 8, 16]), "num_experts": ("choice", [1, 2, 4, 8, 16, 32])}
    assert grid_size(fame) == 30
    assert read_params_file(hyper / "FAME-noMoE.hyper")["num_experts"] == ("choice", [1])
    assert read_params_file(hyper / "SASRec.hyper") == {"n_heads": ("choice", [1, 2, 4, 8, 16])}


def test_output_paths_and_settings():
    assert output_paths("out/x.result") == ("out/x.result", "out/x.json")
    assert output_paths("out/x.json") == ("out/x.txt", "out/x.json")
    assert extra_settings(["--epochs=15", "--train_mode=sequence", "--length_bucketing=True"]) == {
        "epochs": 15, "train_mode": "sequence", "length_bucketing": True}
    trials = [{"params": {"n_heads": 1}, "best_valid_score": 0.2}, {"params": {"n_heads": 2}, "best_valid_score": 0.3}]
    assert summary(trials, {"valid_metric_bigger": True})["best_params"] == {"n_heads": 2}


def synthetic_output(path, model, grid, score):
    """A run_hyper.py JSON with one trial per point of ``grid``, metrics from ``score(params)``."""
    trials = []
    for params in grid:
        s = score(params)
        result = {"hit@20": 2 * s, "ndcg@20": s, "ndcg@10": s * 0.9}
        trials.append({"params": params, "best_valid_score": s * 0.9, "best_valid_result": result,
                       "test_result": result})
    path.write_text(json.dumps({"model": model, "dataset": "toy", "valid_metric": "NDCG@10",
                                "valid_metric_bigger": True, "trials": trials}))
    return path


def load_plot_module():
    return importlib.import_module("benchmarks.plot_sweeps")


def test_plot_sweeps_writes_both_figures(tmp_path):
    heads = [1, 2, 4, 8]
    nomoe = synthetic_output(tmp_path / "nomoe.json", "FAME", [{"n_heads": h, "num_experts": 1} for h in heads],
                             lambda p: 0.10 + 0.01 * (p["n_heads"] == 4))
    sasrec = synthetic_output(tmp_path / "sasrec.json", "SASRecSeq", [{"n_heads": h} for h in heads],
                              lambda p: 0.09)
    fame = synthetic_output(tmp_path / "fame.json", "FAME",
                            [{"n_heads": h, "num_experts": n} for h in (2, 4) for n in (2, 4, 8)],
                            lambda p: 0.11 + 0.001 * p["num_experts"])
    plot = load_plot_module()
    out = tmp_path / "figures"
    assert plot.main(["--fame", str(fame), "--fame_nomoe", str(nomoe), "--sasrec", str(sasrec), "--out", str(out)]) == 0
    for name in ("toy-fig5-heads.png", "toy-fig6-experts.png"):
        assert (out / name).stat().st_size > 10_000
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (out / "toy-sweeps.md").read_text()
    assert "FAME at H* = 4" in table  # H* = the best FAME w/o MoE by validation


def test_plot_sweeps_missing_input_exits_2(tmp_path, capsys):
    plot = load_plot_module()
    assert plot.main(["--fame", str(tmp_path / "nope.json"), "--out", str(tmp_path)]) == 2
    assert "tuning output not found" in capsys.readouterr().err


def test_max_evals_caps_an_exhaustive_search(tmp_path, capsys):
    """The shipped FAME.hyper grid is 30 full trainings; --max_evals runs at most that many distinct points."""
    from recbole_fame.tuning import planned_trials, run_tuning

    params = tmp_path / "grid.hyper"
    params.write_text("n_heads choice [1,2,4]\nnum_experts choice [1]\n")
    space = read_params_file(params)
    assert planned_trials(space, "exhaustive") == 3 and planned_trials(space, "exhaustive", 2) == 2
    assert planned_trials(space, "random") == 100 and planned_trials(space, "random", 7) == 7
    settings = {"data_path": str(TEST_DATA), "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
                "checkpoint_dir": str(tmp_path / "saved"), "epochs": 1, "hidden_size": 16, "inner_size": 32,
                "n_layers": 1, "MAX_ITEM_LIST_LENGTH": 10, "state": "ERROR", "show_progress": False,
                "use_gpu": False}
    document = run_tuning("FAME", "tiny", str(params), str(tmp_path / "out" / "t.result"), algo="exhaustive",
                          max_evals=2, settings=settings)
    heads = [t["params"]["n_heads"] for t in document["trials"]]
    assert len(heads) == 2 and len(set(heads)) == 2 and set(heads) <= {1, 2, 4}
    assert "2 of the grid's 3 points" in capsys.readouterr().err
    assert len(list((tmp_path / "saved").glob("*.pth"))) == 2  # each trial's best checkpoint, no -last.pth
    with pytest.raises(ConfigurationError, match="only with --tool=Hyperopt"):
        run_tuning("FAME", "tiny", str(params), str(tmp_path / "x.result"), tool="Ray", max_evals=2, settings=settings)


TUNING_SETTINGS = ["--epochs=1", "--hidden_size=16", "--inner_size=32", "--n_layers=1", "--MAX_ITEM_LIST_LENGTH=10",
                   "--state=ERROR", "--show_progress=False", "--use_gpu=False"]


@pytest.fixture
def trials_started(monkeypatch):
    """The trials a tuning run started (each a call of objective_function)."""
    import recbole_fame.quick_start as quick_start

    started, original = [], quick_start.objective_function

    def counting(*args, **kwargs):
        started.append(kwargs.get("config_dict"))
        return original(*args, **kwargs)

    monkeypatch.setattr(quick_start, "objective_function", counting)
    return started


def output_file_case(tmp_path, monkeypatch, case):
    if case == "below a file":
        (tmp_path / "a-file").write_text("x")
        return tmp_path / "a-file" / "out" / "t.result", "a folder above it is a file"
    folder = tmp_path / "out"
    folder.mkdir()
    from tests.test_output_errors import denied_under

    denied_under(monkeypatch, folder)
    return folder / "t.result", f"the folder {folder} is not writable (Permission denied)"


@pytest.mark.parametrize("case", ["below a file", "read-only"])
def test_an_output_file_that_cannot_be_written_stops_tuning_before_the_first_trial(tmp_path, monkeypatch, capsys,
                                                                                   trials_started, case):
    import run_hyper

    output, message = output_file_case(tmp_path, monkeypatch, case)
    params = tmp_path / "grid.hyper"
    params.write_text("n_heads choice [1,2]\n")
    assert run_hyper.main(["--model=FAME", "--dataset=tiny", f"--params_file={params}", f"--output_file={output}",
                           f"--data_path={TEST_DATA}", f"--checkpoint_dir={tmp_path / 'saved'}", *TUNING_SETTINGS]) == 2
    err = capsys.readouterr().err
    assert message in err and "--output_file=" in err and "Traceback" not in err
    assert trials_started == []


WARNING_EACH_TRIAL = r"""
import sys, warnings
import recbole_fame.quick_start as quick_start
import run_hyper

def library_call():
    warnings.warn("library says so", FutureWarning)

def trial(config_dict=None, config_file_list=None, saved=True):
    with warnings.catch_warnings():  # what libraries do inside a trial: it clears the shown-once registry
        pass
    library_call()
    result = {"ndcg@10": 0.1 * config_dict["n_heads"]}
    return {"model": "FAME", "best_valid_score": result["ndcg@10"], "valid_score_bigger": True,
            "best_valid_result": result, "test_result": result}

quick_start.objective_function = trial
sys.exit(run_hyper.main(sys.argv[1:]))
"""


def test_a_library_warning_is_shown_once_not_once_per_trial(tmp_path):
    params = tmp_path / "grid.hyper"
    params.write_text("n_heads choice [1,2,4]\n")
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", WARNING_EACH_TRIAL, "--model=FAME", "--dataset=tiny",
                           f"--params_file={params}", f"--output_file={tmp_path / 'out.result'}",
                           f"--data_path={TEST_DATA}", *TUNING_SETTINGS], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(json.loads((tmp_path / "out.json").read_text())["trials"]) == 3
    assert proc.stderr.count("library says so") == 1
