"""Representations ρ(g) = Q (⊕ᵢ ψᵢ(g)) Q⁻¹ as immutable, hashable, picklable values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from ._element import GroupElement
from ._linalg import block_diagonal

if TYPE_CHECKING:  # pragma: no cover
    from ._group import Group

ALL_NONLINEARITIES = frozenset({"pointwise", "norm", "gated", "gate", "concatenated", "vectorfield"})


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64, copy=True)
    a.setflags(write=False)
    return a


class Representation:
    """A real orthogonal-up-to-basis representation ``ρ(g) = Q (⊕ ψ_i(g)) Q⁻¹`` of a group.

    It is a value: equal to another representation when the group, the list of irreps and the
    change of basis are equal (names do not matter), hashable, and picklable.

    >>> from steerable.group import cyclic_group
    >>> G = cyclic_group(4)
    >>> rho = G.regular_representation
    >>> rho.size, rho.irreps
    (4, [(0,), (1,), (2,)])
    >>> import numpy as np
    >>> bool(np.allclose(rho(G.element(1)) @ rho(G.element(1)), rho(G.element(2))))
    True
    """

    size: int
    _parts: tuple[Representation, ...]  # the summands of a direct sum without change of basis
    _homspace_psi: Any  # set by HomSpace on the representations it induces
    _homspace_irreps: list

    def __init__(
        self,
        group: Group,
        name: str | None,
        irreps: Sequence[tuple],
        change_of_basis: np.ndarray | None = None,
        supported_nonlinearities: Iterable[str] | None = None,
        representation: Any = None,
        character: Any = None,
        change_of_basis_inv: np.ndarray | None = None,
        **kwargs: Any,
    ):
        from ._group import Group

        # escnn's ``representation``/``character`` arguments only restate Q (⊕ ψ) Q⁻¹; a
        # callable or dict given here is checked against it on a few elements.

        if not isinstance(group, Group):
            raise TypeError(f"group: expected a steerable.group.Group, got {type(group).__name__}")
        irreps = [group._normalise_irrep_id(i, "irreps") for i in irreps]
        if len(irreps) == 0:
            raise ValueError("irreps: a representation needs at least one irrep, got []")
        size = sum(group.irrep(*i).size for i in irreps)
        if change_of_basis is None:
            q = np.eye(size)
        else:
            q = np.asarray(change_of_basis, dtype=np.float64)
            if q.shape != (size, size):
                raise ValueError(
                    f"change_of_basis: expected a ({size}, {size}) matrix for irreps {irreps}, got shape {q.shape}"
                )
        if change_of_basis_inv is None:
            if np.allclose(q.T @ q, np.eye(size), atol=1e-10):
                qinv = q.T
            else:
                cond = np.linalg.cond(q)
                if not np.isfinite(cond) or cond > 1e12:
                    raise ValueError(
                        f"change_of_basis: expected an invertible matrix, got one with condition number {cond:.3g}"
                    )
                qinv = np.linalg.inv(q)
        else:
            qinv = np.asarray(change_of_basis_inv, dtype=np.float64)
        self.group = group
        self.name = name if name is not None else f"{group.name}|[{','.join(map(str, irreps))}]"
        self.irreps = irreps
        self.size = size
        self.change_of_basis = _readonly(q)
        self.change_of_basis_inv = _readonly(qinv)
        self._identity_basis = bool(np.array_equal(q, np.eye(size)))
        self._declared_nonlinearities = (
            frozenset(supported_nonlinearities) if supported_nonlinearities is not None else None
        )
        self.attributes = dict(kwargs)
        if representation is not None:
            self._check_given("representation", representation, lambda g: self(g))
        if character is not None:
            self._check_given("character", character, lambda g: self.character(g))
        if self._declared_nonlinearities is not None:
            unknown = {
                n for n in self._declared_nonlinearities - ALL_NONLINEARITIES if not n.startswith("induced_")
            }  # escnn's induced_norm_<d>, induced_gate, ...
            if unknown:
                raise ValueError(
                    f"supported_nonlinearities: unknown names {sorted(unknown)}; "
                    f"expected a subset of {sorted(ALL_NONLINEARITIES)}"
                )

    # -- evaluation --------------------------------------------------------------------------
    def _matrices(self, batch: np.ndarray) -> np.ndarray:
        """Matrices at a batch of internal element values (n, k) -> (n, size, size)."""
        parts = self.__dict__.get("_parts")
        if parts is not None:  # a direct sum: block by block, no (size x size) products
            return block_diagonal([r._matrices(batch) for r in parts])
        g = self.group
        cache: dict = {}
        blocks = []
        for i in self.irreps:
            if i not in cache:
                cache[i] = g._irrep_matrices(i, batch)
            blocks.append(cache[i])
        b = blocks[0] if len(blocks) == 1 else block_diagonal(blocks)
        if self._identity_basis:
            return b
        return self.change_of_basis @ b @ self.change_of_basis_inv

    def matrices(self, elements: Sequence[GroupElement]) -> np.ndarray:
        """Vectorised evaluation: the matrices (n, size, size) of a sequence of elements."""
        return self._matrices(self.group._batch(elements, "elements"))

    def _check_given(self, argname: str, given: Any, ours) -> None:
        elements = list(self.group.testing_elements())[:8]
        for g in elements:
            value = given[g] if isinstance(given, dict) else given(g)
            if not np.allclose(value, ours(g), atol=1e-8):
                raise ValueError(f"{argname}: differs from change_of_basis (⊕ irreps) change_of_basis⁻¹ at {g}")

    @property
    def irreducible(self) -> bool:
        """Whether this is an :class:`IrreducibleRepresentation` (escnn's flag)."""
        return False

    @property
    def representation(self) -> Representation:
        """The map g ↦ ρ(g) (escnn's attribute; the representation itself is callable)."""
        return self

    def multiplicity(self, irrep: Any) -> int:
        """How many times the irrep ``irrep`` (an id or an irrep) occurs in ``irreps``.

        >>> from steerable.group import cyclic_group
        >>> cyclic_group(4).regular_representation.multiplicity((1,))
        1
        """
        return self.irreps.count(self.group.get_irrep_id(irrep))

    @overload
    def __call__(self, element: GroupElement) -> np.ndarray: ...
    @overload
    def __call__(self, element: None = None) -> Representation: ...

    def __call__(self, element: GroupElement | None = None) -> np.ndarray | Representation:
        """The matrix ρ(g) of one element (float64 numpy array).

        Called without an element it returns the representation itself, so that escnn's
        method spelling ``G.standard_representation()`` works next to the property."""
        if element is None:
            return self
        if not isinstance(element, GroupElement):
            raise TypeError(f"element: expected a GroupElement of {self.group.name}, got {type(element).__name__}")
        if element.group != self.group:
            raise ValueError(f"element: expected an element of {self.group.name}, got one of {element.group.name}")
        return self._matrices(element._v[None])[0]

    def character(self, element: GroupElement) -> float:
        """χ(g) = tr ρ(g)."""
        return float(np.trace(self(element)))

    # -- structure ---------------------------------------------------------------------------
    def is_trivial(self) -> bool:
        return all(self.group.irrep(*i).is_trivial() for i in self.irreps)

    def contains_trivial(self) -> bool:
        return any(self.group.irrep(*i).is_trivial() for i in self.irreps)

    @property
    def bandlimit(self) -> int:
        """Largest frequency/degree among the irreps (0 for finite groups)."""
        return max(self.group.irrep(*i).bandlimit for i in self.irreps)

    @property
    def supported_nonlinearities(self) -> frozenset:
        """Nonlinearities that commute with this representation.

        'gated' always; 'norm' when the change of basis is orthogonal (so norms are invariant);
        'gate' for trivial representations; 'pointwise' and
        'concatenated' for permutation representations (regular, quotient, trivial);
        'vectorfield' for regular representations of cyclic groups.
        """
        s = {"gated"}
        q = np.asarray(self.change_of_basis)
        if np.allclose(q.T @ q, np.eye(self.size), atol=1e-9):
            s.add("norm")  # fibre norms are invariant only in an orthonormal basis
        if self.is_trivial():
            s |= {"gate", "pointwise", "concatenated"}
        if self._declared_nonlinearities is not None:
            s |= set(self._declared_nonlinearities)
        elif self.group.order() > 0 and self._is_permutation():
            s |= {"pointwise", "concatenated"}
        if "concatenated" not in s and self.group.order() > 0 and self._is_permutation(signed=True):
            s.add("concatenated")  # x ↦ (relu(x), relu(-x)) commutes with signed permutations
        return frozenset(s)

    def _is_permutation(self, signed: bool = False) -> bool:
        mats = self._matrices(self.group._test_batch())
        r = np.round(mats)
        if not np.allclose(mats, r, atol=1e-9):
            return False
        if signed:
            r = np.abs(r)
        return bool(np.all((r == 0) | (r == 1)) and np.all(r.sum(axis=1) == 1))

    def restrict(self, subgroup_id: Any) -> Representation:
        """The restriction ρ∘inclusion to the subgroup ``subgroup_id`` (see ``Group.subgroup``)."""
        return self.group.restrict_representation(subgroup_id, self)

    def tensor(self, other: Representation) -> Representation:
        """ρ ⊗ σ decomposed into irreps (via Clebsch–Gordan coefficients)."""
        return self.group._tensor_representation(self, other)

    def endomorphism_basis(self) -> np.ndarray:
        """Basis (k, size, size) of the matrices commuting with ρ."""
        from ._homomorphisms import homomorphism_space

        return homomorphism_space(self, self)

    def irreps_multiplicities(self) -> dict:
        out: dict = {}
        for i in self.irreps:
            out[i] = out.get(i, 0) + 1
        return out

    # -- value semantics ---------------------------------------------------------------------
    def __add__(self, other: Representation) -> Representation:
        return directsum([self, other])

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Representation):
            return False
        return (
            self.group == other.group
            and self.irreps == other.irreps
            and np.allclose(self.change_of_basis, other.change_of_basis, atol=1e-10, rtol=0)
        )

    def __hash__(self) -> int:
        return hash((self.group, tuple(self.irreps), self.size))

    def __repr__(self) -> str:
        return f"{self.group.name}|[{self.name}]:{self.size}"

    def __reduce__(self):
        return (
            _rebuild_representation,
            (
                self.group,
                self.name,
                list(self.irreps),
                np.asarray(self.change_of_basis).copy(),
                None if self._declared_nonlinearities is None else sorted(self._declared_nonlinearities),
            ),
        )


