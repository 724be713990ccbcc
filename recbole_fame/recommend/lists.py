"""Every user's top-k list of a trained sequential model, ranked as its test evaluation ranks (see
:mod:`recbole_fame.recommend`)."""

import sys
from collections import namedtuple

import numpy as np
import pandas as pd
import torch
from recbole.data.interaction import Interaction
from recbole.utils import ModelType
from tqdm import tqdm

from recbole_fame.runner.capabilities import supports_batch_trimming
from recbole_fame.data.eval_dataloader import FullSortEvalDataLoader
from recbole_fame.data.history import HISTORY_LENGTH_FIELD
from recbole_fame.data.sorted_eval import trim_to_longest
from recbole_fame.errors import CheckpointError, ConfigurationError, is_int
from recbole_fame.runner.trained import load_trained, read_checkpoint_header
from recbole_fame.recommend.writers import COLUMNS, AtomicOutput, output_format, require_pyarrow

#: ``test``: the input the test evaluation ranks for (the history up to the validation item); ``next``: the
#: whole known history, the test item included (what a user is recommended after the data ends)
POSITIONS = ("test", "next")

#: what :func:`recommendations` returns when it writes a file
RecommendationFile = namedtuple("RecommendationFile", ["path", "users", "rows"])

SHOWN_TOKENS = 10


def _named(tokens):
    shown = ", ".join(repr(token) for token in tokens[:SHOWN_TOKENS])
    return shown + (f" and {len(tokens) - SHOWN_TOKENS} more" if len(tokens) > SHOWN_TOKENS else "")


def check_sequential(header, path):
    """Refuse a checkpoint of a model that does not rank the next item of a sequence."""
    if header.model_type != ModelType.SEQUENTIAL:
        kind = getattr(header.model_type, "name", str(header.model_type)).lower()
        raise CheckpointError(
            f"recommend needs a sequential model's checkpoint, and {path} holds {header.model}, a {kind} model. "
            "Pass the checkpoint of a sequential model (FAME, SASRecSeq, RecBole's SASRec, GRU4Rec, ...)."
        )


def user_rows(dataset, test_dataset, users=None):
    """The row of ``test_dataset`` each user is ranked from: the user's last test sample (with RecBole's
    leave-one-out split, its only one). ``users``: user tokens (each once, in order; a repeated token counts
    once), or None for every user the test evaluation ranks, in internal id order."""
    uid_field = dataset.uid_field
    sample_users = test_dataset.inter_feat[uid_field].numpy()
    tested, last_of_reversed = np.unique(sample_users[::-1], return_index=True)
    last_row = len(sample_users) - 1 - last_of_reversed
    if users is None:
        return last_row
    tokens = list(dict.fromkeys(str(user) for user in users))
    if not tokens:
        raise ConfigurationError("The list of users is empty: give at least one user token, one per line.")
    token2id = dataset.field2token_id[uid_field]
    unknown = [token for token in tokens if token2id.get(token, 0) == 0]  # 0 is the padding user [PAD]
    if unknown:
        examples = ", ".join(list(token2id)[1:6])
        raise ConfigurationError(
            f"Unknown users, {len(unknown)} of the {len(tokens)} listed: {_named(unknown)}. Dataset "
            f"{dataset.dataset_name} has no user of these tokens (its .inter file's {uid_field} column; valid "
            f"tokens look like: {examples}). Remove them from the list."
        )
    ids = np.array([token2id[token] for token in tokens], dtype=np.int64)
    position = np.minimum(np.searchsorted(tested, ids), max(len(tested) - 1, 0))
    found = tested[position] == ids if len(tested) else np.zeros(len(ids), dtype=bool)
    if not found.all():
        untested = [token for token, ok in zip(tokens, found) if not ok]
        raise ConfigurationError(
            f"Users without a test sample, {len(untested)} of the {len(tokens)} listed: {_named(untested)}. "
            "The split held out no test interaction for them (too few interactions), so the test ranking has "
            "no input for them. Remove them from the list."
        )
    return last_row[position]


