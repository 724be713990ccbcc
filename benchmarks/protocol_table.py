"""One table, both protocols: every run's best checkpoint scored with and without hiding the user's history.

For each run (compare.py's JSON files, any number of seeds per label) the best checkpoint is re-scored on the
test users under the S3-Rec lineage's protocol (``eval_exclude_history: True``, every earlier item of the user
hidden; the paper's Table 2) and under RecBole's (nothing hidden), from the same weights. The table has the
paper's Table 2 layout (models as columns, metrics as rows), each cell the mean over seeds (and the spread,
max - min, when there are several), then each model's per-user paired difference in NDCG@10 against the
baseline label of the same seed, with the paired t-test's p-value (per seed). Ranks are cached beside each
checkpoint (``<checkpoint>.ranks-<protocol>.npy``).

    python -m benchmarks.protocol_table --baseline SASRec results/beauty/protocol/*-seed*.json \\
        --out results/beauty/protocol/table.md
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.protocol_table")

import argparse
import json
import os
import sys
from collections import defaultdict

import numpy as np
from scipy import stats

from benchmarks.paired_test import metrics_of, per_user_ranks

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROTOCOLS = (("hidden", True), ("kept", False))
METRICS = [(name, k) for name in ("hit", "ndcg") for k in (5, 10, 20)]


def ranks_of(run_file, exclude_history):
    with open(run_file) as f:
        run = json.load(f)
    cache = f"{run['checkpoint']}.ranks-{'hidden' if exclude_history else 'kept'}.npy"
    if os.path.isfile(cache):
        users_ranks = np.load(cache)
        return users_ranks[0], users_ranks[1], run
    users, ranks, run = per_user_ranks(run_file, exclude_history)
    np.save(cache, np.stack([users, ranks]))
    return users, ranks, run


def cell(values):
    mean = np.mean(values)
    return f"{mean:.4f}" + (f" ± {(max(values) - min(values)) / 2:.4f}" if len(values) > 1 else "")


def main():
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="the label of the baseline runs (compare.py's label)")
    parser.add_argument("runs", nargs="+", help="run JSON files (compare.py), any labels and seeds")
    parser.add_argument("--skip", default="FAMETextPretrain", help="comma-separated labels to leave out")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    sys.argv = [sys.argv[0]]
    runs = [os.path.abspath(r) for r in args.runs]
    out = args.out and os.path.abspath(args.out)
    os.chdir(ROOT)

    skip = set(args.skip.split(","))
    by_label = defaultdict(dict)  # label -> seed -> run file
    for run_file in runs:
        with open(run_file) as f:
            run = json.load(f)
        if run["label"] not in skip:
            by_label[run["label"]][run["seed"]] = run_file
    labels = [args.baseline] + sorted(label for label in by_label if label != args.baseline)
    ranks = {}  # (label, seed, protocol) -> (users, ranks)
    for label in labels:
        for seed, run_file in by_label[label].items():
            for protocol, exclude in PROTOCOLS:
                users, r, _ = ranks_of(run_file, exclude)
                ranks[label, seed, protocol] = (users, r)

    seeds = {label: sorted(by_label[label]) for label in labels}
    lines = [
        "Command: `python -m benchmarks.protocol_table --baseline " + args.baseline + " "
        + " ".join(os.path.relpath(r, ROOT) for r in runs) + (f" --out {os.path.relpath(out, ROOT)}" if out else "")
        + "`",
        "",
        "Test metrics of each run's best checkpoint (selected on validation NDCG@10 under the protocol the run was "
        "trained with, see 'trained under'), scored under both protocols: **hidden** = every earlier item of the "
        "user removed from the ranking (S3-Rec / ICLRec / BSARec, the paper's Table 2), **kept** = RecBole's "
        "full ranking. Mean over seeds (± half the range when there are several). Paired: per-user difference of "
        f"NDCG@10 against {args.baseline} of the same seed, with the paired t-test's p-value, per seed.",
        "",
        "| protocol | metric | " + " | ".join(labels) + " |",
        "|---|---|" + "---|" * len(labels),
    ]
    for protocol, _ in PROTOCOLS:
        for name, k in METRICS:
            values = []
            for label in labels:
                per_seed = [metrics_of(ranks[label, s, protocol][1], k)[f"{name}@{k}"].mean() for s in seeds[label]]
                values.append(cell(per_seed))
            lines.append(f"| {protocol} | {'HR' if name == 'hit' else 'NDCG'}@{k} | " + " | ".join(values) + " |")
        paired_cells = []
        for label in labels:
            entries = []
            for seed in seeds[label]:
                if label == args.baseline or (args.baseline, seed, protocol) not in ranks:
                    continue
                base_users, base_ranks = ranks[args.baseline, seed, protocol]
                users, r = ranks[label, seed, protocol]
                assert np.array_equal(users, base_users), f"{label} seed {seed}: other test users than the baseline"
                base, other = metrics_of(base_ranks, 10)["ndcg@10"], metrics_of(r, 10)["ndcg@10"]
                p = stats.ttest_rel(other, base).pvalue
                entries.append(f"{(other - base).mean():+.4f} (p={'<0.001' if p < 0.001 else f'{p:.3f}'})")
            paired_cells.append("; ".join(entries) or "-")
        lines.append(f"| {protocol} | NDCG@10 paired vs {args.baseline} | " + " | ".join(paired_cells) + " |")
    info = defaultdict(list)
    for label in labels:
        for seed in seeds[label]:
            with open(by_label[label][seed]) as f:
                run = json.load(f)
            info[label].append(run)
    lines.append("| | seeds | " + " | ".join(", ".join(map(str, seeds[label])) for label in labels) + " |")
    lines.append("| | trained under | " + " | ".join(
        "/".join(sorted({"hidden" if r["settings"].get("eval_exclude_history") else "kept" for r in info[label]}))
        for label in labels) + " |")
    lines.append("| | epochs (best) | " + " | ".join(
        "; ".join(f"{r['epochs']} ({r['best_epoch'] + 1})" for r in info[label]) for label in labels) + " |")
    lines.append("| | s / epoch | " + " | ".join(
        "; ".join(f"{r['seconds_per_epoch']:.0f}" for r in info[label]) for label in labels) + " |")
    lines.append("| | parameters | " + " | ".join(f"{info[label][0]['parameters']:,}" for label in labels) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    if out:
        with open(out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
