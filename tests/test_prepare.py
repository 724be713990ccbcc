"""Tests of the raw-data converters in ``recbole_fame.prepare`` on tiny files made here."""

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from recbole_fame.prepare import (
    PrepareError, Stats, convert_amazon, convert_movielens, convert_seqfile, prepare_hint,
)
from recbole_fame.prepare import common, output
from recbole_fame.prepare.__main__ import main
from recbole_fame.prepare.common import Report, kcore_filter
from recbole_fame.prepare.seqfile import read_item_table


# ----------------------------------------------------------------------------- helpers


def write(path, text, encoding="utf-8"):
    """Write ``text`` to ``path`` (gzip-compressed when the name ends in .gz); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode(encoding)
    if path.name.endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def read_atomic(path):
    """An atomic file as (header list, list of row lists)."""
    lines = Path(path).read_text(encoding="utf-8").rstrip("\n").split("\n")
    return lines[0].split("\t"), [line.split("\t") for line in lines[1:]]


def items_by_id(path):
    """``{item_id: {field: value}}`` from an ``.item`` file (field names without types)."""
    header, rows = read_atomic(path)
    names = [column.split(":")[0] for column in header]
    return {row[0]: dict(zip(names, row)) for row in rows}


def grid(users, items):
    """Ratings lines where every user rates every item (a dense k-core), one second apart."""
    return [(user, item, 4, 1000 + 10 * user + index) for user in users for index, item in enumerate(items)]


MOVIES_CSV = (
    "movieId,title,genres\n"
    "1,Toy Story (1995),Adventure|Animation|Children\n"
    '2,"American President, The (1995)",Comedy|Drama|Romance\n'
    "3,Babylon 5,Sci-Fi\n"
    '4,"Big Bang Theory, The (2007-)",(no genres listed)\n'
    "5,Heat (1995) ,Film Noir|Crime\n"
)


def movielens_csv(folder, extra_ratings=""):
    """A tiny ml-20m-style release: 4 users x 5 movies, all rated (a 4-core)."""
    lines = ["userId,movieId,rating,timestamp"]
    lines += [f"{u},{i},{r}.0,{t}" for u, i, r, t in grid([1, 2, 3, 4], [1, 2, 3, 4, 5])]
    write(folder / "ratings.csv", "\n".join(lines) + "\n" + extra_ratings)
    write(folder / "movies.csv", MOVIES_CSV)
    return folder


def meta_line(record):
    """A metadata line in the 2014 format: a Python literal (single quotes), not JSON."""
    return repr(record) + "\n"


def amazon_files(folder, broken_review=False):
    """reviews_Toys_5.json.gz (3 users x 3 items) and meta_Toys.json.gz in Python-literal form."""
    reviews = []
    for user in ("A1", "A2", "A3"):
        for index, asin in enumerate(("B01", "B02", "B03")):
            reviews.append(json.dumps({
                "reviewerID": user, "asin": asin, "overall": 5.0,
                "unixReviewTime": 1400000000 + 86400 * index, "reviewText": "fine\tgame",
            }))
    if broken_review:
        reviews.insert(2, "{this is not json")
    write(folder / "reviews_Toys_5.json.gz", "\n".join(reviews) + "\n")
    long_description = " ".join(f"w{n}" for n in range(100))
    meta = [
        meta_line({
            "asin": "B01", "title": 'Lego "Castle" &amp; Knights\tset', "price": 19.99, "brand": "LEGO",
            "categories": [["Toys & Games", "Building Toys", "Building Sets"], ["Toys & Games", "Learning"]],
            "description": long_description,
        }),
        meta_line({"asin": "B02", "title": "Puzzle", "categories": [["Toys & Games"]], "brand": "Unknown"}),
        meta_line({"asin": "B99", "title": "Not rated"}),
        "not a python literal at all\n",
    ]
    write(folder / "meta_Toys.json.gz", "".join(meta))
    return folder / "reviews_Toys_5.json.gz"


ITEM_TABLE = (
    "iclrec_item_id\tasin\ttitle\tcategories\ts3rec_attributes\n"
    "1\tA001\tOPI Nail Lacquer\tBeauty > Makeup > Nails > Nail Polish\tOPI | Makeup | Nails | Nail Polish\n"
    "2\tA002\tBB Cream\tBeauty > Skin Care > Face\tUnknown | Skin Care | Face\n"
    "3\tA003\t\"Quoted\" Palette\tBeauty > Makeup > Face\tMakeup | Face\n"
    "4\tA004\t\"Clip 23\"\" Extensions\"\tBeauty > Hair Care\tHairCo | Hair Care\n"
)


def seq_files(folder, text="1 1 2 3\n2 2 3 1 2\n3 3 1 2\n"):
    """A sequence file and its item table."""
    return write(folder / "Beauty.txt", text), write(folder / "beauty_items.tsv", ITEM_TABLE)


#: An item table as Sports': keywords and S3-Rec attribute ids (brand first, then the category paths without
#: their top level). 2 is the second level of every path here. Item 2 has no brand (it starts with 2); item 3's
#: brand 9 also names a category (a brand store, as Oakley's) and it has a second path, 143 > 9; item 4 has the
#: placeholder 23; item 5 has only the second level.
ID_TABLE = (
    "iclrec_item_id\tasin\tkeywords\ts3rec_attribute_ids\n"
    "1\tS01\ttwo  person tent\t7|2|3|4\n"
    "2\tS02\tcamp stove\t2|3|5\n"
    "3\tS03\toakley sunglasses\t9|2|6|10|143|9\n"
    "4\tS04\tyoga mat\t23|2|6|11\n"
    "5\tS05\tbike \"pro\" helmet\t8|2\n"
)


def id_files(folder):
    """A sequence file over items 1-5 and the Sports-style item table."""
    sequences = write(folder / "Sports_and_Outdoors.txt", "1 1 2 3 4 5\n2 5 4 3 2 1\n3 2 4 1 3 5\n")
    return sequences, write(folder / "sports_items.tsv", ID_TABLE)


# ----------------------------------------------------------------------------- statistics


def test_stats_line_matches_the_papers_table_format():
    stats = Stats(name="amazon-beauty", users=22363, items=12101, actions=198502)
    assert stats.line("Beauty") == (
        "Beauty | 22,363 users | 12,101 items | 198,502 actions | avg.length 8.9 | density 0.07%"
    )


# ----------------------------------------------------------------------------- movielens


def test_movielens_csv_items_and_statistics(tmp_path, capsys):
    source = movielens_csv(tmp_path / "ml-20m")
    stats = convert_movielens(source, out=tmp_path / "out", kcore=4)
    assert (stats.users, stats.items, stats.actions) == (4, 5, 20)
    out = capsys.readouterr().out
    assert "ml-20m | 4 users | 5 items | 20 actions | avg.length 5.0 | density 100.00%" in out
    assert "1 movies have no year in their title" in out

    header, rows = read_atomic(tmp_path / "out" / "ml-20m" / "ml-20m.inter")
    assert header == ["user_id:token", "item_id:token", "rating:float", "timestamp:float"]
    assert rows[0] == ["1", "1", "4.0", "1010"]
    header, _ = read_atomic(stats.item_path)
    assert header == ["item_id:token", "movie_title:token_seq", "release_year:token", "genre:token_seq"]
    movies = items_by_id(stats.item_path)
    assert movies["2"]["movie_title"] == "American President, The"
    assert movies["2"]["release_year"] == "1995"
    assert movies["3"] == {"item_id": "3", "movie_title": "Babylon 5", "release_year": "", "genre": "Sci-Fi"}
    assert movies["4"]["release_year"] == "2007" and movies["4"]["genre"] == ""
    assert movies["5"]["genre"] == "Film_Noir Crime" and movies["5"]["movie_title"] == "Heat"


def test_movielens_dat_latin1_and_min_rating(tmp_path):
    folder = tmp_path / "ml-1m"
    ratings = [f"{u}::{i}::{5 if i != 3 else 2}::{978300000 + i}" for u in (1, 2) for i in (1, 2, 3)]
    write(folder / "ratings.dat", "\n".join(ratings) + "\n")
    write(folder / "movies.dat",
          "1::Cité des enfants perdus, La (1995)::Adventure|Sci-Fi\n"
          "2::Toy Story (1995)::Animation|Children's\n3::Heat (1995)::Action\n",
          encoding="latin-1")
    stats = convert_movielens(folder, out=tmp_path / "out", min_rating=4, kcore=2)
    assert stats.name == "ml-1m"
    assert (stats.users, stats.items, stats.actions) == (2, 2, 4)
    movies = items_by_id(stats.item_path)
    assert movies["1"]["movie_title"] == "Cité des enfants perdus, La"
    assert movies["2"]["genre"] == "Animation Children's"
    assert "3" not in movies


# ----------------------------------------------------------------------------- k-core


def test_kcore_iterates_to_a_fixed_point():
    # k=2: dropping item x leaves user 4 with one action, dropping user 4 leaves item c with
    # one, dropping c leaves user 3 with one: three rounds remove something, one pass would not.
    frame = pd.DataFrame(
        [(1, "a"), (1, "b"), (2, "a"), (2, "b"), (3, "b"), (3, "c"), (4, "c"), (4, "x")],
        columns=["user_id", "item_id"],
    )
    kept, rounds = kcore_filter(frame, 2)
    assert rounds >= 3
    assert sorted(map(tuple, kept.values.tolist())) == [(1, "a"), (1, "b"), (2, "a"), (2, "b")]
    assert kcore_filter(frame, 0)[0] is frame


def test_amazon_kcore_leaves_every_user_and_item_with_k_actions(tmp_path, capsys):
    # A 3x3 dense block plus a chain that only collapses over several rounds.
    lines = [f"u{u},i{i},5.0,{100 + 10 * u + i}" for u in range(3) for i in range(3)]
    lines += ["u3,i0,1.0,1", "u3,j1,1.0,2", "u3,j2,1.0,3", "u4,j1,1.0,4", "u4,j2,1.0,5", "u4,j9,1.0,6"]
    reviews = write(tmp_path / "ratings_Chain.csv", "\n".join(lines) + "\n")
    stats = convert_amazon(reviews, out=tmp_path / "out", kcore=3)
    assert (stats.users, stats.items, stats.actions) == (3, 3, 9)
    assert "3-core filter: stable after" in capsys.readouterr().out
    _, rows = read_atomic(stats.inter_path)
    assert {row[0] for row in rows} == {"u0", "u1", "u2"}


# ----------------------------------------------------------------------------- amazon


def test_amazon_reviews_with_python_literal_meta(tmp_path, capsys):
    reviews = amazon_files(tmp_path, broken_review=True)
    stats = convert_amazon(reviews, out=tmp_path / "out", kcore=3)
    assert stats.name == "amazon-toys"
    assert (stats.users, stats.items, stats.actions) == (3, 3, 9)
    captured = capsys.readouterr()
    assert "Toys | 3 users | 3 items | 9 actions | avg.length 3.0 | density 100.00%" in captured.out
    assert "reviews_Toys_5.json.gz:3:" in captured.err
    assert "meta_Toys.json.gz:4:" in captured.err
    assert "skipped 1 malformed lines in" in captured.out

    header, _ = read_atomic(stats.item_path)
    assert header == [
        "item_id:token", "title:token_seq", "brand:token", "categories:token_seq", "cat_2:token", "cat_3:token",
        "cat_leaf:token", "price:float", "description:token_seq",
    ]
    items = items_by_id(stats.item_path)
    lego = items["B01"]
    assert lego["title"] == "Lego 'Castle' & Knights set"
    assert lego["brand"] == "LEGO"
    assert lego["categories"] == "Toys_&_Games Building_Toys Building_Sets Learning"
    assert (lego["cat_2"], lego["cat_3"], lego["cat_leaf"]) == ("Building_Toys", "Building_Sets", "Building_Sets")
    assert float(lego["price"]) == pytest.approx(19.99)
    assert lego["description"].split() == [f"w{n}" for n in range(common.DESCRIPTION_WORDS)]
    puzzle = items["B02"]
    assert (puzzle["brand"], puzzle["cat_2"], puzzle["cat_3"], puzzle["cat_leaf"], puzzle["price"]) == (
        "", "", "", "Toys_&_Games", "")
    assert items["B03"]["title"] == ""
    assert "B99" not in items


def test_amazon_ratings_csv_without_meta(tmp_path, capsys):
    lines = [f"U{u},P{i},4.0,{1000 + i}" for u in range(5) for i in range(5)]
    reviews = write(tmp_path / "ratings_Sports_and_Outdoors.csv", "\n".join(lines) + "\n")
    stats = convert_amazon(reviews, out=tmp_path / "out")
    assert stats.name == "amazon-sports-outdoors"
    assert (stats.users, stats.items, stats.actions) == (5, 5, 25)
    header, rows = read_atomic(stats.item_path)
    assert header == ["item_id:token"] and len(rows) == 5
    assert "item ids only" in capsys.readouterr().out


# ----------------------------------------------------------------------------- seqfile


def test_seqfile_positions_and_item_fields(tmp_path, capsys):
    sequences, table = seq_files(tmp_path)
    stats = convert_seqfile(sequences, items=table, out=tmp_path / "out")
    assert stats.name == "amazon-beauty"
    assert (stats.users, stats.items, stats.actions) == (3, 3, 10)
    assert "Beauty | 3 users | 3 items | 10 actions | avg.length 3.3 | density 111.11%" in capsys.readouterr().out
    header, rows = read_atomic(stats.inter_path)
    assert header == ["user_id:token", "item_id:token", "timestamp:float"]
    assert [row for row in rows if row[0] == "2"] == [["2", "2", "0"], ["2", "3", "1"], ["2", "1", "2"], ["2", "2", "3"]]
    header, _ = read_atomic(stats.item_path)  # a table with names gives the same five fields as ever
    assert header == [
        "item_id:token", "title:token_seq", "brand:token", "categories:token_seq", "cat_2:token", "cat_leaf:token",
    ]
    items = items_by_id(stats.item_path)
    assert items["1"] == {
        "item_id": "1", "title": "OPI Nail Lacquer", "brand": "OPI",
        "categories": "Beauty Makeup Nails Nail_Polish", "cat_2": "Makeup", "cat_leaf": "Nail_Polish",
    }
    assert items["2"]["brand"] == ""  # "Unknown" is no brand
    assert items["3"]["brand"] == ""  # first attribute is a category
    assert items["3"]["title"] == "'Quoted' Palette"  # bare quotes kept (as single quotes)
    assert "4" not in items  # in no sequence
    table_rows, _ = read_item_table(table, Report())
    assert table_rows["4"]["title"] == "Clip 23' Extensions"  # CSV-quoted cell
    assert (table_rows["4"]["brand"], table_rows["4"]["cat_2"]) == ("HairCo", "Hair_Care")


def test_seqfile_kcore_is_optional(tmp_path):
    sequences = write(tmp_path / "Tiny.txt", "1 1 2 3\n2 1 2 3\n3 1 9\n")
    assert convert_seqfile(sequences, out=tmp_path / "out").users == 3
    stats = convert_seqfile(sequences, out=tmp_path / "out", kcore=2)
    assert (stats.users, stats.items, stats.actions) == (2, 3, 6)


def test_seqfile_reads_keywords_and_attribute_ids(tmp_path, capsys):
    sequences, table = id_files(tmp_path)
    stats = convert_seqfile(sequences, items=table, out=tmp_path / "out")
    assert stats.name == "amazon-sports-outdoors"
    header, _ = read_atomic(stats.item_path)
    assert header == [
        "item_id:token", "title:token_seq", "keywords:token_seq", "brand:token", "categories:token_seq",
        "cat_2:token", "cat_3:token", "cat_leaf:token",
    ]
    items = items_by_id(stats.item_path)
    assert items["1"] == {
        "item_id": "1", "title": "", "keywords": "two person tent", "brand": "7", "categories": "2 3 4",
        "cat_2": "2", "cat_3": "3", "cat_leaf": "4",
    }
    assert (items["2"]["brand"], items["2"]["categories"], items["2"]["cat_leaf"]) == ("", "2 3 5", "5")  # no brand
    assert (items["3"]["brand"], items["3"]["categories"]) == ("9", "2 6 10 143 9")  # a brand that names a category
    assert (items["3"]["cat_3"], items["3"]["cat_leaf"]) == ("6", "9")  # the leaf of the last path
    assert items["4"]["brand"] == "23"  # a brand id until --no_brand_ids says otherwise
    assert (items["5"]["cat_2"], items["5"]["cat_3"], items["5"]["cat_leaf"]) == ("2", "", "2")
    assert items["5"]["keywords"] == "bike 'pro' helmet"
    assert "4 of 5 items have a brand id; the commonest brand id, 7, is on 1 items" in capsys.readouterr().out

    status = main(["seqfile", str(sequences), "--items", str(table), "--no_brand_ids", "23", "--out",
                   str(tmp_path / "out")])
    assert status == 0
    items = items_by_id(stats.item_path)
    assert (items["4"]["brand"], items["4"]["cat_3"], items["1"]["brand"]) == ("", "6", "7")
    assert "3 of 5 items have a brand id, 1 have 23" in capsys.readouterr().out


def test_the_sports_yaml_fits_the_converted_id_table(tmp_path, capsys):
    """properties/dataset/amazon-sports-outdoors.yaml: its text and facet fields are the conversion's, each with
    labels, and the conversion warns about none of them."""
    from recbole_fame import Config, create_dataset
    from recbole_fame.text.items import facets_with_labels, item_texts

    sequences, table = id_files(tmp_path)
    stats = convert_seqfile(sequences, items=table, out=tmp_path / "out", no_brand_ids=["23"])
    assert "warning" not in capsys.readouterr().err
    config = Config(model="FAMETextPretrain", dataset=stats.name, config_dict={
        "data_path": str(tmp_path / "out"), "use_gpu": False, "state": "ERROR", "show_progress": False,
        "user_inter_num_interval": "[0,inf)", "item_inter_num_interval": "[0,inf)"})
    assert (config["text_fields"], config["facet_fields"]) == (["keywords"], ["cat_3", "brand", "cat_leaf"])
    dataset = create_dataset(config).build()[0]
    assert facets_with_labels(dataset, config["facet_fields"]) == ["cat_3", "brand", "cat_leaf"]
    texts, n_empty = item_texts(dataset, config["text_fields"])
    assert n_empty == 0 and "camp stove" in texts


# ----------------------------------------------------------------------------- malformed input


def test_malformed_lines_are_reported_and_the_rest_converted(tmp_path, capsys):
    sequences = write(tmp_path / "Beauty.txt", "1 1 2 3\n7\n2 2 3 1\n1 4 5\n3 3 1 2\n")
    stats = convert_seqfile(sequences, out=tmp_path / "out")
    assert (stats.users, stats.actions, stats.malformed) == (3, 9, 2)
    captured = capsys.readouterr()
    assert f"{sequences}:2: expected a user id followed by at least one item id" in captured.err
    assert f"{sequences}:4: user 1 already has a sequence on line 1" in captured.err
    assert "skipped 2 malformed lines" in captured.out

    folder = movielens_csv(tmp_path / "ml-20m", extra_ratings="1,2\nx,1,4.0,5\n")
    stats = convert_movielens(folder, out=tmp_path / "out", kcore=0)
    assert stats.actions == 20 and stats.malformed == 2
    err = capsys.readouterr().err
    assert "ratings.csv:22: expected 4 comma-separated fields, found 2" in err
    assert "ratings.csv:23:" in err


@pytest.mark.parametrize("case", ["missing", "empty", "columns", "no-records"])
def test_bad_inputs_give_one_clear_error_and_exit_status_2(tmp_path, capsys, case):
    folder = tmp_path / "ml-20m"
    write(folder / "movies.csv", MOVIES_CSV)
    if case == "empty":
        write(folder / "ratings.csv", "")
    elif case == "columns":
        write(folder / "ratings.csv", "userId,movieId,rating\n1,1,4.0\n")
    elif case == "no-records":
        write(folder / "ratings.csv", "userId,movieId,rating,timestamp\n")
    source = folder / "ratings.csv"
    status = main(["movielens", str(source), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert status == 2
    assert "Traceback" not in captured.err
    message = {
        "missing": "file not found", "empty": "file is empty",
        "columns": "missing column(s) timestamp", "no-records": "no valid records",
    }[case]
    assert captured.err.startswith(f"error: {source}: {message}")
    assert "userId,movieId,rating,timestamp" in captured.err
    assert not (tmp_path / "out").exists()


def test_missing_item_table_column_is_an_error(tmp_path):
    sequences = write(tmp_path / "Beauty.txt", "1 1 2\n")
    table = write(tmp_path / "items.tsv", "asin\tname\nA1\tx\n")
    with pytest.raises(PrepareError, match="iclrec_item_id"):
        convert_seqfile(sequences, items=table, out=tmp_path / "out")


def test_failed_write_leaves_no_partial_files(tmp_path, monkeypatch):
    sequences, table = seq_files(tmp_path)
    convert_seqfile(sequences, items=table, out=tmp_path / "out")
    folder = tmp_path / "out" / "amazon-beauty"
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    original = output._write_frame  # the atomic-file writer lives in prepare/output.py

    def fail_on_item_file(handle, frame, types, desc):
        if desc.endswith(".item"):
            raise OSError("disk full")
        original(handle, frame, types, desc)

    monkeypatch.setattr(output, "_write_frame", fail_on_item_file)
    seq_files(tmp_path, text="1 1 2 3\n")
    with pytest.raises(OSError, match="disk full"):
        convert_seqfile(sequences, items=table, out=tmp_path / "out")
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before


# ----------------------------------------------------------------------------- command line & hints


def test_command_line_prints_statistics(tmp_path, capsys):
    sequences, table = seq_files(tmp_path)
    status = main(["seqfile", str(sequences), "--items", str(table), "--name", "tiny", "--out", str(tmp_path / "out")])
    assert status == 0
    assert "Beauty | 3 users | 3 items | 10 actions" in capsys.readouterr().out
    assert (tmp_path / "out" / "tiny" / "tiny.inter").is_file()
    assert (tmp_path / "out" / "tiny" / "tiny.item").is_file()


def test_prepare_hint():
    assert prepare_hint("ml-20m").startswith("python -m recbole_fame.prepare movielens /path/to/ml-20m --name ml-20m --out dataset")
    assert "ml-20m.zip" in prepare_hint("ml-20m")
    assert "reviews_Beauty_5.json.gz" in prepare_hint("amazon-beauty")
    assert "--out data" in prepare_hint("amazon-toys-games", out="data")
    for name in ("ml-1m", "ml-25m", "amazon-sports-outdoors"):
        assert prepare_hint(name).startswith("python -m recbole_fame.prepare ")
    generic = prepare_hint("my-data")
    assert "my-data.inter" in generic and "recbole_fame.prepare" in generic


# ----------------------------------------------------------------------------- RecBole


def load_with_recbole(stats, tmp_path, item_fields):
    """Load a converted dataset with RecBole's own Config, and RecBole's own create_dataset where its loading
    works (pandas 2); on pandas 3 the plugin's create_dataset builds the plugin's SequentialDataset, which loads
    token_seq fields there (recbole_fame.data.dataset.SeqFieldLoading)."""
    from recbole.config import Config

    from recbole_fame import create_dataset

    config = Config(model="SASRec", dataset=stats.name, config_dict={
        "data_path": str(stats.inter_path.parent.parent),
        "USER_ID_FIELD": "user_id", "ITEM_ID_FIELD": "item_id", "TIME_FIELD": "timestamp",
        "load_col": {"inter": ["user_id", "item_id", "timestamp"], "item": ["item_id", *item_fields]},
        "train_neg_sample_args": None, "checkpoint_dir": str(tmp_path / "saved"),
        "show_progress": False, "state": "ERROR",
    })
    return create_dataset(config)


def test_recbole_loads_converted_outputs(tmp_path):
    sequences, table = seq_files(tmp_path)
    stats = convert_seqfile(sequences, items=table, out=tmp_path / "out")
    dataset = load_with_recbole(stats, tmp_path, ["title", "brand", "categories", "cat_2", "cat_leaf"])
    assert (dataset.user_num - 1, dataset.item_num - 1, dataset.inter_num) == (stats.users, stats.items, stats.actions)
    assert dataset.num("cat_2") - 1 == 2  # Makeup, Skin_Care

    stats = convert_movielens(movielens_csv(tmp_path / "ml-20m"), out=tmp_path / "out", kcore=4)
    dataset = load_with_recbole(stats, tmp_path, ["movie_title", "release_year", "genre"])
    assert (dataset.user_num - 1, dataset.item_num - 1, dataset.inter_num) == (stats.users, stats.items, stats.actions)
    assert dataset.num("release_year") - 1 == 2  # 1995, 2007


def test_prepare_flags_use_underscores_and_keep_hyphens_as_aliases():
    """Every other setting of the plugin and RecBole is spelled with underscores (--max_evals, --config_files)."""
    from recbole_fame.prepare.__main__ import build_parser

    parser = build_parser()
    for flag in ("--min_rating", "--min-rating"):
        assert parser.parse_args(["movielens", "ml-20m", flag, "4"]).min_rating == 4.0
    assert "--min_rating" in parser._subparsers._group_actions[0].choices["movielens"].format_help()


def test_seqfile_warns_about_a_field_no_item_has_and_the_facets_follow_the_data(tmp_path, capsys):
    """An item table without brand used to give an empty brand for every item without a word, and the yaml's
    three facets then refused n_heads: 2. Now the conversion warns, and the text pre-training leaves it out."""
    from recbole_fame import Config, create_dataset
    from recbole_fame.text.items import facets_with_labels

    sequences = write(tmp_path / "Beauty.txt", "1 1 2 3\n2 2 3 1 2\n3 3 1 2\n")
    table = write(tmp_path / "items.tsv", "iclrec_item_id\ttitle\tcategories\n1\tA\tBeauty > Makeup > Nails\n"
                                          "2\tB\tBeauty > Skin > Face\n3\tC\tBeauty > Makeup > Eyes\n")
    stats = convert_seqfile(sequences, items=table, out=tmp_path / "out")
    err = capsys.readouterr().err
    assert "no item has a brand" in err and "facet_fields" in err and "amazon-beauty.yaml" in err
    assert "no item has a title" not in err
    config = Config(model="FAMETextPretrain", dataset=stats.name, config_dict={
        "data_path": str(tmp_path / "out"), "use_gpu": False, "state": "ERROR", "show_progress": False,
        "user_inter_num_interval": "[0,inf)", "item_inter_num_interval": "[0,inf)"})
    dataset = create_dataset(config).build()[0]  # what the model gets: the training split
    assert facets_with_labels(dataset, ["cat_2", "brand", "cat_leaf"]) == ["cat_2", "cat_leaf"]


def test_too_many_facets_for_the_heads_says_which_to_drop():
    from recbole_fame.errors import ConfigurationError
    from recbole_fame.model.sequential_recommender.fametextpretrain import check_settings
    from recbole_fame.defaults import load_yaml, property_file

    settings = load_yaml(property_file("model", "FAMETextPretrain"))
    settings.update(n_heads=2, hidden_size=64, text_fields=["title"], facet_fields=["cat_2", "brand", "cat_leaf"])
    with pytest.raises(ConfigurationError, match=r"drop 1 of them, e\.g\. --facet_fields=\"\['cat_2', 'brand'\]\" \(without cat_leaf\)"):
        check_settings(settings)
