"""Amazon review data (McAuley et al., 2014 release) to RecBole atomic files.

Interactions come from either

* ``reviews_<Category>_5.json.gz``: one JSON object per line with ``reviewerID``, ``asin``,
  ``unixReviewTime`` and ``overall`` (the rating), or
* ``ratings_<Category>.csv``: ``user,item,rating,timestamp`` lines without a header.

Item fields come from the optional ``meta_<Category>.json.gz`` whose lines are Python literals
(single-quoted dicts); they are parsed with :func:`ast.literal_eval` (JSON lines also work).

Output fields:

* ``.inter``: ``user_id:token item_id:token rating:float timestamp:float``
* ``.item``: ``item_id:token title:token_seq brand:token categories:token_seq cat_2:token
  cat_3:token cat_leaf:token price:float description:token_seq`` (``cat_2`` and ``cat_3``: the second
  and third level of the first category path; ``cat_leaf``: its last name)

Users and items are k-core filtered (default 5) until stable, as S3-Rec did.
"""

import ast
import json
import re
from pathlib import Path

import pandas as pd

from .common import (
    DESCRIPTION_WORDS, Report, apply_kcore, category_fields, check_input_file,
    check_name, clean_brand, clean_text, finish, item_frame, iter_csv_rows, iter_lines,
    require_rows, slug, sort_interactions, sorted_ids, words,
)

INTER_TYPES = {"user_id": "token", "item_id": "token", "rating": "float", "timestamp": "float"}
ITEM_TYPES = {
    "item_id": "token", "title": "token_seq", "brand": "token", "categories": "token_seq",
    "cat_2": "token", "cat_3": "token", "cat_leaf": "token", "price": "float", "description": "token_seq",
}

REVIEWS_EXPECTED = "Amazon reviews: one JSON object per line with reviewerID, asin, unixReviewTime, overall"
RATINGS_EXPECTED = "Amazon ratings: lines user,item,rating,timestamp without a header"
META_EXPECTED = "Amazon metadata: one dict per line (Python literal or JSON) with asin, title, categories, brand"
REVIEW_KEYS = ("reviewerID", "asin", "unixReviewTime")

_FILE_CATEGORY = re.compile(r"^(?:reviews|ratings|meta)_(.+?)(?:_5)?\.(?:json|csv)", re.IGNORECASE)
_ASIN = re.compile(r"""['"]asin['"]\s*:\s*['"]([^'"]+)['"]""")


def category_of(path):
    """``reviews_Sports_and_Outdoors_5.json.gz`` -> ``Sports_and_Outdoors`` (None if unrecognised)."""
    match = _FILE_CATEGORY.match(Path(path).name)
    return match.group(1) if match else None


def default_name(path):
    """``reviews_Beauty_5.json.gz`` -> ``amazon-beauty``; ``..._Toys_and_Games_...`` -> ``amazon-toys-games``."""
    category = category_of(path)
    return f"amazon-{slug(category)}" if category else slug(Path(path).name.split(".")[0])


def default_meta(path):
    """``meta_<Category>.json.gz`` beside the reviews file, when it exists."""
    category = category_of(path)
    if category is None:
        return None
    for candidate in (f"meta_{category}.json.gz", f"meta_{category}.json"):
        meta = Path(path).with_name(candidate)
        if meta.exists():
            return meta
    return None


def is_csv(path):
    """Whether the interactions file is the headerless ratings CSV (else JSON lines)."""
    name = Path(path).name.lower()
    if ".csv" in name:
        return True
    if ".json" in name:
        return False
    for _, text in iter_lines(path, Report().track(path)):
        if text.strip():
            return not text.lstrip().startswith("{")
    return False


