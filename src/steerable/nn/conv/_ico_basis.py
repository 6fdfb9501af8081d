"""escnn's sparse icosahedral kernel basis (``R3IcoConv``): Gaussian bumps on one orbit of the
group per ring.

For a ring of radius r > 0 and an orbit ``{g·p}`` of a rotation axis p (``samples``: ``'ico'`` the
3-fold axes (20 points), ``'dodeca'`` the 5-fold axes (12), ``'icosidodeca'`` the 2-fold axes (30)),
the kernels ``K(x) = Σ_{g ∈ G} φ(x - r g·p) ρ_out(g) M ρ_in(g)⁻¹`` (φ a Gaussian of width σ) are
equivariant for every M and depend only on the projection of M onto the intertwiners of the
stabiliser H of p: one basis element per element of an orthonormal basis of
``Hom_H(ψ_in, ψ_out)``. At radius 0 the orbit is the origin and H = G.
"""

from __future__ import annotations

import numpy as np

from steerable.kernels._basis import VANISHING_TOL, BasisElement

__all__ = ["OrbitPairBasis"]

_AXIS_TRACE = {"ico": 0.0, "dodeca": 1.0 + 2.0 * np.cos(2 * np.pi / 5), "icosidodeca": -1.0}
_CACHE: dict = {}


def _group_data(gspace):
    key = gspace
    if key not in _CACHE:
        G = gspace.fibergroup
        els = list(G.elements)
        mats = np.stack([np.asarray(gspace.basespace_action(g), dtype=np.float64) for g in els])
        _CACHE[key] = (els, mats)
    return _CACHE[key]


def _orbit_root(mats: np.ndarray, samples: str) -> np.ndarray:
    """A unit rotation axis of the order given by ``samples`` (the first found, deterministic)."""
    tr = _AXIS_TRACE[samples]
    for m in mats:
        if np.linalg.det(m) > 0 and abs(np.trace(m) - tr) < 1e-6 and not np.allclose(m, np.eye(3)):
            w, v = np.linalg.eig(m)
            k = int(np.argmin(np.abs(w - 1.0)))
            axis = np.real(v[:, k])
            return axis / np.linalg.norm(axis)
    raise ValueError(f"samples: the group has no rotation axis of the kind {samples!r}")


def _intertwiners(reps_o: np.ndarray, reps_i: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Orthonormal basis (k, d_out, d_in) of the matrices M with ρ_out(h) M ρ_in(h)⁻¹ = M for h in idx."""
    do, di = reps_o.shape[1], reps_i.shape[1]
    P = np.zeros((do * di, do * di))
    for h in idx:
        P += np.kron(reps_o[h], np.linalg.inv(reps_i[h]).T)
    P /= len(idx)
    P = 0.5 * (P + P.T)
    w, v = np.linalg.eigh(P)
    keep = w > 0.5
    return v[:, keep].T.reshape(-1, do, di)


class OrbitPairBasis:
    """The sparse-orbit kernel basis ``ψ_in → ψ_out`` (irreps of the gspace's finite group) on the
    given rings (duck-typed like :class:`steerable.kernels.IrrepsPairBasis`).

    >>> from steerable import gspaces
    >>> b = OrbitPairBasis(gspaces.icoOnR3(), (0,), (0,), [0.0, 1.0], [0.005, 0.6], 'ico')
    >>> len(b), b.sample(np.zeros((1, 3))).shape
    (2, (2, 1, 1, 1))
    """

    def __init__(self, gspace, in_id: tuple, out_id: tuple, rings, sigmas, samples: str = "ico"):
        G = gspace.fibergroup
        self.gspace, self.in_id, self.out_id, self.samples = gspace, in_id, out_id, samples
        self.rings, self.sigmas = [float(r) for r in rings], [float(s) for s in sigmas]
        els, mats = _group_data(gspace)
        psi_i, psi_o = G.irrep(*in_id), G.irrep(*out_id)
        self.d_in, self.d_out = psi_i.size, psi_o.size
        ri = np.stack([np.asarray(psi_i(g), dtype=np.float64) for g in els])
        ro = np.stack([np.asarray(psi_o(g), dtype=np.float64) for g in els])
        self._mats = mats
        root = _orbit_root(mats, samples)
        stab = np.flatnonzero(np.linalg.norm(mats @ root - root, axis=1) < 1e-8)
        self._root = root
        self.elements: list = []
        self._rings_M: list = []  # (ring idx, M (k, do, di) already conjugated per g: (k, G, do, di))
        hom_all = _intertwiners(ro, ri, np.arange(len(els)))
        hom_stab = _intertwiners(ro, ri, stab)
        inv_i = np.linalg.inv(ri)
        for k_r, (r, s) in enumerate(zip(self.rings, self.sigmas)):
            M = hom_all if r < 1e-9 else hom_stab
            if len(M) == 0:
                continue
            T = np.einsum("gab,kbc,gcd->kgad", ro, M, inv_i)  # ρ_out(g) M ρ_in(g)⁻¹
            self._rings_M.append((k_r, T))
            for k in range(len(M)):
                self.elements.append(BasisElement(in_id, out_id, r, s, (0, 0), 0, k))

    def __len__(self) -> int:
        return len(self.elements)

    def sample(self, points: np.ndarray) -> np.ndarray:
        """(n_basis, d_out, d_in, N) at ``points`` (N, 3), float64."""
        pts = np.asarray(points, dtype=np.float64)
        out = np.zeros((len(self), self.d_out, self.d_in, len(pts)))
        p = 0
        orbit = self._mats @ self._root  # (G, 3)
        for k_r, T in self._rings_M:
            r, s = self.rings[k_r], self.sigmas[k_r]
            centres = orbit * r
            d2 = ((pts[None, :, :] - centres[:, None, :]) ** 2).sum(-1)  # (G, N)
            phi = np.exp(-d2 / (2 * s * s)) / len(centres)
            out[p : p + len(T)] = np.einsum("gn,kgab->kabn", phi, T)
            p += len(T)
        return out

    def select(self, keep) -> OrbitPairBasis:
        keep = np.asarray(keep, dtype=bool)
        new = object.__new__(OrbitPairBasis)
        new.__dict__.update(self.__dict__)
        new.elements = [e for e, k in zip(self.elements, keep) if k]
        rings, p = [], 0
        for k_r, T in self._rings_M:
            m = keep[p : p + len(T)]
            p += len(T)
            if m.any():
                rings.append((k_r, T[m]))
        new._rings_M = rings
        return new

    def nonvanishing(self, points: np.ndarray, tol: float = VANISHING_TOL) -> OrbitPairBasis:
        if not len(self):
            return self
        s = self.sample(points)
        keep = (s**2).sum(axis=(1, 2, 3)) / self.d_out >= tol
        return self if keep.all() else self.select(keep)
