"""Fixed runs whose metrics must not move when the way a run is assembled changes (tests/test_pipeline_reference.py).

FAME and SASRecSeq on RecBole's ml-100k, seed 2020, one epoch in the sequence mode, one thread, metrics to 12
decimals, through each entry point: FAME trained by ``run_recbole_fame`` under hidden history, SASRecSeq by
``objective_function`` (the tuning objective) under RecBole's protocol, and each checkpoint scored again by
``load_data_and_model`` under the other protocol. The numbers are only comparable on the machine kind and torch that
made them (float kernels differ between CPUs), so the reference records both.

    python -m tests.pipeline_reference       writes tests/pipeline_reference.json from this checkout's code
"""

import glob
import json
import os
import platform
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import torch

REFERENCE = Path(__file__).resolve().parent / "pipeline_reference.json"
SETTINGS = {"epochs": 1, "seed": 2020, "state": "ERROR", "show_progress": False, "use_gpu": False,
            "metric_decimal_place": 12, "checkpoint_dir": "saved", "train_mode": "sequence"}


def machine():
    """What the numbers depend on besides the code: torch, its CPU kernels, and the CPU (maker, family and model:
    the math libraries pick their code paths by them)."""
    cpu = {}
    if os.path.isfile("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if not line.strip():
                    break  # the first processor's fields
                key, _, value = line.partition(":")
                cpu.setdefault(key.strip(), value.strip())
    return {"torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "cpu_vendor": cpu.get("vendor_id", platform.processor()), "cpu_family": cpu.get("cpu family", ""),
            "cpu_model": cpu.get("model", "")}


@contextmanager
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def rescored(checkpoint, eval_exclude_history):
    """The checkpoint's test metrics from ``load_data_and_model`` under the given protocol."""
    from recbole_fame import load_data_and_model
    from recbole_fame.runner.registry import get_trainer

    config, model, _, _, _, test_data = load_data_and_model(
        checkpoint, config_dict={"eval_exclude_history": eval_exclude_history})
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
    return dict(trainer.evaluate(test_data, load_best_model=False))


def measure():
    """The metrics of the fixed runs, measured in the current folder (RecBole writes ./log and ./saved there)."""
    from recbole_fame import objective_function, run_recbole_fame

    with one_thread():
        fame = run_recbole_fame(model="FAME", dataset="ml-100k",
                                config_dict=dict(SETTINGS, eval_exclude_history=True))
        sasrec = objective_function(config_dict=dict(SETTINGS, model="SASRecSeq", dataset="ml-100k",
                                                     eval_exclude_history=False))
        [sasrec_checkpoint] = glob.glob(os.path.join("saved", "SASRecSeq-*.pth"))
        return {
            "FAME hidden (run_recbole_fame)": {"valid": dict(fame["best_valid_result"]),
                                               "test": dict(fame["test_result"])},
            "FAME kept (load_data_and_model)": {"test": rescored(fame["saved_model_file"], False)},
            "SASRecSeq kept (objective_function)": {"valid": dict(sasrec["best_valid_result"]),
                                                    "test": dict(sasrec["test_result"])},
            "SASRecSeq hidden (load_data_and_model)": {"test": rescored(sasrec_checkpoint, True)},
        }


def main():
    with tempfile.TemporaryDirectory() as folder:
        here = os.getcwd()
        os.chdir(folder)
        try:
            runs = measure()
        finally:
            os.chdir(here)
    REFERENCE.write_text(json.dumps({"machine": machine(), "runs": runs}, indent=1) + "\n")
    print(f"wrote {REFERENCE}", file=sys.stderr)


if __name__ == "__main__":
    main()