def with_targets_appended(inter, dataset):
    """The samples ``inter`` with each sample's target appended to its sequence fields (the oldest item dropped
    from a full sequence) and its lengths one longer: the input after the whole known history."""
    suffix = dataset.config["LIST_SUFFIX"]
    length_field = dataset.item_list_length_field
    lengths = inter[length_field]
    width = inter[dataset.item_id_list_field].size(1)
    full = lengths >= width
    position = torch.where(full, width - 1, lengths)
    rows = torch.arange(len(inter))
    updated = {length_field: torch.clamp(lengths + 1, max=width)}
    for field in inter.columns:
        base = field[: -len(suffix)]
        if field.endswith(suffix) and base in inter.interaction:
            lists = inter[field].clone()
            lists[full] = torch.roll(lists[full], -1, dims=1)
            lists[rows, position] = inter[base]
            updated[field] = lists
    if HISTORY_LENGTH_FIELD in inter.interaction:  # eval_exclude_history then hides the target too
        updated[HISTORY_LENGTH_FIELD] = inter[HISTORY_LENGTH_FIELD] + 1
    inter.update(Interaction(updated))
    return inter


def full_sort_scores(model, interaction, item_feature):
    """[B, V] scores of every item, as RecBole's trainer computes them at test: ``full_sort_predict``, or, for a
    model without it, ``predict`` of every item (``item_feature``: a function giving the dataset's item features),
    one user at a time so that memory holds one [V] batch."""
    try:
        return model.full_sort_predict(interaction).view(len(interaction), -1)
    except NotImplementedError:
        items = item_feature()
        rows = []
        for user in range(len(interaction)):
            one = interaction[user : user + 1].repeat_interleave(len(items))
            one.update(items)
            rows.append(model.predict(one))
        return torch.stack(rows)


def ranked_batches(config, model, dataset, loader, topk, show_progress=False):
    """For each batch of ``loader``: ``(user ids [B], item ids [B, k], scores [B, k])`` on the CPU, best first,
    scored as the test evaluation scores (the padding item and the loader's hidden items at -inf)."""
    device = config["device"]
    trims = supports_batch_trimming(type(model))
    item_features = []

    def item_feature():
        if not item_features:
            item_features.append(dataset.get_item_feature().to(device))
        return item_features[0]

    disable = None if show_progress is None else not show_progress  # None: tqdm's check for a terminal
    bar = tqdm(total=len(loader._dataset), desc="recommend", unit="user", file=sys.stderr, disable=disable)
    with torch.no_grad(), bar:
        for interaction, history_index, _, _ in loader:
            if trims:
                trim_to_longest(interaction, dataset.item_list_length_field, config["LIST_SUFFIX"])
            scores = full_sort_scores(model, interaction.to(device), item_feature)
            scores[:, 0] = -np.inf  # the padding item is never recommended
            if history_index is not None:
                scores[history_index] = -np.inf
            values, ids = torch.topk(scores, topk, dim=1)
            yield interaction[dataset.uid_field].cpu(), ids.cpu(), values.float().cpu()
            bar.update(len(interaction))


def batch_frame(dataset, users, items, scores):
    """The rows (:data:`~recbole_fame.recommend.writers.COLUMNS`) of one batch, in the dataset's tokens; an item
    scored -inf (hidden, when a user has fewer than k items left to rank) is left out."""
    k = items.size(1)
    keep = torch.isfinite(scores).numpy().ravel()
    return pd.DataFrame({
        "user": dataset.id2token(dataset.uid_field, users.numpy().repeat(k)[keep]),
        "rank": np.tile(np.arange(1, k + 1, dtype=np.int64), len(users))[keep],
        "item": dataset.id2token(dataset.iid_field, items.numpy().ravel()[keep]),
        "score": scores.numpy().ravel()[keep],
    }, columns=list(COLUMNS))


def _check_arguments(topk, users, position, batch_size):
    if not is_int(topk) or topk < 1:
        raise ConfigurationError(f"topk must be an integer >= 1, got {topk!r}")
    if isinstance(users, (str, bytes)):
        raise ConfigurationError(f"users must be a list of user tokens, got the string {users!r}: pass [{users!r}] "
                                 "for one user, or read_users(path) for a file of tokens.")
    if position not in POSITIONS:
        raise ConfigurationError(f"position must be one of {', '.join(POSITIONS)}, got {position!r}")
    if batch_size is not None and (not is_int(batch_size) or batch_size < 1):
        raise ConfigurationError(f"batch_size must be an integer >= 1, got {batch_size!r}")


