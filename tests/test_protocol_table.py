"""benchmarks.protocol_table: both protocols from the same weights, per-user ranks kept beside each run's JSON,
seeds pooled in the paired test, and a table that still builds when the checkpoints are gone."""

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.test_benchmarks import REPO, TINY, env
from tests.conftest import HUNG_AFTER_SECONDS


def run(args, cwd):
    proc = subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, env=env(),
                          timeout=HUNG_AFTER_SECONDS)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


def row(table, protocol, metric):  # protocol "" for the rows of run details
    start = f"| {protocol} | {metric} |".replace("|  |", "| |")
    line = next(line for line in table.splitlines() if line.startswith(start))
    return [c.strip() for c in line.strip("|").split("|")][2:]


def two_seeds_of_two_models(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("protocol")
    out = tmp / "out"
    for seed in (1, 2):
        run(["benchmarks.compare", "--dataset=tiny", f"--out={out}", f"--seed={seed}", "--set", *TINY, "epochs=1",
             "eval_exclude_history=True", f"checkpoint_dir={tmp / 'saved'}", "--models",
             "SASRec=SASRecSeq:n_heads=2; FAME=FAME:n_heads=2,num_experts=2"], cwd=tmp)
    return tmp, out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Runs the tests read and leave as they are."""
    return two_seeds_of_two_models(tmp_path_factory)


@pytest.fixture
def runs_to_remove_from(runs, tmp_path):
    """A copy of the module's runs (JSONs, ranks and checkpoints, the JSONs pointing at the copies) for a test that
    removes checkpoints and ranks."""
    tmp, out = runs
    copy = tmp_path / "protocol"
    shutil.copytree(tmp, copy)
    for path in (copy / "out").glob("*.json"):
        path.write_text(path.read_text().replace(str(tmp), str(copy)))
    return copy, copy / "out"


def test_table_has_both_protocols_ranks_beside_the_runs_and_a_pooled_paired_test(runs):
    tmp, out = runs
    files = sorted(str(p) for p in out.glob("*-seed*.json"))
    table = run(["benchmarks.protocol_table", "--baseline", "SASRec", *files], cwd=tmp)
    for name in ("SASRec-seed1", "SASRec-seed2", "FAME-seed1", "FAME-seed2"):
        with np.load(out / f"{name}.ranks.npz") as ranks:
            recorded = json.loads((out / f"{name}.json").read_text())["test_result"]
            hits = (ranks["hidden"] < 10).mean()
            assert round(hits, 4) == pytest.approx(recorded["hit@10"], abs=1e-4)  # trained under 'hidden'
            # hiding removes competitors: a target ranks no lower, unless it is itself hidden (a miss, behind all
            # 50 items of the tiny dataset)
            hidden, kept = ranks["hidden"], ranks["kept"]
            assert ((hidden <= kept) | (hidden >= 50)).all() and (hidden < kept).any()
    sasrec = [json.loads((out / f"SASRec-seed{s}.json").read_text())["test_result"]["ndcg@10"] for s in (1, 2)]
    hidden_ndcg = row(table, "hidden", "NDCG@10")[0]
    assert hidden_ndcg.startswith(f"{np.mean(sasrec):.4f}"[:5]) and "±" in hidden_ndcg
    pooled = row(table, "hidden", "NDCG@10 paired vs SASRec, seeds pooled")[1]
    assert re.fullmatch(r"[+-]\d\.\d{4} \(p=(<0\.001|\d\.\d{3}|nan); 2 seeds\)", pooled), pooled
    assert row(table, "kept", "NDCG@10 paired vs SASRec, per seed")[1].startswith("1: ")


def test_table_rebuilds_from_the_kept_ranks_and_from_the_json_once_checkpoints_are_gone(runs_to_remove_from):
    tmp, out = runs_to_remove_from
    files = sorted(str(p) for p in out.glob("*-seed*.json"))
    before = run(["benchmarks.protocol_table", "--baseline", "SASRec", *files], cwd=tmp)
    for checkpoint in (tmp / "saved").glob("*.pth"):
        checkpoint.unlink()
    assert run(["benchmarks.protocol_table", "--baseline", "SASRec", *files], cwd=tmp) == before
    (out / "FAME-seed1.ranks.npz").unlink()  # neither ranks nor checkpoint: only what its JSON recorded
    after = run(["benchmarks.protocol_table", "--baseline", "SASRec", *files], cwd=tmp)
    assert "(1 of 2 seeds)" in row(after, "kept", "NDCG@10")[1]
    assert "of 2 seeds" not in row(after, "hidden", "NDCG@10")[1]  # both seeds: the JSON's test result
    assert row(after, "hidden", "NDCG@10 paired vs SASRec, per seed")[1].startswith("2: ")
    assert "; 1 seed)" in row(after, "hidden", "NDCG@10 paired vs SASRec, seeds pooled")[1]


@pytest.fixture(scope="module")
def yaml_protocol_runs(tmp_path_factory):
    """Two runs whose protocol comes from a yaml passed with --config_files, not from the command line (as every
    amazon-* dataset yaml sets it)."""
    tmp = tmp_path_factory.mktemp("yaml_protocol")
    (tmp / "hidden.yaml").write_text("eval_exclude_history: True\n")
    out = tmp / "out"
    run(["benchmarks.compare", "--dataset=tiny", f"--out={out}", "--seed=1", f"--config_files={tmp / 'hidden.yaml'}",
         "--set", *TINY, "epochs=1", f"checkpoint_dir={tmp / 'saved'}", "--models",
         "SASRec=SASRecSeq:n_heads=2; FAME=FAME:n_heads=2,num_experts=2"], cwd=tmp)
    return tmp, out


def test_a_protocol_from_a_yaml_is_recorded_and_tabled_as_the_run_had_it(yaml_protocol_runs):
    tmp, out = yaml_protocol_runs
    records = {name: json.loads((out / f"{name}-seed1.json").read_text()) for name in ("SASRec", "FAME")}
    for record in records.values():
        assert "eval_exclude_history" not in record["settings"]  # not on the command line
        assert record["resolved"]["eval_exclude_history"] is True  # but the run had it
        assert record["resolved"]["n_heads"] == 2 and record["resolved"]["train_mode"] in ("prefix", "sequence")
    assert records["FAME"]["resolved"]["num_experts"] == 2
    files = sorted(str(p) for p in out.glob("*-seed1.json"))
    # with the checkpoints: the recomputed hidden metrics are the recorded ones (no false "not the run's")
    with_checkpoints = run(["benchmarks.protocol_table", "--baseline", "SASRec", *files], cwd=tmp)
    assert row(with_checkpoints, "", "trained under") == ["hidden", "hidden"]
    assert row(with_checkpoints, "", "num_experts")[1] == "2"
    for name, record in records.items():
        column = 0 if name == "SASRec" else 1
        assert row(with_checkpoints, "hidden", "NDCG@10")[column] == f"{record['test_result']['ndcg@10']:.4f}"
    # without checkpoints or ranks: the JSON's result sits in the hidden rows, never in the kept ones
    for path in [*(tmp / "saved").glob("*.pth"), *out.glob("*.ranks.npz")]:
        path.unlink()
    without = run(["benchmarks.protocol_table", "--baseline", "SASRec", *files], cwd=tmp)
    assert row(without, "kept", "NDCG@10") == ["-", "-"]
    assert row(without, "hidden", "NDCG@10")[1] == f"{records['FAME']['test_result']['ndcg@10']:.4f}"


def test_a_json_without_resolved_settings_is_read_through_its_rebuilt_config(yaml_protocol_runs):
    """JSONs written before ``resolved`` existed: the Config is rebuilt from their model, dataset, config files
    and overrides, so the yaml's protocol is still found."""
    from benchmarks.runs import resolved_settings, trained_under

    _, out = yaml_protocol_runs
    record = json.loads((out / "FAME-seed1.json").read_text())
    recorded = record.pop("resolved")
    rebuilt = resolved_settings(record)
    assert trained_under(record) == "hidden"
    for key in ("eval_exclude_history", "n_heads", "num_experts", "train_mode", "hidden_size", "learning_rate"):
        assert rebuilt[key] == recorded[key], key


def test_a_table_marks_the_settings_it_rebuilt_rather_than_read(yaml_protocol_runs):
    """A rebuilt setting is today's default, which may not be the run's (train_batch_unit came after the first
    Beauty runs, whose batches were sequences; a rebuilt Config says targets): the table marks it and says so."""
    tmp, out = yaml_protocol_runs
    old = tmp / "old"
    old.mkdir(exist_ok=True)
    for path in out.glob("*-seed1.json"):
        record = json.loads(path.read_text())
        record.pop("resolved")
        (old / path.name).write_text(json.dumps(record))
    table = run(["benchmarks.protocol_table", "--baseline", "SASRec", *sorted(map(str, old.glob("*.json")))], cwd=tmp)
    assert row(table, "", "train_batch_unit") == ["targets*", "targets*"]
    assert row(table, "", "n_heads") == ["2", "2"]  # an override the JSON recorded: read, not rebuilt
    assert "* not recorded by the run: rebuilt from its overrides" in table
    recorded = run(["benchmarks.protocol_table", "--baseline", "SASRec", *sorted(map(str, out.glob("*-seed1.json")))],
                   cwd=tmp)
    assert "*" not in row(recorded, "", "train_batch_unit")[0] and "not recorded by the run" not in recorded


def test_groups_split_the_test_users_by_target_popularity_and_history_length(runs):
    """benchmarks.groups: each grouping partitions the test users, the 'all' row is the protocol's mean, and the
    facts behind the groups are the split's (target's training occurrences, items before the target)."""
    from benchmarks.groups import test_facts

    tmp, out = runs
    files = sorted(str(p) for p in out.glob("*-seed*.json"))
    text = run(["benchmarks.groups", "--baseline", "SASRec", *files], cwd=tmp)
    lines = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| group")]
    sizes = {line.split("|")[1].strip(): int(line.split("|")[2].replace(",", "")) for line in lines}
    popularity = [n for g, n in sizes.items() if g.endswith("occurrences")]
    history = [n for g, n in sizes.items() if g.endswith("history")]
    assert sum(popularity) == sum(history) == sizes["all"]
    table = run(["benchmarks.protocol_table", "--baseline", "SASRec", *files], cwd=tmp)
    assert lines[0].split("|")[3].strip().startswith(row(table, "hidden", "NDCG@10")[0].split(" ")[0])
    record = json.loads((out / "SASRec-seed1.json").read_text())
    import os
    os.chdir(tmp)
    facts = test_facts(record)
    header, *rows = (REPO / "tests" / "test_data" / "tiny" / "tiny.inter").read_text().splitlines()
    per_user = {}
    for line in rows:
        user, item, time = line.split("\t")
        per_user.setdefault(user, []).append((float(time), item))
    lengths = sorted(len(items) - 1 for items in per_user.values())
    assert sorted(history for _, history in facts.values()) == lengths
    train_items = [item for items in per_user.values() for _, item in sorted(items)[:-2]]
    targets = [sorted(items)[-1][1] for items in per_user.values()]
    assert sorted(train_items.count(t) for t in targets) == sorted(count for count, _ in facts.values())


def test_compare_runs_from_any_folder_with_a_relative_out(tmp_path):
    """The worker runs in the repository root: a relative --out given from elsewhere still gets its JSON."""
    run(["benchmarks.compare", "--dataset=tiny", "--out=relative_out", "--seed=1", "--set", *TINY, "epochs=1",
         f"checkpoint_dir={tmp_path / 'saved'}", "--models", "SASRec=SASRecSeq:n_heads=2"], cwd=tmp_path)
    record = json.loads((tmp_path / "relative_out" / "SASRec-seed1.json").read_text())
    assert record["output"] == "relative_out/SASRec-seed1.json" and "output_file" not in record
