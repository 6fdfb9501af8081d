"""Kernel-constraint solutions for a pair of irreps (the Wigner–Eckart theorem for steerable
kernels).

A steerable filters basis splits scalar filters into copies of irreps ``Y_j`` of its group G
(O(2) or O(3) for the polar bases). A kernel ``κ(x) = Σ X Y_j(x)`` (``X`` a
``(d_out·d_in) × dim Y_j`` matrix) satisfies ``κ(h x) = ψ_out(h) κ(x) ψ_in(h)⁻¹`` for every h of
a group H ⊆ G iff ``X`` intertwines ``Res_H(Y_j)`` with ``ψ_out ⊗ ψ_in``. So every element is
(harmonic j, intertwiner X, copy i of Y_j in the filters basis):

- :class:`WignerEckartBasis`: H = G; the intertwiners are ``Hom_G(Y_j, ψ_out ⊗ ψ_in)``
  (attributes ``k``, ``s``: the endomorphism and the multiplicity index).
- :class:`RestrictedWignerEckartBasis`: H = ``G.subgroup(sg_id)``; ``Res_H(Y_j) = Q (⊕ φ_a) Q⁻¹`` and
  the intertwiners are ``E · Q⁻¹[rows of the t-th copy of φ_a]`` with ``E ∈ Hom_H(φ_a, ψ_out ⊗ ψ_in)``
  (attributes ``_j`` = a, ``t``, ``k``, ``s``).

The intertwiner spaces come from :func:`steerable.group.homomorphism_space` (exact, from the
irrep decompositions); each coefficient tensor is scaled to Frobenius norm ``sqrt(dim φ)`` (the
norm escnn's Clebsch–Gordan construction gives). The span, the dimensions and the attribute keys
are escnn's; individual elements may differ from escnn's by an orthogonal mixing within a block
(same harmonic, same subgroup irrep), since the intertwiner bases are built differently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch

from steerable.group import IrreducibleRepresentation, Representation, homomorphism_space

from ._filters_basis import SteerableFiltersBasis, _irrep_attributes, _prefixed_attributes
from ._steerable_kernel import IrrepBasis, _resolve_irrep

__all__ = ["WignerEckartBasis", "RestrictedWignerEckartBasis"]

_COEFF_CACHE: dict = {}


def _cached(key, build):
    try:
        hit = _COEFF_CACHE.get(key)
    except TypeError:  # unhashable key: no caching
        return build()
    if hit is None:
        hit = build()
        _COEFF_CACHE[key] = hit
    return hit


def _intertwiners(phi: Representation, tens: Representation) -> np.ndarray:
    """Basis (n, dim tens, dim φ) of Hom_H(φ, tens), each scaled to Frobenius norm sqrt(dim φ)."""
    e = np.asarray(homomorphism_space(phi, tens), dtype=np.float64)
    if e.shape[0] == 0:
        return e
    n = np.sqrt((e**2).sum(axis=(1, 2), keepdims=True))
    return e / np.where(n > 0, n, 1.0) * np.sqrt(phi.size)


class _SubgroupRestriction:
    """Restriction of the irreps of ``G`` to its subgroup ``sg_id`` (through the group layer)."""

    def __init__(self, G, sg_id):
        self.G = G
        self.sg_id = sg_id
        self.H = G.subgroup(sg_id)[0]

    def key(self):
        return ("sg", self.G, self.sg_id)

    def restrict(self, j):
        rep = self.G.restrict_representation(self.sg_id, self.G.irrep(*j))
        return list(rep.irreps), np.asarray(rep.change_of_basis_inv, dtype=np.float64)


class _GSpaceRestriction:
    """Restriction of the ambient O(d) irreps to the fibre group of a gspace, through the
    gspace's inclusion (works for restricted gspaces too)."""

    def __init__(self, gspace):
        self.gspace = gspace
        self.G = gspace._ambient
        self.H = gspace.fibergroup
        self.sg_id = self

    def key(self):
        return ("gspace", self.gspace)

    def restrict(self, j):
        from ._basis import restricted_harmonic

        ids, q = restricted_harmonic(self.gspace, tuple(j))
        return list(ids), np.linalg.inv(np.asarray(q, dtype=np.float64))

    def __repr__(self):
        return f"gspace:{self.gspace!r}"

    def __eq__(self, other):
        return isinstance(other, _GSpaceRestriction) and self.gspace == other.gspace

    def __hash__(self):
        return hash(("gspace", self.gspace))


