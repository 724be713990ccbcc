"""Trainers of the plugin's models. ``get_trainer`` picks ``<Model>Trainer`` from here, else RecBole's."""
from recbole_fame.trainer.text_pretrain import FAMETextPretrainTrainer

__all__ = ["FAMETextPretrainTrainer"]
