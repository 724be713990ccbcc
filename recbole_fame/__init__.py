"""recbole_fame: the FAME sequential recommender (WSDM 2025) as a RecBole plugin.

Importing the package adds back the numpy aliases RecBole 1.2.1 needs and fixes RecBole's ``Trainer`` for
torch >= 2.6 checkpoints, non-finite losses, exact resume and CPU multi-process training, and switches off the
autograd anomaly detection RecBole's ``sine.py`` leaves on (see :mod:`recbole_fame.compat`).
"""

from recbole_fame.compat import add_numpy_aliases, patch_recbole_trainer, switch_off_recbole_anomaly_detection

add_numpy_aliases()
patch_recbole_trainer()
switch_off_recbole_anomaly_detection()

from recbole_fame.config import Config  # noqa: E402
from recbole_fame.data.utils import data_preparation  # noqa: E402
from recbole_fame.model.sequential_recommender import FAME, FAMETextPretrain, SASRecSeq  # noqa: E402
from recbole_fame.quick_start import (  # noqa: E402
    load_data_and_model,
    objective_function,
    run,
    run_recbole_fame,
)
from recbole_fame.utils import create_dataset, get_model, get_trainer  # noqa: E402

__version__ = "0.1.0"
__all__ = [
    "Config", "FAME", "FAMETextPretrain", "SASRecSeq", "create_dataset", "data_preparation", "get_model", "get_trainer", "load_data_and_model",
    "objective_function", "run", "run_recbole_fame",
]
