"""Checks of the settings every run reads, made once when :class:`recbole_fame.config.Config` is built.

RecBole keeps a command-line value it cannot ``eval`` as a string (``--trust_checkpoint=no`` is the string
``'no'``, which is true), and lets a bad number reach the trainer or the dataloader, where it ends in a
traceback (``--epochs=two``, ``--train_batch_size=0``) or, worse, in a run that "succeeds" (``--epochs=0``
reports the test metrics of an untrained model). Here every such setting is checked before anything is
read or trained, and the first bad one ends the run in one :class:`~recbole_fame.errors.ConfigurationError`
that names it:

* booleans (:data:`BOOLEAN_SETTINGS`) accept ``True``/``False``, ``true``/``false`` and ``1``/``0`` and are
  stored as real bools; anything else is refused;
* counts (epochs, batch sizes, ``MAX_ITEM_LIST_LENGTH``, ``topk``, ...) must be integers >= 1;
* ``learning_rate`` must be a finite number > 0, ``weight_decay`` a finite number >= 0, ``learner`` one of
  RecBole's optimizers (RecBole falls back to Adam), ``clip_grad_norm`` a mapping with ``max_norm``, and
  ``valid_metric`` a metric of ``metrics`` at a k of ``topk``;
* a model's sizes (``hidden_size``, ``embedding_size``, ``n_heads``, ``n_layers``, ``inner_size``, where its own
  yaml has them) must be integers >= 1, and a model whose own yaml has both ``hidden_size`` and ``n_heads`` (SASRec, BERT4Rec, FAME, ...) needs the
  first divisible by the second;
* a setting no RecBole or recbole_fame code reads (a misspelling such as ``--epoch=5``) is refused on the command
  line, where it can only be a typo, naming the nearest known setting; in a config file or ``config_dict``, which
  may carry settings of other tools, it is one warning per name (:func:`check_unknown_settings`);
* settings that make RecBole unpickle a file (``dataset_save_path``, ``dataloaders_save_path``) or
  ``torch.load`` one (RecBole models' pre-training files), and the files RecBole unpickles from ``checkpoint_dir``
  unasked, follow the checkpoint trust rule of :mod:`recbole_fame.storage.checkpoint`: inside ``checkpoint_dir``, or
  anywhere with ``trust_checkpoint: True``; a config file alone can neither opt in nor move ``checkpoint_dir``'s
  boundary (``trust_checkpoint: True`` in a file stops the run, to be confirmed on the command line).
"""

import difflib
import functools
import glob
import math
import os
import re
import sys

from recbole_fame.storage.checkpoint import check_pickled_files, set_by_a_file_only
from recbole_fame.errors import ConfigurationError

#: Every boolean setting the plugin or RecBole's trainer, dataloaders and dataset read (tests/test_trust.py checks
#: that every boolean default of the shipped yaml files is here).
BOOLEAN_SETTINGS = (
    # recbole_fame
    "trust_checkpoint", "save_last_checkpoint", "keep_last_checkpoint", "length_bucketing", "detect_anomaly",
    "eval_exclude_history", "train_exclude_history", "sorted_evaluation", "compile_model",
    # FAME
    "scale_by_heads", "attention_residual", "combine_warm_starts",
    # RecBole
    "use_gpu", "reproducibility", "show_progress", "save_dataset", "save_dataloaders", "log_wandb", "shuffle",
    "require_pow", "enable_amp", "enable_scaler", "repeatable",
)
_TRUE, _FALSE = ("true", "1"), ("false", "0")

#: Integer settings that must be >= 1.
POSITIVE_INTEGER_SETTINGS = (
    "epochs", "train_batch_size", "eval_batch_size", "eval_step", "stopping_step", "MAX_ITEM_LIST_LENGTH",
    "bucket_batches",
)

#: RecBole's optimizers (Trainer._build_optimizer).
LEARNERS = ("adam", "adamw", "sgd", "adagrad", "rmsprop", "sparse_adam")

#: Model sizes that must be integers >= 1 for a model whose own yaml defines them.
MODEL_SIZE_SETTINGS = ("hidden_size", "embedding_size", "n_heads", "n_layers", "inner_size")

