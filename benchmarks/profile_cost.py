"""Where FAME's and SASRec's time goes: torch.profiler over full-sort inference and a training step.

For RecBole's SASRec with H heads and FAME with H heads and N experts (cost.py's models, on the same batches)
it profiles --repeats calls of each and reports per call: operators dispatched, kernels launched, time on the
host (Python, dispatcher, launches) and on the device, and the operators that take most of each. On a GPU,
a model whose host time exceeds its device time is launch-bound: its cost follows the number of operators,
not their arithmetic.

    python -m benchmarks.profile_cost --dataset=amazon-beauty --out=results/profile_gpu.md
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.profile_cost")

import argparse
import sys

import torch
from torch.profiler import ProfilerActivity, profile

from benchmarks.cost import add_common_arguments, base_settings, build, step
from benchmarks.report import write_report
from recbole_fame import Config, create_dataset, data_preparation


def parse_args():
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--experts", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--top", type=int, default=8, help="operators listed per model and phase")
    return parser.parse_args()


def profiled(fn, repeats, device):
    """Per-call operator count, kernel count, host and device time (ms), and the heaviest operators."""
    cuda = device.startswith("cuda")
    for _ in range(3):  # warm-up
        fn()
    if cuda:
        torch.cuda.synchronize()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        for _ in range(repeats):
            fn()
        if cuda:
            torch.cuda.synchronize()
    events = prof.events()
    # operators called from Python or from autograd's backward, not from inside another operator
    operators = [e for e in events if e.name.startswith("aten::")
                 and (e.cpu_parent is None or not e.cpu_parent.name.startswith("aten::"))]
    kernels = [e for e in events if e.device_type == torch.autograd.DeviceType.CUDA]
    host_ms = sum(e.time_range.elapsed_us() for e in operators) / 1000
    device_ms = sum(e.device_time for e in kernels) / 1000 if cuda else host_ms
    averages = prof.key_averages()
    key = "self_device_time_total" if cuda else "self_cpu_time_total"
    top = sorted((a for a in averages if a.key.startswith("aten::")), key=lambda a: getattr(a, key), reverse=True)
    dispatches = sum(e.name.startswith("aten::") for e in events)  # nested ones too: einsum's views and products
    return {
        "operators": len(operators) / repeats, "dispatches": dispatches / repeats, "kernels": len(kernels) / repeats,
        "host_ms": host_ms / repeats, "device_ms": device_ms / repeats,
        "top": [(a.key, a.count / repeats, getattr(a, key) / 1000 / repeats) for a in top[: args.top]],
    }


def main():
    base = base_settings(args)
    config = Config(model="SASRec", dataset=args.dataset, config_dict=base)
    train_data, _, test_data = data_preparation(config, create_dataset(config))
    batch = next(iter(train_data)).to(args.device)
    eval_batch = next(iter(test_data))[0].to(args.device)
    models = {
        f"SASRec H={args.heads}": build("SASRec", train_data._dataset, base, n_heads=args.heads),
        f"FAME H={args.heads} N={args.experts}": build("FAME", train_data._dataset, base, n_heads=args.heads,
                                                      num_experts=args.experts),
    }
    results = {}
    for name, (model, optimizer) in models.items():
        model.train()
        results[(name, "training step")] = profiled(lambda: step(model, optimizer, batch), args.repeats, args.device)
        model.eval()
        with torch.no_grad():
            results[(name, "full-sort inference")] = profiled(lambda: model.full_sort_predict(eval_batch),
                                                              args.repeats, args.device)

    device_name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "CPU"
    where = "device" if args.device.startswith("cuda") else "CPU"
    lines = [
        f"# Where the time goes: SASRec vs FAME on {args.dataset} ({device_name})",
        "",
        f"Command: `python -m benchmarks.profile_cost {' '.join(sys.argv[1:])}`",
        "",
        f"hidden_size {args.hidden_size}, batch {args.batch_size} (one of RecBole's prefix training batches), "
        f"full sort over all items for {len(eval_batch)} users; torch.profiler over {args.repeats} calls, per call. "
        "Operators: those called by the model or by autograd (not from inside another operator); aten calls: every "
        "operator dispatched, those inside others included (einsum's views and products); host time: the operators' time "
        "on the CPU (dispatcher, kernel launches; the Python between them not counted); device time: the kernels' time.",
        "",
        "| model | phase | operators | aten calls | kernels | host (ms) | device (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for (name, phase), r in results.items():
        lines.append(f"| {name} | {phase} | {r['operators']:.0f} | {r['dispatches']:.0f} | {r['kernels']:.0f} | {r['host_ms']:.2f} | "
                     f"{r['device_ms']:.2f} |")
    for (name, phase), r in results.items():
        lines += ["", f"{name}, {phase}: heaviest operators by self {where} time (calls, ms per call)", ""]
        lines += [f"- {op}: {count:.0f}, {ms:.3f}" for op, count, ms in r["top"]]
    data = {"device": device_name, "args": vars(args),
            "results": [dict(model=n, phase=p, **r) for (n, p), r in results.items()]}
    write_report(lines, args.out, data)


if __name__ == "__main__":
    args = parse_args()
    main()
