"""``compile_model: True``: an opt-in fast path that hands the model's training step and full-sort scoring to
``torch.compile``.

At d = 64 FAME and SASRec are launch-bound on a GPU (results/profile_gpu.md: 2.5 ms of kernels in an 8.6 ms
step); compiling fuses the small kernels. It is set on the model instance (``calculate_loss`` and
``full_sort_predict``), so RecBole's trainer, checkpoints and state dicts are unchanged. Shapes are compiled as
dynamic, since batches trimmed to their longest sequence change width. The first batches of each new shape pay
the compilation (tens of seconds); measure with benchmarks/recipes/gpu_fast_path.sh before relying on it.
``compile_backend`` (default: torch's, inductor) picks another ``torch.compile`` backend, e.g. ``aot_eager`` to
check the tracing on a CPU without generating code.
"""

import torch


def compile_if_asked(model, config):
    """With ``compile_model: True``, wrap ``model.calculate_loss`` and ``model.full_sort_predict`` in torch.compile."""
    if not config["compile_model"]:
        return model
    options = {"dynamic": True}
    if config["compile_backend"]:
        options["backend"] = config["compile_backend"]
    model.calculate_loss = torch.compile(model.calculate_loss, **options)
    model.full_sort_predict = torch.compile(model.full_sort_predict, **options)
    return model
