"""Shared fixtures: a tiny shipped dataset and a quiet, isolated RecBole configuration."""

import sys
from pathlib import Path

import pytest
import torch

import recbole_fame  # noqa: F401  (adds back the numpy aliases RecBole needs, first)

TEST_DATA = Path(__file__).resolve().parent / "test_data"


def tiny_settings(tmp_path, **overrides):
    """Settings for a fast run on tests/test_data/tiny (80 users, 50 items)."""
    settings = {
        "data_path": str(TEST_DATA),
        "checkpoint_dir": str(tmp_path / "saved"),
        "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
        "epochs": 2,
        "train_batch_size": 64,
        "eval_batch_size": 256,
        "MAX_ITEM_LIST_LENGTH": 20,
        "hidden_size": 16,
        "inner_size": 32,
        "n_heads": 2,
        "num_experts": 2,
        "n_layers": 2,
        "state": "ERROR",
        "show_progress": False,
        "seed": 1,
        "use_gpu": False,
        # FAME's default is the sequence mode (properties/model/FAME.yaml); the suite's tests keep RecBole's prefix
        # samples unless they ask for the sequence mode (tests/test_sequence_mode.py)
        "train_mode": "prefix",
    }
    settings.update(overrides)
    return settings


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny models gain nothing from threads, and on a busy machine two threads can be many times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def isolated_run(tmp_path, monkeypatch):
    """Run each test in its own folder (RecBole writes ./log there) with no pytest flags in sys.argv,
    which RecBole's Config would otherwise read as settings."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [sys.argv[0]])
    yield


@pytest.fixture
def patched_recbole():
    """``recbole_fame.patch_recbole()`` for one test, undone afterwards (the other tests see RecBole as it is)."""
    from recbole_fame import compat

    compat.patch_recbole()
    yield
    compat._unpatch_recbole()


@pytest.fixture
def settings(tmp_path):
    return lambda **overrides: tiny_settings(tmp_path, **overrides)
