"""Real Wigner D matrices of any degree in torch, from quaternions or rotation matrices.

``D^l(R)`` is the action of R on the real spherical harmonics of degree l,
``Y_l(R x) = D^l(R) Y_l(x)`` (the convention of ``steerable.group._so3_math.wigner_D``). It is
computed as ``D^l(R) = Y_l(R X)ᵀ pinv(Y_l(X))ᵀ`` for a fixed set X of points on the sphere:
with the harmonic polynomials (solid harmonics) this is a homogeneous polynomial of degree l
in the entries of R — exact to rounding, singularity-free and differentiable everywhere.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import torch

from ._checks import constant, degree, rotation_input
from ._harmonics import _sh_columns
from ._quaternion import quat_to_matrix


def _fibonacci_sphere(n: int) -> np.ndarray:
    i = np.arange(n, dtype=np.float64) + 0.5
    z = 1.0 - 2.0 * i / n
    phi = np.pi * (1.0 + np.sqrt(5.0)) * i
    rho = np.sqrt(1.0 - z * z)
    return np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=-1)


@cache
def _fit(L: int) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Points X (n, 3) and, per degree l ≤ L, ``pinv(Y_l(X))ᵀ`` (n, 2l+1), float64."""
    from steerable.group._so3_math import real_spherical_harmonics

    X = _fibonacci_sphere(2 * (2 * L + 1) + 2)
    Y = real_spherical_harmonics(L, X)
    out = []
    for l in range(L + 1):
        p = np.ascontiguousarray(np.linalg.pinv(Y[:, l * l : (l + 1) ** 2]).T)
        p.setflags(write=False)
        out.append(p)
    X.setflags(write=False)
    return X, tuple(out)


def _as_matrices(rotation, name: str = "rotation") -> torch.Tensor:
    r, is_q = rotation_input(rotation, name)
    return quat_to_matrix(r) if is_q else r


def _wigner_blocks(L: int, R: torch.Tensor, degrees) -> list[torch.Tensor]:
    batch = R.shape[:-2]
    X_np, pinvs = _fit(L)
    X = constant(X_np, R)
    Rf = R.reshape(-1, 3, 3)
    P = (X @ Rf.transpose(-1, -2)).reshape(-1, 3)  # rows R x_i, (B n, 3)
    cols = _sh_columns(L, P[:, 0], P[:, 1], P[:, 2], (P * P).sum(-1))
    n = X.shape[0]
    out = []
    for l in degrees:
        Yl = torch.stack(cols[l * l : (l + 1) ** 2], -1).reshape(Rf.shape[0], n, 2 * l + 1)
        pinv = constant(pinvs[l], R)
        D = Yl.transpose(-1, -2) @ pinv
        out.append(D.reshape(batch + (2 * l + 1, 2 * l + 1)))
    return out


def wigner_D(l: int, rotation) -> torch.Tensor:
    """The real Wigner D matrix of degree ``l`` (any l ≥ 0), shape (..., 2l+1, 2l+1), of
    rotations given as quaternions (..., 4) (scalar last, any norm ≠ 0) or matrices (..., 3, 3).

    ``Y_l(R x) = D^l(R) Y_l(x)`` and ``D^l(R_a R_b) = D^l(R_a) D^l(R_b)``; equals
    ``steerable.group.so3_group().irrep(l)`` to rounding. For matrices it is a polynomial of
    degree l in their entries (meaningful, and differentiable, off SO(3) too).

    >>> import torch
    >>> from steerable.group.functional import so3_exp, wigner_D
    >>> R = so3_exp(torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64))
    >>> bool(torch.allclose(wigner_D(1, R), R[[1, 2, 0]][:, [1, 2, 0]]))
    True
    """
    l = degree(l, "l")
    R = _as_matrices(rotation)
    return _wigner_blocks(l, R, [l])[0]


def wigner_D_upto(L: int, rotation) -> list[torch.Tensor]:
    """``[D^0, ..., D^L]`` of the same rotations (see :func:`wigner_D`), sharing one evaluation
    of the spherical harmonics.

    >>> import torch
    >>> from steerable.group.functional import wigner_D_upto
    >>> [d.shape[-1] for d in wigner_D_upto(2, torch.tensor([0.0, 0.0, 0.0, 1.0]))]
    [1, 3, 5]
    """
    L = degree(L, "L")
    R = _as_matrices(rotation)
    return _wigner_blocks(L, R, range(L + 1))
