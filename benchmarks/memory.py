"""Peak memory of building the training data at ml-20m's scale, in RecBole's prefix mode and in the
plugin's sequence mode.

A synthetic dataset of the FAME paper's ML-20m shape (96,726 users, 16,297 items, 1,856,746 actions;
sequence lengths drawn around the real mean of 19.2, at least 5) is written to a temporary folder; then,
for each (train_mode, MAX_ITEM_LIST_LENGTH), a fresh process builds the dataset and dataloaders exactly as
the runner does and reports its peak resident memory (ru_maxrss) and the seconds it took.

    python -m benchmarks.memory --out=results/memory_ml20m_shape.md
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.memory")

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from benchmarks.report import write_report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # where the measuring processes run


def write_dataset(folder, users, items, actions, seed=0):
    rng = np.random.default_rng(seed)
    # 5 interactions each, the rest spread with a long tail (lognormal weights), summing to `actions`
    weights = rng.lognormal(mean=0.0, sigma=1.0, size=users)
    extra = np.floor(weights / weights.sum() * (actions - 5 * users)).astype(np.int64)
    extra[: actions - 5 * users - extra.sum()] += 1
    lengths = 5 + extra
    popularity = rng.zipf(1.3, size=lengths.sum()) % items + 1
    user = np.repeat(np.arange(1, users + 1), lengths)
    timestamp = np.arange(len(user))
    os.makedirs(os.path.join(folder, "synthetic-ml20m"), exist_ok=True)
    path = os.path.join(folder, "synthetic-ml20m", "synthetic-ml20m.inter")
    with open(path, "w") as f:
        f.write("user_id:token\titem_id:token\ttimestamp:float\n")
        np.savetxt(f, np.stack([user, popularity, timestamp], 1), fmt="%d", delimiter="\t")
    return int(lengths.sum())


def measure(data_path, mode, length):
    sys.argv = sys.argv[:1]
    from recbole_fame import Config, create_dataset, data_preparation

    start = time.time()
    config = Config(model="FAME", dataset="synthetic-ml20m", config_dict={
        "data_path": data_path, "train_mode": mode, "MAX_ITEM_LIST_LENGTH": length, "state": "ERROR",
        "user_inter_num_interval": None, "item_inter_num_interval": None,
    })
    train_data, _, _ = data_preparation(config, create_dataset(config))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"train_mode": mode, "MAX_ITEM_LIST_LENGTH": length, "train_samples": len(train_data._dataset),
                      "peak_rss_mb": peak_mb, "seconds": time.time() - start}))


def main():
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=96726)
    parser.add_argument("--items", type=int, default=16297)
    parser.add_argument("--actions", type=int, default=1856746)
    parser.add_argument("--lengths", default="50,200")
    parser.add_argument("--out", default=None)
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        return measure(args.measure[0], args.measure[1], int(args.measure[2]))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        actions = write_dataset(folder, args.users, args.items, args.actions)
        for length in (int(x) for x in args.lengths.split(",")):
            for mode in ("prefix", "sequence"):
                proc = subprocess.run([sys.executable, "-m", "benchmarks.memory", "--measure", folder, mode, str(length)],
                                      capture_output=True, text=True, cwd=ROOT)
                if proc.returncode != 0:
                    print(proc.stderr[-2000:], file=sys.stderr)
                    rows.append({"train_mode": mode, "MAX_ITEM_LIST_LENGTH": length, "error": proc.stderr.strip().splitlines()[-1]})
                    continue
                rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
                print(rows[-1], file=sys.stderr, flush=True)
    lines = [f"# Building the training data at ML-20m's scale ({args.users:,} users, {args.items:,} items, {actions:,} actions)",
             "", f"Command: `python -m benchmarks.memory {' '.join(sys.argv[1:])}`", "",
             "| MAX_ITEM_LIST_LENGTH | train_mode | training samples | peak memory (MB) | seconds |", "|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['MAX_ITEM_LIST_LENGTH']} | {r['train_mode']} | failed: {r['error']} | | |")
        else:
            lines.append(f"| {r['MAX_ITEM_LIST_LENGTH']} | {r['train_mode']} | {r['train_samples']:,} | {r['peak_rss_mb']:,.0f} | {r['seconds']:.0f} |")
    write_report(lines, args.out, rows)


if __name__ == "__main__":
    main()