def _rebuild_representation(group, name, irreps, q, nl):
    return Representation(group, name, irreps, q, nl)


def directsum(
    reprs: Sequence[Representation],
    change_of_basis: np.ndarray | None = None,
    name: str | None = None,
) -> Representation:
    """Direct sum ρ₁ ⊕ ρ₂ ⊕ …, optionally followed by a change of basis.

    >>> from steerable.group import so2_group, directsum
    >>> G = so2_group(4)
    >>> directsum([G.irrep(1), G.irrep(2)]).size
    4
    """
    reprs = list(reprs)
    if not reprs:
        raise ValueError("reprs: expected at least one representation, got an empty list")
    for r in reprs:
        if not isinstance(r, Representation):
            raise TypeError(f"reprs: expected Representations, got {type(r).__name__}")
    g = reprs[0].group
    for r in reprs[1:]:
        if r.group != g:
            raise ValueError(f"reprs: all representations must be of the same group; got {g.name} and {r.group.name}")
    irreps: list = []
    for r in reprs:
        irreps += r.irreps
    q = _block_diag_single([r.change_of_basis for r in reprs])
    if change_of_basis is not None:
        cb = np.asarray(change_of_basis, dtype=np.float64)
        if cb.shape != q.shape:
            raise ValueError(f"change_of_basis: expected shape {q.shape} for the sum, got {cb.shape}")
        q = cb @ q
    nl = None
    declared = [r._declared_nonlinearities for r in reprs if r._declared_nonlinearities is not None]
    if change_of_basis is None and len(declared) == len(reprs):
        nl = frozenset.intersection(*declared)
    if name is None:
        name = "+".join(r.name for r in reprs)
    out = Representation(g, name, irreps, q, nl)
    if change_of_basis is None and len(reprs) > 1:
        out._parts = tuple(reprs)
    return out


