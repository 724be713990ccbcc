"""Seconds per training epoch and per validation pass at ML-20m's shape, on this machine.

The synthetic dataset of benchmarks/memory.py (the FAME paper's ML-20m shape: 96,726 users, 16,297 items,
1,856,746 actions) is written to a temporary folder. For FAME (H=4, N=4, d=64, MAX_ITEM_LIST_LENGTH 50, the
headline command's defaults) it times, in one process on one thread:

* the prefix mode (RecBole's samples and shuffled loader, 256 samples per batch: the headline command as is),
* the efficient mode (``--train_mode=sequence --length_bucketing=True``, 256 sequences per batch),

each from --max_steps training steps after a first, untimed one (forward, backward, Adam; both loaders shuffle their batches, so
these are a random sample of the epoch's batches), extrapolated to the epoch's steps: an estimate, said so in
the report; and one whole validation pass through the trainer (length-sorted evaluation, the hidden-history
protocol that ml-20m's yaml sets).

    python -m benchmarks.ml20m_time --out=results/ml20m_time_cpu.md
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.ml20m_time")

import argparse
import os
import platform
import tempfile
import time

import torch

from benchmarks.common import parse_command_line
from benchmarks.memory import write_dataset
from benchmarks.report import write_report
from recbole_fame import Config, create_dataset, data_preparation, get_model, get_trainer

SETUPS = [("prefix", False, 256), ("sequence", True, 256)]


def main():
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="FAME")
    parser.add_argument("--max_steps", type=int, default=60)
    parser.add_argument("--users", type=int, default=96726)
    parser.add_argument("--items", type=int, default=16297)
    parser.add_argument("--actions", type=int, default=1856746)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=None)
    args, command = parse_command_line(parser)
    torch.set_num_threads(1)
    load_start = os.getloadavg()
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        actions = write_dataset(folder, args.users, args.items, args.actions)
        for mode, bucketing, batch_size in SETUPS:
            start = time.perf_counter()
            config = Config(model=args.model, dataset="synthetic-ml20m", config_dict={
                "data_path": folder, "train_mode": mode, "length_bucketing": bucketing, "train_batch_unit": "sequences", "state": "ERROR",
                "train_batch_size": batch_size, "show_progress": False, "seed": 2020,
                "use_gpu": args.device != "cpu", "n_heads": 4, "num_experts": 4,
                "user_inter_num_interval": None, "item_inter_num_interval": None,
                "eval_exclude_history": True, "save_last_checkpoint": False,
            })
            train_data, valid_data, _ = data_preparation(config, create_dataset(config))
            build_seconds = time.perf_counter() - start
            torch.manual_seed(0)
            model = get_model(args.model)(config, train_data._dataset).to(config["device"])
            trainer = get_trainer(config["MODEL_TYPE"], args.model)(config, model)
            model.train()
            steps, seconds = -1, 0.0  # the first step (warm-up) is not timed
            for batch in train_data:
                if steps == args.max_steps:
                    break
                tick = time.perf_counter()
                trainer.optimizer.zero_grad(set_to_none=True)
                model.calculate_loss(batch.to(config["device"])).backward()
                trainer.optimizer.step()
                if config["device"].type == "cuda":
                    torch.cuda.synchronize()
                seconds += (time.perf_counter() - tick) if steps >= 0 else 0.0
                steps += 1
            run = {"train_mode": mode, "length_bucketing": bucketing, "train_batch_size": batch_size,
                   "train_samples": len(train_data._dataset), "epoch_steps": len(train_data), "timed_steps": steps,
                   "timed_seconds": seconds, "epoch_seconds_estimate": seconds / steps * len(train_data),
                   "build_seconds": build_seconds}
            if mode == "sequence":  # the validation set is the same in both modes: one pass
                tick = time.perf_counter()
                result = trainer.evaluate(valid_data, load_best_model=False)
                run["valid_seconds"] = time.perf_counter() - tick
                run["valid_users"] = len(valid_data._dataset)
                run["valid_loader"] = type(valid_data).__name__
                run["valid_metrics"] = dict(result)
            runs.append(run)
            print(run, flush=True)
            del train_data, valid_data, model, trainer
    valid = next(r for r in runs if "valid_seconds" in r)
    lines = [
        f"# {args.model} at ML-20m's shape on this machine: seconds per training epoch and per validation pass",
        "",
        f"`{command}`",
        "",
        f"Synthetic data as benchmarks/memory.py builds it: {args.users:,} users, {args.items:,} items, {actions:,} "
        f"actions; {args.model} H=4, N=4, d=64, MAX_ITEM_LIST_LENGTH 50. {platform.processor() or platform.machine()}, "
        f"torch {torch.__version__}, device {args.device}, 1 thread, a shared 2-core machine (load average "
        f"{load_start[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end: on an idle core expect less).",
        "",
        f"Training: **estimated** from {args.max_steps} steps of each mode after an untimed first one (a random sample of the epoch's "
        "batches: both loaders shuffle them), times the epoch's steps.",
        "",
        "| training mode | batch | samples | steps per epoch | timed steps | s / step | s / epoch (estimate) |",
        "|---|---|---|---|---|---|---|",
        *[f"| {r['train_mode']}{', length bucketing' if r['length_bucketing'] else ''} | {r['train_batch_size']} | "
          f"{r['train_samples']:,} | {r['epoch_steps']} | {r['timed_steps']} | {r['timed_seconds'] / r['timed_steps']:.2f} | "
          f"{r['epoch_seconds_estimate']:.0f} |" for r in runs],
        "",
        f"Validation: one whole pass over {valid['valid_users']:,} users ({valid['valid_loader']}, all "
        f"{args.items:,} items ranked, earlier items hidden): **{valid['valid_seconds']:.0f} s**.",
    ]
    write_report(lines, args.out, {"command": command, "actions": actions, "runs": runs,
                                   "load_average_start": load_start, "load_average_end": os.getloadavg()})


if __name__ == "__main__":
    main()
