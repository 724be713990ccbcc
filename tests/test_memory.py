"""Sizes that cannot fit in memory are refused with the estimate before anything is built (they used to end in an
out-of-memory traceback), and the estimates stay below what runs really take, so that normal runs are never refused."""

import pytest

from recbole_fame import memory
from recbole_fame.errors import ConfigurationError
from tests.test_bad_input import run_main, tiny


@pytest.mark.parametrize(
    "args,message",
    [
        (["--train_mode=prefix", "--MAX_ITEM_LIST_LENGTH=1000000000"],
         "Dataset tiny in the prefix mode (a sample per interaction) needs at least"),
        (["--train_mode=sequence", f"--MAX_ITEM_LIST_LENGTH={10 ** 12}"], "Dataset tiny in the sequence mode needs at least"),
        (["--num_experts=1000000"], "FAME with these settings needs at least"),
    ],
)
def test_sizes_that_cannot_fit_are_refused_with_the_estimate(monkeypatch, capsys, args, message):
    settings = [a for a in tiny() if not a.startswith("--num_experts")] + (["--num_experts=2"] if "experts" not in
                                                                          args[0] else [])
    assert run_main(monkeypatch, "--model=FAME", "--dataset=tiny", *settings, *args) == 2
    err = capsys.readouterr().err
    assert message in err and "Nothing was built" in err and "Traceback" not in err
    assert " TB " in err or " PB " in err


def test_the_estimate_is_what_the_prefix_samples_take(settings):
    """The estimate of the tiny fixture's prefix samples is the memory RecBole's samples take once built."""
    from recbole_fame import Config, create_dataset, data_preparation

    config = Config(model="FAME", dataset="tiny", config_dict=settings(train_mode="prefix"))
    dataset = create_dataset(config)
    _, estimated = memory.prefix_samples_part(config, dataset)
    data_preparation(config, dataset)
    lists = [field for field in dataset.inter_feat.interaction if field.endswith(config["LIST_SUFFIX"])]
    taken = sum(dataset.inter_feat[field].element_size() * dataset.inter_feat[field].numel() for field in lists)
    assert len(lists) == 2 and estimated == taken


def test_normal_settings_at_ml20m_sizes_are_never_refused(monkeypatch):
    """ML-20M (20M interactions, 138k users, 18k items) with FAME's largest tuned sizes, on a 16 GB machine."""
    monkeypatch.setattr(memory, "machine_memory", lambda: 16 << 30)
    config = {"dataset": "ml-20m", "MAX_ITEM_LIST_LENGTH": 50}
    memory.require_fits("prefix samples", [("samples", (20_000_263 - 138_493) * 50 * (8 + 4))], "cpu", "")
    memory.check_sequence_rows_fit(config, 2 * 138_493 + 20_000_263 // 50, 2)
    for batch, queries in ((256, 1), (256, 50)):  # prefix samples; 256 whole sequences (train_batch_unit sequences)
        parts = memory.fame_parts(18_346, 50, 50, 128, 16, 32, 2, 256, batch, queries)
        memory.require_fits("FAME", parts, "cpu", "")
    with pytest.raises(ConfigurationError, match="FAME needs at least"):  # and what cannot fit is refused
        memory.require_fits("FAME", memory.fame_parts(18_346, 50, 50, 128, 16, 10_000, 2, 256, 256, 50), "cpu", "")
