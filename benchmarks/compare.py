"""Run several models on one dataset with one protocol and seed; write one JSON per run and a table in the
layout of the FAME paper's Table 2 (models as columns, metrics as rows, FAME's relative improvement over the
best baseline), with epochs, wall time per epoch and parameter count.

--models lists runs separated by ';': ``LABEL`` for a model name, or ``LABEL=Model:key=value,key=value``
for a model with its own settings. Settings common to all runs come from --config_files and --set key=value.
``warm_start=LABEL`` in a FAME run's settings warm-starts it from the checkpoint of the earlier run LABEL (same
--out and --seed; listed before it or run by an earlier call) and takes that SASRec's backbone settings (n_heads,
hidden_size, n_layers, inner_size, ...) from its checkpoint, so nothing has to be copied by hand. Runs
whose JSON already exists in --out are not repeated (delete the file to re-run); each run is its own
process, so one failure does not stop the others.

    python -m benchmarks.compare --dataset=amazon-beauty --out=results/beauty \\
        --models "SASRec; GRU4Rec; BERT4Rec; CORE; FEARec; FAME w/o MoE=FAME:num_experts=1; FAME"
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.compare")

import argparse
import json
import os
import platform
import subprocess
import sys
import time

from recbole_fame.tuning import parse_setting  # the runner's reading of --key=value values

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the workers run there, as this module
METRICS = ["hit@5", "hit@10", "hit@20", "ndcg@5", "ndcg@10", "ndcg@20"]
METRIC_NAMES = {"hit": "HR", "ndcg": "NDCG"}


def parse_settings(items):
    settings = {}
    for item in items:
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"error: setting '{item}' is not key=value")
        settings[key.strip()] = parse_setting(value.strip())
    return settings


def parse_models(spec):
    """'A; B=Model:k=v,k2=v2' -> [(label, model, settings)]."""
    runs = []
    for entry in filter(None, (e.strip() for e in spec.split(";"))):
        label, sep, rest = entry.partition("=")
        model, _, settings_text = (rest if sep else label).partition(":")
        if not model.strip().isidentifier():
            raise SystemExit(f"error: '{model.strip()}' in '{entry}' is not a model name: write runs as LABEL or "
                             "LABEL=Model:key=value,... (a LABEL contains no '=')")
        runs.append((label.strip(), model.strip(), parse_settings(settings_text.split(","))))
    return runs


def slug(label):
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in label)


# the backbone settings FAME must share with the SASRec it warm-starts from (recbole_fame/model/warm_start.py)
BACKBONE_KEYS = ("n_layers", "n_heads", "hidden_size", "inner_size", "hidden_act", "layer_norm_eps",
                 "MAX_ITEM_LIST_LENGTH")


def resolve_warm_start(settings, out, seed):
    """``warm_start=LABEL`` -> ``pretrained_path`` = that run's checkpoint, plus its backbone settings."""
    settings = dict(settings)
    source = settings.pop("warm_start", None)
    if source is None:
        return settings
    record_file = os.path.join(out, f"{slug(str(source))}-seed{seed}.json")
    if not os.path.exists(record_file):
        raise SystemExit(f"error: warm_start={source}: no run of that label in {out} for seed {seed} ({record_file}); "
                         "list it before the warm-started run")
    with open(record_file) as f:
        checkpoint = json.load(f)["checkpoint"]
    import torch

    # the run's own checkpoint, written by this script's worker
    config = torch.load(checkpoint, map_location="cpu", weights_only=False)["config"]
    for key in BACKBONE_KEYS:
        if config[key] is not None:
            settings.setdefault(key, config[key])
    settings["pretrained_path"] = checkpoint
    return settings


def run_one(job_file):
    """Worker: train and test one model (in its own process) and write its JSON."""
    with open(job_file) as f:
        job = json.load(f)
    target = job.pop("output_file")  # the JSON's absolute path (the worker runs in the repository root)
    sys.argv = [sys.argv[0]]  # keep RecBole's Config from reading this script's flags
    from recbole_fame import run_recbole_fame

    from benchmarks.runs import resolve

    resolved = resolve(job["model"], job["dataset"], job["config_files"], job["settings"])  # the run's Config
    start = time.time()
    result = run_recbole_fame(model=job["model"], dataset=job["dataset"], config_file_list=job["config_files"],
                              config_dict=job["settings"], saved=True)
    import torch

    on_gpu = torch.cuda.is_available() and job["settings"].get("use_gpu", True)
    record = dict(job, wall_seconds=time.time() - start,
                  device=torch.cuda.get_device_name() if on_gpu else "cpu", threads=torch.get_num_threads(),
                  test_result={k: float(v) for k, v in result["test_result"].items()},
                  best_valid_result={k: float(v) for k, v in result["best_valid_result"].items()},
                  epochs=result["epochs"], best_epoch=result["best_epoch"],
                  seconds_per_epoch=result["seconds_per_epoch"], parameters=result["parameters"],
                  checkpoint=result["saved_model_file"], resolved=resolved)
    with open(target + ".tmp", "w") as f:
        json.dump(record, f, indent=1)
    os.replace(target + ".tmp", target)


