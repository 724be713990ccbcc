"""Two CPU processes (gloo) evaluate one FAME with the unsorted full-sort loader and with the length-sorted one,
under the hidden-history protocol (eval_exclude_history).

Run by tests/test_sorted_eval.py as ``python tests/sorted_eval_ddp_worker.py OUT_DIR PORT``; each rank writes
the users it evaluated and the gathered metrics of both loaders.
"""

import os
import sys
from pathlib import Path

import torch
import torch.multiprocessing as mp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def worker(rank, out_dir, port):
    import torch.distributed as dist

    from recbole_fame import Config, FAME, create_dataset, data_preparation, get_trainer
    from recbole_fame.data.eval_dataloader import FullSortEvalDataLoader
    from recbole_fame.data.sorted_eval import LengthSortedFullSortEvalDataLoader
    from tests.conftest import tiny_settings

    torch.set_num_threads(1)
    settings = tiny_settings(Path(out_dir), epochs=1, eval_batch_size=16, eval_exclude_history=True)
    settings.update({"world_size": 2, "nproc": 2, "ip": "127.0.0.1", "port": port, "offset": 0, "local_rank": rank})
    config = Config(model="FAME", dataset="tiny", config_dict=settings)
    train_data, valid_data, test_data = data_preparation(config, create_dataset(config))
    loaders = {True: test_data,
               False: FullSortEvalDataLoader(config, test_data._dataset, test_data._sampler, history=test_data.history)}
    model = FAME(config, train_data._dataset)
    trainer = get_trainer(config["MODEL_TYPE"], "FAME")(config, model)
    trainer.fit(train_data, None, saved=False, show_progress=False)
    uid = test_data._dataset.uid_field
    out = {"type": type(test_data).__name__, "hides_history": test_data.history is not None, "users": {}, "users_in_order": {}, "result": {}}
    for sort, loader in loaders.items():
        order = [u for batch in loader for u in batch[0][uid].tolist()]
        out["users_in_order"][sort] = order
        out["users"][sort] = sorted(order)
        out["result"][sort] = dict(trainer.evaluate(loader, load_best_model=False))
    assert isinstance(loaders[True], LengthSortedFullSortEvalDataLoader)
    torch.save(out, os.path.join(out_dir, f"rank{rank}.pt"))
    dist.destroy_process_group()


if __name__ == "__main__":
    mp.spawn(worker, args=(sys.argv[1], sys.argv[2]), nprocs=2, join=True)
