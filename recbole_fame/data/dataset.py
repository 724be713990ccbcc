"""Dataset classes the plugin adds to RecBole's."""


def dataset_class_for(config):
    """The plugin dataset class for this configuration, or None for RecBole's default."""
    return None
