"""Sequence files (the S3-Rec / CL4SRec / ICLRec format) to RecBole atomic files.

A sequence file (``Beauty.txt``) has one line per user, ``user item item ...``, items in time
order and no timestamps.  The converter writes the position of each item in its user's line
(0, 1, 2, ...) as ``timestamp:float``, so RecBole's time ordering reproduces the file order.

An optional item table (tab-separated, with a header) adds item fields.  Recognised columns:
``iclrec_item_id`` or ``item_id`` (the ids used in the sequence file, required), ``title``,
``categories`` (a path such as ``Beauty > Makeup > Nails > Nail Polish``; several paths may be
separated by ``;``), ``brand`` and ``s3rec_attributes`` (``|``-separated; its first entry is the
brand when it is not one of the item's categories).

Output fields:

* ``.inter``: ``user_id:token item_id:token timestamp:float``
* ``.item``: ``item_id:token title:token_seq brand:token categories:token_seq cat_2:token cat_leaf:token``

The usual files are already 5-core, so no k-core filter is applied unless ``--kcore`` asks.
"""

from pathlib import Path

import pandas as pd

from .common import (
    PrepareError, Report, apply_kcore, category_fields, check_input_file, check_name, clean_brand,
    clean_text, finish, item_frame, iter_csv_rows, iter_lines, require_rows, slug,
    sort_interactions, sorted_ids, words,
)

INTER_TYPES = {"user_id": "token", "item_id": "token", "timestamp": "float"}
ITEM_TYPES = {
    "item_id": "token", "title": "token_seq", "brand": "token", "categories": "token_seq",
    "cat_2": "token", "cat_leaf": "token",
}

SEQ_EXPECTED = "a sequence file: one line per user, 'user_id item_id item_id ...' in time order"
ITEMS_EXPECTED = (
    "a tab-separated item table with a header holding iclrec_item_id (or item_id) and some of "
    "title, categories, brand, s3rec_attributes"
)
ID_COLUMNS = ("iclrec_item_id", "item_id")
FIELD_COLUMNS = ("title", "categories", "brand", "s3rec_attributes")

#: Dataset names for the sequence files distributed with S3-Rec and its successors.
KNOWN_NAMES = {
    "beauty": "amazon-beauty",
    "sports_and_outdoors": "amazon-sports-outdoors",
    "toys_and_games": "amazon-toys-games",
}


def default_name(path):
    """``Beauty.txt`` -> ``amazon-beauty``; other files: their lower-cased stem."""
    stem = Path(path).name.split(".")[0]
    return KNOWN_NAMES.get(stem.lower(), slug(stem))


def read_sequences(path, report):
    """Interactions from a sequence file, with the position in the line as ``timestamp``."""
    issues = report.track(path)
    users, items, positions = [], [], []
    first_line = {}
    for number, text in iter_lines(path, issues):
        tokens = text.split()
        if not tokens:
            continue
        if len(tokens) < 2:
            issues.warn(number, "expected a user id followed by at least one item id")
            continue
        user = tokens[0]
        if user in first_line:
            issues.warn(number, f"user {user} already has a sequence on line {first_line[user]}")
            continue
        first_line[user] = number
        sequence = tokens[1:]
        users.extend([user] * len(sequence))
        items.extend(sequence)
        positions.extend(range(len(sequence)))
    require_rows(len(users), path, SEQ_EXPECTED)
    return pd.DataFrame({"user_id": users, "item_id": items, "timestamp": positions})


def split_paths(value):
    """``"A > B > C; A > D"`` -> ``[["A", "B", "C"], ["A", "D"]]``."""
    return [[name.strip() for name in path.split(">")] for path in clean_text(value).split(";") if path.strip()]


def table_brand(row, paths):
    """The brand of an item-table row: the ``brand`` column, else the first ``s3rec_attributes``
    entry when it is not one of the item's category names."""
    if row.get("brand"):
        return clean_brand(row["brand"])
    attributes = [clean_text(value) for value in row.get("s3rec_attributes", "").split("|")]
    attributes = [value for value in attributes if value]
    categories = {name for path in paths for name in path}
    if attributes and attributes[0] not in categories:
        return clean_brand(attributes[0])
    return ""


