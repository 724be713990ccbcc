"""Full-sort evaluation in batches sorted by history length and trimmed: the same metrics as RecBole's loader,
for every user the same rank of its positive item; and in several processes exactly one process's metrics."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from recbole.data.dataloader import FullSortEvalDataLoader

from recbole_fame import Config, create_dataset, data_preparation, get_model, get_trainer
from recbole_fame.data.eval_dataloader import FullSortEvalDataLoader as PluginFullSortEvalDataLoader
from recbole_fame.data.sorted_eval import LengthSortedFullSortEvalDataLoader
from tests.conftest import HUNG_AFTER_SECONDS, TEST_DATA, free_ports, seed_everything, tiny_settings


def prepare(settings, model, **overrides):
    config = Config(model=model, dataset="tiny", config_dict=settings(**overrides))
    return config, data_preparation(config, create_dataset(config))


def positive_ranks(model, loader):
    """{user id: rank of the positive item among all items} as RecBole's full-sort evaluation scores them."""
    ranks = {}
    uid_field = loader._dataset.uid_field
    with torch.no_grad():
        for interaction, history, positive_u, positive_i in loader:
            scores = model.full_sort_predict(interaction).view(len(interaction), -1)
            scores[:, 0] = -np.inf
            if history is not None:
                scores[history] = -np.inf
            positive = scores[positive_u, positive_i]
            rank = (scores > positive.unsqueeze(1)).sum(1)
            for user, r in zip(interaction[uid_field].tolist(), rank.tolist()):
                assert user not in ranks
                ranks[user] = r
    return ranks


@pytest.mark.parametrize("model_name, exclude_history", [
    ("FAME", False), ("FAME", True), ("SASRecSeq", False), ("SASRecSeq", True), ("SASRec", False), ("SASRec", True),
    ("GRU4Rec", False),
])
def test_sorted_evaluation_gives_recbole_metrics(settings, model_name, exclude_history):
    """The same metrics and per-user ranks, under RecBole's protocol and the hidden-history one."""
    results, ranks, widths = {}, {}, {}
    for sort in (False, True):
        config, (train_data, valid_data, test_data) = prepare(settings, model_name, sorted_evaluation=sort,
                                                              loss_type="CE", eval_batch_size=16,
                                                              eval_exclude_history=exclude_history)
        expected = LengthSortedFullSortEvalDataLoader if sort else (
            PluginFullSortEvalDataLoader if exclude_history else FullSortEvalDataLoader)
        assert type(valid_data) is expected
        if type(valid_data) is not FullSortEvalDataLoader:
            assert (valid_data.history is not None) == exclude_history
        torch.manual_seed(0)
        model = get_model(model_name)(config, train_data._dataset)
        trainer = get_trainer(config["MODEL_TYPE"], model_name)(config, model)
        trainer.fit(train_data, None, saved=False)  # two epochs, same seed: same weights
        results[sort] = [dict(trainer.evaluate(data, load_best_model=False)) for data in (valid_data, test_data)]
        model.eval()
        ranks[sort] = [positive_ranks(model, data) for data in (valid_data, test_data)]
        widths[sort] = [batch[0][valid_data._dataset.item_id_list_field].shape[1] for batch in valid_data]
    assert results[True] == results[False]
    assert ranks[True] == ranks[False]
    assert max(widths[False]) == min(widths[False]) == config["MAX_ITEM_LIST_LENGTH"]
    assert widths[True] == sorted(widths[True]) and widths[True][0] < config["MAX_ITEM_LIST_LENGTH"]


def test_sorted_batches_hold_every_user_once_shortest_first(settings):
    config, (_, valid_data, _) = prepare(settings, "FAME", eval_batch_size=16)
    dataset = valid_data._dataset
    users, lengths = [], []
    for interaction, _, positive_u, positive_i in valid_data:
        longest = int(interaction[dataset.item_list_length_field].max())
        assert interaction[dataset.item_id_list_field].shape[1] == longest
        users += interaction[dataset.uid_field].tolist()
        lengths += interaction[dataset.item_list_length_field].tolist()
        assert torch.equal(positive_i, interaction[dataset.iid_field]) and torch.equal(positive_u, torch.arange(len(interaction)))
    assert sorted(users) == sorted(dataset.inter_feat[dataset.uid_field].tolist()) and len(set(users)) == len(users)
    assert lengths == sorted(lengths)


@pytest.mark.parametrize("overrides", [{"model": "FEARec"}, {"model": "FAME", "sorted_evaluation": False}])
def test_models_that_read_the_padding_keep_recbole_evaluation(settings, overrides):
    _, (_, valid_data, test_data) = prepare(settings, overrides.pop("model"), **overrides)
    assert type(valid_data) is FullSortEvalDataLoader and type(test_data) is FullSortEvalDataLoader
    _, (_, valid_data, _) = prepare(settings, "FEARec", eval_exclude_history=True)
    assert type(valid_data) is PluginFullSortEvalDataLoader and valid_data.history is not None


