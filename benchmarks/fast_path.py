"""Seconds per efficient-mode epoch (training + one validation pass) with and without ``compile_model: True``.

For one model it builds the dataset once and, per setting of ``compile_model``, a fresh model and trainer as the
runner does; it trains --epochs epochs through ``Trainer._train_epoch`` and validates after each through
``Trainer.evaluate`` (sorted evaluation), synchronising the device around every timed part. The first epoch of a
compiled model pays the compilation; the last epoch is the steady state. Used by benchmarks/recipes/gpu_fast_path.sh.

    python -m benchmarks.fast_path --model=FAME --data_path=dataset/ --out=results/gpu_fast_path/FAME.md
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.fast_path")

import argparse
import platform
import time

import torch

from benchmarks.common import add_efficient_mode_arguments, efficient_mode_settings, parse_command_line
from benchmarks.report import write_report
from recbole_fame import Config, create_dataset, data_preparation, get_model, get_trainer


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class steps:
    """The first ``limit`` batches of ``loader`` (all with None), for RecBole's ``_train_epoch``."""

    def __init__(self, loader, limit):
        self.loader, self.limit = loader, limit

    def __len__(self):
        return len(self.loader) if self.limit is None else min(self.limit, len(self.loader))

    def __iter__(self):
        for index, batch in enumerate(self.loader):
            if index == len(self):
                break
            yield batch

    def __getattr__(self, name):
        return getattr(self.loader, name)


def main():
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="FAME")
    add_efficient_mode_arguments(parser)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--compile", default="False,True", help="settings of compile_model to time, in order")
    parser.add_argument("--max_steps", type=int, default=None, help="train only the first N batches of an epoch")
    parser.add_argument("--set", nargs="*", default=[], help="more settings, key=value (python literals)")
    parser.add_argument("--out", default=None)
    args, command = parse_command_line(parser)
    extra = {}
    for item in args.set:
        key, value = item.split("=", 1)
        try:
            extra[key] = eval(value, {}, {})  # noqa: S307 (the benchmark's own command line)
        except Exception:
            extra[key] = value
    runs = []
    base = dict(efficient_mode_settings(args.model, args), save_last_checkpoint=False, **extra)
    config = Config(model=args.model, dataset=args.dataset, config_dict=base)
    train_data, valid_data, _ = data_preparation(config, create_dataset(config))
    generators = [g for g in (getattr(train_data, "_epoch_generator", None), train_data.generator) if g is not None]
    generator_states = [g.get_state() for g in generators]
    for setting in (s.strip() == "True" for s in args.compile.split(",")):
        config["compile_model"] = setting
        for generator, state in zip(generators, generator_states):  # the same batches for every setting
            generator.set_state(state)
        torch.manual_seed(0)
        model = get_model(args.model)(config, train_data._dataset).to(config["device"])
        trainer = get_trainer(config["MODEL_TYPE"], args.model)(config, model)
        trainer.eval_collector.data_collect(train_data)
        device = config["device"]
        epochs = []
        for epoch in range(args.epochs):
            synchronize(device)
            start = time.perf_counter()
            loss = trainer._train_epoch(steps(train_data, args.max_steps), epoch, show_progress=False)
            synchronize(device)
            train_seconds = time.perf_counter() - start
            result = trainer.evaluate(valid_data, load_best_model=False)
            synchronize(device)
            valid_seconds = time.perf_counter() - start - train_seconds
            loss = float(sum(loss)) if isinstance(loss, tuple) else float(loss)
            epochs.append({"epoch": epoch, "train_seconds": train_seconds, "valid_seconds": valid_seconds,
                           "loss": loss, "valid": dict(result)})
            print(args.model, "compile_model", setting, epochs[-1], flush=True)
        runs.append({"compile_model": setting, "epochs": epochs})
        del model, trainer
    device_name = torch.cuda.get_device_name(config["device"]) if config["device"].type == "cuda" else platform.machine()
    lines = [f"# {args.model}, efficient mode on {args.dataset}: seconds per epoch with and without compile_model",
             "", f"`{command}`", "",
             f"{device_name}, torch {torch.__version__}, {args.train_batch_size} sequences per batch, "
             f"{len(train_data)} steps per epoch, {len(valid_data._dataset)} validation users.", "",
             "| compile_model | epoch | training (s) | validation (s) | loss | valid NDCG@10 |", "|---|---|---|---|---|---|"]
    for run in runs:
        for e in run["epochs"]:
            lines.append(f"| {run['compile_model']} | {e['epoch']} | {e['train_seconds']:.1f} | {e['valid_seconds']:.1f} | "
                         f"{e['loss']:.2f} | {e['valid'].get('ndcg@10', float('nan')):.4f} |")
    write_report(lines, args.out, {"command": command, "model": args.model, "device": device_name,
                                   "torch": torch.__version__, "runs": runs})


if __name__ == "__main__":
    main()
