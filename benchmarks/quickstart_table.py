"""The spread of one command's test results over seeds and thread counts: one row per run of benchmarks/compare.py
(seed, torch threads, test HR@10 and NDCG@10, best epoch), then their smallest, largest and mean value.

    python -m benchmarks.quickstart_table results/ml-100k/quickstart/FAME_*_thread-seed*.json \\
        --out results/ml-100k/quickstart/table.md

writes the table to --out and its numbers as JSON beside it (benchmarks/recipes/quickstart_spread.sh).
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.quickstart_table")

import argparse
import statistics

from benchmarks.common import parse_command_line
from benchmarks.report import write_report
from benchmarks.runs import load_run

COLUMNS = ("hit@10", "ndcg@10")


def rows(runs):
    """One row per run, ordered by seed then threads: seed, threads, the COLUMNS' test values, best epoch (1-based)."""
    table = []
    for path, run in runs:
        if "threads" not in run:
            raise SystemExit(f"error: {path} does not record its thread count (written before benchmarks.compare "
                             "recorded it): delete it and run it again")
        table.append({"seed": run["seed"], "threads": run["threads"], "best_epoch": run["best_epoch"] + 1,
                      "epochs": run["epochs"], **{m: run["test_result"][m] for m in COLUMNS}})
    return sorted(table, key=lambda row: (row["seed"], row["threads"]))


def spread(table):
    """The smallest, largest and mean value of each of COLUMNS over the rows."""
    return {name: {m: fn([row[m] for row in table]) for m in COLUMNS}
            for name, fn in (("min", min), ("max", max), ("mean", statistics.mean))}


def main():
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="JSON files of benchmarks.compare, one per run")
    parser.add_argument("--out", default=None, help="markdown file to write (its numbers go to a .json beside it)")
    args, command = parse_command_line(parser)
    table = rows([(path, load_run(path)) for path in args.runs])
    summary = spread(table)
    lines = [f"Command: `{command}`", "",
             "| seed | threads | test HR@10 | test NDCG@10 | best epoch (of) |", "|---|---|---|---|---|"]
    lines += [f"| {r['seed']} | {r['threads']} | {r['hit@10']:.4f} | {r['ndcg@10']:.4f} | {r['best_epoch']} ({r['epochs']}) |"
              for r in table]
    lines += [f"| {name} over {len(table)} runs | | {v['hit@10']:.4f} | {v['ndcg@10']:.4f} | |" for name, v in summary.items()]
    write_report(lines, args.out, {"command": command, "runs": table, **summary})


if __name__ == "__main__":
    main()
