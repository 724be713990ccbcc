"""benchmarks.model_zoo: the models come from the installed RecBole, and each cell says how the runner ended."""

import json
import stat
import sys

from benchmarks import model_zoo


def fake_python(path, body):
    """An 'interpreter' that ignores its arguments and runs ``body`` (bash), standing in for a stack's python."""
    path.write_text("#!/bin/bash\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_every_model_of_the_four_types_is_read_from_the_installed_recbole():
    info = model_zoo.probe(sys.executable)
    counts = {kind: len(models) for kind, models in info["models"].items()}
    assert counts == {"general": 33, "sequential": 31, "context_aware": 18, "knowledge_aware": 10}  # RecBole 1.2.1
    assert "KD_DAGFM" in info["models"]["context_aware"] and "KGAT" in info["models"]["knowledge_aware"]
    assert "AbstractRecommender" not in sum(info["models"].values(), [])


def test_a_cell_is_ran_refused_with_the_runners_message_or_failed_with_the_last_line(tmp_path):
    cases = {
        "ran": ("echo trained; exit 0", ("ran", "")),
        "refused": ("echo 'error: NCL needs the package faiss: pip install faiss-cpu' >&2; exit 2",
                    ("refused", "NCL needs the package faiss: pip install faiss-cpu")),
        "failed": ("echo 'Traceback (most recent call last):'; echo 'TypeError: boom' >&2; exit 1",
                   ("failed", "TypeError: boom")),
        "busy": ("while :; do :; done", ("failed", "did not finish one epoch in 1 s of CPU")),
        "waiting": ("sleep 60", ("failed", "did not finish in 3 s (wall)")),
    }
    for name, (body, expected) in cases.items():
        workdir = tmp_path / name
        workdir.mkdir()
        status, wall, cpu, message = model_zoo.run_cell(fake_python(tmp_path / f"{name}.sh", body), "M", workdir,
                                                        limit=1, wall_limit=3 if name == "waiting" else 600)
        assert (status, message) == expected, name
        assert cpu >= 1 if name == "busy" else cpu < 1, (name, wall, cpu)


def test_the_matrix_counts_each_type_per_stack_and_keeps_every_cell(tmp_path):
    info = {"python": "3.11.7", "numpy": "1", "pandas": "2", "scipy": "1", "torch": "2", "recbole": "1.2.1",
            "models": {"general": ["BPR", "NCL"], "sequential": ["DIN"], "context_aware": [], "knowledge_aware": []}}
    cells = {"BPR": {"type": "general", "status": "ran", "seconds": 12.0, "cpu_seconds": 9.4, "message": ""},
             "NCL": {"type": "general", "status": "refused", "seconds": 3.0, "cpu_seconds": 2.6,
                     "message": "needs faiss | pip"},
             "DIN": {"type": "sequential", "status": "failed", "seconds": 300.0, "message": "did not finish"}}
    data = {"commands": ["python -m benchmarks.model_zoo"], "limit": 300, "interactions": 10000, "jobs": 1, "cores": 2,
            "stacks": {"py3.11": {"info": info, "cells": cells}}}
    text = "\n".join(model_zoo.report_lines(data))
    assert "| general | 1 / 1 / 0 of 2 |" in text and "| sequential | 0 / 0 / 1 of 1 |" in text
    assert "| BPR | ran 9 s CPU (12 s wall) |" in text
    assert "| NCL | refused 3 s CPU (3 s wall): needs faiss \\| pip |" in text  # a | in a message does not split the table
    assert f"| DIN ({model_zoo.SAMPLED['DIN'][0]} ratings) | failed 300 s wall: did not finish |" in text
    json.dumps(data)  # the raw data is plain JSON
    del cells["NCL"]
    text = "\n".join(model_zoo.report_lines(data))
    assert "| general | 1 / 0 / 0 of 2 (1 not reached) |" in text and "| NCL | not reached |" in text


def test_the_smaller_data_is_the_earliest_ratings(tmp_path):
    (tmp_path / "ml-100k.inter").write_text("user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
                                            "1\t1\t5\t30\n2\t1\t4\t10\n3\t2\t3\t20\n")
    assert model_zoo.first_interactions_setting(tmp_path, 2) == str({"timestamp": "[0,20]"})
    assert model_zoo.first_interactions_setting(tmp_path, 0) is None


def test_render_writes_the_matrix_of_merged_runs_without_running_anything(tmp_path):
    info = {"python": "3.13.0", "numpy": "2", "pandas": "3", "scipy": "1.18", "torch": "2.14", "recbole": "1.2.1",
            "models": {"general": ["BPR"], "sequential": ["GRU4Rec"], "context_aware": [], "knowledge_aware": []}}
    run = {"limit": 300, "interactions": 10000, "jobs": 4, "cores": 2}
    cell = {"status": "ran", "seconds": 20.0, "cpu_seconds": 9.0, "message": ""}
    (tmp_path / "zoo.json").write_text(json.dumps(dict(run, commands=["zoo --types general"], stacks={
        "py3.13": {"info": info, "cells": {"BPR": dict(cell, type="general")}}})))
    (tmp_path / "seq.json").write_text(json.dumps(dict(run, commands=["zoo --types sequential"], stacks={
        "py3.13": {"info": info, "cells": {"GRU4Rec": dict(cell, type="sequential")}}})))
    model_zoo.main(["--out", str(tmp_path / "zoo.md"), "--render", "--merge", str(tmp_path / "seq.json")])
    text = (tmp_path / "zoo.md").read_text()
    assert "| general | 1 / 0 / 0 of 1 |" in text and "| sequential | 1 / 0 / 0 of 1 |" in text
    assert text.index("`zoo --types general`") < text.index("`zoo --types sequential`") < text.index("--render")
    assert set(json.loads((tmp_path / "zoo.json").read_text())["stacks"]["py3.13"]["cells"]) == {"BPR", "GRU4Rec"}
