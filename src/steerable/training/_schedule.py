"""Learning-rate schedules (stepped once per optimizer step) and the batch-norm warm-up.

A schedule *factory* is called as ``factory(optimizer, total_steps, start_step)`` and returns a
scheduler positioned at ``start_step`` (the steps already taken): closed forms of the step, like
:func:`cosine_schedule`, make a resumed run continue exactly and an extended run follow the
schedule of its new length.

>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
>>> constant_schedule(opt, 10, 3).get_last_lr()
[1.0]
"""

from __future__ import annotations

import math
from typing import Protocol, cast

import torch


def _set_initial_lr(optimizer: torch.optim.Optimizer, lr: float | None) -> None:
    for g in optimizer.param_groups:
        if lr is not None:
            g["initial_lr"] = lr
        else:
            g.setdefault("initial_lr", g["lr"])


def cosine_schedule(optimizer: torch.optim.Optimizer, lr: float | None, total_steps: int, step: int = 0):
    """The learning rate ``lr · (1 + cos(π · step / total_steps)) / 2`` (0 after ``total_steps``),
    as a ``LambdaLR`` positioned at ``step`` (steps already taken). ``lr=None``: each parameter
    group's own peak rate (its ``initial_lr``, else its ``lr``).

    A closed form of the step alone (not a recursion on the previous rate): a run resumed at any
    step continues exactly, and a run extended to more epochs follows the cosine of its new
    length from the step it had reached.

    >>> import torch
    >>> from steerable.training import cosine_schedule
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    >>> round(cosine_schedule(opt, 1.0, 10, step=5).get_last_lr()[0], 6)
    0.5
    """
    total = max(int(total_steps), 1)

    def factor(s: int) -> float:
        return 0.5 * (1.0 + math.cos(math.pi * min(s, total) / total))

    _set_initial_lr(optimizer, lr)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor, last_epoch=int(step) - 1)


def default_schedule(optimizer: torch.optim.Optimizer, total_steps: int, start_step: int):
    """The trainer's default: :func:`cosine_schedule` from each group's peak rate to 0.

    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=2.0)
    >>> default_schedule(opt, 4, 2).get_last_lr()
    [1.0]
    """
    return cosine_schedule(optimizer, None, total_steps, start_step)


def constant_schedule(optimizer: torch.optim.Optimizer, total_steps: int, start_step: int):
    """A schedule factory that keeps every group's learning rate."""
    _set_initial_lr(optimizer, None)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0, last_epoch=int(start_step) - 1)


class _TrackedNorm(Protocol):
    """A batch norm that counts its steps: what :class:`BatchNormWarmup` adjusts."""

    momentum: float
    num_batches_tracked: torch.Tensor


class BatchNormWarmup:
    """Debiased running statistics for the batch norms of ``model`` during training.

    torch's (and steerable's) batch norms start their running statistics at mean 0 / variance 1
    and move them by ``momentum`` (0.1) per step: after ``t`` steps the initial value still
    weighs ``0.9^t`` (3 % after 32 steps). Features with a small variance (a global average of
    ReLU outputs, a freshly initialised Linear) are then normalised in eval mode with a variance
    dominated by that 1, and a briefly trained model predicts one class at test time although it
    is right on the training batches. Before every step this sets each batch norm's momentum to
    ``max(momentum, 1 / (t + 1))`` (``t``: its ``num_batches_tracked``): the running statistics
    are the plain average of the first batches, then the usual exponential average.
    :meth:`restore` puts the modules' own momentum back. Resumed runs continue the same schedule
    (``num_batches_tracked`` is in the ``state_dict``).

    >>> import torch
    >>> from steerable.training import BatchNormWarmup
    >>> bn = torch.nn.BatchNorm1d(3)
    >>> warm = BatchNormWarmup(torch.nn.Sequential(bn))
    >>> warm.step(); bn.momentum
    1.0
    >>> _ = bn(torch.randn(8, 3)); warm.step(); bn.momentum
    0.5
    >>> warm.restore(); bn.momentum
    0.1
    """

    def __init__(self, model: torch.nn.Module):
        self.modules: list[tuple[_TrackedNorm, float]] = []
        for m in model.modules():
            nbt = getattr(m, "num_batches_tracked", None)
            mom = getattr(m, "momentum", None)
            if (
                isinstance(nbt, torch.Tensor)
                and isinstance(mom, float)
                and 0.0 < mom < 1.0
                and getattr(m, "track_running_stats", False)
            ):
                # checked just above: a float momentum and a num_batches_tracked tensor
                self.modules.append((cast(_TrackedNorm, m), mom))

    def step(self) -> None:
        for m, base in self.modules:
            m.momentum = max(base, 1.0 / (int(m.num_batches_tracked) + 1))

    def restore(self) -> None:
        for m, base in self.modules:
            m.momentum = base
