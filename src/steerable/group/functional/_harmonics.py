"""Real spherical harmonics in torch: the convention of ``steerable.group._so3_math``.

No Condon–Shortley phase, ``m = -l..l`` within a degree, ``Y_1 ∝ (y, z, x)``, computed by the
polynomial recursion in ``x, y, z`` (no angles, regular at the poles).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ._checks import degree, last_dim

_NORMALIZATIONS = ("integral", "component", "norm")


def _sh_columns(L: int, x: torch.Tensor, y: torch.Tensor, z: torch.Tensor, r2) -> list[torch.Tensor]:
    """The orthonormal real SH of degrees 0..L as a list of (L+1)² columns (order l, m=-l..l).

    On unit vectors pass ``r2 = 1.0``; with ``r2 = x²+y²+z²`` and raw coordinates the same
    recursion gives the solid harmonics ``|x|^l Y_lm(x̂)`` (every term homogeneous of degree l).
    Recursion: ``Q_l^m = a (z Q_{l-1}^m - b r² Q_{l-2}^m)`` in z and ``(x + i y)^m`` in the
    plane, with the normalised associated-Legendre coefficients.
    """
    cols: list = [None] * ((L + 1) ** 2)
    sqrt2 = math.sqrt(2.0)
    pmm = math.sqrt(1.0 / (4.0 * math.pi))
    ones = torch.ones_like(z)
    c: Any = None  # sqrt(2) Re (x + i y)^m
    s: Any = None  # sqrt(2) Im (x + i y)^m
    for m in range(L + 1):
        if m == 1:
            c, s = sqrt2 * x, sqrt2 * y
        elif m > 1:
            c, s = c * x - s * y, c * y + s * x
        if m > 0:
            pmm = pmm * math.sqrt((2.0 * m + 1.0) / (2.0 * m))
        p2: Any = None
        p1: Any = None
        for l in range(m, L + 1):
            if l == m:
                cur = ones * pmm
            elif l == m + 1:
                cur = (math.sqrt(2.0 * m + 3.0) * pmm) * z
            else:
                a = math.sqrt((4.0 * l * l - 1.0) / (l * l - m * m))
                b = math.sqrt(((l - 1.0) ** 2 - m * m) / (4.0 * (l - 1.0) ** 2 - 1.0))
                cur = a * (z * p1 - (b * r2) * p2) if not isinstance(r2, float) else a * (z * p1 - b * p2)
            p2, p1 = p1, cur
            base = l * l + l
            if m == 0:
                cols[base] = cur
            else:
                cols[base + m] = cur * c
                cols[base - m] = cur * s
    return cols


def _scale(l: int, normalization: str) -> float:
    if normalization == "integral":
        return 1.0
    if normalization == "component":
        return math.sqrt(4.0 * math.pi)
    return math.sqrt(4.0 * math.pi / (2 * l + 1))  # 'norm'


def spherical_harmonics(L: int, xyz, normalization: str = "integral", normalize: bool = True) -> torch.Tensor:
    """Real spherical harmonics of degrees ``0..L`` of ``xyz`` (..., 3) → (..., (L+1)²).

    Same convention and order as ``steerable.group._so3_math.real_spherical_harmonics``
    (``Y_1 ∝ (y, z, x)``; ``Y_l(R x) = D^l(R) Y_l(x)``). ``normalization``: ``'integral'``
    (orthonormal on the sphere, the numpy reference), ``'component'`` (``Σ_m Y_lm² = 2l+1``) or
    ``'norm'`` (``Σ_m Y_lm² = 1``). ``normalize=True`` evaluates on ``x / |x|`` (at ``x = 0`` only
    ``Y_0`` is non-zero); ``normalize=False`` gives the harmonic polynomials ``|x|^l Y_l(x̂)``.
    Differentiable (finite gradients everywhere), any dtype and device.

    >>> import torch
    >>> from steerable.group.functional import spherical_harmonics
    >>> y = spherical_harmonics(1, torch.tensor([[0.0, 0.0, 2.0]]), normalization='norm')
    >>> y.round(decimals=6).tolist()
    [[1.0, 0.0, 1.0, 0.0]]
    """
    L = degree(L, "L")
    if normalization not in _NORMALIZATIONS:
        raise ValueError(f"normalization: expected one of {_NORMALIZATIONS}, got {normalization!r}")
    xyz = last_dim(xyz, 3, "xyz")
    batch = xyz.shape[:-1]
    p = xyz.reshape(-1, 3)
    if normalize:
        sq = (p * p).sum(-1)
        zero = sq == 0
        r_safe = torch.sqrt(torch.where(zero, torch.ones_like(sq), sq))
        u = p / r_safe[:, None]
        cols = _sh_columns(L, u[:, 0], u[:, 1], u[:, 2], 1.0)
    else:
        zero = None
        cols = _sh_columns(L, p[:, 0], p[:, 1], p[:, 2], (p * p).sum(-1))
    for l in range(L + 1):
        k = _scale(l, normalization)
        if k != 1.0:
            for i in range(l * l, (l + 1) ** 2):
                cols[i] = cols[i] * k
    out = torch.stack(cols, -1)
    if zero is not None and L > 0:
        keep = torch.ones((L + 1) ** 2, dtype=torch.bool, device=out.device)
        keep[1:] = False
        out = torch.where(zero[:, None] & ~keep, torch.zeros_like(out), out)
    return out.reshape(batch + ((L + 1) ** 2,))
