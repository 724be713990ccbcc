"""Shared pieces of the dataset converters: input checks, line reading with a progress bar,
malformed-line reporting, text cleaning, k-core filtering, statistics and atomic output.

The converters produce RecBole *atomic files*: tab-separated text with a typed header
(``user_id:token``, ``title:token_seq``, ``price:float``...), one ``<name>.inter`` and one
``<name>.item`` per dataset, in ``<out>/<name>/``.
"""

import csv
import gzip
import html
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from recbole_fame.errors import RecBoleFameError, output_error
from recbole_fame.files import atomic_write

#: Inputs at least this large (bytes on disk) get a progress bar.
PROGRESS_MIN_BYTES = 8 * 1024 * 1024

#: Malformed lines printed per input file before the rest are only counted.
MAX_WARNINGS_SHOWN = 20

#: Words kept from a free-text description.
DESCRIPTION_WORDS = 64

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class PrepareError(RecBoleFameError):
    """An input that cannot be converted at all (missing, empty, wrong columns, nothing left).

    The message names the file and what was expected; the command-line tool prints it
    without a traceback and exits with status 2.
    """


class LineIssues:
    """Counts and reports malformed lines of one input file as ``file:line: reason`` warnings."""

    def __init__(self, path, max_shown=MAX_WARNINGS_SHOWN):
        self.path = Path(path)
        self.max_shown = max_shown
        self.count = 0

    def warn(self, line_number, reason):
        """Report one malformed line (printed to stderr while fewer than ``max_shown``)."""
        self.count += 1
        if self.count <= self.max_shown:
            print(f"warning: {self.path}:{line_number}: {reason}; line skipped", file=sys.stderr)

    def finish(self):
        """Say how many warnings were not printed, if any."""
        hidden = self.count - self.max_shown
        if hidden > 0:
            print(f"warning: {self.path}: {hidden:,} more malformed lines not shown", file=sys.stderr)


@dataclass
class Report:
    """What a conversion tells the user besides the statistics line."""

    notes: list = field(default_factory=list)
    issues: list = field(default_factory=list)

    def note(self, text):
        """Keep one line for the summary."""
        self.notes.append(text)

    def track(self, path):
        """A new :class:`LineIssues` for ``path``, counted in the summary."""
        issues = LineIssues(path)
        self.issues.append(issues)
        return issues

    @property
    def malformed(self):
        """Total number of skipped malformed lines."""
        return sum(issues.count for issues in self.issues)

    def summary_lines(self):
        """The notes plus one line per input file that had malformed lines."""
        lines = list(self.notes)
        for issues in self.issues:
            issues.finish()
            if issues.count:
                lines.append(f"skipped {issues.count:,} malformed lines in {issues.path}")
        return lines


@dataclass
class Stats:
    """Size of a converted dataset, as in the FAME paper's Table 1."""

    name: str
    users: int
    items: int
    actions: int
    inter_path: Path = None
    item_path: Path = None
    malformed: int = 0

    @property
    def avg_length(self):
        """Mean number of actions per user."""
        return self.actions / self.users if self.users else 0.0

    @property
    def density(self):
        """Share of the user x item matrix that is filled, in percent."""
        cells = self.users * self.items
        return 100.0 * self.actions / cells if cells else 0.0

    def line(self, label=None):
        """``Beauty | 22,363 users | 12,101 items | 198,502 actions | avg.length 8.9 | density 0.07%``."""
        return (
            f"{label or self.name} | {self.users:,} users | {self.items:,} items | "
            f"{self.actions:,} actions | avg.length {self.avg_length:.1f} | density {self.density:.2f}%"
        )


# ----------------------------------------------------------------------------- inputs