def parse_bool(key, value):
    """``value`` as a bool, or a :class:`ConfigurationError` naming ``key``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise ConfigurationError(
        f"{key} must be True or False (true/false and 1/0 are read too), got {value!r}: --{key}=True or --{key}=False."
    )


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_booleans(config, cfg):
    for key in BOOLEAN_SETTINGS:
        if key not in cfg:
            continue
        value = cfg[key]
        if value is None and config.internal_config_dict.get(key) is None:
            continue  # a setting nobody gave
        cfg[key] = parse_bool(key, value)


def check_numbers(config, cfg):
    for key in POSITIVE_INTEGER_SETTINGS:
        if key in cfg and cfg[key] is not None and not (_is_int(cfg[key]) and cfg[key] >= 1):
            raise ConfigurationError(f"{key} must be an integer >= 1, got {cfg[key]!r}")
    topk = cfg.get("topk")
    for k in topk if isinstance(topk, (list, tuple)) else [topk]:
        if not (_is_int(k) and k >= 1):
            raise ConfigurationError(f"topk must be an integer >= 1 or a list of them, got {topk!r}")
    if "learning_rate" in cfg:
        lr = cfg["learning_rate"]
        if not (_is_number(lr) and math.isfinite(lr) and lr > 0):
            raise ConfigurationError(f"learning_rate must be a finite number > 0, got {lr!r} (e.g. --learning_rate=0.001)")
    if cfg.get("weight_decay") is not None:
        wd = cfg["weight_decay"]
        if not (_is_number(wd) and math.isfinite(wd) and wd >= 0):
            raise ConfigurationError(f"weight_decay must be a finite number >= 0, got {wd!r}")
    if cfg.get("seed") is not None and not _is_int(cfg["seed"]):
        raise ConfigurationError(f"seed must be an integer, got {cfg['seed']!r}")
    # RecBole's Transformer models split hidden_size into n_heads heads (RecBole itself fails in the first layer)
    model_defaults = getattr(config, "_recbole_fame_model_keys", ())
    for key in MODEL_SIZE_SETTINGS:  # sizes of the models whose own yaml has them
        if key in model_defaults and not (_is_int(cfg.get(key)) and cfg[key] >= 1):
            raise ConfigurationError(f"{key} must be an integer >= 1, got {cfg.get(key)!r}")
    if "hidden_size" in model_defaults and "n_heads" in model_defaults:
        hidden, heads = cfg.get("hidden_size"), cfg.get("n_heads")
        if hidden % heads:
            raise ConfigurationError(
                f"hidden_size ({hidden}) must be divisible by n_heads ({heads}): each attention head of "
                f"{getattr(config, 'model', None)} works on hidden_size / n_heads dimensions. Choose e.g. n_heads in "
                f"{[h for h in (1, 2, 4, 8, 16) if hidden % h == 0]}."
            )
    check_metrics(cfg)
    check_sampled_evaluation(cfg)
    if "gpu_id" in cfg:
        check_gpu_id(cfg["gpu_id"])
    learner = cfg.get("learner")
    if learner is not None and not (isinstance(learner, str) and learner.lower() in LEARNERS):
        # RecBole trains with Adam after a warning: a typo would silently change the run
        raise ConfigurationError(f"learner must be one of {', '.join(LEARNERS)}, got {learner!r}")
    clip = cfg.get("clip_grad_norm")
    if clip is not None and not (isinstance(clip, dict) and "max_norm" in clip):
        raise ConfigurationError(f"clip_grad_norm must be a mapping of torch's clip_grad_norm_ arguments such as "
                                 f"\"{{'max_norm': 5.0}}\", got {clip!r}")
    teacher = cfg.get("teacher")
    if teacher is not None and not (
        isinstance(teacher, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", teacher)
    ):
        # RecBole's KD_DAGFM eval()s this setting: only a plain model name may reach it
        raise ConfigurationError(f"teacher must be a model name such as CrossNet, got {teacher!r} (it is not evaluated)")


_GPU = r"\s*(?:\d+|GPU-[0-9A-Fa-f-]+|MIG-[\w/.-]+)\s*"


def check_gpu_id(gpu_id):
    """``gpu_id`` names GPUs as CUDA_VISIBLE_DEVICES does (numbers or UUIDs, comma-separated; empty for none): RecBole
    exports it as CUDA_VISIBLE_DEVICES, so ``abc`` would hide every GPU and the run would train on the CPU."""
    text = ",".join(map(str, gpu_id)) if isinstance(gpu_id, (tuple, list)) else str(gpu_id)
    if not (_is_int(gpu_id) and gpu_id >= 0) and not re.fullmatch(rf"(?:{_GPU}(?:,{_GPU})*)?", text):
        raise ConfigurationError(
            f"gpu_id must name GPUs (e.g. 0, or 0,1), got {text!r}: it becomes CUDA_VISIBLE_DEVICES, where a name "
            "that matches no GPU hides them all and the run trains on the CPU. Pass GPU numbers or UUIDs separated "
            "by commas, or use_gpu: False for the CPU."
        )


def check_sampled_evaluation(cfg):
    """Sampled evaluation (RecBole's ``eval_args`` mode ``uniN``/``popN``) ranks each target among N + 1 items: a
    topk above N counts every target as a hit (RecBole reports Hit@k 1 for every user), so it is refused."""
    eval_args = cfg.get("eval_args")
    mode = eval_args.get("mode") if isinstance(eval_args, dict) else None
    modes = list(mode.values()) if isinstance(mode, dict) else [mode]
    topk = cfg.get("topk")
    ks = topk if isinstance(topk, (list, tuple)) else [topk]
    for name in modes:
        sampled = re.fullmatch(r"(uni|pop)(\d+)", name) if isinstance(name, str) else None
        if not sampled:
            continue
        negatives = int(sampled.group(2))
        above = [k for k in ks if _is_int(k) and k > negatives]
        if above:
            raise ConfigurationError(
                f"eval_args mode {name} ranks each target among {negatives + 1} items (itself and {negatives} sampled "
                f"negatives), so metrics at topk {above} count every target as a hit. Choose topk below "
                f"{negatives + 1} (e.g. --topk=[1,5]) with valid_metric at one of them, sample more negatives (mode "
                "uni100), or rank every item (mode full, the FAME paper's protocol)."
            )


def check_metrics(cfg):
    """valid_metric must be one the evaluation computes: a metric of ``metrics`` at a k of ``topk`` (RecBole
    otherwise ends the first validation in a KeyError)."""
    valid, metrics, topk = cfg.get("valid_metric"), cfg.get("metrics"), cfg.get("topk")
    if valid is None or metrics is None:
        return
    metrics = [metrics] if isinstance(metrics, str) else metrics
    if not isinstance(valid, str) or not isinstance(metrics, (list, tuple)):
        raise ConfigurationError(f"valid_metric must be a name such as NDCG@10, got {valid!r}")
    names = {str(m).lower() for m in metrics}
    name, at, k = valid.lower().partition("@")
    ks = topk if isinstance(topk, (list, tuple)) else [topk]
    if name not in names or (at and not (k.isdigit() and int(k) in ks)):
        offered = [f"{m}@{t}" for m in metrics for t in ks][:8]
        raise ConfigurationError(
            f"valid_metric {valid} is not computed by this run (metrics {list(metrics)}, topk {list(ks)}): choose one of "
            f"{', '.join(offered)}{', ...' if len(offered) == 8 else ''}, or add its metric and k to metrics and topk."
        )


def check_trust_from_files(config):
    """``trust_checkpoint: True`` from a config file alone stops the run: the opt-in is the user's, on the command
    line or in ``config_dict``, never a shared file's."""
    file = set_by_a_file_only(config, "trust_checkpoint")
    if file is None:
        return
    try:
        opted_in = parse_bool("trust_checkpoint", config.file_config_dict["trust_checkpoint"])
    except ConfigurationError:
        return  # not a boolean: check_booleans says so
    if opted_in:
        raise ConfigurationError(
            f"{file} sets trust_checkpoint: True, and the opt-in to unpickle "
            "files from outside checkpoint_dir is taken from the command line or config_dict only (a shared config "
            "file must not decide what code runs): confirm it with --trust_checkpoint=True, or remove it from the file."
        )


#: settings the runners and RecBole's Config set at run time, in no yaml file
RUNTIME_SETTINGS = ("model", "dataset", "config_files", "nproc", "ip", "port", "world_size", "group_offset",
                    "offset", "local_rank", "device", "single_spec", "MODEL_TYPE", "MODEL_INPUT_TYPE", "eval_type",
                    "valid_metric_bigger", "train_neg_sample_args", "valid_neg_sample_args", "test_neg_sample_args",
                    "encoding")
_READ_IN_SOURCE = re.compile(r"config(?:\[\s*|\.get\(\s*)[\"'](\w+)[\"']")
_WARNED = set()  # (source, key) of the unknown settings already warned about in this process


@functools.lru_cache(maxsize=1)
def known_settings():
    """Every setting name RecBole or recbole_fame reads: the keys of all their yaml files (every model and
    dataset's), RecBole's argument lists, every ``config["..."]`` / ``config.get("...")`` of their source, and
    :data:`RUNTIME_SETTINGS` (computed once, when a name is not among the run's own defaults)."""
    import yaml
    import recbole
    from recbole.utils import argument_list

    from recbole_fame.defaults import properties_dir

    known = set(RUNTIME_SETTINGS)
    for value in vars(argument_list).values():
        if isinstance(value, list):
            known.update(value)
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # recbole_fame/
    for folder in (os.path.dirname(recbole.__file__), package):
        for path in glob.glob(os.path.join(folder, "**", "*.py"), recursive=True):
            with open(path, encoding="utf-8") as f:
                known.update(_READ_IN_SOURCE.findall(f.read()))
    for folder in (os.path.join(os.path.dirname(recbole.__file__), "properties"), properties_dir()):
        for path in glob.glob(os.path.join(folder, "**", "*.yaml"), recursive=True):
            try:
                with open(path, encoding="utf-8") as f:
                    loaded = yaml.safe_load(f)
            except yaml.YAMLError:
                continue
            if isinstance(loaded, dict):
                known.update(str(key) for key in loaded)
    return frozenset(known)


def _unknown(keys, config):
    defaults = getattr(config, "internal_config_dict", None) or {}
    return [key for key in keys if key not in defaults and key not in known_settings()]


def _nearest(key):
    names = sorted(known_settings())
    lowered = {name.lower(): name for name in names}
    if key.lower() in lowered:
        return lowered[key.lower()]
    found = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_setting_message(key, where):
    """The sentence naming the unknown setting ``key`` (given ``where``: "--key=value", "file.yaml") and the nearest
    known one."""
    nearest = _nearest(key)
    hint = f" (did you mean {nearest}?)" if nearest else ""
    return (f"unknown setting {key} in {where}{hint}: no RecBole or recbole_fame setting has that name, so it would "
            "be ignored")


def refuse_unknown_command_line_settings(keys, config=None):
    """A command-line setting no code reads can only be a typo: one ConfigurationError naming the nearest setting."""
    for key in _unknown(keys, config):
        raise ConfigurationError(unknown_setting_message(key, f"--{key}=...") + ". Fix the spelling (names are "
                                 "case-sensitive), or drop it.")


def check_unknown_settings(config):
    """Unknown settings: refused on the command line, one warning per name from a config file or ``config_dict``
    (a shared yaml may carry settings of other tools, and RecBole ignores them)."""
    refuse_unknown_command_line_settings(list(getattr(config, "cmd_config_dict", None) or {}), config)
    files = getattr(config, "setting_files", None) or {}
    sources = [(key, files.get(key, "a config file")) for key in getattr(config, "file_config_dict", None) or {}]
    sources += [(key, "config_dict") for key in getattr(config, "variable_config_dict", None) or {}]
    for key, where in sources:
        if (where, key) not in _WARNED and _unknown([key], config):
            _WARNED.add((where, key))
            print(f"warning: {unknown_setting_message(key, where)}; it is ignored.", file=sys.stderr)


def check_dataset_name(name):
    """``dataset`` names a folder inside ``data_path`` (``<data_path>/<dataset>/<dataset>.inter``): a name with a
    path in it is refused with the settings that read that folder (it used to be reported as "not found")."""
    if isinstance(name, str) and ("/" in name or "\\" in name or os.sep in name or name in (".", "..")):
        folder = os.path.normpath(name)
        parent, base = os.path.dirname(folder), os.path.basename(folder)
        hint = (f"to read {folder}/{base}.inter, pass --data_path={parent} --dataset={base}"
                if base not in ("", ".", "..") and parent else "pass the folder above it as --data_path")
        raise ConfigurationError(f"dataset must be a name, not a path: got {name!r}. The files are read from "
                                 f"<data_path>/<dataset>/<dataset>.inter: {hint}.")


def check_pretraining_saves(cfg):
    """RecBole's pre-training stages (S3Rec's ``pretrain``, RaCT's ``actor_pretrain`` / ``critic_pretrain``) write
    a checkpoint every ``save_step`` epochs and test the last one written: with fewer ``pretrain_epochs`` than
    ``save_step`` none is written, and the run ended after training in "Checkpoint file not found"."""
    stage, epochs, step = cfg.get("train_stage"), cfg.get("pretrain_epochs"), cfg.get("save_step")
    if not (isinstance(stage, str) and stage.endswith("pretrain") and _is_int(epochs) and _is_int(step)):
        return
    if epochs < step:
        raise ConfigurationError(
            f"train_stage {stage} saves the pre-trained model every save_step ({step}) epochs and pretrain_epochs is "
            f"{epochs}, so no checkpoint would be written to test or fine-tune from: set --save_step={epochs} (or "
            f"more pretrain_epochs).")


def validate(config, cfg):
    """Every check above on ``cfg``, the final settings of the Config ``config`` before RecBole reads them (in
    place: booleans become real bools)."""
    check_dataset_name(config.dataset)
    check_trust_from_files(config)
    check_unknown_settings(config)
    check_booleans(config, cfg)
    check_numbers(config, cfg)
    check_pretraining_saves(cfg)
    check_pickled_files(dict(cfg, model=config.model, dataset=config.dataset), sources=config)
