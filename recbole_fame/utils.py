"""Model, trainer and dataset lookup for the plugin, falling back to RecBole's own.

Follows RecBole-GNN's ``utils.py``: a name is first looked up among the plugin's models
(``recbole_fame.model.sequential_recommender.<name lower-cased>``), then among RecBole's.
"""

import importlib
import os
import re

import yaml

from recbole_fame.errors import ConfigurationError, DatasetFormatError, DatasetNotFoundError, UnknownModelError

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def properties_dir():
    """The folder of the plugin's yaml files.

    An installed package carries them as ``recbole_fame/properties``; a source checkout keeps them in the
    top-level ``properties/`` folder beside the package.
    """
    for candidate in (
        os.path.join(_PACKAGE_DIR, "properties"),
        os.path.join(os.path.dirname(_PACKAGE_DIR), "properties"),
    ):
        if os.path.isfile(os.path.join(candidate, "overall.yaml")):
            return candidate
    raise FileNotFoundError(
        f"recbole_fame's properties folder is missing (looked in {_PACKAGE_DIR}/properties and beside "
        "the package): reinstall the package with `pip install .`"
    )


def property_file(kind, name):
    """Path of ``properties/<kind>/<name>.yaml`` (``kind`` in model, dataset), or None."""
    path = os.path.join(properties_dir(), kind, f"{name}.yaml")
    return path if os.path.isfile(path) else None


class _YamlLoader(yaml.SafeLoader):
    """Safe yaml loading that, like RecBole's Config, reads ``1e-12`` as a float (YAML 1.1 would not)."""


_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)$"),
    list("-+0123456789"),
)


def load_yaml(path):
    with open(path, "r", encoding="utf-8") as f:
        return yaml.load(f, Loader=_YamlLoader) or {}


def model_settings(config, model_name, keys):
    """Read ``keys`` from ``config``, falling back to the defaults in ``properties/model/<model_name>.yaml``.

    The yaml is the one place a default lives, so a plain RecBole ``Config(model=FAME, ...)``, which does not
    know the plugin's yaml, still gets every setting.
    """
    defaults = load_yaml(property_file("model", model_name))
    settings = {}
    for key in keys:
        value = config[key] if key in config else None
        if value is None:
            value = defaults.get(key)
        settings[key] = value
    return settings


def _plugin_model_module(model_name):
    module_path = f"recbole_fame.model.sequential_recommender.{model_name.lower()}"
    if importlib.util.find_spec(module_path) is None:
        return None
    return importlib.import_module(module_path)


def get_model(model_name):
    """Return the model class named ``model_name``: the plugin's first, else RecBole's."""
    if not isinstance(model_name, str):
        return model_name
    module = _plugin_model_module(model_name)
    if module is not None and hasattr(module, model_name):
        return getattr(module, model_name)
    from recbole.model import (
        context_aware_recommender,
        general_recommender,
        knowledge_aware_recommender,
        sequential_recommender,
    )

    for package in (
        general_recommender,
        sequential_recommender,
        context_aware_recommender,
        knowledge_aware_recommender,
    ):
        if hasattr(package, model_name):
            return getattr(package, model_name)
    try:  # exlib / other submodules, as RecBole itself does
        from recbole.utils import get_model as recbole_get_model

        return recbole_get_model(model_name)
    except (ValueError, ImportError):
        pass
    raise UnknownModelError(
        f"Unknown model '{model_name}': it is neither a recbole_fame model (FAME, FAMETextPretrain, SASRecSeq) nor a "
        "RecBole built-in model (e.g. SASRec, GRU4Rec, BERT4Rec, CORE, FEARec). Names are case-sensitive."
    )


def get_trainer(model_type, model_name):
    """Return the trainer class: ``recbole_fame.trainer.<Model>Trainer`` if defined, else RecBole's."""
    trainer_module = importlib.import_module("recbole_fame.trainer")
    if hasattr(trainer_module, model_name + "Trainer"):
        return getattr(trainer_module, model_name + "Trainer")
    from recbole.utils import get_trainer as recbole_get_trainer

    return recbole_get_trainer(model_type, model_name)


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


def create_dataset(config):
    """RecBole's ``create_dataset``, with the plugin's dataset classes and the missing-files check first.

    A value RecBole cannot read (non-UTF-8 bytes, a non-number in a float column) is one
    :class:`DatasetFormatError` naming the file, line and column; nothing RecBole pickled is read from outside
    ``checkpoint_dir`` (:func:`recbole_fame.settings.check_pickled_files`)."""
    from recbole_fame.settings import check_pickled_files

    check_pickled_files(config)
    check_dataset_files(config)
    data_module = importlib.import_module("recbole_fame.data.dataset")
    dataset_class = data_module.dataset_class_for(config)
    try:
        if dataset_class is None:
            from recbole.data import create_dataset as recbole_create_dataset

            return recbole_create_dataset(config)
        return dataset_class(config)
    except ValueError as error:  # pandas' parse errors and UnicodeDecodeError are ValueErrors
        problem = find_atomic_file_problem(config)
        if problem is None and "Some feat is empty" in str(error):
            problem = (f"no interaction of dataset {config['dataset']} ({config['data_path']}) is left after RecBole's "
                       "filtering (user_inter_num_interval, item_inter_num_interval, val_interval, ...): loosen them")
        if problem is None:
            raise
        raise DatasetFormatError(f"Cannot read dataset {config['dataset']}: {problem}") from error


def require(condition, message):
    """Raise :class:`ConfigurationError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise ConfigurationError(message)
