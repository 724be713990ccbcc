"""One table, both protocols: every run's best checkpoint scored with and without hiding the user's history.

For each run (compare.py's JSON files, any number of seeds per label) the best checkpoint is re-scored on the
test users under the S3-Rec lineage's protocol (``eval_exclude_history: True``, every earlier item of the user
hidden; the paper's Table 2) and under RecBole's (nothing hidden), from the same weights. The table has the
paper's Table 2 layout (models as columns, metrics as rows), each cell the mean over seeds (± half the range when
there are several), then each model's per-user paired difference in NDCG@10 against the baseline label of the
same seed with the paired t-test's p-value, per seed and with the seeds pooled (each user's difference averaged
over the seeds, one test over users).

Every run's per-user ranks under both protocols are kept beside its JSON (``<run>.ranks.npz``: test user ids
and 0-based ranks; commit them with the JSON), so the table can be rebuilt once the checkpoints are gone. A run
with neither ranks nor checkpoint contributes the test result its JSON recorded, under the protocol it was
trained with, and no paired difference; such cells say how many seeds they hold.

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
from benchmarks.report import write_report
from benchmarks.runs import REBUILT_NOTE, SHAPE, setting_text, trained_under

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROTOCOLS = (("hidden", True), ("kept", False))
METRICS = [(name, k) for name in ("hit", "ndcg") for k in (5, 10, 20)]


def ranks_of(run_file):
    """``{protocol: (users, ranks)}`` of a run, from its ``.ranks.npz`` or computed from its checkpoint (then
    saved); ``{}`` when neither exists."""
    with open(run_file) as f:
        run = json.load(f)
    saved = os.path.splitext(run_file)[0] + ".ranks.npz"
    if os.path.isfile(saved):
        with np.load(saved) as data:
            return {protocol: (data["users"], data[protocol]) for protocol, _ in PROTOCOLS}
    if not os.path.isfile(run["checkpoint"]):
        return {}
    scored = {protocol: per_user_ranks(run_file, exclude)[:2] for protocol, exclude in PROTOCOLS}
    users = scored["hidden"][0]
    assert np.array_equal(users, scored["kept"][0])
    np.savez_compressed(saved, users=users, **{p: r.astype(np.int32) for p, (_, r) in scored.items()})
    return scored


def cell(values, of):
    """Mean (± half the range) of ``values``, and how many of the label's ``of`` seeds they hold if not all."""
    if not values:
        return "-"
    mean = np.mean(values)
    text = f"{mean:.4f}" + (f" ± {(max(values) - min(values)) / 2:.4f}" if len(values) > 1 else "")
    return text + (f" ({len(values)} of {of} seeds)" if len(values) < of else "")


def p_text(p):
    return "<0.001" if p < 0.001 else f"{p:.3f}"


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
    ranks, recorded = {}, {}  # (label, seed, protocol) -> (users, ranks); (label, seed) -> run JSON
    for label in labels:
        for seed, run_file in by_label[label].items():
            for protocol, pair in ranks_of(run_file).items():
                ranks[label, seed, protocol] = pair
            with open(run_file) as f:
                recorded[label, seed] = json.load(f)

    def value(label, seed, protocol, name, k):
        if (label, seed, protocol) in ranks:
            return metrics_of(ranks[label, seed, protocol][1], k)[f"{name}@{k}"].mean()
        run = recorded[label, seed]
        return run["test_result"][f"{name}@{k}"] if trained_under(run) == protocol else None

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
        f"NDCG@10 against {args.baseline} of the same seed, with the paired t-test's p-value, per seed and with "
        "the seeds pooled (each user's difference averaged over the seeds). A run whose checkpoint and ranks are "
        "gone gives only the test result its JSON recorded (under the protocol it was trained with).",
        "",
        "| protocol | metric | " + " | ".join(labels) + " |",
        "|---|---|" + "---|" * len(labels),
    ]
    for protocol, _ in PROTOCOLS:
        for name, k in METRICS:
            cells = []
            for label in labels:
                per_seed = [v for v in (value(label, s, protocol, name, k) for s in seeds[label]) if v is not None]
                cells.append(cell(per_seed, len(seeds[label])))
            lines.append(f"| {protocol} | {'HR' if name == 'hit' else 'NDCG'}@{k} | " + " | ".join(cells) + " |")
        per_seed_cells, pooled_cells = [], []
        for label in labels:
            entries, differences, paired_seeds = [], [], []
            for seed in seeds[label]:
                if label == args.baseline or (args.baseline, seed, protocol) not in ranks \
                        or (label, seed, protocol) not in ranks:
                    continue
                base_users, base_ranks = ranks[args.baseline, seed, protocol]
                users, r = ranks[label, seed, protocol]
                assert np.array_equal(users, base_users), f"{label} seed {seed}: other test users than the baseline"
                base, other = metrics_of(base_ranks, 10)["ndcg@10"], metrics_of(r, 10)["ndcg@10"]
                entries.append(f"{seed}: {(other - base).mean():+.4f} (p={p_text(stats.ttest_rel(other, base).pvalue)})")
                differences.append(other - base)
                paired_seeds.append(seed)
            per_seed_cells.append("; ".join(entries) or "-")
            if differences:
                mean_difference = np.mean(differences, axis=0)  # [users], averaged over the seeds
                p = stats.ttest_1samp(mean_difference, 0.0).pvalue
                count = f"{len(paired_seeds)} seed{'s' if len(paired_seeds) > 1 else ''}"
                pooled_cells.append(f"{mean_difference.mean():+.4f} (p={p_text(p)}; {count})")
            else:
                pooled_cells.append("-")
        lines.append(f"| {protocol} | NDCG@10 paired vs {args.baseline}, per seed | " + " | ".join(per_seed_cells) + " |")
        lines.append(f"| {protocol} | NDCG@10 paired vs {args.baseline}, seeds pooled | " + " | ".join(pooled_cells) + " |")
    info = {label: [recorded[label, seed] for seed in seeds[label]] for label in labels}
    lines.append("| | seeds | " + " | ".join(", ".join(map(str, seeds[label])) for label in labels) + " |")
    lines.append("| | trained under | " + " | ".join(
        "/".join(sorted({trained_under(r) for r in info[label]}))
        for label in labels) + " |")
    for key in SHAPE:
        lines.append(f"| | {key} | " + " | ".join(
            "/".join(sorted({setting_text(r, key) for r in info[label]})) for label in labels) + " |")
    lines.append("| | epochs (best) | " + " | ".join(
        "; ".join(f"{r['epochs']} ({r['best_epoch'] + 1})" for r in info[label]) for label in labels) + " |")
    lines.append("| | s / epoch | " + " | ".join(
        "; ".join(f"{r['seconds_per_epoch']:.0f}" for r in info[label]) for label in labels) + " |")
    lines.append("| | parameters | " + " | ".join(f"{info[label][0]['parameters']:,}" for label in labels) + " |")
    if any(r.get("resolved_rebuilt") for runs in info.values() for r in runs):
        lines += ["", REBUILT_NOTE]
    write_report(lines, out)


if __name__ == "__main__":
    main()
