"""Loading a FAME checkpoint for :mod:`recbole_fame.explain`: the header check, then the model with its data.

Trust: RecBole checkpoints are Python pickles, which can run code when loaded. ``load_data_and_model``
reads them only from ``./saved`` (RecBole's default ``checkpoint_dir``, where your own runs write);
``trust_checkpoint`` is the explicit opt-in for a checkpoint elsewhere that you trust.
"""

import logging
import re
import warnings

from recbole_fame.errors import CheckpointError, RecBoleFameError

def read_checkpoint_header(path, trust_checkpoint=False, checkpoint_dir="saved"):
    """The checkpoint's model name, item-embedding row count and data_path, read under the loader's trust rule.

    Checking these first turns a checkpoint of another model, or of another item set, into one clear
    message before the (slower) dataset rebuild.
    """
    from recbole_fame.checkpoint import load_recbole_checkpoint

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
    return config["model"], (None if item_rows is None else int(item_rows.shape[0])), config["data_path"]


def check_is_fame(model_name):
    """Refuse checkpoints of models without FAME's heads, gate and experts."""
    from recbole_fame.model.sequential_recommender import FAME
    from recbole_fame.registry import get_model

    try:
        model_class = get_model(model_name)
    except RecBoleFameError:
        model_class = None
    if not (isinstance(model_class, type) and issubclass(model_class, FAME)):
        raise CheckpointError(
            f"explain needs a FAME checkpoint, this is {model_name}: only FAME has the per-head scores, gate "
            "and experts that explain shows. Train one with `python run_recbole_fame.py --model=FAME ...`."
        )


def _rows_in_error(error):
    """The dataset's item-table rows named in torch's size-mismatch message, or None."""
    found = re.search(r"item_embedding\.weight.*?Size\(\[(\d+),.*?Size\(\[(\d+),", str(error))
    return int(found.group(2)) if found else None


def _item_count_message(path, checkpoint_rows, dataset_rows, data_path):
    """The message for a dataset whose item count differs from the checkpoint's (rows include padding)."""
    checkpoint_items = checkpoint_rows - 1
    dataset_items = None if dataset_rows is None else dataset_rows - 1
    have = f"{dataset_items} items" if dataset_items is not None else "a different number of items"
    return (
        f"The dataset does not hold the checkpoint's items: {path} was trained on {checkpoint_items} items, "
        f"but the dataset at its data_path ({data_path}) now has {have}. Restore the dataset files the model was "
        "trained on (same atomic files and filtering settings), or explain a checkpoint trained on this dataset."
    )


def load_fame(path, trust_checkpoint=False):
    """Check and load a FAME checkpoint with its dataset and test dataloader.

    Returns ``(config, model, dataset, test_data)``, the model in eval mode.
    """
    model_name, checkpoint_items, data_path = read_checkpoint_header(path, trust_checkpoint)
    check_is_fame(model_name)
    from recbole_fame.quick_start import load_data_and_model

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # RecBole's pandas FutureWarnings while rebuilding the dataset
            logging.disable(logging.INFO)  # and its dataloader summaries: the report is the output
            config, model, dataset, _, _, test_data = load_data_and_model(path, trust_checkpoint=trust_checkpoint)
    except RuntimeError as error:
        if "size mismatch" in str(error) and checkpoint_items is not None:
            message = _item_count_message(path, checkpoint_items, _rows_in_error(error), data_path)
            raise CheckpointError(message) from error
        raise
    finally:
        logging.disable(logging.NOTSET)
    if checkpoint_items is not None and checkpoint_items != dataset.item_num:
        raise CheckpointError(_item_count_message(path, checkpoint_items, dataset.item_num, data_path))
    model.eval()
    return config, model, dataset, test_data
