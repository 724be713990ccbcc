"""Kept for imports written before the split: new code imports from the module of each job.

* :mod:`recbole_fame.defaults`: the yaml files, settings with their defaults, ``train_mode``;
* :mod:`recbole_fame.errors`: ``require`` (a :class:`~recbole_fame.errors.ConfigurationError` unless a condition holds);
* :mod:`recbole_fame.registry`: ``get_model``, ``get_trainer``;
* :mod:`recbole_fame.data.checks`: the dataset file checks; :mod:`recbole_fame.data.utils`: ``create_dataset``.

Nothing in the package imports this module.
"""

from recbole_fame.data.checks import check_dataset_files, check_id_and_time_types, check_inter_header  # noqa: F401
from recbole_fame.data.utils import create_dataset  # noqa: F401
from recbole_fame.registry import get_model, get_trainer  # noqa: F401
from recbole_fame.defaults import _YamlLoader, load_yaml, model_settings, properties_dir, property_file  # noqa: F401
from recbole_fame.errors import require  # noqa: F401
