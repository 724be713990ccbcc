"""Refusing sizes that cannot fit in memory, before the data or the model is built.

A typo such as ``--MAX_ITEM_LIST_LENGTH=1000000000`` or ``--num_experts=1000000`` used to end in an
out-of-memory traceback (one probe asked for 64 TB), after the data had been read. The estimates here are lower
bounds of what a run must hold at once, compared with the machine's whole memory (RAM and swap; a GPU's total
memory), so that only sizes that cannot fit are refused, with the estimate and the settings behind it:

* the samples RecBole's prefix mode materialises when it builds the loaded dataset, counted exactly
  (:func:`check_prefix_samples_fit`, from :func:`recbole_fame.data.utils.data_preparation`);
* the rows of the sequence mode, counted exactly before they are built
  (:meth:`recbole_fame.data.dataset.SequenceTrainingDataset.data_augmentation`);
* FAME's parameters with their gradients and the optimizer's state, and the attention scores and logits of one
  training batch (:func:`fame_parts`, checked when the model is built).

ML-20M at the paper's 50 items per sequence comes to about 1.4 GB of rows in the sequence mode and 11 GB of
prefix samples (what RecBole's prefix samples take), and FAME with 32 experts, 16 heads and hidden size 128 to
0.2 GB for a batch of 256 prefix samples (tests/test_memory.py).
"""

import math
import os

from recbole_fame.errors import ConfigurationError

#: bytes a parameter takes in training with each optimizer: the weight, its gradient and the optimizer's state
_BYTES_PER_PARAMETER = {"adam": 16, "adamw": 16, "sparse_adam": 16, "adagrad": 12, "rmsprop": 12, "sgd": 8}


def human(size):
    """``size`` bytes as a short figure: 512 B, 3.2 GB, 64.0 TB."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if size < 1024 or unit == "PB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} PB"


def machine_memory():
    """This machine's RAM and swap in bytes."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        with open("/proc/meminfo", "r", encoding="ascii") as f:
            for line in f:
                if line.startswith("SwapTotal:"):
                    total += int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return total


def device_memory(device):
    """(bytes, name) of the memory a model on ``device`` trains in: a GPU's total memory, else the machine's."""
    import torch

    device = torch.device(device)
    if device.type == "cuda" and torch.cuda.is_available():
        index = torch.cuda.current_device() if device.index is None else device.index
        return torch.cuda.get_device_properties(index).total_memory, f"GPU memory ({torch.cuda.get_device_name(index)})"
    return machine_memory(), "memory (RAM and swap)"


def require_fits(what, parts, device, fix):
    """Refuse ``what`` when the sum of ``parts`` (``(description, bytes)``) exceeds the memory of ``device``, with
    the estimate, its largest parts and ``fix`` (how to lower it)."""
    needed = sum(size for _, size in parts)
    available, name = device_memory(device)
    if needed <= available:
        return
    largest = sorted(parts, key=lambda part: -part[1])[:3]
    raise ConfigurationError(
        f"{what} needs at least {human(needed)} and this machine has {human(available)} of {name}: "
        + "; ".join(f"{description} {human(size)}" for description, size in largest)
        + f". Nothing was built. {fix}"
    )


def prefix_samples_part(config, dataset):
    """``(description, bytes)`` of the prefix samples RecBole's ``build`` makes of the loaded ``dataset`` (its
    interactions still a DataFrame): a sample per interaction but each user's first, with a row of
    ``MAX_ITEM_LIST_LENGTH`` values per interaction field but the user's (8 bytes for ids, 4 for floats)."""
    frame = dataset.inter_feat
    samples = len(frame) - frame[dataset.uid_field].nunique()
    width = sum(4 if "float" in str(dataset.field2type[field]).lower() else 8
                for field in frame.columns if field != dataset.uid_field)
    length = config["MAX_ITEM_LIST_LENGTH"]
    return (f"{samples} samples x MAX_ITEM_LIST_LENGTH {length} x {width} bytes", samples * length * width)


def check_prefix_samples_fit(config, dataset):
    """The prefix samples of the loaded sequential ``dataset`` fit in memory (checked before RecBole builds them)."""
    require_fits(
        f"Dataset {config['dataset']} in the prefix mode (a sample per interaction)",
        [prefix_samples_part(config, dataset)],
        "cpu",
        "Lower MAX_ITEM_LIST_LENGTH (the paper uses 50), or train FAME and SASRecSeq with train_mode: sequence.",
    )


def check_sequence_rows_fit(config, rows, fields):
    """The ``rows`` rows of the sequence mode, ``fields`` interaction fields each, fit in memory."""
    length = config["MAX_ITEM_LIST_LENGTH"]
    require_fits(
        f"Dataset {config['dataset']} in the sequence mode",
        [(f"{rows} rows x MAX_ITEM_LIST_LENGTH {length} x ({fields} field(s) x 16 + 9) bytes",
          rows * length * (fields * 16 + 9))],
        "cpu",
        "Lower MAX_ITEM_LIST_LENGTH (the paper uses 50).",
    )


def fame_parts(items, positions, length, hidden, heads, experts, layers, inner, batch, queries, learner="adam"):
    """Lower bounds of FAME's training memory, ``(description, bytes)``: its parameters with their gradients and the
    optimizer's state, and one batch's attention scores and logits (float32). ``positions``:
    ``MAX_ITEM_LIST_LENGTH``; ``length``: the longest sequence a batch holds; ``queries``: the positions that get a
    query (1 in the prefix mode, ``length`` in the sequence mode)."""
    head = hidden // heads
    per_parameter = _BYTES_PER_PARAMETER.get(str(learner).lower(), 8)
    lower = (layers - 1) * (4 * hidden * hidden + 2 * hidden * inner)
    parts = [
        (f"item and position embeddings ({items} items, MAX_ITEM_LIST_LENGTH {positions}, hidden_size {hidden})",
         (items + positions) * hidden * per_parameter),
        (f"lower layers (n_layers {layers}, hidden_size {hidden}, inner_size {inner})", lower * per_parameter),
        (f"query experts (n_heads {heads} x num_experts {experts} x hidden_size {hidden} x {head})",
         heads * experts * hidden * head * per_parameter),
        (f"expert routers (n_heads {heads} x num_experts {experts}^2 x {head})",
         (heads * experts * head * experts if experts > 1 else 0) * per_parameter),
        (f"attention scores of a batch ({batch} x n_heads {heads} x num_experts {experts} x {queries} x {length})",
         2 * 4 * batch * heads * experts * queries * length),
        (f"lower layers' attention of a batch ({batch} x n_heads {heads} x {length}^2 x {layers - 1} layer(s))",
         2 * 4 * batch * heads * length * length * (layers - 1)),
        (f"logits of a batch ({batch} x {queries} x {items} items)", 2 * 4 * batch * queries * items),
    ]
    return parts
