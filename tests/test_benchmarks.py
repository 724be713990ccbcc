"""The benchmarks: tools in the package ``benchmarks`` (run as ``python -m benchmarks.<tool>``, no sys.path
edits), recipes in benchmarks/recipes/ that call them so, and docs that quote paths and commands that exist;
the recipes' parameters instead of Beauty's names, the interpreter of the venv, warm starts without
hand-copied model settings, logs without progress bars, and --help texts that are whole."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import HUNG_AFTER_SECONDS, TEST_DATA

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"
COMMON = BENCHMARKS / "recipes" / "common.sh"  # sourced by the recipes: working folder, threads, shared parameters
SOURCE_COMMON = 'source "$(dirname "$0")/common.sh"'
SCRIPTS = sorted(path for path in (BENCHMARKS / "recipes").glob("*.sh") if path != COMMON)
MODULES = sorted(BENCHMARKS.rglob("*.py"))
TOOLS = [path for path in MODULES if 'if __name__ == "__main__"' in path.read_text()]
# where commands and paths are quoted for people to type (JSON records and logs keep what ran)
DOCS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md"), *(REPO / "results").rglob("*.md"),
               *(REPO / "results").rglob("*.sh"), *BENCHMARKS.rglob("README.md")])
TINY = [f"data_path={TEST_DATA}", "load_col={'inter':['user_id','item_id','timestamp']}", "epochs=2",
        "hidden_size=16", "inner_size=32", "MAX_ITEM_LIST_LENGTH=20", "use_gpu=False", "state=INFO"]


def recipe_text(script):
    """The recipe as bash runs it: common.sh's lines in place of the line that sources it."""
    return script.read_text().replace(SOURCE_COMMON, COMMON.read_text())


def env():
    return dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_every_recipe_takes_its_dataset_and_interpreter_as_parameters(script):
    text = recipe_text(script)
    subprocess.run(["bash", "-n", str(script)], check=True)
    code = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    bare = [line for line in code if re.search(r"(^|[\s($;|&])python3? ", line) and "print(" not in line]
    assert not bare, f"{script.name} calls a bare python: {bare}"
    assert "PYTHON=${PYTHON:-.venv/bin/python}" in text
    assert re.search(r"^DATASET=\$\{DATASET:-[\w-]+\}$", text, re.M), f"{script.name}: no DATASET parameter"
    assert "amazon-beauty" not in "\n".join(line for line in code if "DATASET=${DATASET" not in line
                                             and "WARM=" not in line and "--dataset=amazon-beauty" not in line
                                             or "--dataset=amazon-beauty" in line and "compare" in line)
    if "benchmarks.compare" in text and "--table_only" not in text.split("benchmarks.compare", 1)[1][:200]:
        assert "SEED=${SEED:-2020}" in text or "SEEDS=${SEEDS:-2020 " in text
    # results and checkpoints are parameters too (Beauty's folders by default)
    assert "results/beauty" not in "\n".join(line for line in code if "${" not in line), script.name


def test_compare_help_is_not_cut_mid_sentence():
    proc = subprocess.run([sys.executable, "-m", "benchmarks.compare", "--help"], capture_output=True,
                          text=True, env=env(), cwd=REPO, check=True)
    description = " ".join(proc.stdout.split("\n\n")[1].split())
    assert description.endswith("wall time per epoch and parameter count.")
    assert "warm_start=LABEL" in proc.stdout


def test_compare_warm_starts_fame_from_a_sequence_mode_sasrec_without_copied_settings(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.compare", "--dataset=tiny", f"--out={out}", "--seed=1",
         "--set", *TINY, f"checkpoint_dir={tmp_path / 'saved'}", "--models",
         "SASRec (sequence mode)=SASRecSeq:n_heads=2,train_mode=sequence; "
         "FAME (warm start)=FAME:warm_start=SASRec (sequence mode),num_experts=2"],
        cwd=tmp_path, capture_output=True, text=True, env=env(), timeout=HUNG_AFTER_SECONDS)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    sasrec = json.loads((out / "SASRec__sequence_mode_-seed1.json").read_text())
    fame = json.loads((out / "FAME__warm_start_-seed1.json").read_text())
    assert fame["settings"]["pretrained_path"] == sasrec["checkpoint"]
    assert fame["settings"]["n_heads"] == 2 and fame["settings"]["hidden_size"] == 16  # from the checkpoint
    assert fame["settings"]["inner_size"] == 32 and "warm_start" not in fame["settings"]
    assert sasrec["threads"] == fame["threads"] == 1  # torch's thread count, from OMP_NUM_THREADS
    assert "\r" not in proc.stdout + proc.stderr  # no progress bars in the logs
    assert "| FAME (warm start) |" in proc.stdout  # the table


def load_text_benchmark():
    import importlib

    return importlib.import_module("benchmarks.text_pretrain.run")


