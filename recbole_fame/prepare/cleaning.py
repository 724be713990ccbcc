"""Text cleaning for atomic-file cells: free text, category tokens and paths, brands."""

import html
import re

import numpy as np

#: Words kept from a free-text description.
DESCRIPTION_WORDS = 64

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


def clean_text(value):
    """Text safe for one cell of an atomic file: HTML entities decoded, control characters,
    tabs and newlines removed, whitespace collapsed, double quotes turned into single ones
    (RecBole reads the files with pandas, which would treat a leading ``"`` as quoting).
    Missing values give ``""``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = html.unescape(str(value))
    text = _CONTROL.sub(" ", text).replace('"', "'")
    return _SPACES.sub(" ", text).strip()


def category_token(value):
    """A category name as one token: cleaned, inner spaces replaced by ``_``."""
    return clean_text(value).replace(" ", "_")


def words(value, limit=None):
    """Cleaned text as a ``token_seq`` cell (space-separated words), cut to ``limit`` words."""
    tokens = clean_text(value).split(" ")
    if limit is not None:
        tokens = tokens[:limit]
    return " ".join(token for token in tokens if token)


def unique(values):
    """The values without repeats or blanks, first occurrence order."""
    seen = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return seen


def category_fields(paths):
    """Item facets from category paths (lists of names, most general first).

    Returns ``categories`` (every name of every path, as tokens), ``cat_2`` (second level of the
    first path) and ``cat_leaf`` (last name of the first path).
    """
    paths = [[category_token(name) for name in path] for path in paths]
    paths = [[name for name in path if name] for path in paths]
    paths = [path for path in paths if path]
    first = paths[0] if paths else []
    return {
        "categories": " ".join(unique(name for path in paths for name in path)),
        "cat_2": first[1] if len(first) > 1 else "",
        "cat_leaf": first[-1] if first else "",
    }


def clean_brand(value):
    """A brand as one token (spaces kept); placeholders such as ``Unknown`` count as missing."""
    brand = clean_text(value)
    return "" if brand.lower() in {"unknown", "n/a", "na", "none", "null", "-"} else brand
