"""benchmarks.tuning_table: every configuration a row, selection on validation only, Figures 5 and 6."""

import json

import pytest

from benchmarks import tuning_table


def record(tmp_path, model, heads, experts, valid, test, d=64, patience=5, protocol=True):
    resolved = {"n_heads": heads, "hidden_size": d, "stopping_step": patience, "train_batch_size": 44,
                "eval_exclude_history": protocol, "num_experts": experts}
    metrics = lambda base: {f"{m}@{k}": base * (1 + k / 100) for m in ("hit", "ndcg") for k in (5, 10, 20)}
    run = {"label": f"{model} H{heads} N{experts} d{d} p{patience} {protocol}", "model": "FAME" if model == "FAME" else "SASRecSeq",
           "dataset": "tiny", "seed": 1, "settings": {}, "resolved": resolved, "epochs": 10, "best_epoch": 4,
           "seconds_per_epoch": 1.0, "best_valid_result": metrics(valid), "test_result": metrics(test)}
    path = tmp_path / f"{run['label'].replace(' ', '_')}.json"
    path.write_text(json.dumps(run))
    return str(path)


def test_selection_reads_validation_only_and_every_run_is_a_row(tmp_path, capsys):
    files = [record(tmp_path, "SASRec", h, None, 0.05, 0.04) for h in (1, 2, 4)]
    files += [record(tmp_path, "FAME", 1, 4, 0.060, 0.070),  # best test, not best validation
              record(tmp_path, "FAME", 2, 4, 0.065, 0.050),  # best validation: selected
              record(tmp_path, "FAME", 4, 4, 0.062, 0.060),
              record(tmp_path, "FAME", 2, 1, 0.061, 0.055), record(tmp_path, "FAME", 4, 1, 0.060, 0.055),
              record(tmp_path, "FAME", 2, 8, 0.064, 0.065),
              record(tmp_path, "FAME", 2, 4, 0.063, 0.080, d=128)]  # another d: a row, not in the figures' curves
    out, figures = tmp_path / "table.md", tmp_path / "figures"
    tuning_table.main([*files, "--out", str(out), "--figures", str(figures)])
    text = out.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| FAME") or line.startswith("| SASRecSeq")]
    assert len(rows) == len(files)
    assert "Selected: H = 2, N = 4, d = 64" in text
    assert "**0.0715**" in text and text.count("**") == 2  # its validation NDCG@10 (0.065 x 1.1)
    assert (figures / "tiny-fig5-heads.png").stat().st_size > 0
    assert (figures / "tiny-fig6-experts.png").stat().st_size > 0


def test_curves_hold_the_selected_d_and_patience_only(tmp_path):
    runs = [json.loads(open(f).read()) for f in (
        record(tmp_path, "FAME", 1, 4, 0.060, 0.07), record(tmp_path, "FAME", 2, 4, 0.065, 0.05),
        record(tmp_path, "FAME", 2, 8, 0.064, 0.05), record(tmp_path, "FAME", 2, 4, 0.050, 0.05, patience=10),
        record(tmp_path, "SASRec", 2, None, 0.05, 0.04))]
    selected = tuning_table.select(runs)
    heads_curves, sasrec, experts, best_heads, nomoe = tuning_table.curves(runs, selected)
    assert best_heads == 2 and sorted(experts) == [4, 8] and experts[4] is runs[1]
    assert [label for label, _ in heads_curves] == ["FAME N=4"] and sorted(heads_curves[0][1]) == [1, 2]
    assert list(sasrec) == [2] and nomoe is None


def test_a_table_mixing_protocols_says_so(tmp_path):
    files = [record(tmp_path, "FAME", 1, 4, 0.06, 0.07), record(tmp_path, "FAME", 2, 4, 0.05, 0.05, protocol=False)]
    out = tmp_path / "t.md"
    tuning_table.main([*files, "--out", str(out)])
    assert "mixes protocols" in out.read_text() and "| kept |" in out.read_text()


def test_runs_of_several_seeds_are_refused(tmp_path):
    first = record(tmp_path, "FAME", 1, 4, 0.06, 0.07)
    other = json.loads(open(first).read())
    other["seed"] = 2
    second = tmp_path / "other.json"
    second.write_text(json.dumps(other))
    with pytest.raises(SystemExit, match="one dataset and seed"):
        tuning_table.main([first, str(second)])