class _WEBase(IrrepBasis):
    """Shared sampling and attribute logic; subclasses fill ``_coeffs[j]`` (n, o, i, dim Y_j) and
    ``_labels[j]`` (one dict of extra attributes per intertwiner)."""

    def _finish(self, basis, in_irrep, out_irrep, coeffs: dict, labels: dict, js: list):
        dim = sum(coeffs[j].shape[0] * basis.multiplicity(j) for j in js)
        self._coeffs_np = coeffs
        self._labels = labels
        self._dims = {j: coeffs[j].shape[0] * basis.multiplicity(j) for j in js}
        IrrepBasis.__init__(self, basis, in_irrep, out_irrep, dim, harmonics=js)
        for b, j in enumerate(self.js):
            self.register_buffer(f"coeff_{b}", torch.tensor(coeffs[j]), persistent=False)

    def coeff(self, idx: int) -> torch.Tensor:
        """The intertwiner coefficients (n, out size, in size, dim Y_j) of the ``idx``-th harmonic."""
        return getattr(self, f"coeff_{idx}")

    def dim_harmonic(self, j: tuple) -> int:
        return self._dims.get(j, 0) if hasattr(self, "_dims") else 0

    def sample_harmonics(
        self, points: dict[tuple, torch.Tensor], out: dict[tuple, torch.Tensor] | None = None
    ) -> dict[tuple, torch.Tensor]:
        res = {}
        for b, j in enumerate(self.js):
            if j not in points:
                continue
            y = points[j]  # (S, m, dim Y)
            c = self.coeff(b).to(device=y.device, dtype=y.dtype)
            v = torch.einsum("coiy,smy->scmoi", c, y)
            res[j] = v.reshape(y.shape[0], -1, self.shape[0], self.shape[1])
        if out is None:
            return res
        for j, v in res.items():
            if j in out:
                if tuple(out[j].shape) != tuple(v.shape):
                    raise ValueError(
                        f"out: expected shape {tuple(v.shape)} for harmonic {j}, got {tuple(out[j].shape)}"
                    )
                out[j].copy_(v)
        return out

    def _inner_of(self, attr: dict) -> int:
        """The intertwiner (label) index ``c`` of an element: its local index is ``c · m + i``
        with ``m`` the filters basis' multiplicity of the harmonic."""
        j = tuple(attr["j"])
        return (int(attr["idx"]) - self._start_index[j]) // self.basis.multiplicity(j)

    def _attr(self, j, c: int, i: int, attr_i: dict, local: int) -> dict:
        attr = _prefixed_attributes(self.basis.group, j)
        attr.update(attr_i)
        attr["idx"] = self._start_index[j] + local
        attr["j"] = j
        attr.update(self._labels[j][c])
        attr["i"] = i
        return attr

    def attrs_j_iter(self, j: tuple) -> Iterable:
        if self.dim_harmonic(j) == 0:
            return
        steer = list(self.basis.steerable_attrs_j_iter(j))
        local = 0
        for c in range(len(self._labels[j])):
            for i, attr_i in enumerate(steer):
                yield self._attr(j, c, i, attr_i, local)
                local += 1

    def attrs_j(self, j: tuple, idx) -> dict:
        if not 0 <= idx < self.dim_harmonic(j):
            raise IndexError(f"idx: harmonic {j} has {self.dim_harmonic(j)} elements, got {idx}")
        m = self.basis.multiplicity(j)
        c, i = divmod(idx, m)
        attr_i = self.basis.steerable_attrs_j(j, i)
        assert attr_i is not None  # j has elements here, so it is one of the filters basis' harmonics
        return self._attr(j, c, i, attr_i, idx)

    def __eq__(self, other):
        if type(self) is not type(other):
            return False
        return (
            self.basis == other.basis
            and self.in_irrep == other.in_irrep
            and self.out_irrep == other.out_irrep
            and self.js == other.js
            and getattr(self, "sg_id", None) == getattr(other, "sg_id", None)
        )

    def __hash__(self):
        return hash((type(self).__name__, self.basis, self.in_irrep.id, self.out_irrep.id, tuple(self.js)))


