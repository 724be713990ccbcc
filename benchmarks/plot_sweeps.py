"""Draw the FAME paper's Figures 5 and 6 from ``run_hyper.py`` outputs (the JSON beside the text export).

    python -m benchmarks.plot_sweeps --fame results/sweeps/ml-100k-FAME.json \\
        --fame_nomoe results/sweeps/ml-100k-FAME-noMoE.json --sasrec results/sweeps/ml-100k-SASRecSeq.json \\
        --out results/sweeps/

* ``<dataset>-fig5-heads.png``: NDCG@20 and HR@20 (test split) against the number of heads H, FAME w/o MoE
  (``num_experts: 1``) against SASRec.
* ``<dataset>-fig6-experts.png``: the same metrics against the number of experts N for FAME at H*, the H
  whose FAME w/o MoE run had the best validation score (the paper sets H to the value found for FAME w/o
  MoE); the horizontal line is FAME w/o MoE's peak over H of the plotted metric, as in the paper (a grey
  dotted line marks SASRec's peak over H when --sasrec is given).
* ``<dataset>-sweeps.md``: the numbers behind both figures as markdown tables.

Where several trials share an x value (other parameters varied too), the one with the best validation score
is drawn. ``--fame_nomoe`` may be left out when ``--fame`` holds ``num_experts: 1`` trials; ``--sasrec`` may
be left out (Figure 5 then has one curve).

Exit status: 0 on success, 2 (one message) for a missing or unusable input.
"""

if __name__ == "__main__" and not __package__:  # run as a file, the checkout is not on the path
    raise SystemExit("error: run it from the repository root as a module: python -m benchmarks.plot_sweeps")

import argparse
import json
import os
import sys

from recbole_fame.errors import ConfigurationError as SweepInputError  # a missing or unusable tuning output

METRICS = ("ndcg@20", "hit@20")
METRIC_NAMES = {"hit": "HR", "ndcg": "NDCG"}


def metric_label(metric):
    """``ndcg@20`` -> ``NDCG@20``, ``hit@20`` -> ``HR@20``."""
    name, _, k = metric.partition("@")
    return f"{METRIC_NAMES.get(name, name.upper())}@{k}"


def load_trials(path):
    """The JSON document written by run_hyper.py (``trials`` with params and results)."""
    if not os.path.isfile(path):
        raise SweepInputError(f"tuning output not found: {path}. Pass the .json that run_hyper.py wrote "
                              "beside its --output_file.")
    try:
        with open(path, "r", encoding="utf-8") as f:
            document = json.load(f)
    except json.JSONDecodeError as error:
        raise SweepInputError(f"{path} is not JSON ({error}): pass the .json run_hyper.py wrote, not the text export.")
    if not isinstance(document, dict) or not document.get("trials"):
        raise SweepInputError(f"{path} holds no trials: did its run_hyper.py run finish any trial?")
    document.setdefault("valid_metric_bigger", True)
    return document


def best_per_value(document, param, keep=lambda params: True):
    """``{value of param: trial}``, the best-validated trial per value among those ``keep`` accepts."""
    bigger = document["valid_metric_bigger"]
    best = {}
    for trial in document["trials"]:
        params = trial["params"]
        if param not in params or not keep(params):
            continue
        value = params[param]
        better = (lambda a, b: a > b) if bigger else (lambda a, b: a < b)
        if value not in best or better(trial["best_valid_score"], best[value]["best_valid_score"]):
            best[value] = trial
    return dict(sorted(best.items()))


def nomoe_curve(fame_nomoe, fame):
    """FAME w/o MoE's best trial per H, from ``--fame_nomoe`` or else from ``--fame``'s N = 1 trials."""
    source = fame_nomoe or fame
    if source is None:
        raise SweepInputError("Figure 5 needs FAME w/o MoE trials: pass --fame_nomoe (or --fame with num_experts 1).")
    curve = best_per_value(source, "n_heads", keep=lambda p: p.get("num_experts", 1) == 1)
    if not curve:
        raise SweepInputError("no FAME w/o MoE trial (num_experts: 1 with n_heads) in the given outputs: run "
                              "run_hyper.py with properties/hyper/FAME-noMoE.hyper and pass it as --fame_nomoe.")
    return curve


