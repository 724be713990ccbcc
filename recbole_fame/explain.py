"""Explain one user's recommendation by a trained FAME model (the paper's Figure 7, for any user).

``python -m recbole_fame.explain --checkpoint saved/FAME-....pth --user 196 [--topk 10] [--json out.json]
[--png out.png] [--trust_checkpoint]``

The checkpoint is loaded with :func:`recbole_fame.quick_start.load_data_and_model`, which rebuilds the
dataset and dataloaders from the configuration saved in it (so the dataset must still be at the checkpoint's
``data_path``). The user's input is exactly what the test evaluation feeds the model: the user's row of the
test dataloader (``item_id_list`` / ``item_length``, i.e. the history up to the validation item) and its
held-out test item. The report shows

* the user's recent history (titles when the items have a ``movie_title`` / ``title`` field, else tokens);
* every head's top-k items with the head's gate weight (Eq. 8 and 10);
* the fused top-k, i.e. FAME's own scores (Eq. 11), and the top-k of a plain equal-weight combination of the
  heads (what the gate adds);
* each head's expert (router) weights at the last position (Eq. 16);
* where the held-out item ranks in each list: 1 + the number of items scored strictly higher, among all
  items except the padding item 0, which is never recommended (as in RecBole's full-sort evaluation).

Trust: RecBole checkpoints are Python pickles, which can run code when loaded. ``load_data_and_model``
reads them only from ``./saved`` (RecBole's default ``checkpoint_dir``, where your own runs write);
``--trust_checkpoint`` is the explicit opt-in for a checkpoint elsewhere that you trust.

Exit status: 0 on success; 2, with one message and no traceback, for an unknown user, a checkpoint of a
model other than FAME, a dataset whose items differ from the checkpoint's, or an unreadable checkpoint.
"""

import argparse
import json
import logging
import os
import re
import sys
import warnings

import torch

from recbole_fame.errors import CheckpointError, ConfigurationError, RecBoleFameError

TITLE_FIELDS = ("movie_title", "title", "name", "item_name")
SHOWN_HISTORY = 10  # history items printed and drawn (the JSON holds the whole input sequence)


# ----------------------------------------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------------------------------------


def read_checkpoint_header(path, trust_checkpoint=False):
    """The checkpoint's model name, item-embedding row count and data_path, read under the loader's trust rule.

    Checking these first turns a checkpoint of another model, or of another item set, into one clear
    message before the (slower) dataset rebuild.
    """
    from recbole_fame.checkpoint import load_recbole_checkpoint

    folder = os.path.dirname(os.path.abspath(path))
    try:
        checkpoint = load_recbole_checkpoint(
            path, {"checkpoint_dir": folder, "trust_checkpoint": trust_checkpoint}, map_location="cpu"
        )
    except RecBoleFameError:
        raise
    except Exception as error:  # torch.load on a file that is not a checkpoint: many possible errors
        raise CheckpointError(
            f"Cannot read {path} as a RecBole checkpoint ({type(error).__name__}: {error}). "
            "Pass the .pth file that run_recbole_fame.py saved in checkpoint_dir."
        ) from error
    if not isinstance(checkpoint, dict) or "config" not in checkpoint or "state_dict" not in checkpoint:
        raise CheckpointError(
            f"{path} is not a RecBole checkpoint (no 'config' and 'state_dict'). "
            "Pass the .pth file that run_recbole_fame.py saved in checkpoint_dir."
        )
    config = checkpoint["config"]
    item_rows = checkpoint["state_dict"].get("item_embedding.weight")
    return config["model"], (None if item_rows is None else int(item_rows.shape[0])), config["data_path"]


def check_is_fame(model_name):
    """Refuse checkpoints of models without FAME's heads, gate and experts."""
    from recbole_fame.model.sequential_recommender import FAME
    from recbole_fame.registry import get_model

    try:
        model_class = get_model(model_name)
    except RecBoleFameError:
        model_class = None
    if not (isinstance(model_class, type) and issubclass(model_class, FAME)):
        raise CheckpointError(
            f"explain needs a FAME checkpoint, this is {model_name}: only FAME has the per-head scores, gate "
            "and experts that explain shows. Train one with `python run_recbole_fame.py --model=FAME ...`."
        )