class WignerEckartBasis(_WEBase):
    """Kernels between two irreps of the filters basis' own group G (``basis.group``).

    Dimension: ``Σ_j multiplicity(j) · dim Hom_G(Y_j, ψ_out ⊗ ψ_in)``; raises
    :class:`EmptyBasisException` when it is 0.

    >>> import torch
    >>> from steerable.group import o3_group
    >>> from steerable.kernels import SphericalShellsBasis, GaussianRadialProfile, WignerEckartBasis
    >>> X = SphericalShellsBasis(3, GaussianRadialProfile([0., 1.], 0.6))
    >>> G = X.group
    >>> b = WignerEckartBasis(X, G.irrep(1, 1), G.irrep(0, 2))
    >>> b.js, len(b), tuple(b.sample(torch.randn(4, 3)).shape)
    ([(1, 1), (1, 3)], 4, (4, 4, 5, 3))
    """

    def __init__(
        self,
        basis: SteerableFiltersBasis,
        in_irrep: str | IrreducibleRepresentation | int,
        out_irrep: str | IrreducibleRepresentation | int,
    ):
        if not isinstance(basis, SteerableFiltersBasis):
            raise TypeError(f"basis: expected a SteerableFiltersBasis, got {type(basis).__name__}")
        G = basis.group
        in_irrep = _resolve_irrep(G, in_irrep, "in_irrep")
        out_irrep = _resolve_irrep(G, out_irrep, "out_irrep")
        self.m = in_irrep.id
        self.n = out_irrep.id
        coeffs, labels, js = {}, {}, []
        for j, mult in basis.js:
            if mult == 0 or j in coeffs:
                continue

            def build(j=j):
                psi = G.irrep(*j)
                e = _intertwiners(psi, out_irrep.tensor(in_irrep))
                return e.reshape(e.shape[0], out_irrep.size, in_irrep.size, psi.size)

            c = _cached(("we", G, j, in_irrep.id, out_irrep.id), build)
            if c.shape[0] == 0:
                continue
            K = G.irrep(*j).sum_of_squares_constituents
            jJl = max(c.shape[0] // K, 1)
            coeffs[j] = c
            labels[j] = [{"s": h % jJl, "k": h // jJl} for h in range(c.shape[0])]
            js.append(j)
        self._finish(basis, in_irrep, out_irrep, coeffs, labels, js)

    _cached_instances: dict = {}

    @classmethod
    def _generator(cls, basis: SteerableFiltersBasis, psi_in, psi_out, **kwargs) -> WignerEckartBasis:
        if kwargs:
            raise TypeError(f"WignerEckartBasis takes no extra arguments, got {sorted(kwargs)}")
        return cls(
            basis, _resolve_irrep(basis.group, psi_in, "in_irrep"), _resolve_irrep(basis.group, psi_out, "out_irrep")
        )


class RestrictedWignerEckartBasis(_WEBase):
    """Kernels between two irreps of the subgroup ``sg_id`` of the filters basis' group G: the
    harmonics ``Y_j`` are restricted to ``H = G.subgroup(sg_id)[0]``.

    Dimension: ``Σ_j multiplicity(j) · dim Hom_H(Res_H Y_j, ψ_out ⊗ ψ_in)``.

    >>> import torch
    >>> from steerable.group import cyclic_group
    >>> from steerable.kernels import (CircularShellsBasis, GaussianRadialProfile,
    ...                                RestrictedWignerEckartBasis)
    >>> X = CircularShellsBasis(4, GaussianRadialProfile([0., 1.], 0.6))
    >>> H = cyclic_group(4)
    >>> b = RestrictedWignerEckartBasis(X, (None, 4), H.irrep(0), H.irrep(1))
    >>> len(b), sorted(b[0])[:4]
    (8, ['_j', 'i', 'idx', 'irrep:flip_frequency'])
    """

    def __init__(
        self,
        basis: SteerableFiltersBasis,
        sg_id: tuple,
        in_irrep: str | IrreducibleRepresentation | int,
        out_irrep: str | IrreducibleRepresentation | int,
    ):
        self._build(basis, sg_id, in_irrep, out_irrep, None)

    def _build(self, basis, sg_id, in_irrep, out_irrep, keep):
        if not isinstance(basis, SteerableFiltersBasis):
            raise TypeError(f"basis: expected a SteerableFiltersBasis, got {type(basis).__name__}")
        restr = sg_id if isinstance(sg_id, _GSpaceRestriction) else _SubgroupRestriction(basis.group, sg_id)
        H = restr.H
        in_irrep = _resolve_irrep(H, in_irrep, "in_irrep")
        out_irrep = _resolve_irrep(H, out_irrep, "out_irrep")
        self.sg_id = sg_id
        self.m = in_irrep.id
        self.n = out_irrep.id
        coeffs, labels, js = {}, {}, []
        for j, mult in basis.js:
            if mult == 0 or j in coeffs:
                continue

            def build(j=j):
                ids, qinv = restr.restrict(j)
                tens = out_irrep.tensor(in_irrep)
                order = list(dict.fromkeys(tens.irreps))
                cs, ls = [], []
                for a in order:
                    if a not in ids:
                        continue
                    phi = H.irrep(*a)
                    e = _intertwiners(phi, tens)  # (n, o*i, d_a)
                    if e.shape[0] == 0:
                        continue
                    offs = np.cumsum([0] + [H.irrep(*b).size for b in ids])
                    copies = [offs[p] for p, b in enumerate(ids) if b == a]
                    K = phi.sum_of_squares_constituents
                    jJl = max(e.shape[0] // K, 1)
                    for h in range(e.shape[0]):
                        for t, p in enumerate(copies):
                            cs.append(e[h] @ qinv[p : p + phi.size])
                            ls.append({"_j": a, "t": t, "s": h % jJl, "k": h // jJl})
                # escnn's order within a harmonic: subgroup irrep, then k, s, then the copy t
                idx = sorted(
                    range(len(ls)), key=lambda q: (order.index(ls[q]["_j"]), ls[q]["k"], ls[q]["s"], ls[q]["t"])
                )
                dimY = qinv.shape[1]
                c = (
                    np.stack([cs[q] for q in idx]).reshape(-1, out_irrep.size, in_irrep.size, dimY)
                    if cs
                    else np.zeros((0, out_irrep.size, in_irrep.size, dimY))
                )
                return c, [ls[q] for q in idx]

            c, lab = _cached(("rwe", restr.key(), j, in_irrep.id, out_irrep.id), build)
            if keep is not None:
                sel = [q for q, l in enumerate(lab) if keep(j, l["_j"])]
                c, lab = c[sel], [lab[q] for q in sel]
            if c.shape[0] == 0:
                continue
            coeffs[j] = c
            labels[j] = lab
            js.append(j)
        self._finish(basis, in_irrep, out_irrep, coeffs, labels, js)
        self.group = H

    @classmethod
    def _generator(cls, basis: SteerableFiltersBasis, psi_in, psi_out, **kwargs) -> RestrictedWignerEckartBasis:
        if "sg_id" not in kwargs:
            raise TypeError("RestrictedWignerEckartBasis needs the keyword argument sg_id")
        extra = set(kwargs) - {"sg_id", "max_offset"}
        if extra:
            raise TypeError(f"RestrictedWignerEckartBasis: unexpected arguments {sorted(extra)}")
        sg_id = kwargs["sg_id"]
        max_offset = kwargs.get("max_offset")
        keep: Callable[[tuple, tuple], bool] | None = None
        if max_offset is not None:
            H = sg_id.H if isinstance(sg_id, _GSpaceRestriction) else basis.group.subgroup(sg_id)[0]

            def within_offset(j, a, H=H, G=basis.group, mo=max_offset):
                fj = _irrep_attributes(G, j).get("frequency", 0)
                fa = _irrep_attributes(H, a).get("frequency", 0)
                return fj - fa <= mo

            keep = within_offset

        obj = cls.__new__(cls)
        obj._build(basis, sg_id, psi_in, psi_out, keep)
        return obj
