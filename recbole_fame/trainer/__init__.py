"""Trainers of the plugin's models. ``get_trainer`` picks ``<Model>Trainer`` from here, else RecBole's."""
