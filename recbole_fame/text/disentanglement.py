"""The facet-by-head disentanglement report of the text-enhanced pre-training.

For each facet f and head h: label precision@k, the share of an item's k nearest items (cosine similarity
in head h's slice, the item itself excluded) that share its facet-f label (any shared label for multi-label
facets), averaged over the query items; only labelled items are queries and neighbours. The queries are the
items held out of the contrastive loss (``validation_items``), whose labels training never saw, when the
run has them (a facet none of whose held-out items is labelled falls back to all its items, and says so);
all labelled items otherwise, training labels included. Neighbours are drawn from all labelled items. Next
to the heads, the same figure for the raw text embedding, for a random Gaussian projection of the text
embedding to the head size (fixed seed), and for chance (the expected precision of random neighbours), over
the same queries.

The facets "came apart" when each facet is recognised best by the head trained on it, above the random
projection. The last row, ``text neighbours@k``, is the share of an item's k nearest items in the head that
are also among its k nearest in the raw text: high for heads trained on item identity, lower for facet heads.

Print the report stored in any checkpoint with ``python -m recbole_fame.text.report <checkpoint>``.
"""

import torch
import torch.nn.functional as F

_CHUNK = 1024


def sample_queries(n, max_queries, seed=0):
    """A fixed random subset of ``max_queries`` of the rows 0..n-1 (sorted), or None for all rows."""
    if max_queries is None or n <= max_queries:
        return None
    generator = torch.Generator().manual_seed(seed)
    return torch.randperm(n, generator=generator)[:max_queries].sort().values


def nearest_neighbours(embedding, k, queries=None):
    """Indices [Q, k] of the k most cosine-similar other rows of each query row (``queries``: row indices,
    None = every row)."""
    embedding = F.normalize(embedding.float(), dim=-1)
    if queries is None:
        queries = torch.arange(embedding.size(0))
    queries = queries.to(embedding.device)
    rows = []
    for start in range(0, queries.size(0), _CHUNK):
        own = queries[start: start + _CHUNK]
        sims = embedding[own] @ embedding.transpose(0, 1)
        sims[torch.arange(own.size(0), device=sims.device), own] = float("-inf")
        rows.append(sims.topk(k, dim=1).indices)
    return torch.cat(rows)


def _neighbours_share(query_labels, neighbour_labels):
    # [Q, m] and [Q, k, m] -> [Q, k] bool: the neighbour shares a label with the query
    equal = query_labels[:, None, :, None] == neighbour_labels[:, :, None, :]
    return (equal & (query_labels >= 0)[:, None, :, None]).flatten(2).any(-1)


def label_precision(embedding, labels, k, queries=None):
    """Mean label precision@k of ``embedding`` [N, D] under ``labels`` [N, m] (all rows labelled), over the
    query rows ``queries`` (None = all)."""
    k = min(k, embedding.size(0) - 1)
    if k < 1:
        return float("nan")
    neighbours = nearest_neighbours(embedding, k, queries)
    query_labels = labels if queries is None else labels[queries.to(labels.device)]
    return _neighbours_share(query_labels, labels[neighbours]).float().mean().item()


def chance_precision(labels, queries=None):
    """Expected label precision of random neighbours: the mean over the query rows (``queries``: row indices,
    None = every row; all rows labelled) of the share of the other rows sharing a label."""
    from recbole_fame.text.losses import shares_label

    n = labels.size(0)
    if n < 2:
        return float("nan")
    if queries is None:
        queries = torch.arange(n)
    total = 0.0
    for start in range(0, queries.numel(), _CHUNK):
        own = labels[queries[start: start + _CHUNK]]
        total += (shares_label(own, labels).sum(1) - 1).float().sum().item()
    return total / (queries.numel() * (n - 1))


