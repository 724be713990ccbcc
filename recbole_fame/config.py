"""RecBole's ``Config`` with the plugin's models and yaml files.

As in RecBole-GNN, the model name is resolved with :func:`recbole_fame.runner.registry.get_model` (plugin first,
then RecBole), and the plugin's yaml files are layered over RecBole's own defaults:

1. RecBole's overall, model and dataset yaml (what RecBole alone would read);
2. ``properties/overall.yaml`` of the plugin (the FAME paper's protocol: HR and NDCG at 5/10/20,
   valid metric NDCG@10, leave-one-out in time order, full ranking);
3. ``properties/model/<model>.yaml`` and ``properties/dataset/<dataset>.yaml`` of the plugin.

Models trained with ``loss_type: CE`` (FAME, SASRec, GRU4Rec, BERT4Rec, ...) get
``train_neg_sample_args: ~`` unless the user sets it. Config files, ``config_dict`` and ``--key=value`` on the command line still override all of these.
On a machine without CUDA (or with ``use_gpu: False``), multi-process runs use the gloo backend on CPU,
where RecBole alone would require NCCL. ``detect_anomaly`` (default False) is applied by the plugin's trainers
while they train (:mod:`recbole_fame.trainer.trainer`); building a Config changes no global flag.

The user's yaml files are read with a safe loader: a ``!!python/...`` tag is refused, never executed or
constructed, and a file that is missing, not UTF-8, not yaml or not a mapping of settings ends in one
:class:`~recbole_fame.errors.ConfigurationError` naming it. Once built, every setting the runs read is
checked (:mod:`recbole_fame.runner.settings`): strict booleans, counts >= 1, a positive finite learning rate, and the
trust rule for settings that make RecBole unpickle a file.
"""

import ast
import os
from enum import Enum

import numpy as np
import torch
import yaml
from recbole.config import Config as RecBoleConfig

from recbole_fame.runner import settings
from recbole_fame.defaults import _YamlLoader, properties_dir, property_file
from recbole_fame.errors import ConfigurationError
from recbole_fame.runner.registry import get_model


def settings_module_file():
    """RecBole's ``recbole/config/configurator.py`` (its model yaml files lie in ``recbole/properties/model``)."""
    import recbole.config.configurator

    return recbole.config.configurator.__file__


