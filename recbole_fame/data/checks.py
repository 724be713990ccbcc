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
        check_model_files(config)
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


def reads_knowledge_graph(config):
    """Whether RecBole builds the model's dataset from a knowledge graph (its knowledge-aware models, and KSR)."""
    from recbole.data.dataset import KnowledgeBasedDataset

    from recbole_fame.data.dataset import recbole_dataset_class

    return issubclass(recbole_dataset_class(config), KnowledgeBasedDataset)


def check_model_files(config):
    """The files the model reads beside the interactions: a knowledge graph's ``.kg`` and ``.link``, and the
    ``additional_feat_suffix`` files (GRU4RecKG's and KSR's pretrained entity embeddings, ``.ent``); one
    :class:`DatasetNotFoundError` naming the missing ones, where RecBole would fail with a traceback."""
    data_path, dataset, model = os.path.normpath(config["data_path"]), config["dataset"], config["model"]
    needed = {}
    if reads_knowledge_graph(config):
        needed["kg"] = "the knowledge graph: head_id:token, relation_id:token, tail_id:token"
        needed["link"] = "the items' entities: item_id:token, entity_id:token"
    for suffix in config["additional_feat_suffix"] or []:
        needed[suffix] = f"additional_feat_suffix; columns as load_col['{suffix}'] says"
    missing = {suffix: why for suffix, why in needed.items()
               if not os.path.isfile(os.path.join(data_path, f"{dataset}.{suffix}"))}
    if missing:
        files = "; ".join(f"{dataset}.{suffix} ({why})" for suffix, why in missing.items())
        raise DatasetNotFoundError(
            f"{model} reads files that dataset '{dataset}' lacks in {data_path}: {files}. Add them as RecBole atomic "
            f"files, or run a model that needs only {dataset}.inter (e.g. BPR, SASRec, FAME).")


def check_inter_header(config, inter_file):
    """Name the file and the columns when the interaction file is empty or lacks what the run needs."""
    try:
        with open(inter_file, "r", encoding=config["encoding"] or "utf-8") as f:
            header = f.readline().rstrip("\r\n")
    except UnicodeDecodeError as error:
        raise DatasetFormatError(f"{inter_file}: its header line is not {config['encoding'] or 'utf-8'} text "
                                 f"({error.reason} at byte {error.start}); is it an atomic file?") from error
    if not header.strip():
        raise DatasetNotFoundError(f"{inter_file} is empty: it needs a header line such as "
                                   "'user_id:token\titem_id:token\ttimestamp:float' and one interaction per line.")
    separator = config["field_separator"] or "\t"
    with open(inter_file, "rb") as f:
        f.readline()
        has_rows = any(line.strip() for line in f)
    if not has_rows:
        raise DatasetFormatError(f"{inter_file} has a header and no interaction: it needs one interaction per line "
                                 "after the header (user, item, time, separated by the field_separator).")
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


ATOMIC_SUFFIXES = ("inter", "item", "user", "kg", "link", "net")


def find_atomic_file_problem(config):
    """The first value RecBole cannot read in the dataset's atomic files, as a sentence naming the file, line and
    column: bytes that are not in the configured encoding, or a non-number in a float column; None if none."""
    folder, dataset = config["data_path"], config["dataset"]
    encoding = config["encoding"] or "utf-8"
    separator = config["field_separator"] or "\t"
    seq_separator = config["seq_separator"] or " "
    for suffix in ATOMIC_SUFFIXES:
        path = os.path.join(folder, f"{dataset}.{suffix}")
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            header = None
            for number, raw in enumerate(f, start=1):
                try:
                    line = raw.decode(encoding)
                except UnicodeDecodeError as error:
                    return (f"{path}, line {number}: bytes that are not {encoding} text ({error.reason} at column "
                            f"{error.start + 1}). Save the file as {encoding} (or set encoding: to the file's).")
                line = line.rstrip("\r\n")
                if header is None:
                    header = [column.partition(":") for column in line.split(separator)]
                    continue
                for (name, _, kind), value in zip(header, line.split(separator)):
                    if kind not in ("float", "float_seq") or not value.strip():
                        continue
                    for part in value.split(seq_separator) if kind == "float_seq" else [value]:
                        try:
                            float(part)
                        except ValueError:
                            return (f"{path}, line {number}: the column {name} is typed '{kind}' and holds {part!r}, "
                                    "which is not a number. Fix the value, or type the column token in the header.")
    return None
