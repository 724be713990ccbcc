"""The command line of ``python -m recbole_fame.explain``: arguments, the JSON and PNG outputs, exit status.

Exit status: 0 on success; 2, with one message and no traceback, for bad input (see :mod:`recbole_fame.explain`).
"""

import argparse
import json
import os
import sys

from recbole_fame.errors import ConfigurationError, RecBoleFameError
from recbole_fame.explain.figure import draw_figure
from recbole_fame.explain.load import load_fame
from recbole_fame.explain.report import explain_user
from recbole_fame.explain.text import format_report
from recbole_fame.runner.trained import add_trust_checkpoint_argument


def write_outputs(report, json_path=None, png_path=None):
    """Write the JSON and the PNG (each to a temporary file moved into place): a folder that cannot be written
    is one :class:`~recbole_fame.errors.OutputError` naming the file, and no partial file is left."""
    from recbole_fame.errors import output_error
    from recbole_fame.text.cache import atomic_write

    for what, path, option in (("the explanation JSON", json_path, "--json"), ("the explanation figure", png_path, "--png")):
        if not path:
            continue
        try:
            if option == "--json":
                data = json.dumps(report, indent=1).encode("utf-8")
            else:
                import io

                buffer = io.BytesIO()
                draw_figure(report, buffer)
                data = buffer.getvalue()
            atomic_write([(path, data)])
        except OSError as error:
            raise output_error(what, path, error, f"pass {option} a file in a folder you can write") from error


def build_parser():
    """The argument parser of ``python -m recbole_fame.explain``."""
    parser = argparse.ArgumentParser(
        prog="python -m recbole_fame.explain",
        description="Explain a trained FAME model's recommendation for one user (the paper's Figure 7).",
    )
    parser.add_argument("--checkpoint", required=True, help="FAME checkpoint (.pth) saved by run_recbole_fame.py")
    parser.add_argument("--user", required=True, help="user token, as in the dataset's .inter file")
    parser.add_argument("--topk", type=int, default=10, help="items per list (default: %(default)s)")
    parser.add_argument("--json", help="also write the explanation as JSON to this file")
    parser.add_argument("--png", help="also draw the explanation as a PNG figure to this file")
    add_trust_checkpoint_argument(parser)
    return parser


def main(argv=None):
    """Run the command; returns the exit status (2 for bad input, with one message on stderr)."""
    args = build_parser().parse_args(argv)
    try:
        if args.topk < 1:
            raise ConfigurationError(f"--topk must be >= 1, got {args.topk}")
        config, model, dataset, test_data = load_fame(args.checkpoint, args.trust_checkpoint)
        report = explain_user(config, model, dataset, test_data, args.user, args.topk)
        write_outputs(report, args.json, args.png)
    except RecBoleFameError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    lines = [format_report(report)]
    lines += [f"\nJSON written to {args.json}"] if args.json else []
    lines += [f"Figure written to {args.png}"] if args.png else []
    try:
        print("\n".join(lines), flush=True)
    except BrokenPipeError:  # piped into e.g. `head`: the files are written; end quietly (Python docs' recipe)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