def parse_record(text):
    """One dict from a line that is JSON or a Python literal; ValueError if it is neither."""
    for parse in (json.loads, ast.literal_eval):
        try:
            record = parse(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(record, dict):
            return record
    raise ValueError("not a JSON object or Python dict literal")


def read_reviews(path, report):
    """Interactions from a JSON-lines review file as a DataFrame."""
    issues = report.track(path)
    users, items, ratings, times = [], [], [], []
    for number, text in iter_lines(path, issues):
        if not text.strip():
            continue
        try:
            record = parse_record(text)
            missing = [key for key in REVIEW_KEYS if key not in record]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            timestamp = int(record["unixReviewTime"])
            rating = float(record.get("overall", "nan"))
        except (ValueError, TypeError) as error:
            issues.warn(number, f"not a review record ({error})")
            continue
        users.append(str(record["reviewerID"]))
        items.append(str(record["asin"]))
        ratings.append(rating)
        times.append(timestamp)
    require_rows(len(users), path, REVIEWS_EXPECTED)
    return pd.DataFrame({"user_id": users, "item_id": items, "rating": ratings, "timestamp": times})


def read_ratings(path, report):
    """Interactions from a headerless ``user,item,rating,timestamp`` CSV as a DataFrame."""
    issues = report.track(path)
    users, items, ratings, times = [], [], [], []
    for number, row in iter_csv_rows(path, issues):
        if len(row) != 4:
            issues.warn(number, f"expected 4 comma-separated fields (user,item,rating,timestamp), found {len(row)}")
            continue
        try:
            rating, timestamp = float(row[2]), int(float(row[3]))
        except (ValueError, OverflowError):
            issues.warn(number, f"rating and timestamp must be numbers, got {row[2]!r}, {row[3]!r}")
            continue
        users.append(row[0].strip())
        items.append(row[1].strip())
        ratings.append(rating)
        times.append(timestamp)
    require_rows(len(users), path, RATINGS_EXPECTED)
    return pd.DataFrame({"user_id": users, "item_id": items, "rating": ratings, "timestamp": times})


def _price(value):
    """A price as a float, or ``""`` when absent or unreadable (``"$1,299.00"`` works)."""
    if value is None or value == "":
        return ""
    try:
        return float(str(value).replace("$", "").replace(",", "").strip())
    except ValueError:
        return ""


def category_paths(record):
    """Category paths of a metadata record: 2014 ``categories`` (list of lists) or 2018 ``category``."""
    paths = record.get("categories")
    if paths is None and isinstance(record.get("category"), list):
        paths = [record["category"]]
    if not isinstance(paths, list):
        return []
    return [path if isinstance(path, list) else [path] for path in paths]


def meta_fields(record):
    """The item fields of one metadata record."""
    description = record.get("description", "")
    if isinstance(description, list):
        description = " ".join(map(str, description))
    return {
        "title": words(record.get("title", "")),
        "brand": clean_brand(record.get("brand", "")),
        **category_fields(category_paths(record)),
        "price": _price(record.get("price")),
        "description": words(description, DESCRIPTION_WORDS),
    }


def read_meta(path, wanted, report):
    """``{asin: item fields}`` for the asins in ``wanted`` from a metadata file."""
    issues = report.track(path)
    rows = {}
    seen = 0
    for number, text in iter_lines(path, issues):
        if not text.strip():
            continue
        quick = _ASIN.search(text)
        if quick is not None and quick.group(1) not in wanted:
            seen += 1
            continue
        try:
            record = parse_record(text)
            asin = clean_text(record["asin"])
        except (ValueError, KeyError) as error:
            issues.warn(number, f"not a metadata record ({error})")
            continue
        seen += 1
        if asin in wanted:
            rows[asin] = meta_fields(record)
    require_rows(seen, path, META_EXPECTED)
    return rows


def read_interactions(path, report):
    """Reviews (JSON lines) or ratings (CSV), whichever ``path`` holds."""
    expected = RATINGS_EXPECTED if ".csv" in Path(path).name.lower() else REVIEWS_EXPECTED
    check_input_file(path, expected)
    return read_ratings(path, report) if is_csv(path) else read_reviews(path, report)


def convert_amazon(reviews, meta=None, name=None, out="dataset", kcore=5):
    """Convert Amazon reviews (+ metadata) to ``<out>/<name>/<name>.inter`` and ``.item``.

    Args:
        reviews: ``reviews_<Category>_5.json.gz`` or ``ratings_<Category>.csv``.
        meta: ``meta_<Category>.json.gz``; default: that file beside ``reviews`` if present.
            Without metadata the ``.item`` file holds only the item ids.
        name: dataset name; default ``amazon-<category>`` (``amazon-sports-outdoors``).
        out: parent folder of the dataset folder.
        kcore: user/item k-core filter repeated until stable (0 or 1: none).

    Returns:
        :class:`~recbole_fame.prepare.common.Stats`.
    """
    reviews = Path(reviews)
    name = check_name(name or default_name(reviews))
    meta = Path(meta) if meta else default_meta(reviews)
    if meta is not None:
        check_input_file(meta, META_EXPECTED)
    report = Report()
    inter = read_interactions(reviews, report)
    report.note(f"read {len(inter):,} interactions from {reviews}")
    inter = apply_kcore(inter, kcore, report, reviews)
    inter = sort_interactions(inter)
    item_ids = sorted_ids(inter["item_id"])
    if meta is None:
        report.note(f"no metadata file given or found beside {reviews}: {name}.item has item ids only")
        items, types = pd.DataFrame({"item_id": item_ids}), {"item_id": "token"}
    else:
        rows = read_meta(meta, set(item_ids), report)
        items, missing = item_frame(item_ids, rows, list(ITEM_TYPES)[1:])
        types = ITEM_TYPES
        if missing:
            report.note(f"{missing:,} items have no record in {meta}: their item fields are empty")
    label = category_of(reviews) or name
    return finish(name, inter, items, INTER_TYPES, types, out, report, label=label)
