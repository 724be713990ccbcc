"""Print the facet-by-head disentanglement report stored in a FAMETextPretrain checkpoint.

    python -m recbole_fame.text.report saved/FAMETextPretrain-....safetensors [--json]

The report is computed at the end of pre-training (see :mod:`recbole_fame.text.disentanglement`) and stored
in the checkpoint's JSON metadata, so this reads only the file's header.
"""

import argparse
import json
import sys

from recbole_fame.errors import RecBoleFameError
from recbole_fame.text.checkpoint import read_text_metadata
from recbole_fame.text.disentanglement import format_report


def main(argv=None):
    parser = argparse.ArgumentParser(description="Print the facet-by-head report of a FAMETextPretrain checkpoint.")
    parser.add_argument("checkpoint", help="the .safetensors checkpoint (or its .json metadata)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        metadata = read_text_metadata(args.checkpoint)
    except RecBoleFameError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = metadata.get("report")
    if report is None:
        print(f"error: {args.checkpoint} holds no report (it was saved before pre-training finished)", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    try:
        table = format_report(report)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        print(f"error: {args.checkpoint} holds a malformed report ({type(error).__name__}: {error}): "
              "the file was edited or not written by FAMETextPretrain", file=sys.stderr)
        return 2
    print(f"{args.checkpoint}: dataset {metadata['dataset']}, {metadata['n_items'] - 1} items, "
          f"hidden_size {metadata['hidden_size']}, n_heads {metadata['n_heads']}, encoder {metadata['encoder']['name']}, "
          f"best epoch {metadata.get('epoch')}")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