def best_heads(curve, bigger=True):
    """H* : the number of heads of the best-validated FAME w/o MoE trial."""
    pick = max if bigger else min
    return pick(curve, key=lambda h: curve[h]["best_valid_score"])


def experts_curve(fame, heads):
    """FAME's best trial per N at ``heads`` heads, and the H actually used (falls back to FAME's best H)."""
    if fame is None:
        raise SweepInputError("Figure 6 needs FAME trials over num_experts: pass --fame.")
    curve = best_per_value(fame, "num_experts", keep=lambda p: p.get("n_heads") == heads)
    if curve:
        return curve, heads
    by_heads = best_per_value(fame, "n_heads")
    if not by_heads:
        raise SweepInputError("--fame has no trial with n_heads and num_experts.")
    fallback = best_heads(by_heads, fame["valid_metric_bigger"])
    return best_per_value(fame, "num_experts", keep=lambda p: p.get("n_heads") == fallback), fallback


def values(curve, metric, split):
    """x values and the metric of each trial of a curve."""
    xs = list(curve)
    return xs, [curve[x][split][metric] for x in xs]


def _log2_axis(ax, xs, label):
    """A log2 x axis with the tried values as ticks."""
    ax.set_xscale("log", base=2)
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.minorticks_off()
    ax.set_xlabel(label)


COLOURS = ("#C0392B", "#1E8449", "#8E44AD", "#D68910")


def plot_heads(curves, dataset, split, path, baseline=None, baseline_label="SASRec"):
    """Figure 5: metric against H, one line per ``(label, curve)`` of ``curves`` and the baseline's (dashed)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(METRICS), figsize=(5.6 * len(METRICS), 4.2), layout="constrained")
    for ax, metric in zip(axes, METRICS):
        ticks = set()
        for (label, curve), colour in zip(curves, COLOURS):
            xs, ys = values(curve, metric, split)
            ax.plot(xs, ys, "o-", color=colour, label=label)
            ticks |= set(xs)
        if baseline:
            sx, sy = values(baseline, metric, split)
            ax.plot(sx, sy, "s--", color="#2E86C1", label=baseline_label)
            ticks |= set(sx)
        _log2_axis(ax, sorted(ticks), "number of heads H")
        _finish(ax, metric, split, f"{dataset}: {metric_label(metric)} vs H")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_experts(fame, heads, dataset, split, path, lines=()):
    """Figure 6: metric against N for FAME at ``heads`` heads, with horizontal ``lines``: ``(label, curve,
    style)``, each at its curve's peak of the plotted metric (the paper's line is FAME w/o MoE's peak over H)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(METRICS), figsize=(5.6 * len(METRICS), 4.2), layout="constrained")
    for ax, metric in zip(axes, METRICS):
        xs, ys = values(fame, metric, split)
        ax.plot(xs, ys, "o-", color="#1E8449", label=f"FAME (H={heads})")
        for label, curve, style in lines:
            ax.axhline(max(values(curve, metric, split)[1]), label=label, **style)
        _log2_axis(ax, xs, "number of experts N")
        _finish(ax, metric, split, f"{dataset}: {metric_label(metric)} vs N")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _finish(ax, metric, split, title):
    ax.set_ylabel(f"{metric_label(metric)} ({split.split('_')[0]})")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.margins(y=0.15)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=8, frameon=False)


