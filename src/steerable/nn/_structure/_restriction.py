"""RestrictionModule: restricts field types to a subgroup (escnn's ``RestrictionModule``)."""

from __future__ import annotations

from typing import Any

import torch

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule
from .._validation import check_field_type
from ._shared import _same_shape

__all__ = ["RestrictionModule"]


class RestrictionModule(EquivariantModule):
    """Views the input as a field of the subgroup ``id`` of the fibre group: same tensor,
    ``out_type = in_type.restrict(id)``. ``export()`` is ``torch.nn.Identity``.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import RestrictionModule
    >>> gs = gspaces.flipRot2dOnR2(8)
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> RestrictionModule(t, (None, 4)).out_type.gspace.fibergroup
    C4
    """

    def __init__(self, in_type: FieldType, id: Any):
        super().__init__()
        check_field_type(in_type)
        self.in_type = in_type
        self.id = id
        self.out_type = in_type.restrict(id)

    def _check_elements(self) -> list:
        """``f(incl(h)·x) == h·f(x)`` for the subgroup's testing elements ``h``."""
        _, inclusion, _ = self.in_type.gspace.restrict(self.id)
        return [(inclusion(h), h) for h in self._check_gspace_elements(self.out_type)]

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        return GeometricTensor(x.tensor, self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape) -> tuple:
        return _same_shape(self, input_shape)

    def export(self) -> torch.nn.Module:
        return torch.nn.Identity()
