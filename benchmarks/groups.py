"""Test results by item popularity and by history length: where does each model win?

Each run's per-user test ranks (``<run>.ranks.npz`` beside its JSON, kept by ``benchmarks.protocol_table``, or
computed from its checkpoint) are grouped two ways: by how often the user's test target occurs in the training
split (the items RecBole's leave-one-out split trains on; a text start should help rare items most) and by the
user's history length at test time (items before the test target). Each cell is the group's mean NDCG@10 (and
HR@10) over its users, averaged over the model's seeds (± half the range over seeds); the paired column is the
per-user difference against the baseline of the same seed, averaged over the seeds, with the paired t-test's
p-value (pooled over seeds: users, not training runs, are its replicates).

    python -m benchmarks.groups --baseline SASRec results/amazon-beauty/selected/*-seed*.json \\
        --protocol hidden --out results/amazon-beauty/selected/groups.md
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.groups")

import argparse
import os
import sys
from collections import defaultdict

import numpy as np
from scipy import stats

from benchmarks.paired_test import metrics_of
from benchmarks.protocol_table import ranks_of
from benchmarks.report import write_report
from benchmarks.runs import load_run, resolved_settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POPULARITY = ((0, 5), (6, 20), (21, 50), (51, None))  # training occurrences of the test target
HISTORY = ((1, 4), (5, 8), (9, 15), (16, None))  # items before the test target


def group_name(bounds, unit):
    low, high = bounds
    return f"{low}+ {unit}" if high is None else f"{low}-{high} {unit}"


def test_facts(run):
    """``{user id: (training occurrences of the test target, history length)}`` under RecBole's leave-one-out split
    (the last item tests, the one before validates, the rest trains), from the dataset RecBole loads with the
    run's resolved settings (internal ids, as the ranks hold them)."""
    from recbole_fame import Config, create_dataset

    settings = {k: v for k, v in resolved_settings(run).items()
                if k in ("load_col", "eval_args", "MAX_ITEM_LIST_LENGTH", "user_inter_num_interval",
                         "item_inter_num_interval", "USER_ID_FIELD", "ITEM_ID_FIELD", "TIME_FIELD")}
    if "data_path" in run["settings"]:  # the resolved one has the dataset's folder appended
        settings["data_path"] = run["settings"]["data_path"]
    config = Config(model="SASRecSeq", dataset=run["dataset"], config_dict=dict(settings, train_mode="prefix"))
    dataset = create_dataset(config)  # every interaction, ids as the run's loaders have them
    frame = dataset.inter_feat
    uid, iid = dataset.uid_field, dataset.iid_field
    order = np.lexsort((np.asarray(frame[dataset.time_field]), np.asarray(frame[uid])))  # by user, then time
    users, items = np.asarray(frame[uid])[order], np.asarray(frame[iid])[order]
    starts = np.r_[0, np.flatnonzero(np.diff(users)) + 1]
    lengths = np.diff(np.r_[starts, len(users)])
    position = np.arange(len(users)) - np.repeat(starts, lengths)
    remaining = np.repeat(lengths, lengths) - position  # 1 = the test target, 2 = the validation target
    counts = np.bincount(items[remaining > 2], minlength=dataset.item_num)  # the training part of each sequence
    tests = remaining == 1
    return {int(u): (int(counts[t]), int(n - 1)) for u, t, n in zip(users[tests], items[tests], lengths)}


def in_group(value, bounds):
    low, high = bounds
    return value >= low and (high is None or value <= high)