def table_fields(row):
    """The item fields of one item-table row (a dict of column -> text)."""
    paths = split_paths(row.get("categories", ""))
    return {"title": words(row.get("title", "")), "brand": table_brand(row, paths), **category_fields(paths)}


def read_item_table(path, report):
    """``{item_id: item fields}`` from a tab-separated item table."""
    issues = report.track(path)
    rows = {}
    header = None
    for number, cells in iter_csv_rows(path, issues, delimiter="\t", lenient=True):
        if header is None:
            header = [cell.strip().lstrip("\ufeff") for cell in cells]
            id_column = next((name for name in ID_COLUMNS if name in header), None)
            if id_column is None or not set(FIELD_COLUMNS) & set(header):
                raise PrepareError(f"{path}: header {'|'.join(header)!r} lacks the needed columns; expected {ITEMS_EXPECTED}")
            continue
        if len(cells) != len(header):
            issues.warn(number, f"expected {len(header)} tab-separated fields, found {len(cells)}")
            continue
        row = dict(zip(header, cells))
        item_id = row[id_column].strip()
        if not item_id:
            issues.warn(number, f"empty {id_column}")
            continue
        rows[item_id] = table_fields(row)
    if header is None:
        raise PrepareError(f"{path}: no header line; expected {ITEMS_EXPECTED}")
    require_rows(len(rows), path, ITEMS_EXPECTED)
    return rows


def empty_fields(table):
    """The item fields of ``table`` that no item has a value in."""
    return [column for column in table.columns if column != "item_id"
            and not table[column].astype(str).str.strip().ne("").any()]


def warn_empty_fields(table, name, items, report):
    """Item fields the item table gives no item: a warning for those the dataset yaml lists as text or facet
    fields (the text pre-training leaves an empty facet out, with a warning, when it runs), a note for the rest."""
    import sys

    empty = empty_fields(table)
    if not empty:
        return []
    listed = {}
    try:
        from recbole_fame.defaults import load_yaml, property_file

        yaml_file = property_file("dataset", name)
        settings = load_yaml(yaml_file) if yaml_file else {}
    except (ImportError, OSError):
        yaml_file, settings = None, {}
    for key in ("text_fields", "facet_fields"):
        for field in settings.get(key) or []:
            if field in empty:
                listed.setdefault(field, []).append(key)
    for field in empty:
        what = f"{items}: no item has a {field} (the table has no such column, or it is empty)"
        if field in listed:
            print(f"warning: {what}; {yaml_file} lists it in {' and '.join(listed[field])}: the text pre-training "
                  f"leaves an empty facet out (with a warning), or drop {field} there", file=sys.stderr)
        else:
            report.note(what)
    return empty


def convert_seqfile(sequences, items=None, name=None, out="dataset", kcore=0):
    """Convert a sequence file (+ item table) to ``<out>/<name>/<name>.inter`` and ``.item``.

    Args:
        sequences: the sequence file (``Beauty.txt``).
        items: optional tab-separated item table; without it the ``.item`` file holds only ids.
        name: dataset name; default from the file name (``Beauty.txt`` -> ``amazon-beauty``).
        out: parent folder of the dataset folder.
        kcore: user/item k-core filter repeated until stable (default 0: none).

    Returns:
        :class:`~recbole_fame.prepare.common.Stats`.
    """
    sequences = check_input_file(sequences, SEQ_EXPECTED)
    name = check_name(name or default_name(sequences))
    if items is not None:
        items = check_input_file(items, ITEMS_EXPECTED)
    report = Report()
    inter = read_sequences(sequences, report)
    report.note(f"read {len(inter):,} interactions from {sequences} (timestamp = position in the line)")
    inter = sort_interactions(apply_kcore(inter, kcore, report, sequences))
    item_ids = sorted_ids(inter["item_id"])
    if items is None:
        report.note(f"no item table given: {name}.item has item ids only")
        table, types = pd.DataFrame({"item_id": item_ids}), {"item_id": "token"}
    else:
        table, missing = item_frame(item_ids, read_item_table(items, report), list(ITEM_TYPES)[1:])
        types = ITEM_TYPES
        if missing:
            report.note(f"{missing:,} items have no row in {items}: their item fields are empty")
        warn_empty_fields(table, name, items, report)
    label = sequences.name.split(".")[0]
    return finish(name, inter, table, INTER_TYPES, types, out, report, label=label)
