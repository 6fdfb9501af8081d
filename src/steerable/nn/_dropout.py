"""Equivariant dropout: whole fields (any representation) or single channels (pointwise)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from steerable._validation import check_bool, check_unit_interval

from ._field_type import FieldType
from ._geometric_tensor import GeometricTensor
from ._module import EquivariantModule
from ._validation import check_field_type

__all__ = ["FieldDropout", "PointwiseDropout"]


def _check_args(in_type, p, inplace) -> float:
    check_field_type(in_type)
    p = check_unit_interval(p, "p", what="a dropout probability in [0, 1]")
    check_bool(inplace, "inplace")
    return p


class FieldDropout(EquivariantModule):
    """Dropout of whole fields: in training, each field of each sample is zeroed with
    probability ``p`` (independently at every point of the base space, the same decision for
    all the channels of the field) and the kept ones are scaled by ``1/(1-p)``. Equivariant in
    distribution for any representation; the identity in eval mode.

    ``export()`` returns ``torch.nn.Identity``: the eval-mode function (the exported module
    is meant for inference).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import FieldDropout
    >>> gs = gspaces.rot2dOnR2(-1, maximum_frequency=2)
    >>> t = nn.FieldType(gs, [gs.irrep(1)] * 3)
    >>> drop = FieldDropout(t, p=0.5)
    >>> y = drop(t(torch.ones(2, 6, 4, 4))).tensor.reshape(2, 3, 2, 4, 4)
    >>> bool((y[:, :, 0] == y[:, :, 1]).all())
    True
    >>> drop.eval()(t(torch.ones(2, 6, 4, 4))).tensor.sum().item()
    192.0
    """

    _field_of_channel: torch.Tensor

    def __init__(self, in_type: FieldType, p: float = 0.5, inplace: bool = False):
        super().__init__()
        self.p = _check_args(in_type, p, inplace)
        self.inplace = inplace
        self.in_type = self.out_type = in_type
        field_of_channel = np.repeat(np.arange(len(in_type)), [r.size for r in in_type.representations])
        self.register_buffer("_field_of_channel", torch.as_tensor(field_of_channel, dtype=torch.long), persistent=False)

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        if not self.training or self.p == 0.0:
            return x
        t = x.tensor
        ax = x._ch_axis % t.dim()
        shape = list(t.shape)
        shape[ax] = len(self.in_type)
        if self.p == 1.0:
            mask = t.new_zeros(shape)
        else:
            mask = torch.empty(shape, dtype=t.dtype, device=t.device).bernoulli_(1.0 - self.p).div_(1.0 - self.p)
        mask = mask.index_select(ax, self._field_of_channel)
        out = t.mul_(mask) if self.inplace else t * mask
        return GeometricTensor(out, self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape) -> tuple:
        shape = tuple(int(s) for s in input_shape)
        ax = 1 if len(shape) > 1 else 0
        if not shape or shape[ax] != self.in_type.size:
            raise ValueError(f"input_shape: expected {self.in_type.size} channels on axis {ax}, got {shape}")
        return shape

    def export(self) -> torch.nn.Module:
        """``torch.nn.Identity``: the module's eval-mode function."""
        return torch.nn.Identity()

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class PointwiseDropout(EquivariantModule):
    """Channel-wise dropout (``torch.nn.functional.dropout``), for fields whose representations
    permute the channels (support ``'pointwise'``: trivial, regular, quotient). Equivariant in
    distribution; the identity in eval mode. ``export()`` returns ``torch.nn.Identity`` (the
    eval-mode function).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import PointwiseDropout
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr] * 2)
    >>> PointwiseDropout(t, p=0.3)(t(torch.randn(1, 8, 5, 5))).shape
    torch.Size([1, 8, 5, 5])
    """

    def __init__(self, in_type: FieldType, p: float = 0.5, inplace: bool = False):
        super().__init__()
        self.p = _check_args(in_type, p, inplace)
        for r in in_type.representations:
            if "pointwise" not in r.supported_nonlinearities:
                raise ValueError(
                    f"in_type: PointwiseDropout needs representations that support 'pointwise' (permutation "
                    f"representations), but {r!r} does not; use FieldDropout"
                )
        self.inplace = inplace
        self.in_type = self.out_type = in_type

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        if not self.training:
            return x
        return GeometricTensor(F.dropout(x.tensor, self.p, True, self.inplace), self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape) -> tuple:
        shape = tuple(int(s) for s in input_shape)
        ax = 1 if len(shape) > 1 else 0
        if not shape or shape[ax] != self.in_type.size:
            raise ValueError(f"input_shape: expected {self.in_type.size} channels on axis {ax}, got {shape}")
        return shape

    def export(self) -> torch.nn.Module:
        """``torch.nn.Identity``: the module's eval-mode function."""
        return torch.nn.Identity()

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
