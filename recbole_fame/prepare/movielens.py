"""MovieLens (GroupLens) to RecBole atomic files.

Reads either the CSV releases (ml-20m, ml-25m, ml-latest: ``ratings.csv`` with the header
``userId,movieId,rating,timestamp`` and ``movies.csv`` with ``movieId,title,genres``) or the
``::``-separated latin-1 releases (ml-1m, ml-10m: ``ratings.dat`` ``UserID::MovieID::Rating::Timestamp``
and ``movies.dat`` ``MovieID::Title::Genres``).

Output fields:

* ``.inter``: ``user_id:token item_id:token rating:float timestamp:float``
* ``.item``: ``item_id:token movie_title:token_seq release_year:token genre:token_seq``

The FAME paper's ML-20m (96,726 users, 16,297 items, 1,856,746 actions) is a subset whose
sampling the paper does not describe; this converter applies the standard k-core filter
(default 5) and, optionally, a minimum rating.
"""

import re
from array import array
from pathlib import Path

import numpy as np
import pandas as pd

from .common import (
    PrepareError, Report, apply_kcore, category_token, check_input_file, check_name, finish,
    header_index, item_frame, iter_csv_rows, iter_lines, require_rows, sort_interactions,
    sorted_ids, unique, words,
)

INTER_TYPES = {"user_id": "token", "item_id": "token", "rating": "float", "timestamp": "float"}
ITEM_TYPES = {"item_id": "token", "movie_title": "token_seq", "release_year": "token", "genre": "token_seq"}

RATINGS_CSV_COLUMNS = ("userId", "movieId", "rating", "timestamp")
MOVIES_CSV_COLUMNS = ("movieId", "title", "genres")
NO_GENRES = "(no genres listed)"

_YEAR = re.compile(r"^(.*?)\s*\((\d{4})(?:\s*[-\u2013]\s*\d{0,4}\s*)?\)\s*$")

RATINGS_CSV_EXPECTED = "a MovieLens ratings.csv with the header userId,movieId,rating,timestamp"
RATINGS_DAT_EXPECTED = "a MovieLens ratings.dat with lines UserID::MovieID::Rating::Timestamp"
MOVIES_CSV_EXPECTED = "a MovieLens movies.csv with the header movieId,title,genres"
MOVIES_DAT_EXPECTED = "a MovieLens movies.dat with lines MovieID::Title::Genres"


def find_files(source, movies=None):
    """Locate the ratings and movies files for ``source`` (a folder or a ratings file).

    Returns ``(ratings_path, movies_path, flavour)`` where flavour is ``"csv"`` or ``"dat"``.
    """
    source = Path(source)
    if source.is_dir():
        for flavour in ("csv", "dat"):
            if (source / f"ratings.{flavour}").exists():
                ratings = source / f"ratings.{flavour}"
                break
        else:
            raise PrepareError(
                f"{source}: no ratings.csv or ratings.dat in this folder; expected an unzipped "
                "MovieLens release (ml-20m, ml-25m: ratings.csv + movies.csv; ml-1m: ratings.dat + movies.dat)"
            )
    else:
        ratings = source
    flavour = "dat" if ratings.suffix.lower() == ".dat" else "csv"
    movies = Path(movies) if movies else ratings.with_name(f"movies.{flavour}")
    expected = {"csv": (RATINGS_CSV_EXPECTED, MOVIES_CSV_EXPECTED), "dat": (RATINGS_DAT_EXPECTED, MOVIES_DAT_EXPECTED)}
    check_input_file(ratings, expected[flavour][0])
    check_input_file(movies, expected["dat" if movies.suffix.lower() == ".dat" else "csv"][1])
    return ratings, movies, flavour


def default_name(ratings_path):
    """The dataset name from the release folder: ``.../ml-20m/ratings.csv`` -> ``ml-20m``."""
    return Path(ratings_path).resolve().parent.name.lower()


class _RatingColumns:
    """Compact growing columns for tens of millions of ratings."""

    def __init__(self):
        self.users, self.items = array("q"), array("q")
        self.ratings, self.times = array("f"), array("q")

    def add(self, user, item, rating, timestamp):
        """Append one rating given as strings; raises ValueError when a value is not a number."""
        user, item, rating = int(user), int(item), float(rating)
        try:
            timestamp = int(timestamp)
        except ValueError:
            timestamp = int(float(timestamp))
        self.users.append(user)
        self.items.append(item)
        self.ratings.append(rating)
        self.times.append(timestamp)

    def frame(self):
        """The columns as a DataFrame ``user_id, item_id, rating, timestamp``."""
        return pd.DataFrame({
            "user_id": np.frombuffer(self.users, dtype=np.int64),
            "item_id": np.frombuffer(self.items, dtype=np.int64),
            "rating": np.frombuffer(self.ratings, dtype=np.float32).astype(np.float64),
            "timestamp": np.frombuffer(self.times, dtype=np.int64),
        })


def _add_rating(columns, values, number, issues):
    """Add one rating row, reporting it when it has non-numeric values."""
    try:
        columns.add(*values)
    except (ValueError, OverflowError):
        issues.warn(number, f"expected numeric user, movie, rating and timestamp, got {values!r}")


def read_ratings_csv(path, report):
    """Ratings from a MovieLens ``ratings.csv`` (with header) as a DataFrame."""
    issues = report.track(path)
    columns = _RatingColumns()
    index = None
    for number, row in iter_csv_rows(path, issues):
        if index is None:
            index = header_index(path, row, RATINGS_CSV_COLUMNS, RATINGS_CSV_EXPECTED)
            positions = [index[name] for name in RATINGS_CSV_COLUMNS]
            width = len(row)
            continue
        if len(row) != width:
            issues.warn(number, f"expected {width} comma-separated fields, found {len(row)}")
            continue
        _add_rating(columns, [row[position] for position in positions], number, issues)
    require_rows(len(columns.users), path, RATINGS_CSV_EXPECTED)
    return columns.frame()


