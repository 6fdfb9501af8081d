"""Homogeneous spaces G/H and their harmonic bases (escnn's ``Group.homspace(id)``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._element import GroupElement
from ._representation import Representation


class HomSpace:
    """The homogeneous space X = G/H of a subgroup H = ``G.subgroup(id)[0]`` (escnn's API).

    For an irrep ρ of G and an irrep ψ of H, the intertwiners ``Hom_H(ψ, Res_H ρ)`` give the
    functions ``g ↦ ρ(g) B_j`` with ``f(g h) = f(g) ψ(h)``: the harmonics on G/H of "type" ψ (for ψ
    trivial, functions on X: e.g. the spherical harmonics for SO(3)/SO(2)). ``basis(g, ρ, ψ)`` has
    shape ``(dim ρ, m, dim ψ)`` with m the multiplicity of ρ in ``Ind_H^G ψ`` (Frobenius
    reciprocity: m · type(ρ) = dim Hom_H(ψ, Res ρ)); ``dimension_basis`` returns that shape.

    >>> from steerable.group import so3_group
    >>> X = so3_group(3).homspace((False, -1))   # the sphere SO(3)/SO(2)
    >>> [X.dimension_basis(l, 0)[1] for l in range(4)]
    [1, 1, 1, 1]
    >>> X.basis(so3_group().identity, 2, 0).shape
    (5, 1, 1)
    """

    def __init__(self, G, sgid: Any, _normalised: bool = False):
        data = G._subgroup_by_key(sgid) if _normalised else G._subgroup_data(sgid)
        H, incl, restr, key = data
        self.G, self.H, self.sgid = G, H, key
        self._cache: dict = {}
        self._reps: dict = {}

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

    def _generators(self, rho_id: tuple, psi_id: tuple) -> np.ndarray:
        """(m, d_ρ, d_ψ): intertwiners X_j such that {E X_j : E ∈ End(ρ)} spans Hom_H(ψ, Res ρ)."""
        key = ("gen", rho_id, psi_id)
        if key not in self._cache:
            xs = self._intertwiners(rho_id, psi_id)
            ends = self.G.irrep(*rho_id).endomorphism_basis()
            chosen: list = []
            span = np.zeros((0, xs[0].size if len(xs) else 0))
            for x in xs:
                if span.shape[0]:
                    r = x.reshape(-1) - span.T @ (span @ x.reshape(-1))
                    if np.linalg.norm(r) < 1e-8:
                        continue
                chosen.append(x)
                new = np.stack([(e @ x).reshape(-1) for e in ends])
                span = np.linalg.qr(np.concatenate([span, new]).T)[0].T if span.shape[0] else np.linalg.qr(new.T)[0].T
            out = np.stack(chosen) if chosen else np.zeros((0,) + xs.shape[1:])
            out.setflags(write=False)
            self._cache[key] = out
        return self._cache[key]

    def same_coset(self, g1: GroupElement, g2: GroupElement) -> bool:
        """Whether g1 H = g2 H."""
        _, _, restriction = self.G.subgroup(self.sgid)
        return restriction(~g1 @ g2) is not None

    def dimension_basis(self, rho: Any, psi: Any) -> tuple[int, int, int]:
        """``(dim ρ, m, dim ψ)``, the shape of :meth:`basis` (m: multiplicity of ρ in Ind ψ)."""
        r = self.G._normalise_irrep_id(rho, "rho")
        p = self.H._normalise_irrep_id(psi, "psi")
        return self.G.irrep(*r).size, self._generators(r, p).shape[0], self.H.irrep(*p).size

    def basis(self, g: GroupElement | Sequence[GroupElement], rho: Any, psi: Any) -> np.ndarray:
        """``ρ(g) B`` of shape ``(dim ρ, m, dim ψ)`` for one element (``(n, dim ρ, m, dim ψ)``
        for a list): ``B[:, j, :]`` is an H-intertwiner ψ → Res ρ, so
        ``basis(g h) = basis(g) ψ(h)`` along the last axis."""
        r = self.G._normalise_irrep_id(rho, "rho")
        p = self.H._normalise_irrep_id(psi, "psi")
        single = isinstance(g, GroupElement)
        batch = self.G._batch(g, "g")
        x = self._generators(r, p)  # (m, dr, dp)
        out = np.einsum("nab,jbc->najc", self.G.irrep(*r)._matrices(batch), x)
        return out[0] if single else out

    def scalar_basis(self, g, rho: Any) -> np.ndarray:
        """``basis(g, ρ, trivial)``: the functions of G/H transforming as ρ, ``(dim ρ, m, 1)``."""
        return self.basis(g, rho, self.H.trivial_irrep_id)

    def induced_representation(
        self, psi: Any = None, irreps: Sequence[Any] | None = None, name: str | None = None
    ) -> Representation | None:
        """Ind_H^G ψ truncated to the given irreps of G, in the spectral basis (each ρ repeated
        its multiplicity m); None when none of them occurs (escnn's behaviour). Calls with the
        same ``name`` return the same representation."""
        if name is not None and name in self._reps:
            return self._reps[name]
        if psi is None:
            raise ValueError("psi: expected an irrep of the subgroup (or its id)")
        p = self.H._normalise_irrep_id(psi, "psi")
        if not irreps:
            raise ValueError(f"irreps: expected a non-empty list of irreps of {self.G.name}, got {irreps!r}")
        rids = [self.G._normalise_irrep_id(r, "irreps") for r in irreps]
        if len(set(rids)) != len(rids):
            raise ValueError(f"irreps: duplicates in {rids}")
        ids = []
        for rid in rids:
            ids += [rid] * self._generators(rid, p).shape[0]
        if name is None:
            name = f"induced[{self.sgid}]_[{p}]_[" + "|".join(str(i) for i in rids) + "]"
        if not ids:
            return None
        rep = Representation(self.G, name, ids, None, {"norm", "gated", "concatenated"})
        rep._homspace_psi = p
        rep._homspace_irreps = rids
        self._reps[name] = rep
        return rep

    def complete_basis(
        self, g: GroupElement, psi: Any = None, irreps: Sequence[Any] | None = None, name: str | None = None
    ) -> np.ndarray:
        """The first components (along ψ) of :meth:`basis` for every ρ in ``irreps``, stacked
        into a vector of the size of ``induced_representation(psi, irreps, name)``."""
        rep = self.induced_representation(psi, irreps, name)
        if rep is None:
            return np.zeros(0)
        out = []
        for rid in rep._homspace_irreps:
            b = self.basis(g, rid, rep._homspace_psi)[:, :, 0]
            out.append(b.T.reshape(-1))
        return np.concatenate(out)


def _rebuild(G, sgid):
    return HomSpace(G, sgid, _normalised=True)