def table(rows, x_name, columns):
    """A markdown table: one row per x value, ``columns`` = [(header, curve, metric, split)]."""
    lines = ["| " + " | ".join([x_name] + [c[0] for c in columns]) + " |",
             "|" + "---|" * (len(columns) + 1)]
    for x in rows:
        cells = [str(x)]
        for _, curve, metric, split in columns:
            cells.append(f"{curve[x][split][metric]:.4f}" if curve and x in curve else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(nomoe, sasrec, fame, heads, valid_metric, sasrec_label="SASRec"):
    """The numbers behind both figures."""
    h_rows = sorted(set(nomoe) | set(sasrec or {}))
    h_columns = []
    for label, curve in (("FAME w/o MoE", nomoe), (sasrec_label, sasrec)):
        if curve:
            h_columns += [(f"{label} {metric_label(m)}", curve, m, "test_result") for m in METRICS]
            h_columns.append((f"{label} valid {valid_metric}", curve, valid_metric.lower(), "best_valid_result"))
    n_columns = [(f"FAME {metric_label(m)}", fame, m, "test_result") for m in METRICS]
    n_columns.append((f"FAME valid {valid_metric}", fame, valid_metric.lower(), "best_valid_result"))
    note = f"Test split, except the 'valid {valid_metric}' columns (best validation score, which picks H*)."
    return (f"## Number of heads H\n\n{note}\n\n{table(h_rows, 'H', h_columns)}\n\n"
            f"## Number of experts N, FAME at H* = {heads}\n\n{note}\n\n{table(sorted(fame), 'N', n_columns)}\n")


def build_parser():
    """The argument parser."""
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}",
                                     description="Draw the FAME paper's Figures 5 and 6 from run_hyper.py outputs.")
    parser.add_argument("--fame", help="run_hyper.py JSON of FAME over num_experts (Figure 6)")
    parser.add_argument("--fame_nomoe", help="run_hyper.py JSON of FAME with num_experts 1 over n_heads (Figure 5)")
    parser.add_argument("--sasrec", help="run_hyper.py JSON of SASRec (or SASRecSeq) over n_heads (Figure 5)")
    parser.add_argument("--out", default="results/sweeps/", help="output folder (default: %(default)s)")
    parser.add_argument("--split", default="test", choices=("test", "valid"), help="results drawn (default: test)")
    return parser


def main(argv=None):
    """Draw both figures and write the table; returns the exit status."""
    args = build_parser().parse_args(argv)
    split = "test_result" if args.split == "test" else "best_valid_result"
    try:
        fame = load_trials(args.fame) if args.fame else None
        fame_nomoe = load_trials(args.fame_nomoe) if args.fame_nomoe else None
        sasrec_doc = load_trials(args.sasrec) if args.sasrec else None
        nomoe = nomoe_curve(fame_nomoe, fame)
        reference = fame_nomoe or fame
        sasrec = best_per_value(sasrec_doc, "n_heads") if sasrec_doc else None
        heads = best_heads(nomoe, reference["valid_metric_bigger"])
        experts, heads = experts_curve(fame, heads)
        if not experts:
            raise SweepInputError(f"--fame has no trial with num_experts at n_heads={heads}.")
        for curve in [nomoe, experts] + ([sasrec] if sasrec else []):
            for trial in curve.values():
                missing = [m for m in METRICS if m not in trial[split]]
                if missing:
                    raise SweepInputError(f"the tuning outputs lack {', '.join(missing)}: tune with topk including "
                                          "20 and metrics Hit and NDCG (the plugin's defaults).")
    except SweepInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    import matplotlib

    matplotlib.use("Agg")
    dataset = reference.get("dataset", "dataset")
    os.makedirs(args.out, exist_ok=True)
    heads_png = os.path.join(args.out, f"{dataset}-fig5-heads.png")
    experts_png = os.path.join(args.out, f"{dataset}-fig6-experts.png")
    table_md = os.path.join(args.out, f"{dataset}-sweeps.md")
    sasrec_label = sasrec_doc.get("model", "SASRec") if sasrec_doc else "SASRec"
    plot_heads([("FAME w/o MoE", nomoe)], dataset, split, heads_png, sasrec, sasrec_label)
    lines = [("FAME w/o MoE, best over H", nomoe, {"color": "#C0392B", "linestyle": "--"})]
    if sasrec:
        lines.append((f"{sasrec_label}, best over H", sasrec, {"color": "grey", "linestyle": ":"}))
    plot_experts(experts, heads, dataset, split, experts_png, lines)
    text = markdown(nomoe, sasrec, experts, heads, reference.get("valid_metric", "NDCG@10"), sasrec_label)
    with open(table_md, "w", encoding="utf-8") as f:
        f.write(text)
    print(text)
    print(f"wrote {heads_png}, {experts_png}, {table_md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
