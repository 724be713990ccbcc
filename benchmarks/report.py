"""Shared output of the benchmark scripts: print a markdown report and keep it with its raw numbers."""

import json
import os


def write_report(lines, out, data=None, quiet=False):
    """Print ``lines`` as one markdown text (unless ``quiet``); with ``out``, write it there and ``data`` (when
    given) as JSON beside it."""
    text = "\n".join(lines) + "\n"
    if not quiet:
        print(text)
    if out:
        with open(out, "w") as f:
            f.write(text)
        if data is not None:
            with open(os.path.splitext(out)[0] + ".json", "w") as f:
                json.dump(data, f, indent=1)
