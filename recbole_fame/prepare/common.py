"""Shared pieces of the dataset converters, re-exported from one module per job:

* :mod:`.report`: :class:`PrepareError`, malformed-line reporting (:class:`LineIssues`) and :class:`Report`;
* :mod:`.stats`: :class:`Stats`, the dataset's size;
* :mod:`.inputs`: input checks, line reading with a progress bar, CSV rows, headers, names;
* :mod:`.cleaning`: text cleaning;
* :mod:`.filtering`: k-core filtering, ordering, item frames;
* :mod:`.output`: atomic output and the summary (:func:`finish`).

The converters produce RecBole *atomic files*: tab-separated text with a typed header
(``user_id:token``, ``title:token_seq``, ``price:float``...), one ``<name>.inter`` and one
``<name>.item`` per dataset, in ``<out>/<name>/``.
"""

from .cleaning import (
    _CONTROL, _SPACES, DESCRIPTION_WORDS, category_fields, category_token, clean_brand, clean_text, path_levels, unique,
    words,
)
from .report import MAX_WARNINGS_SHOWN, LineIssues, PrepareError, Report
from .filtering import apply_kcore, item_frame, kcore_filter, sort_interactions, sorted_ids
from .inputs import (
    _NAME, PROGRESS_MIN_BYTES, check_input_file, check_name, header_index, is_gzip, iter_csv_rows, iter_lines,
    require_rows, slug,
)
from .output import _write_frame, finish, write_atomic_files, write_dataset
from .stats import Stats

__all__ = [
    "DESCRIPTION_WORDS", "MAX_WARNINGS_SHOWN", "PROGRESS_MIN_BYTES", "LineIssues", "PrepareError", "Report",
    "Stats", "apply_kcore", "category_fields", "category_token", "check_input_file", "check_name", "clean_brand",
    "clean_text", "finish", "header_index", "is_gzip", "item_frame", "iter_csv_rows", "iter_lines",
    "kcore_filter", "path_levels", "require_rows", "slug", "sort_interactions", "sorted_ids", "unique", "words",
    "write_atomic_files", "write_dataset",
]
