"""Reading the raw inputs of the converters: file checks, plain or gzip lines with a progress bar, CSV rows,
headers, and dataset names."""

import csv
import gzip
import re
from pathlib import Path

from tqdm import tqdm

from .report import PrepareError

#: Inputs at least this large (bytes on disk) get a progress bar.
PROGRESS_MIN_BYTES = 8 * 1024 * 1024

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


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
