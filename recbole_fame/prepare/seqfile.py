"""Sequence files (the S3-Rec / CL4SRec / ICLRec format) to RecBole atomic files.

A sequence file (``Beauty.txt``) has one line per user, ``user item item ...``, items in time
order and no timestamps.  The converter writes the position of each item in its user's line
(0, 1, 2, ...) as ``timestamp:float``, so RecBole's time ordering reproduces the file order.

An optional item table (tab-separated, with a header) adds item fields.  Recognised columns:
``iclrec_item_id`` or ``item_id`` (the ids used in the sequence file, required), and some of

* ``title`` and ``keywords``: item text;
* ``categories``: a path of names such as ``Beauty > Makeup > Nails > Nail Polish`` (several paths may be
  separated by ``;``);
* ``brand``;
* ``s3rec_attributes``: S3-Rec's attribute names, ``|``-separated (Beauty's table); the first is the brand
  when it is not one of the item's categories;
* ``s3rec_attribute_ids``: S3-Rec's attribute ids, ``|``-separated (Sports' table; the names are unknown),
  written by S3-Rec as the brand, if the item has one, then each category path without its top level.  The
  first id is the brand unless it is a second-level category (an id that follows the first id of another
  item): then the item has no brand.  The ids after the brand are the categories: ``cat_2`` and ``cat_3``
  are the first two (the second and third level of the first path) and ``cat_leaf`` the last (the paths
  are not delimited, so for an item with several paths this is the leaf of its last one).  Ids that stand
  for "no brand" (a placeholder such as Sports' 23) are passed as ``no_brand_ids``.

Names come first: ``categories`` gives the category fields and ``brand`` or ``s3rec_attributes`` the brand
when the table has them, the attribute ids otherwise.

Output fields:

* ``.inter``: ``user_id:token item_id:token timestamp:float``
* ``.item``: ``item_id:token title:token_seq brand:token categories:token_seq cat_2:token cat_leaf:token``,
  plus ``keywords:token_seq`` when the table has a ``keywords`` column and ``cat_3:token`` when it has
  ``s3rec_attribute_ids`` (the second level of Sports' paths is one id for almost every item; the third is
  the first that varies).  Tables without these columns, such as Beauty's, give the five fields alone.

The usual files are already 5-core, so no k-core filter is applied unless ``--kcore`` asks.
"""

from collections import Counter
from pathlib import Path

import pandas as pd

from .common import (
    PrepareError, Report, apply_kcore, category_fields, check_input_file, check_name, clean_brand,
    clean_text, finish, item_frame, iter_csv_rows, iter_lines, path_levels, require_rows, slug,
    sort_interactions, sorted_ids, unique, words,
)

INTER_TYPES = {"user_id": "token", "item_id": "token", "timestamp": "float"}
ITEM_TYPES = {
    "item_id": "token", "title": "token_seq", "keywords": "token_seq", "brand": "token",
    "categories": "token_seq", "cat_2": "token", "cat_3": "token", "cat_leaf": "token",
}
#: Item fields written only when the item table has the column named here; the others are always written.
OPTIONAL_FIELDS = {"keywords": "keywords", "cat_3": "s3rec_attribute_ids"}

SEQ_EXPECTED = "a sequence file: one line per user, 'user_id item_id item_id ...' in time order"
ITEMS_EXPECTED = (
    "a tab-separated item table with a header holding iclrec_item_id (or item_id) and some of "
    "title, keywords, categories, brand, s3rec_attributes, s3rec_attribute_ids"
)
ID_COLUMNS = ("iclrec_item_id", "item_id")
FIELD_COLUMNS = ("title", "keywords", "categories", "brand", "s3rec_attributes", "s3rec_attribute_ids")

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


def split_ids(value):
    """``"12|2|5"`` -> ``["12", "2", "5"]``."""
    return [part for part in (clean_text(part) for part in value.split("|")) if part]


def second_level_ids(id_lists):
    """The ids that follow the first id of some item.  S3-Rec writes the brand first, so these are the
    second-level categories, with which an item without a brand starts.  (A brand whose id also appears
    deeper in category paths, as some brands are Amazon categories too, stays a brand.)"""
    return {ids[1] for ids in id_lists if len(ids) > 1}


def id_fields(ids, second_level, no_brand_ids=()):
    """The brand and category fields of an item from its S3-Rec attribute ids (see the module docstring)."""
    has_brand = bool(ids) and ids[0] not in second_level
    path = ids[1:] if has_brand else ids
    return {
        "brand": ids[0] if has_brand and ids[0] not in no_brand_ids else "",
        "categories": " ".join(unique(path)),
        **path_levels(path, first_level=2),
    }


