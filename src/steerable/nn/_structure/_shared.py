"""Private pieces shared by the structural modules: the channel axis of plain tensors, the
shape check of channel-preserving modules, and the plain-torch modules their ``export()`` returns."""

from __future__ import annotations

from typing import cast

import torch

from .._module import EquivariantModule


def _channel_axis(t: torch.Tensor) -> int:
    """The channel axis of a plain tensor in the GeometricTensor convention (exported modules)."""
    return 1 if t.dim() > 1 else 0


def _equivariant_children(module: torch.nn.Module) -> list[EquivariantModule]:
    """The registered sub-modules of a container whose ``add_module`` admits EquivariantModules
    only (torch types ``_modules`` as plain, optional modules)."""
    return cast("list[EquivariantModule]", list(module._modules.values()))


# ------------------------------------------------------------------------------------------------
# plain-torch modules returned by export()
# ------------------------------------------------------------------------------------------------
class _ChannelSelect(torch.nn.Module):
    """Plain module: ``x.index_select(channel_axis, index)``."""

    index: torch.Tensor

    def __init__(self, index: torch.Tensor):
        super().__init__()
        self.register_buffer("index", index.clone().long())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.index_select(_channel_axis(x), self.index.to(x.device))


class _Multiply(torch.nn.Module):
    """Plain module: ``x * mask`` (broadcast)."""

    mask: torch.Tensor

    def __init__(self, mask: torch.Tensor):
        super().__init__()
        self.register_buffer("mask", mask.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.mask.to(dtype=x.dtype, device=x.device)


class _Branch(torch.nn.Module):
    """Plain module: splits the channels into a dict ``label -> tensor``."""

    def __init__(self, labels: list, indices: list):
        super().__init__()
        self.labels = list(labels)
        for i, idx in enumerate(indices):
            self.register_buffer(f"index_{i}", idx.clone().long())

    def forward(self, x: torch.Tensor) -> dict:
        ax = _channel_axis(x)
        return {lab: x.index_select(ax, getattr(self, f"index_{i}").to(x.device)) for i, lab in enumerate(self.labels)}


class _Merge(torch.nn.Module):
    """Plain module: applies each sub-module to the tensors of its labels, concatenates."""

    def __init__(self, modules: list, labels: list):
        super().__init__()
        self.branches = torch.nn.ModuleList(modules)
        self.labels = [list(ls) for ls in labels]

    def forward(self, inputs: dict) -> torch.Tensor:
        outs = [m(*[inputs[lab] for lab in ls]) for m, ls in zip(self.branches, self.labels)]
        return torch.cat(outs, dim=_channel_axis(outs[0]))


def _same_shape(module: EquivariantModule, input_shape) -> tuple:
    shape = tuple(int(s) for s in input_shape)
    ax = 1 if len(shape) > 1 else 0
    if not shape or shape[ax] != module.in_type.size:
        raise ValueError(f"input_shape: expected {module.in_type.size} channels on axis {ax}, got {shape}")
    return shape
