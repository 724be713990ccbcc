"""Every RecBole model through the plugin's runner, one epoch each, on one or more Python stacks: ran / refused / failed.

The models are every class of RecBole's four model packages (general, sequential, context-aware,
knowledge-aware), read from the RecBole installed in each stack's interpreter, not from a list kept here. Each
model runs as a user runs it, ``<python> run_recbole_fame.py --model=<M> --dataset=ml-100k --epochs=1`` (train,
validate, test the best model), in its own process, one at a time, with a time limit; the plugin is this
checkout's (``PYTHONPATH``), whatever copy the stack has installed. A cell is

* ran: the runner finished (exit status 0), with its wall seconds;
* refused: the runner stopped with its one ``error: ...`` line (exit status 2): the message is the cell;
* failed: anything else (a traceback: its last line; or the time limit).

The data: RecBole's own ml-100k as its wheel ships it (with its ``.kg`` and ``.link`` files), its ``--interactions``
earliest ratings (RecBole's ``val_interval`` on the timestamp; every rating: ``--interactions 0``); models in
:data:`SAMPLED` get fewer, and the matrix says so and why.

    python -m benchmarks.model_zoo --out results/model_zoo.md                       # this interpreter
    python -m benchmarks.model_zoo --python .venv/bin/python --python /work/venvs/py313/bin/python \\
        --out results/model_zoo.md --resume                                         # two stacks, skip cells done
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.model_zoo")

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from benchmarks.report import write_report

REPO = Path(__file__).resolve().parents[1]
TYPES = ("general", "sequential", "context_aware", "knowledge_aware")
#: models whose epoch on the zoo's data does not fit the time limit here: the interactions they get, and why
SAMPLED = {model: (3000, "did not finish one epoch of the whole ml-100k in 300 s (issue 27)")
           for model in ("ConvNCF", "NAIS", "Caser", "DIEN", "DIN")}
#: settings a model needs on ml-100k beyond the runner's defaults, and why (none is a fix of the plugin's)
MODEL_SETTINGS = {
    "S3Rec": ((("pretrain_epochs", 1), ("save_step", 1)), "its default train_stage 'pretrain' runs pretrain_epochs (500 "
              "in RecBole's S3Rec.yaml), not epochs, and saves every save_step (50): one epoch of pre-training, saved, "
              "as every other model trains one"),
}

# Printed by each stack's interpreter: its versions and RecBole's models, by type (classes defined in the package).
PROBE = r"""
import importlib, inspect, json, sys
import numpy, pandas, scipy, torch, recbole
from recbole.model.abstract_recommender import AbstractRecommender
models = {}
for kind in %r:
    package = importlib.import_module(f"recbole.model.{kind}_recommender")
    models[kind] = sorted(name for name, value in vars(package).items() if inspect.isclass(value)
                          and issubclass(value, AbstractRecommender) and value.__module__.startswith(package.__name__ + "."))
print(json.dumps({"python": sys.version.split()[0], "numpy": numpy.__version__, "pandas": pandas.__version__,
                  "scipy": scipy.__version__, "torch": torch.__version__, "recbole": recbole.__version__,
                  "dataset_example": str(__import__("pathlib").Path(recbole.__file__).parent / "dataset_example"),
                  "models": models}))
""" % (TYPES,)


def probe(python):
    proc = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, env=child_env(), cwd=tempfile.gettempdir())
    if proc.returncode != 0:
        raise SystemExit(f"error: {python} cannot import RecBole and its stack: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def stack_label(info):
    return f"py{'.'.join(info['python'].split('.')[:2])}"


def child_env():
    """This checkout's plugin first on the path, one thread (the machine is shared; cells stay comparable)."""
    return dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
                PYTHONWARNINGS="ignore")


def first_interactions_setting(dataset_folder, interactions):
    """RecBole's ``val_interval`` that keeps ml-100k's ``interactions`` earliest interactions (all of them: None).

    RecBole reads ml-100k from its own wheel whatever ``data_path`` says, so the smaller data is a filter of it: the
    first weeks of the ratings (about 20,000 of them: 215 users, 1,330 items), with RecBole's and the plugin's
    ml-100k settings as they are."""
    if not interactions:
        return None
    with open(Path(dataset_folder) / "ml-100k.inter") as f:
        header = f.readline().rstrip("\n").split("\t")
        column = [name.split(":")[0] for name in header].index("timestamp")
        times = sorted(float(line.split("\t")[column]) for line in f if line.strip())
    return str({"timestamp": f"[0,{int(times[min(interactions, len(times)) - 1])}]"})


