"""Steerable bases of *scalar* filters: :class:`SteerableFiltersBasis` and :class:`PointBasis`.

A steerable filters basis of a group G acting on R^n (through the representation ``action``)
spans a space of scalar functions on R^n and splits it into G-irreps: ``js`` lists
``(irrep id, multiplicity)``. Its elements are ordered irrep by irrep (as in ``js``); within
an irrep, copy by copy, and within a copy, by the irrep's coordinates, so that
``f(g x) = ψ_j(g) f(x)`` for each copy of ``ψ_j``. ``shape`` is always ``(1, 1)``.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable

import numpy as np
import torch

from steerable.group import Group, Representation

from ._kernel_basis import KernelBasis, _as_points, _write_out

__all__ = ["SteerableFiltersBasis", "PointBasis"]


def _irrep_attributes(G: Group, irrep_id: tuple) -> dict:
    """escnn's ``IrreducibleRepresentation.attributes`` for the groups kernel bases use."""
    kind = type(G).__name__
    if kind in ("CyclicGroup", "SO2", "SO3"):
        return {"frequency": int(irrep_id[0])}
    if kind in ("DihedralGroup", "O2"):
        return {"frequency": int(irrep_id[1]), "flip_frequency": int(irrep_id[0])}
    if kind == "O3":
        return {"frequency": int(irrep_id[1]), "inv_frequency": int(irrep_id[0])}
    if G.name == "Icosahedral":
        return {"frequency": int(irrep_id[0])}
    return {}


def _prefixed_attributes(G: Group, irrep_id: tuple) -> dict:
    return {"irrep:" + k: v for k, v in _irrep_attributes(G, irrep_id).items()}


def _standard_representation(G: Group) -> Representation:
    std = G.standard_representation
    return std if isinstance(std, Representation) else std()


class SteerableFiltersBasis(KernelBasis):
    """Abstract G-steerable basis of scalar filters on R^n (``n = action.size``).

    ``js`` is a list of ``(irrep_id, multiplicity)``; ``dim = Σ multiplicity · dim ψ``.
    :meth:`sample_as_dict` groups the sampled elements by irrep: ``{id: (N, multiplicity, dim ψ)}``.

    >>> import torch
    >>> from steerable.group import so2_group
    >>> from steerable.kernels import CircularShellsBasis, GaussianRadialProfile
    >>> b = CircularShellsBasis(2, GaussianRadialProfile([0., 1.], 0.6))
    >>> b.js, b.dim, b.dimensionality
    ([((0, 0), 2), ((1, 1), 2), ((1, 2), 2)], 10, 2)
    >>> {j: tuple(v.shape) for j, v in b.sample_as_dict(torch.randn(3, 2)).items()}
    {(0, 0): (3, 2, 1), (1, 1): (3, 2, 2), (1, 2): (3, 2, 2)}
    """

    def __init__(self, G: Group, action: Representation, js: list[tuple]):
        if not isinstance(G, Group):
            raise TypeError(f"G: expected a steerable.group.Group, got {type(G).__name__}")
        if not isinstance(action, Representation) or action.group != G:
            raise ValueError(f"action: expected a representation of {G.name}")
        if not isinstance(js, list):
            raise TypeError(f"js: expected a list of (irrep id, multiplicity), got {type(js).__name__}")
        self.group: Group = G
        self.action = action
        self.js = js
        self._js: dict = {}
        dim = 0
        for j, m in js:
            if not isinstance(j, tuple):
                raise TypeError(f"js: irrep ids are tuples, got {j!r}")
            if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 0:
                raise ValueError(f"js: multiplicities are non-negative integers, got {m!r}")
            self._js[j] = int(m)
            dim += G.irrep(*j).size * int(m)
        super().__init__(dim, (1, 1))
        self._start_index = {}
        idx = 0
        for j, _ in self.js:
            self._start_index[j] = idx
            idx += self.dim_harmonic(j)

    @property
    def dimensionality(self) -> int:
        """The dimension n of the Euclidean space the filters live on."""
        return self.action.size

    def sample_as_dict(self, points: torch.Tensor, out: torch.Tensor | None = None) -> dict[tuple, torch.Tensor]:
        """The sampled elements grouped by irrep: ``{j: tensor (N, multiplicity(j), dim ψ_j)}``."""
        points = _as_points(points, self.dimensionality)
        S = points.shape[0]
        if out is not None:
            out = out.view(S, self.dim, 1, 1)
        flat = self.sample(points, out).reshape(S, self.dim)
        res = {}
        p = 0
        for j, m in self.js:
            size = self.group.irrep(*j).size
            res[j] = flat[:, p : p + size * m].reshape(S, m, size)
            p += size * m
        return res

    def dim_harmonic(self, j: tuple) -> int:
        """Number of elements transforming as the irrep ``j`` (multiplicity × size)."""
        return self.group.irrep(*j).size * self._js[j] if j in self._js else 0

    def multiplicity(self, j: tuple) -> int:
        """Multiplicity of the irrep ``j`` in ``js`` (0 if absent)."""
        return self._js.get(j, 0)

    def _get_j_from_idx(self, idx: int):
        p = 0
        for j, _ in self.js:
            d = self.dim_harmonic(j)
            if p + d > idx:
                return j, idx - p
            p += d
        raise IndexError(idx)

    def _get_j_from_idx_steerable(self, idx: int):
        p = 0
        for j, m in self.js:
            if p + m > idx:
                return j, idx - p
            p += m
        raise IndexError(idx)

    def steerable_attrs_iter(self) -> Iterable:
        """Attributes of the invariant subspaces (one per copy of an irrep), in order."""
        for j, _ in self.js:
            yield from self.steerable_attrs_j_iter(j)

    def steerable_attrs(self, idx) -> dict:
        """Attributes of the ``idx``-th invariant subspace."""
        j, rel = self._get_j_from_idx_steerable(idx)
        attr = self.steerable_attrs_j(j, rel)
        assert attr is not None  # j is one of the basis' harmonics (it comes from js)
        return attr

    @abstractmethod
    def steerable_attrs_j_iter(self, j: tuple) -> Iterable:
        """Attributes of the copies of the irrep ``j``."""

    @abstractmethod
    def steerable_attrs_j(self, j: tuple, idx) -> dict | None:
        """Attributes of the ``idx``-th copy of the irrep ``j`` (None, for some bases, when ``j``
        is not one of their harmonics)."""

    def check_equivariance(self):
        """Check ``f(g x) = ψ_j(g) f(x)`` for random points and group elements (float64);
        raises ``AssertionError`` on failure."""
        S = 20
        gen = torch.Generator().manual_seed(0)
        points = torch.randn(S, self.dimensionality, generator=gen, dtype=torch.float64)
        base = self.sample_as_dict(points)
        for g in self.group.sample(5, seed=1) if self.group.order() < 0 else list(self.group.elements)[:8]:
            a = torch.as_tensor(np.asarray(self.action(g)), dtype=torch.float64)
            moved = self.sample_as_dict(points @ a.T)
            for j, bj in base.items():
                rho = torch.as_tensor(np.asarray(self.group.irrep(*j)(g)), dtype=torch.float64)
                expected = torch.einsum("ij,pmj->pmi", rho, bj)
                err = (expected - moved[j]).abs().max().item() if bj.numel() else 0.0
                assert err < 1e-8, f"irrep {j}: equivariance error {err}"