def test_text_benchmark_reads_lists_config_files_and_follows_the_pretrainings_heads(tmp_path, monkeypatch):
    bench = load_text_benchmark()
    assert bench.parse_settings(["facet_fields=['a','b']", "epochs=3", "train_mode=sequence"]) == {
        "facet_fields": ["a", "b"], "epochs": 3, "train_mode": "sequence"}
    with pytest.raises(SystemExit, match="quote its items"):
        bench.parse_settings(["facet_fields=[a,b]"])
    runs = []

    def fake_run(model, dataset, settings, config_files=None):
        runs.append((model, dict(settings), config_files))
        return {"checkpoint": str(tmp_path / "t.safetensors"), "command": bench.command(model, dataset, settings, config_files)}

    monkeypatch.setattr(bench, "run", fake_run)
    monkeypatch.setattr(bench, "read_text_metadata",
                        lambda path: {"n_heads": 2, "hidden_size": 32, "report": {}, "encoder": {"name": "x"}})
    monkeypatch.setattr(bench, "format_report", lambda report: "")
    monkeypatch.setattr(bench, "write_markdown", lambda out: None)
    bench.main(["--dataset=ml-100k", f"--out={tmp_path}", "--config_files=a.yaml b.yaml",
                "--pretrain_set", "n_heads=2", "facet_fields=['class','release_year']", "--set", "epochs=1"])
    (pre, pre_settings, files), (_, fame_settings, _), (_, text_settings, _) = runs
    assert pre == "FAMETextPretrain" and pre_settings["facet_fields"] == ["class", "release_year"]
    assert files == ["a.yaml", "b.yaml"]
    assert fame_settings["n_heads"] == 2 and fame_settings["hidden_size"] == 32 and fame_settings["epochs"] == 1
    assert text_settings["text_pretrained_path"] == str(tmp_path / "t.safetensors")
    assert '--facet_fields="[\'class\', \'release_year\']"' in bench.command(pre, "ml-100k", pre_settings)


def module_name(path):
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def relative(paths):
    return [str(path.relative_to(REPO)) for path in paths]


def module_exists(name):
    path = REPO / name.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_benchmarks_is_a_package_whose_modules_never_edit_sys_path():
    assert (BENCHMARKS / "__init__.py").is_file() and TOOLS
    assert SCRIPTS and not list(BENCHMARKS.glob("*.sh")), "the shell recipes live in benchmarks/recipes/"
    edits = [f"{path.relative_to(REPO)}:{number}" for path in MODULES
             for number, line in enumerate(path.read_text().splitlines(), 1) if "sys.path" in line]
    assert not edits, f"the tools run as python -m benchmarks.<tool> from the repository root: {edits}"
    for folder in {path.parent for path in MODULES}:
        assert (folder / "__init__.py").is_file(), f"{folder.relative_to(REPO)} has modules but no __init__.py"


@pytest.mark.parametrize("path", MODULES, ids=relative(MODULES))
def test_every_benchmark_module_imports_as_part_of_the_package(path):
    import importlib

    importlib.import_module(module_name(path))


@pytest.mark.parametrize("path", TOOLS, ids=relative(TOOLS))
def test_a_tool_run_as_a_file_stops_and_names_its_module_command(path, tmp_path):
    proc = subprocess.run([sys.executable, str(path), "--help"], capture_output=True, text=True, env=env(),
                          cwd=tmp_path, timeout=HUNG_AFTER_SECONDS)
    assert proc.returncode != 0 and not proc.stdout
    assert f"python -m {module_name(path)}" in proc.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_every_recipe_runs_from_the_repository_root_and_calls_the_tools_as_modules(script):
    text = recipe_text(script)
    assert 'cd "$(dirname "$0")/../.."' in text
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    named = re.findall(r"benchmarks/[\w./-]*\w", code)
    assert all(re.fullmatch(r"benchmarks/recipes/\w+\.sh", name) for name in named), \
        f"{script.name} names files under benchmarks/ (call the tools as -m benchmarks.<tool>): {named}"
    modules = re.findall(r"-m\s+benchmarks\.([\w.]*\w)", text)
    assert modules or "benchmarks/recipes/" in code
    assert all(module_exists(f"benchmarks.{name}") for name in modules), modules
    for name in re.findall(r"benchmarks/recipes/\w+\.sh", text):
        assert (REPO / name).is_file(), f"{script.name} names a missing recipe {name}"
    assert not re.search(r"python\S*\"?\s+benchmarks/", text), f"{script.name} runs a tool as a file"


@pytest.mark.parametrize("doc", DOCS, ids=relative(DOCS))
def test_docs_quote_benchmark_paths_that_exist_and_tools_as_modules(doc):
    """Every ``benchmarks/...`` path quoted (a glob matches something), every ``-m benchmarks.<tool>`` a module,
    and no tool run as a file (``python benchmarks/x.py``, which stops): README.md included."""
    text = doc.read_text(encoding="utf-8")
    stale = [match for match in re.finditer(r"(?<![\w/.])benchmarks/[\w.*/-]*[\w*]", text)
             if not (list(REPO.glob(match.group(0))) if "*" in match.group(0) else (REPO / match.group(0)).exists())]
    stale += [match for match in re.finditer(r"-m\s+benchmarks\.([\w.]*\w)", text)
              if not module_exists(f"benchmarks.{match.group(1)}")]
    stale += list(re.finditer(r"python3?\s+benchmarks/[\w./-]*\w", text))
    lines = sorted({(text.count("\n", 0, match.start()) + 1, match.group(0)) for match in stale})
    assert not lines, "stale benchmark paths or commands (tools: python -m benchmarks.<tool>; recipes: " \
                      "benchmarks/recipes/):\n" + "\n".join(f"{doc.relative_to(REPO)}:{n}: {s!r}" for n, s in lines)
