"""Fourier analysis on a quotient space G/H: band-limited functions with ``f(gh) = f(g)``.

For each irrep ψ of G let ``V_ψ^H`` be its vectors invariant under the subgroup H (found from
``G.restrict_representation(H, ψ)``: the columns of the change of basis that belong to trivial
irreps of H). ``V_ψ^H`` is a module over End(ψ), of dimension ``m_ψ · type``; choosing ``m_ψ``
orthonormal vectors ``v_i`` independent over End(ψ), a band-limited function on G/H is

    f(g) = Σ_ψ Σ_i √dim ψ · (ψ(g) v_i) · x_{ψ,i}

with coefficients ``x`` in ``⊕_ψ ψ^{m_ψ}`` (identity change of basis). Then ``f(gh) = f(g)`` for
h in H, and G acts on coefficients by the left-regular action on functions:
``f_{ρ(k) x}(g) = f_x(k⁻¹ g)``. With H trivial this is ``sampling_matrix`` (up to the choice of
the v_i).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._element import GroupElement
from ._fourier import _irrep_list, _SampledTransform
from ._group import Group
from ._irrep import IrreducibleRepresentation
from ._representation import Representation

__all__ = ["invariant_vectors", "quotient_irreps", "quotient_sampling_matrix", "QuotientFourierTransform"]


def invariant_vectors(G: Group, subgroup_id: Any, psi: IrreducibleRepresentation) -> np.ndarray:
    """Orthonormal vectors ``(dim ψ, m)`` of ψ invariant under the subgroup ``subgroup_id``,
    independent over End(ψ) (so ``m = dim(ψ^H) / type``; ``m = 0`` when ψ has no invariants).

    >>> from steerable.group import o2_group
    >>> G = o2_group(2)
    >>> invariant_vectors(G, (None, -1), G.irrep(1, 0)).shape  # the sign irrep, SO(2)-invariant
    (1, 1)
    >>> invariant_vectors(G, (None, -1), G.irrep(1, 1)).shape
    (2, 0)
    """
    if not isinstance(psi, IrreducibleRepresentation) or psi.group != G:
        raise ValueError(f"psi: expected an irrep of {G.name}, got {psi!r}")
    r = G.restrict_representation(subgroup_id, psi)
    H = r.group
    q = np.asarray(r.change_of_basis)
    cols = []
    c = 0
    for hid in r.irreps:
        s = H.irrep(*hid).size
        if hid == H.trivial_irrep_id:
            cols.append(q[:, c])
        c += s
    d = psi.size
    if not cols:
        return np.zeros((d, 0))
    inv = np.stack(cols, 1)
    ends = psi.endomorphism_basis()
    span = np.zeros((d, 0))
    chosen = []
    for j in range(inv.shape[1]):
        v = inv[:, j] - span @ (span.T @ inv[:, j])
        n = np.linalg.norm(v)
        if n < 1e-8:
            continue
        v = v / n
        orbit = np.stack([e @ v for e in ends], 1)
        orbit = orbit - span @ (span.T @ orbit)
        qo, _ = np.linalg.qr(orbit)
        span = np.concatenate([span, qo], 1)
        chosen.append(v)
    return np.stack(chosen, 1)


def _quotient_blocks(G: Group, subgroup_id: Any, irreps) -> list[tuple[IrreducibleRepresentation, np.ndarray]]:
    G._subgroup_data(subgroup_id)  # validates subgroup_id (ValueError naming it)
    out = []
    for psi in _irrep_list(G, irreps):
        v = invariant_vectors(G, subgroup_id, psi)
        if v.shape[1]:
            out.append((psi, v))
    return out


def quotient_irreps(G: Group, subgroup_id: Any, irreps) -> list[tuple]:
    """The irrep ids of the band-limited quotient representation over ``irreps``: ψ repeated
    ``dim(ψ^H)/type`` times (irreps without H-invariant vectors drop out)."""
    ids: list[tuple] = []
    for psi, v in _quotient_blocks(G, subgroup_id, irreps):
        ids += [psi.id] * v.shape[1]
    return ids


def quotient_sampling_matrix(
    G: Group, subgroup_id: Any, irreps, elements: Sequence[GroupElement] | np.ndarray
) -> np.ndarray:
    """The matrix A (n_elements, D) with ``A @ x`` the samples at ``elements`` of the band-limited
    function on G/H with coefficients ``x`` (ordered as ``quotient_irreps``).

    ``irreps``: an int L (``G.bl_irreps(L)``) or a list of irreps/ids; ``elements``: group
    elements (or an internal batch). Rows of elements in the same coset gH are equal.

    >>> import numpy as np
    >>> from steerable.group import quotient_sampling_matrix, so3_group
    >>> G = so3_group(2)
    >>> A = quotient_sampling_matrix(G, (False, -1), 2, G.grid('thomson', 20))
    >>> A.shape  # the sphere: one copy of each Y_l, l <= 2
    (20, 9)
    """
    if not isinstance(G, Group):
        raise TypeError(f"G: expected a Group, got {type(G).__name__}")
    blocks = _quotient_blocks(G, subgroup_id, irreps)
    if not blocks:
        raise ValueError(f"irreps: none of the irreps has vectors invariant under the subgroup {subgroup_id!r}")
    batch = elements if isinstance(elements, np.ndarray) else G._batch(elements, "elements")
    out = []
    for psi, v in blocks:
        mats = psi._matrices(batch)  # (n, d, d)
        cols = np.einsum("nij,jm->nmi", mats, v)  # (n, m, d): ψ(g) v_i
        out.append(np.sqrt(psi.size) * cols.reshape(len(batch), -1))
    return np.concatenate(out, 1)


class QuotientFourierTransform(_SampledTransform):
    """Band-limited functions on G/H ↔ their samples on a grid of G.

    >>> import numpy as np
    >>> from steerable.group import QuotientFourierTransform, so3_group
    >>> G = so3_group(2)
    >>> ft = QuotientFourierTransform(G, (False, -1), 2, G.grid('thomson', 30))
    >>> ft.dim, ft.representation.irreps
    (9, [(0,), (1,), (2,)])
    >>> x = np.random.default_rng(0).normal(size=ft.dim)
    >>> bool(np.allclose(ft.A_inv @ (ft.A @ x), x))
    True
    """

    def __init__(self, group: Group, subgroup_id: Any, irreps, grid: Sequence[GroupElement]):
        self.group = group
        self.subgroup_id = subgroup_id
        self.irreps = quotient_irreps(group, subgroup_id, irreps)
        self._set_sampling(
            group,
            grid,
            lambda els: quotient_sampling_matrix(group, subgroup_id, irreps, els),
            f"the functions on the quotient by {subgroup_id!r}",
        )

    @property
    def representation(self) -> Representation:
        """The representation acting on the coefficients (identity change of basis)."""
        return Representation(self.group, f"quotient_fourier[{self.subgroup_id}]", self.irreps, None)
