"""escnn's kernel-basis protocol: :class:`KernelBasis` and the generic combinators.

A kernel basis is a ``torch.nn.Module`` holding ``dim`` functions ``κ_k: R^d → R^{c_out × c_in}``;
``sample(points)`` evaluates all of them on points ``(N, d)`` and returns a tensor
``(N, dim, c_out, c_in)`` in the points' dtype and on their device, differentiable in the points.
Iterating over a basis yields one attribute dictionary per element (``basis[k]`` gives the same
dictionary), which is what filters and initialisers read.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import cast

import numpy as np
import torch

__all__ = ["EmptyBasisException", "KernelBasis", "AdjointBasis", "UnionBasis"]


class EmptyBasisException(Exception):
    """Raised when a kernel basis would have no element (``dim = 0``): no equivariant kernel exists
    for the requested pair of representations (or a filter removed every element).

    >>> from steerable.kernels import EmptyBasisException
    >>> issubclass(EmptyBasisException, Exception)
    True
    """

    def __init__(self):
        super().__init__(
            "The KernelBasis you tried to instantiate is empty (dim = 0). You should catch this exception."
        )


def _as_points(points, d: int | None = None, name: str = "points") -> torch.Tensor:
    """Validate ``points`` (N, d): a floating torch tensor (numpy arrays become float64 tensors)."""
    if isinstance(points, np.ndarray):
        points = torch.as_tensor(points, dtype=torch.float64)
    if not isinstance(points, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor of shape (N, d), got {type(points).__name__}")
    if not points.is_floating_point():
        points = points.to(torch.get_default_dtype())
    if points.dim() != 2 or (d is not None and points.shape[1] != d):
        want = f"(N, {d})" if d is not None else "(N, d)"
        raise ValueError(f"{name}: expected a tensor of shape {want}, got {tuple(points.shape)}")
    return points


def _write_out(result: torch.Tensor, out: torch.Tensor | None) -> torch.Tensor:
    """Return ``result``, or copy it into the pre-allocated ``out`` (same shape) and return that."""
    if out is None:
        return result
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"out: expected a torch.Tensor or None, got {type(out).__name__}")
    if tuple(out.shape) != tuple(result.shape):
        raise ValueError(f"out: expected shape {tuple(result.shape)}, got {tuple(out.shape)}")
    out.copy_(result)
    return out


class KernelBasis(torch.nn.Module, ABC):
    """Abstract basis of a space of kernels ``κ: X → R^{c_out × c_in}`` (escnn's interface).

    ``dim`` is the number of elements (also ``len(basis)``), ``shape = (c_out, c_in)``.
    Subclasses implement :meth:`sample` and ``__getitem__`` (the attribute dict of an element).
    A basis with ``dim = 0`` cannot be built: the constructor raises :class:`EmptyBasisException`.

    >>> import torch
    >>> from steerable.kernels import KernelBasis
    >>> class Ones(KernelBasis):
    ...     def sample(self, points, out=None):
    ...         return torch.ones(points.shape[0], self.dim, *self.shape, dtype=points.dtype)
    ...     def __getitem__(self, idx):
    ...         return {"idx": idx}
    >>> b = Ones(2, (1, 3))
    >>> len(b), b.shape, tuple(b.sample(torch.zeros(5, 2)).shape), list(b)
    (2, (1, 3), (5, 2, 1, 3), [{'idx': 0}, {'idx': 1}])
    """

    def __init__(self, dim: int, shape: tuple[int, int]):
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"dim: expected an integer, got {type(dim).__name__}")
        if int(dim) < 0:
            raise ValueError(f"dim: expected a non-negative integer, got {dim}")
        if not isinstance(shape, tuple) or len(shape) != 2:
            raise ValueError(f"shape: expected a pair (c_out, c_in), got {shape!r}")
        if int(dim) == 0:
            raise EmptyBasisException()
        super().__init__()
        self.dim = int(dim)
        self.shape = (int(shape[0]), int(shape[1]))

    @abstractmethod
    def sample(self, points: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """The basis sampled on ``points`` (N, d): a tensor (N, dim, c_out, c_in); written into
        ``out`` when given."""

    def forward(self, points: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """Alias of :meth:`sample`."""
        return self.sample(points, out=out)

    def __len__(self) -> int:
        return self.dim

    def __iter__(self):
        for i in range(self.dim):
            yield self[i]

    @abstractmethod
    def __getitem__(self, idx: int) -> dict:
        """The attribute dictionary of element ``idx``."""

    @property
    def structure(self):
        """The elements as tensors (:class:`steerable.kernels.BasisStructure`), in iteration order,
        read from the attribute dicts (escnn's keys) and the irreps the basis maps between (see
        :meth:`_structure_context`); computed once and cached.

        >>> import torch
        >>> from steerable.group import cyclic_group
        >>> from steerable.kernels import kernels_CN_act_R2
        >>> G = cyclic_group(4)
        >>> b = kernels_CN_act_R2(G.irrep(0) + G.irrep(1), G.irrep(1), [0., 1.], 0.6, maximum_frequency=2)
        >>> s = b.structure
        >>> len(s) == len(b), s.frequency.tolist() == [a['irrep:frequency'] for a in b]
        (True, True)
        """
        cached = self.__dict__.get("_structure_cache")
        if cached is None:
            from ._structure import structure_from_attributes

            group, ins, outs, inner_of = self._structure_context()
            cached = structure_from_attributes(list(self), self.shape, group, ins, outs, inner_of=inner_of)
            self.__dict__["_structure_cache"] = cached
        return cached

    def _structure_context(self):
        """``(group, in irreps, out irreps, inner_of)`` used by :attr:`structure`: the group and
        irrep ids (in order) of the input / output representations when the basis knows them
        (``in_repr``/``out_repr`` or ``in_irrep``/``out_irrep`` attributes), and a callable giving an
        element's intertwiner index from its attributes (None: ``attr.get('inner', 0)``)."""
        from steerable.group import Representation

        ri, ro = getattr(self, "in_repr", None), getattr(self, "out_repr", None)
        if isinstance(ri, Representation) and isinstance(ro, Representation):
            return ri.group, list(ri.irreps), list(ro.irreps), None
        ii, io = getattr(self, "in_irrep", None), getattr(self, "out_irrep", None)
        if isinstance(ii, Representation) and isinstance(io, Representation):
            return ii.group, [ii.id], [io.id], None
        return None, None, None, None

    def _check_idx(self, idx) -> int:
        if isinstance(idx, bool) or not isinstance(idx, (int, np.integer)):
            raise TypeError(f"idx: expected an integer, got {type(idx).__name__}")
        if not 0 <= int(idx) < self.dim:
            raise IndexError(f"idx: expected 0 <= idx < {self.dim}, got {idx}")
        return int(idx)

    __hash__ = torch.nn.Module.__hash__


class AdjointBasis(KernelBasis):
    """``basis`` composed with an orthogonal change of coordinates ``adjoint`` of the base space:
    ``κ'(x) = κ(adjoint · x)``.

    >>> import numpy as np, torch
    >>> from steerable.group import cyclic_group
    >>> from steerable.kernels import AdjointBasis, kernels_CN_act_R2
    >>> G = cyclic_group(4)
    >>> b = kernels_CN_act_R2(G.irrep(1), G.irrep(1), [0., 1.], 0.6, maximum_frequency=3)
    >>> R = np.array([[0., -1.], [1., 0.]])
    >>> a = AdjointBasis(b, R)
    >>> x = torch.randn(4, 2, dtype=torch.float64)
    >>> torch.allclose(a.sample(x), b.sample(x @ torch.tensor(R).T))
    True
    """

    adj: torch.Tensor

    def __init__(self, basis: KernelBasis, adjoint: np.ndarray):
        if not isinstance(basis, KernelBasis):
            raise TypeError(f"basis: expected a KernelBasis, got {type(basis).__name__}")
        adjoint = np.asarray(adjoint, dtype=np.float64)
        n = adjoint.shape[0] if adjoint.ndim == 2 else -1
        if adjoint.ndim != 2 or adjoint.shape != (n, n):
            raise ValueError(f"adjoint: expected a square matrix, got shape {adjoint.shape}")
        if not (np.allclose(adjoint @ adjoint.T, np.eye(n)) and np.allclose(adjoint.T @ adjoint, np.eye(n))):
            raise ValueError("adjoint: the change of basis of the base space must be an orthogonal matrix")
        super().__init__(basis.dim, basis.shape)
        self.basis = basis
        self.register_buffer("adj", torch.tensor(adjoint, dtype=torch.float64), persistent=False)

    def sample(self, points: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        points = _as_points(points, self.adj.shape[0])
        moved = points @ self.adj.to(device=points.device, dtype=points.dtype).T
        return self.basis.sample(moved, out)

    def __getitem__(self, idx: int) -> dict:
        return self.basis[idx]

    def __iter__(self):
        return iter(self.basis)

    @property
    def structure(self):
        """The structure of the composed basis (a change of coordinates changes no element)."""
        return self.basis.structure

    def __eq__(self, other) -> bool:
        if not isinstance(other, AdjointBasis):
            return False
        return self.basis == other.basis and torch.allclose(self.adj.cpu(), other.adj.cpu())

    def __hash__(self) -> int:
        return hash(self.basis) + 1000 * hash(self.adj.cpu().numpy().round(8).tobytes())


class UnionBasis(KernelBasis):
    """The union of bases with the same ``shape``: their elements one after the other.

    Each element's attributes gain ``basis_id`` (which basis), ``basis_idx`` (its index there),
    ``idx`` (its index in the union) and ``shape``.

    >>> import torch
    >>> from steerable.group import cyclic_group
    >>> from steerable.kernels import UnionBasis, kernels_CN_act_R2
    >>> G = cyclic_group(4)
    >>> b1 = kernels_CN_act_R2(G.irrep(0), G.irrep(0), [0.], 0.6, maximum_frequency=2)
    >>> b2 = kernels_CN_act_R2(G.irrep(0), G.irrep(0), [1.], 0.6, maximum_frequency=2)
    >>> u = UnionBasis([b1, b2])
    >>> len(u) == len(b1) + len(b2), u[len(b1)]['basis_id']
    (True, 1)
    """

    def __init__(self, bases_list: Sequence[KernelBasis]):
        bases_list = list(bases_list)
        if len(bases_list) == 0:
            raise EmptyBasisException()
        for b in bases_list:
            if not isinstance(b, KernelBasis):
                raise TypeError(f"bases_list: expected KernelBasis objects, got {type(b).__name__}")
        shape = bases_list[0].shape
        if any(b.shape != shape for b in bases_list):
            raise ValueError(f"bases_list: every basis must have the same shape, got {[b.shape for b in bases_list]}")
        super().__init__(sum(b.dim for b in bases_list), shape)
        self._bases = torch.nn.ModuleList(bases_list)

    @property
    def _members(self) -> list[KernelBasis]:
        """The united bases (``ModuleList`` iterates as plain ``Module``; every entry is a KernelBasis)."""
        return cast(list[KernelBasis], list(self._bases))

    def sample(self, points: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        points = _as_points(points)
        result = torch.cat([b.sample(points) for b in self._members], dim=1)
        return _write_out(result, out)

    @property
    def structure(self):
        """The bases' structures one after the other (:meth:`BasisStructure.cat`)."""
        from ._structure import BasisStructure

        return BasisStructure.cat([b.structure for b in self._members])

    def _decorate(self, attr: dict, i: int, idx: int) -> dict:
        attr = dict(attr)
        attr["shape"] = self.shape
        attr["basis_id"] = i
        attr["basis_idx"] = attr.get("idx")
        attr["idx"] = idx
        return attr

    def __getitem__(self, idx: int) -> dict:
        idx = self._check_idx(idx)
        p = 0
        for i, b in enumerate(self._members):
            if idx < p + b.dim:
                return self._decorate(b[idx - p], i, idx)
            p += b.dim
        raise IndexError(idx)  # pragma: no cover

    def __iter__(self):
        idx = 0
        for i, b in enumerate(self._members):
            for attr in b:
                yield self._decorate(attr, i, idx)
                idx += 1

    def __eq__(self, other) -> bool:
        if not isinstance(other, UnionBasis) or len(self._bases) != len(other._bases):
            return False
        return all(a == b for a, b in zip(self._bases, other._bases))

    def __hash__(self) -> int:
        return sum(hash(b) * (i + 1) ** 2 for i, b in enumerate(self._bases))
