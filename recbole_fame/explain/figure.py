"""The matplotlib figure of an explanation report (the paper's Figure 7): history, gate, experts, top-k lists."""

from recbole_fame.explain.text import SHOWN_HISTORY, label, token_width


def _draw_gate(ax, report):
    """Bar chart of the gate weights."""
    heads = range(1, len(report["gate"]) + 1)
    bars = ax.bar(heads, report["gate"], color="#4C72B0")
    if len(report["gate"]) <= 16:
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.set_ylim(0, max(report["gate"]) * 1.15)
    ax.axhline(1 / len(report["gate"]), color="grey", linestyle="--", linewidth=1, label="equal weight 1/H")
    ax.set_xticks(list(heads))
    ax.set_xlabel("head")
    ax.set_ylabel("gate weight")
    ax.set_title("Gate: weight of each head (Eq. 10)")
    ax.legend(loc="best", fontsize=8)


def _draw_experts(fig, ax, report):
    """Heatmap of the router weights, heads by experts, values written in the cells when they fit. The colour
    scale runs from 0 to the largest weight, so small preferences among experts stay visible."""
    weights = report["expert_weights"]
    top = max(max(row) for row in weights)
    image = ax.imshow(weights, cmap="viridis", vmin=0, vmax=top, aspect="auto")
    n_heads, n_experts = len(weights), len(weights[0])
    ax.set_xticks(range(n_experts), [str(n + 1) for n in range(n_experts)])
    ax.set_yticks(range(n_heads), [str(h + 1) for h in range(n_heads)])
    ax.set_xlabel("expert")
    ax.set_ylabel("head")
    ax.set_title("Router: expert weights per head (Eq. 16)")
    if n_heads * n_experts <= 64:
        for h in range(n_heads):
            for n in range(n_experts):
                ax.text(n, h, f"{weights[h][n]:.2f}", ha="center", va="center", fontsize=8,
                        color="black" if weights[h][n] > 0.6 * top else "white")
    fig.colorbar(image, ax=ax, fraction=0.046)


def _draw_list(ax, title, ranked, held_out_id, width=34):
    """One top-k list as text; the held-out item in bold red."""
    ax.axis("off")
    ax.set_title(f"{title}\nheld-out rank {ranked['held_out_rank']}", fontsize=9, loc="left")
    tokens = token_width(ranked["topk"])
    for position, item in enumerate(ranked["topk"]):
        hit = item["id"] == held_out_id
        ax.text(0.0, 1 - (position + 0.5) / max(len(ranked["topk"]), 1),
                f"{position + 1:>2}. {label(item, width, tokens)}",
                fontsize=8, family="monospace", va="center", color="#C0392B" if hit else "black",
                fontweight="bold" if hit else "normal", transform=ax.transAxes)


def draw_figure(report, path, max_columns=6):
    """Write the PNG: history, gate bars, expert heatmap, and every top-k list with the held-out item marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    held = report["held_out"]["id"]
    lists = [(f"Head {h['head']} (gate {h['gate']:.2f})", h) for h in report["heads"]]
    lists += [("Fused (FAME)", report["fused"]), ("Equal-weight heads", report["equal_weight"])]
    list_rows = -(-len(lists) // max_columns)
    columns = -(-len(lists) // list_rows)  # rows as even as possible: 4 lists -> 1x4, 10 -> 2x5, 18 -> 3x6
    list_height = 0.28 * report["topk"] + 0.8
    fig = plt.figure(figsize=(3.6 * max(columns, 3), 4.2 + list_height * list_rows), layout="constrained")
    grid = fig.add_gridspec(1 + list_rows, 1, height_ratios=[4.2] + [list_height] * list_rows)
    top = grid[0].subgridspec(1, 3, width_ratios=[1.2, 1, 1])

    history = report["history"][-SHOWN_HISTORY:]
    ax = fig.add_subplot(top[0])
    ax.axis("off")
    ax.set_title(f"User {report['user']}: recent history (most recent last)", fontsize=9, loc="left")
    tokens = token_width(history)
    entries = [label(item, 44, tokens) for item in history] + ["", f"held out: {label(report['held_out'], 34)}"]
    for i, text in enumerate(entries):
        ax.text(0.0, 1 - (i + 0.5) / len(entries), text, fontsize=8, family="monospace", va="center",
                transform=ax.transAxes, color="#C0392B" if text.startswith("held out") else "black")
    _draw_gate(fig.add_subplot(top[1]), report)
    _draw_experts(fig, fig.add_subplot(top[2]), report)

    cells = grid[1:].subgridspec(list_rows, columns)
    for index, (title, ranked) in enumerate(lists):
        _draw_list(fig.add_subplot(cells[index // columns, index % columns]), title, ranked, held)
    fig.suptitle(
        f"FAME on {report['dataset']}: why user {report['user']} gets these top-{report['topk']} items "
        f"(H={report['n_heads']}, N={report['num_experts']}; held-out item in red)", fontsize=11,
    )
    fig.savefig(path, dpi=110, format="png")  # path: a file name or a binary file object
    plt.close(fig)
