"""The spread of sequence lengths within the training batches of one epoch on a dataset, for the length-bucketed
loader and for RecBole's shuffled batches of the same size (no model is trained: only the loader runs).

    python -m benchmarks.bucket_spread --dataset=amazon-beauty --out=results/bucket_spread_cpu.md
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.bucket_spread")

import argparse
import json
import os

import numpy as np

from benchmarks.common import parse_command_line
from benchmarks.eval_time import length_spread


def main():
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="amazon-beauty")
    parser.add_argument("--data_path", default="dataset/")
    parser.add_argument("--train_batch_size", type=int, default=256, help="training targets per batch")
    parser.add_argument("--out", default=None)
    args, command = parse_command_line(parser)
    from recbole_fame import Config, create_dataset, data_preparation

    rows = []
    for mode in ("sequence", "prefix"):
        config = Config(model="SASRecSeq", dataset=args.dataset, config_dict={
            "data_path": args.data_path, "train_mode": mode, "length_bucketing": True, "state": "ERROR",
            "train_batch_size": args.train_batch_size, "show_progress": False, "seed": 2020, "use_gpu": False,
            "save_last_checkpoint": False})
        train_data, _, _ = data_preparation(config, create_dataset(config))
        field = train_data._dataset.item_list_length_field
        bucketed = [batch[field].numpy() for batch in train_data]
        lengths = train_data._dataset.inter_feat[field].numpy()
        step = len(bucketed[0])
        perm = np.random.default_rng(0).permutation(len(lengths))
        shuffled = [lengths[perm[i:i + step]] for i in range(0, len(perm), step)]
        rows.append((mode, step, "length-bucketed", length_spread(bucketed)))
        rows.append((mode, step, "RecBole's shuffled", length_spread(shuffled)))
    lines = [f"# Lengths within a training batch, {args.dataset}, one epoch", "", f"`{command}`", "",
             "Spread = longest - shortest sequence of a batch; padding share = padded positions / all positions.", "",
             "| train_mode | samples per batch | loader | batches | spread mean | median | p90 | max | padding share |",
             "|---|---|---|---|---|---|---|---|---|"]
    for mode, step, loader, s in rows:
        lines.append(f"| {mode} | {step} | {loader} | {s['batches']} | {s['spread_mean']:.1f} | {s['spread_median']:.0f} "
                     f"| {s['spread_p90']:.0f} | {s['spread_max']} | {s['padding_share']:.0%} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
        with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
            json.dump([{"train_mode": m, "batch": b, "loader": l, **s} for m, b, l, s in rows], f, indent=1)


if __name__ == "__main__":
    main()
