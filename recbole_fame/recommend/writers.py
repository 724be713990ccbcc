"""The output files of :mod:`recbole_fame.recommend`, written batch by batch and moved into place only when complete.

Every format holds the rows of :data:`COLUMNS` (``user``, ``rank``, ``item``, ``score``):

* ``csv``: a header, then one row per user and rank;
* ``jsonl``: one JSON object per user, ``{"user": ..., "items": [...], "scores": [...]}``, best first (the rank
  is the position in the lists);
* ``parquet``: one row per user and rank, one row group per batch (needs pyarrow).

The rows go to a temporary file beside the output (:func:`recbole_fame.storage.files.create_temporary`) as each batch
finishes, so memory holds one batch; the file is moved into place when the last batch is written. A failure
(an unwritable folder, a full disk, an error while ranking, an interrupt) leaves no file at the output path.
"""

import contextlib
import json
import os
from pathlib import Path

import numpy as np

from recbole_fame.errors import ConfigurationError, output_error
from recbole_fame.storage import files

COLUMNS = ("user", "rank", "item", "score")
FORMATS = ("csv", "jsonl", "parquet")
WHAT = "the recommendations"


def output_format(path, file_format=None):
    """The format to write ``path`` in: ``file_format`` if given, else the file's extension."""
    if file_format is not None:
        if file_format not in FORMATS:
            raise ConfigurationError(f"Unknown output format {file_format!r}: choose one of {', '.join(FORMATS)}.")
        return file_format
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ConfigurationError(
            f"Cannot tell the output format of {path} from its extension: name it .csv, .jsonl or .parquet, "
            f"or pass --format {{{','.join(FORMATS)}}}."
        )
    return suffix


def require_pyarrow():
    """pyarrow's Parquet module, or one clear error saying how to install it."""
    try:
        import pyarrow.parquet
    except ImportError as error:
        raise ConfigurationError(
            "Writing Parquet needs pyarrow, which is not installed here: pip install pyarrow "
            "(or write .csv or .jsonl)."
        ) from error
    return pyarrow.parquet


def _shortest(scores):
    """Python floats that print as the shortest decimal of each float32 score (json would print 17 digits)."""
    return [float(str(score)) for score in np.asarray(scores, dtype=np.float32)]


class _CsvWriter:
    def __init__(self, path):
        self.file = open(path, "w", newline="", encoding="utf-8")
        self.file.write(",".join(COLUMNS) + "\n")

    def write(self, frame):
        frame.to_csv(self.file, header=False, index=False)
        self.file.flush()

    def close(self):
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()

    def abort(self):
        self.file.close()


class _JsonlWriter(_CsvWriter):
    def __init__(self, path):
        self.file = open(path, "w", encoding="utf-8")

    def write(self, frame):
        lines = [
            json.dumps({"user": user, "items": rows["item"].tolist(), "scores": _shortest(rows["score"])})
            for user, rows in frame.groupby("user", sort=False)
        ]
        self.file.write("".join(line + "\n" for line in lines))
        self.file.flush()


class _ParquetWriter:
    def __init__(self, path):
        import pyarrow

        self.pyarrow = pyarrow
        self.schema = pyarrow.schema([("user", pyarrow.string()), ("rank", pyarrow.int64()),
                                      ("item", pyarrow.string()), ("score", pyarrow.float32())])
        self.writer = require_pyarrow().ParquetWriter(path, self.schema)

    def write(self, frame):
        self.writer.write_table(self.pyarrow.Table.from_pandas(frame, schema=self.schema, preserve_index=False))

    def close(self):
        self.writer.close()

    abort = close


_WRITERS = {"csv": _CsvWriter, "jsonl": _JsonlWriter, "parquet": _ParquetWriter}


class AtomicOutput:
    """A result file written batch by batch into a temporary file beside ``path``, moved into place by
    :meth:`commit`. As a context manager it removes the temporary file on any error, leaving no file at ``path``.
    The folder is created if missing; an error of the file system (not writable, disk full) is one
    :class:`~recbole_fame.errors.OutputError` naming the file and ``fix`` (how to choose another file)."""

    def __init__(self, path, file_format, fix):
        self.path, self.fix = Path(path), fix
        self.tmp = self.writer = None
        with self._output_errors():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            files.remove_stale_temporaries(self.path)
            self.tmp = files.create_temporary(self.path)
            self.writer = _WRITERS[file_format](self.tmp)

    @contextlib.contextmanager
    def _output_errors(self):
        try:
            yield
        except OSError as error:
            self.discard()
            raise output_error(WHAT, self.path, error, self.fix) from error

    def write(self, frame):
        """Append the rows of ``frame`` (a DataFrame of :data:`COLUMNS`)."""
        with self._output_errors():
            self.writer.write(frame)

    def commit(self):
        """Complete the file and move it into place."""
        with self._output_errors():
            self.writer.close()
            self.writer = None
            os.chmod(self.tmp, files.default_file_mode())
            os.replace(self.tmp, self.path)
            self.tmp = None

    def discard(self):
        """Remove the temporary file (nothing is left at the output path)."""
        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.writer.abort()
            self.writer = None
        if self.tmp is not None:
            with contextlib.suppress(OSError):
                os.remove(self.tmp)
            self.tmp = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.discard()
