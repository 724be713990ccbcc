"""The explanation of one user's recommendation as a JSON-ready dict (what :mod:`recbole_fame.explain` shows).

The user's input is exactly what the test evaluation feeds the model: the user's row of the test dataloader
(``item_id_list`` / ``item_length``) and its held-out test item. Ranks are 1 + the number of items scored
strictly higher, among all items except the padding item 0 (as in RecBole's full-sort evaluation).
"""

import torch

from recbole_fame.errors import ConfigurationError

TITLE_FIELDS = ("movie_title", "title", "name", "item_name")


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
