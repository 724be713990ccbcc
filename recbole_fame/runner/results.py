"""Results as plain Python numbers.

RecBole's evaluator rounds each metric with ``round(value, 4)``, which for a numpy scalar stays a numpy scalar;
numpy 2 writes those as ``np.float64(0.018)`` in every printed dict. :func:`plain_numbers` turns them into
``float`` / ``int`` / ``bool`` (the same values), keeping the container types (RecBole's ``OrderedDict``).
"""

import numpy as np


def plain_numbers(value):
    """``value`` with every numpy scalar (also inside dicts, lists and tuples) as the Python number it holds."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return type(value)((key, plain_numbers(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(plain_numbers(item) for item in value)
    return value