def check_input_file(path, expected):
    """Return ``path`` as a Path if it is a non-empty file, else raise :class:`PrepareError`.

    ``expected`` describes the file's content for the error message.
    """
    path = Path(path)
    if not path.exists():
        raise PrepareError(f"{path}: file not found; expected {expected}")
    if not path.is_file():
        raise PrepareError(f"{path}: not a file; expected {expected}")
    if path.stat().st_size == 0:
        raise PrepareError(f"{path}: file is empty; expected {expected}")
    return path


def is_gzip(path):
    """True when the file starts with the gzip magic bytes (whatever its name)."""
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def iter_lines(path, issues, encoding="utf-8", desc=None):
    """Yield ``(line_number, text)`` for every line of a plain or gzip-compressed text file.

    Line ends are stripped; lines that do not decode are reported to ``issues`` and skipped.
    Files of :data:`PROGRESS_MIN_BYTES` or more show a tqdm bar over the bytes read.
    """
    path = Path(path)
    size = path.stat().st_size
    compressed = is_gzip(path)
    bar = tqdm(
        total=size, unit="B", unit_scale=True, desc=desc or path.name,
        disable=size < PROGRESS_MIN_BYTES, leave=False,
    )
    try:
        with open(path, "rb") as raw:
            stream = gzip.GzipFile(fileobj=raw) if compressed else raw
            for number, data in enumerate(stream, 1):
                if number % 16384 == 0:
                    bar.update(raw.tell() - bar.n)
                try:
                    text = data.decode(encoding)
                except UnicodeDecodeError:
                    issues.warn(number, f"not valid {encoding} text")
                    continue
                yield number, text.rstrip("\r\n")
    except (OSError, EOFError) as error:
        raise PrepareError(f"{path}: cannot be read ({error}); expected a readable text or gzip file") from None
    finally:
        bar.close()


def iter_csv_rows(path, issues, encoding="utf-8", delimiter=",", lenient=False):
    """Yield ``(line_number, fields)`` for each non-blank line of a delimited text file.

    Every line is one record (no field spans lines), so a broken line never swallows the next
    ones.  Quoted fields (``"Heat, The (1995)"``, ``"2"" wide"``) are handled by :mod:`csv`.  A
    line whose quotes do not follow CSV rules is reported, or, when ``lenient``, split as it is
    (for tables whose text may contain bare quotes).
    """
    for number, text in iter_lines(path, issues, encoding):
        if not text.strip():
            continue
        if '"' not in text:
            yield number, text.split(delimiter)
            continue
        try:
            yield number, next(csv.reader([text], delimiter=delimiter, strict=True))
        except csv.Error as error:
            if lenient:
                yield number, text.split(delimiter)
            else:
                issues.warn(number, f"cannot be parsed ({error})")


def header_index(path, header, required, expected):
    """Map each required column name to its position in ``header`` or raise :class:`PrepareError`."""
    names = [name.strip().lstrip("\ufeff") for name in header]
    missing = [name for name in required if name not in names]
    if missing:
        raise PrepareError(
            f"{path}: missing column(s) {', '.join(missing)} in the header {','.join(names)!r}; "
            f"expected {expected}"
        )
    return {name: names.index(name) for name in required}


def require_rows(count, path, expected):
    """Raise :class:`PrepareError` when no valid record was read from ``path``."""
    if count == 0:
        raise PrepareError(f"{path}: no valid records found; expected {expected}")


def check_name(name):
    """Return ``name`` if it can be a dataset folder name, else raise :class:`PrepareError`."""
    if not name or not _NAME.match(name):
        raise PrepareError(
            f"{name!r} is not a usable dataset name; expected letters, digits, '.', '_' or '-'"
        )
    return name


def slug(text):
    """``Sports_and_Outdoors`` -> ``sports-outdoors``; ``Beauty`` -> ``beauty``."""
    text = re.sub(r"(?i)[_\s-]+and[_\s-]+", "-", text.strip())
    text = re.sub(r"[^A-Za-z0-9]+", "-", text)
    return text.strip("-").lower()


# ----------------------------------------------------------------------------- text


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