# full-sort evaluation in several processes: (model, settings) of each case
EXACT_CASES = {
    "sorted, hidden history": ("FAME", {"eval_exclude_history": True, "eval_batch_size": 8}),
    "RecBole's loader": ("FAME", {"sorted_evaluation": False, "eval_batch_size": 8,
                                  "metrics": ["Hit", "NDCG", "MRR", "ShannonEntropy"]}),  # rec.items too
    "one batch in all": ("FAME", {"eval_batch_size": 256}),  # the other processes evaluate nothing
    "general model": ("BPR", {"eval_batch_size": 7 * 51}),  # 7 users of 51 items a batch
}


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    """Each case trained and evaluated in this process, on the tiny fixture less one user: 79 users, a multiple
    of neither 2 nor 3. One thread, as each worker process evaluates."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _trained_and_evaluated(tmp_path_factory.mktemp("exact"))
    finally:
        torch.set_num_threads(threads)


def _trained_and_evaluated(folder):
    (folder / "odd").mkdir()
    lines = (TEST_DATA / "tiny" / "tiny.inter").read_text().splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if line.split("\t")[0] != "u80"]
    (folder / "odd" / "odd.inter").write_text("\n".join(kept) + "\n")
    cases, results = {}, {}
    for name, (model_name, overrides) in EXACT_CASES.items():
        settings = tiny_settings(folder, data_path=str(folder), epochs=1, **overrides)
        config = Config(model=model_name, dataset="odd", config_dict=settings)
        train_data, valid_data, test_data = data_preparation(config, create_dataset(config))
        assert train_data._dataset.user_num - 1 == 79
        torch.manual_seed(0)
        model = get_model(model_name)(config, train_data._dataset)
        trainer = get_trainer(config["MODEL_TYPE"], model_name)(config, model)
        trainer.fit(train_data, None, saved=False)
        results[name] = [dict(trainer.evaluate(loader, load_best_model=False)) for loader in (valid_data, test_data)]
        cases[name] = {"model": model_name, "dataset": "odd", "settings": settings, "state_dict": model.state_dict()}
    return cases, results


@pytest.mark.parametrize("world", [2, 3])
def test_several_processes_give_exactly_one_process_metrics(one_process, tmp_path, world):
    """2 and 3 processes (gloo) evaluate the same weights: every sample once, in whole batches of one process's
    order, and the metrics, gathered over the processes, equal one process's to the last digit (RecBole's loader
    padded 79 users to 80 or 81, and its trainer averaged each process's rounded metrics)."""
    cases, expected = one_process
    cases_file = tmp_path / "cases.pt"
    ports = free_ports(len(cases))
    torch.save({name: dict(case, port=port) for (name, case), port in zip(cases.items(), ports)}, cases_file)
    worker = Path(__file__).resolve().parent / "exact_eval_ddp_worker.py"
    proc = subprocess.run([sys.executable, str(worker), str(cases_file), str(world)], capture_output=True, text=True,
                          timeout=HUNG_AFTER_SECONDS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [torch.load(f"{cases_file}.rank{r}", weights_only=False) for r in range(world)]  # numpy floats
    for name in cases:
        for rank in ranks:
            assert rank[name]["result"] == expected[name], (name, world)
        for phase in (0, 1):
            rows = [row for rank in ranks for row in rank[name]["rows"][phase]]
            assert sorted(rows) == list(range(len(rows))), (name, phase)  # every sample once, none twice
    assert ranks[0]["sorted, hidden history"]["type"] == "LengthSortedFullSortEvalDataLoader"
    assert ranks[0]["RecBole's loader"]["type"] == ranks[0]["general model"]["type"] == "FullSortEvalDataLoader"
    assert not any(ranks[r]["one batch in all"]["rows"][1] for r in range(1, world))


@pytest.mark.parametrize("metrics", [["Hit", "NDCG"], ["Hit", "NDCG", "MRR", "Recall", "Precision", "MAP", "GAUC"]])
def test_the_plugin_collector_collects_what_recbole_collects(settings, metrics):
    """recbole_fame.trainer.collector.Collector: the same rec.topk (and rec.items) as RecBole's for one positive per row,
    RecBole's own code for several; the trainer uses it."""
    from recbole.evaluator import Collector as RecBoleCollector

    from recbole_fame.trainer.collector import Collector

    seed_everything()  # the initial weights and any other draw: not left to the tests that ran before
    config, (train_data, valid_data, _) = prepare(settings, "FAME", metrics=metrics, eval_batch_size=16)
    trainer = get_trainer(config["MODEL_TYPE"], "FAME")(config, get_model("FAME")(config, train_data._dataset))
    assert type(trainer.eval_collector) is Collector
    ours, recbole = Collector(config), RecBoleCollector(config)
    for collector in (ours, recbole):
        setattr(collector.register, "rec.items", True)  # what ItemCoverage and the like read
    torch.manual_seed(0)
    items = valid_data._dataset.item_num
    for batch in valid_data:
        interaction, _, positive_u, positive_i = batch
        scores = torch.randn(len(interaction), items).round(decimals=1)  # many ties
        scores[:, 0] = -np.inf
        scores[torch.arange(len(interaction)), torch.randint(1, items, (len(interaction),))] = -np.inf
        for collector in (ours, recbole):
            collector.eval_batch_collect(scores.clone(), interaction, positive_u, positive_i)
    # several positives per row (a general model's batch): RecBole's code
    several_u, several_i = torch.tensor([0, 0, 1, 2, 2, 2]), torch.tensor([1, 2, 3, 4, 5, 6])
    scores = torch.randn(3, items)
    for collector in (ours, recbole):
        collector.eval_batch_collect(scores.clone(), interaction, several_u, several_i)
    got, expected = ours.get_data_struct(), recbole.get_data_struct()
    assert set(got._data_dict) == set(expected._data_dict)
    for key, value in expected._data_dict.items():
        if isinstance(value, torch.Tensor):
            assert got[key].dtype == value.dtype and torch.equal(got[key], value), key
