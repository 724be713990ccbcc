"""Converters from raw public dataset files to RecBole atomic files.

Command line (see ``dataset/README.md``)::

    python -m recbole_fame.prepare movielens /path/to/ml-20m [--min_rating R] [--kcore 5]
    python -m recbole_fame.prepare amazon /path/to/reviews_Beauty_5.json.gz [--meta /path/to/meta_Beauty.json.gz]
    python -m recbole_fame.prepare seqfile /path/to/Beauty.txt [--items /path/to/beauty_items.tsv]

Each writes ``<out>/<name>/<name>.inter`` and ``<name>.item`` (``out`` defaults to ``dataset``) and
prints the dataset's size the way the FAME paper's Table 1 does.
"""

from .amazon import convert_amazon
from .common import PrepareError, Stats
from .movielens import convert_movielens
from .seqfile import convert_seqfile

__all__ = [
    "PrepareError", "Stats", "convert_amazon", "convert_movielens", "convert_seqfile", "prepare_hint",
]

_GROUPLENS = "https://files.grouplens.org/datasets/movielens/{}.zip"
_AMAZON_2014 = "https://jmcauley.ucsd.edu/data/amazon/index_2014.html"

#: name -> (arguments after ``python -m recbole_fame.prepare``, where the raw files come from)
_KNOWN = {
    "ml-1m": ("movielens /path/to/ml-1m", "unzip " + _GROUPLENS.format("ml-1m")),
    "ml-20m": ("movielens /path/to/ml-20m", "unzip " + _GROUPLENS.format("ml-20m")),
    "ml-25m": ("movielens /path/to/ml-25m", "unzip " + _GROUPLENS.format("ml-25m")),
    "amazon-beauty": (
        "amazon /path/to/reviews_Beauty_5.json.gz --meta /path/to/meta_Beauty.json.gz",
        "the 5-core reviews and metadata of " + _AMAZON_2014,
    ),
    "amazon-sports-outdoors": (
        "amazon /path/to/reviews_Sports_and_Outdoors_5.json.gz --meta /path/to/meta_Sports_and_Outdoors.json.gz",
        "the 5-core reviews and metadata of " + _AMAZON_2014,
    ),
    "amazon-toys-games": (
        "amazon /path/to/reviews_Toys_and_Games_5.json.gz --meta /path/to/meta_Toys_and_Games.json.gz",
        "the 5-core reviews and metadata of " + _AMAZON_2014,
    ),
}


def prepare_hint(dataset_name, out="dataset"):
    """The one-line command that produces ``<out>/<dataset_name>/`` from the raw public files.

    Known names (``ml-1m``, ``ml-20m``, ``ml-25m``, ``amazon-beauty``, ``amazon-sports-outdoors``,
    ``amazon-toys-games``) get their exact command, with where the raw files come from as a shell
    comment; any other name gets a generic hint.
    """
    known = _KNOWN.get(str(dataset_name).lower())
    if known is None:
        return (
            f"put RecBole atomic files {dataset_name}.inter and {dataset_name}.item in {out}/{dataset_name}/, "
            f"or convert raw files with: python -m recbole_fame.prepare {{movielens,amazon,seqfile}} "
            f"SOURCE --name {dataset_name} --out {out} (see dataset/README.md)"
        )
    arguments, source = known
    return f"python -m recbole_fame.prepare {arguments} --name {dataset_name} --out {out}   # raw files: {source}"
