"""The plugin's trainers (RecBole's trainer classes with the plugin's fixes, :mod:`recbole_fame.trainer.trainer`)
and the trainers of its models that need their own (``MODEL_TRAINERS``, which ``get_trainer`` looks in first)."""
from recbole_fame.trainer.text_pretrain import FAMETextPretrainTrainer
from recbole_fame.trainer.trainer import RecBoleFameTrainerMixin, Trainer, with_plugin_fixes

#: model name -> its trainer, for the plugin's models that do not train with :class:`Trainer`
MODEL_TRAINERS = {"FAMETextPretrain": FAMETextPretrainTrainer}

__all__ = ["FAMETextPretrainTrainer", "MODEL_TRAINERS", "RecBoleFameTrainerMixin", "Trainer", "with_plugin_fixes"]
