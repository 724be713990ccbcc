"""Checks of a dataset's atomic files before RecBole reads them: one clear error instead of a download
attempt or a traceback."""

import os

from recbole_fame.errors import DatasetFormatError, DatasetNotFoundError


def check_dataset_files(config):
    """Stop early, with the command to run, when the dataset's atomic files are not on disk.

    RecBole would otherwise try to download a dataset of that name, which fails offline with ``URLError``,
    or, worse, silently fetch a different dataset (RecBole's ``amazon-beauty`` is the full ratings dump,
    not the 5-core review set the FAME paper uses).
    """
    data_path = config["data_path"]
    dataset = config["dataset"]
    inter_file = os.path.join(data_path, f"{dataset}.inter")
    if os.path.isfile(inter_file):
        check_inter_header(config, inter_file)
        return
    try:
        from recbole_fame.prepare import prepare_hint

        hint = prepare_hint(dataset)
    except ImportError:
        hint = "see dataset/README.md for how to prepare it"
    raise DatasetNotFoundError(
        f"Dataset '{dataset}' not found: expected the atomic file {inter_file} (folder {data_path}). "
        f"recbole_fame never downloads datasets. To create it: {hint}. "
        "Or point --data_path at the folder that holds <dataset>/<dataset>.inter."
    )


def check_inter_header(config, inter_file):
    """Name the file and the columns when the interaction file is empty or lacks what the run needs."""
    with open(inter_file, "r", encoding="utf-8") as f:
        header = f.readline().rstrip("\r\n")
    if not header.strip():
        raise DatasetNotFoundError(f"{inter_file} is empty: it needs a header line such as "
                                   "'user_id:token\titem_id:token\ttimestamp:float' and one interaction per line.")
    separator = config["field_separator"] or "\t"
    columns = [column.split(":")[0] for column in header.split(separator)]
    needed = [config["USER_ID_FIELD"], config["ITEM_ID_FIELD"]]
    if str(config["MODEL_TYPE"]) == "ModelType.SEQUENTIAL":
        needed.append(config["TIME_FIELD"])
    load_col = (config["load_col"] or {}).get("inter") if isinstance(config["load_col"], dict) else None
    needed += [column for column in (load_col or []) if column not in needed]
    missing = [column for column in needed if column not in columns]
    if not missing:
        check_id_and_time_types(config, inter_file, header.split(separator))
    if missing:
        raise DatasetNotFoundError(
            f"{inter_file} lacks the column(s) {missing} (its header has {columns}). Sequential models need the "
            "user, item and time fields (USER_ID_FIELD, ITEM_ID_FIELD, TIME_FIELD); rename the columns in the "
            "header, or set those fields and load_col to the names the file uses."
        )


def check_id_and_time_types(config, inter_file, header_columns):
    """User and item ids must be RecBole tokens (RecBole remaps them to consecutive ids) and the time a float
    (RecBole orders each user's interactions by it; a token time would be ordered by its remapped id)."""
    types = dict(column.partition(":")[::2] for column in header_columns)
    expected = {config["USER_ID_FIELD"]: "token", config["ITEM_ID_FIELD"]: "token"}
    if str(config["MODEL_TYPE"]) == "ModelType.SEQUENTIAL":
        expected[config["TIME_FIELD"]] = "float"
    for column, kind in expected.items():
        if types.get(column) != kind:
            raise DatasetFormatError(
                f"{inter_file}: the column {column} is typed '{types.get(column) or 'nothing'}' in the header, and "
                f"it must be '{column}:{kind}' ({'ids are tokens' if kind == 'token' else 'times are numbers'} "
                f"in RecBole's atomic files). Fix the header, or convert the data with python -m recbole_fame.prepare."
            )
