"""The command line of ``python -m recbole_fame.recommend``: arguments, the users file, exit status.

Exit status: 0 on success; 2, with one line ``error: ...`` and no traceback, for bad input (see
:mod:`recbole_fame.recommend`).
"""

import argparse
import sys

from recbole_fame.errors import ConfigurationError, RecBoleFameError
from recbole_fame.recommend.lists import POSITIONS, recommendations
from recbole_fame.recommend.writers import FORMATS
from recbole_fame.runner.trained import add_trust_checkpoint_argument


def read_users(path):
    """The user tokens of ``path``: one per line, blank lines skipped, surrounding spaces ignored."""
    try:
        with open(path, encoding="utf-8") as file:
            return [line.strip() for line in file if line.strip()]
    except FileNotFoundError as error:
        raise ConfigurationError(f"--users file not found: {path}. Pass a file with one user token per line.") from error
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"Cannot read the --users file {path}: {error}. Pass a UTF-8 text file with one "
                                 "user token per line.") from error


def build_parser():
    """The argument parser of ``python -m recbole_fame.recommend``."""
    parser = argparse.ArgumentParser(
        prog="python -m recbole_fame.recommend",
        description="Every user's top-k items from a trained sequential model, ranked as its test evaluation ranks.",
    )
    parser.add_argument("--checkpoint", required=True, help="checkpoint (.pth) saved by run_recbole_fame.py")
    parser.add_argument("--topk", type=int, default=10, help="items per user (default: %(default)s)")
    parser.add_argument("--out", required=True, help="output file: .csv, .jsonl or .parquet (pyarrow)")
    parser.add_argument("--format", choices=FORMATS, help="output format (default: from --out's extension)")
    parser.add_argument("--users", help="a file of user tokens, one per line (default: every user the test ranks)")
    history = parser.add_mutually_exclusive_group()
    history.add_argument("--keep_history", action="store_true",
                         help="rank the user's earlier items too (default: hide them if the test hid them, "
                              "eval_exclude_history)")
    history.add_argument("--hide_history", action="store_true",
                         help="never recommend an item the user already had, whatever the test did")
    parser.add_argument("--position", choices=POSITIONS, default="test",
                        help="test: the test ranking's input, the history up to the validation item (default); "
                             "next: the whole history, the test item included")
    parser.add_argument("--batch_size", type=int, help="users per batch (default: the checkpoint's eval_batch_size)")
    parser.add_argument("--no_progress", action="store_true", help="no progress bar (default: on a terminal)")
    add_trust_checkpoint_argument(parser)
    return parser


def main(argv=None):
    """Run the command; returns the exit status (2 for bad input, with one message on stderr)."""
    args = build_parser().parse_args(argv)
    exclude_history = False if args.keep_history else True if args.hide_history else None
    try:
        users = None if args.users is None else read_users(args.users)
        written = recommendations(
            args.checkpoint, topk=args.topk, users=users, out=args.out, file_format=args.format,
            exclude_history=exclude_history, position=args.position, batch_size=args.batch_size,
            trust_checkpoint=args.trust_checkpoint, show_progress=False if args.no_progress else None,
        )
    except RecBoleFameError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Wrote the top-{args.topk} lists of {written.users} users ({written.rows} rows) to {written.path}")
    return 0
