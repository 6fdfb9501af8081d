"""Process-group helpers: one code path for a single process and for ``torchrun`` (DDP).

``torchrun`` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``;
:func:`init_distributed` reads them and starts a process group (gloo on CPU, nccl on CUDA).
Without them (or with ``WORLD_SIZE=1``) everything below is a no-op and rank 0 is the only rank.

>>> ctx = init_distributed("cpu")      # no torchrun variables: a single process
>>> ctx.world_size, ctx.is_main, str(ctx.device)
(1, True, 'cpu')
>>> all_reduce_sum(ctx, [1.0, 2.0])
[1.0, 2.0]
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from ._errors import Arg, ConfigError


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: its rank, the number of ranks, its device and backend."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    backend: str | None = None  # None: no process group (single process)
    owns_group: bool = False  # True if init_distributed started the process group

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.backend is not None


def resolve_device(request: str, local_rank: int = 0) -> torch.device:
    """``'cpu'``, ``'cuda'`` or ``'auto'`` (cuda when available) → a ``torch.device``."""
    if request not in ("cpu", "cuda", "auto"):
        raise ConfigError(Arg("device"), f": expected 'cpu', 'cuda' or 'auto', got {request!r}")
    if request == "auto":
        request = "cuda" if torch.cuda.is_available() else "cpu"
    if request == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(
                Arg("device", "cuda"), ": CUDA is not available on this machine (use ", Arg("device", "cpu"), ")"
            )
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"environment variable {name}: expected an integer, got {value!r}") from None


def init_distributed(device: str = "auto") -> DistContext:
    """Start the process group if ``torchrun`` (or the caller) set ``WORLD_SIZE`` > 1.

    ``device``: ``'cpu'``, ``'cuda'`` (rank ``LOCAL_RANK``'s GPU) or ``'auto'`` (cuda if available).

    >>> from steerable.training import init_distributed
    >>> init_distributed("cpu").distributed
    False
    """
    world_size = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local_rank = _env_int("LOCAL_RANK", rank)
    dev = resolve_device(device, local_rank)
    if world_size <= 1:
        return DistContext(device=dev)
    backend = "nccl" if dev.type == "cuda" else "gloo"
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    owns = not dist.is_initialized()
    if owns:
        kwargs: dict[str, Any] = {"device_id": dev} if dev.type == "cuda" else {}
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size, **kwargs)
    else:  # the caller started it: use its backend and leave it running afterwards
        backend = dist.get_backend()
    return DistContext(
        rank=rank, world_size=world_size, local_rank=local_rank, device=dev, backend=backend, owns_group=owns
    )


def cleanup_distributed(ctx: DistContext) -> None:
    """Tear down the process group started by :func:`init_distributed` (no-op otherwise).

    >>> from steerable.training import cleanup, init_distributed
    >>> cleanup(init_distributed("cpu"))
    """
    if ctx.distributed and ctx.owns_group and dist.is_initialized():
        dist.destroy_process_group()


cleanup = cleanup_distributed  # the public name (steerable.training.cleanup)


def all_reduce_sum(ctx: DistContext, values: list[float]) -> list[float]:
    """Sum a list of numbers over all ranks (float64, on the rank's device).

    >>> from steerable.training import DistContext, all_reduce_sum
    >>> all_reduce_sum(DistContext(), [1, 2.5])
    [1.0, 2.5]
    """
    if not ctx.distributed:
        return [float(v) for v in values]
    t = torch.tensor(values, dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def broadcast_object(ctx: DistContext, obj: Any = None, src: int = 0) -> Any:
    """Rank ``src``'s ``obj`` on every rank (pickled; tensors come back on the CPU).

    >>> from steerable.training import DistContext, broadcast_object
    >>> broadcast_object(DistContext(), {"a": 1})
    {'a': 1}
    """
    if not ctx.distributed:
        return obj
    box = [obj if ctx.rank == src else None]
    dist.broadcast_object_list(box, src=src, device=ctx.device if ctx.device.type == "cuda" else None)
    return box[0]


def all_gather_object(ctx: DistContext, obj: Any) -> list:
    """Every rank's ``obj``, in rank order, on every rank.

    >>> from steerable.training import DistContext, all_gather_object
    >>> all_gather_object(DistContext(), 3)
    [3]
    """
    if not ctx.distributed:
        return [obj]
    out: list = [None] * ctx.world_size
    dist.all_gather_object(out, obj)
    return out


def barrier(ctx: DistContext) -> None:
    """Wait until every rank gets here (no-op in a single process).

    >>> from steerable.training import DistContext, barrier
    >>> barrier(DistContext())
    """
    if ctx.distributed:
        dist.barrier()


def find_free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` now (for ``MASTER_PORT`` in tests and local runs)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]
