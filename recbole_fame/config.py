"""RecBole's ``Config`` with the plugin's models and yaml files.

As in RecBole-GNN, the model name is resolved with :func:`recbole_fame.registry.get_model` (plugin first,
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
"""

import os

import numpy as np
import torch
from recbole.config import Config as RecBoleConfig

from recbole_fame.registry import get_model
from recbole_fame.defaults import properties_dir, property_file


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

    def _load_internal_config_dict(self, model, model_class, dataset):
        super()._load_internal_config_dict(model, model_class, dataset)
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
        # Full-softmax cross-entropy needs no sampled training negatives (RecBole insists on
        # train_neg_sample_args: ~ for CE but its overall.yaml sets uniform sampling).
        loss_type = self.external_config_dict.get("loss_type", self.internal_config_dict.get("loss_type"))
        if loss_type == "CE":
            self.internal_config_dict["train_neg_sample_args"] = None

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
