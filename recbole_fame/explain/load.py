"""Loading a FAME checkpoint for :mod:`recbole_fame.explain`: the header check, then the model with its data.

Trust: RecBole checkpoints are Python pickles, which can run code when loaded. ``load_data_and_model``
reads them only from ``./saved`` (RecBole's default ``checkpoint_dir``, where your own runs write);
``trust_checkpoint`` is the explicit opt-in for a checkpoint elsewhere that you trust.
"""

from recbole_fame.errors import CheckpointError, RecBoleFameError
from recbole_fame.runner.trained import load_trained, read_checkpoint_header


def check_is_fame(model_name):
    """Refuse checkpoints of models without FAME's heads, gate and experts."""
    from recbole_fame.model.sequential_recommender import FAME
    from recbole_fame.runner.registry import get_model

    try:
        model_class = get_model(model_name)
    except RecBoleFameError:
        model_class = None
    if not (isinstance(model_class, type) and issubclass(model_class, FAME)):
        raise CheckpointError(
            f"explain needs a FAME checkpoint, this is {model_name}: only FAME has the per-head scores, gate "
            "and experts that explain shows. Train one with `python run_recbole_fame.py --model=FAME ...`."
        )


def load_fame(path, trust_checkpoint=False):
    """Check and load a FAME checkpoint with its dataset and test dataloader.

    Returns ``(config, model, dataset, test_data)``, the model in eval mode.
    """
    header = read_checkpoint_header(path, trust_checkpoint)
    check_is_fame(header.model)
    return load_trained(path, header, trust_checkpoint, use="explain")