def neighbour_overlap(embedding, reference_neighbours, k, queries=None):
    """Share of each query row's k nearest rows in ``embedding`` that are among its ``reference_neighbours``
    [Q, k] (computed for the same ``queries``)."""
    mine = nearest_neighbours(embedding, k, queries)
    hits = (mine[:, :, None] == reference_neighbours[:, None, :]).any(-1)
    return hits.float().mean().item()


def labelled(labels):
    """Rows (items) with at least one label, the padding item 0 excluded."""
    keep = (labels >= 0).any(1)
    keep[0] = False
    return keep


def masked_queries(mask, max_queries):
    """The rows where ``mask`` [N] is True, as indices, cut to a fixed sample of ``max_queries``; None for all
    rows when ``mask`` is None and there are at most ``max_queries``."""
    if mask is None:
        return None
    rows = torch.nonzero(mask.cpu()).flatten()
    sample = sample_queries(rows.numel(), max_queries)
    return rows if sample is None else rows[sample]


def task_scores(head_embedding, facets, head_tasks, k, text_neighbours=None, max_queries=None, query_items=None):
    """Each head's score on its own task: label precision@k on its facet, or, for a head trained on item
    identity, the overlap of its k nearest neighbours with the raw text's. ``head_embedding``: [H, V, d'];
    ``text_neighbours``: the raw text's neighbours of the query items among the real items 1..V-1.
    ``query_items`` [V] bool: the items whose neighbours are scored (held-out items; None = every item), up to
    ``max_queries`` of them per score (a fixed sample); every item counts as a neighbour."""
    scores = {}
    for head, task in enumerate(head_tasks):
        if task in facets:
            keep = labelled(facets[task])
            if query_items is None:
                queries = sample_queries(int(keep.sum()), max_queries)
            else:  # no held-out item labelled in this facet: the training items' labels, as without held-out items
                queries = masked_queries(query_items[keep], max_queries)
                if queries.numel() == 0:
                    queries = sample_queries(int(keep.sum()), max_queries)
            value = label_precision(head_embedding[head][keep], facets[task][keep], k, queries)
        else:
            queries = text_neighbour_queries(head_embedding.size(1), max_queries, query_items)
            value = neighbour_overlap(head_embedding[head][1:], text_neighbours, text_neighbours.size(1), queries)
        scores[f"head{head + 1}:{task}"] = value
    return scores


def text_neighbour_queries(n_items, max_queries, query_items=None):
    """The query rows among the real items 1..V-1 (row r is item r + 1) of the identity heads' score."""
    if query_items is None:
        return sample_queries(n_items - 1, max_queries)
    return masked_queries(query_items[1:], max_queries)


def disentanglement_report(head_embedding, text_embedding, facets, head_tasks, k=10, seed=2025, query_items=None):
    """The report as plain data (stored in the checkpoint's JSON metadata).

    Args:
        head_embedding: [H, V, d'] the items' head slices (row 0 = padding item).
        text_embedding: [V, D] the raw text embeddings.
        facets: ``{facet name: [V, m] label ids, -1 padded}``.
        head_tasks: what each head was trained on (a facet name or ``"identity"``).
        k: neighbours per item.
        seed: of the random projection.
        query_items: [V] bool, the items held out of training, whose neighbours are scored (None: every item).
    """
    n_heads, _, head_size = head_embedding.shape
    generator = torch.Generator().manual_seed(seed)
    random_projection = torch.randn(text_embedding.size(1), head_size, generator=generator)
    held_out = query_items is not None and bool(query_items.any())
    report = {
        "k": k, "n_heads": n_heads, "head_size": head_size, "text_dim": text_embedding.size(1),
        "head_tasks": list(head_tasks), "queries": "held-out" if held_out else "all", "facets": {},
    }
    for name, labels in facets.items():
        keep = labelled(labels)
        rows = labels[keep]
        queries = masked_queries(query_items[keep], None) if held_out else None
        if queries is not None and queries.numel() == 0:  # no held-out item labelled in this facet
            queries = None
        heads = [label_precision(head_embedding[h][keep], rows, k, queries) for h in range(n_heads)]
        random = label_precision(text_embedding[keep] @ random_projection, rows, k, queries)
        trained = [h for h, task in enumerate(head_tasks) if task == name]
        apart = bool(trained) and max(heads[h] for h in trained) >= max(heads) and max(heads[h] for h in trained) > random
        report["facets"][name] = {
            "items": int(keep.sum()),
            "labels": int(rows.max()) + 1 if rows.numel() else 0,
            "queries": int(keep.sum()) if queries is None else queries.numel(),
            "held_out_queries": queries is not None,
            "heads": heads,
            "text": label_precision(text_embedding[keep], rows, k, queries),
            "random": random,
            "chance": chance_precision(rows, queries),
            "trained_heads": trained,
            "came_apart": apart,
        }
    queries = text_neighbour_queries(head_embedding.size(1), None, query_items if held_out else None)
    text_knn = nearest_neighbours(text_embedding[1:], min(k, text_embedding.size(0) - 2), queries)
    report["text_neighbours"] = [neighbour_overlap(head_embedding[h][1:], text_knn, text_knn.size(1), queries)
                                 for h in range(n_heads)]
    return report


