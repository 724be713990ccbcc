"""The tuning table and the paper's Figures 5 and 6 from ``benchmarks.compare`` runs of one dataset and seed.

Every run listed is a row: its configuration read from the run's resolved settings (H = n_heads, N =
num_experts, d = hidden_size, early-stopping patience, batch), its epochs, its best validation NDCG@10 and its
test metrics (the protocol each run was trained under is a column; a table mixing protocols says so). The
selected configuration is the FAME run with the best validation NDCG@10 (test figures play no part in it);
every configuration run is shown, selected or not.

* ``<dataset>-fig5-heads.png``: NDCG@20 and HR@20 (test) against H: FAME at each N run at several H (N = 1 is
  the paper's "FAME w/o MoE") and SASRec with H heads;
* ``<dataset>-fig6-experts.png``: the same against N, FAME at the selected H, with horizontal lines at FAME w/o
  MoE's and SASRec's peak over H (as the paper's Figure 6).
Only runs with the selected d and patience enter the figures.

    python -m benchmarks.tuning_table results/amazon-beauty/tuning/*-seed2020.json \\
        --out results/amazon-beauty/tuning/table.md --figures results/amazon-beauty/tuning/
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.tuning_table")

import argparse
import os
import sys

from benchmarks.plot_sweeps import plot_experts, plot_heads
from benchmarks.report import write_report
from benchmarks.runs import load_run, resolved_settings, trained_under

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEST_METRICS = ("hit@10", "ndcg@10", "hit@20", "ndcg@20")
NAMES = {"hit": "HR", "ndcg": "NDCG"}


def configuration(run):
    """(model kind, H, N, d, patience, batch) of a run, from its resolved settings."""
    s = resolved_settings(run)
    kind = "FAME" if run["model"] == "FAME" else run["model"]
    experts = s.get("num_experts") if kind == "FAME" else None
    return kind, s["n_heads"], experts, s["hidden_size"], s["stopping_step"], s["train_batch_size"]


def metric_name(metric):
    name, k = metric.split("@")
    return f"{NAMES[name]}@{k}"


def rows_of(runs):
    return sorted(runs, key=lambda run: (configuration(run)[0] != "FAME",) + tuple(
        -1 if v is None else v for v in configuration(run)[1:]))


def select(runs):
    """The FAME run with the best validation NDCG@10."""
    fame = [run for run in runs if configuration(run)[0] == "FAME"]
    return max(fame, key=lambda run: run["best_valid_result"]["ndcg@10"]) if fame else None


def table(runs, selected):
    header = ["model", "H", "N", "d", "patience", "batch", "trained under", "epochs (best)", "valid NDCG@10"]
    header += [f"test {metric_name(m)}" for m in TEST_METRICS] + ["s / epoch"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for run in rows_of(runs):
        kind, heads, experts, d, patience, batch = configuration(run)
        mark = "**" if run is selected else ""
        cells = [kind, str(heads), "-" if experts is None else str(experts), str(d), str(patience), str(batch),
                 trained_under(run), f"{run['epochs']} ({run['best_epoch'] + 1})",
                 f"{mark}{run['best_valid_result']['ndcg@10']:.4f}{mark}"]
        cells += [f"{run['test_result'][m]:.4f}" for m in TEST_METRICS]
        cells.append(f"{run['seconds_per_epoch']:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def curves(runs, selected):
    """Figure 5's curves over H (FAME per N, SASRec) and Figure 6's over N, at the selected d and patience."""
    _, best_heads, _, d, patience, batch = configuration(selected)
    same = [run for run in runs if configuration(run)[3:] == (d, patience, batch)]
    by_experts, sasrec = {}, {}
    for run in same:
        kind, heads, experts, *_ = configuration(run)
        if kind == "FAME":
            by_experts.setdefault(experts, {})[heads] = run
        else:
            sasrec[heads] = run
    heads_curves = [(f"FAME N={n}" + (" (w/o MoE)" if n == 1 else ""), dict(sorted(c.items())))
                    for n, c in sorted(by_experts.items()) if len(c) > 1]
    experts_curve = {n: c[best_heads] for n, c in sorted(by_experts.items()) if best_heads in c}
    return heads_curves, dict(sorted(sasrec.items())), experts_curve, best_heads, by_experts.get(1)


def draw(runs, selected, dataset, folder):
    heads_curves, sasrec, experts_curve, best_heads, nomoe = curves(runs, selected)
    import matplotlib

    matplotlib.use("Agg")
    written = []
    if heads_curves:
        path = os.path.join(folder, f"{dataset}-fig5-heads.png")
        plot_heads(heads_curves, dataset, "test_result", path, sasrec or None, "SASRec")
        written.append(path)
    if len(experts_curve) > 1:
        lines = []
        if nomoe:
            lines.append(("FAME w/o MoE, best over H", nomoe, {"color": "#C0392B", "linestyle": "--"}))
        if sasrec:
            lines.append(("SASRec, best over H", sasrec, {"color": "grey", "linestyle": ":"}))
        path = os.path.join(folder, f"{dataset}-fig6-experts.png")
        plot_experts(experts_curve, best_heads, dataset, "test_result", path, lines)
        written.append(path)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run JSON files (benchmarks.compare) of one dataset and seed")
    parser.add_argument("--out", default=None, help="markdown file to write (printed either way)")
    parser.add_argument("--figures", default=None, help="folder for the redrawn Figures 5 and 6")
    args = parser.parse_args(argv)
    files = [os.path.abspath(f) for f in args.runs]
    out = args.out and os.path.abspath(args.out)
    figures = args.figures and os.path.abspath(args.figures)
    sys.argv = [sys.argv[0]]  # keep RecBole's Config (old JSONs rebuild theirs) from reading this script's flags
    os.chdir(ROOT)
    runs = [load_run(f) for f in files]
    datasets, seeds = {run["dataset"] for run in runs}, {run["seed"] for run in runs}
    if len(datasets) != 1 or len(seeds) != 1:
        raise SystemExit(f"error: one dataset and seed per table; these runs have {sorted(datasets)} and "
                         f"{sorted(seeds)}")
    dataset, seed = datasets.pop(), seeds.pop()
    selected = select(runs)
    protocols = {trained_under(run) for run in runs}
    lines = [
        "Command: `python -m benchmarks.tuning_table " + " ".join(os.path.relpath(f, ROOT) for f in files)
        + (f" --out {os.path.relpath(out, ROOT)}" if out else "")
        + (f" --figures {os.path.relpath(figures, ROOT)}" if figures else "") + "`",
        "",
        f"{dataset}, seed {seed}: every configuration run. Selection on validation NDCG@10 only (bold: the "
        "selected FAME); test metrics under the protocol the run was trained with"
        + (" (this table mixes protocols: compare rows of one protocol only)" if len(protocols) > 1 else "")
        + ". H = n_heads, N = num_experts, d = hidden_size; FAME warm-started from the SASRec of the same H, d, "
        "patience and batch.",
        "",
        table(runs, selected),
    ]
    if selected:
        _, heads, experts, d, patience, batch = configuration(selected)
        lines += ["", f"Selected: H = {heads}, N = {experts}, d = {d}, patience {patience}, batch {batch} "
                  f"(validation NDCG@10 {selected['best_valid_result']['ndcg@10']:.4f})."]
        if figures:
            os.makedirs(figures, exist_ok=True)
            for path in draw(runs, selected, dataset, figures):
                lines.append(f"Figure: `{os.path.relpath(path, ROOT)}`")
    write_report(lines, out)


if __name__ == "__main__":
    main()
