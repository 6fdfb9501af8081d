"""HarmonicPolynomialR3: 3-vectors → the harmonic polynomials (solid spherical harmonics) of
degrees 0..L, as irreps fields of SO(3) or O(3)."""

from __future__ import annotations

import numpy as np
import torch

from steerable.group import Group, o3_group, so3_group
from steerable.kernels._torch_harmonics import spherical_harmonics_torch

from ._field_type import FieldType
from ._geometric_tensor import GeometricTensor
from ._module import EquivariantModule

__all__ = ["HarmonicPolynomialR3"]


def _harmonic_polynomials(x: torch.Tensor, L: int) -> torch.Tensor:
    """``P_l(x) = |x|^l Y_l(x̂)`` with ``Σ_m Y_lm² = 1`` on the sphere, l = 0..L, on the last axis."""
    y = spherical_harmonics_torch(L, x, normalization="norm", normalize=False)
    return torch.cat([torch.ones_like(y[..., :1]), y[..., 1:]], -1)  # P_0 = 1 exactly


class _PlainHarmonicPolynomial(torch.nn.Module):
    """Plain-torch export of :class:`HarmonicPolynomialR3` (no parameters, no steerable objects)."""

    def __init__(self, L: int):
        super().__init__()
        self.L = int(L)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 1:
            return _harmonic_polynomials(x, self.L)
        return _harmonic_polynomials(x.movedim(1, -1), self.L).movedim(-1, 1)


class HarmonicPolynomialR3(EquivariantModule):
    """The harmonic polynomials in R^3 of degrees ``0..L`` of a vector field (escnn's module).

    ``group`` is ``'so3'`` (default, ``so3_group(L)``), ``'o3'`` (``o3_group(L)``) or an SO(3)/O(3)
    group. The module lives on ``no_base_space(group)``: the input is one field of the standard
    representation (the vector ``(x, y, z)``), the output the ``L + 1`` irreps fields
    ``P_0, ..., P_L`` (SO(3): irrep ``(l,)``; O(3): ``(l mod 2, l)``), ``(L+1)²`` channels, with
    ``P_l(x) = |x|^l Y_l(x̂)`` — homogeneous polynomials of degree l equal on the unit sphere to
    the real spherical harmonics of ``steerable.group._so3_math`` normalised to
    ``Σ_m Y_lm² = 1`` (``P_0 = 1``). So ``P_l(g x) = ψ_l(g) P_l(x)`` for every g, exactly.
    Coordinates (``x.coords``) are passed through.

    >>> import torch
    >>> from steerable.nn import HarmonicPolynomialR3
    >>> hp = HarmonicPolynomialR3(2)
    >>> x = hp.in_type(torch.tensor([[0.0, 0.0, 2.0]]))
    >>> hp(x).tensor.round(decimals=6).tolist()
    [[1.0, 0.0, 2.0, 0.0, 0.0, 0.0, 4.0, 0.0, 0.0]]
    >>> _ = hp.check_equivariance()
    """

    def __init__(self, L: int, group: Group | str = "so3"):
        super().__init__()
        if isinstance(L, bool) or not isinstance(L, (int, np.integer)):
            raise TypeError(f"L: expected a non-negative integer, got {type(L).__name__}")
        if L < 0:
            raise ValueError(f"L: expected a non-negative integer, got {L}")
        from steerable.group._rot3d import O3, SO3
        from steerable.gspaces import no_base_space

        if isinstance(group, str):
            if group == "so3":
                group = so3_group(int(L))
            elif group == "o3":
                group = o3_group(int(L))
            else:
                raise ValueError(f"group: expected 'so3', 'o3' or an SO(3)/O(3) group, got {group!r}")
        elif not isinstance(group, Group):
            raise TypeError(f"group: expected 'so3', 'o3' or an SO(3)/O(3) group, got {type(group).__name__}")
        if isinstance(group, SO3):
            ids = [(l,) for l in range(int(L) + 1)]
        elif isinstance(group, O3):
            ids = [(l % 2, l) for l in range(int(L) + 1)]
        else:
            raise ValueError(f"group: expected SO(3) or O(3), got {group.name}")
        self.L = int(L)
        self.G = group
        self.gspace = no_base_space(group)
        self.in_type = FieldType(self.gspace, [group.standard_representation])
        self.out_type = FieldType(self.gspace, [group.irrep(*i) for i in ids])

    @property
    def rho(self):
        """The representation of the output (the irreps of degree 0..L, summed)."""
        return self.out_type.representation

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        t = x.tensor
        if t.dim() == 1 or x.coords is not None:
            out = _harmonic_polynomials(t, self.L)
        else:
            out = _harmonic_polynomials(t.movedim(1, -1), self.L).movedim(-1, 1)
        return GeometricTensor(out, self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) < 1 or shape[1 if len(shape) > 1 else 0] != 3:
            raise ValueError(f"input_shape: expected (B, 3, ...) or (3,), got {shape}")
        if len(shape) == 1:
            return (self.out_type.size,)
        return (shape[0], self.out_type.size) + shape[2:]

    def export(self) -> torch.nn.Module:
        """A parameter-free plain module computing the polynomials on ``.tensor``."""
        return _PlainHarmonicPolynomial(self.L)

    def extra_repr(self) -> str:
        return f"L={self.L}, group={self.G.name}"
