"""ReshuffleModule: a permutation of the fields (escnn's ``ReshuffleModule``)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule
from .._validation import check_field_type
from ._shared import _ChannelSelect, _same_shape

__all__ = ["ReshuffleModule"]


class ReshuffleModule(EquivariantModule):
    """Permutes the fields: output field i is input field ``permutation[i]``.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import ReshuffleModule
    >>> gs = gspaces.flipRot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    >>> m = ReshuffleModule(t, [1, 0])
    >>> x = t(torch.randn(1, 9, 5, 5))
    >>> bool(torch.equal(m(x).tensor[:, 0], x.tensor[:, 8]))
    True
    """

    _index: torch.Tensor

    def __init__(self, in_type: FieldType, permutation: Sequence[int]):
        super().__init__()
        check_field_type(in_type)
        try:
            perm = [int(p) for p in permutation]
        except (TypeError, ValueError):
            raise TypeError(f"permutation: expected a list of field indices, got {permutation!r}") from None
        if sorted(perm) != list(range(len(in_type))):
            raise ValueError(f"permutation: expected a permutation of 0..{len(in_type) - 1}, got {perm}")
        self.in_type = in_type
        self.permutation = perm
        self.out_type = in_type.index_select(perm)
        self.register_buffer("_index", in_type.channel_indices(perm), persistent=False)

    @property
    def indices(self) -> torch.Tensor:
        """Output channel i is input channel ``indices[i]`` (escnn's attribute)."""
        return self._index

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        t = x.tensor.index_select(x._ch_axis % x.tensor.dim(), self._index)
        return GeometricTensor(t, self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape) -> tuple:
        return _same_shape(self, input_shape)

    def export(self) -> torch.nn.Module:
        """A plain module selecting the channels in the new order."""
        return _ChannelSelect(self._index)
