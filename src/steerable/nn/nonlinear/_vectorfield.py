"""Vector-field nonlinearity (Marcos et al. 2017): a regular C_N field becomes a 2D vector whose
angle is the rotation of the strongest response and whose length is that response."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .._constants import ExactConstants
from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule, _ignored_kwargs
from .._validation import check_field_type, require_nonlinearity
from ._pointwise import _as_batched, _same_layout_shape, _unbatch

__all__ = ["VectorFieldNonLinearity"]


def _vectorfield_forward(t: torch.Tensor, n_fields: int, directions: torch.Tensor) -> torch.Tensor:
    b, sp = t.shape[0], t.shape[2:]
    n_rot, size = directions.shape
    v = t.reshape(b, n_fields, n_rot, *sp)
    m, k = v.max(dim=2)  # (B, F, ...)
    m = torch.relu(m)
    d = directions.to(t.dtype)[k]  # (B, F, ..., size)
    out = m.unsqueeze(-1) * d
    return out.movedim(-1, 2).reshape(b, n_fields * size, *sp)


class _PlainVectorField(torch.nn.Module):
    """Plain-torch vector-field nonlinearity (export)."""

    directions: torch.Tensor

    def __init__(self, n_fields: int, directions: torch.Tensor):
        super().__init__()
        self.n_fields = n_fields
        self.register_buffer("directions", directions.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _vectorfield_forward(x, self.n_fields, self.directions)


class VectorFieldNonLinearity(ExactConstants, EquivariantModule):
    """Regular fields of the cyclic group C_N → vector fields (the frequency-1 irrep).

    For each field with responses f_0 … f_{N-1} (channel k belongs to the rotation by 2πk/N), the
    output is ``relu(max_k f_k) · (cos 2πk*/N, sin 2πk*/N)`` with ``k* = argmax_k f_k`` (escnn's
    semantics); for N = 2 the frequency-1 irrep is 1-dimensional and the output is
    ``relu(max) · cos(πk*)``. The direction of channel k is computed as ψ₁(g_k)·e₀ from the group,
    so it always matches the output field's representation. Every field must be the regular
    representation of a cyclic group (``'vectorfield'`` support). Ties in the argmax (measure
    zero for real data) break equivariance, as for any argmax.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import VectorFieldNonLinearity
    >>> gs = gspaces.rot2dOnR2(8)
    >>> t = nn.FieldType(gs, [gs.regular_repr] * 3)
    >>> act = VectorFieldNonLinearity(t)
    >>> act.out_type.size
    6
    >>> _ = act.check_equivariance()
    """

    _directions: torch.Tensor

    def __init__(self, in_type: FieldType, **kwargs):
        super().__init__()
        _ignored_kwargs("VectorFieldNonLinearity", kwargs)
        check_field_type(in_type)
        require_nonlinearity(
            in_type, "vectorfield", "VectorFieldNonLinearity", hint=" (regular representations of cyclic groups C_N)"
        )
        G = in_type.gspace.fibergroup
        reg = G.regular_representation
        for i, r in enumerate(in_type.representations):
            if r != reg:
                raise ValueError(
                    f"in_type: VectorFieldNonLinearity needs regular fields of a cyclic group; field {i} of "
                    f"{in_type!r} is {r!r}"
                )
        if G.continuous or G.order() < 2:
            raise ValueError(f"in_type: VectorFieldNonLinearity needs a cyclic group C_N with N >= 2, got {G.name}")
        try:
            psi = G.irrep(1)
        except ValueError:
            raise ValueError(f"in_type: {G.name} has no frequency-1 irrep (1,); expected a cyclic group") from None
        elements = G.elements  # channel k of the regular representation belongs to elements[k]
        mats = np.asarray(psi.matrices(elements))  # (N, s, s)
        directions = mats[:, :, 0]  # ψ₁(g_k) e₀
        self.in_type = in_type
        self.out_type = FieldType(in_type.gspace, [psi] * len(in_type))
        self._n_fields = len(in_type)
        self.register_constant("_directions", directions)

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        t, sq = _as_batched(x.tensor)
        out = _vectorfield_forward(t, self._n_fields, self._directions)
        return GeometricTensor(_unbatch(out, sq), self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape: Sequence[int]) -> tuple:
        return _same_layout_shape(self, input_shape)

    def export(self) -> torch.nn.Module:
        """A plain module computing the same function on ``.tensor`` (B, C, ...)."""
        return _PlainVectorField(self._n_fields, self._directions)

    def extra_repr(self) -> str:
        return f"{self.in_type!r} -> {self.out_type!r}"
