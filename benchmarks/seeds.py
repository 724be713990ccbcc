"""Mean and spread over seeds of the runs benchmarks/compare.py wrote to one folder.

    python -m benchmarks.seeds --out=results/beauty --reference="paper SASRec=0.0761,0.0400;paper FAME=0.0978,0.0593"

reads every ``<label>-seed<seed>.json`` in --out (and in the --include folders) and writes ``table-seeds.md`` there: for each label, the
mean test metric over its seeds with the smallest and largest value, and for each FAME label its paired
difference in NDCG@10 to every baseline on the seeds both have (the seeds are the only noise measured).
--reference adds fixed columns (HR@10, NDCG@10) such as the paper's numbers.
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.seeds")

import argparse
import glob
import json
import os
import statistics
import sys

from benchmarks.compare import METRIC_NAMES, METRICS


def load_runs(folder):
    runs = {}
    for path in sorted(glob.glob(os.path.join(folder, "*-seed*.json"))):
        with open(path) as f:
            record = json.load(f)
        runs.setdefault(record["label"], {})[record["seed"]] = record
    return runs


def cell(values):
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ({min(values):.4f}-{max(values):.4f})"


def summary(runs, references):
    labels = sorted(runs, key=lambda label: (label.startswith("FAME"), label))
    header = "| Metric | " + " | ".join(f"{label} (seeds {', '.join(map(str, sorted(runs[label])))})" for label in labels)
    header += "".join(f" | {name}" for name in references) + " |"
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for metric in METRICS:
        name, k = metric.split("@")
        row = [cell([r["test_result"][metric] for r in runs[label].values()]) for label in labels]
        ref = [f"{references[n][metric]:.4f}" if metric in references[n] else "-" for n in references]
        lines.append(f"| {METRIC_NAMES[name]}@{k} | " + " | ".join(row + ref) + " |")
    lines.append("| epochs (best) | " + " | ".join(
        ", ".join(f"{r['epochs']} ({r['best_epoch'] + 1})" for _, r in sorted(runs[label].items())) for label in labels
    ) + " |" * (len(references) + 1))
    lines += ["", "Paired difference in test NDCG@10 (FAME run minus baseline, same seed):", ""]
    baselines = [label for label in labels if not label.startswith("FAME")]
    for fame in (label for label in labels if label.startswith("FAME")):
        for base in baselines:
            seeds = sorted(set(runs[fame]) & set(runs[base]))
            if not seeds:
                continue
            diffs = [runs[fame][s]["test_result"]["ndcg@10"] - runs[base][s]["test_result"]["ndcg@10"] for s in seeds]
            per_seed = ", ".join(f"{s}: {d:+.4f}" for s, d in zip(seeds, diffs))
            lines.append(f"- {fame} vs {base}: mean {statistics.mean(diffs):+.4f} ({per_seed})")
    return "\n".join(lines)


def parse_references(text):
    references = {}
    for entry in filter(None, (e.strip() for e in (text or "").split(";"))):
        name, _, values = entry.partition("=")
        hr, ndcg = (float(v) for v in values.split(","))
        references[name.strip()] = {"hit@10": hr, "ndcg@10": ndcg}
    return references


def main():
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder of compare.py's JSON files")
    parser.add_argument("--reference", default="", help="'name=HR@10,NDCG@10;...' fixed columns")
    parser.add_argument("--include", nargs="*", default=[], help="more folders of runs, e.g. results/beauty/gap")
    args = parser.parse_args()
    runs = load_runs(args.out)
    for folder in args.include:
        runs.update(load_runs(folder))
    if not runs:
        raise SystemExit(f"error: no <label>-seed<seed>.json files in {args.out}: run python -m benchmarks.compare first")
    text = summary(runs, parse_references(args.reference))
    command = "python -m benchmarks.seeds " + " ".join(f"'{a}'" if " " in a or ";" in a else a for a in sys.argv[1:])
    with open(os.path.join(args.out, "table-seeds.md"), "w") as f:
        f.write(f"Command: `{command}`\n\n{text}\n")
    print(text)


if __name__ == "__main__":
    main()
