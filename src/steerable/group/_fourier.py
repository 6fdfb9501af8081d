"""Fourier analysis on a group: band-limited functions ↔ their samples on a grid.

A band-limited function is ``f(g) = a(g) · x`` with ``x`` its coefficients in the band-limited
regular representation ρ = ⊕_ψ ψ^{m_ψ} (m_ψ = dim ψ / type; see
``Group.bl_regular_representation``) and ``a(g) = ρ(g) a₀``, ``a₀`` picking, for copy i of ψ, the
i-th of a set of columns of ψ that is independent over End(ψ), scaled by √dim ψ. With this choice
the action of ρ on coefficients is the left-regular action on functions:
``f_{ρ(h) x}(g) = f_x(h⁻¹ g)``, and for real-type irreps the columns are orthonormal under the
Haar measure. The sampling matrix ``A[n, :] = a(g_n)`` maps coefficients to samples; its
pseudo-inverse maps samples back (exactly when the grid resolves the band limit; by least
squares when it oversamples).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._element import GroupElement
from ._group import Group
from ._irrep import IrreducibleRepresentation
from ._representation import Representation


def _fourier_columns(psi: IrreducibleRepresentation) -> list[int]:
    """m = size / type columns of ψ, independent over End(ψ) (greedy, in index order)."""
    m = psi.size // psi.sum_of_squares_constituents
    ends = psi.endomorphism_basis()
    chosen: list[int] = []
    span = np.zeros((psi.size, 0))
    for i in range(psi.size):
        if len(chosen) == m:
            break
        vecs = np.stack([e[:, i] for e in ends], 1)
        cand = np.concatenate([span, vecs], 1)
        if np.linalg.matrix_rank(cand, tol=1e-8) == span.shape[1] + vecs.shape[1]:
            chosen.append(i)
            span = cand
    return chosen


def _irrep_list(G: Group, irreps) -> list[IrreducibleRepresentation]:
    if isinstance(irreps, (int, np.integer)) and not isinstance(irreps, bool):
        return [G.irrep(*i) for i in G.bl_irreps(int(irreps))]
    out = []
    for i in irreps:
        out.append(i if isinstance(i, IrreducibleRepresentation) else G.irrep(*(i if isinstance(i, tuple) else (i,))))
    for p in out:
        if p.group != G:
            raise ValueError(f"irreps: {p!r} is not an irrep of {G.name}")
    if not out:
        raise ValueError("irreps: expected at least one irrep, got none")
    return out


def sampling_matrix(G: Group, irreps, elements: Sequence[GroupElement] | np.ndarray) -> np.ndarray:
    """The matrix A (n_elements, D) with ``A @ x`` the samples of the band-limited function with
    coefficients ``x`` (in ``G.bl_regular_representation``-style order over ``irreps``).

    ``irreps``: an int L (``G.bl_irreps(L)``) or a list of irreps/ids. ``elements``: group
    elements (or an internal batch) — any set of points, so adaptive schemes can pass their own.

    >>> from steerable.group import cyclic_group, sampling_matrix
    >>> G = cyclic_group(4)
    >>> sampling_matrix(G, G.irreps(), G.elements).shape
    (4, 4)
    """
    if not isinstance(G, Group):
        raise TypeError(f"G: expected a Group, got {type(G).__name__}")
    irr = _irrep_list(G, irreps)
    batch = elements if isinstance(elements, np.ndarray) else G._batch(elements, "elements")
    blocks = []
    for psi in irr:
        cols = _fourier_columns(psi)
        mats = psi._matrices(batch)  # (n, d, d)
        blocks.append(np.sqrt(psi.size) * mats[:, :, cols].transpose(0, 2, 1).reshape(len(batch), -1))
    return np.concatenate(blocks, 1)


class _SampledTransform:
    """What every transform between coefficients and samples on a grid shares: the sampling
    matrix ``A`` (n_grid, dim), its pseudo-inverse, the rank check and the two directions."""

    def _set_sampling(self, group: Group, grid, sampling, what: str) -> None:
        self.grid = list(grid) if not isinstance(grid, np.ndarray) else group._elements_of(grid)
        if not self.grid:
            raise ValueError("grid: expected at least one group element, got none")
        self.A = sampling(self.grid)
        self.dim = self.A.shape[1]
        rank = np.linalg.matrix_rank(self.A, tol=1e-9 * max(1.0, np.abs(self.A).max()))
        if rank < self.dim:
            raise ValueError(
                f"grid: {len(self.grid)} points resolve only {rank} of the {self.dim} coefficients "
                f"of {what}; use a larger grid"
            )
        self.A_inv = np.linalg.pinv(self.A)
        self.A.setflags(write=False)
        self.A_inv.setflags(write=False)

    def to_samples(self, coefficients: np.ndarray) -> np.ndarray:
        """Inverse Fourier transform: (..., dim) coefficients → (..., n_grid) samples."""
        c = np.asarray(coefficients)
        if c.shape[-1] != self.dim:
            raise ValueError(f"coefficients: expected last axis of size {self.dim}, got shape {c.shape}")
        return c @ self.A.T

    def from_samples(self, samples: np.ndarray) -> np.ndarray:
        """Fourier transform: (..., n_grid) samples → (..., dim) coefficients (least squares)."""
        s = np.asarray(samples)
        if s.shape[-1] != len(self.grid):
            raise ValueError(f"samples: expected last axis of size {len(self.grid)}, got shape {s.shape}")
        return s @ self.A_inv.T


class FourierTransform(_SampledTransform):
    """Transforms between coefficients of band-limited functions on G and samples on a grid.

    >>> import numpy as np
    >>> from steerable.group import so2_group, FourierTransform
    >>> G = so2_group(2)
    >>> ft = FourierTransform(G, 2, G.grid('regular', 7))
    >>> x = np.random.default_rng(0).normal(size=ft.dim)
    >>> bool(np.allclose(ft.from_samples(ft.to_samples(x)), x))
    True
    """

    def __init__(self, group: Group, irreps, grid: Sequence[GroupElement]):
        self.group = group
        self.irreps = [p.id for p in _irrep_list(group, irreps)]
        self._set_sampling(group, grid, lambda els: sampling_matrix(group, self.irreps, els), f"irreps {self.irreps}")

    @property
    def representation(self) -> Representation:
        """The representation acting on the coefficients."""
        ids = []
        for i in self.irreps:
            p = self.group.irrep(*i)
            ids += [i] * (p.size // p.sum_of_squares_constituents)
        return Representation(self.group, "fourier", ids, None)