def _rows_in_error(error):
    """The dataset's item-table rows named in torch's size-mismatch message, or None."""
    found = re.search(r"item_embedding\.weight.*?Size\(\[(\d+),.*?Size\(\[(\d+),", str(error))
    return int(found.group(2)) if found else None


def _item_count_message(path, checkpoint_rows, dataset_rows, data_path):
    """The message for a dataset whose item count differs from the checkpoint's (rows include padding)."""
    checkpoint_items = checkpoint_rows - 1
    dataset_items = None if dataset_rows is None else dataset_rows - 1
    have = f"{dataset_items} items" if dataset_items is not None else "a different number of items"
    return (
        f"The dataset does not hold the checkpoint's items: {path} was trained on {checkpoint_items} items, "
        f"but the dataset at its data_path ({data_path}) now has {have}. Restore the dataset files the model was "
        "trained on (same atomic files and filtering settings), or explain a checkpoint trained on this dataset."
    )


def load_fame(path, trust_checkpoint=False):
    """Check and load a FAME checkpoint with its dataset and test dataloader.

    Returns ``(config, model, dataset, test_data)``, the model in eval mode.
    """
    model_name, checkpoint_items, data_path = read_checkpoint_header(path, trust_checkpoint)
    check_is_fame(model_name)
    from recbole_fame.quick_start import load_data_and_model

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # RecBole's pandas FutureWarnings while rebuilding the dataset
            logging.disable(logging.INFO)  # and its dataloader summaries: the report is the output
            config, model, dataset, _, _, test_data = load_data_and_model(path, trust_checkpoint=trust_checkpoint)
    except RuntimeError as error:
        if "size mismatch" in str(error) and checkpoint_items is not None:
            message = _item_count_message(path, checkpoint_items, _rows_in_error(error), data_path)
            raise CheckpointError(message) from error
        raise
    finally:
        logging.disable(logging.NOTSET)
    if checkpoint_items is not None and checkpoint_items != dataset.item_num:
        raise CheckpointError(_item_count_message(path, checkpoint_items, dataset.item_num, data_path))
    model.eval()
    return config, model, dataset, test_data


# ----------------------------------------------------------------------------------------------------------
# The user's test input and item names
# ----------------------------------------------------------------------------------------------------------


def user_test_input(dataset, test_data, model, user_token):
    """The test dataloader's input for ``user_token``: ``(item_seq [1, L], item_seq_len [1], held_out_id)``."""
    uid_field = dataset.uid_field
    token2id = dataset.field2token_id[uid_field]
    if user_token not in token2id or token2id[user_token] == 0:
        examples = [token for token in list(token2id)[1:6]]
        raise ConfigurationError(
            f"Unknown user {user_token!r}: dataset {dataset.dataset_name} has no user of that token. "
            f"Valid tokens look like: {', '.join(examples)} (of {dataset.user_num - 1} users)."
        )
    inter = test_data._dataset.inter_feat
    rows = torch.nonzero(inter[uid_field] == token2id[user_token]).flatten()
    if len(rows) == 0:
        raise ConfigurationError(
            f"User {user_token!r} has no test interaction (too few interactions to hold one out); "
            "choose a user with at least 3 interactions."
        )
    row = int(rows[-1])
    item_seq = inter[model.ITEM_SEQ][row : row + 1]
    item_seq_len = inter[model.ITEM_SEQ_LEN][row : row + 1]
    return item_seq, item_seq_len, int(inter[model.ITEM_ID][row])


def hidden_items(test_data, user_token, dataset):
    """The item ids the test evaluation hides for this user (``eval_exclude_history``), as a LongTensor."""
    history = getattr(test_data, "history", None)
    if history is None:
        return torch.zeros(0, dtype=torch.long)
    from recbole_fame.data.history import HISTORY_LENGTH_FIELD

    inter = test_data._dataset.inter_feat
    row = int(torch.nonzero(inter[dataset.uid_field] == dataset.field2token_id[dataset.uid_field][user_token])[-1])
    _, items = history.hidden(inter[dataset.uid_field][row : row + 1], inter[HISTORY_LENGTH_FIELD][row : row + 1])
    return items


def title_field(dataset):
    """The item feature holding titles, or None."""
    if dataset.item_feat is None:
        return None
    for field in TITLE_FIELDS:
        if field in dataset.item_feat.interaction:
            return field
    return None


