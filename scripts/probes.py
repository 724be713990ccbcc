"""Reliability and safety probes that are too slow for the test suite (issues 16 and 25): kills at each checkpoint
write, a full disk at each write (also inside torch's own writer), two runs of every plugin model started in the
same second, crafted files of each kind the plugin reads, and bad input of every kind issue 25 listed (trust
settings from a yaml, output folders that cannot be written, sizes that cannot fit, resumes of other sizes or twice
at once, misspelt and non-boolean settings, Ctrl-C, ...). Prints a markdown table (probe, expected, held/failed)
and writes it to results/probes.md.

    python scripts/probes.py [--out results/probes.md] [--only kill,full,concurrent,crafted,input]

Everything runs on the tiny fixture (tests/test_data/tiny, 80 users, 50 items) in temporary folders, one
process per run (a kill needs its own process); about 5-10 minutes on 2 CPU cores. A probe "held" when the
plugin behaved as expected; the detail column says what was seen.

Kills and full disks are injected into the run's own process by wrapping ``torch.save``: at the N-th call the
wrapper writes the first half of the file, then either ends the process at once (``os._exit``, as a SIGKILL
would: no cleanup, no ``finally``) or raises ``OSError(ENOSPC)``. Real SIGKILLs at random moments are added.
"""

import argparse
import contextlib
import io
import json
import os
import pickle
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "test_data"
PYTHON = sys.executable

BASE = {"data_path": str(TINY), "state": "ERROR", "show_progress": False, "epochs": 2, "hidden_size": 16,
        "inner_size": 32, "n_heads": 2, "num_experts": 2, "train_batch_size": 64, "MAX_ITEM_LIST_LENGTH": 20,
        "use_gpu": False, "seed": 1}

# The child process: wraps torch.save as PROBE_SAVE says ("kill:N" or "full:N"), fixes RecBole's checkpoint time
# stamp when PROBE_TIME is set, then runs run_recbole_fame (the API, so that it can write the result as JSON).
DRIVER = r"""
import errno, io, json, os, sys
sys.path.insert(0, os.environ["PROBE_REPO"])
import torch
torch.set_num_threads(1)
mode = os.environ.get("PROBE_SAVE", "")
kind, _, nth = mode.partition(":")
real_save, calls = torch.save, [0]
log = os.environ.get("PROBE_SAVES")

class FillingDisk:  # a file whose disk fills up after `room` bytes, in the middle of torch's own writes

    def __init__(self, f, room):
        self.f, self.room = f, room

    def write(self, data):
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)


def save(obj, f, *args, **kwargs):
    calls[0] += 1
    if log:
        with open(log, "a") as out:
            out.write(str(getattr(f, "name", f)) + "\n")
    if kind == "torchfull" and calls[0] == int(nth) and hasattr(f, "write"):
        buffer = io.BytesIO()
        real_save(obj, buffer, *args, **kwargs)
        return real_save(obj, FillingDisk(f, len(buffer.getvalue()) // 2), *args, **kwargs)
    if kind in ("kill", "full") and calls[0] == int(nth):
        buffer = io.BytesIO()
        real_save(obj, buffer, *args, **kwargs)
        data = buffer.getvalue()[: len(buffer.getvalue()) // 2]
        if hasattr(f, "write"):
            f.write(data); f.flush()
        else:
            with open(f, "wb") as out:
                out.write(data)
        if kind == "kill":
            os._exit(137)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(f))
    return real_save(obj, f, *args, **kwargs)

torch.save = save
import recbole_fame
if os.environ.get("PROBE_TIME"):
    from recbole.trainer import trainer
    trainer.get_local_time = lambda: os.environ["PROBE_TIME"]
from recbole_fame import run_recbole_fame
from recbole_fame.errors import RecBoleFameError
spec = json.loads(os.environ["PROBE_SPEC"])
sys.argv = [sys.argv[0]]
try:
    result = run_recbole_fame(model=spec["model"], dataset="tiny", config_dict=spec["config"])
except RecBoleFameError as error:
    print(f"error: {error}", file=sys.stderr)
    sys.exit(2)
with open(spec["result"], "w") as out:
    json.dump({k: (v if isinstance(v, (str, int, float, type(None))) else str(v)) for k, v in result.items()}, out)
"""

ROWS = []


def record(category, probe, expected, held, detail=""):
    ROWS.append((category, probe, expected, "held" if held else "FAILED", str(detail).replace("|", "/")[:300]))
    print(f"[{'held' if held else 'FAILED'}] {category}: {probe} -- {detail}", flush=True)


