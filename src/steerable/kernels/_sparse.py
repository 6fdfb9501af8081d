"""Sparse steerable filters on a finite orbit (escnn's :class:`SparseOrbitBasis`) and the
"aliased" icosahedral kernel families built on them.

For a finite group G acting on R^n and a point ``root`` fixed by a subgroup H, the orbit
``{g · root}`` is a copy of G/H. The functions on G/H split into the irreps ψ_j of G with
multiplicity ``dim Hom_H(1, Res_H ψ_j)`` (``HomSpace.scalar_basis``); each is spread on R^n by
Gaussians of width ``sigma`` centred on the orbit points: ``f(x) = Σ_p Y_j(p) exp(-|x-p|²/2σ²)``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from steerable.group import HomSpace, Representation, ico_group

from ._filters_basis import SteerableFiltersBasis, _prefixed_attributes, _standard_representation
from ._kernel_basis import AdjointBasis, EmptyBasisException, KernelBasis, UnionBasis, _as_points, _write_out
from ._steerable_kernel import SteerableKernelBasis
from ._wigner_eckart import WignerEckartBasis

__all__ = [
    "SparseOrbitBasis",
    "SparseOrbitBasisWithIcosahedralSymmetry",
    "kernels_aliased_Ico_act_R3_dodecahedron",
    "kernels_aliased_Ico_act_R3_icosahedron",
    "kernels_aliased_Ico_act_R3_icosidodecahedron",
]


def _multiplicity(dim) -> int:
    """``HomSpace.dimension_basis`` is escnn's shape tuple (dim ρ, m, dim ψ) (or a count)."""
    return int(dim[1]) if isinstance(dim, tuple) else int(dim)


def _scalar_harmonics(X: HomSpace, g, j) -> np.ndarray:
    """The harmonics of the irrep j on G/H at g, as (m, dim ψ_j)."""
    sb = np.asarray(X.scalar_basis(g, j))
    if sb.ndim == 3:  # escnn's layout (dim ψ, m, 1)
        sb = sb[..., 0]
    return sb.T