def _block_diag_single(mats: list[np.ndarray]) -> np.ndarray:
    return block_diagonal([m[None] for m in mats])[0]


def change_basis(
    repr: Representation,
    change_of_basis: np.ndarray,
    name: str | None = None,
    supported_nonlinearities: Iterable[str] | None = None,
) -> Representation:
    """The representation ``Q ρ(g) Q⁻¹``.

    >>> import numpy as np
    >>> from steerable.group import cyclic_group, change_basis
    >>> G = cyclic_group(3)
    >>> rho = change_basis(G.regular_representation, np.eye(3)[[1, 2, 0]], name="shifted")
    >>> rho.name
    'shifted'
    """
    if not isinstance(repr, Representation):
        raise TypeError(f"repr: expected a Representation, got {type(repr).__name__}")
    cb = np.asarray(change_of_basis, dtype=np.float64)
    if cb.shape != (repr.size, repr.size):
        raise ValueError(f"change_of_basis: expected a ({repr.size}, {repr.size}) matrix, got shape {cb.shape}")
    cond = np.linalg.cond(cb)
    if not np.isfinite(cond) or cond > 1e12:
        raise ValueError(f"change_of_basis: expected an invertible matrix, got condition number {cond:.3g}")
    return Representation(
        repr.group,
        name if name is not None else f"{repr.name}'",
        repr.irreps,
        cb @ repr.change_of_basis,
        supported_nonlinearities,
    )


