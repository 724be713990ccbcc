"""Explain one user's recommendation by a trained FAME model (the paper's Figure 7, for any user).

``python -m recbole_fame.explain --checkpoint saved/FAME-....pth --user 196 [--topk 10] [--json out.json]
[--png out.png] [--trust_checkpoint]``

The checkpoint is loaded with :func:`recbole_fame.quick_start.load_data_and_model`, which rebuilds the
dataset and dataloaders from the configuration saved in it (so the dataset must still be at the checkpoint's
``data_path``). The user's input is exactly what the test evaluation feeds the model: the user's row of the
test dataloader (``item_id_list`` / ``item_length``, i.e. the history up to the validation item) and its
held-out test item. The report shows

* the user's recent history (titles when the items have a ``movie_title`` / ``title`` field, else tokens);
* every head's top-k items with the head's gate weight (Eq. 8 and 10);
* the fused top-k, i.e. FAME's own scores (Eq. 11), and the top-k of a plain equal-weight combination of the
  heads (what the gate adds);
* each head's expert (router) weights at the last position (Eq. 16);
* where the held-out item ranks in each list: 1 + the number of items scored strictly higher, among all
  items except the padding item 0, which is never recommended (as in RecBole's full-sort evaluation).

Trust: RecBole checkpoints are Python pickles, which can run code when loaded. ``load_data_and_model``
reads them only from ``./saved`` (RecBole's default ``checkpoint_dir``, where your own runs write);
``--trust_checkpoint`` is the explicit opt-in for a checkpoint elsewhere that you trust.

Exit status: 0 on success; 2, with one message and no traceback, for an unknown user, a checkpoint of a
model other than FAME, a dataset whose items differ from the checkpoint's, an unreadable checkpoint, or a --json or
--png file that cannot be written (no partial file is left).

One module per job: :mod:`~recbole_fame.explain.load` (checkpoint loading),
:mod:`~recbole_fame.explain.report` (the report's data), :mod:`~recbole_fame.explain.text` (the printed
report), :mod:`~recbole_fame.explain.figure` (the PNG) and :mod:`~recbole_fame.explain.cli` (the command
line); this package re-exports their names.
"""

from recbole_fame.explain.cli import build_parser, main, write_outputs
from recbole_fame.explain.figure import draw_figure
from recbole_fame.explain.load import check_is_fame, load_fame, read_checkpoint_header
from recbole_fame.explain.report import (
    TITLE_FIELDS,
    equal_weight_scores,
    explain_user,
    hidden_items,
    item_namer,
    rank_of,
    ranked_list,
    title_field,
    top_items,
    user_test_input,
)
from recbole_fame.explain.text import SHOWN_HISTORY, format_list, format_report, label, token_width

__all__ = [
    "SHOWN_HISTORY", "TITLE_FIELDS", "build_parser", "check_is_fame", "draw_figure", "equal_weight_scores",
    "explain_user", "format_list", "format_report", "hidden_items", "item_namer", "label", "load_fame", "main",
    "rank_of", "ranked_list", "read_checkpoint_header", "title_field", "token_width", "top_items",
    "user_test_input", "write_outputs",
]