def _loader(config, dataset, test_data, rows, position, exclude_history, batch_size):
    """A full-sort loader over the chosen users' test samples, hiding what the test evaluation hides."""
    history = getattr(test_data, "history", None)
    if exclude_history and history is None:
        raise ConfigurationError(
            "Cannot hide the users' history: this checkpoint's dataset does not record it (eval_exclude_history "
            "needs full-sort evaluation, eval_args mode: full). Rank without hiding it (--keep_history)."
        )
    test_dataset = test_data._dataset
    samples = test_dataset.inter_feat[torch.from_numpy(np.asarray(rows, dtype=np.int64))]
    if position == "next":
        samples = with_targets_appended(samples, dataset)
    if batch_size is not None:
        config["eval_batch_size"] = batch_size
    return FullSortEvalDataLoader(config, test_dataset.copy(samples), test_data._sampler, history=history)


def recommendations(checkpoint, topk=10, users=None, out=None, file_format=None, exclude_history=None,
                    position="test", batch_size=None, trust_checkpoint=False, show_progress=False):
    """Top-k lists of a trained sequential model (see :mod:`recbole_fame.recommend`).

    Args:
        checkpoint (str): the ``.pth`` file ``run_recbole_fame.py`` saved; read only from ``./saved`` unless
            ``trust_checkpoint`` (RecBole checkpoints are pickles).
        topk (int): items per user, 1 to the number of items.
        users (iterable of str): user tokens of the dataset's .inter file; None: every user the test ranks.
        out (str): write the rows to this file (``.csv``, ``.jsonl`` or ``.parquet``, or ``file_format``) instead
            of returning them; batch by batch, moved into place when complete.
        exclude_history (bool): None: hide the user's earlier items as the checkpoint's test did
            (``eval_exclude_history``); True: hide them; False: rank them too.
        position (str): ``test`` (the test evaluation's input, default) or ``next`` (after the whole history).
        batch_size (int): users per batch (default: the checkpoint's ``eval_batch_size``).
        show_progress (bool): a progress bar on stderr; None: when stderr is a terminal.

    Returns:
        a DataFrame of ``user``, ``rank`` (1-based), ``item``, ``score``, or, with ``out``, a
        :data:`RecommendationFile` ``(path, users, rows)``.
    """
    _check_arguments(topk, users, position, batch_size)
    lists = dict(checkpoint=checkpoint, topk=topk, users=users, exclude_history=exclude_history, position=position,
                 batch_size=batch_size, trust_checkpoint=trust_checkpoint, show_progress=show_progress)
    if out is None:
        frames = [frame for frame, _ in _frames(**lists)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(COLUMNS))
    file_format = output_format(out, file_format)
    if file_format == "parquet":
        require_pyarrow()
    rows = users_written = 0
    with AtomicOutput(out, file_format, "pass another output file, in a folder you can write") as output:
        for frame, batch_users in _frames(**lists):
            output.write(frame)
            rows, users_written = rows + len(frame), users_written + batch_users
        output.commit()
    return RecommendationFile(str(out), users_written, rows)


def _frames(checkpoint, topk, users, exclude_history, position, batch_size, trust_checkpoint, show_progress):
    """Load the checkpoint and yield each batch's rows (a DataFrame) with its number of users."""
    header = read_checkpoint_header(checkpoint, trust_checkpoint)
    check_sequential(header, checkpoint)
    config_dict = None if exclude_history is None else {"eval_exclude_history": bool(exclude_history)}
    config, model, dataset, test_data = load_trained(checkpoint, header, trust_checkpoint, config_dict,
                                                     use="recommend with")
    items = dataset.item_num - 1  # without the padding item
    if topk > items:
        raise ConfigurationError(f"topk {topk} is more than the {items} items of dataset {dataset.dataset_name}: "
                                 f"choose 1 to {items}.")
    rows = user_rows(dataset, test_data._dataset, users)
    loader = _loader(config, dataset, test_data, rows, position, exclude_history, batch_size)
    for batch_users, ids, scores in ranked_batches(config, model, dataset, loader, topk, show_progress):
        yield batch_frame(dataset, batch_users, ids, scores), len(batch_users)
