"""The interaction and item frames: k-core filtering, ordering, one row per item."""

import numpy as np
import pandas as pd

from .report import PrepareError


def kcore_filter(frame, k, user="user_id", item="item_id"):
    """Keep only users and items with at least ``k`` interactions, repeating until stable.

    Removing a rare item can push a user under ``k`` and the other way round, so the user and
    the item filter alternate until a full round removes nothing.  Returns the filtered frame
    (original row order) and the number of rounds.  ``k`` of 0 or 1 returns ``frame`` unchanged.
    """
    if k is None or k <= 1 or frame.empty:
        return frame, 0
    users = pd.factorize(frame[user])[0]
    items = pd.factorize(frame[item])[0]
    rows = np.arange(len(frame))
    rounds = 0
    while True:
        rounds += 1
        before = len(rows)
        keep = np.bincount(users)[users] >= k
        users, items, rows = users[keep], items[keep], rows[keep]
        keep = np.bincount(items)[items] >= k
        users, items, rows = users[keep], items[keep], rows[keep]
        if len(rows) == before or len(rows) == 0:
            return (frame if len(rows) == len(frame) else frame.iloc[rows]), rounds


def apply_kcore(frame, k, report, path):
    """Run :func:`kcore_filter`, note what it removed, and fail if nothing is left."""
    if not k or k <= 1:
        return frame
    users, items, actions = frame["user_id"].nunique(), frame["item_id"].nunique(), len(frame)
    frame, rounds = kcore_filter(frame, k)
    if frame.empty:
        raise PrepareError(
            f"{path}: no interactions left after {k}-core filtering; expected users and items "
            f"with at least {k} interactions each (try a smaller --kcore)"
        )
    report.note(
        f"{k}-core filter: stable after {rounds} round(s); removed {actions - len(frame):,} actions, "
        f"{users - frame['user_id'].nunique():,} users, {items - frame['item_id'].nunique():,} items"
    )
    return frame


def sort_interactions(frame):
    """Order by user (natural order: ``2`` before ``10``), then time; ties keep their input order."""
    rank = pd.Categorical(frame["user_id"], categories=sorted_ids(frame["user_id"])).codes
    order = np.lexsort((frame["timestamp"].to_numpy(), rank))
    return frame.iloc[order].reset_index(drop=True)


def item_frame(item_ids, rows, columns):
    """One row per id in ``item_ids``: the dict in ``rows`` for that id, or empty fields.

    Returns the frame and how many ids had no row.
    """
    empty = {column: "" for column in columns}
    records = []
    missing = 0
    for item_id in item_ids:
        row = rows.get(item_id)
        if row is None:
            missing += 1
            row = empty
        records.append({"item_id": item_id, **{column: row.get(column, "") for column in columns}})
    return pd.DataFrame(records, columns=["item_id", *columns]), missing


def sorted_ids(values):
    """Distinct ids in natural order (numeric when they are numbers)."""
    ids = pd.unique(pd.Series(values))
    try:
        return sorted(ids, key=lambda value: (int(value), str(value)))
    except (TypeError, ValueError):
        return sorted(ids, key=str)