class PointBasis(SteerableFiltersBasis):
    """The one-element basis of functions on a single point (the constant 1): steerable for any
    group. Used for equivariant linear maps (:func:`kernels_on_point`). Its ``action`` is the
    trivial representation, so points are ``(N, 1)``.

    >>> import torch
    >>> from steerable.group import cyclic_group
    >>> from steerable.kernels import PointBasis
    >>> b = PointBasis(cyclic_group(3))
    >>> b.sample(torch.zeros(2, 1)).tolist(), b[0]
    ([[[[1.0]]], [[[1.0]]]], {'idx': 0, 'j': (0,), 'shape': (1, 1)})
    """

    def __init__(self, G: Group):
        if not isinstance(G, Group):
            raise TypeError(f"G: expected a steerable.group.Group, got {type(G).__name__}")
        triv = G.trivial_representation
        super().__init__(G, triv, [(G.trivial_irrep_id, 1)])

    def sample(self, points: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        points = _as_points(points, self.dimensionality)
        # ones that still depend on the points (so gradients flow, with value 0)
        res = torch.ones(points.shape[0], 1, 1, 1, device=points.device, dtype=points.dtype)
        if points.requires_grad:
            res = res + 0.0 * points.sum(1).reshape(-1, 1, 1, 1)
        return _write_out(res, out)

    def _attr(self) -> dict:
        return {"idx": 0, "j": self.group.trivial_irrep_id, "shape": (1, 1)}

    def steerable_attrs_iter(self):
        yield self._attr()

    def steerable_attrs(self, idx):
        if idx != 0:
            raise IndexError(f"idx: a PointBasis has one element, got {idx}")
        return self._attr()

    def steerable_attrs_j_iter(self, j: tuple) -> Iterable:
        if j == self.group.trivial_irrep_id:
            yield self._attr()

    def steerable_attrs_j(self, j: tuple, idx) -> dict | None:
        if j != self.group.trivial_irrep_id:
            return None
        return self.steerable_attrs(idx)

    def __getitem__(self, idx):
        return self.steerable_attrs(self._check_idx(idx))

    def __iter__(self):
        yield self._attr()

    def __eq__(self, other):
        return isinstance(other, PointBasis) and self.group == other.group

    def __hash__(self):
        return hash(("PointBasis", self.group))
