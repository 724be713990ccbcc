"""The package's structure: no import circle, a plugin trainer for every model, capabilities in one place."""

import ast
import importlib
from pathlib import Path

import pytest

import recbole_fame
from recbole_fame.runner import capabilities
from recbole_fame.runner.registry import get_model, get_trainer
from recbole_fame.trainer import RecBoleFameTrainerMixin

PACKAGE = Path(recbole_fame.__file__).resolve().parent


def module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path):
    """Every recbole_fame module ``path`` imports, at module level or inside a function (importlib included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("recbole_fame"):
            found.add(node.module)
            for alias in node.names:  # ``from recbole_fame.model import warm_start`` imports a module
                if (PACKAGE.parent / (node.module.replace(".", "/") + f"/{alias.name}.py")).is_file():
                    found.add(f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("recbole_fame"))
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and str(node.args[0].value).startswith("recbole_fame")):
            found.add(node.args[0].value)
    return found


def test_no_module_of_the_package_imports_itself_back_through_others():
    """utils -> data/dataset / trainer -> model file -> utils was a circle: each job has its module now. The
    package's own ``__init__`` (which imports everything lazily, by name) and the parent packages a module
    lives in are not counted: importing ``a.b`` runs ``a/__init__`` first by Python's rules, not the module's."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {name: {m for m in imports_of(path) if m in modules and m != "recbole_fame"} for name, path in modules.items()}
    graph["recbole_fame"] = set()
    cycles = []

    def visit(name, stack):
        if name in stack:
            cycles.append(stack[stack.index(name):] + [name])
            return
        for child in sorted(graph.get(name, ())):
            if child not in done:
                visit(child, stack + [name])
        done.add(name)

    done = set()
    for name in sorted(graph):
        visit(name, [])
    assert cycles == []


@pytest.mark.parametrize("model_name,recbole_trainer", [
    ("FAME", "Trainer"), ("SASRecSeq", "Trainer"), ("SASRec", "Trainer"), ("BERT4Rec", "Trainer"),
    ("S3Rec", "S3RecTrainer"), ("Pop", "TraditionalTrainer"), ("KGAT", "KGATTrainer"), ("CKE", "KGTrainer"),
    ("RecVAE", "RecVAETrainer"), ("NCL", "NCLTrainer"), ("BPR", "Trainer"),
])
def test_get_trainer_gives_every_model_a_plugin_trainer_over_recbole_own(model_name, recbole_trainer):
    from recbole.trainer import trainer as recbole_trainers

    model = get_model(model_name)
    trainer = get_trainer(model.type, model_name)
    assert issubclass(trainer, RecBoleFameTrainerMixin)
    assert issubclass(trainer, getattr(recbole_trainers, recbole_trainer))
    assert trainer.__mro__[2] is getattr(recbole_trainers, recbole_trainer)  # the mixin, then RecBole's own
    assert trainer is get_trainer(model.type, model_name)  # one class per RecBole class


def test_the_text_trainer_is_one_of_the_plugin_trainers():
    from recbole_fame.trainer import FAMETextPretrainTrainer, Trainer

    assert get_trainer(get_model("FAMETextPretrain").type, "FAMETextPretrain") is FAMETextPretrainTrainer
    assert issubclass(FAMETextPretrainTrainer, Trainer)


def test_every_recbole_class_in_the_capability_table_exists():
    for key in capabilities.RECBOLE_MODELS:
        module, name = key.rsplit(".", 1)
        model = getattr(importlib.import_module(module), name)
        assert f"{model.__module__}.{model.__qualname__}" == key
        assert set(capabilities.RECBOLE_MODELS[key]) <= set(capabilities.DEFAULTS)


def test_capabilities_of_plugin_models_are_class_attributes_and_recbole_ones_come_from_the_table():
    assert capabilities.supports_sequence_training(get_model("FAME"))
    assert capabilities.supports_batch_trimming(get_model("SASRecSeq"))
    assert capabilities.supports_batch_trimming(get_model("SASRec"))
    assert not capabilities.supports_sequence_training(get_model("SASRec"))
    assert not capabilities.supports_batch_trimming(get_model("FEARec"))
    assert "NaN loss" in capabilities.length_bucketing_refused(get_model("BERT4Rec"))
    assert not capabilities.supports_batch_trimming(type("MySASRec", (get_model("SASRec"),), {}))  # a user's subclass


@pytest.mark.parametrize("bad", ["nope", 0, True, "Sequence", ["prefix"]])
def test_train_mode_has_one_reader_one_default_and_one_check(bad):
    from recbole_fame.errors import ConfigurationError
    from recbole_fame.defaults import load_yaml, properties_dir, train_mode

    assert train_mode({}) == "prefix" == load_yaml(Path(properties_dir()) / "overall.yaml")["train_mode"]
    assert train_mode({"train_mode": None}) == "prefix"
    assert train_mode({"train_mode": "sequence"}) == "sequence"
    with pytest.raises(ConfigurationError, match=r"train_mode must be 'prefix' or 'sequence'"):
        train_mode({"train_mode": bad})
    # SASRecSeq's yaml leaves it to overall.yaml; FAME's sets FAME's own default, the efficient sequence mode
    # (tests/test_defaults.py), which a plain RecBole Config never reads: train_mode({}) is overall.yaml's
    assert "train_mode" not in load_yaml(Path(properties_dir()) / "model" / "SASRecSeq.yaml")
    assert load_yaml(Path(properties_dir()) / "model" / "FAME.yaml")["train_mode"] == "sequence"


def test_the_data_package_imports_no_model_trainer_or_run_wiring():
    """The run's plan (recbole_fame.runner.plan) decides what the model can do; data/ builds what the plan says and
    never looks a model up, nor reads the run's settings checks: nothing it imports, directly or through other
    modules of the package, is a model, a trainer or run wiring."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    forbidden = ("recbole_fame.runner", "recbole_fame.model", "recbole_fame.trainer", "recbole_fame.quick_start",
                 "recbole_fame.config")
    reached = {}
    for name in (m for m in modules if m.startswith("recbole_fame.data")):
        stack = [(name, [name])]
        while stack:
            module, path = stack.pop()
            for child in imports_of(modules[module]) & set(modules):
                if child.startswith(forbidden):
                    reached[" -> ".join(path + [child])] = True
                elif child not in path and child != "recbole_fame":
                    stack.append((child, path + [child]))
    assert sorted(reached) == []


@pytest.mark.parametrize("path,cls", [("model/sequential_recommender/fame.py", "FAME"),
                                      ("model/sequential_recommender/sasrecseq.py", "SASRecSeq")])
def test_the_plugin_models_read_their_settings_one_way_once(path, cls):
    """FAME read its settings four ways (model_settings, train_mode(config), config[...] and SequenceLoss reading
    sequence_loss_weighting again): every setting now comes from one model_settings call in __init__."""
    tree = ast.parse((PACKAGE / path).read_text(encoding="utf-8"))
    [model] = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == cls]
    reads, calls = [], []
    for node in ast.walk(model):
        if isinstance(node, ast.Subscript) and getattr(node.value, "id", None) == "config":
            reads.append(ast.unparse(node))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("model_settings", "train_mode"):
            calls.append(node.func.id)
    assert reads == [] and calls == ["model_settings"]
    loss = ast.parse((PACKAGE / "model/sequence_loss.py").read_text(encoding="utf-8"))
    assert not [ast.unparse(node) for node in ast.walk(loss)
                if isinstance(node, ast.Subscript) and getattr(node.value, "id", None) == "config"]