def child(folder, model="FAME", save=None, when=None, extra=None, wait=True):
    """Start one run in its own process in ``folder``; returns the Popen (or (rc, stderr, result) when ``wait``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = dict(BASE, checkpoint_dir=str(folder / "saved"))
    config.update(extra or {})
    spec = {"model": model, "config": config, "result": str(folder / "result.json")}
    env = dict(os.environ, PROBE_REPO=str(REPO), PROBE_SPEC=json.dumps(spec), PYTHONPATH=str(REPO),
               OMP_NUM_THREADS="1", PROBE_SAVE=save or "", PROBE_TIME=when or "", PROBE_SAVES=str(folder / "saves.log"))
    proc = subprocess.Popen([PYTHON, "-c", DRIVER], cwd=folder, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    if not wait:
        return proc
    _, err = proc.communicate(timeout=600)
    result = json.loads((folder / "result.json").read_text()) if (folder / "result.json").is_file() else None
    return proc.returncode, err, result


def checkpoint_files(folder):
    saved = Path(folder) / "saved"
    return sorted(saved.glob("*")) if saved.is_dir() else []


def name_claims(folder):
    """The checkpoint names a killed run claimed and never wrote (``recbole_fame.storage.files``' claim files)."""
    from recbole_fame.storage.files import claim_writer

    return [p.name for p in checkpoint_files(folder) if p.suffix == ".pth" and claim_writer(str(p)) is not None]


def unreadable_checkpoints(folder):
    """The files in saved/ that are not complete checkpoints (temporary files and name claims listed apart)."""
    import torch

    bad, tmp = [], []
    claims = name_claims(folder)
    for path in checkpoint_files(folder):
        if path.name.endswith(".tmp") or path.name.startswith("."):
            tmp.append(path.name)
            continue
        if path.suffix != ".pth" or path.name in claims:
            continue
        try:
            checkpoint = torch.load(path, weights_only=False, map_location="cpu")
            assert isinstance(checkpoint, dict) and "state_dict" in checkpoint
        except Exception as error:  # noqa: BLE001  (any failure to read is what the probe looks for)
            bad.append(f"{path.name} ({type(error).__name__})")
    return bad, tmp


def one_message(rc, err):
    """Exit status 2 with one ``error:`` line and no traceback (logged warnings may come before it)."""
    return rc == 2 and "Traceback" not in err and sum(line.startswith("error:") for line in err.splitlines()) == 1


def last_error_line(err):
    """The ``error:`` line, or for a traceback its last line (the exception), else the last line."""
    lines = [line for line in err.strip().splitlines() if line.strip()]
    if "Traceback" in err:
        return ("traceback: " + lines[-1])[:200]
    errors = [line for line in lines if line.startswith("error:")]
    return (errors or lines or [""])[-1][:200]


# ------------------------------------------------------------------------------------------------------ kills


def probe_kills(root):
    rc, err, result = child(root / "count")
    writes = (root / "count" / "saves.log").read_text().splitlines() if (root / "count" / "saves.log").is_file() else []
    record("kill", "uninterrupted reference run", "exit 0", rc == 0, f"{len(writes)} checkpoint writes: "
           + ", ".join(Path(w).name for w in writes))
    for n in range(1, len(writes) + 1):
        folder = root / f"kill{n}"
        rc, err, _ = child(folder, save=f"kill:{n}")
        bad, tmp = unreadable_checkpoints(folder)
        claims = name_claims(folder)
        target = Path(writes[n - 1]).name
        record("kill", f"killed during write {n} ({target})",
               "only complete checkpoints left (and the killed write's temporary file and name claim)",
               rc == 137 and not bad, f"rc {rc}; unreadable: {bad or 'none'}; temporary: {tmp or 'none'}; "
               f"name claims: {claims or 'none'}")
        # what a user does next: explain what is there, resume from it
        for broken in [p for p in checkpoint_files(folder)
                       if p.suffix == ".pth" and (any(p.name in b for b in bad) or p.name in claims)]:
            rc3, err3 = explain_cli(folder, broken)
            record("kill", f"explain the file left by kill {n}", "one message naming the file",
                   one_message(rc3, err3) and broken.name in err3, last_error_line(err3))
        lasts = [p for p in checkpoint_files(folder) if p.name.endswith("-last.pth")]
        if lasts:
            rc2, err2, res2 = child(folder, extra={"resume_from": str(lasts[0]), "epochs": 3})
            record("kill", f"resume after kill {n}", "exit 0, or one message",
                   rc2 == 0 or one_message(rc2, err2), f"rc {rc2} {last_error_line(err2) if rc2 else ''}")
        # the next run in the same folder: a killed writer's temporary files and name claims are removed
        if tmp or claims:
            rc5, err5, _ = child(folder)
            _, tmp_after = unreadable_checkpoints(folder)
            left = [t for t in tmp if t in tmp_after] + [c for c in claims if c in name_claims(folder)]
            record("kill", f"next run after kill {n} cleans the killed writer's files",
                   "no stale *.tmp or name claim", rc5 == 0 and not left, f"rc {rc5}; still there: {left or 'none'}")
    rng = random.Random(16)
    for i in range(1, 4):  # a real SIGKILL just after the i-th write began (the driver logs each write first)
        folder = root / f"sigkill{i}"
        proc = child(folder, wait=False, extra={"epochs": 4})
        log = folder / "saves.log"
        while proc.poll() is None and (not log.is_file() or len(log.read_text().splitlines()) < i):
            time.sleep(0.005)
        delay = rng.uniform(0, 0.05)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        bad, tmp = unreadable_checkpoints(folder)
        record("kill", f"SIGKILL {delay * 1000:.0f} ms after write {i} began",
               "only complete checkpoints left (and the killed write's temporary file and name claim)",
               not bad, f"rc {proc.returncode}; files: {[p.name for p in checkpoint_files(folder)]}; "
               f"unreadable: {bad or 'none'}")


def explain_cli(folder, checkpoint):
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    proc = subprocess.run([PYTHON, "-m", "recbole_fame.explain", "--checkpoint", str(checkpoint), "--user", "u1",
                           "--trust_checkpoint"], cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stderr


# ------------------------------------------------------------------------------------------------- full disk


def probe_full_disk(root):
    log = root / "count" / "saves.log"
    writes = log.read_text().splitlines() if log.is_file() else []
    if not writes:
        child(root / "count")
        writes = log.read_text().splitlines()
    for n in range(1, len(writes) + 1):
        folder = root / f"full{n}"
        rc, err, _ = child(folder, save=f"full:{n}")
        bad, tmp = unreadable_checkpoints(folder)
        target = Path(writes[n - 1]).name
        record("disk full", f"disk full at write {n} ({target})", "one message, no traceback",
               one_message(rc, err), f"rc {rc}: {last_error_line(err)}")
        record("disk full", f"files after disk full at write {n}", "earlier checkpoints intact, no partial file",
               not bad and not tmp, f"unreadable: {bad or 'none'}; temporary: {tmp or 'none'}")
    for n in range(1, len(writes) + 1):  # the disk fills up inside torch's zip writer (a RuntimeError there)
        folder = root / f"torchfull{n}"
        rc, err, _ = child(folder, save=f"torchfull:{n}")
        bad, tmp = unreadable_checkpoints(folder)
        record("disk full", f"disk fills up inside torch's writer at write {n} ({Path(writes[n - 1]).name})",
               "one message saying the disk is full; no partial file",
               one_message(rc, err) and "is full (No space left on device)" in err and not bad and not tmp,
               f"rc {rc}: {last_error_line(err)}")


# ------------------------------------------------------------------------------------------------ concurrency


def probe_concurrent(root):
    models = {"FAME": {}, "SASRecSeq": {}, "SASRec": {},
              "FAMETextPretrain": {"load_col": {"inter": ["user_id", "item_id", "timestamp"],
                                                "item": ["item_id", "title", "genre", "brand"]},
                                   "text_fields": ["title", "genre", "brand"], "facet_fields": ["genre", "brand"],
                                   "pretrain_batch_size": 16, "report_k": 5}}
    for model, extra in models.items():
        shared = root / f"two-{model}" / "saved"
        procs = []
        for seed in (1, 2):
            folder = root / f"two-{model}" / f"seed{seed}"
            procs.append((seed, folder, child(folder, model=model, when="Dec-01-2026_10-00-00", wait=False,
                                              extra=dict(extra, seed=seed, checkpoint_dir=str(shared)))))
        results = {}
        for seed, folder, proc in procs:
            _, err = proc.communicate(timeout=600)
            path = folder / "result.json"
            results[seed] = (proc.returncode, err, json.loads(path.read_text()) if path.is_file() else None)
        ok = all(rc == 0 and res for rc, _, res in results.values())
        if not ok:
            record("concurrent", f"two {model} runs in the same second", "both finish",
                   False, "; ".join(f"seed {s}: rc {rc} {last_error_line(e)}" for s, (rc, e, _) in results.items()))
            continue
        files = {seed: res["saved_model_file"] for seed, (_, _, res) in results.items()}
        own = []
        for seed, path in files.items():
            own.append(saved_seed(path) == seed)
        record("concurrent", f"two {model} runs in the same second", "each keeps its own checkpoint",
               files[1] != files[2] and all(own),
               f"files {Path(files[1]).name}, {Path(files[2]).name}; each file holds its run's seed: {own}")


def saved_seed(path):
    import torch

    if str(path).endswith(".safetensors"):
        from recbole_fame.text.checkpoint import read_text_metadata

        settings = read_text_metadata(path).get("settings") or {}
        return settings.get("seed")
    return torch.load(path, weights_only=False, map_location="cpu")["config"]["seed"]


# ------------------------------------------------------------------------------------------------ crafted files


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@contextlib.contextmanager
def in_folder(folder):
    folder.mkdir(parents=True, exist_ok=True)
    cwd, argv = os.getcwd(), sys.argv
    os.chdir(folder)
    try:
        yield folder
    finally:
        os.chdir(cwd)
        sys.argv = argv


def call(main, argv, runner=True):
    """Run a CLI entry point in this process; (rc, stderr) with any escaping exception as a traceback."""
    err = io.StringIO()
    if runner:
        sys.argv = ["run_recbole_fame.py", *argv]
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main(argv)
    except SystemExit as stop:
        rc = stop.code
    except BaseException as error:  # noqa: BLE001
        return 1, err.getvalue() + f"\nTraceback (escaped): {type(error).__name__}: {error}"
    return rc, err.getvalue()


def cli_args(**overrides):
    values = dict(BASE, epochs=1, **overrides)
    return [f"--{k}={v}" for k, v in values.items()]


def probe_crafted(root):
    import torch
    from safetensors.torch import save_file

    import run_recbole_fame
    from recbole_fame.explain import main as explain_main
    from recbole_fame.text.report import main as report_main

    run = run_recbole_fame.main
    # a real FAME checkpoint to truncate, and a real text-style one
    with in_folder(root / "real"):
        rc, err = call(run, ["--model=FAME", "--dataset=tiny", *cli_args(checkpoint_dir=root / "real" / "saved")])
    real = sorted(p for p in (root / "real" / "saved").glob("FAME-*.pth") if not p.name.endswith("-last.pth"))[0]

    # --- pickles that would run code, outside checkpoint_dir
    marker = root / "pwned"
    evil = root / "shared" / "evil.pth"
    evil.parent.mkdir()
    evil.write_bytes(pickle.dumps(Exploit(marker)))
    pickle_uses = [
        ("explain --checkpoint", explain_main, ["--checkpoint", str(evil), "--user", "u1"], False),
        ("--resume_from", run, ["--model=FAME", "--dataset=tiny", *cli_args(), f"--resume_from={evil}"], True),
        ("--pretrained_path", run, ["--model=FAME", "--dataset=tiny", *cli_args(), f"--pretrained_path={evil}"], True),
        ("--dataset_save_path", run, ["--model=FAME", "--dataset=tiny", *cli_args(), f"--dataset_save_path={evil}"], True),
        ("--dataloaders_save_path", run, ["--model=FAME", "--dataset=tiny", *cli_args(), "--save_dataloaders=True",
                                          f"--dataloaders_save_path={evil}"], True),
        ("--trust_checkpoint=no with --resume_from", run, ["--model=FAME", "--dataset=tiny", *cli_args(),
                                                           f"--resume_from={evil}", "--trust_checkpoint=no"], True),
        ("--seed=<python expression>", run, ["--model=FAME", "--dataset=tiny", *cli_args(),
                                             f"--seed=__import__('os').system('touch {marker}')"], True),
    ]
    for name, main, argv, runner in pickle_uses:
        if "--seed=" in name:
            argv = [a for a in argv if not a.startswith("--seed=1")]
        with in_folder(root / f"crafted-{len(ROWS)}"):
            rc, err = call(main, argv, runner)
        held = not marker.exists() and one_message(rc, err)
        record("crafted file", f"code-running pickle via {name}", "not executed; one message", held,
               f"executed: {marker.exists()}; rc {rc}: {last_error_line(err)}")
        marker.unlink(missing_ok=True)
    from recbole_fame.quick_start import load_data_and_model

    try:
        load_data_and_model(str(evil))
        outcome = "loaded"
    except Exception as error:  # noqa: BLE001
        outcome = f"{type(error).__name__}: {str(error)[:120]}"
    record("crafted file", "code-running pickle via load_data_and_model", "not executed; CheckpointError",
           not marker.exists() and outcome.startswith("CheckpointError"), outcome)

    # --- yaml
    yamls = {
        "!!python/object/apply tag": f"seed: !!python/object/apply:os.system ['touch {marker}']\n",
        "!!python/name tag": "seed: !!python/name:os.system\n",
        "syntax error": "epochs: [1, 2\n",
        "a list, not a mapping": "- epochs\n",
        "non-UTF-8 bytes": b"epochs: 1 # \xff\n",
    }
    for name, text in yamls.items():
        path = root / "yaml" / f"{len(ROWS)}.yaml"
        path.parent.mkdir(exist_ok=True)
        (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
        with in_folder(root / f"crafted-{len(ROWS)}"):
            rc, err = call(run, ["--model=FAME", "--dataset=tiny", *cli_args(), f"--config_files={path}"])
        record("crafted file", f"yaml config: {name}", "one message naming the file; nothing executed",
               one_message(rc, err) and str(path) in err and not marker.exists(), last_error_line(err))

    # --- truncated / wrong checkpoints
    half = root / "saved" / "FAME-half.pth"
    half.parent.mkdir(exist_ok=True)
    half.write_bytes(real.read_bytes()[: real.stat().st_size // 2])
    listed = root / "saved" / "FAME-list-last.pth"
    torch.save([1, 2, 3], listed)
    for name, path in (("truncated .pth", half), ("a pickled list, not a checkpoint", listed)):
        for use, main, argv, runner in (
            ("--resume_from", run, ["--model=FAME", "--dataset=tiny", *cli_args(checkpoint_dir=root / "saved"),
                                    f"--resume_from={path}"], True),
            ("--pretrained_path", run, ["--model=FAME", "--dataset=tiny", *cli_args(checkpoint_dir=root / "saved"),
                                        f"--pretrained_path={path}"], True),
            ("explain", explain_main, ["--checkpoint", str(path), "--user", "u1", "--trust_checkpoint"], False),
        ):
            with in_folder(root / f"crafted-{len(ROWS)}"):
                rc, err = call(main, argv, runner)
            record("crafted file", f"{name} given to {use}", "one message naming the file",
                   one_message(rc, err) and str(path) in err, last_error_line(err))

    # --- atomic files
    rows = (TINY / "tiny" / "tiny.inter").read_text().splitlines()
    items = (TINY / "tiny" / "tiny.item").read_bytes().split(b"\n")
    datasets = {
        "empty .inter": ("", None),
        ".inter with a header and no rows": (rows[0] + "\n", None),
        ".inter without the time column": ("\n".join(r.rsplit("\t", 1)[0] for r in rows) + "\n", None),
        "non-number in a float column": ("\n".join(rows[:5] + [rows[5].rsplit("\t", 1)[0] + "\tlater"] + rows[6:]) + "\n", None),
        "non-UTF-8 bytes in the .item": ("\n".join(rows) + "\n", b"\n".join(items[:3] + [items[3] + b"\xff\xfe"] + items[4:])),
        "ragged .inter row (a missing time)": ("\n".join(rows[:5] + ["u1\ti1"] + rows[6:]) + "\n", None),
        ".inter row with a NaN time": ("\n".join(rows[:5] + ["u1\ti1\tnan"] + rows[6:]) + "\n", None),
        ".inter row with an empty time": ("\n".join(rows[:5] + ["u1\ti1\t"] + rows[6:]) + "\n", None),
        ".inter row with more fields than the header": ("\n".join(rows[:5] + [rows[5] + "\t5"] + rows[6:]) + "\n", None),
        ".inter whose first row has more fields": ("\n".join(rows[:1] + [rows[1] + "\t5"] + rows[2:]) + "\n", None),
        "binary garbage .inter": (None, None),
        "fewer items than the largest topk": ("\n".join(rows) + "\n", None),
    }
    malformed_rows = {name for name in datasets if name.startswith((".inter row", ".inter whose", "ragged"))}
    for name, (inter, item) in datasets.items():
        data = root / "data" / f"d{len(ROWS)}"
        dataset = data.name
        (data / dataset).mkdir(parents=True)
        if inter is None:
            (data / dataset / f"{dataset}.inter").write_bytes(os.urandom(2000))
        else:
            (data / dataset / f"{dataset}.inter").write_text(inter)
        extra = []
        if item is not None:
            (data / dataset / f"{dataset}.item").write_bytes(item)
            extra = ["--load_col={'inter':['user_id','item_id','timestamp'],'item':['item_id','title']}"]
        if "topk" in name:
            extra = ["--topk=[10,100]"]
        with in_folder(root / f"crafted-{len(ROWS)}"):
            rc, err = call(run, [f"--model=FAME", f"--dataset={dataset}", *cli_args(data_path=data), *extra])
        if name in malformed_rows:  # RecBole would fill a missing time with the mean, or shift or drop a field
            record("crafted file", f"dataset: {name}", "one message naming the line",
                   one_message(rc, err) and ", line " in err, f"rc {rc}: {last_error_line(err)}")
            continue
        record("crafted file", f"dataset: {name}", "one message", one_message(rc, err), f"rc {rc}: {last_error_line(err)}")

    # --- text pre-training checkpoints
    good = {"format": "recbole_fame.text_pretrain", "version": 1, "dataset": "tiny", "n_items": 51, "hidden_size": 16,
            "n_heads": 2, "encoder": {"name": "x"}, "item_tokens": [], "report": None}
    metadata_cases = {
        "invalid JSON": "{oops",
        "a JSON list": "[1, 2]",
        "no n_items": json.dumps({k: v for k, v in good.items() if k != "n_items"}),
        "no encoder": json.dumps({k: v for k, v in good.items() if k != "encoder"}),
        "version '1' (a string)": json.dumps(dict(good, version="1")),
        "another dataset's": json.dumps(dict(good, dataset="other")),
    }
    for name, text in metadata_cases.items():
        path = root / "text" / f"t{len(ROWS)}.safetensors"
        path.parent.mkdir(exist_ok=True)
        save_file({"item_embedding": torch.zeros(51, 16)}, str(path),
                  metadata={"format": "recbole_fame.text_pretrain", "recbole_fame": text})
        path.with_suffix(".json").write_text(text)
        with in_folder(root / f"crafted-{len(ROWS)}"):
            rc, err = call(run, ["--model=FAME", "--dataset=tiny", *cli_args(), f"--text_pretrained_path={path}"])
        record("crafted file", f"text checkpoint metadata: {name}, as text_pretrained_path", "one message naming the file",
               one_message(rc, err) and str(path) in err, last_error_line(err))
        for target in (path, path.with_suffix(".json")):
            rc, err = call(report_main, [str(target)], runner=False)
            record("crafted file", f"text.report on {name} ({target.suffix})", "one message",
                   one_message(rc, err) if "dataset" not in name else rc in (0, 2) and "Traceback" not in err,
                   last_error_line(err))
    path = root / "text" / "truncated.safetensors"
    save_file({"item_embedding": torch.zeros(51, 16)}, str(path),
              metadata={"format": "recbole_fame.text_pretrain", "recbole_fame": json.dumps(good)})
    path.write_bytes(path.read_bytes()[:1000])
    with in_folder(root / f"crafted-{len(ROWS)}"):
        rc, err = call(run, ["--model=FAME", "--dataset=tiny", *cli_args(), f"--text_pretrained_path={path}"])
    record("crafted file", "truncated .safetensors as text_pretrained_path", "one message naming the file",
           one_message(rc, err) and str(path) in err, last_error_line(err))

    # --- hyper-parameter file that would run code in RecBole's eval
    from recbole_fame.errors import RecBoleFameError
    from recbole_fame.tuning import read_params_file

    params = root / "evil.hyper"
    params.write_text(f"learning_rate choice [__import__('os').system('touch {marker}')]\n")
    try:
        read_params_file(str(params))
        outcome = "accepted"
    except RecBoleFameError as error:
        outcome = f"{type(error).__name__}: {str(error)[:120]}"
    record("crafted file", "params file with a Python expression", "refused before RecBole evals it",
           not marker.exists() and outcome != "accepted", outcome)

    # --- explain output that cannot be written
    out = root / "a-file"
    out.write_text("x")
    with in_folder(root / f"crafted-{len(ROWS)}"):
        rc, err = call(explain_main, ["--checkpoint", str(real), "--user", "u1", "--trust_checkpoint",
                                      "--json", str(out / "u1.json")], runner=False)
    record("crafted file", "explain --json into a path whose folder is a file", "one message", one_message(rc, err),
           last_error_line(err))


# ------------------------------------------------------------------------------------ bad input (issue 25)

TEXT = {"load_col": "{'inter':['user_id','item_id','timestamp'],'item':['item_id','title','genre','brand']}",
        "text_fields": "['title','genre','brand']", "facet_fields": "['genre','brand']", "pretrain_batch_size": 16,
        "report_k": 5}

INTERRUPT = r"""
import sys
from recbole_fame.trainer import RecBoleFameTrainerMixin
import run_recbole_fame
check = RecBoleFameTrainerMixin._check_nan
def interrupt(self, loss):
    check(self, loss)
    if self.train_position == [2, 1]:
        raise KeyboardInterrupt
RecBoleFameTrainerMixin._check_nan = interrupt
sys.exit(run_recbole_fame.main(sys.argv[1:]))
"""


@contextlib.contextmanager
def not_writable(folder):
    """``folder`` read-only: chmod, or for a user that ignores permissions (root) creating files under it fails as
    in a read-only folder (``os.open`` with O_CREAT, what every writer of the plugin uses)."""
    import errno

    from tests.test_output_errors import permissions_ignored

    folder.mkdir(parents=True, exist_ok=True)
    if not permissions_ignored():
        folder.chmod(0o555)
        try:
            yield "chmod 555"
        finally:
            folder.chmod(0o755)
        return
    real_open = os.open

    def denied(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and os.path.abspath(path).startswith(str(folder) + os.sep):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *args, **kwargs)

    os.open = denied
    try:
        yield "simulated (root ignores chmod)"
    finally:
        os.open = real_open


def run_args(model="FAME", **overrides):
    values = dict(BASE, epochs=1, **(TEXT if model == "FAMETextPretrain" else {}))
    values.update(overrides)
    return [f"--model={model}", "--dataset=tiny", *[f"--{k}={v}" for k, v in values.items()]]


def run_cli(folder, argv):
    """run_recbole_fame.py in its own process in ``folder``: (rc, stderr)."""
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    proc = subprocess.run([PYTHON, str(REPO / "run_recbole_fame.py"), *argv], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stderr


def probe_bad_input(root):
    import run_recbole_fame
    import run_hyper

    run = run_recbole_fame.main
    marker = root / "pwned"

    # --- a config file can neither opt in to trust nor move the trust boundary
    shared = root / "shared-ckpt"
    shared.mkdir()
    evil = shared / "evil.pth"
    evil.write_bytes(pickle.dumps(Exploit(marker)))
    (shared / "tiny-for-FAME-dataloader.pth").write_bytes(pickle.dumps(Exploit(marker)))
    outside = root / "elsewhere" / "evil.pth"
    outside.parent.mkdir()
    outside.write_bytes(pickle.dumps(Exploit(marker)))
    yamls = {
        "trust_checkpoint: True and a crafted dataloaders_save_path":
            f"trust_checkpoint: True\nsave_dataloaders: True\ndataloaders_save_path: {outside}\n",
        "checkpoint_dir onto crafted files, dataloaders_save_path there":
            f"checkpoint_dir: {shared}\nsave_dataloaders: True\ndataloaders_save_path: {evil}\n",
        "checkpoint_dir onto a crafted <dataset>-for-<model>-dataloader.pth": f"checkpoint_dir: {shared}\n",
    }
    for name, text in yamls.items():
        path = root / "yaml" / f"trust{len(ROWS)}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        argv = [a for a in run_args() if not a.startswith("--checkpoint_dir")] + [f"--config_files={path}"]
        with in_folder(root / f"input-{len(ROWS)}"):
            rc, err = call(run, argv)
        record("bad input", f"yaml sets {name}", "not executed; one message", not marker.exists() and one_message(rc, err),
               f"executed: {marker.exists()}; rc {rc}: {last_error_line(err)}")
        marker.unlink(missing_ok=True)

    # --- checkpoint_dir that cannot be written, before training
    a_file = root / "a-file"
    a_file.write_text("x")
    for model in ("FAME", "FAMETextPretrain"):
        with in_folder(root / f"input-{len(ROWS)}"):
            rc, err = call(run, run_args(model, checkpoint_dir=a_file))
        record("bad input", f"{model}: checkpoint_dir is an existing file", "one message before training",
               one_message(rc, err) and "is a file" in err, f"rc {rc}: {last_error_line(err)}")
        folder = root / f"ro-{model}"
        with not_writable(folder) as how, in_folder(root / f"input-{len(ROWS)}"):
            rc, err = call(run, run_args(model, checkpoint_dir=folder, epochs=2))
        record("bad input", f"{model}: checkpoint_dir read-only ({how})", "one message before training",
               one_message(rc, err) and "not writable" in err and not list(folder.iterdir()),
               f"rc {rc}: {last_error_line(err)}")

    # --- FAMETextPretrain on a full disk leaves no empty .safetensors
    import errno

    from recbole_fame.text import cache

    real_write = cache.write_bytes

    def full(path, data):
        if ".safetensors." in os.path.basename(str(path)):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_write(path, data)

    cache.write_bytes = full
    folder = root / "text-full" / "saved"
    try:
        with in_folder(root / "text-full"):
            rc, err = call(run, run_args("FAMETextPretrain", checkpoint_dir=folder, epochs=2))
    finally:
        cache.write_bytes = real_write
    left = [p.name for p in folder.glob("*.safetensors")] if folder.is_dir() else []
    record("bad input", "FAMETextPretrain: disk full at its checkpoint", "one message saying so; no 0-byte file",
           one_message(rc, err) and "is full" in err and not left, f"rc {rc}: {last_error_line(err)}; left: {left or 'none'}")

    # --- run_hyper with an output file it cannot write
    params = root / "two.hyper"
    params.write_text("n_heads choice [1,2]\n")
    hyper_args = [f"--{k}={v}" for k, v in dict(BASE, epochs=1).items() if k != "n_heads"]
    for name, output in (("below a file", a_file / "out" / "h.result"), ("read-only", root / "ro-hyper" / "h.result")):
        with contextlib.ExitStack() as stack:
            how = stack.enter_context(not_writable(output.parent)) if name == "read-only" else ""
            stack.enter_context(in_folder(root / f"input-{len(ROWS)}"))
            rc, err = call(run_hyper.main, ["--model=FAME", "--dataset=tiny", f"--params_file={params}",
                                            f"--output_file={output}", *hyper_args], runner=False)
        record("bad input", f"run_hyper --output_file in a folder {name} {how}".strip(), "one message before the first trial",
               one_message(rc, err) and "trial" not in err.split("error:")[0], f"rc {rc}: {last_error_line(err)}")

    # --- sizes that cannot fit
    for name, extra in (("--num_experts=1000000", {"num_experts": 1000000}),
                        ("--MAX_ITEM_LIST_LENGTH=1000000000 (sequence mode)",
                         {"MAX_ITEM_LIST_LENGTH": 1000000000, "train_mode": "sequence"}),
                        ("--MAX_ITEM_LIST_LENGTH=1000000000 (prefix mode)",
                         {"MAX_ITEM_LIST_LENGTH": 1000000000, "train_mode": "prefix"})):
        with in_folder(root / f"input-{len(ROWS)}"):
            rc, err = call(run, run_args(**extra))
        record("bad input", name, "one message with the estimate, nothing built",
               one_message(rc, err) and "needs at least" in err, f"rc {rc}: {last_error_line(err)}")

    # --- resume from a checkpoint of other sizes
    saved = root / "sizes" / "saved"
    with in_folder(root / "sizes"):
        call(run, run_args(checkpoint_dir=saved, epochs=2, keep_last_checkpoint=True))
    lasts = sorted(saved.glob("*-last.pth"))
    for name, extra in (("n_heads", {"n_heads": 4}), ("num_experts", {"num_experts": 3})):
        with in_folder(root / f"input-{len(ROWS)}"):
            rc, err = call(run, run_args(checkpoint_dir=saved, epochs=3, resume_from=lasts[0] if lasts else "none",
                                         **extra))
        record("bad input", f"--resume_from a checkpoint of another {name}", "one message naming the setting",
               one_message(rc, err) and f"{name} " in err and "->" in err, f"rc {rc}: {last_error_line(err)}")

    # --- strict booleans, misspelt settings, paths as dataset names, sampled evaluation, gpu_id
    cases = [
        ("--keep_last_checkpoint=yes", run_args(keep_last_checkpoint="yes"), "keep_last_checkpoint must be True or False"),
        ("--sorted_evaluation=2", run_args(sorted_evaluation=2), "sorted_evaluation must be True or False"),
        ("--compile_model=no", run_args(compile_model="no"), "compile_model must be True or False"),
        ("--epoch=5 (misspelt)", run_args() + ["--epoch=5"], "did you mean epochs?"),
        ("--dataset=../../x", [a for a in run_args() if a != "--dataset=tiny"] + ["--dataset=../../x"],
         "dataset must be a name, not a path"),
        ("--eval_args with mode uni5", run_args() + ["--eval_args={'split':{'LS':'valid_and_test'},'order':'TO',"
                                                     "'mode':'uni5'}"], "count every target as a hit"),
        ("--gpu_id=abc", run_args() + ["--gpu_id=abc"], "gpu_id must name GPUs"),
    ]
    for name, argv, expected in cases:
        with in_folder(root / f"input-{len(ROWS)}"):
            rc, err = call(run, argv)
        record("bad input", name, "one message", one_message(rc, err) and expected in err,
               f"rc {rc}: {last_error_line(err)}")

    # --- text_encoder whose weights are a crafted pickle
    from recbole_fame.text.encoder import packaged_minilm_dir

    encoder = root / "crafted-encoder"
    import shutil

    shutil.copytree(packaged_minilm_dir(), encoder, ignore=shutil.ignore_patterns("*.safetensors", "*.bin", "onnx*"))
    (encoder / "pytorch_model.bin").write_bytes(pickle.dumps(Exploit(marker)))
    with in_folder(root / f"input-{len(ROWS)}"):
        rc, err = call(run, run_args("FAMETextPretrain", text_encoder=encoder, text_cache_dir=root / "no-cache"))
    record("bad input", "text_encoder whose weights file is a crafted pickle", "not executed; one message naming the file",
           not marker.exists() and one_message(rc, err) and "pytorch_model.bin" in err,
           f"executed: {marker.exists()}; rc {rc}: {last_error_line(err)}")
    marker.unlink(missing_ok=True)

    # --- Ctrl-C during training (its own process)
    folder = root / "interrupted"
    folder.mkdir()
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    argv = run_args(checkpoint_dir=folder / "saved", epochs=4)
    proc = subprocess.run([PYTHON, "-c", INTERRUPT, *argv], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=600)
    lines = proc.stderr.strip().splitlines()
    record("bad input", "Ctrl-C during epoch 2", "exit 130, one line with --resume_from",
           proc.returncode == 130 and "Traceback" not in proc.stderr and bool(lines) and "--resume_from=" in lines[-1],
           f"rc {proc.returncode}: {(lines or [''])[-1][:200]}")
    resume = (lines or [""])[-1].partition("--resume_from=")[2]
    rc, err = run_cli(folder, argv + [f"--resume_from={resume}"]) if resume else (None, "")
    record("bad input", "resume after Ctrl-C", "exit 0", rc == 0, f"rc {rc} {last_error_line(err) if rc else ''}")

    # --- the same resume started twice at once (two processes)
    folder = root / "twice"
    rc, err = run_cli(folder, run_args(checkpoint_dir=folder / "saved", epochs=2, keep_last_checkpoint=True))
    lasts = sorted((folder / "saved").glob("*-last.pth"))
    if lasts:
        argv = run_args(checkpoint_dir=folder / "saved", epochs=60, stopping_step=100, resume_from=lasts[0])
        procs = [subprocess.Popen([PYTHON, str(REPO / "run_recbole_fame.py"), *argv], cwd=folder, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outcomes = [(p.wait(timeout=900), p.communicate()[1]) for p in procs]
        codes = sorted(rc for rc, _ in outcomes)
        refused = [e for rc, e in outcomes if rc == 2]
        record("bad input", "the same resume started twice at once", "one runs, the other is refused with one message",
               codes == [0, 2] and "is resuming it already" in (refused or [""])[0],
               f"exit codes {codes}: {last_error_line((refused or [''])[0])}")
    else:
        record("bad input", "the same resume started twice at once", "one runs, the other is refused", False,
               f"no last checkpoint to resume: rc {rc} {last_error_line(err)}")

    # --- run_hyper shows each library warning once
    folder = root / "hyper-warnings"
    folder.mkdir()
    params = folder / "three.hyper"
    params.write_text("learning_rate choice [0.001,0.002,0.003]\n")
    proc = subprocess.run([PYTHON, str(REPO / "run_hyper.py"), "--model=FAME", "--dataset=tiny",
                           f"--params_file={params}", f"--output_file={folder / 'h.result'}",
                           *[f"--{k}={v}" for k, v in dict(BASE, epochs=1).items()]], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=900)
    warned = [line for line in proc.stderr.splitlines() if "Warning: " in line]
    repeated = sorted({line for line in warned if warned.count(line) > 1})
    record("bad input", "run_hyper: library warnings over 3 trials", "each shown once",
           proc.returncode == 0 and not repeated,
           f"rc {proc.returncode}; {len(warned)} warning lines, repeated: {[r[-80:] for r in repeated] or 'none'}")


# ------------------------------------------------------------------------------------------------------ main


def write_table(path):
    held = sum(row[3] == "held" for row in ROWS)
    lines = [
        "# Reliability and safety probes (`scripts/probes.py`)",
        "",
        f"{len(ROWS)} probes, {held} held, {len(ROWS) - held} failed. Run on the tiny fixture, CPU, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, git {git_head()}.",
        "",
        "| category | probe | expected | result | seen |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {' | '.join(row)} |" for row in ROWS]
    text = "\n".join(lines) + "\n"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text)
    print(text)


def git_head():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "results" / "probes.md"))
    parser.add_argument("--only", default="kill,full,concurrent,crafted,input")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    import recbole_fame  # noqa: F401

    only = set(args.only.split(","))
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="recbole_fame_probes_") as tmp:
        root = Path(tmp)
        for name, probe in (("crafted", probe_crafted), ("kill", probe_kills), ("full", probe_full_disk),
                            ("concurrent", probe_concurrent), ("input", probe_bad_input)):
            if name in only:
                try:
                    probe(root)
                except Exception as error:  # noqa: BLE001  (a probe that breaks is a failed probe)
                    record(name, "probe group ran to the end", "no crash of the probe script", False,
                           f"{type(error).__name__}: {error}")
    print(f"probes took {time.time() - start:.0f} s")
    write_table(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
