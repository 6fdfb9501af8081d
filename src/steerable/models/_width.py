"""Width helpers: how many regular fields an equivariant layer gets, and how wide a plain CNN
must be to match an equivariant model's parameter count.

Two conventions relate a plain layer of ``C`` channels to regular fields of a group of order
``|G|`` (a regular field has ``|G|`` channels; an equivariant map between two regular fields has
about ``|G|·k²`` free parameters against ``|G|²·k²`` for a plain one):

* ``preserve='params'`` (the E(2)-CNN paper's convention for its MNIST models):
  ``fields = C / sqrt(|G|)`` keeps the parameter count of the plain layer (and multiplies the
  channels, hence the compute, by ``sqrt(|G|)``);
* ``preserve='compute'``: ``fields = C / |G|`` keeps the channels (and the compute) of the plain
  layer, with ``|G|`` times fewer parameters.

>>> regular_fields_for((16, 32), 8)
(6, 11)
>>> regular_fields_for((16, 32), 8, preserve='compute')
(2, 4)
>>> plain_cnn_param_count((8, 8, 8, 8, 8), n_classes=10, in_channels=1, hidden=16)
7218
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real

__all__ = [
    "MNIST_CHANNELS",
    "scaled_channels",
    "regular_fields_for",
    "plain_cnn_param_count",
    "plain_channels_for",
    "plain_width_for",
    "count_parameters",
]

#: Plain-channel profile of the rotated-MNIST CNNs (conv 7×7, then four 5×5 convs). The
#: equivariant models derive their regular-field counts from it with ``preserve='params'``.
MNIST_CHANNELS: tuple[int, ...] = (12, 16, 16, 24, 48)

#: Kernel sizes of the five convolutions of the rotated-MNIST CNNs.
MNIST_KERNELS: tuple[int, ...] = (7, 5, 5, 5, 5)


def _check_width(width) -> float:
    if isinstance(width, bool) or not isinstance(width, Real):
        raise TypeError(f"width: expected a positive number, got {type(width).__name__}")
    w = float(width)
    if not (math.isfinite(w) and w > 0):
        raise ValueError(f"width: expected a positive number, got {width!r}")
    return w


def _check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected a positive integer, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def scaled_channels(base: Sequence[int], width: float) -> tuple[int, ...]:
    """``round(b · width)`` for each ``b`` in ``base`` (at least 1).

    >>> from steerable.models import scaled_channels
    >>> scaled_channels((12, 16), 0.5)
    (6, 8)
    """
    w = _check_width(width)
    return tuple(max(1, int(round(b * w))) for b in base)


def regular_fields_for(
    channels: Sequence[int], group_order: int, width: float = 1.0, preserve: str = "params"
) -> tuple[int, ...]:
    """Numbers of regular fields standing in for plain layers of ``channels`` channels
    (``preserve='params'``: ``C·width/sqrt(|G|)``; ``'compute'``: ``C·width/|G|``; at least 1).

    >>> from steerable.models import regular_fields_for
    >>> regular_fields_for((12, 16, 16, 24, 48), 16)
    (3, 4, 4, 6, 12)
    """
    order = _check_positive_int(group_order, "group_order")
    w = _check_width(width)
    if preserve == "params":
        scale = 1.0 / math.sqrt(order)
    elif preserve == "compute":
        scale = 1.0 / order
    else:
        raise ValueError(f"preserve: expected 'params' or 'compute', got {preserve!r}")
    return tuple(max(1, int(round(c * w * scale))) for c in channels)


def plain_cnn_param_count(
    channels: Sequence[int],
    n_classes: int = 10,
    in_channels: int = 1,
    hidden: int = 64,
    kernels: Sequence[int] = MNIST_KERNELS,
) -> int:
    """Trainable parameters of :class:`~steerable.models.PlainCNN` with these conv ``channels``
    (convs without bias, each followed by a BatchNorm2d; head Linear–BatchNorm1d–ELU–Linear,
    or one Linear when ``hidden == 0``)."""
    if len(channels) != len(kernels):
        raise ValueError(f"channels: expected {len(kernels)} numbers, got {tuple(channels)}")
    total, c_in = 0, in_channels
    for c, k in zip(channels, kernels):
        total += c_in * c * k * k + 2 * c
        c_in = c
    if hidden:
        total += c_in * hidden + hidden + 2 * hidden + hidden * n_classes + n_classes
    else:
        total += c_in * n_classes + n_classes
    return total


def plain_channels_for(
    target_params: int,
    n_classes: int = 10,
    in_channels: int = 1,
    hidden: int = 64,
    base: Sequence[int] = MNIST_CHANNELS,
) -> tuple[int, ...]:
    """The channels ``scaled_channels(base, s)`` whose :func:`plain_cnn_param_count` is closest
    to ``target_params`` (see :func:`plain_width_for` for ``s``).

    >>> from steerable.models import plain_channels_for, plain_cnn_param_count
    >>> plain_channels_for(plain_cnn_param_count((24, 32, 32, 48, 96)))
    (24, 32, 32, 48, 96)
    """
    return scaled_channels(base, plain_width_for(target_params, n_classes, in_channels, hidden, base))


def plain_width_for(
    target_params: int,
    n_classes: int = 10,
    in_channels: int = 1,
    hidden: int = 64,
    base: Sequence[int] = MNIST_CHANNELS,
) -> float:
    """The width multiplier ``s`` of the plain CNN (channels ``round(s·base)``) whose parameter
    count is closest to ``target_params``.

    The count grows monotonically with ``s``; a bisection brackets the target and the best of
    the channel tuples around it is returned (as the smallest ``s`` that produces it).

    >>> from steerable.models import plain_cnn_param_count, plain_width_for, scaled_channels
    >>> s = plain_width_for(20000)
    >>> abs(plain_cnn_param_count(scaled_channels((12, 16, 16, 24, 48), s)) - 20000) < 1500
    True
    """
    target = _check_positive_int(target_params, "target_params")
    _check_positive_int(n_classes, "n_classes")
    _check_positive_int(in_channels, "in_channels")

    def count(s: float) -> int:
        return plain_cnn_param_count(scaled_channels(base, s), n_classes, in_channels, hidden)

    lo, hi = 1e-3, 1.0
    while count(hi) < target:
        hi *= 2.0
        if hi > 1e6:
            raise ValueError(f"target_params: {target} is out of reach of the plain CNN")
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if count(mid) < target:
            lo = mid
        else:
            hi = mid
    # candidates: the channel tuples just below and above the target
    best = min((lo, hi), key=lambda s: (abs(count(s) - target), s))
    return float(best)


def count_parameters(model, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of a ``torch.nn.Module``.

    >>> from steerable.models import count_parameters
    >>> import torch
    >>> count_parameters(torch.nn.Linear(3, 2))
    8
    """
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only))
