"""DisentangleModule: changes each field to its disentangled basis (escnn's ``DisentangleModule``)."""

from __future__ import annotations

import numpy as np
import torch

from steerable.group import disentangle

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule
from .._validation import check_field_type
from ._shared import _same_shape

__all__ = ["DisentangleModule"]


class DisentangleModule(EquivariantModule):
    """Change of basis to the disentangled form of each field: every field of representation
    ``ρ = P (ρ₁ ⊕ ρ₂ ⊕ …) P⁻¹`` (``steerable.group.disentangle``) becomes the fields
    ``ρ₁, ρ₂, …``, by applying ``P⁻¹`` to its channels. ``export()`` returns the fixed linear
    map as a plain module (``Linear`` without bias on R^0, a 1×1 ``Conv2d``/``Conv3d`` on
    grids).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import DisentangleModule
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.fibergroup.regular_representation + gs.irrep(1)])
    >>> [r.size for r in DisentangleModule(t).out_type]
    [4, 2]
    """

    change_of_basis: torch.Tensor
    _index: torch.Tensor

    def __init__(self, in_type: FieldType):
        super().__init__()
        check_field_type(in_type)
        self.in_type = in_type
        per_rep: dict = {}
        out_reps: list = []
        blocks: list[np.ndarray] = []
        for r in in_type.representations:
            if r not in per_rep:
                p, parts = disentangle(r)
                per_rep[r] = (p, parts)  # p maps the field into the parts' basis
            m, parts = per_rep[r]
            out_reps += parts
            blocks.append(m)
        self.out_type = FieldType(in_type.gspace, out_reps)
        c = in_type.size
        mat = np.zeros((c, c))
        for f, m in enumerate(blocks):
            s, e = in_type.fields_start[f], in_type.fields_end[f]
            mat[s:e, s:e] = m
        r = np.round(mat)
        is_perm = (
            np.allclose(mat, r, atol=1e-12)
            and np.all((r == 0) | (r == 1))
            and np.all(r.sum(0) == 1)
            and np.all(r.sum(1) == 1)
        )
        self._is_permutation = bool(is_perm)
        self.register_buffer("change_of_basis", torch.as_tensor(mat, dtype=torch.get_default_dtype()), persistent=False)
        self.register_buffer(
            "_index",
            torch.as_tensor(np.argmax(r, axis=1) if is_perm else np.arange(c), dtype=torch.long),
            persistent=False,
        )

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        t = x.tensor
        ax = x._ch_axis % t.dim()
        if self._is_permutation:
            out = t.index_select(ax, self._index)
        else:
            out = torch.tensordot(
                t.movedim(ax, -1), self.change_of_basis.to(t.dtype), dims=([t.dim() - 1], [1])
            ).movedim(-1, ax)
        return GeometricTensor(out, self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape) -> tuple:
        return _same_shape(self, input_shape)

    def export(self) -> torch.nn.Module:
        """The change of basis as ``Linear`` (R^0: acts on the last axis) or a 1×1 convolution."""
        d = self.in_type.gspace.dimensionality
        c = self.in_type.size
        w = self.change_of_basis.detach()
        if d == 0:
            m = torch.nn.Linear(c, c, bias=False, dtype=w.dtype, device=w.device)
            with torch.no_grad():
                m.weight.copy_(w)
            return m
        cls = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[d]
        m = cls(c, c, 1, bias=False, dtype=w.dtype, device=w.device)
        with torch.no_grad():
            m.weight.copy_(w.reshape(c, c, *(1,) * d))
        return m
