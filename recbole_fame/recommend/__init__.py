"""Top-k recommendations of a trained sequential model for every user, in the dataset's own tokens.

``python -m recbole_fame.recommend --checkpoint saved/FAME-....pth --topk 20 --out recs.csv [--users FILE]
[--keep_history | --hide_history] [--position {test,next}] [--format {csv,jsonl,parquet}] [--batch_size N]
[--no_progress] [--trust_checkpoint]``, or from Python ``recbole_fame.recommendations(checkpoint, topk=20)`` (a
DataFrame; with ``out=`` the file).

Each row is a user's original token (the dataset's .inter file), the rank (1 = best), the item's original token
and the model's score. The lists are the test ranking's top-k: the checkpoint is loaded with
:func:`recbole_fame.quick_start.load_data_and_model`, which rebuilds the dataset and its splits from the
configuration saved in it (the dataset must still be at its ``data_path``), and each user is ranked from the
user's test sample, exactly as the test evaluation ranks it:

* the input (``--position test``, default) is the test sample's: the user's history up to and including the
  validation item, the last ``MAX_ITEM_LIST_LENGTH`` items of it;
* every item is scored (``full_sort_predict``, as RecBole's trainer at test), the padding item never recommended;
* the user's earlier items are hidden if the checkpoint's test hid them (``eval_exclude_history: True``): then no
  list holds an item its user already had. ``--keep_history`` ranks them too, ``--hide_history`` hides them
  whatever the test did.

``--position next`` ranks for what comes after all the data: the test item is appended to the input (and
hidden with the rest of the history when history is hidden). This is what a user would be recommended
today; it is not what the test measured, so its lists cannot be checked against a test metric.

All users are the users the test evaluation ranks (those the split held a test item out for, in internal id
order); ``--users FILE`` ranks those listed, one token per line, in the file's order (a repeated token once).
A user with fewer than k items left to rank gets fewer rows.

Output: see :mod:`recbole_fame.recommend.writers` (``.csv`` one row per user and rank; ``.jsonl`` one line per
user; ``.parquet`` when pyarrow is installed). Rows are written as each batch of users finishes, so memory holds
one batch of scores ([batch, items]); the file is moved into place only when complete, and a failure leaves none.

Trust: RecBole checkpoints are Python pickles, which can run code when loaded: they are read only from
``./saved`` (where your own runs write) unless ``--trust_checkpoint``.

Exit status: 0 on success; 2, with one line ``error: ...`` and no traceback, for a missing or untrusted
checkpoint, a checkpoint of a model that is not sequential, a dataset whose items differ from the checkpoint's,
unknown users (named), a missing users file, ``--topk`` outside 1 to the number of items, an output format that
cannot be told or needs pyarrow, or an output file that cannot be written (no partial file is left).
"""

from recbole_fame.recommend.cli import build_parser, main, read_users
from recbole_fame.recommend.lists import (
    POSITIONS,
    RecommendationFile,
    batch_frame,
    check_sequential,
    full_sort_scores,
    ranked_batches,
    recommendations,
    user_rows,
    with_targets_appended,
)
from recbole_fame.recommend.writers import COLUMNS, FORMATS, AtomicOutput, output_format, require_pyarrow

__all__ = [
    "COLUMNS", "FORMATS", "POSITIONS", "AtomicOutput", "RecommendationFile", "batch_frame", "build_parser",
    "check_sequential", "full_sort_scores", "main", "output_format", "ranked_batches", "read_users",
    "recommendations", "require_pyarrow", "user_rows", "with_targets_appended",
]
