"""Homogeneous spaces G/H and their harmonic bases (escnn's ``Group.homspace(id)``)."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ._element import GroupElement
from ._representation import Representation


class HomSpace:
    """The homogeneous space X = G/H of a subgroup H = ``G.subgroup(id)[0]``.

    For an irrep ρ of G and an irrep ψ of H, ``Hom_H(ψ, Res_H ρ)`` has a basis X_k (d_ρ × d_ψ);
    the functions ``g ↦ ρ(g) X_k`` satisfy ``f(g h) = f(g) ψ(h)`` — the harmonics on G/H with
    "type" ψ (for ψ trivial, functions on X: e.g. the spherical harmonics for SO(3)/SO(2)).
    By Frobenius reciprocity their number, ``dimension_basis(ρ, ψ)``, is also the multiplicity
    (times ψ's type) of ρ in ``Ind_H^G ψ``.

    >>> from steerable.group import so3_group
    >>> X = so3_group(3).homspace((False, -1))   # the sphere SO(3)/SO(2)
    >>> [X.dimension_basis(l, 0) for l in range(4)]
    [1, 1, 1, 1]
    >>> X.basis(so3_group().identity, 2, 0).shape
    (5, 1, 1)
    """

    def __init__(self, G, subgroup_id: Any, _normalised: bool = False):
        data = G._subgroup_by_key(subgroup_id) if _normalised else G._subgroup_data(subgroup_id)
        H, incl, restr, key = data
        self.G, self.H, self.sgid = G, H, key
        self._cache: dict = {}

    def __repr__(self) -> str:
        return f"HomSpace({self.G.name}/{self.H.name})"

    def __eq__(self, other) -> bool:
        return isinstance(other, HomSpace) and self.G == other.G and self.sgid == other.sgid

    def __hash__(self) -> int:
        return hash((self.G, repr(self.sgid)))

    def __reduce__(self):
        return (_rebuild, (self.G, self.sgid))

    def _intertwiners(self, rho_id: tuple, psi_id: tuple) -> np.ndarray:
        """(k, d_ρ, d_ψ): orthonormal basis of Hom_H(ψ, Res_H ρ)."""
        key = (rho_id, psi_id)
        if key not in self._cache:
            ids, q = self.G._restrict_irrep(self.sgid, rho_id)
            psi = self.H.irrep(*psi_id)
            sizes = [self.H.irrep(*i).size for i in ids]
            offs = np.cumsum([0] + sizes)
            xs = []
            for a, i in enumerate(ids):
                if i != psi_id:
                    continue
                for e in psi.endomorphism_basis():
                    xs.append(q[:, offs[a] : offs[a + 1]] @ e / np.sqrt(psi.size))
            out = np.stack(xs) if xs else np.zeros((0, q.shape[0], psi.size))
            out.setflags(write=False)
            self._cache[key] = out
        return self._cache[key]

    def dimension_basis(self, rho: Any, psi: Any) -> int:
        """dim Hom_H(ψ, Res_H ρ) for irreps ρ of G and ψ of H (ids or irreps)."""
        r = self.G._normalise_irrep_id(rho, "rho")
        p = self.H._normalise_irrep_id(psi, "psi")
        return self._intertwiners(r, p).shape[0]

    def basis(self, g: GroupElement | Sequence[GroupElement], rho: Any, psi: Any) -> np.ndarray:
        """``ρ(g) X_k`` for one element (d_ρ, d_ψ, k) or a list of them (n, d_ρ, d_ψ, k)."""
        r = self.G._normalise_irrep_id(rho, "rho")
        p = self.H._normalise_irrep_id(psi, "psi")
        single = isinstance(g, GroupElement)
        batch = self.G._batch([g] if single else list(g), "g")
        x = self._intertwiners(r, p)  # (k, dr, dp)
        out = np.einsum("nab,kbc->nack", self.G.irrep(*r)._matrices(batch), x)
        return out[0] if single else out

    def scalar_basis(self, g, rho: Any) -> np.ndarray:
        """The harmonics of ρ on G/H (ψ trivial): (d_ρ, k) or (n, d_ρ, k)."""
        b = self.basis(g, rho, self.H.trivial_irrep_id)
        return b[..., 0, :]

    def induced_representation(self, psi: Any, irreps: Sequence[Any]) -> Representation:
        """Ind_H^G ψ truncated to the given irreps of G (Frobenius reciprocity; identity basis)."""
        p = self.H._normalise_irrep_id(psi, "psi")
        ids = []
        for r in irreps:
            rid = self.G._normalise_irrep_id(r, "irreps")
            m = self._intertwiners(rid, p).shape[0]
            s = self.G.irrep(*rid).sum_of_squares_constituents
            ids += [rid] * (m // s)  # dim_R Hom_H(ψ, Res ρ) = mult(ρ in Ind ψ) · type(ρ)
        if not ids:
            raise ValueError(f"irreps: none of them contains ψ={p} when restricted to {self.H.name}")
        return Representation(self.G, f"Ind[{self.sgid}]({p})", ids, None)


def _rebuild(G, sgid):
    return HomSpace(G, sgid, _normalised=True)