def main(argv=None):
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="label of the baseline runs")
    parser.add_argument("runs", nargs="+", help="run JSON files (benchmarks.compare), one dataset")
    parser.add_argument("--protocol", default="hidden", choices=("hidden", "kept"))
    parser.add_argument("--skip", default="FAMETextPretrain", help="comma-separated labels to leave out")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    files = [os.path.abspath(f) for f in args.runs]
    out = args.out and os.path.abspath(args.out)
    sys.argv = [sys.argv[0]]
    os.chdir(ROOT)

    skip = set(args.skip.split(","))
    runs = {f: load_run(f) for f in files}
    by_label = defaultdict(dict)  # label -> seed -> run file
    for f, run in runs.items():
        if run["label"] not in skip:
            by_label[run["label"]][run["seed"]] = f
    if args.baseline not in by_label:
        raise SystemExit(f"error: no run labelled {args.baseline!r} among the runs")
    labels = [args.baseline] + sorted(label for label in by_label if label != args.baseline)
    facts = test_facts(runs[next(iter(by_label[args.baseline].values()))])
    ndcg, hit = {}, {}  # (label, seed) -> {user: value}
    for label in labels:
        for seed, f in by_label[label].items():
            ranks = ranks_of(f)
            if args.protocol not in ranks:
                raise SystemExit(f"error: {f}: neither per-user ranks nor its checkpoint are there")
            users, r = ranks[args.protocol]
            metrics = metrics_of(r, 10)
            ndcg[label, seed] = dict(zip(users.tolist(), metrics["ndcg@10"]))
            hit[label, seed] = dict(zip(users.tolist(), metrics["hit@10"]))

    def cell(label, users):
        per_seed = [np.mean([ndcg[label, s][u] for u in users]) for s in sorted(by_label[label])]
        hits = [np.mean([hit[label, s][u] for u in users]) for s in sorted(by_label[label])]
        spread = f" ± {(max(per_seed) - min(per_seed)) / 2:.4f}" if len(per_seed) > 1 else ""
        return f"{np.mean(per_seed):.4f}{spread} / {np.mean(hits):.4f}"

    def paired(label, users):
        seeds = [s for s in sorted(by_label[label]) if (args.baseline, s) in ndcg]
        if label == args.baseline or not seeds:
            return ""
        diff = np.mean([[ndcg[label, s][u] - ndcg[args.baseline, s][u] for u in users] for s in seeds], axis=0)
        p = stats.ttest_1samp(diff, 0.0).pvalue if np.any(diff) else 1.0
        return f"{diff.mean():+.4f} (p={'<0.001' if p < 0.001 else f'{p:.3f}'})"

    header = ["group", "users"] + [f"{label}: NDCG@10 / HR@10" for label in labels] + \
             [f"{label} - {args.baseline}" for label in labels[1:]]
    lines = [
        "Command: `python -m benchmarks.groups --baseline " + args.baseline + " "
        + " ".join(os.path.relpath(f, ROOT) for f in files) + f" --protocol {args.protocol}"
        + (f" --out {os.path.relpath(out, ROOT)}" if out else "") + "`",
        "",
        f"{runs[files[0]]['dataset']}, test users under the {args.protocol} protocol. Popularity: occurrences of the "
        "user's test target in the training split; history: the user's items before the test target. Cells: "
        "the group's mean NDCG@10 (mean over seeds, ± half the range) / HR@10; last columns: per-user NDCG@10 "
        f"difference against {args.baseline} of the same seed, averaged over the seeds, paired t-test over the "
        "group's users (users, not training runs, are the replicates). Seeds: "
        + "; ".join(f"{label} {', '.join(map(str, sorted(by_label[label])))}" for label in labels) + ".",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    all_users = sorted(facts)
    groups = [("all", all_users)]
    groups += [(group_name(b, "occurrences"), [u for u in all_users if in_group(facts[u][0], b)]) for b in POPULARITY]
    groups += [(group_name(b, "items of history"), [u for u in all_users if in_group(facts[u][1], b)]) for b in HISTORY]
    for name, users in groups:
        if not users:
            continue
        lines.append("| " + " | ".join([name, f"{len(users):,}"] + [cell(label, users) for label in labels]
                                       + [paired(label, users) for label in labels[1:]]) + " |")
    write_report(lines, out)


if __name__ == "__main__":
    main()
