"""torch.distributed on CPU and GPU alike, for the plugin's multi-process training (``--nproc``, ``--world_size``)."""

import torch.distributed as dist


def barrier(device):
    """``torch.distributed.barrier`` on ``device`` (NCCL needs the rank's GPU named, gloo takes none)."""
    if device.type == "cuda":
        dist.barrier(device_ids=[device.index])
    else:
        dist.barrier()
