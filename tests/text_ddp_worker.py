"""Two CPU processes pre-train FAMETextPretrain with the plugin's launcher path (gloo); each writes what it ends with.

Run by tests/test_text_pretrain_ddp.py as ``python tests/text_ddp_worker.py OUT_DIR PORT ENCODER_DIR``. Each
process is what ``run(..., nproc=2)`` starts (:func:`recbole_fame.quick_start.run_recbole_fames`), with the
trainer and the encoder watched so that the process can save its final parameters, results and report to
``OUT_DIR/rank<r>.pt``.
"""

import os
import sys
from pathlib import Path

import torch
import torch.multiprocessing as mp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def worker(rank, out_dir, port, encoder):
    import torch.distributed as dist

    from recbole_fame.errors import CheckpointError
    from recbole_fame.quick_start import run_recbole_fames
    from recbole_fame.text.encoder import TextEncoder
    from recbole_fame.trainer import FAMETextPretrainTrainer
    from tests.conftest import tiny_settings
    from tests.test_text_pretrain import text_settings

    torch.set_num_threads(1)
    seen = {"encoded": 0}
    original_encode, original_evaluate = TextEncoder.encode, FAMETextPretrainTrainer.evaluate

    def encode(self, texts):
        seen["encoded"] += 1
        return original_encode(self, texts)

    def evaluate(self, eval_data, *args, **kwargs):
        result = original_evaluate(self, eval_data, *args, **kwargs)
        if kwargs.get("load_best_model", True):  # the final test, after fit
            seen.update(state_dict={k: v.clone() for k, v in self.model.state_dict().items()}, result=dict(result),
                        report=self.report, visited=dict(self.visited_tasks), train_loss=dict(self.train_loss_dict),
                        best_valid_score=self.best_valid_score, best_valid_result=self.best_valid_result,
                        saved_model_file=self.saved_model_file, global_step=self.global_step)
            try:  # a checkpoint rank 0 cannot read: the error reaches every rank, none is left waiting
                self._load_best(os.path.join(out_dir, "no_such_checkpoint.safetensors"))
            except CheckpointError as error:
                seen["missing_checkpoint_error"] = str(error)
        return result

    original_train_epoch = FAMETextPretrainTrainer._train_epoch

    def train_epoch(self, *args, **kwargs):  # the parameters after each epoch's steps, before any reload
        loss = original_train_epoch(self, *args, **kwargs)
        seen.setdefault("epochs", []).append({k: v.clone() for k, v in self.model.state_dict().items()})
        return loss

    TextEncoder.encode, FAMETextPretrainTrainer.evaluate = encode, evaluate
    FAMETextPretrainTrainer._train_epoch = train_epoch
    folder = Path(out_dir)
    settings = text_settings(lambda **o: tiny_settings(folder, **o), encoder, n_heads=4, epochs=2,
                             pretrain_batch_size=8)
    # what run(..., nproc=2) adds before spawning; run_recbole_fames adds local_rank
    settings.update({"world_size": 2, "ip": "127.0.0.1", "port": port, "nproc": 2, "offset": 0})
    run_recbole_fames(rank, "FAMETextPretrain", "tiny", None, {"config_dict": settings, "queue": None, "saved": True})
    seen["process_group_destroyed"] = not dist.is_initialized()
    torch.save(seen, os.path.join(out_dir, f"rank{rank}.pt"))


if __name__ == "__main__":
    mp.spawn(worker, args=(sys.argv[1], sys.argv[2], sys.argv[3]), nprocs=2, join=True)
