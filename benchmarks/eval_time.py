"""Seconds per validation pass before and after the evaluation fast path, and its share of an efficient-mode epoch.

For each model (on Beauty: FAME H=4 N=4 and SASRecSeq with RecBole's 2 heads, in the efficient mode: sequence
mode, length bucketing, 44 sequences per batch) it times, in one process on one thread:

* one training epoch through the plugin's trainer (``Trainer._train_epoch``: forward, backward, Adam);
* validation passes through the trainer (``Trainer.evaluate``: scores, top-k, metrics) "before" and "after",
  interleaved (before, after, before, after, ...) so that a busy phase of a shared machine slows both alike:
  - before: the full-sort loader of before (RecBole's, in dataset order at full width; with the dataset's
    ``eval_exclude_history``, Beauty's default, the plugin's subclass of it that hides the history) and the
    model path of before the fast path: for SASRecSeq RecBole's ``SASRec`` with the same weights (Python gelu,
    every position of the last layer), for FAME the same model with RecBole's Python gelu put back in its
    lower layers;
    and RecBole's evaluation ``Collector``;
  - after: the plugin's length-sorted, trimmed loader (``sorted_evaluation: True``), the plugin's model and
    the plugin's trainer's collector (recbole_fame/trainer/collector.py: the same top-k result without a dense matrix);
  both must give the same metrics (checked here, and by tests/test_sorted_eval.py);
* the spread of sequence lengths within a batch of the length-bucketed training loader (one epoch's batches),
  against RecBole's shuffled batches, and the widths of the sorted evaluation batches.

With --profile, one "after" pass per model runs under torch.profiler and the top operators are reported.

    python -m benchmarks.eval_time --data_path=<folder with amazon-beauty/> --out=results/eval_time_cpu.md
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.eval_time")

import argparse
import copy
import os
import platform
import time

import numpy as np
import torch

from benchmarks.common import add_efficient_mode_arguments, efficient_mode_settings, parse_command_line
from benchmarks.report import write_report
from recbole.evaluator import Collector as RecBoleCollector
from recbole.model.layers import FeedForward
from recbole_fame import Config, create_dataset, data_preparation, get_model, get_trainer
from recbole_fame.data.sorted_eval import LengthSortedFullSortEvalDataLoader


def settings(model_name, args):
    return dict(efficient_mode_settings(model_name, args), use_gpu=False, sorted_evaluation=False,
                save_last_checkpoint=False)


def before_model(model_name, model, config, dataset):
    """The model path of before the fast path, with ``model``'s weights."""
    if model_name == "SASRecSeq":
        from recbole.model.sequential_recommender import SASRec

        before = SASRec(config, dataset)
        before.load_state_dict(model.state_dict())
    else:
        before = copy.deepcopy(model)
        for module in before.modules():
            if isinstance(module, FeedForward) and module.intermediate_act_fn is torch.nn.functional.gelu:
                module.intermediate_act_fn = module.gelu  # RecBole's Python gelu
    return before.eval()


def length_spread(batches_lengths):
    spread = np.array([lengths.max() - lengths.min() for lengths in batches_lengths])
    padded = sum(len(lengths) * lengths.max() for lengths in batches_lengths)
    return {
        "batches": len(spread), "spread_mean": float(spread.mean()), "spread_median": float(np.median(spread)),
        "spread_p90": float(np.percentile(spread, 90)), "spread_max": int(spread.max()),
        "padding_share": 1 - sum(lengths.sum() for lengths in batches_lengths) / padded,
    }


def spreads(train_data, valid_sorted, step):
    dataset = train_data._dataset
    field = dataset.item_list_length_field
    bucketed = [batch[field].numpy() for batch in train_data]  # one epoch of the bucketed loader
    lengths = dataset.inter_feat[field].numpy()
    perm = np.random.default_rng(0).permutation(len(lengths))
    shuffled = [lengths[perm[i:i + step]] for i in range(0, len(perm), step)]  # RecBole's shuffled batches
    widths = [int(batch[0][valid_sorted._dataset.item_id_list_field].shape[1]) for batch in valid_sorted]
    return {"bucketed": length_spread(bucketed), "shuffled": length_spread(shuffled), "eval_widths": widths}


def timed_evaluate(trainer, data):
    start = time.perf_counter()
    result = trainer.evaluate(data, load_best_model=False)
    return time.perf_counter() - start, dict(result)


def profile(trainer, data, rows=12):
    from torch.profiler import ProfilerActivity, profile as torch_profile

    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        trainer.evaluate(data, load_best_model=False)
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)
    return table