def item_namer(dataset):
    """A function from internal item id to ``(token, title or None)``."""
    iid_field = dataset.iid_field
    field = title_field(dataset)

    def name(item_id):
        token = str(dataset.id2token(iid_field, item_id))
        if field is None:
            return token, None
        value = dataset.item_feat[field][item_id]
        if value.dim() == 0:
            title = str(dataset.id2token(field, int(value))) if field in dataset.field2id_token else str(value.item())
        else:
            title = " ".join(str(t) for t in dataset.id2token(field, value[value > 0].numpy()))
        return token, (title or None)

    return name


# ----------------------------------------------------------------------------------------------------------
# The explanation
# ----------------------------------------------------------------------------------------------------------


def equal_weight_scores(head_scores, head_mixing):
    """The heads combined with weight 1/H each, the way the model mixes them (logits or probabilities)."""
    if head_mixing == "probs":
        return torch.logsumexp(torch.log_softmax(head_scores, dim=-1), dim=-2) - torch.log(
            torch.tensor(float(head_scores.size(-2)))
        )
    return head_scores.mean(dim=-2)


def rank_of(scores, item_id):
    """1 + the number of items scored strictly higher than ``item_id`` (padding excluded: scored -inf)."""
    return int((scores > scores[item_id]).sum()) + 1


def top_items(scores, k, name):
    """The ``k`` best items as dicts of id, token, title and score (``scores`` already has item 0 at -inf)."""
    values, ids = torch.topk(scores, min(k, scores.numel() - 1))
    items = []
    for value, item_id in zip(values.tolist(), ids.tolist()):
        token, title = name(item_id)
        items.append({"id": item_id, "item": token, "title": title, "score": value})
    return items


def ranked_list(scores, k, name, held_out):
    """One list of the report: top-k and the held-out item's rank."""
    return {"topk": top_items(scores, k, name), "held_out_rank": rank_of(scores, held_out)}


def explain_user(config, model, dataset, test_data, user_token, topk=10):
    """Everything the report shows, as a JSON-ready dict (see the module docstring)."""
    item_seq, item_seq_len, held_out = user_test_input(dataset, test_data, model, user_token)
    device = next(model.parameters()).device
    out = model.explain(item_seq.to(device), item_seq_len.to(device))
    head_scores = out["head_scores"][0].float().cpu()  # [H, V]
    fused = out["scores"][0].float().cpu()  # [V]
    equal = equal_weight_scores(head_scores, model.head_mixing)
    hidden = hidden_items(test_data, user_token, dataset)
    for scores in (head_scores, fused, equal):
        scores[..., 0] = -float("inf")  # the padding item is never recommended
        scores[..., hidden] = -float("inf")  # eval_exclude_history: the user's earlier items, as in the test
    gate = out["gate"][0].float().cpu()
    experts = out["expert_weights"][0].float().cpu()  # [H, N]
    name = item_namer(dataset)

    def described(item_id):
        token, title = name(item_id)
        return {"id": item_id, "item": token, "title": title}

    length = int(item_seq_len[0])
    return {
        "model": config["model"],
        "dataset": config["dataset"],
        "user": user_token,
        "topk": topk,
        "n_heads": model.n_heads,
        "num_experts": model.num_experts,
        "head_mixing": model.head_mixing,
        "n_items": dataset.item_num - 1,
        "title_field": title_field(dataset),
        "history": [described(i) for i in item_seq[0, :length].tolist()],
        "held_out": described(held_out),
        "hidden_history_items": len(hidden),  # eval_exclude_history: items ranked last (0 when off)
        "gate": gate.tolist(),
        "expert_weights": experts.tolist(),
        "heads": [
            dict(head=h + 1, gate=float(gate[h]), **ranked_list(head_scores[h], topk, name, held_out))
            for h in range(head_scores.size(0))
        ],
        "fused": ranked_list(fused, topk, name, held_out),
        "equal_weight": ranked_list(equal, topk, name, held_out),
    }


# ----------------------------------------------------------------------------------------------------------
# Text report
# ----------------------------------------------------------------------------------------------------------


def label(item, width=None, token_width=0):
    """``token  title`` (or the token alone), the token padded to ``token_width``, cut to ``width`` characters."""
    text = f"{item['item']:<{token_width}}  {item['title']}" if item.get("title") else str(item["item"])
    return text if width is None or len(text) <= width else text[: width - 1] + "~"


