"""A trained run rebuilt from its checkpoint: :func:`load_data_and_model` (RecBole's, through the plugin's
pipeline), and the checks ``explain`` and ``recommend`` make before it (:func:`read_checkpoint_header`,
:func:`load_trained`)."""

import logging
import re
import warnings
from collections import namedtuple

import torch
from recbole.utils import init_seed

from recbole_fame.compat import init_logger
from recbole_fame.errors import CheckpointError
from recbole_fame.runner.pipeline import build
from recbole_fame.storage.checkpoint import load_recbole_checkpoint


def load_data_and_model(model_file, trust_checkpoint=False, checkpoint_dir="saved", config_dict=None):
    """Rebuild the configuration, dataset, dataloaders and trained model from a checkpoint.

    The checkpoint is a pickle: it is read only from inside ``checkpoint_dir`` (RecBole's default folder for
    the runs' own checkpoints) unless ``trust_checkpoint`` is True. ``config_dict`` overrides settings of the
    checkpoint's configuration that shape the data, e.g. ``{"eval_exclude_history": False}`` to score the same
    weights under RecBole's protocol.
    """

    checkpoint = load_recbole_checkpoint(
        model_file, {"checkpoint_dir": checkpoint_dir, "trust_checkpoint": trust_checkpoint}, map_location="cpu"
    )
    config = checkpoint["config"]
    # RecBole's Config sets numpy aliases its metrics use (np.float in NDCG) when it is built, not when it
    # is unpickled: without this a process that only loads a checkpoint fails in Trainer.evaluate
    config.compatibility_settings()
    config["single_spec"], config["local_rank"] = True, 0  # a checkpoint of a DDP run loads in one process
    for key, value in (config_dict or {}).items():
        config[key] = value
    config["device"] = torch.device("cuda" if torch.cuda.is_available() and config["use_gpu"] else "cpu")
    init_seed(config["seed"], config["reproducibility"])
    init_logger(config)
    run = build(config, saved=False, trainer=False, verbose=False)
    run.model.load_state_dict(checkpoint["state_dict"])
    run.model.load_other_parameter(checkpoint.get("other_parameter"))
    return config, run.model, run.dataset, run.train_data, run.valid_data, run.test_data


def add_trust_checkpoint_argument(parser):
    """The ``--trust_checkpoint`` flag of the commands that load a checkpoint (``explain``, ``recommend``)."""
    parser.add_argument(
        "--trust_checkpoint", action="store_true",
        help="read a checkpoint from outside ./saved (RecBole checkpoints are pickles: only ones you trust)",
    )


#: what :func:`read_checkpoint_header` reads off a checkpoint: the model's name and type (RecBole's ``ModelType``),
#: its item-embedding row count (None for a model without ``item_embedding``) and the dataset's data_path
CheckpointHeader = namedtuple("CheckpointHeader", ["model", "model_type", "item_rows", "data_path"])


def read_checkpoint_header(path, trust_checkpoint=False, checkpoint_dir="saved"):
    """The checkpoint's :data:`CheckpointHeader`, read under the loader's trust rule.

    Checking these first turns a checkpoint of another model, or of another item set, into one clear
    message before the (slower) dataset rebuild.
    """
    # the same trust rule as load_data_and_model's (./saved), checked before anything is unpickled
    checkpoint = load_recbole_checkpoint(
        path, {"checkpoint_dir": checkpoint_dir, "trust_checkpoint": trust_checkpoint}, map_location="cpu"
    )
    if "config" not in checkpoint:
        raise CheckpointError(
            f"{path} is not a RecBole checkpoint (no 'config' and 'state_dict'). "
            "Pass the .pth file that run_recbole_fame.py saved in checkpoint_dir."
        )
    config = checkpoint["config"]
    item_rows = checkpoint["state_dict"].get("item_embedding.weight")
    return CheckpointHeader(config["model"], config["MODEL_TYPE"], None if item_rows is None else int(item_rows.shape[0]),
                            config["data_path"])


def _rows_in_error(error):
    """The dataset's item-table rows named in torch's size-mismatch message, or None."""
    found = re.search(r"item_embedding\.weight.*?Size\(\[(\d+),.*?Size\(\[(\d+),", str(error))
    return int(found.group(2)) if found else None


def _item_count_message(path, checkpoint_rows, dataset_rows, data_path, use):
    """The message for a dataset whose item count differs from the checkpoint's (rows include padding)."""
    checkpoint_items = checkpoint_rows - 1
    dataset_items = None if dataset_rows is None else dataset_rows - 1
    have = f"{dataset_items} items" if dataset_items is not None else "a different number of items"
    return (
        f"The dataset does not hold the checkpoint's items: {path} was trained on {checkpoint_items} items, "
        f"but the dataset at its data_path ({data_path}) now has {have}. Restore the dataset files the model was "
        f"trained on (same atomic files and filtering settings), or {use} a checkpoint trained on this dataset."
    )


def load_trained(path, header, trust_checkpoint=False, config_dict=None, use="use"):
    """A checkpoint's configuration, model (in eval mode), dataset and test dataloader, loaded quietly with
    :func:`load_data_and_model`; ``header`` is its :func:`read_checkpoint_header`. A dataset whose items are not
    the checkpoint's is one :class:`~recbole_fame.errors.CheckpointError` (``use``: the verb its message ends
    with, e.g. "explain" a checkpoint trained on this dataset).

    Returns ``(config, model, dataset, test_data)``.
    """
    rows = header.item_rows
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # RecBole's pandas FutureWarnings while rebuilding the dataset
            logging.disable(logging.INFO)  # and its dataloader summaries: the caller's output is what counts
            config, model, dataset, _, _, test_data = load_data_and_model(
                path, trust_checkpoint=trust_checkpoint, config_dict=config_dict
            )
    except RuntimeError as error:
        if "size mismatch" in str(error) and rows is not None:
            raise CheckpointError(_item_count_message(path, rows, _rows_in_error(error), header.data_path, use)) from error
        raise
    finally:
        logging.disable(logging.NOTSET)
    if rows is not None and rows != dataset.item_num:
        raise CheckpointError(_item_count_message(path, rows, dataset.item_num, header.data_path, use))
    model.eval()
    return config, model, dataset, test_data
