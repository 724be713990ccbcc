"""The printed form of an explanation report (:func:`recbole_fame.explain.report.explain_user`'s dict)."""

SHOWN_HISTORY = 10  # history items printed and drawn (the JSON holds the whole input sequence)


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
