"""eval_exclude_history: full-sort evaluation that hides every earlier item of the user (the S3-Rec lineage).

Checked against a brute-force ranking on a hand-built dataset whose scores are known: one user's first items
lie beyond MAX_ITEM_LIST_LENGTH of their test sample, one user's test target repeats an earlier item, and one
user's repeated test target is hidden with so many items that fewer than k are left to rank.
"""

import math

import numpy as np
import pytest
import torch
from recbole.model.abstract_recommender import SequentialRecommender
from recbole.trainer import Trainer
from recbole.utils import InputType

from recbole_fame import Config, create_dataset, data_preparation
from recbole_fame.data.history import HISTORY_LENGTH_FIELD
from recbole_fame.trainer import Trainer as PluginTrainer

N_ITEMS = 30
# user -> items in time order: u1's first items are far beyond a window of 3; u2's test target (i5) repeats
SEQUENCES = {
    "u1": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    "u2": [5, 11, 12, 13, 5],
    "u3": [20, 21, 22, 23, 24, 25],
    "u4": [3, 8, 13, 18, 23, 28, 29],
    "u5": [2, 4, 6, 8],
    # u6 has had 27 of the 30 items before its test target i3, a repeat: 3 items are left visible, fewer than k
    "u6": list(range(1, 28)) + [3],
}
for item in range(1, N_ITEMS + 1):  # every item at least once in training, so every token exists
    SEQUENCES.setdefault(f"filler{item % 6}", []).append(item)


@pytest.fixture
def hand_built(tmp_path):
    folder = tmp_path / "data" / "hand"
    folder.mkdir(parents=True)
    lines = ["user_id:token\titem_id:token\ttimestamp:float"]
    for user, items in SEQUENCES.items():
        lines += [f"{user}\ti{item}\t{1000 + t}" for t, item in enumerate(items)]
    (folder / "hand.inter").write_text("\n".join(lines) + "\n")
    return str(tmp_path / "data")


class KnownScores(SequentialRecommender):
    """Scores fixed per (user, item) by a seeded random table: the ranking can be computed by hand."""

    input_type = InputType.POINTWISE

    def __init__(self, config, dataset):
        super().__init__(config, dataset)
        self.table = torch.nn.Parameter(torch.randn(dataset.user_num, self.n_items,
                                                    generator=torch.Generator().manual_seed(7)))

    def full_sort_predict(self, interaction):
        return self.table[interaction[self.USER_ID]].detach().clone()


def brute_force(dataset, table, phase, exclude, ks=(5, 10)):
    """HR@k and NDCG@k from the raw sequences: the target ranks among all items but padding (and, with
    ``exclude``, every item the user had before it)."""
    hits = {k: [] for k in ks}
    ndcgs = {k: [] for k in ks}
    for user, items in SEQUENCES.items():
        if len(items) < 3:
            continue
        ids = [int(dataset.token2id(dataset.iid_field, f"i{i}")) for i in items]
        position = len(ids) - (2 if phase == "valid" else 1)
        target, before = ids[position], set(ids[:position])
        scores = table[int(dataset.token2id(dataset.uid_field, user))].clone()
        scores[0] = -math.inf
        if exclude:
            scores[list(before)] = -math.inf
        rank = int((scores > scores[target]).sum()) + 1
        missed = exclude and target in before
        for k in ks:
            hit = (not missed) and rank <= k
            hits[k].append(float(hit))
            ndcgs[k].append(1 / math.log2(rank + 1) if hit else 0.0)
    return {**{f"hit@{k}": np.mean(v) for k, v in hits.items()}, **{f"ndcg@{k}": np.mean(v) for k, v in ndcgs.items()}}


def settings_for(data_path, tmp_path, exclude, **overrides):
    return {
        "data_path": data_path, "checkpoint_dir": str(tmp_path / "saved"), "MAX_ITEM_LIST_LENGTH": 3,
        "eval_exclude_history": exclude, "topk": [5, 10], "metrics": ["Hit", "NDCG"], "valid_metric": "NDCG@10",
        "user_inter_num_interval": None, "item_inter_num_interval": None, "state": "ERROR", "show_progress": False,
        "use_gpu": False, "seed": 1, "eval_batch_size": 2, "loss_type": "CE", **overrides,
    }


@pytest.mark.parametrize("exclude", [False, True])
def test_full_sort_metrics_equal_a_brute_force_ranking(hand_built, tmp_path, exclude):
    config = Config(model=KnownScores, dataset="hand", config_dict=settings_for(hand_built, tmp_path, exclude))
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    model = KnownScores(config, train_data._dataset)
    trainer = Trainer(config, model)
    for phase, loader in (("valid", valid_data), ("test", test_data)):
        result = trainer.evaluate(loader, load_best_model=False)
        expected = brute_force(dataset, model.table.detach(), phase, exclude)
        for key, value in expected.items():
            assert result[key] == pytest.approx(value, abs=1e-4), (phase, key)


