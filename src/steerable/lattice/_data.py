"""Random lattice families and the spatially correlated MIMO-style grid of lattices.

Bases are float64 arrays with the basis vectors as columns: ``(count, n, n)`` (square, full
rank), or ``(count, H, W, n, n)`` for a grid.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter

__all__ = ["LATTICE_FAMILIES", "mimo_lattice_grid", "random_lattices"]

LATTICE_FAMILIES = ("gaussian", "ill_conditioned", "scrambled")
"""Families of :func:`random_lattices`: i.i.d. Gaussian bases; bases ``U diag(σ) Vᵀ`` with
singular values log-uniform over ``cond`` decades; and a Gaussian basis of an already
LLL-quality lattice (a near-orthogonal one) scrambled by a random unimodular matrix."""


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _haar_orthogonal(rng: np.random.Generator, count: int, n: int) -> np.ndarray:
    z = rng.standard_normal((count, n, n))
    q, r = np.linalg.qr(z)
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[:, None, :]


def _random_unimodular(rng: np.random.Generator, count: int, n: int, moves: int) -> np.ndarray:
    """Products of ``moves`` random Gauss moves (b_i += c b_j, c in {±1, ±2}) and signed swaps."""
    q = np.repeat(np.eye(n, dtype=np.int64)[None], count, axis=0)
    for _ in range(moves):
        i = rng.integers(0, n, count)
        j = (i + rng.integers(1, n, count)) % n
        c = rng.choice(np.array([-2, -1, 1, 2]), count)
        rows = np.arange(count)
        q[rows, :, i] += c[:, None] * q[rows, :, j]
    return q


def random_lattices(
    count: int, n: int, family: str = "gaussian", seed: int | None = None, cond: float = 3.0, moves: int | None = None
) -> np.ndarray:
    """``count`` random bases of dimension ``n`` (columns are basis vectors), shape
    ``(count, n, n)``, float64. ``family`` is one of :data:`LATTICE_FAMILIES`; ``cond`` is the
    number of decades of singular values of ``'ill_conditioned'``, ``moves`` the number of random
    Gauss moves of ``'scrambled'`` (default 3n).

    >>> from steerable.lattice import random_lattices
    >>> random_lattices(5, 4, seed=0).shape
    (5, 4, 4)
    """
    count = _check_int("count", count, 1)
    n = _check_int("n", n, 2)
    if family not in LATTICE_FAMILIES:
        raise ValueError(f"family: expected one of {LATTICE_FAMILIES}, got {family!r}")
    rng = np.random.default_rng(seed)
    if family == "gaussian":
        return rng.standard_normal((count, n, n))
    if family == "ill_conditioned":
        if isinstance(cond, bool) or not isinstance(cond, (int, float)) or not 0 <= cond <= 12:
            raise ValueError(f"cond: expected a number of decades in [0, 12], got {cond!r}")
        s = 10.0 ** rng.uniform(-cond / 2, cond / 2, (count, n))
        return _haar_orthogonal(rng, count, n) * s[:, None, :] @ _haar_orthogonal(rng, count, n).transpose(0, 2, 1)
    moves = 3 * n if moves is None else _check_int("moves", moves, 0)
    base = _haar_orthogonal(rng, count, n) * np.exp(0.1 * rng.standard_normal((count, 1, n)))
    return base @ _random_unimodular(rng, count, n, moves).astype(np.float64)


def mimo_lattice_grid(
    count: int, n: int, height: int = 8, width: int = 8, correlation: float = 2.0, seed: int | None = None
) -> np.ndarray:
    """Spatially correlated grids of lattices, as the channel matrices of a MIMO system over a
    time-frequency grid: shape ``(count, height, width, n, n)``; each entry of the basis is a
    Gaussian random field over the grid with correlation length ``correlation`` (grid cells),
    normalised to unit variance, so neighbouring lattices are similar.

    >>> from steerable.lattice import mimo_lattice_grid
    >>> mimo_lattice_grid(2, 4, 3, 5, seed=0).shape
    (2, 3, 5, 4, 4)
    """
    count = _check_int("count", count, 1)
    n = _check_int("n", n, 2)
    height = _check_int("height", height, 1)
    width = _check_int("width", width, 1)
    if isinstance(correlation, bool) or not isinstance(correlation, (int, float)) or correlation < 0:
        raise ValueError(f"correlation: expected a non-negative number, got {correlation!r}")
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((count, height, width, n, n))
    if correlation > 0:
        z = gaussian_filter(z, sigma=(0, correlation, correlation, 0, 0), mode="wrap")
        z /= z.std(axis=(1, 2), keepdims=True) + 1e-12
    return z