def read_ratings_dat(path, report, encoding="latin-1"):
    """Ratings from a MovieLens ``ratings.dat`` (``::``-separated, no header) as a DataFrame."""
    issues = report.track(path)
    columns = _RatingColumns()
    for number, text in iter_lines(path, issues, encoding):
        if not text.strip():
            continue
        values = text.split("::")
        if len(values) != 4:
            issues.warn(number, f"expected 4 '::'-separated fields, found {len(values)}")
            continue
        _add_rating(columns, values, number, issues)
    require_rows(len(columns.users), path, RATINGS_DAT_EXPECTED)
    return columns.frame()


def parse_title(title):
    """Split ``"Toy Story (1995)"`` into ``("Toy Story", "1995")``.

    Series spans such as ``(1975-1979)`` or ``(2007-)`` give their first year; a title without a
    trailing year gives ``(title, "")``.
    """
    match = _YEAR.match(title.strip())
    if match is None:
        return title.strip(), ""
    return match.group(1), match.group(2)


def movie_fields(title, genres):
    """The item fields of one movie from its raw title and ``|``-separated genres."""
    name, year = parse_title(title)
    genre_tokens = unique(category_token(genre) for genre in genres.split("|") if genre.strip() != NO_GENRES)
    return {"movie_title": words(name), "release_year": year, "genre": " ".join(genre_tokens)}


def _add_movie(movies, movie_id, title, genres, number, issues):
    """Store one movie keyed by its integer id, reporting a non-numeric id."""
    try:
        movies[int(movie_id)] = movie_fields(title, genres)
    except ValueError:
        issues.warn(number, f"movie id {movie_id!r} is not a number")


def read_movies_csv(path, report):
    """Movies from ``movies.csv`` as ``{movie_id: item fields}``."""
    issues = report.track(path)
    movies = {}
    index = None
    for number, row in iter_csv_rows(path, issues):
        if index is None:
            index = header_index(path, row, MOVIES_CSV_COLUMNS, MOVIES_CSV_EXPECTED)
            width = len(row)
            continue
        if len(row) != width:
            issues.warn(number, f"expected {width} comma-separated fields, found {len(row)}")
            continue
        _add_movie(movies, row[index["movieId"]], row[index["title"]], row[index["genres"]], number, issues)
    require_rows(len(movies), path, MOVIES_CSV_EXPECTED)
    return movies


def read_movies_dat(path, report, encoding="latin-1"):
    """Movies from ``movies.dat`` (``MovieID::Title::Genres``) as ``{movie_id: item fields}``."""
    issues = report.track(path)
    movies = {}
    for number, text in iter_lines(path, issues, encoding):
        if not text.strip():
            continue
        if text.count("::") < 2:
            issues.warn(number, "expected 3 '::'-separated fields (MovieID::Title::Genres)")
            continue
        movie_id, rest = text.split("::", 1)
        title, genres = rest.rsplit("::", 1)
        _add_movie(movies, movie_id, title, genres, number, issues)
    require_rows(len(movies), path, MOVIES_DAT_EXPECTED)
    return movies


def filter_min_rating(frame, min_rating, report, path):
    """Keep ratings ``>= min_rating`` (no filter when it is None)."""
    if min_rating is None:
        return frame
    kept = frame[frame["rating"] >= min_rating]
    if kept.empty:
        raise PrepareError(f"{path}: no rating is >= {min_rating}; expected some ratings to keep (lower --min_rating)")
    report.note(f"min rating {min_rating:g}: kept {len(kept):,} of {len(frame):,} ratings")
    return kept


def convert_movielens(source, name=None, out="dataset", min_rating=None, kcore=5, movies=None):
    """Convert a MovieLens release to ``<out>/<name>/<name>.inter`` and ``.item``.

    Args:
        source: the unzipped release folder (or its ratings file).
        name: dataset name; default the folder name (``ml-20m``).
        out: parent folder of the dataset folder.
        min_rating: keep only ratings at or above this value (default: keep all).
        kcore: user/item k-core filter repeated until stable (0 or 1: none).
        movies: the movies file, if not next to the ratings file.

    Returns:
        :class:`~recbole_fame.prepare.common.Stats`.
    """
    ratings_path, movies_path, flavour = find_files(source, movies)
    name = check_name(name or default_name(ratings_path))
    report = Report()
    reader = read_ratings_dat if flavour == "dat" else read_ratings_csv
    inter = reader(ratings_path, report)
    report.note(f"read {len(inter):,} ratings from {ratings_path}")
    inter = filter_min_rating(inter, min_rating, report, ratings_path)
    inter = apply_kcore(inter, kcore, report, ratings_path)
    inter = sort_interactions(inter)
    movie_reader = read_movies_dat if movies_path.suffix.lower() == ".dat" else read_movies_csv
    movie_rows = movie_reader(movies_path, report)
    items, missing = item_frame(sorted_ids(inter["item_id"]), movie_rows, list(ITEM_TYPES)[1:])
    if missing:
        report.note(f"{missing:,} rated movies are not in {movies_path}: their item fields are empty")
    no_year = int(((items["release_year"] == "") & (items["movie_title"] != "")).sum())
    report.note(f"{no_year:,} movies have no year in their title: release_year left empty")
    return finish(name, inter, items, INTER_TYPES, ITEM_TYPES, out, report)
