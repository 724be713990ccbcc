"""FAME's cost against RecBole's SASRec at the same hidden size, on the same batches, in one process.

For SASRec with H heads and FAME with H heads and N experts (H in --heads, N in --experts) it measures:
training step time (forward, backward, Adam step) on real training batches, full-sort inference time per
1,000 users, parameter count, and memory: on CUDA the peak allocated memory of a training step; on CPU the
bytes autograd saves for the backward pass (the activations, which dominate a step's memory) plus parameters,
gradients and Adam state. Ratios are FAME / SASRec at the same H. Steps are timed interleaved (one SASRec
step, then one step of each FAME) and the median is reported, so slow phases of a shared machine hit all
models alike.

    python -m benchmarks.cost --dataset=amazon-beauty --out=results/cost_cpu.md
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.cost")

import argparse
import platform
import statistics
import sys
import time

import torch

from benchmarks.report import write_report
from recbole_fame import Config, create_dataset, data_preparation, get_model


def add_common_arguments(parser):
    """Dataset, model size, batches, device and output: shared with profile_cost.py."""
    parser.add_argument("--dataset", default="amazon-beauty")
    parser.add_argument("--data_path", default="dataset/")
    parser.add_argument("--hidden_size", type=int, default=64)
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--eval_users", type=int, default=1000)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", default=None, help="markdown file; a .json beside it gets the raw numbers")


def base_settings(args):
    """The settings every model of a comparison is built with (RecBole's SASRec defaults at --hidden_size)."""
    return {
        "dataset": args.dataset, "data_path": args.data_path, "train_batch_size": args.batch_size,
        "eval_batch_size": args.eval_users, "hidden_size": args.hidden_size, "inner_size": 4 * args.hidden_size,
        "n_layers": 2, "state": "ERROR", "show_progress": False, "device": args.device,
        "use_gpu": args.device.startswith("cuda"), "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
        "train_mode": "prefix",  # RecBole's prefix batches for every model (FAME's own default is the sequence mode)
    }


def parse_args():
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--heads", default="1,2,4,8")
    parser.add_argument("--experts", default="1,2,4,8")
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--infer_repeats", type=int, default=5, help="timed full-sort calls per model (median)")
    return parser.parse_args()


def build(model_name, dataset, base, **settings):
    config = Config(model=model_name, dataset=base["dataset"], config_dict=dict(base, **settings))
    torch.manual_seed(0)
    model = get_model(model_name)(config, dataset).to(base["device"])
    torch.autograd.set_detect_anomaly(False)  # RecBole's sine.py, imported with SASRec, switches it on
    return model, torch.optim.Adam(model.parameters(), lr=1e-3)


class SavedBytes:
    """Bytes of the distinct tensors autograd saves for backward during one forward pass."""

    def __init__(self):
        self.seen, self.total = set(), 0

    def pack(self, tensor):
        key = (tensor.untyped_storage().data_ptr(), tensor.untyped_storage().nbytes())
        if key not in self.seen:
            self.seen.add(key)
            self.total += key[1]
        return tensor

    def __call__(self):
        return torch.autograd.graph.saved_tensors_hooks(self.pack, lambda t: t)


def step(model, optimizer, batch):
    optimizer.zero_grad(set_to_none=True)
    loss = model.calculate_loss(batch)
    loss.backward()
    optimizer.step()


def memory_mb(model, optimizer, batch, device):
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        step(model, optimizer, batch)
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() / 2**20
    saved = SavedBytes()
    optimizer.zero_grad(set_to_none=True)
    with saved():
        loss = model.calculate_loss(batch)
    loss.backward()
    return (saved.total + 4 * params) / 2**20  # activations + weights, grads, Adam's two moments


def timed(fn, device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main():
    args = parse_args()
    base = base_settings(args)
    config = Config(model="SASRec", dataset=args.dataset, config_dict=base)
    train_data, _, test_data = data_preparation(config, create_dataset(config))
    dataset = train_data._dataset
    batches = []
    for batch in train_data:
        batches.append(batch.to(args.device))
        if len(batches) == args.warmup + args.steps:
            break
    eval_batch = next(iter(test_data))[0].to(args.device)  # (interaction, ...) of the first eval_users users
    users = len(eval_batch)

    heads = [int(h) for h in args.heads.split(",")]
    experts = [int(n) for n in args.experts.split(",")]
    rows = []
    for h in heads:
        models = {"SASRec": build("SASRec", dataset, base, n_heads=h)}
        for n in experts:
            models[f"FAME N={n}"] = build("FAME", dataset, base, n_heads=h, num_experts=n)
        times = {name: [] for name in models}
        for i, batch in enumerate(batches):  # interleaved
            for name, (model, optimizer) in models.items():
                model.train()
                elapsed = timed(lambda: step(model, optimizer, batch), args.device)
                if i >= args.warmup:
                    times[name].append(elapsed)
        infer = {name: [] for name in models}
        with torch.no_grad():
            for i in range(args.warmup + args.infer_repeats):
                for name, (model, _) in models.items():
                    model.eval()
                    elapsed = timed(lambda: model.full_sort_predict(eval_batch), args.device)
                    if i >= args.warmup:
                        infer[name].append(elapsed * 1000 / users)
        for name, (model, optimizer) in models.items():
            model.train()
            rows.append({
                "n_heads": h, "model": name,
                "num_experts": None if name == "SASRec" else int(name.split("=")[1]),
                "train_step_s": statistics.median(times[name]),
                "infer_s_per_1000_users": statistics.median(infer[name]),
                "params": sum(p.numel() for p in model.parameters()),
                "memory_mb": memory_mb(model, optimizer, batches[0], args.device),
            })
        print(f"H={h} done", file=sys.stderr)

    item_table = dataset.item_num * args.hidden_size
    by_h = {r["n_heads"]: r for r in rows if r["model"] == "SASRec"}
    for r in rows:
        ref = by_h[r["n_heads"]]
        r["train_ratio"] = r["train_step_s"] / ref["train_step_s"]
        r["infer_ratio"] = r["infer_s_per_1000_users"] / ref["infer_s_per_1000_users"]
        r["extra_params"] = r["params"] - ref["params"]
        r["memory_ratio"] = r["memory_mb"] / ref["memory_mb"]

    device_name = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
    memory_kind = "peak CUDA memory of a step" if args.device.startswith("cuda") else "saved activations + 4x params"
    lines = [
        f"# FAME vs SASRec cost on {args.dataset} ({device_name})",
        "",
        f"Command: `python -m benchmarks.cost {' '.join(sys.argv[1:])}`",
        "",
        f"hidden_size {args.hidden_size}, 2 layers, batch {args.batch_size}, MAX_ITEM_LIST_LENGTH 50, RecBole's prefix "
        f"training batches; median of {args.steps} interleaved steps; inference = median of {args.infer_repeats} "
        f"full_sort_predict calls over {dataset.item_num} items for {users} users. Item table: {item_table:,} parameters. Memory: {memory_kind}.",
        "",
        "| H | model | N | train step (ms) | x SASRec | inference (ms / 1000 users) | x SASRec | params | extra params | memory (MB) | x SASRec |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n_heads']} | {r['model'].split(' ')[0]} | {r['num_experts'] or '-'} | {1000 * r['train_step_s']:.1f} | "
            f"{r['train_ratio']:.2f} | {r['infer_s_per_1000_users'] * 1000:.1f} | {r['infer_ratio']:.2f} | "
            f"{r['params']:,} | {r['extra_params']:+,} | {r['memory_mb']:.1f} | {r['memory_ratio']:.2f} |"
        )
    write_report(lines, args.out, {"device": device_name, "args": vars(args), "rows": rows})


if __name__ == "__main__":
    main()
