"""The runner, the tuning objective and the checkpoint loader give exactly the metrics they gave before the run's
assembly was restructured (tests/pipeline_reference.py made tests/pipeline_reference.json)."""

import json

import pytest

from tests.pipeline_reference import REFERENCE, machine, measure


def test_fixed_runs_give_the_reference_metrics_through_every_entry_point():
    reference = json.loads(REFERENCE.read_text())
    if reference["machine"] != machine():
        pytest.skip(f"the reference was measured on {reference['machine']}, this is {machine()}: float kernels "
                    "differ; remake it on this machine from a known-good commit with python -m tests.pipeline_reference")
    runs = measure()
    assert runs == reference["runs"]
