"""Model and trainer lookup for the plugin, falling back to RecBole's own.

Follows RecBole-GNN's ``utils.py``: a name is first looked up among the plugin's models
(``recbole_fame.model.sequential_recommender.<name lower-cased>``), then among RecBole's. Every trainer it
returns carries the plugin's fixes (:mod:`recbole_fame.trainer.trainer`), for RecBole's models too.
Models and trainers are imported when asked for, not when this module is.
"""

import importlib
import importlib.util

from recbole_fame.errors import MissingPackageError, UnknownModelError

#: RecBole's models that import a package RecBole does not declare: model -> (module, how to install it, what
#: for, the settings that need it (None: always))
MODEL_PACKAGES = {
    "NCL": ("faiss", "pip install faiss-cpu", "its k-means clustering of users and items", None),
    "KGAT": ("dgl", "pip install dgl (a build made for the installed torch)", "its knowledge-graph attention", None),
    "KGIN": ("torch_scatter", "pip install torch-scatter (built against the installed torch)",
             "its scatter means over the knowledge graph", None),
    "MCCLK": ("torch_scatter", "pip install torch-scatter (built against the installed torch)",
              "its scatter softmax and means over the knowledge graph", None),
    "NNCF": ("community", "pip install python-louvain", "its Louvain communities", ("neigh_info_method", "louvain")),
}


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
    """Return the trainer class: the plugin's own for its models that have one
    (``recbole_fame.trainer.MODEL_TRAINERS``), else the one RecBole picks, with the plugin's fixes
    (:func:`recbole_fame.trainer.with_plugin_fixes`)."""
    trainers = importlib.import_module("recbole_fame.trainer")
    if model_name in trainers.MODEL_TRAINERS:
        return trainers.MODEL_TRAINERS[model_name]
    from recbole.utils import get_trainer as recbole_get_trainer

    return trainers.with_plugin_fixes(recbole_get_trainer(model_type, model_name))




def check_model_packages(config):
    """One :class:`MissingPackageError` before anything is built when the model needs a package that is missing."""
    model = config["model"]
    if model not in MODEL_PACKAGES:
        return
    module, install, purpose, setting = MODEL_PACKAGES[model]
    if setting is not None and config[setting[0]] != setting[1]:
        return
    if importlib.util.find_spec(module) is None:
        needs = f"{model} with {setting[0]}: {setting[1]}" if setting else model
        raise MissingPackageError(f"{needs} needs the package {module} for {purpose}, and it is not installed: "
                                  f"{install}, or run another model.")
