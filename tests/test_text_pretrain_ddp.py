"""FAMETextPretrain under RecBole's distributed training: two CPU processes (gloo) pre-train on the tiny fixture,
end with identical parameters, results and report, and write exactly one checkpoint and one text cache."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from recbole_fame.text import load_text_checkpoint
from recbole_fame.trainer.text_pretrain import shard_item_batches
from tests.test_text_pretrain import tiny_encoder  # noqa: F401  (a fixture)
from tests.conftest import HUNG_AFTER_SECONDS, free_ports


@pytest.mark.parametrize("n_items,batch_size,world_size", [(50, 8, 2), (50, 16, 3), (11, 4, 4), (50, 49, 2)])
def test_every_rank_takes_the_same_number_of_batches_of_one_shared_permutation(n_items, batch_size, world_size):
    shards = [shard_item_batches(n_items, batch_size, 7, rank, world_size) for rank in range(world_size)]
    batches = list(torch.split(torch.randperm(n_items - 1, generator=torch.Generator().manual_seed(7)) + 1, batch_size))
    steps = -(-len(batches) // world_size)
    assert all(len(shard) == steps for shard in shards)  # equal steps: the gradient all-reduce never waits
    for step in range(steps):  # rank r takes batches r, r + world_size, ..., wrapping around at the end
        for rank in range(world_size):
            assert torch.equal(shards[rank][step], batches[(step * world_size + rank) % len(batches)])
    seen = torch.cat([batch for shard in shards for batch in shard])
    assert set(seen.tolist()) == set(range(1, n_items))  # every real item is trained on, never the padding item
    assert not torch.equal(shard_item_batches(n_items, batch_size, 8, 0, world_size)[0], shards[0][0])  # per epoch


def stacked(state_dict, name):
    """The per-head parameters ``name.0``, ``name.1``, ... of a state dict as one [H, ...] tensor."""
    return torch.stack([state_dict[f"{name}.{h}"] for h in range(4)])


def test_two_cpu_processes_pretrain_and_end_with_identical_parameters(tmp_path, tiny_encoder):  # noqa: F811
    [port] = free_ports(1)
    worker = Path(__file__).resolve().parent / "text_ddp_worker.py"
    proc = subprocess.run([sys.executable, str(worker), str(tmp_path), port, tiny_encoder], capture_output=True,
                          text=True, timeout=HUNG_AFTER_SECONDS, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in (0, 1))

    # one W^(h) and b^(h) per head
    assert set(rank0["state_dict"]) == {f"{name}.{h}" for name in ("facet_projections", "facet_biases") for h in range(4)}
    assert len(rank0["epochs"]) == len(rank1["epochs"]) == 2
    # the ranks started from different seeds and trained on different batches: identical after every epoch
    # (gradients averaged at every step), and at the end (the best epoch, reloaded)
    for state0, state1 in zip(rank0["epochs"] + [rank0["state_dict"]], rank1["epochs"] + [rank1["state_dict"]]):
        for name, value in state0.items():
            torch.testing.assert_close(value, state1[name], rtol=0, atol=0, msg=name)
    assert not torch.equal(stacked(rank0["epochs"][0], "facet_projections"), stacked(rank0["epochs"][1], "facet_projections"))
    for key in ("result", "report", "visited", "train_loss", "best_valid_score", "best_valid_result",
                "saved_model_file", "global_step"):
        assert rank0[key] == rank1[key], key
    assert set(rank0["result"]) >= {"hit@10", "ndcg@10"}  # metrics gathered over both ranks' users
    # 50 items in batches of 8 = 7 batches, 4 steps per rank and epoch: the same head at each step on both ranks
    assert rank0["global_step"] == 8
    assert rank0["visited"] == {"genre@head1": 2, "brand@head2": 2, "identity@head3": 2, "identity@head4": 2}
    assert rank0["process_group_destroyed"] and rank1["process_group_destroyed"]
    assert "no_such_checkpoint" in rank0["missing_checkpoint_error"]
    assert rank0["missing_checkpoint_error"] == rank1["missing_checkpoint_error"]  # rank 0's error, raised on rank 1

    saved = tmp_path / "saved"
    checkpoints = sorted(saved.glob("*.safetensors"))
    assert checkpoints == [Path(rank0["saved_model_file"])]  # rank 0 alone wrote it, under rank 0's name
    assert {p.name for p in saved.iterdir() if p.is_file()} == {checkpoints[0].name,
                                                               checkpoints[0].with_suffix(".json").name}
    tensors, metadata = load_text_checkpoint(checkpoints[0])
    assert torch.equal(tensors["facet_projection"], stacked(rank0["state_dict"], "facet_projections"))
    assert torch.equal(tensors["facet_bias"], stacked(rank0["state_dict"], "facet_biases"))
    assert metadata["report"] == rank0["report"]

    assert len(list((saved / "text_cache").glob("text-*.safetensors"))) == 1
    assert not list((saved / "text_cache").glob(".*.tmp"))
    assert (rank0["encoded"], rank1["encoded"]) == (1, 0)  # rank 0 encoded and cached, rank 1 read the cache


def test_one_process_shuffles_and_steps_as_before(settings, tiny_encoder):  # noqa: F811
    """Without --nproc the trainer draws each epoch's permutation from torch's global random state, one batch
    per step over all the items, and never touches torch.distributed."""
    from recbole_fame import Config, create_dataset, data_preparation
    from recbole_fame.model.sequential_recommender.fametextpretrain import FAMETextPretrain
    from recbole_fame.trainer import FAMETextPretrainTrainer
    from tests.test_text_pretrain import text_settings

    config = Config(model="FAMETextPretrain", dataset="tiny",
                    config_dict=text_settings(settings, tiny_encoder, n_heads=4, pretrain_batch_size=8))
    train_data, _, _ = data_preparation(config, create_dataset(config))
    trainer = FAMETextPretrainTrainer(config, FAMETextPretrain(config, train_data._dataset))
    assert (trainer.distributed, trainer.rank, trainer.world_size) == (False, 0, 1)
    torch.manual_seed(5)
    batches = trainer._item_batches(3)
    torch.manual_seed(5)
    expected = list(torch.split(torch.randperm(50) + 1, 8))  # the 50 items of the .item file
    assert len(batches) == len(expected) == 7 and all(torch.equal(a, b) for a, b in zip(batches, expected))
    trainer.fit(train_data, None, saved=False)
    assert trainer.global_step == 7 * config["epochs"]