def _queries_line(report):
    """Which items the report's figures average over."""
    if "queries" not in report:  # written before reports said so, with or without held-out items: all items
        return "Queries: every labelled item, training labels included (held-out items, if any, were not told apart)."
    if report["queries"] == "all":
        return "Queries: every labelled item (the run held no item out of training: training labels included)."
    fallback = [name for name, row in report["facets"].items() if not row["held_out_queries"]]
    return ("Queries: the items held out of training (validation_items), whose labels the loss never saw; "
            "neighbours among all items" + (f"; {', '.join(fallback)}: no held-out item labelled, every labelled "
                                            "item instead" if fallback else "") + ".")


def format_report(report):
    """The facet-by-head table as text."""
    k, heads = report["k"], report["n_heads"]
    head_cols = [f"head {h + 1}" for h in range(heads)]
    extra = [f"text {report['text_dim']}-d", f"random {report['head_size']}-d", "chance"]
    name_width = max([len("text neighbours@10")] + [len(name) for name in report["facets"]]) + 1
    lines = [
        (f"Facet-by-head table: label precision@{k} (share of an item's {k} nearest items, by cosine, that "
         "share its label; * = the head trained on that facet)"),
        _queries_line(report),
        f"{'facet':<{name_width}}{'items':>7}{'labels':>7}{'queries':>8} | " + " ".join(f"{c:>8}" for c in head_cols)
        + " | " + " ".join(f"{c:>12}" for c in extra) + " | apart",
    ]
    for name, row in report["facets"].items():
        cells = [f"{v:.3f}{'*' if h in row['trained_heads'] else ' '}" for h, v in enumerate(row["heads"])]
        lines.append(
            f"{name:<{name_width}}{row['items']:>7}{row['labels']:>7}{row.get('queries', row['items']):>8} | "
            + " ".join(f"{c:>8}" for c in cells)
            + " | " + " ".join(f"{row[key]:>12.3f}" for key in ("text", "random", "chance"))
            + f" | {'yes' if row['came_apart'] else 'no'}"
        )
    if "text_neighbours" in report:
        label = f"text neighbours@{k}"
        lines.append(f"{label:<{name_width + 22}} | " + " ".join(f"{v:>7.3f} " for v in report["text_neighbours"]))
    lines.append("head tasks: " + ", ".join(f"{h + 1} = {t}" for h, t in enumerate(report["head_tasks"])))
    facets = report["facets"]
    apart = [name for name, row in facets.items() if row["came_apart"]]
    if facets:
        lines.append(
            f"{len(apart)} of {len(facets)} facets came apart (recognised best by their own head, above the "
            f"random projection){': ' + ', '.join(apart) if apart else ''}."
        )
    return "\n".join(lines)
