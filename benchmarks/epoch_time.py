"""Wall time of one training epoch in RecBole's prefix mode and in the plugin's efficient modes.

For each (model, train_mode, length_bucketing) it builds the dataset and trainer as the runner does and
times ``Trainer._train_epoch`` alone (no validation), reporting training samples, steps and seconds.

    python benchmarks/epoch_time.py --dataset=amazon-beauty --out=results/epoch_time_cpu.md
"""

import argparse
import json
import os
import platform
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from recbole_fame import Config, create_dataset, data_preparation, get_model, get_trainer  # noqa: E402

SETUPS = [
    ("SASRec", "prefix", False),
    ("FAME", "prefix", False),
    ("FAME", "prefix", True),
    ("FAME", "sequence", False),
    ("FAME", "sequence", True),
    ("SASRecSeq", "sequence", True),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="amazon-beauty")
    parser.add_argument("--setups", default=None, help="e.g. 'FAME:prefix:0,FAME:sequence:1'")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    setups = SETUPS if not args.setups else [
        (m, mode, bool(int(b))) for m, mode, b in (s.split(":") for s in args.setups.split(","))
    ]
    rows = []
    for model_name, mode, bucketing in setups:
        config = Config(model=model_name, dataset=args.dataset, config_dict={
            "train_mode": mode, "length_bucketing": bucketing, "state": "ERROR", "show_progress": False,
            "n_heads": 4 if model_name == "FAME" else 2, "num_experts": 4, "seed": 2020,
        })
        train_data, _, _ = data_preparation(config, create_dataset(config))
        torch.manual_seed(0)
        model = get_model(model_name)(config, train_data._dataset).to(config["device"])
        trainer = get_trainer(config["MODEL_TYPE"], model_name)(config, model)
        start = time.perf_counter()
        trainer._train_epoch(train_data, epoch_idx=0, show_progress=False)
        seconds = time.perf_counter() - start
        rows.append({"model": model_name, "train_mode": mode, "length_bucketing": bucketing,
                     "samples": len(train_data._dataset), "steps": len(train_data), "seconds": seconds})
        print(rows[-1], file=sys.stderr, flush=True)
    reference = rows[0]["seconds"]
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    lines = [f"# One training epoch on {args.dataset} ({device})", "",
             f"Command: `python benchmarks/epoch_time.py {' '.join(sys.argv[1:])}`", "",
             "| model | train_mode | length_bucketing | samples | steps | seconds | x first row |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['train_mode']} | {r['length_bucketing']} | {r['samples']:,} | {r['steps']} | "
                     f"{r['seconds']:.1f} | {r['seconds'] / reference:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
        with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
            json.dump({"device": device, "machine": platform.node(), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
