"""Achieved arithmetic rate of an efficient-mode training epoch against a plain matmul's rate, on one thread.

It trains one epoch (or --max_steps batches) of FAME (H=4, N=4) in the efficient mode (sequence mode, length
bucketing, 44 sequences per batch) as benchmarks/epoch_time.py does: zero_grad, forward, backward, Adam.
The epoch's batches are kept, and afterwards their forward + backward are run again under
``torch.utils.flop_counter.FlopCounterMode``, which counts the floating-point operations of the matrix products
(mm, addmm, bmm, ...: 2 per multiply-add; elementwise work such as softmax, LayerNorm and Adam is not counted).
achieved rate = counted FLOPs / seconds of the timed epoch. The reference is ``torch.mm`` on one thread:
square 1024 x 1024 products, and the shapes of the epoch's largest product (the scores of all positions against
all items, P x d x V, and its two backward products). ratio = achieved / square-matmul rate.

A torch.profiler trace of --profile_steps steps splits the step's time by operator, to say what limits it.

    python -m benchmarks.flop_rate --data_path=<folder with amazon-beauty/> --out=results/flop_rate_cpu.md
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.flop_rate")

import argparse
import os
import platform
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.common import add_efficient_mode_arguments, efficient_mode_settings, parse_command_line
from benchmarks.report import write_report
from recbole_fame import Config, create_dataset, data_preparation, get_model


def matmul_rate(m, k, n, seconds=2.0, transpose=None):
    """Best GFLOP/s of torch.mm([m, k], [k, n]) on the current thread count."""
    a, b = torch.randn(m, k), torch.randn(k, n)
    if transpose == "a":
        a = torch.randn(k, m).t()
    elif transpose == "b":
        b = torch.randn(n, k).t()
    out = torch.empty(m, n)
    torch.mm(a, b, out=out)
    best, spent = float("inf"), 0.0
    while spent < seconds:
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
    return 2.0 * m * k * n / best / 1e9


def train_step(model, optimizer, batch):
    optimizer.zero_grad(set_to_none=True)
    model.calculate_loss(batch).backward()
    optimizer.step()


def main():
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    add_efficient_mode_arguments(parser)
    parser.add_argument("--model", default="FAME")
    parser.add_argument("--max_steps", type=int, default=None)
    parser.add_argument("--profile_steps", type=int, default=100)
    parser.add_argument("--out", default=None)
    args, command = parse_command_line(parser)
    torch.set_num_threads(1)
    load_start = os.getloadavg()
    config = Config(model=args.model, dataset=args.dataset,
                    config_dict=dict(efficient_mode_settings(args.model, args), use_gpu=False))
    train_data, _, _ = data_preparation(config, create_dataset(config))
    torch.manual_seed(0)
    model = get_model(args.model)(config, train_data._dataset).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    square = matmul_rate(1024, 1024, 1024)

    batches, seconds = [], 0.0
    for batch in train_data:
        if len(batches) == args.max_steps:
            break
        start = time.perf_counter()
        train_step(model, optimizer, batch)
        seconds += time.perf_counter() - start
        batches.append(batch)

    counter = FlopCounterMode(display=False)
    positions = []
    with counter:
        for batch in batches:
            model.calculate_loss(batch).backward()
            lengths = batch[train_data._dataset.item_list_length_field]
            positions.append(int(lengths.sum()))
    optimizer.zero_grad(set_to_none=True)
    flops = counter.get_total_flops()
    by_op = {str(op): int(n) for op, n in counter.get_flop_counts().get("Global", {}).items()}
    mean_positions = sum(positions) / len(positions)
    d, items = config["hidden_size"], train_data._dataset.item_num
    p = int(round(mean_positions))
    score_rates = {  # the score product and its two backward products at the mean batch's P
        f"[{p},{d}]x[{d},{items}] (scores)": matmul_rate(p, d, items, transpose="b"),
        f"[{p},{items}]x[{items},{d}] (grad of the states)": matmul_rate(p, items, d),
        f"[{d},{p}]x[{p},{items}] (grad of the item table)": matmul_rate(d, p, items, transpose="a"),
    }
    achieved = flops / seconds / 1e9

    from torch.profiler import ProfilerActivity, profile

    steps = batches[: args.profile_steps]
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for batch in steps:
            train_step(model, optimizer, batch)
    events = prof.key_averages()
    total_self = sum(e.self_cpu_time_total for e in events)
    top = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:15]
    matmul_ops = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::addbmm"}
    matmul_share = sum(e.self_cpu_time_total for e in events if e.key in matmul_ops) / total_self
    profile_rows = [{"op": e.key, "self_share": e.self_cpu_time_total / total_self, "calls": e.count} for e in top]

    data = {
        "command": command, "model": args.model, "steps": len(batches), "seconds": seconds,
        "flops": flops, "flops_by_op": by_op, "achieved_gflops": achieved, "square_matmul_gflops": square,
        "score_product_gflops": score_rates, "ratio": achieved / square, "mean_positions_per_batch": mean_positions,
        "matmul_share_of_profiled_time": matmul_share, "profile_top": profile_rows,
        "profile_steps": len(steps), "load_average_start": load_start, "load_average_end": os.getloadavg(),
    }
    lines = [
        f"# Arithmetic rate of an efficient-mode {args.model} epoch on this CPU (one thread)",
        "",
        f"`{command}`",
        "",
        f"{platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread, a shared 2-core machine "
        f"(load average {load_start[0]:.1f} at the start, {data['load_average_end'][0]:.1f} at the end).",
        "",
        "| steps | seconds | counted GFLOP (fwd + bwd matmuls) | achieved GFLOP/s | plain matmul 1024^3 GFLOP/s | ratio |",
        "|---|---|---|---|---|---|",
        f"| {len(batches)} | {seconds:.1f} | {flops / 1e9:.0f} | {achieved:.1f} | {square:.1f} | **{achieved / square:.2f}** |",
        "",
        f"The epoch's matrix products at their own shapes (mean batch: {mean_positions:.0f} positions):",
        "",
        "| product | GFLOP/s |", "|---|---|",
        *[f"| {name} | {rate:.1f} |" for name, rate in score_rates.items()],
        "",
        "Counted FLOPs by operator: " + ", ".join(f"{op} {n / flops:.0%}" for op, n in sorted(by_op.items(), key=lambda x: -x[1])),
        "",
        f"Profile of {len(steps)} training steps, self CPU time by operator (matrix products: {matmul_share:.0%}):",
        "",
        "| operator | share | calls |", "|---|---|---|",
        *[f"| {r['op']} | {r['self_share']:.1%} | {r['calls']} |" for r in profile_rows],
    ]
    write_report(lines, args.out, data)


if __name__ == "__main__":
    main()
