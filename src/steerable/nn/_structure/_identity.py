"""IdentityModule: the identity map on a field type (escnn's ``IdentityModule``)."""

from __future__ import annotations

import torch

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule
from .._validation import check_field_type
from ._shared import _same_shape

__all__ = ["IdentityModule"]


class IdentityModule(EquivariantModule):
    """The identity map (``export()`` is ``torch.nn.Identity``).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import IdentityModule
    >>> gs = gspaces.octaOnR3()
    >>> t = nn.FieldType(gs, [gs.trivial_repr])
    >>> IdentityModule(t)(t(torch.ones(1, 1, 3, 3, 3))).tensor.sum().item()
    27.0
    """

    def __init__(self, in_type: FieldType):
        super().__init__()
        check_field_type(in_type)
        self.in_type = self.out_type = in_type

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        return x

    def evaluate_output_shape(self, input_shape) -> tuple:
        return _same_shape(self, input_shape)

    def export(self) -> torch.nn.Module:
        return torch.nn.Identity()
