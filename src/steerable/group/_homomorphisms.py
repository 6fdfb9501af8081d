"""Intertwiner spaces between representations."""

from __future__ import annotations

import numpy as np

from ._representation import Representation


def homomorphism_space(rho1: Representation, rho2: Representation) -> np.ndarray:
    """A basis of the equivariant linear maps ``H`` with ``H ρ₁(g) = ρ₂(g) H`` from ``rho1`` to ``rho2``.

    Returns an array (k, rho2.size, rho1.size); k = Σ over pairs of equal irreps of
    ``sum_of_squares_constituents``. Built from the irrep decompositions (exact, no solver):
    ``H = Q_out · E · Q_in⁻¹`` with ``E`` an endomorphism of ψ placed at each block pair of
    equal irreps.

    >>> from steerable.group import cyclic_group, homomorphism_space
    >>> G = cyclic_group(4)
    >>> homomorphism_space(G.regular_representation, G.irrep(1)).shape
    (2, 2, 4)
    """
    for arg, r in (("rho1", rho1), ("rho2", rho2)):
        if not isinstance(r, Representation):
            raise TypeError(f"{arg}: expected a Representation, got {type(r).__name__}")
    if rho1.group != rho2.group:
        raise ValueError(
            f"rho2: expected a representation of {rho1.group.name} (the group of rho1), got one of {rho2.group.name}"
        )
    g = rho1.group

    def offsets(rep):
        sizes = [g.irrep(*i).size for i in rep.irreps]
        return np.cumsum([0] + sizes)

    oi, oo = offsets(rho1), offsets(rho2)
    basis = []
    for a, ida in enumerate(rho2.irreps):
        for b, idb in enumerate(rho1.irreps):
            if ida != idb:
                continue
            psi = g.irrep(*ida)
            for e in psi.endomorphism_basis():
                blk = np.zeros((rho2.size, rho1.size))
                blk[oo[a] : oo[a + 1], oi[b] : oi[b + 1]] = e
                basis.append(blk)
    if not basis:
        return np.zeros((0, rho2.size, rho1.size))
    e = np.stack(basis)
    return rho2.change_of_basis @ e @ rho1.change_of_basis_inv
