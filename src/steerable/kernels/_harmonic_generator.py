"""escnn's :class:`HarmonicPolynomialR3Generator`: the harmonic polynomials of R^3 as a module."""

from __future__ import annotations

import numpy as np
import torch

from steerable.group import directsum, o3_group

from ._filters_basis import _standard_representation
from ._torch_harmonics import spherical_harmonics_torch

__all__ = ["HarmonicPolynomialR3Generator"]


class HarmonicPolynomialR3Generator(torch.nn.Module):
    """``x ↦ (P_0(x), ..., P_L(x))``, the harmonic polynomials ``P_l(x) = |x|^l Y_l(x̂)`` of degrees
    ``0..L`` on the last axis (``(L+1)²`` values; ``Σ_m Y_lm² = 1`` on the unit sphere, ``P_0 = 1``).
    ``P_l(g x) = ψ_l(g) P_l(x)`` for the O(3) irrep ``(l % 2, l)``; ``rho`` is their direct sum.

    >>> import torch
    >>> from steerable.kernels import HarmonicPolynomialR3Generator
    >>> hp = HarmonicPolynomialR3Generator(2)
    >>> tuple(hp(torch.randn(5, 3)).shape), hp.rho.size
    ((5, 9), 9)
    >>> hp.check_equivariance()
    """

    def __init__(self, L: int):
        if isinstance(L, bool) or not isinstance(L, (int, np.integer)) or L < 0:
            raise ValueError(f"L: expected a non-negative integer, got {L!r}")
        super().__init__()
        self.L = int(L)
        self.G = o3_group(max(self.L, 1))
        self.rho = directsum([self.G.irrep(l % 2, l) for l in range(self.L + 1)], name=f"harmonic_polynomials_{self.L}")
        self.d = self.rho.size

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        if not isinstance(points, torch.Tensor) or points.dim() < 1 or points.shape[-1] != 3:
            raise ValueError(
                f"points: expected a tensor of shape (..., 3), got "
                f"{tuple(points.shape) if isinstance(points, torch.Tensor) else type(points).__name__}"
            )
        y = spherical_harmonics_torch(self.L, points, normalization="norm", normalize=False)
        return torch.cat([torch.ones_like(y[..., :1]), y[..., 1:]], -1)

    def check_equivariance(self, atol: float = 1e-5, rtol: float = 1e-3):
        """Check ``P(g x) = ρ(g) P(x)`` on random points and O(3) elements (float64)."""
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(40, 3, generator=gen, dtype=torch.float64)
        p = self(x)
        std = _standard_representation(self.G)
        for g in self.G.sample(10, seed=0):
            a = torch.as_tensor(np.asarray(std(g)), dtype=torch.float64)
            r = torch.as_tensor(np.asarray(self.rho(g)), dtype=torch.float64)
            assert torch.allclose(self(x @ a.T), p @ r.T, atol=atol, rtol=rtol), (
                "HarmonicPolynomialR3Generator: not equivariant"
            )
