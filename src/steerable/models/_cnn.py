"""The plain (non-equivariant) baseline: the rotated-MNIST CNN of :class:`EquivariantCNN` with
ordinary convolutions, sized to match an equivariant model's parameter count."""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache

import torch

from ._e2cnn import _check_dropout, _check_input_size, _pool_out, mlp_head, symmetric_pool_window
from ._width import MNIST_KERNELS, _check_positive_int, _check_width, count_parameters, plain_channels_for

__all__ = ["PlainCNN", "matched_plain_cnn"]


def plain_export(features: torch.nn.Module, head: torch.nn.Module) -> torch.nn.Sequential:
    """``Sequential(features, AdaptiveAvgPool2d(1), Flatten, head)`` of copies, in eval mode: the
    export of a plain CNN with a global-average head (traceable by ``torch.fx``)."""
    return torch.nn.Sequential(
        OrderedDict(
            features=copy.deepcopy(features),
            pool=torch.nn.AdaptiveAvgPool2d(1),
            flatten=torch.nn.Flatten(1),
            head=copy.deepcopy(head),
        )
    ).eval()


class PlainCNN(torch.nn.Module):
    """Conv 7×7, then four 5×5 convs ("same" padding, no bias), each with BatchNorm2d and ReLU;
    a max pooling (kernel 3, stride 2, symmetric paddings for ``input_size``) after the first and
    the third; a global average and the MLP head (Linear–BatchNorm1d–ELU–Linear) of the
    equivariant models. ``group_name`` is ``'none'``.

    ``export()`` returns a plain copy (it already is one), in eval mode.

    >>> from steerable.models import PlainCNN
    >>> import torch
    >>> model = PlainCNN((8, 8, 8, 8, 8))
    >>> model(torch.randn(2, 1, 29, 29)).shape
    torch.Size([2, 10])
    """

    group_name = "none"

    def __init__(
        self,
        channels: Sequence[int],
        n_classes: int = 10,
        in_channels: int = 1,
        hidden: int = 64,
        dropout: float = 0.0,
        input_size: int = 29,
    ):
        super().__init__()
        channels = tuple(channels)
        if len(channels) != len(MNIST_KERNELS):
            raise ValueError(f"channels: expected {len(MNIST_KERNELS)} numbers, got {channels}")
        for c in channels:
            _check_positive_int(c, "channels")
        n_classes = _check_positive_int(n_classes, "n_classes")
        in_channels = _check_positive_int(in_channels, "in_channels")
        n = _check_input_size(input_size)
        dropout = _check_dropout(dropout)
        if hidden != 0:
            hidden = _check_positive_int(hidden, "hidden")
        layers: list = []
        c_in = in_channels
        for i, (c, k) in enumerate(zip(channels, MNIST_KERNELS)):
            layers += [
                (f"conv{i + 1}", torch.nn.Conv2d(c_in, c, k, padding=k // 2, bias=False)),
                (f"bn{i + 1}", torch.nn.BatchNorm2d(c)),
                (f"relu{i + 1}", torch.nn.ReLU(inplace=True)),
            ]
            if i in (0, 2):
                pk, pp = symmetric_pool_window(n)
                layers.append((f"pool{1 if i == 0 else 2}", torch.nn.MaxPool2d(pk, 2, pp)))
                n = _pool_out(n, pk, 2, pp)
            c_in = c
        self.channels = channels
        self.in_channels = in_channels
        self.n_classes = n_classes
        self.features = torch.nn.Sequential(OrderedDict(layers))
        self.head = mlp_head(c_in, n_classes, hidden, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(
                f"input: PlainCNN expects a torch.Tensor (B, {self.in_channels}, H, W), got {type(x).__name__}"
            )
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"input: PlainCNN expects shape (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        return self.head(self.features(x).mean(dim=(2, 3)))

    def export(self) -> torch.nn.Sequential:
        """A plain ``torch.nn.Sequential`` (``features``, ``pool``, ``flatten``, ``head``), eval mode."""
        return plain_export(self.features, self.head)

    def extra_repr(self) -> str:
        return f"channels={self.channels}"


@lru_cache(maxsize=32)
def _reference_params(group: str, n_classes: int, width: float, in_channels: int, hidden: int) -> int:
    from ._e2cnn import EquivariantCNN

    return count_parameters(EquivariantCNN(group, n_classes, width, in_channels, hidden=hidden))


def matched_plain_cnn(
    n_classes: int = 10,
    width: float = 1.0,
    in_channels: int = 1,
    match: str = "C8",
    hidden: int = 64,
    dropout: float = 0.0,
    input_size: int = 29,
) -> PlainCNN:
    """A :class:`PlainCNN` whose parameter count is as close as the channel rounding allows to
    that of ``EquivariantCNN(match, n_classes, width, in_channels)`` (see
    :func:`~steerable.models.plain_width_for`).

    >>> from steerable.models import matched_plain_cnn
    >>> from steerable.models import count_parameters, EquivariantCNN
    >>> a = count_parameters(matched_plain_cnn())
    >>> b = count_parameters(EquivariantCNN('C8'))
    >>> abs(a - b) / b < 0.1
    True
    """
    n_classes = _check_positive_int(n_classes, "n_classes")
    in_channels = _check_positive_int(in_channels, "in_channels")
    width = _check_width(width)
    target = _reference_params(match, n_classes, width, in_channels, hidden)
    channels = plain_channels_for(target, n_classes, in_channels, hidden)
    return PlainCNN(channels, n_classes, in_channels, hidden, dropout, input_size)
