"""Shared fixtures: a tiny shipped dataset and a quiet, isolated RecBole configuration."""

import json
import os
import random
import socket
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch

import recbole_fame  # noqa: F401  (adds back the numpy aliases RecBole needs, first)

TEST_DATA = Path(__file__).resolve().parent / "test_data"
# How long a subprocess a test starts may take before it counts as hung. Only a hang guard, never a measure of
# speed: on a busy machine the suite has taken over an hour (2 cores, a load of 11), and a test must not fail by
# the clock.
HUNG_AFTER_SECONDS = 3600


def seed_everything(seed=0):
    """Seed the global generators of random, numpy and torch, for a test that draws from them (model weights,
    dropout, sampling) outside a run (the runner seeds them from the run's seed)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


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


# The seed check (scripts/check_test_seeds.py): with RECBOLE_FAME_TEST_SEED set, each test starts with the global
# generators of torch, numpy and random seeded by it, and a test that draws from one of them before seeding it
# (its outcome may then depend on the tests that ran before it) is written to RECBOLE_FAME_SEED_REPORT.
GLOBAL_GENERATORS = {
    "torch": (torch.random.get_rng_state, [(torch, "manual_seed"), (torch.random, "manual_seed"), (torch, "seed"),
                                           (torch.random, "seed"), (torch, "set_rng_state"),
                                           (torch.random, "set_rng_state")]),
    "numpy": (np.random.get_state, [(np.random, "seed"), (np.random, "set_state")]),
    "random": (random.getstate, [(random, "seed"), (random, "setstate")]),
}


def same_state(a, b):
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same_state(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


@contextmanager
def unseeded_draws_watched(seed):
    """Seeds the global generators, then yields the set that collects the generators drawn from before being
    seeded (or set) again while the block runs."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    start = {name: get_state() for name, (get_state, _) in GLOBAL_GENERATORS.items()}
    seeded, drawn, originals = set(), set(), []

    def noting(name, function):
        def seeding(*args, **kwargs):
            if name not in seeded and not same_state(GLOBAL_GENERATORS[name][0](), start[name]):
                drawn.add(name)
            seeded.add(name)
            return function(*args, **kwargs)
        return seeding

    for name, (_, setters) in GLOBAL_GENERATORS.items():
        for owner, attribute in setters:
            originals.append((owner, attribute, getattr(owner, attribute)))
            setattr(owner, attribute, noting(name, getattr(owner, attribute)))
    try:
        yield drawn
    finally:
        for owner, attribute, function in reversed(originals):
            setattr(owner, attribute, function)
        drawn.update(name for name, (get_state, _) in GLOBAL_GENERATORS.items()
                     if name not in seeded and not same_state(get_state(), start[name]))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    seed = os.environ.get("RECBOLE_FAME_TEST_SEED")
    if seed is None:
        yield
        return
    with unseeded_draws_watched(int(seed)) as drawn:
        yield
    if drawn:
        with open(os.environ["RECBOLE_FAME_SEED_REPORT"], "a") as report:
            report.write(json.dumps({"test": item.nodeid, "unseeded": sorted(drawn)}) + "\n")


def pytest_configure(config):
    """RecBole's Config reads ``--key=value`` settings from ``sys.argv``: pytest's own options (``--maxfail=1``,
    ``--durations=10``) are not settings, so the tests see a command line without them."""
    del sys.argv[1:]


def free_ports(count):
    """``count`` distinct ports free now, below the ephemeral range: the kernel hands ephemeral ports to outgoing
    connections (gloo's own among them), so a port picked there with bind(0) and closed could be taken again
    before the process group's store listens on it (EADDRINUSE, seen in a full-suite run under load)."""
    ports, sockets = [], []
    try:
        for port in range(20000 + os.getpid() % 8000, 32768):  # below Linux's default ephemeral range (32768-)
            candidate = socket.socket()
            try:
                candidate.bind(("127.0.0.1", port))
            except OSError:
                candidate.close()
                continue
            sockets.append(candidate)
            ports.append(str(port))
            if len(ports) == count:
                return ports
        raise RuntimeError(f"fewer than {count} free ports between 20000 and 32767")
    finally:
        for held in sockets:
            held.close()