class Config(RecBoleConfig):
    def compatibility_settings(self):
        # RecBole assigns numpy aliases some of which numpy 2 removed; set only the missing ones (the same
        # names as RecBole's own compatibility_settings: its context-aware and feature models use np.long).
        for name, value in (
            ("bool", np.bool_),
            ("int", np.int_),
            ("long", np.int_),
            ("float", np.float64),
            ("complex", np.complex128),
            ("object", np.object_),
            ("str", np.str_),
            ("unicode", np.str_),
        ):
            if name not in np.__dict__:
                setattr(np, name, value)

    def _convert_config_dict(self, config_dict):
        """``--key=value`` and ``config_dict`` strings as Python literals (RecBole ``eval``s them, which runs any
        expression a shared command line or hyper-parameter file holds); what is not a literal stays a string,
        and ``true``/``false`` in any case are read as booleans, as RecBole reads them."""
        for key, param in config_dict.items():
            if not isinstance(param, str):
                continue
            try:
                value = ast.literal_eval(param.strip())
                if value is not None and not isinstance(value, (str, int, float, list, tuple, dict, bool, Enum)):
                    value = param
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                value = {"true": True, "false": False}.get(param.strip().lower(), param)
            config_dict[key] = value
        return config_dict

    def _load_config_files(self, file_list):
        """The user's yaml files, later ones overriding earlier ones, read safely (no ``!!python/`` tags).
        ``setting_files`` keeps the file each setting was last read from (for messages and the trust rule)."""
        file_config_dict = dict()
        self.setting_files = {}
        for file in file_list or []:
            try:
                with open(file, "r", encoding="utf-8") as f:
                    loaded = yaml.load(f, Loader=_YamlLoader)
            except OSError as error:
                raise ConfigurationError(f"Cannot read the config file {file}: {error.strerror or error}") from error
            except UnicodeDecodeError as error:
                raise ConfigurationError(f"The config file {file} is not UTF-8 text ({error.reason} at byte "
                                         f"{error.start}): save it as UTF-8.") from error
            except yaml.constructor.ConstructorError as error:
                raise ConfigurationError(
                    f"The config file {file} uses a yaml tag recbole_fame does not read ({error.problem}"
                    f"{error.problem_mark or ''}): config files hold plain settings only, and tags such as "
                    "!!python/... are refused, never executed or constructed. Remove the tag."
                ) from error
            except yaml.YAMLError as error:
                raise ConfigurationError(f"The config file {file} is not valid yaml: {error}") from error
            if loaded is None:
                continue
            if not isinstance(loaded, dict):
                raise ConfigurationError(f"The config file {file} must be a mapping of settings (key: value lines), "
                                         f"it holds a {type(loaded).__name__}.")
            file_config_dict.update(loaded)
            self.setting_files.update(dict.fromkeys(loaded, str(file)))
        return file_config_dict

    def _get_model_and_dataset(self, model, dataset):
        if model is None:
            model = self.external_config_dict.get("model")
        if model is None:
            raise KeyError("model must be given as an argument, in a config file, config_dict or --model=NAME")
        if isinstance(model, str):
            model_class = get_model(model)
        else:
            model_class, model = model, model.__name__
        if dataset is None:
            dataset = self.external_config_dict.get("dataset")
        if dataset is None:
            raise KeyError("dataset must be given as an argument, in a config file, config_dict or --dataset=NAME")
        return model, model_class, dataset

    def _update_internal_config_dict(self, file):
        config_dict = super()._update_internal_config_dict(file)
        if os.path.basename(os.path.dirname(file)) == "quick_start_config":
            self._recbole_quick_start_files.append(file)
        return config_dict

    def _load_internal_config_dict(self, model, model_class, dataset):
        self._recbole_quick_start_files = []
        super()._load_internal_config_dict(model, model_class, dataset)
        # the settings the model's own yaml files define (which model-size checks apply, recbole_fame.runner.settings)
        recbole_model_file = os.path.join(os.path.dirname(os.path.realpath(settings_module_file())), "..",
                                          "properties", "model", f"{model}.yaml")
        self._recbole_fame_model_keys = set(self._keys_of(recbole_model_file)) | set(
            self._keys_of(property_file("model", model)))
        plugin_files = [
            os.path.join(properties_dir(), "overall.yaml"),
            property_file("model", model),
            property_file("dataset", dataset),
        ]
        for file in plugin_files:
            if file is None:
                continue
            config_dict = self._update_internal_config_dict(file)
            if file == plugin_files[2] and config_dict:
                self.parameters["Dataset"] += [
                    key for key in config_dict if key not in self.parameters["Dataset"]
                ]
        # RecBole's settings for the model's type stay over the plugin's protocol, which is the sequential one: a
        # context-aware model's labelled evaluation and rating threshold, a knowledge graph's kg and link columns,
        # DIN's sampled evaluation, the feature models' item columns (RecBole's quick_start_config files, as
        # RecBole picked them for this model and dataset; sequential.yaml is the plugin's protocol already)
        for file in self._recbole_quick_start_files:
            if os.path.basename(file) != "sequential.yaml":
                super()._update_internal_config_dict(file)
        # Full-softmax cross-entropy needs no sampled training negatives (RecBole insists on
        # train_neg_sample_args: ~ for CE but its overall.yaml sets uniform sampling).
        loss_type = self.external_config_dict.get("loss_type", self.internal_config_dict.get("loss_type"))
        if loss_type == "CE":
            self.internal_config_dict["train_neg_sample_args"] = None

    def _get_final_config_dict(self):
        final_config_dict = super()._get_final_config_dict()
        settings.validate(self, final_config_dict)  # before RecBole's own steps read any of them
        return final_config_dict

    def _keys_of(self, file):
        if not file or not os.path.isfile(file):
            return ()
        with open(file, "r", encoding="utf-8") as f:
            return list(yaml.load(f.read(), Loader=self.yaml_loader) or {})

    def _init_device(self):
        use_cuda = (
            self.final_config_dict.get("use_gpu", True)
            and torch.cuda.is_available()
            and len(str(self.final_config_dict["gpu_id"])) > 0
        )
        if "local_rank" in self.final_config_dict and not use_cuda:
            self._init_cpu_distributed()
        else:
            super()._init_device()

    def _init_cpu_distributed(self):
        """Multi-process training on CPU with the gloo backend (RecBole alone requires NCCL and GPUs)."""
        cfg = self.final_config_dict
        if isinstance(cfg["gpu_id"], tuple):
            cfg["gpu_id"] = ",".join(map(str, cfg["gpu_id"]))
        cfg["gpu_id"] = str(cfg["gpu_id"])
        torch.distributed.init_process_group(
            backend="gloo",
            rank=cfg["local_rank"] + cfg["offset"],
            world_size=cfg["world_size"],
            init_method=f"tcp://{cfg['ip']}:{cfg['port']}",
        )
        cfg["device"] = torch.device("cpu")
        cfg["single_spec"] = False
        if cfg["local_rank"] != 0:
            cfg["state"] = "error"
            cfg["show_progress"] = False
            cfg["verbose"] = False
