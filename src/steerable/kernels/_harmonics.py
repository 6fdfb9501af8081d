"""Angular harmonics on R^2 and R^3 and the O(d) irreps they carry.

R^2: the circular harmonics ``Y_0 = 1`` and ``Y_j = (cos jφ, sin jφ)`` (j ≥ 1) carry the O(2)
irreps ``(0, 0)`` and ``(1, j)``: ``Y_j(g x) = ψ_(1,j)(g) Y_j(x)`` for rotations and for the flip
``(x, y) → (x, -y)``.

R^3: the real spherical harmonics of ``steerable.group._so3_math`` (``Y_l(R x) = D^l(R) Y_l(x)``,
parity ``(-1)^l``) carry the O(3) irreps ``(l mod 2, l)``.

Normalisation: ``Σ_m Y_{j,m}(x)² = 1`` at every x ≠ 0. At the origin only ``Y_0`` is non-zero
(harmonics of positive order vanish there, as equivariance requires).
"""

from __future__ import annotations

import numpy as np

from steerable.group._so3_math import real_spherical_harmonics


def harmonic_ids(d: int, J: int) -> list[tuple[tuple, int]]:
    """[(ambient irrep id, order j)] for orders 0..J on R^d."""
    if d == 2:
        return [((0, 0), 0)] + [((1, j), j) for j in range(1, J + 1)]
    if d == 3:
        return [((l % 2, l), l) for l in range(J + 1)]
    raise ValueError(f"d: harmonics exist on R^2 and R^3, got d={d}")


def harmonics(d: int, J: int, points: np.ndarray) -> list[np.ndarray]:
    """``[Y_0(x), ..., Y_J(x)]``, each of shape (N, 2j+1) (R^3) or (N, 1|2) (R^2)."""
    x = np.asarray(points, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != d:
        raise ValueError(f"points: expected shape (N, {d}), got {x.shape}")
    r = np.linalg.norm(x, axis=1)
    at_origin = r < 1e-9
    out: list[np.ndarray] = []
    if d == 2:
        phi = np.arctan2(x[:, 1], x[:, 0])
        out.append(np.ones((len(x), 1)))
        for j in range(1, J + 1):
            y = np.stack([np.cos(j * phi), np.sin(j * phi)], 1)
            y[at_origin] = 0.0
            out.append(y)
        return out
    sh = real_spherical_harmonics(J, x)  # (N, (J+1)^2), orthonormal on the sphere
    for l in range(J + 1):
        y = sh[:, l * l : (l + 1) * (l + 1)] * np.sqrt(4 * np.pi / (2 * l + 1))
        if l > 0:
            y = y.copy()
            y[at_origin] = 0.0
        else:
            y = np.ones((len(x), 1))
        out.append(y)
    return out
