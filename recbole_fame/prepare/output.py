"""Writing a converted dataset: RecBole atomic files (``<out>/<name>/<name>.inter`` and ``.item``),
atomically, then the summary and the statistics line."""

import csv
from pathlib import Path

from tqdm import tqdm

from recbole_fame.errors import output_error
from recbole_fame.storage.files import atomic_write

from .stats import Stats


def _write_frame(handle, frame, types, desc):
    """Write the typed header and the rows of ``frame`` (in chunks, with a progress bar)."""
    handle.write("\t".join(f"{column}:{types[column]}" for column in frame.columns) + "\n")
    chunk = 500_000
    starts = range(0, len(frame), chunk)
    for start in tqdm(starts, desc=desc, unit="chunk", disable=len(frame) < 2 * chunk, leave=False):
        frame.iloc[start:start + chunk].to_csv(
            handle, sep="\t", header=False, index=False, quoting=csv.QUOTE_NONE,
            lineterminator="\n", na_rep="",
        )


def write_atomic_files(targets):
    """Write several files so that none is left half-written.

    ``targets`` is a list of ``(path, frame, types)``.  Each file is written to a temporary file
    in its target folder; only when all are complete are they moved into place with
    :func:`os.replace`.  On any error the temporary files are removed (the files already at the
    paths are left as they were); a folder that is not writable or a full disk raises
    :class:`~recbole_fame.errors.OutputError` naming the file and the fix.
    """
    failing = [None]

    def writer(path, frame, types):
        def write(tmp):
            failing[0] = path
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                _write_frame(handle, frame, types, desc=f"writing {path.name}")
        return write

    try:
        atomic_write([(path, writer(path, frame, types)) for path, frame, types in targets])
    except OSError as error:
        path = failing[0] or targets[0][0]
        raise output_error("the dataset file", path, error, "pass --out with another folder") from error


def write_dataset(out, name, inter, inter_types, items, item_types):
    """Write ``<out>/<name>/<name>.inter`` and ``.item``; return the two paths."""
    folder = Path(out) / name
    inter_path = folder / f"{name}.inter"
    item_path = folder / f"{name}.item"
    write_atomic_files([(inter_path, inter, inter_types), (item_path, items, item_types)])
    return inter_path, item_path


def finish(name, inter, items, inter_types, item_types, out, report, label=None):
    """Write the dataset, print the summary and the statistics line, return :class:`Stats`."""
    inter_path, item_path = write_dataset(out, name, inter, inter_types, items, item_types)
    stats = Stats(
        name=name,
        users=int(inter["user_id"].nunique()),
        items=int(inter["item_id"].nunique()),
        actions=len(inter),
        inter_path=inter_path,
        item_path=item_path,
        malformed=report.malformed,
    )
    for line in report.summary_lines():
        print(line)
    print(f"wrote {inter_path} and {item_path}")
    print(stats.line(label))
    return stats