def cpu_seconds(pid):
    """User and system CPU seconds a running process has used (Linux's /proc), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_cell(python, model, workdir, limit, settings=(), wall_limit=None):
    """One model through the runner: (status, wall seconds, CPU seconds, message).

    ``limit`` counts the run's own CPU seconds (user and system), so that a model is not failed for the time a
    busy shared machine kept it waiting; ``wall_limit`` (default 10 x ``limit``) stops a run that waits on
    anything else."""
    command = [python, str(REPO / "run_recbole_fame.py"), f"--model={model}", "--dataset=ml-100k", "--epochs=1",
               f"--checkpoint_dir={workdir / 'saved'}", "--use_gpu=False",
               "--show_progress=False", *(f"--{key}={value}" for key, value in settings)]
    wall_limit = wall_limit or 10 * limit
    log = workdir / f"{model}.log"
    start = time.time()
    with open(log, "w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=workdir, env=child_env(),
                                start_new_session=True)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                proc.returncode = returncode = os.waitstatus_to_exitcode(status)
                cpu = usage.ru_utime + usage.ru_stime
                break
            cpu, wall = cpu_seconds(proc.pid), time.time() - start
            if cpu > limit or wall > wall_limit:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                why = (f"did not finish one epoch in {limit} s of CPU" if cpu > limit
                       else f"did not finish in {wall_limit} s (wall)")
                return "failed", round(wall, 1), round(cpu, 1), why
            time.sleep(0.5)
    seconds = round(time.time() - start, 1)
    cpu = round(cpu, 1)
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    if returncode == 0:
        return "ran", seconds, cpu, ""
    errors = [line for line in lines if line.startswith("error: ")]
    if returncode == 2 and errors:
        return "refused", seconds, cpu, errors[-1][len("error: "):]
    last = lines[-1] if lines else f"exit status {returncode}, no output"
    return "failed", seconds, cpu, last[:500]


def cell_text(cell):
    if cell is None:
        return "not reached"
    if cell.get("cpu_seconds") is None:  # cells of a run that counted wall time only
        text = f"{cell['status']} {cell['seconds']:.0f} s wall"
    else:
        text = f"{cell['status']} {cell['cpu_seconds']:.0f} s CPU ({cell['seconds']:.0f} s wall)"
    if cell.get("message"):
        text += ": " + cell["message"].replace("|", "\\|")
    return text


def counts(cells):
    return {status: sum(cell["status"] == status for cell in cells) for status in ("ran", "refused", "failed")}


def report_lines(data):
    stacks = data["stacks"]
    labels = list(stacks)
    lines = ["# RecBole's models through the plugin's runner, one epoch each", "",
             "Made by " + ", then ".join(f"`{command}`" for command in data["commands"])
             + " (niced, `OMP_NUM_THREADS=1`, `--jobs` models at a time, a limit of "
             f"{data['limit']} s of the run's own CPU time a model, on {data['cores']} CPU cores shared with other work: "
             "a niced run there waits most of its wall time, so CPU seconds are what compare; cells with wall seconds "
             "only come from a run that counted wall time). Every class of RecBole "
             "1.2.1's model packages, run as `python run_recbole_fame.py --model=<M> --dataset=ml-100k --epochs=1` "
             f"(train one epoch, validate, test) on RecBole's own ml-100k (with its .kg and .link files), "
             + (f"its {data['interactions']} earliest ratings (`--val_interval` on the timestamp). " if data["interactions"]
                else "all its ratings. ")
             + "ran: the runner finished; refused: its one `error:` message, before training; failed: anything else. "
             "Seconds are the whole run's (start-up, data, one epoch, validation, test): its CPU time and, in "
             "brackets, its wall time.", "",
             "| stack | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for key in ("python", "numpy", "pandas", "scipy", "torch", "recbole"):
        lines.append(f"| {key} | " + " | ".join(stacks[label]["info"][key] for label in labels) + " |")
    lines += ["", "| type | " + " | ".join(f"{label} ran / refused / failed" for label in labels) + " |",
              "|---|" + "---|" * len(labels)]
    for kind in TYPES:
        row = []
        for label in labels:
            models = stacks[label]["info"]["models"][kind]
            c = counts([stacks[label]["cells"][m] for m in models if m in stacks[label]["cells"]])
            missing = len(models) - sum(c.values())
            row.append(f"{c['ran']} / {c['refused']} / {c['failed']} of {len(models)}"
                       + (f" ({missing} not reached)" if missing else ""))
        lines.append(f"| {kind.replace('_', '-')} | " + " | ".join(row) + " |")
    for kind in TYPES:
        models = sorted({m for label in labels for m in stacks[label]["info"]["models"][kind]})
        lines += ["", f"## {kind.replace('_', '-')} ({len(models)} models)", "",
                  "| model | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
        for model in models:
            name = model + (f" ({SAMPLED[model][0]} ratings)" if model in SAMPLED else "")
            lines.append(f"| {name} | " + " | ".join(cell_text(stacks[label]["cells"].get(model)) for label in labels) + " |")
    notes = [f"- {model}: the {count} earliest ratings: {why}" for model, (count, why) in sorted(SAMPLED.items())]
    notes += [f"- {model}: `{' '.join(f'--{k}={v}' for k, v in settings)}`: {why}"
              for model, (settings, why) in sorted(MODEL_SETTINGS.items())]
    if notes:
        lines += ["", "## Data and settings beyond the runner's defaults", "", *notes]
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", default=None,
                        help="a stack's interpreter (repeat for several; default: this one)")
    parser.add_argument("--models", default=None, help="comma-separated model names (default: every model)")
    parser.add_argument("--types", default=",".join(TYPES), help=f"comma-separated model types of {TYPES}")
    parser.add_argument("--limit", type=int, default=300, help="CPU seconds a model may use (its own, user and system)")
    parser.add_argument("--wall_limit", type=int, default=None, help="seconds a model may run (default 10 x --limit)")
    parser.add_argument("--interactions", type=int, default=10000,
                        help="ml-100k's earliest ratings the runs keep (0: all 100,000)")
    parser.add_argument("--out", default=None, help="the markdown matrix; its JSON beside it")
    parser.add_argument("--jobs", type=int, default=1, help="models run at once (each on one thread)")
    parser.add_argument("--resume", action="store_true", help="keep the cells the JSON beside --out already holds")
    parser.add_argument("--merge", nargs="+", default=[], metavar="JSON",
                        help="the cells (and commands) of other runs' JSONs join these (later ones win)")
    parser.add_argument("--render", action="store_true",
                        help="only write the matrix of the JSON beside --out (and --merge's), running nothing")
    args = parser.parse_args(argv)
    command = " ".join([parser.prog] + (argv if argv is not None else sys.argv[1:]))
    # a path relative to here (.venv/bin/python) still names the venv's interpreter from the runs' own folders
    pythons = [os.path.abspath(python) if os.sep in python else python for python in args.python or [sys.executable]]
    kinds = [kind.strip() for kind in args.types.split(",")]
    unknown = sorted(set(kinds) - set(TYPES))
    if unknown:
        parser.error(f"unknown types {unknown}: use {TYPES}")
    json_out = Path(os.path.splitext(args.out)[0] + ".json") if args.out else None
    data = {"stacks": {}, "commands": []}
    if (args.resume or args.render) and json_out and json_out.is_file():
        data = json.loads(json_out.read_text())
    data.setdefault("commands", [data.pop("command")] if "command" in data else [])
    for path in args.merge:
        other = json.loads(Path(path).read_text())
        for label, stack in other["stacks"].items():
            data["stacks"].setdefault(label, {"info": stack["info"], "cells": {}})["cells"].update(stack["cells"])
        data["commands"] += [c for c in other.get("commands", [other.get("command")]) if c not in data["commands"]]
    data["commands"].append(command)
    if args.render:
        write_report(report_lines(data), args.out, data)
        return
    data.update(limit=args.limit, interactions=args.interactions, jobs=args.jobs, cores=os.cpu_count())
    wanted = set(args.models.split(",")) if args.models else None
    cells = []  # (stack label, python, type, model, settings)
    for python in pythons:
        info = probe(python)
        label = stack_label(info)
        stack = data["stacks"].setdefault(label, {"cells": {}})
        stack["info"] = info
        for kind in kinds:
            for model in info["models"][kind]:
                if (wanted is not None and model not in wanted) or (
                        args.resume and wanted is None and model in stack["cells"]):
                    continue
                interval = first_interactions_setting(Path(info["dataset_example"]) / "ml-100k",
                                                      SAMPLED[model][0] if model in SAMPLED else args.interactions)
                settings = [*MODEL_SETTINGS.get(model, ((), ""))[0]] + ([("val_interval", interval)] if interval else [])
                cells.append((label, python, kind, model, settings))
    cells.sort(key=lambda cell: (kinds.index(cell[2]), cell[3]))  # in the order of --types, each model on every stack in turn
    with tempfile.TemporaryDirectory(prefix="model_zoo-") as tmp, ThreadPoolExecutor(args.jobs) as pool:
        def run_one(label, python, kind, model, settings):
            workdir = Path(tmp) / label / model
            workdir.mkdir(parents=True)
            return run_cell(python, model, workdir, args.limit, settings, args.wall_limit)

        futures = {pool.submit(run_one, *cell): cell for cell in cells}
        for future in as_completed(futures):
            label, _, kind, model, _ = futures[future]
            status, seconds, cpu, message = future.result()
            data["stacks"][label]["cells"][model] = {"type": kind, "status": status, "seconds": seconds,
                                                     "cpu_seconds": cpu, "message": message}
            print(f"{label} {kind} {model}: {cell_text(data['stacks'][label]['cells'][model])}", flush=True)
            if args.out:  # every cell kept as it comes: a long run can be resumed
                write_report(report_lines(data), args.out, data, quiet=True)
    write_report(report_lines(data), args.out, data)


if __name__ == "__main__":
    main()
