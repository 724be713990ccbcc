"""``python -m recbole_fame.prepare <source> ...``: raw public data to RecBole atomic files.

Sources:

* ``movielens SRC``: an unzipped MovieLens release (ml-20m, ml-25m: ``ratings.csv`` +
  ``movies.csv``; ml-1m: ``ratings.dat`` + ``movies.dat``).
* ``amazon REVIEWS [--meta META]``: Amazon 2014 ``reviews_<Category>_5.json.gz`` or
  ``ratings_<Category>.csv``, plus ``meta_<Category>.json.gz``.
* ``seqfile SEQFILE [--items TABLE] [--no_brand_ids ID ...]``: an S3-Rec/ICLRec sequence file
  (``Beauty.txt``) plus an optional tab-separated item table.

Exit status: 0 on success, 2 when an input is missing, empty or lacks required columns, or when the
output cannot be written (folder not writable, disk full; nothing half-written is left).
"""

import argparse
import sys
from dataclasses import dataclass
from typing import Callable

from recbole_fame.errors import RecBoleFameError

from .amazon import convert_amazon
from .movielens import convert_movielens
from .seqfile import convert_seqfile


def _kcore(text):
    """argparse type for ``--kcore``: a non-negative integer."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (no filter) or a positive integer")
    return value


def _common_options(parser, kcore_default):
    """``--name``, ``--out`` and ``--kcore``, shared by every source."""
    parser.add_argument("--name", help="dataset name, i.e. the folder and file names (default: from the input)")
    parser.add_argument("--out", default="dataset", help="parent folder of <name>/ (default: %(default)s)")
    parser.add_argument(
        "--kcore", type=_kcore, default=kcore_default,
        help="keep users and items with at least K interactions, repeated until stable; 0: no filter "
             "(default: %(default)s)",
    )


@dataclass(frozen=True)
class Source:
    """One source of the command line: its converter, its help, and its own arguments.

    ``arguments`` holds ``(flags, options)`` pairs for :meth:`argparse.ArgumentParser.add_argument`, the input
    file first; :func:`run` passes that input positionally and every other argument (``--name``, ``--out`` and
    ``--kcore`` included) by keyword, so each option's name is the converter's parameter name.
    """

    convert: Callable
    help: str
    description: str
    arguments: tuple
    kcore_default: int


#: source -> how to call it. A new converter is one module plus one entry here.
SOURCES = {
    "movielens": Source(
        convert_movielens,
        help="MovieLens ml-1m / ml-20m / ml-25m",
        description="MovieLens from GroupLens: ratings.csv + movies.csv (ml-20m, ml-25m) or "
                    "ratings.dat + movies.dat (ml-1m).  The FAME paper does not say how its ML-20m "
                    "subset was drawn; the standard 5-core filter is the default.",
        arguments=(
            (("src",), dict(help="unzipped release folder (or its ratings file)")),
            (("--movies",), dict(help="movies file, if not next to the ratings file")),
            (("--min_rating", "--min-rating"), dict(
                dest="min_rating", type=float,
                help="keep ratings >= this value (default: keep all); --min-rating is the same")),
        ),
        kcore_default=5,
    ),
    "amazon": Source(
        convert_amazon,
        help="Amazon 2014 reviews_<Category>_5.json.gz or ratings_<Category>.csv",
        description="Amazon review data (McAuley et al., 2014 release), k-core filtered until stable.",
        arguments=(
            (("reviews",), dict(help="reviews_<Category>_5.json.gz or ratings_<Category>.csv")),
            (("--meta",), dict(help="meta_<Category>.json.gz (default: that file beside REVIEWS, if any)")),
        ),
        kcore_default=5,
    ),
    "seqfile": Source(
        convert_seqfile,
        help="S3-Rec / ICLRec sequence file (Beauty.txt)",
        description="Sequence file: 'user item item ...' per line in time order; the position in the "
                    "line becomes the timestamp.  No k-core filter by default (the files are already 5-core).",
        arguments=(
            (("sequences",), dict(help="sequence file, e.g. Beauty.txt")),
            (("--items",), dict(
                help="tab-separated item table: iclrec_item_id and some of title, keywords, categories, brand, "
                     "s3rec_attributes, s3rec_attribute_ids")),
            (("--no_brand_ids", "--no-brand-ids"), dict(
                dest="no_brand_ids", nargs="+", metavar="ID",
                help="attribute ids that stand for 'no brand' when first in s3rec_attribute_ids (Sports: 23)")),
        ),
        kcore_default=0,
    ),
}


def build_parser():
    """The argument parser with one subcommand per source of :data:`SOURCES`."""
    parser = argparse.ArgumentParser(
        prog="python -m recbole_fame.prepare",
        description="Convert raw public dataset files to RecBole atomic files <out>/<name>/<name>.inter and .item.",
    )
    sources = parser.add_subparsers(dest="source", required=True, metavar="{" + ",".join(SOURCES) + "}")
    for name, source in SOURCES.items():
        subparser = sources.add_parser(name, help=source.help, description=source.description)
        for flags, options in source.arguments:
            subparser.add_argument(*flags, **options)
        _common_options(subparser, kcore_default=source.kcore_default)
    return parser


def run(args):
    """Run the converter chosen by parsed ``args``; return its statistics."""
    source = SOURCES[args.source]
    input_name = source.arguments[0][0][0]
    options = {key: value for key, value in vars(args).items() if key not in ("source", input_name)}
    return source.convert(getattr(args, input_name), **options)


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        run(args)
    except RecBoleFameError as error:  # PrepareError (the input) or OutputError (the output)
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