def test_the_repeated_target_is_a_miss_and_items_beyond_the_window_are_hidden(hand_built, tmp_path):
    config = Config(model=KnownScores, dataset="hand", config_dict=settings_for(hand_built, tmp_path, True))
    dataset = create_dataset(config)
    _, _, test_data = data_preparation(config, dataset)
    assert test_data.repeated_target_count() == 2  # u2's i5, u6's i3
    token = {int(dataset.token2id(dataset.iid_field, f"i{i}")): i for i in range(1, N_ITEMS + 1)}
    u1 = int(dataset.token2id(dataset.uid_field, "u1"))
    for batch, history_index, _, _ in test_data:
        rows = (batch[dataset.uid_field] == u1).nonzero().flatten()
        if len(rows):
            row = int(rows[0])
            hidden = {token[int(i)] for r, i in zip(*history_index) if int(r) == row}
            shown = {token[int(i)] for i in batch[dataset.item_id_list_field][row] if int(i)}
            assert shown == {7, 8, 9}  # a window of 3
            assert hidden == set(range(1, 10))  # the whole history before the test target i10
            break
    else:
        pytest.fail("u1 has no test sample")


def test_a_hidden_target_is_a_miss_when_fewer_than_k_items_are_left_visible(hand_built, tmp_path):
    """k = 30, every item: the top k reaches down among the hidden items of every user (u6 has only 3 items
    left visible), and u6's hidden test target is still a miss, as in the brute-force ranking."""
    config = Config(model=KnownScores, dataset="hand", config_dict=settings_for(
        hand_built, tmp_path, True, topk=[N_ITEMS], valid_metric=f"NDCG@{N_ITEMS}"))
    dataset = create_dataset(config)
    _, _, test_data = data_preparation(config, dataset)
    model = KnownScores(config, test_data._dataset)
    result = PluginTrainer(config, model).evaluate(test_data, load_best_model=False)
    expected = brute_force(dataset, model.table.detach(), "test", True, ks=(N_ITEMS,))
    assert expected[f"hit@{N_ITEMS}"] < 1  # u2's and u6's repeated targets are the misses
    for key, value in expected.items():
        assert result[key] == pytest.approx(value, abs=1e-4), key


def test_the_collector_counts_a_positive_scored_minus_infinity_a_miss(hand_built, tmp_path):
    """One row of 5 items ranked at k = 5: the hidden positive is in the top k; RecBole's collector counts it a
    hit, the plugin's a miss."""
    from recbole.evaluator import Collector as RecBoleCollector

    from recbole_fame.trainer.collector import Collector

    config = Config(model=KnownScores, dataset="hand", config_dict=settings_for(
        hand_built, tmp_path, True, topk=[5], valid_metric="NDCG@5"))
    scores = torch.tensor([[-math.inf, 0.5, -math.inf, 0.1, 0.3]])  # the padding item and item 2 hidden
    positive_u, positive_i = torch.tensor([0]), torch.tensor([2])
    for collector, hit in ((RecBoleCollector(config), 1), (Collector(config), 0)):
        collector.eval_batch_collect(scores.clone(), None, positive_u, positive_i)
        topk = collector.get_data_struct()["rec.topk"]
        assert topk[0, :-1].sum() == hit and topk[0, -1] == 1  # hits in the top 5, then the positives' count


@pytest.mark.parametrize("model, mode", [("SASRec", "prefix"), ("FAME", "sequence")])
def test_both_training_modes_hide_the_whole_history_of_every_evaluated_sample(settings, model, mode):
    """On the shipped tiny data: the hidden items of every validation and test sample are exactly the user's
    interactions before its target, in RecBole's prefix samples and in the sequence mode's windows."""
    config = Config(model=model, dataset="tiny", config_dict=settings(train_mode=mode, eval_exclude_history=True,
                                                                      MAX_ITEM_LIST_LENGTH=5))
    dataset = create_dataset(config)
    feat = dataset.inter_feat
    _, valid_data, test_data = data_preparation(config, dataset)
    # the raw sequences, in the order RecBole sorts them (user, then time)
    raw = dataset.user_history
    for loader in (valid_data, test_data):
        checked = 0
        for batch, (rows, items), _, positive_i in loader:
            for b in range(len(batch)):
                user, length = int(batch[dataset.uid_field][b]), int(batch[HISTORY_LENGTH_FIELD][b])
                sequence = raw.items[raw.user_offset[user]:raw.user_offset[user + 1]]
                assert sequence[length] == int(positive_i[b])  # the target follows exactly `length` items
                assert sorted(items[rows == b].tolist()) == sorted(sequence[:length].tolist())
                window = batch[dataset.item_id_list_field][b][: int(batch[dataset.item_list_length_field][b])]
                assert window.tolist() == sequence[:length][-len(window):].tolist()
                checked += 1
        assert checked == len(loader._dataset)
    assert len(feat) > 0


def test_recbole_protocol_hides_nothing_for_sequential_models(settings):
    config = Config(model="SASRec", dataset="tiny", config_dict=settings(eval_exclude_history=False))
    _, valid_data, _ = data_preparation(config, create_dataset(config))
    assert all(history_index is None for _, history_index, _, _ in valid_data)


def test_paper_datasets_default_to_the_paper_protocol():
    from recbole_fame.defaults import load_yaml, property_file

    for name in ("amazon-beauty", "amazon-sports-outdoors", "amazon-toys-games", "ml-20m"):
        assert load_yaml(property_file("dataset", name))["eval_exclude_history"] is True
    assert load_yaml(property_file("dataset", "ml-100k"))["eval_exclude_history"] is False
