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


def path_levels(path, first_level=1):
    """``cat_2``, ``cat_3`` (the second and third level) and ``cat_leaf`` (the last entry) of one category
    path, most general first, whose first entry is level ``first_level``: 1 for Amazon's paths, which start
    at the top level (``Beauty``), 2 for S3-Rec's, which leave it out.  Missing levels are ``""``."""
    def level(number):
        index = number - first_level
        return path[index] if 0 <= index < len(path) else ""

    return {"cat_2": level(2), "cat_3": level(3), "cat_leaf": path[-1] if path else ""}


def category_fields(paths):
    """Item facets from category paths (lists of names, most general first, top level included).

    Returns ``categories`` (every name of every path, as tokens) and the :func:`path_levels` of the
    first path: ``cat_2``, ``cat_3`` and ``cat_leaf``.
    """
    paths = [[category_token(name) for name in path] for path in paths]
    paths = [[name for name in path if name] for path in paths]
    paths = [path for path in paths if path]
    return {
        "categories": " ".join(unique(name for path in paths for name in path)),
        **path_levels(paths[0] if paths else []),
    }


def clean_brand(value):
    """A brand as one token (spaces kept); placeholders such as ``Unknown`` count as missing."""
    brand = clean_text(value)
    return "" if brand.lower() in {"unknown", "n/a", "na", "none", "null", "-"} else brand