def disentangle(repr: Representation) -> tuple[np.ndarray, list[Representation]]:
    """Split ``repr`` into the finest direct sum of representations that needs no change of basis
    across them: returns ``(Q, [ρ₁, ρ₂, …])``, Q a permutation matrix with
    ``repr = Qᵀ (ρ₁ ⊕ ρ₂ ⊕ …) Q`` (escnn's convention), each ρ_i a
    representation whose change of basis cannot be split further (the blocks of rows/columns
    of repr.change_of_basis connected through irreps).

    >>> from steerable.group import cyclic_group, disentangle
    >>> G = cyclic_group(4)
    >>> q, parts = disentangle(G.regular_representation + G.irrep(1))
    >>> [p.size for p in parts]
    [4, 2]
    """
    if not isinstance(repr, Representation):
        raise TypeError(f"repr: expected a Representation, got {type(repr).__name__}")
    g = repr.group
    q = repr.change_of_basis
    # columns of Q grouped by irreps; rows connect irreps that share non-zero entries
    sizes = [g.irrep(*i).size for i in repr.irreps]
    starts = np.cumsum([0] + sizes)
    n_ir = len(sizes)
    parent = list(range(n_ir))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    nz = np.abs(q) > 1e-12
    row_owner = -np.ones(repr.size, dtype=int)
    for k in range(n_ir):
        rows = np.flatnonzero(nz[:, starts[k] : starts[k + 1]].any(axis=1))
        for r in rows:
            if row_owner[r] < 0:
                row_owner[r] = k
            else:
                ra, rb = find(row_owner[r]), find(k)
                if ra != rb:
                    parent[rb] = ra
    groups: dict[int, list[int]] = {}
    for k in range(n_ir):
        groups.setdefault(find(k), []).append(k)
    comps = sorted(groups.values(), key=lambda ks: ks[0])
    parts = []
    row_perm: list[int] = []
    col_perm: list[int] = []
    for ks in comps:
        cols = np.concatenate([np.arange(starts[k], starts[k + 1]) for k in ks])
        rows = np.flatnonzero(nz[:, cols].any(axis=1))
        sub = q[np.ix_(rows, cols)]
        parts.append(Representation(g, None, [repr.irreps[k] for k in ks], sub))
        row_perm += list(rows)
        col_perm += list(cols)
    p = np.zeros((repr.size, repr.size))
    p[row_perm, np.arange(repr.size)] = 1.0
    return p.T, parts