def category_fields(paths):
    """Item facets from category paths (lists of names, most general first).

    Returns ``categories`` (every name of every path, as tokens), ``cat_2`` (second level of the
    first path) and ``cat_leaf`` (last name of the first path).
    """
    paths = [[category_token(name) for name in path] for path in paths]
    paths = [[name for name in path if name] for path in paths]
    paths = [path for path in paths if path]
    first = paths[0] if paths else []
    return {
        "categories": " ".join(unique(name for path in paths for name in path)),
        "cat_2": first[1] if len(first) > 1 else "",
        "cat_leaf": first[-1] if first else "",
    }


def clean_brand(value):
    """A brand as one token (spaces kept); placeholders such as ``Unknown`` count as missing."""
    brand = clean_text(value)
    return "" if brand.lower() in {"unknown", "n/a", "na", "none", "null", "-"} else brand


# ----------------------------------------------------------------------------- filtering


def kcore_filter(frame, k, user="user_id", item="item_id"):
    """Keep only users and items with at least ``k`` interactions, repeating until stable.

    Removing a rare item can push a user under ``k`` and the other way round, so the user and
    the item filter alternate until a full round removes nothing.  Returns the filtered frame
    (original row order) and the number of rounds.  ``k`` of 0 or 1 returns ``frame`` unchanged.
    """
    if k is None or k <= 1 or frame.empty:
        return frame, 0
    users = pd.factorize(frame[user])[0]
    items = pd.factorize(frame[item])[0]
    rows = np.arange(len(frame))
    rounds = 0
    while True:
        rounds += 1
        before = len(rows)
        keep = np.bincount(users)[users] >= k
        users, items, rows = users[keep], items[keep], rows[keep]
        keep = np.bincount(items)[items] >= k
        users, items, rows = users[keep], items[keep], rows[keep]
        if len(rows) == before or len(rows) == 0:
            return (frame if len(rows) == len(frame) else frame.iloc[rows]), rounds


def apply_kcore(frame, k, report, path):
    """Run :func:`kcore_filter`, note what it removed, and fail if nothing is left."""
    if not k or k <= 1:
        return frame
    users, items, actions = frame["user_id"].nunique(), frame["item_id"].nunique(), len(frame)
    frame, rounds = kcore_filter(frame, k)
    if frame.empty:
        raise PrepareError(
            f"{path}: no interactions left after {k}-core filtering; expected users and items "
            f"with at least {k} interactions each (try a smaller --kcore)"
        )
    report.note(
        f"{k}-core filter: stable after {rounds} round(s); removed {actions - len(frame):,} actions, "
        f"{users - frame['user_id'].nunique():,} users, {items - frame['item_id'].nunique():,} items"
    )
    return frame


def sort_interactions(frame):
    """Order by user (natural order: ``2`` before ``10``), then time; ties keep their input order."""
    rank = pd.Categorical(frame["user_id"], categories=sorted_ids(frame["user_id"])).codes
    order = np.lexsort((frame["timestamp"].to_numpy(), rank))
    return frame.iloc[order].reset_index(drop=True)


def item_frame(item_ids, rows, columns):
    """One row per id in ``item_ids``: the dict in ``rows`` for that id, or empty fields.

    Returns the frame and how many ids had no row.
    """
    empty = {column: "" for column in columns}
    records = []
    missing = 0
    for item_id in item_ids:
        row = rows.get(item_id)
        if row is None:
            missing += 1
            row = empty
        records.append({"item_id": item_id, **{column: row.get(column, "") for column in columns}})
    return pd.DataFrame(records, columns=["item_id", *columns]), missing


def sorted_ids(values):
    """Distinct ids in natural order (numeric when they are numbers)."""
    ids = pd.unique(pd.Series(values))
    try:
        return sorted(ids, key=lambda value: (int(value), str(value)))
    except (TypeError, ValueError):
        return sorted(ids, key=str)


# ----------------------------------------------------------------------------- output


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
