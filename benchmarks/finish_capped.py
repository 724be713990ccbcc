"""Record a compare.py run that was stopped before early stopping ended it (a session's time ran out).

Reads the run's job file (``<output>.job``, left by compare.py) and its last-epoch checkpoint
(``<best>-last.pth``), tests the best checkpoint so far on the test set, and writes the run's JSON in
compare.py's format with ``capped: true`` and a note: epochs trained, best epoch, best validation result.
The run is then a budget-capped run, not a converged one, and the tables say so through the note.

    python -m benchmarks.finish_capped results/beauty/modes/SASRecSeq__prefix_mode_-seed2020.json.job \\
        saved/beauty/SASRecSeq-Nov-29-2026_17-08-32-last.pth
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.finish_capped")

import argparse
import json
import os
import sys


def main():
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("job_file")
    parser.add_argument("last_checkpoint")
    args = parser.parse_args()
    sys.argv = [sys.argv[0]]
    import torch

    from recbole_fame import load_data_and_model
    from recbole_fame.storage.training_state import best_checkpoint_file
    from recbole_fame.runner.registry import get_trainer

    with open(args.job_file) as f:
        job = json.load(f)
    last = torch.load(args.last_checkpoint, map_location="cpu", weights_only=False)
    best_file = best_checkpoint_file(args.last_checkpoint)
    checkpoint_dir = os.path.dirname(best_file) or "."
    best = torch.load(best_file, map_location="cpu", weights_only=False)
    config, model, _, _, _, test_data = load_data_and_model(best_file, checkpoint_dir=checkpoint_dir)
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
    test_result = trainer.evaluate(test_data, load_best_model=False)
    # the last checkpoint holds the state after the last epoch whose successor started; the best one can be later
    epochs = max(last["epoch"], best["epoch"]) + 1
    # from compare.py's start (the job file) to the end of the last recorded epoch, validation included
    seconds_per_epoch = (os.path.getmtime(args.last_checkpoint) - os.path.getmtime(args.job_file)) / epochs
    on_gpu = torch.cuda.is_available() and job["settings"].get("use_gpu", True)
    record = dict(job, capped=True, device=torch.cuda.get_device_name() if on_gpu else "cpu",
                  note=f"stopped by the session's time limit after {epochs} epochs, before early stopping; "
                       f"test of the best checkpoint so far (epoch {best['epoch'] + 1})",
                  test_result={k: float(v) for k, v in test_result.items()},
                  best_valid_result={k: float(v) for k, v in last["best_valid_result"].items()},
                  epochs=epochs, best_epoch=best["epoch"], seconds_per_epoch=seconds_per_epoch,
                  parameters=sum(p.numel() for p in model.parameters() if p.requires_grad),
                  checkpoint=best_file)
    with open(job["output"], "w") as f:
        json.dump(record, f, indent=1)
    print(record["note"], record["test_result"])


if __name__ == "__main__":
    main()