def token_width(items):
    """The longest token among ``items``, to align titles."""
    return max((len(str(item["item"])) for item in items), default=0)


def format_list(title, ranked, held_out_id, width=48):
    """One ranked list as text lines; the held-out item is marked with ``*``."""
    lines = [f"{title}   (held-out item rank: {ranked['held_out_rank']})"]
    tokens = token_width(ranked["topk"])
    for position, item in enumerate(ranked["topk"], start=1):
        mark = "*" if item["id"] == held_out_id else " "
        lines.append(f"  {mark}{position:>3}. {label(item, width, tokens):<{width}} {item['score']:>9.3f}")
    return lines


def format_report(report):
    """The printed report."""
    held = report["held_out"]["id"]
    history = report["history"][-SHOWN_HISTORY:]
    lines = [
        f"FAME explanation for user {report['user']} of {report['dataset']} "
        f"(H={report['n_heads']} heads, N={report['num_experts']} experts, head_mixing={report['head_mixing']})",
        "",
        f"Recent history ({len(history)} of {len(report['history'])} items, most recent last):",
    ]
    lines += [f"  {label(item, None, token_width(history))}" for item in history]
    lines += ["", f"Held-out test item: {label(report['held_out'])}", ""]
    lines.append("Gate weights per head: " + "  ".join(f"h{h + 1}={g:.3f}" for h, g in enumerate(report["gate"])))
    lines += ["", "Expert (router) weights per head, last position:"]
    for h, weights in enumerate(report["expert_weights"]):
        lines.append(f"  head {h + 1:>2}: " + "  ".join(f"e{n + 1}={w:.3f}" for n, w in enumerate(weights)))
    for head in report["heads"]:
        lines += [""] + format_list(f"Head {head['head']} top-{report['topk']} (gate {head['gate']:.3f})", head, held)
    lines += [""] + format_list(f"Fused top-{report['topk']} (FAME's scores)", report["fused"], held)
    lines += [""] + format_list(f"Equal-weight heads top-{report['topk']} (gate 1/H)", report["equal_weight"], held)
    lines += ["", "Held-out item rank among all items (1 = best):"]
    for head in report["heads"]:
        lines.append(f"  head {head['head']:>2}: {head['held_out_rank']}")
    lines.append(f"  fused:   {report['fused']['held_out_rank']}")
    lines.append(f"  equal:   {report['equal_weight']['held_out_rank']}")
    lines.append("(* marks the held-out item)")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------
# Figure
# ----------------------------------------------------------------------------------------------------------


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
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------------------


def build_parser():
    """The argument parser of ``python -m recbole_fame.explain``."""
    parser = argparse.ArgumentParser(
        prog="python -m recbole_fame.explain",
        description="Explain a trained FAME model's recommendation for one user (the paper's Figure 7).",
    )
    parser.add_argument("--checkpoint", required=True, help="FAME checkpoint (.pth) saved by run_recbole_fame.py")
    parser.add_argument("--user", required=True, help="user token, as in the dataset's .inter file")
    parser.add_argument("--topk", type=int, default=10, help="items per list (default: %(default)s)")
    parser.add_argument("--json", help="also write the explanation as JSON to this file")
    parser.add_argument("--png", help="also draw the explanation as a PNG figure to this file")
    parser.add_argument(
        "--trust_checkpoint", action="store_true",
        help="read a checkpoint from outside ./saved (RecBole checkpoints are pickles: only ones you trust)",
    )
    return parser


def main(argv=None):
    """Run the command; returns the exit status (2 for bad input, with one message on stderr)."""
    args = build_parser().parse_args(argv)
    try:
        if args.topk < 1:
            raise ConfigurationError(f"--topk must be >= 1, got {args.topk}")
        config, model, dataset, test_data = load_fame(args.checkpoint, args.trust_checkpoint)
        report = explain_user(config, model, dataset, test_data, args.user, args.topk)
    except RecBoleFameError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1)
    if args.png:
        draw_figure(report, args.png)
    lines = [format_report(report)]
    lines += [f"\nJSON written to {args.json}"] if args.json else []
    lines += [f"Figure written to {args.png}"] if args.png else []
    try:
        print("\n".join(lines), flush=True)
    except BrokenPipeError:  # piped into e.g. `head`: the files are written; end quietly (Python docs' recipe)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
