"""Two CPU processes train FAME with RecBole's distributed trainer (gloo); each writes its parameters.

Run by tests/test_reliability.py as ``python tests/ddp_worker.py OUT_DIR PORT``.
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
    from tests.conftest import tiny_settings

    settings = tiny_settings(Path(out_dir), epochs=2)
    settings.update({"world_size": 2, "nproc": 2, "ip": "127.0.0.1", "port": port, "offset": 0, "local_rank": rank})
    config = Config(model="FAME", dataset="tiny", config_dict=settings)
    train_data, valid_data, test_data = data_preparation(config, create_dataset(config))
    torch.manual_seed(config["seed"] + rank)  # different initial weights per rank: DDP must sync them
    model = FAME(config, train_data._dataset)
    trainer = get_trainer(config["MODEL_TYPE"], "FAME")(config, model)
    trainer.fit(train_data, valid_data, saved=True, show_progress=False)
    result = trainer.evaluate(test_data, load_best_model=True)
    torch.save({"state_dict": model.state_dict(), "result": dict(result)}, os.path.join(out_dir, f"rank{rank}.pt"))
    dist.destroy_process_group()


if __name__ == "__main__":
    mp.spawn(worker, args=(sys.argv[1], sys.argv[2]), nprocs=2, join=True)
