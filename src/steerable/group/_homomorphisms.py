"""Intertwiner spaces between representations."""
from __future__ import annotations

import numpy as np

from ._representation import Representation


def homomorphism_space(rho_in: Representation, rho_out: Representation) -> np.ndarray:
    """A basis of the equivariant linear maps ``H`` with ``H ρ_in(g) = ρ_out(g) H``.

    Returns an array (k, rho_out.size, rho_in.size); k = Σ over pairs of equal irreps of
    ``sum_of_squares_constituents``. Built from the irrep decompositions (exact, no solver):
    ``H = Q_out · E · Q_in⁻¹`` with ``E`` an endomorphism of ψ placed at each block pair of
    equal irreps.

    >>> from steerable.group import cyclic_group, homomorphism_space
    >>> G = cyclic_group(4)
    >>> homomorphism_space(G.regular_representation, G.irrep(1)).shape
    (2, 2, 4)
    """
    for arg, r in (("rho_in", rho_in), ("rho_out", rho_out)):
        if not isinstance(r, Representation):
            raise TypeError(f"{arg}: expected a Representation, got {type(r).__name__}")
    if rho_in.group != rho_out.group:
        raise ValueError(
            f"rho_out: expected a representation of {rho_in.group.name} (the group of rho_in), "
            f"got one of {rho_out.group.name}"
        )
    g = rho_in.group

    def offsets(rep):
        sizes = [g.irrep(*i).size for i in rep.irreps]
        return np.cumsum([0] + sizes)

    oi, oo = offsets(rho_in), offsets(rho_out)
    basis = []
    for a, ida in enumerate(rho_out.irreps):
        for b, idb in enumerate(rho_in.irreps):
            if ida != idb:
                continue
            psi = g.irrep(*ida)
            for e in psi.endomorphism_basis():
                blk = np.zeros((rho_out.size, rho_in.size))
                blk[oo[a] : oo[a + 1], oi[b] : oi[b + 1]] = e
                basis.append(blk)
    if not basis:
        return np.zeros((0, rho_out.size, rho_in.size))
    e = np.stack(basis)
    return rho_out.change_of_basis @ e @ rho_in.change_of_basis_inv
