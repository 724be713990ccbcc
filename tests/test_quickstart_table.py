"""benchmarks.quickstart_table: one row per run (seed, threads), then min, max and mean over the runs."""

import json
import sys

import pytest

from benchmarks import quickstart_table


def record(tmp_path, seed, threads, hit, ndcg, best_epoch=9):
    run = {"label": f"FAME {threads} thread", "model": "FAME", "dataset": "tiny", "seed": seed, "threads": threads,
           "epochs": 15, "best_epoch": best_epoch, "test_result": {"hit@10": hit, "ndcg@10": ndcg}}
    path = tmp_path / f"FAME_{threads}_thread-seed{seed}.json"
    path.write_text(json.dumps(run))
    return str(path)


def test_rows_are_ordered_and_the_spread_is_their_min_max_and_mean(tmp_path, monkeypatch):
    files = [record(tmp_path, 2021, 2, 0.13, 0.065, best_epoch=14), record(tmp_path, 2020, 2, 0.12, 0.06),
             record(tmp_path, 2020, 1, 0.08, 0.04)]
    out = tmp_path / "table.md"
    monkeypatch.setattr(sys, "argv", ["quickstart_table", *files, "--out", str(out)])
    quickstart_table.main()
    lines = out.read_text().splitlines()
    assert lines[0].startswith("Command: `python -m benchmarks.quickstart_table ")
    runs = [line for line in lines if line.startswith("| 20")]
    assert runs == ["| 2020 | 1 | 0.0800 | 0.0400 | 10 (15) |", "| 2020 | 2 | 0.1200 | 0.0600 | 10 (15) |",
                    "| 2021 | 2 | 0.1300 | 0.0650 | 15 (15) |"]
    assert "| min over 3 runs | | 0.0800 | 0.0400 | |" in lines
    assert "| max over 3 runs | | 0.1300 | 0.0650 | |" in lines
    assert "| mean over 3 runs | | 0.1100 | 0.0550 | |" in lines  # not the median (0.12)
    numbers = json.loads((tmp_path / "table.json").read_text())
    assert numbers["mean"]["ndcg@10"] == pytest.approx(0.055) and numbers["min"]["hit@10"] == 0.08
    assert [(r["seed"], r["threads"]) for r in numbers["runs"]] == [(2020, 1), (2020, 2), (2021, 2)]


def test_a_run_without_its_thread_count_is_refused(tmp_path, monkeypatch):
    path = record(tmp_path, 2020, 1, 0.1, 0.05)
    run = json.loads(open(path).read())
    del run["threads"]
    open(path, "w").write(json.dumps(run))
    monkeypatch.setattr(sys, "argv", ["quickstart_table", path])
    with pytest.raises(SystemExit, match="does not record its thread count"):
        quickstart_table.main()