def table_fields(row, second_level=frozenset(), no_brand_ids=()):
    """The item fields of one item-table row (a dict of column -> text); names, where the table has them,
    take precedence over attribute ids."""
    fields = {"title": words(row.get("title", "")), "keywords": words(row.get("keywords", ""))}
    if "s3rec_attribute_ids" in row:
        fields.update(id_fields(split_ids(row["s3rec_attribute_ids"]), second_level, no_brand_ids))
    paths = split_paths(row.get("categories", ""))
    if "categories" in row:
        fields.update(category_fields(paths))
    if "brand" in row or "s3rec_attributes" in row:
        fields["brand"] = table_brand(row, paths)
    return fields


def brand_id_note(path, id_lists, second_level, no_brand_ids):
    """One summary line on the brands read from attribute ids: how many items have one, and the commonest
    (a brand on a large share of items in every category is likely a placeholder for "no brand")."""
    firsts = [ids[0] for ids in id_lists if ids and ids[0] not in second_level]
    placeholders = sum(1 for first in firsts if first in no_brand_ids)
    counts = Counter(first for first in firsts if first not in no_brand_ids)
    text = f"{path}: {len(firsts) - placeholders:,} of {len(id_lists):,} items have a brand id"
    if no_brand_ids:
        text += f", {placeholders:,} have {', '.join(sorted(no_brand_ids))}, taken as no brand (--no_brand_ids)"
    if counts:
        top, count = counts.most_common(1)[0]
        text += f"; the commonest brand id, {top}, is on {count:,} items ({count / len(id_lists):.1%})"
    return text


def read_item_table(path, report, no_brand_ids=()):
    """``({item_id: item fields}, header)`` from a tab-separated item table."""
    issues = report.track(path)
    rows = {}
    header = None
    for number, cells in iter_csv_rows(path, issues, delimiter="\t", lenient=True):
        if header is None:
            header = [cell.strip().lstrip("\ufeff") for cell in cells]
            id_column = next((name for name in ID_COLUMNS if name in header), None)
            if id_column is None or not set(FIELD_COLUMNS) & set(header):
                raise PrepareError(
                    f"{path}: header {'|'.join(header)!r} lacks the needed columns; expected {ITEMS_EXPECTED}")
            continue
        if len(cells) != len(header):
            issues.warn(number, f"expected {len(header)} tab-separated fields, found {len(cells)}")
            continue
        row = dict(zip(header, cells))
        item_id = row[id_column].strip()
        if not item_id:
            issues.warn(number, f"empty {id_column}")
            continue
        rows[item_id] = row
    if header is None:
        raise PrepareError(f"{path}: no header line; expected {ITEMS_EXPECTED}")
    require_rows(len(rows), path, ITEMS_EXPECTED)
    second_level, no_brand_ids = set(), {str(value) for value in no_brand_ids or ()}
    if "s3rec_attribute_ids" in header:
        id_lists = [split_ids(row["s3rec_attribute_ids"]) for row in rows.values()]
        second_level = second_level_ids(id_lists)
        report.note(brand_id_note(path, id_lists, second_level, no_brand_ids))
    return {item_id: table_fields(row, second_level, no_brand_ids) for item_id, row in rows.items()}, header


def table_types(header):
    """The ``.item`` fields and types for an item table with these columns (see :data:`OPTIONAL_FIELDS`)."""
    return {field: kind for field, kind in ITEM_TYPES.items()
            if field not in OPTIONAL_FIELDS or OPTIONAL_FIELDS[field] in header}


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


def convert_seqfile(sequences, items=None, name=None, out="dataset", kcore=0, no_brand_ids=None):
    """Convert a sequence file (+ item table) to ``<out>/<name>/<name>.inter`` and ``.item``.

    Args:
        sequences: the sequence file (``Beauty.txt``).
        items: optional tab-separated item table; without it the ``.item`` file holds only ids.
        name: dataset name; default from the file name (``Beauty.txt`` -> ``amazon-beauty``).
        out: parent folder of the dataset folder.
        kcore: user/item k-core filter repeated until stable (default 0: none).
        no_brand_ids: attribute ids that stand for "no brand" when they come first in
            ``s3rec_attribute_ids`` (``["23"]`` for Sports); those items get an empty brand.

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
        rows, header = read_item_table(items, report, no_brand_ids)
        types = table_types(header)
        table, missing = item_frame(item_ids, rows, list(types)[1:])
        if missing:
            report.note(f"{missing:,} items have no row in {items}: their item fields are empty")
        warn_empty_fields(table, name, items, report)
    label = sequences.name.split(".")[0]
    return finish(name, inter, table, INTER_TYPES, types, out, report, label=label)
