"""The runner, the tuning objective and the checkpoint loader give exactly the metrics they gave before the run's
assembly was restructured (tests/pipeline_reference.py made tests/pipeline_reference.json)."""

import json

import pytest

from tests.pipeline_reference import REFERENCE, machine, measure


def test_fixed_runs_give_the_reference_metrics_through_every_entry_point():
    reference = json.loads(REFERENCE.read_text())
    if reference["machine"] != machine():
        pytest.skip(f"the reference was measured on {reference['machine']}, this is {machine()}: float kernels "
                    "differ; remake it on this machine from a known-good commit: python -m tests.pipeline_reference")
    runs = measure()
    assert runs == reference["runs"]


def test_saving_and_loading_the_dataloaders_changes_no_metric(settings, tmp_path):
    """RecBole's save_split_dataloaders drops each loader's generator to pickle it: the run that saves them keeps
    drawing as a run that does not, and a run that loads them builds the same loaders from their splits."""
    from recbole_fame import run_recbole_fame

    options = settings(eval_exclude_history=True, train_mode="sequence", length_bucketing=True)
    plain = run_recbole_fame(model="FAME", dataset="tiny", config_dict=options)
    saving = run_recbole_fame(model="FAME", dataset="tiny", config_dict=dict(options, save_dataloaders=True))
    assert (tmp_path / "saved" / "tiny-for-FAME-dataloader.pth").is_file()
    loading = run_recbole_fame(model="FAME", dataset="tiny", config_dict=options)
    assert plain["test_result"] == saving["test_result"] == loading["test_result"]
    assert plain["best_valid_result"] == saving["best_valid_result"] == loading["best_valid_result"]


@pytest.mark.parametrize("options", [
    {"eval_exclude_history": True, "train_mode": "sequence", "length_bucketing": True},  # hidden, sorted, bucketed
    {"eval_exclude_history": False, "train_mode": "prefix", "length_bucketing": False},  # RecBole's loaders
])
def test_each_dataloader_is_built_once(settings, monkeypatch, options):
    """The evaluation loaders were RecBole's, rebuilt to hide history, rebuilt again sorted (and the training
    loader rebuilt for bucketing): now the plan gives every option before the one build."""
    from recbole.data.dataloader.abstract_dataloader import AbstractDataLoader

    from recbole_fame import Config, create_dataset, data_preparation

    built = []
    original = AbstractDataLoader.__init__

    def counting(self, *args, **kwargs):
        built.append(type(self).__name__)
        original(self, *args, **kwargs)

    config = Config(model="FAME", dataset="tiny", config_dict=settings(**options))
    dataset = create_dataset(config)
    monkeypatch.setattr(AbstractDataLoader, "__init__", counting)
    loaders = data_preparation(config, dataset)
    assert built == [type(loader).__name__ for loader in loaders]
