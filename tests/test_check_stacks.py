"""scripts/check_stacks.sh: one summary row per Python asked for, and the model matrix only of those set up."""

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_a_python_that_is_not_there_gets_a_summary_row_and_no_matrix(tmp_path):
    env = dict(os.environ, PYTHONS="9.9", OUT=str(tmp_path), ZOO="1", VENV_ROOT=str(tmp_path / "venvs"),
               PATH="/usr/bin:/bin", PYENV_ROOT=str(tmp_path / "no-pyenv"))
    proc = subprocess.run(["bash", str(REPO / "scripts" / "check_stacks.sh")], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 1
    summary = next(tmp_path.glob("*-summary.md")).read_text().splitlines()
    assert summary == ["| Python | set-up | suite |", "|---|---|---|", "| 9.9 | no python9.9 found | not run |"]
    assert not list(tmp_path.glob("*model_zoo*")) and "model zoo" not in proc.stdout
