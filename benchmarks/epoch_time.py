"""Wall time of one training epoch in RecBole's prefix mode and in the plugin's efficient modes.

For each (model, train_mode, length_bucketing, train_batch_size[, detect_anomaly]) it builds the dataset, model
and optimizer as the runner does and times one full pass over the training loader (or its first --max_steps
batches): forward, backward and Adam step of every batch (no validation), reporting training samples, steps
and seconds. The setups' steps are interleaved (one step of each in turn, until every loader is exhausted), so
a slow phase of a shared machine slows all of them alike. detect_anomaly (0 unless given) is autograd's anomaly
detection, which RecBole's sine.py leaves on and the plugin's trainers switch off (recbole_fame/trainer/trainer.py).

    python -m benchmarks.epoch_time --dataset=amazon-beauty --out=results/epoch_time_cpu.md
    python -m benchmarks.epoch_time --setups SASRec:prefix:0:256:1,SASRec:prefix:0:256:0 --max_steps=150
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.epoch_time")

import argparse
import platform
import sys
import time

import torch

from benchmarks.report import write_report
from recbole_fame import Config, create_dataset, data_preparation, get_model

# RecBole's prefix samples come 256 to a batch. In the sequence mode a batch of 44 Beauty sequences holds ~256
# targets (so an epoch makes as many updates as the prefix mode), one of 128 ~750.
SETUPS = [
    ("SASRec", "prefix", False, 256),
    ("SASRecSeq", "prefix", True, 256),
    ("SASRecSeq", "sequence", True, 44),
    ("SASRecSeq", "sequence", True, 128),
    ("FAME", "prefix", False, 256),
    ("FAME", "prefix", True, 256),
    ("FAME", "sequence", True, 44),
    ("FAME", "sequence", True, 128),
]


def main():
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="amazon-beauty")
    parser.add_argument("--data_path", default="dataset/")
    parser.add_argument("--setups", default=None, help="model:train_mode:length_bucketing:train_batch_size[:detect_anomaly],... "
                        "e.g. 'FAME:prefix:0:256,FAME:sequence:1:44'")
    parser.add_argument("--max_steps", type=int, default=None, help="time only the first N batches of each setup")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    setups = [(m, mode, b, size, False) for m, mode, b, size in SETUPS] if not args.setups else [
        (fields[0], fields[1], bool(int(fields[2])), int(fields[3]), len(fields) > 4 and bool(int(fields[4])))
        for fields in (s.split(":") for s in args.setups.split(","))
    ]
    runs = []
    for model_name, mode, bucketing, batch_size, anomaly in setups:
        config = Config(model=model_name, dataset=args.dataset, config_dict={
            "data_path": args.data_path, "train_mode": mode, "length_bucketing": bucketing, "state": "ERROR",
            "train_batch_size": batch_size, "train_batch_unit": "sequences",  # the sequence mode's batch in sequences
            "show_progress": False,
            "n_heads": 4 if model_name == "FAME" else 2, "num_experts": 4, "seed": 2020,
        })
        train_data, _, _ = data_preparation(config, create_dataset(config))
        torch.manual_seed(0)
        model = get_model(model_name)(config, train_data._dataset).to(config["device"]).train()
        runs.append({"model": model_name, "train_mode": mode, "length_bucketing": bucketing, "batch_size": batch_size,
                     "detect_anomaly": anomaly, "samples": len(train_data._dataset), "steps": len(train_data),
                     "timed_steps": 0, "seconds": 0.0,
                     "_state": (model, torch.optim.Adam(model.parameters(), lr=1e-3), iter(train_data))})
    active = list(runs)
    while active:
        for run in list(active):
            model, optimizer, batches = run["_state"]
            start = time.perf_counter()
            batch = next(batches, None) if run["timed_steps"] != args.max_steps else None
            if batch is None:
                active.remove(run)
                continue
            torch.autograd.set_detect_anomaly(run["detect_anomaly"])
            optimizer.zero_grad(set_to_none=True)
            model.calculate_loss(batch.to(next(model.parameters()).device)).backward()
            optimizer.step()
            if torch.cuda.is_available():
                torch.cuda.synchronize()  # the step's kernels, not only their launches
            run["seconds"] += time.perf_counter() - start
            run["timed_steps"] += 1
    rows = [{k: v for k, v in run.items() if k != "_state"} for run in runs]
    for row in rows:
        print(row, file=sys.stderr)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    write_report(report_lines(rows, args.dataset, device, args.max_steps, sys.argv[1:]), args.out,
                 {"device": device, "machine": platform.node(), "rows": rows})


def report_lines(rows, dataset, device, max_steps, argv):
    """The markdown table: with whole epochs timed, each setup's epoch against the first row's; with
    --max_steps, its time per step against the first row's."""
    whole_epochs = max_steps is None
    reference = rows[0]["seconds"] if whole_epochs else rows[0]["seconds"] / rows[0]["timed_steps"]
    span = "One training epoch" if whole_epochs else f"The first {max_steps} training steps of an epoch"
    lines = [f"# {span} on {dataset} ({device})", "",
             f"Command: `python -m benchmarks.epoch_time {' '.join(argv)}`", "",
             "| model | train_mode | length_bucketing | train_batch_size | detect_anomaly | samples | steps | timed steps "
             f"| seconds | s / step | {'epoch' if whole_epochs else 'step'} x first row's |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        per_step = r["seconds"] / r["timed_steps"]
        ratio = (r["seconds"] if whole_epochs else per_step) / reference
        lines.append(f"| {r['model']} | {r['train_mode']} | {r['length_bucketing']} | {r['batch_size']} | {r['detect_anomaly']} | "
                     f"{r['samples']:,} | {r['steps']} | {r['timed_steps']} | {r['seconds']:.1f} | {per_step:.3f} | "
                     f"{ratio:.2f} |")
    return lines


if __name__ == "__main__":
    main()
