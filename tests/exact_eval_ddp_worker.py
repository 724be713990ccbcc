"""WORLD CPU processes (gloo) evaluate trained models with full-sort evaluation; each writes what it evaluated.

Run by tests/test_sorted_eval.py as ``python tests/exact_eval_ddp_worker.py CASES_FILE WORLD``: the cases file
(``torch.save``) holds the settings of each case, the weights to load and a free port for its process group;
rank r writes, per case, the validation and test metrics and the samples it evaluated to
``<cases file>.rank<r>``.
"""

import sys
from pathlib import Path

import torch
import torch.multiprocessing as mp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def worker(rank, cases_file, world):
    import torch.distributed as dist

    from recbole_fame import Config, create_dataset, data_preparation, get_model, get_trainer

    torch.set_num_threads(1)
    out = {}
    for name, case in torch.load(cases_file).items():
        settings = dict(case["settings"], world_size=world, nproc=world, ip="127.0.0.1", port=case["port"],
                        offset=0, local_rank=rank)
        config = Config(model=case["model"], dataset=case["dataset"], config_dict=settings)
        train_data, valid_data, test_data = data_preparation(config, create_dataset(config))
        model = get_model(case["model"])(config, train_data._dataset)
        model.load_state_dict(case["state_dict"])
        trainer = get_trainer(config["MODEL_TYPE"], case["model"])(config, model)
        out[name] = {
            "type": type(test_data).__name__,
            "result": [dict(trainer.evaluate(loader, load_best_model=False)) for loader in (valid_data, test_data)],
            "rows": [list(getattr(loader, "evaluated_rows", [])) for loader in (valid_data, test_data)],
        }
        dist.barrier()  # every rank done with the last gather before any rank closes the group's connections
        dist.destroy_process_group()  # the next case's Config starts its own
    torch.save(out, f"{cases_file}.rank{rank}")


if __name__ == "__main__":
    mp.spawn(worker, args=(sys.argv[1], int(sys.argv[2])), nprocs=int(sys.argv[2]), join=True)