class SparseOrbitBasis(SteerableFiltersBasis):
    """Steerable filters on the orbit of ``root`` under a finite group (``X = G/H`` with H the
    stabiliser of ``root``), blurred by Gaussians of width ``sigma``. ``harmonics`` restricts the
    irreps used; ``change_of_basis`` (n×n) maps the orbit points (e.g. ``r · I`` to put them on
    the sphere of radius r); ``attributes`` are added to every element's attributes.

    >>> import numpy as np, torch
    >>> from steerable.group import ico_group
    >>> from steerable.kernels import SparseOrbitBasis
    >>> G = ico_group()
    >>> b = SparseOrbitBasis(G.homspace('ico'), G.standard_representation, np.zeros(3), 0.5)
    >>> len(b), b.sample(torch.zeros(1, 3)).flatten().tolist()
    (1, [1.0])
    """

    points: torch.Tensor  # buffer: the orbit points (n_pts, n), float64

    def __init__(
        self,
        X: HomSpace,
        action: Representation,
        root: np.ndarray,
        sigma: float,
        harmonics: list | None = None,
        change_of_basis: np.ndarray | None = None,
        attributes: dict | None = None,
    ):
        if not isinstance(X, HomSpace):
            raise TypeError(f"X: expected a HomSpace, got {type(X).__name__}")
        G = X.G
        if G.order() <= 0:
            raise ValueError(f"X: SparseOrbitBasis needs a finite group, got {G.name}")
        if not isinstance(action, Representation) or action.group != G:
            raise ValueError(f"action: expected a representation of {G.name}")
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.integer, np.floating)) or sigma <= 0:
            raise ValueError(f"sigma: expected a positive width, got {sigma!r}")
        self.X = X
        if harmonics is None:
            harmonics = [psi.id for psi in G.irreps()]
        triv = X.H.trivial_irrep_id
        js = [(j, _multiplicity(X.dimension_basis(j, triv))) for j in harmonics]
        js = [(j, m) for j, m in js if m > 0]
        super().__init__(G, action, js)
        root = np.asarray(root, dtype=np.float64).reshape(-1)
        if root.shape != (self.dimensionality,):
            raise ValueError(f"root: expected a point of R^{self.dimensionality}, got shape {root.shape}")
        self.root = root
        els = list(G.elements)
        pts = np.stack([np.asarray(action(g)) @ root for g in els])
        _, first = np.unique(np.round(pts, 4), axis=0, return_index=True)
        first = np.sort(first)
        if len(first) * X.H.order() != G.order():
            raise ValueError(
                f"root: its orbit has {len(first)} points, expected |G/H| = {G.order() // X.H.order()} "
                "(root must be fixed exactly by the subgroup of X)"
            )
        for j, _m in self.js:
            y = np.stack([_scalar_harmonics(X, els[i], j) for i in first])  # (n_pts, m, dim ψ)
            self.register_buffer(f"harmonics_{j}", torch.tensor(y, dtype=torch.float64), persistent=False)
        self.sigma = float(sigma)
        pts = pts[first]
        if change_of_basis is not None:
            change_of_basis = np.asarray(change_of_basis, dtype=np.float64)
            if change_of_basis.shape != (self.dimensionality,) * 2 or not np.isfinite(np.linalg.cond(change_of_basis)):
                raise ValueError("change_of_basis: expected an invertible n×n matrix")
            pts = pts @ change_of_basis.T
        self.change_of_basis = change_of_basis
        self.register_buffer("points", torch.tensor(pts, dtype=torch.float64), persistent=False)
        self._attributes = dict(attributes) if attributes is not None else {}

    def _get_harmonics(self, j):
        return getattr(self, f"harmonics_{j}")

    def sample(self, points: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        points = _as_points(points, self.dimensionality)
        S = points.shape[0]
        p = self.points.to(device=points.device, dtype=points.dtype)
        w = torch.exp(-0.5 * ((p[:, None, :] - points[None, :, :]) ** 2).sum(-1) / self.sigma**2)  # (n_pts, S)
        blocks = [
            torch.einsum("irm,io->orm", self._get_harmonics(j).to(points.dtype).to(points.device), w).reshape(S, -1)
            for j, _ in self.js
        ]
        return _write_out(torch.cat(blocks, 1).reshape(S, self.dim, 1, 1), out)

    def _base_attr(self, j) -> dict:
        attr = _prefixed_attributes(self.group, j)
        attr.update(self._attributes)
        return attr

    def __getitem__(self, idx) -> dict:
        idx = self._check_idx(idx)
        j, rel = self._get_j_from_idx(idx)
        size = self.group.irrep(*j).size
        attr = self._base_attr(j)
        attr.update({"idx": idx, "j": j, "i": rel // size, "m": rel % size, "shape": (1, 1)})
        return attr

    def __iter__(self) -> Iterable:
        for idx in range(self.dim):
            yield self[idx]

    def steerable_attrs_j_iter(self, j: tuple) -> Iterable:
        for i in range(self.multiplicity(j)):
            yield self.steerable_attrs_j(j, i)

    def steerable_attrs_j(self, j: tuple, idx) -> dict:
        if not 0 <= idx < self.multiplicity(j):
            raise IndexError(f"idx: the irrep {j} has {self.multiplicity(j)} copies, got {idx}")
        attr = _prefixed_attributes(self.group, j)
        attr["i"] = idx
        attr["sigma"] = self.sigma
        attr.update(self._attributes)
        return attr

    def __eq__(self, other):
        if not isinstance(other, SparseOrbitBasis):
            return False
        same_cob = (self.change_of_basis is None) == (other.change_of_basis is None) and (
            self.change_of_basis is None or np.allclose(self.change_of_basis, other.change_of_basis)
        )
        return (
            self.X == other.X
            and self.action == other.action
            and np.allclose(self.root, other.root, atol=1e-5)
            and self.js == other.js
            and np.isclose(self.sigma, other.sigma)
            and same_cob
        )

    def __hash__(self):
        return hash((self.X, tuple(np.round(self.root, 5)), round(self.sigma, 8), tuple(self.js)))


class SparseOrbitBasisWithIcosahedralSymmetry(SparseOrbitBasis):
    """:class:`SparseOrbitBasis` of the icosahedral group on the orbit of a rotation axis: ``X`` is
    ``ico_group().homspace((False, N))`` with N = 2 (30 edge midpoints), 3 (20 face centres) or 5
    (12 vertices); the root is the unit vector along the axis of the subgroup C_N.

    >>> from steerable.group import ico_group
    >>> from steerable.kernels import SparseOrbitBasisWithIcosahedralSymmetry
    >>> b = SparseOrbitBasisWithIcosahedralSymmetry(ico_group().homspace((False, 5)), sigma=0.6)
    >>> tuple(b.points.shape), len(b)
    ((12, 3), 12)
    """

    def __init__(
        self,
        X: HomSpace,
        sigma: float,
        harmonics: list | None = None,
        change_of_basis: np.ndarray | None = None,
        attributes: dict | None = None,
    ):
        if not isinstance(X, HomSpace):
            raise TypeError(f"X: expected a HomSpace, got {type(X).__name__}")
        G = ico_group()
        if X.G != G:
            raise ValueError(f"X: expected a homogeneous space of the icosahedral group, got one of {X.G.name}")
        H, incl, _, _ = G._subgroup_by_key(X.sgid)
        if H.order() not in (2, 3, 5) or type(H).__name__ != "CyclicGroup":
            raise ValueError(f"X: expected ico_group().homspace((False, N)) with N in (2, 3, 5), got {X!r}")
        g = G._elements_of(incl(H.elements[1]._v[None]))[0]
        axis = np.asarray(g.to("Q"))[:3]
        root = axis / np.linalg.norm(axis)
        super().__init__(X, _standard_representation(G), root, sigma, harmonics, change_of_basis, attributes)


def _aliased_ico(in_repr, out_repr, radii, sigma, sgid, adjoint) -> KernelBasis:
    G = ico_group()
    for name, r in (("in_repr", in_repr), ("out_repr", out_repr)):
        if not isinstance(r, Representation) or r.group != G:
            raise ValueError(f"{name}: expected a representation of the icosahedral group")
    radii = [float(r) for r in radii]
    if isinstance(sigma, (int, float, np.integer, np.floating)) and not isinstance(sigma, bool):
        sigma = [float(sigma)] * len(radii)
    sigma = [float(s) for s in sigma]
    if len(sigma) != len(radii):
        raise ValueError(f"sigma: expected one width or one per radius ({len(radii)}), got {len(sigma)}")
    bases = []
    for r, s in zip(radii, sigma):
        attributes = {"radius": r}
        try:
            if np.isclose(r, 0.0, rtol=1e-7, atol=1e-7):
                fb = SparseOrbitBasis(
                    G.homspace("ico"), _standard_representation(G), np.zeros(3), s, attributes=attributes
                )
            else:
                fb = SparseOrbitBasisWithIcosahedralSymmetry(
                    G.homspace(sgid), s, attributes=attributes, change_of_basis=np.eye(3) * r
                )
            bases.append(SteerableKernelBasis(fb, in_repr, out_repr, WignerEckartBasis))
        except EmptyBasisException:
            pass
    basis = UnionBasis(bases)
    if adjoint is not None and not np.allclose(adjoint, np.eye(3)):
        basis = AdjointBasis(basis, adjoint)
    return basis


def kernels_aliased_Ico_act_R3_dodecahedron(
    in_repr: Representation,
    out_repr: Representation,
    radii: list[float],
    sigma: list[float] | float,
    adjoint: np.ndarray | None = None,
) -> KernelBasis:
    """Icosahedral kernels sampled on the 12 axes of order 5 (vertices of the icosahedron, face
    centres of the dodecahedron) on each sphere of ``radii``, blurred by Gaussians ``sigma``.

    >>> from steerable.group import ico_group
    >>> from steerable.kernels import kernels_aliased_Ico_act_R3_dodecahedron
    >>> G = ico_group()
    >>> len(kernels_aliased_Ico_act_R3_dodecahedron(G.trivial_representation, G.trivial_representation, [0., 1.], 0.5))
    2
    """
    return _aliased_ico(in_repr, out_repr, radii, sigma, (False, 5), adjoint)


def kernels_aliased_Ico_act_R3_icosahedron(
    in_repr: Representation,
    out_repr: Representation,
    radii: list[float],
    sigma: list[float] | float,
    adjoint: np.ndarray | None = None,
) -> KernelBasis:
    """Icosahedral kernels on the 20 axes of order 3 (face centres of the icosahedron)."""
    return _aliased_ico(in_repr, out_repr, radii, sigma, (False, 3), adjoint)


def kernels_aliased_Ico_act_R3_icosidodecahedron(
    in_repr: Representation,
    out_repr: Representation,
    radii: list[float],
    sigma: list[float] | float,
    adjoint: np.ndarray | None = None,
) -> KernelBasis:
    """Icosahedral kernels on the 30 axes of order 2 (edge midpoints: an icosidodecahedron)."""
    return _aliased_ico(in_repr, out_repr, radii, sigma, (False, 2), adjoint)