def main():
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    add_efficient_mode_arguments(parser)
    parser.add_argument("--models", default="SASRecSeq,FAME")
    parser.add_argument("--repeats", type=int, default=2, help="before/after pairs per model")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--out", default=None)
    args, command = parse_command_line(parser)
    torch.set_num_threads(1)
    load_start = os.getloadavg()
    runs, profiles = [], {}
    for model_name in args.models.split(","):
        config = Config(model=model_name, dataset=args.dataset, config_dict=settings(model_name, args))
        train_data, valid_data, _ = data_preparation(config, create_dataset(config))
        valid_sorted = LengthSortedFullSortEvalDataLoader(  # the same loader, history hiding included, sorted
            config, valid_data._dataset, valid_data._sampler, history=getattr(valid_data, "history", None))
        torch.manual_seed(0)
        model = get_model(model_name)(config, train_data._dataset)
        trainer = get_trainer(config["MODEL_TYPE"], model_name)(config, model)
        trainer.eval_collector.data_collect(train_data)
        start = time.perf_counter()
        trainer._train_epoch(train_data, 0, show_progress=False)
        train_seconds = time.perf_counter() - start
        before_trainer = get_trainer(config["MODEL_TYPE"], model_name)(config, before_model(model_name, model, config,
                                                                                              train_data._dataset))
        before_trainer.eval_collector = RecBoleCollector(config)  # the plugin's cheaper top-k is "after"
        before_trainer.eval_collector.data_collect(train_data)
        before, after, results = [], [], set()
        for _ in range(args.repeats):
            seconds, result = timed_evaluate(before_trainer, valid_data)
            before.append(seconds)
            results.add(tuple(result.items()))
            seconds, result = timed_evaluate(trainer, valid_sorted)
            after.append(seconds)
            results.add(tuple(result.items()))
        if args.profile:
            profiles[model_name] = profile(trainer, valid_sorted)
        run = {
            "model": model_name, "n_heads": config["n_heads"], "users": len(valid_data._dataset),
            "eval_batch_size": config["eval_batch_size"], "eval_exclude_history": bool(config["eval_exclude_history"]),
            "train_steps": len(train_data),
            "train_epoch_seconds": train_seconds, "valid_before_seconds": before, "valid_after_seconds": after,
            "same_metrics": len(results) == 1, "metrics": dict(next(iter(results))),
            "spread": spreads(train_data, valid_sorted, config["train_batch_size"]),
        }
        run["speedup"] = min(before) / min(after)
        run["share_before"] = min(before) / (train_seconds + min(before))
        run["share_after"] = min(after) / (train_seconds + min(after))
        runs.append(run)
        print(run, flush=True)

    lines = [
        "# Seconds per validation pass on Beauty, before and after the evaluation fast path (CPU, one thread)",
        "",
        f"`{command}`",
        "",
        f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} thread; "
        f"a shared 2-core machine (load average {load_start[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end): "
        "before and after passes interleaved, the best of each reported, every pass in the JSON. "
        f"Protocol: eval_exclude_history {bool(config['eval_exclude_history'])}. Before: the unsorted loader (dataset order, full width) and the model path of before (RecBole's Python gelu; "
        "SASRecSeq: RecBole's SASRec, all positions of the last layer) and RecBole's evaluation collector. After: "
        "`sorted_evaluation: True`, the plugin's models (fused gelu, the last layer only at the scored position) and "
        "the plugin's collector (the same top-k result without RecBole's dense positive-item matrix).",
        "",
        "| model | users | validation before (s) | after (s) | speedup | training epoch (s) | validation share of an epoch, before | after | same metrics |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r['model']} (H={r['n_heads']}) | {r['users']} | {min(r['valid_before_seconds']):.1f} | "
            f"{min(r['valid_after_seconds']):.1f} | {r['speedup']:.1f}x | {r['train_epoch_seconds']:.1f} | "
            f"{100 * r['share_before']:.0f}% | {100 * r['share_after']:.0f}% | {'yes' if r['same_metrics'] else 'NO'} |")
    lines += ["", "Lengths within a training batch (one epoch; spread = longest - shortest; padding share = padded "
              "positions / all positions):", "",
              "| model | loader | batches | spread mean | median | p90 | max | padding share |", "|---|---|---|---|---|---|---|---|"]
    for r in runs:
        for name, s in (("length-bucketed", r["spread"]["bucketed"]), ("RecBole's shuffled", r["spread"]["shuffled"])):
            lines.append(f"| {r['model']} | {name} | {s['batches']} | {s['spread_mean']:.1f} | {s['spread_median']:.0f} | "
                         f"{s['spread_p90']:.0f} | {s['spread_max']} | {100 * s['padding_share']:.0f}% |")
    lines += ["", "Widths of the sorted evaluation batches: " + "; ".join(
        f"{r['model']} {r['spread']['eval_widths']}" for r in runs) + "."]
    for model_name, table in profiles.items():
        lines += ["", f"Profile of one 'after' pass, {model_name}:", "", "```", table, "```"]
    write_report(lines, args.out, {"command": command,
                                   "load_average_start": load_start, "runs": runs, "profiles": profiles})


if __name__ == "__main__":
    main()
