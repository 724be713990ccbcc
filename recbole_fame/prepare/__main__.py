"""``python -m recbole_fame.prepare <source> ...``: raw public data to RecBole atomic files.

Sources:

* ``movielens SRC``: an unzipped MovieLens release (ml-20m, ml-25m: ``ratings.csv`` +
  ``movies.csv``; ml-1m: ``ratings.dat`` + ``movies.dat``).
* ``amazon REVIEWS [--meta META]``: Amazon 2014 ``reviews_<Category>_5.json.gz`` or
  ``ratings_<Category>.csv``, plus ``meta_<Category>.json.gz``.
* ``seqfile SEQFILE [--items TABLE]``: an S3-Rec/ICLRec sequence file (``Beauty.txt``) plus an
  optional tab-separated item table.

Exit status: 0 on success, 2 when an input is missing, empty or lacks required columns, or when the
output cannot be written (folder not writable, disk full; nothing half-written is left).
"""

import argparse
import sys

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


def build_parser():
    """The argument parser with one subcommand per source."""
    parser = argparse.ArgumentParser(
        prog="python -m recbole_fame.prepare",
        description="Convert raw public dataset files to RecBole atomic files <out>/<name>/<name>.inter and .item.",
    )
    sources = parser.add_subparsers(dest="source", required=True, metavar="{movielens,amazon,seqfile}")

    movielens = sources.add_parser(
        "movielens", help="MovieLens ml-1m / ml-20m / ml-25m",
        description="MovieLens from GroupLens: ratings.csv + movies.csv (ml-20m, ml-25m) or "
                    "ratings.dat + movies.dat (ml-1m).  The FAME paper does not say how its ML-20m "
                    "subset was drawn; the standard 5-core filter is the default.",
    )
    movielens.add_argument("src", help="unzipped release folder (or its ratings file)")
    movielens.add_argument("--movies", help="movies file, if not next to the ratings file")
    movielens.add_argument("--min_rating", "--min-rating", dest="min_rating", type=float,
                           help="keep ratings >= this value (default: keep all); --min-rating is the same")
    _common_options(movielens, kcore_default=5)

    amazon = sources.add_parser(
        "amazon", help="Amazon 2014 reviews_<Category>_5.json.gz or ratings_<Category>.csv",
        description="Amazon review data (McAuley et al., 2014 release), k-core filtered until stable.",
    )
    amazon.add_argument("reviews", help="reviews_<Category>_5.json.gz or ratings_<Category>.csv")
    amazon.add_argument("--meta", help="meta_<Category>.json.gz (default: that file beside REVIEWS, if any)")
    _common_options(amazon, kcore_default=5)

    seqfile = sources.add_parser(
        "seqfile", help="S3-Rec / ICLRec sequence file (Beauty.txt)",
        description="Sequence file: 'user item item ...' per line in time order; the position in the "
                    "line becomes the timestamp.  No k-core filter by default (the files are already 5-core).",
    )
    seqfile.add_argument("sequences", help="sequence file, e.g. Beauty.txt")
    seqfile.add_argument("--items", help="tab-separated item table (iclrec_item_id, asin, title, categories, s3rec_attributes)")
    _common_options(seqfile, kcore_default=0)
    return parser


def run(args):
    """Run the converter chosen by parsed ``args``; return its statistics."""
    if args.source == "movielens":
        return convert_movielens(args.src, name=args.name, out=args.out, min_rating=args.min_rating,
                                 kcore=args.kcore, movies=args.movies)
    if args.source == "amazon":
        return convert_amazon(args.reviews, meta=args.meta, name=args.name, out=args.out, kcore=args.kcore)
    return convert_seqfile(args.sequences, items=args.items, name=args.name, out=args.out, kcore=args.kcore)


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