def table(records, dataset, fame_labels):
    labels = [r["label"] for r in records]
    baselines = [r for r in records if r["label"] not in fame_labels]
    best_fame = max((r for r in records if r["label"] in fame_labels), key=lambda r: r["test_result"]["ndcg@10"],
                    default=None)
    header = "| Dataset | Metric | " + " | ".join(labels) + (" | Improv. |" if best_fame and baselines else " |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for i, metric in enumerate(METRICS):
        name, k = metric.split("@")
        values = [r["test_result"].get(metric) for r in records]
        best = max((v for v in values if v is not None), default=None)
        cells = [("**%.4f**" % v if v == best else "%.4f" % v) if v is not None else "-" for v in values]
        row = f"| {dataset if i == 0 else ''} | {METRIC_NAMES[name]}@{k} | " + " | ".join(cells)
        if best_fame and baselines:
            base = max(b["test_result"][metric] for b in baselines)
            row += f" | {100 * (best_fame['test_result'][metric] / base - 1):+.1f}% |"
        else:
            row += " |"
        lines.append(row)
    extra = [("epochs (best)", lambda r: f"{r['epochs']} ({r['best_epoch'] + 1})" + (", capped" if r.get("capped") else "")),
             ("s / epoch", lambda r: f"{r['seconds_per_epoch']:.0f}"),
             ("parameters", lambda r: f"{r['parameters']:,}")]
    for name, fn in extra:
        lines.append(f"| | {name} | " + " | ".join(fn(r) for r in records) + (" | |" if best_fame and baselines else " |"))
    return "\n".join(lines)


def main():
    summary, _, details = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=" ".join(summary.split()),
                                     epilog=details, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--out", required=True, help="folder for the JSON files and table.md")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--config_files", default="", help="space-separated yaml files for every run")
    parser.add_argument("--set", nargs="*", default=[], help="key=value settings for every run")
    parser.add_argument("--fame_labels", default=None, help="comma-separated labels counted as FAME (default: labels starting with FAME)")
    parser.add_argument("--table_only", action="store_true",
                        help="train nothing: write the table from the listed runs whose JSON exists")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return run_one(args.worker)

    os.makedirs(args.out, exist_ok=True)
    common = parse_settings(args.set)
    common["seed"] = args.seed
    common.setdefault("show_progress", False)  # RecBole's progress bars would fill the logs with carriage returns
    config_files = args.config_files.split() or None
    records = []
    for label, model, settings in parse_models(args.models):
        output = os.path.join(args.out, f"{slug(label)}-seed{args.seed}.json")
        if not os.path.exists(output) and args.table_only:
            continue
        if not os.path.exists(output):
            settings = resolve_warm_start(settings, args.out, args.seed)
            job = {"label": label, "model": model, "dataset": args.dataset, "seed": args.seed,
                   "settings": dict(common, **settings), "config_files": config_files, "output": output,
                   "output_file": os.path.abspath(output),
                   "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores",
                   "command": "python -m benchmarks.compare " + " ".join(sys.argv[1:])}
            job_file = os.path.abspath(output + ".job")
            with open(job_file, "w") as f:
                json.dump(job, f)
            print(f"[{time.strftime('%H:%M:%S')}] {label}: training {model} ...", flush=True)
            proc = subprocess.run([sys.executable, "-m", "benchmarks.compare", "--dataset", args.dataset,
                                   "--models", label, "--out", args.out, "--worker", job_file], cwd=ROOT)
            os.remove(job_file)
            if proc.returncode != 0 or not os.path.exists(output):
                print(f"{label}: failed (exit {proc.returncode}); left out of the table", flush=True)
                continue
        with open(output) as f:
            records.append(json.load(f))
        print(f"{label}: test {records[-1]['test_result']}", flush=True)
    fame_labels = set(args.fame_labels.split(",")) if args.fame_labels else {r["label"] for r in records if r["label"].startswith("FAME")}
    text = table(records, args.dataset, fame_labels)
    with open(os.path.join(args.out, f"table-seed{args.seed}.md"), "w") as f:
        f.write(f"Command: `python -m benchmarks.compare {' '.join(sys.argv[1:])}`\n\n{text}\n")
    print(text)


if __name__ == "__main__":
    main()
