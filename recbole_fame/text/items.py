"""Item text and facet labels from a RecBole dataset's item features.

RecBole loads the ``.item`` file into ``dataset.item_feat``, one row per item id (row 0 is the padding
item). Token fields are turned back into their tokens with ``dataset.field2id_token``, token_seq fields
into their tokens joined with spaces, float fields into numbers. Underscores, which the plugin's converters
use to keep multi-word names in one token (``Nail_Polish``), become spaces in the text (labels keep them).

An item's text is its fields' values joined with ``". "`` in the order of ``text_fields``, skipping empty
values. Items with no value in any text field (or absent from the ``.item`` file) get the empty text, which
the encoder still embeds.

A facet field must be categorical (token or token_seq): its labels are the field's tokens; ``[PAD]`` and
empty tokens mean "no label". Labels are returned as an [n_items, m] tensor of label ids, -1 padded, where m
is the most labels any item has (1 for a token field).
"""

from logging import getLogger

import torch
from recbole.utils import FeatureType

from recbole_fame.errors import ConfigurationError

_TEXT_TYPES = (FeatureType.TOKEN, FeatureType.TOKEN_SEQ, FeatureType.FLOAT, FeatureType.FLOAT_SEQ)
_FACET_TYPES = (FeatureType.TOKEN, FeatureType.TOKEN_SEQ)
_MISSING = ("", "[PAD]")


def item_fields(dataset):
    """Names of the item features RecBole loaded (without the item id field)."""
    if dataset.item_feat is None:
        return []
    return [field for field in dataset.item_feat.columns if field != dataset.iid_field]


def _no_item_features(dataset, setting):
    return ConfigurationError(
        f"{setting} needs item features, but dataset '{dataset.dataset_name}' has none loaded: put the fields in "
        f"its .item file and list them in load_col, e.g. load_col: {{inter: [user_id, item_id, timestamp], "
        f"item: [item_id, title, ...]}}."
    )


def check_fields(dataset, fields, setting, allowed_types):
    """Raise one :class:`ConfigurationError` naming every field of ``fields`` that cannot be used."""
    if dataset.item_feat is None:
        raise _no_item_features(dataset, setting)
    available = item_fields(dataset)
    usable = [f for f in available if dataset.field2type[f] in allowed_types]
    unknown = [f for f in fields if f not in available]
    wrong_type = [f for f in fields if f in available and dataset.field2type[f] not in allowed_types]
    problems = []
    if unknown:
        problems.append(f"{', '.join(map(repr, unknown))} {'is not an item field' if len(unknown) == 1 else 'are not item fields'}")
    if wrong_type:
        problems.append(
            f"{', '.join(f'{f!r} ({dataset.field2type[f].value})' for f in wrong_type)} cannot be used here "
            f"(allowed types: {', '.join(t.value for t in allowed_types)})"
        )
    if problems:
        raise ConfigurationError(
            f"{setting} of dataset '{dataset.dataset_name}': {'; '.join(problems)}. Item fields it can use: "
            f"{', '.join(usable) or 'none'}. Fix the spelling in {setting}, or add the field to the .item file and "
            "to load_col['item']."
        )


def field_values(dataset, field):
    """The text of ``field`` for every item id, a list of ``n_items`` strings ('' where missing)."""
    ftype = dataset.field2type[field]
    column = dataset.item_feat[field]
    if ftype in (FeatureType.TOKEN, FeatureType.TOKEN_SEQ):
        tokens = dataset.field2id_token[field]
        rows = column.view(len(column), -1).tolist()
        values = [" ".join(str(tokens[i]) for i in row if i > 0 and tokens[i] not in _MISSING) for row in rows]
    else:
        rows = column.view(len(column), -1).tolist()
        values = [" ".join(f"{v:g}" for v in row) for row in rows]
    return [value.replace("_", " ").strip() for value in values]


def item_texts(dataset, fields, separator=". "):
    """``(texts, n_empty)``: one text per item id (the padding item 0 gets ''), and how many real items
    have no text at all."""
    check_fields(dataset, fields, "text_fields", _TEXT_TYPES)
    columns = [field_values(dataset, field) for field in fields]
    texts = [separator.join(value for value in values if value) for values in zip(*columns)]
    texts[0] = ""
    n_empty = sum(1 for text in texts[1:] if not text)
    return texts, n_empty


def facet_labels(dataset, field):
    """``(labels, names)``: [n_items, m] label ids (-1 padded) of the categorical field, and the label names."""
    check_fields(dataset, [field], "facet_fields", _FACET_TYPES)
    tokens = dataset.field2id_token[field]
    column = dataset.item_feat[field]
    column = column.view(len(column), -1)
    valid = column > 0
    missing_ids = [i for i, token in enumerate(tokens) if token in _MISSING]
    if missing_ids:
        valid &= ~torch.isin(column, torch.tensor(missing_ids, dtype=column.dtype))
    valid[0] = False  # the padding item has no label
    used = torch.unique(column[valid])
    remap = torch.full((len(tokens),), -1, dtype=torch.long)
    remap[used] = torch.arange(len(used))
    labels = torch.where(valid, remap[column], torch.full_like(column, -1))
    # Drop repeated labels within a row and move the labels to the front (sorted, -1 last).
    labels = torch.sort(labels, dim=1, descending=True).values
    if labels.size(1) > 1:
        repeated = torch.zeros_like(labels, dtype=torch.bool)
        repeated[:, 1:] = labels[:, 1:] == labels[:, :-1]
        labels = torch.sort(labels.masked_fill(repeated, -1), dim=1, descending=True).values
    width = max(int((labels >= 0).sum(1).max()), 1)
    names = [str(tokens[i]) for i in used.tolist()]
    return labels[:, :width].contiguous(), names


def facets_with_labels(dataset, fields):
    """``fields`` without the facets no item has a label in (a column the data lacks, written empty at conversion),
    with a warning naming them; unknown or mistyped fields stay, for :func:`check_fields` to name."""
    if not fields or dataset.item_feat is None:
        return list(fields or [])
    available = item_fields(dataset)
    empty = [field for field in fields if field in available and dataset.field2type[field] in _FACET_TYPES
             and not bool((facet_labels(dataset, field)[0] >= 0).any())]
    kept = [field for field in fields if field not in empty]
    if empty:
        getLogger().warning(
            f"facet_fields: no item of dataset '{dataset.dataset_name}' has a label in {', '.join(empty)}: "
            f"left out, the facets are {kept} (set facet_fields to silence this)")
    return kept
