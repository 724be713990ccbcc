"""Does any test's outcome depend on unseeded randomness? Runs the test suite (or the given tests) twice, each
test starting from a different global seed of torch, numpy and random and with a different PYTHONHASHSEED,
and reports the tests whose outcome differs between the two runs and the tests that draw from a global
generator before seeding it (tests/conftest.py records those: their outcome may depend on the tests that ran
before them, or on the seed).

    python scripts/check_test_seeds.py                          the whole suite (two runs: ~15 min on 2 cores)
    python scripts/check_test_seeds.py tests/test_fast_eval.py  some tests
    python scripts/check_test_seeds.py --seeds 3 4 -- -k gelu   other seeds, pytest's own options after --

Exits 1 when a test is flagged, 0 when none is.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def outcomes(junit_xml):
    """{test id: passed|failed|error|skipped} from pytest's junit xml."""
    results = {}
    for case in ElementTree.parse(junit_xml).iter("testcase"):
        test = f"{case.get('classname')}::{case.get('name')}"
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        results[test] = {"failure": "failed"}.get(kinds[0], kinds[0]) if kinds else "passed"
    return results


def run_suite(seed, tests, pytest_args, folder):
    report = folder / f"unseeded-{seed}.jsonl"
    junit = folder / f"junit-{seed}.xml"
    env = dict(os.environ, RECBOLE_FAME_TEST_SEED=str(seed), RECBOLE_FAME_SEED_REPORT=str(report),
               PYTHONHASHSEED=str(seed))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", *tests,
               *pytest_args]
    print(f"seed {seed}: {' '.join(command[1:])}", flush=True)
    subprocess.run(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL)
    unseeded = {}
    if report.exists():
        for line in report.read_text().splitlines():
            entry = json.loads(line)
            unseeded[entry["test"]] = entry["unseeded"]
    return outcomes(junit), unseeded


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tests", nargs="*", default=["tests"], help="test files or ids (default: tests)")
    parser.add_argument("--seeds", nargs=2, type=int, default=[1, 2], metavar="SEED", help="the two global seeds")
    args, pytest_args = parser.parse_known_args(argv)
    pytest_args = [a for a in pytest_args if a != "--"]
    with tempfile.TemporaryDirectory() as folder:
        runs = [run_suite(seed, args.tests, pytest_args, Path(folder)) for seed in args.seeds]
    (first, unseeded_first), (second, unseeded_second) = runs
    differ = sorted(test for test in first.keys() | second.keys() if first.get(test) != second.get(test))
    unseeded = {test: sorted(set(unseeded_first.get(test, [])) | set(unseeded_second.get(test, [])))
                for test in unseeded_first.keys() | unseeded_second.keys()}
    print(f"{len(first)} tests; outcomes with seed {args.seeds[0]}: "
          + ", ".join(f"{n} {kind}" for kind, n in sorted(Counter(first.values()).items())))
    print(f"outcome differs between seeds {args.seeds[0]} and {args.seeds[1]}: {len(differ)}")
    for test in differ:
        print(f"  {test}: {first.get(test, 'not run')} / {second.get(test, 'not run')}")
    print(f"draws from a global generator before seeding it: {len(unseeded)}")
    for test in sorted(unseeded):
        print(f"  {test}: {', '.join(unseeded[test])}")
    return 1 if differ or unseeded else 0


if __name__ == "__main__":
    sys.exit(main())
