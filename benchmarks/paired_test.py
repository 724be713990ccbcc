"""Paired comparison of runs on the same test users (compare.py's JSON files, their best checkpoints).

For each run it reloads the checkpoint, ranks every item for every test user (full ranking, history items
excluded, as RecBole's full-sort evaluator does) and takes each user's NDCG@10 and HR@10. Against the baseline
run it reports the mean per-user difference, its paired standard error, a 95% interval, and the paired
t-test's and Wilcoxon signed-rank test's p-values (scipy). A run's recomputed means are checked against its
JSON's test result first.

    python -m benchmarks.paired_test --baseline results/beauty/modes/SASRecSeq__prefix_mode_-seed2021.json \\
        results/beauty/modes/FAME*-seed2021.json --out=results/beauty/modes/paired-seed2021.md
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.paired_test")

import argparse
import json
import os
import sys

import numpy as np
import torch
from scipy import stats

from benchmarks.report import write_report
from benchmarks.runs import hides_history

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

K = 10


def per_user_ranks(run_file, exclude_history=None):
    """Test user ids (sorted), each one's 0-based rank of the held-out item under the run's best checkpoint, and
    the run's JSON.

    ``exclude_history`` (True/False) scores the checkpoint under that protocol (``eval_exclude_history``)
    instead of the run's own; under the run's own protocol the recomputed means are checked against its JSON.
    """
    from recbole_fame import load_data_and_model

    with open(run_file) as f:
        run = json.load(f)
    checkpoint = run["checkpoint"]
    overrides = {} if exclude_history is None else {"eval_exclude_history": exclude_history}
    _, model, _, _, _, test_data = load_data_and_model(checkpoint, checkpoint_dir=os.path.dirname(checkpoint),
                                                       config_dict=overrides)
    model.eval()
    device = next(model.parameters()).device
    uid_field = test_data._dataset.uid_field
    users, ranks = [], []
    with torch.no_grad():
        for interaction, history_index, positive_u, positive_i in test_data:
            interaction = interaction.to(device)  # the loader's batches are on the CPU
            scores = model.full_sort_predict(interaction).view(len(interaction), -1).cpu()
            scores[:, 0] = -torch.inf  # the padding item
            if history_index is not None:  # a hidden target is scored -inf too: a miss
                scores[history_index] = -torch.inf
            positive = scores[positive_u, positive_i]
            # 0 = first; a hidden target (-inf) ranks behind every item
            ranks.append((scores > positive[:, None]).sum(dim=1) + torch.isinf(positive) * scores.size(1))
            users.append(interaction[uid_field].cpu()[positive_u])
    users, ranks = torch.cat(users).numpy(), torch.cat(ranks).numpy()
    own_protocol = exclude_history is None or bool(exclude_history) == hides_history(run)
    if own_protocol:
        for name, values in metrics_of(ranks, K).items():
            recorded = run["test_result"][name]
            if abs(values.mean() - recorded) > 6e-5:  # RecBole rounds to 4 decimals
                raise SystemExit(f"error: {run_file}: recomputed {name} {values.mean():.5f} differs from the recorded "
                                 f"{recorded}: the checkpoint is not the run's (re-run it, or fix 'checkpoint' in the "
                                 "JSON)")
    order = np.argsort(users)
    return users[order], ranks[order], run


def metrics_of(ranks, k):
    """Per-user NDCG@k and HR@k of 0-based ranks (one held-out item per user)."""
    hit = (ranks < k).astype(float)
    return {f"ndcg@{k}": hit / np.log2(ranks + 2), f"hit@{k}": hit}


def per_user_metrics(run_file, exclude_history=None):
    """Test user ids (sorted) and each one's NDCG@K and HR@K under the run's best checkpoint, and the run's JSON."""
    users, ranks, run = per_user_ranks(run_file, exclude_history)
    metrics = metrics_of(ranks, K)
    return users, metrics[f"ndcg@{K}"], metrics[f"hit@{K}"], run


def paired(base, other):
    diff = other - base
    se = diff.std(ddof=1) / np.sqrt(len(diff))
    t_p = stats.ttest_rel(other, base).pvalue
    w_p = stats.wilcoxon(other, base).pvalue if np.any(diff) else 1.0
    return diff.mean(), se, t_p, w_p


def p_value(p):
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def main():
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="the baseline run's JSON (compare.py)")
    parser.add_argument("runs", nargs="+", help="the other runs' JSON files, same dataset and seed split")
    parser.add_argument("--out", default=None, help="markdown file to write (printed either way)")
    args = parser.parse_args()
    sys.argv = [sys.argv[0]]  # keep RecBole's Config from reading this script's flags
    args.baseline, args.runs = os.path.abspath(args.baseline), [os.path.abspath(r) for r in args.runs]
    args.out = args.out and os.path.abspath(args.out)
    os.chdir(ROOT)  # the runs' checkpoint and data paths are relative to the repository

    base_users, base_ndcg, base_hit, base_run = per_user_metrics(args.baseline)
    lines = [
        f"# Paired test against {base_run['label']} (seed {base_run['seed']}, {len(base_users):,} test users)",
        "",
        "Command: `python -m benchmarks.paired_test " + " ".join(
            [f"--baseline {os.path.relpath(args.baseline, ROOT)}"] + [os.path.relpath(r, ROOT) for r in args.runs]
            + ([f"--out={os.path.relpath(args.out, ROOT)}"] if args.out else [])) + "`",
        "",
        f"Per-user differences (run - baseline) on the same test users; SE = paired standard error; 95% interval "
        f"= mean +- 1.96 SE; p = two-sided paired t-test / Wilcoxon signed-rank. Baseline: NDCG@{K} "
        f"{base_ndcg.mean():.4f}, HR@{K} {base_hit.mean():.4f}.",
        "",
        f"| run | NDCG@{K} | diff (SE) | 95% interval | p (t / Wilcoxon) | HR@{K} | diff (SE) | p (t / Wilcoxon) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run_file in args.runs:
        users, ndcg, hit, run = per_user_metrics(run_file)
        if not np.array_equal(users, base_users):
            raise SystemExit(f"error: {run_file} was tested on other users than the baseline: compare runs of one "
                             "dataset and split only")
        n_mean, n_se, n_t, n_w = paired(base_ndcg, ndcg)
        h_mean, h_se, h_t, h_w = paired(base_hit, hit)
        lines.append(
            f"| {run['label']} | {ndcg.mean():.4f} | {n_mean:+.4f} ({n_se:.4f}) | [{n_mean - 1.96 * n_se:+.4f}, "
            f"{n_mean + 1.96 * n_se:+.4f}] | {p_value(n_t)} / {p_value(n_w)} | {hit.mean():.4f} | {h_mean:+.4f} ({h_se:.4f}) | "
            f"{p_value(h_t)} / {p_value(h_w)} |")
    write_report(lines, args.out)


if __name__ == "__main__":
    main()
