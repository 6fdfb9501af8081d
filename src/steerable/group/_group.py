"""The abstract :class:`Group`: everything that is the same for every compact group.

A concrete group supplies its element arithmetic on *batches of internal values* (float64
arrays ``(n, k)``), its irreps (ids, types, matrices on batches), a quadrature exact for
band-limited functions, and its subgroups. From that, this class derives representations,
restriction, induction, quotients, tensor products, Clebsch–Gordan coefficients and grids.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any

import numpy as np

from ._element import GroupElement
from ._irrep import IrreducibleRepresentation
from ._linalg import isotypic_intertwiners
from ._representation import Representation, _block_diag_single

_INSTANCES: dict = {}


class _GroupMeta(ABCMeta):
    """Calling a group class returns the cached instance for its arguments, so that
    ``CyclicGroup(8) is cyclic_group(8)`` (escnn's groups are singletons too)."""

    _instance_key: Callable[..., Any]  # defined by Group

    def __call__(cls, *args: Any, **kwargs: Any):
        key = cls._instance_key(*args, **kwargs)
        if key is None:
            return super().__call__(*args, **kwargs)
        key = (cls, key)
        if key not in _INSTANCES:
            _INSTANCES[key] = super().__call__(*args, **kwargs)
        return _INSTANCES[key]


class _IrrepId(tuple):
    """An irrep id (a plain tuple) that also answers ``.id`` with itself, so code written for
    lists of irreps (``[p.id for p in G.bl_irreps(L)]``) keeps working on lists of ids."""

    __slots__ = ()

    @property
    def id(self) -> tuple:
        return tuple(self)


class _ComposedSubgroupId(tuple):
    """``(key1, key2)``: the subgroup ``key2`` of the subgroup ``key1`` (``_combine_subgroups``)."""

    __slots__ = ()


class Group(metaclass=_GroupMeta):
    """A compact group with real irreducible representations.

    Groups are immutable values: equal when they are the same group (same type and
    parameters), hashable, picklable. Build them with the factories (``cyclic_group(8)``,
    ``so3_group()``, ...) or escnn's class names (``CyclicGroup(8)``, ``SO3(2)``): both return the
    same cached instance.

    >>> from steerable.group import dihedral_group
    >>> G = dihedral_group(4)
    >>> G.order(), len(G.irreps())
    (8, 5)
    >>> G.irrep(1, 1).size
    2
    """

    PARAM: str = "int"
    PARAMS: tuple = ("int",)
    continuous: bool = False
    abelian: bool = False
    trivial_irrep_id: tuple = (0,)
    name: str = "G"
    maximum_frequency: int | None  # continuous groups: the band limit of their regular representation

    @classmethod
    def _instance_key(cls, *args: Any, **kwargs: Any):
        """Cache key of ``cls(*args, **kwargs)`` (validating the arguments); None: no caching."""
        return None

    def __init__(self) -> None:
        self._irrep_cache: dict = {}
        self._tensor_cache: dict = {}
        self._restrict_cache: dict = {}
        self._subgroup_cache: dict = {}

    # ------------------------------------------------------------------ value semantics
    @abstractmethod
    def _key(self) -> tuple:
        """Content that identifies the group (type parameters)."""

    @abstractmethod
    def __reduce__(self):
        """Pickle as a call to the group's factory."""

    def __eq__(self, other: Any) -> bool:
        return type(self) is type(other) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def __repr__(self) -> str:
        return self.name

    # ------------------------------------------------------------------ element arithmetic
    @abstractmethod
    def _identity_value(self) -> np.ndarray: ...

    @abstractmethod
    def _combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _inverse(self, a: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _equal(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...

    def _hash_key(self, v: np.ndarray) -> Any:
        """Hash key of one internal value; exact for finite groups, coarse (None) otherwise so
        that hashing stays consistent with equality-within-tolerance."""
        if self.continuous:
            return None
        return tuple(int(x) for x in np.round(v))

    @abstractmethod
    def _from_param(self, value: Any, param: str) -> np.ndarray: ...

    @abstractmethod
    def _to_param(self, v: np.ndarray, param: str) -> Any: ...

    @abstractmethod
    def _sample_batch(self, n: int, rng: np.random.Generator) -> np.ndarray: ...

    def _check_param(self, param: str) -> None:
        if param not in self.PARAMS:
            raise ValueError(f"param: {self.name} supports parametrisations {list(self.PARAMS)}, got {param!r}")

    @property
    def identity(self) -> GroupElement:
        return GroupElement._from_internal(self, self._identity_value())

    def element(self, value: Any, param: str | None = None) -> GroupElement:
        """The element with the given value in parametrisation ``param`` (default
        ``self.PARAM``)."""
        param = self.PARAM if param is None else param
        self._check_param(param)
        return GroupElement._from_internal(self, self._from_param(value, param), param)

    def _element(self, v: np.ndarray) -> GroupElement:
        return GroupElement._from_internal(self, v)

    def _elements_of(self, batch: np.ndarray) -> list[GroupElement]:
        return [GroupElement._from_internal(self, v) for v in batch]

    def _batch(self, elements: GroupElement | Sequence[GroupElement], argname: str = "elements") -> np.ndarray:
        if isinstance(elements, GroupElement):
            elements = [elements]
        out = []
        for e in elements:
            if not isinstance(e, GroupElement):
                raise TypeError(f"{argname}: expected GroupElements, got {type(e).__name__}")
            if e.group != self:
                raise ValueError(f"{argname}: expected elements of {self.name}, got one of {e.group.name}")
            out.append(e._v)
        if not out:
            return np.zeros((0, self._identity_value().shape[0]))
        return np.stack(out)

    def sample(self, n: int | None = None, seed: int | None = None):
        """A Haar-random element (``n=None``) or a list of ``n`` of them."""
        rng = np.random.default_rng(seed)
        if n is None:
            return self._element(self._sample_batch(1, rng)[0])
        if int(n) < 0:
            raise ValueError(f"n: expected a non-negative integer, got {n}")
        return self._elements_of(self._sample_batch(int(n), rng))

    @abstractmethod
    def order(self) -> int:
        """Number of elements; -1 for continuous groups."""

    @property
    def elements(self) -> list[GroupElement]:
        """All elements (finite groups only)."""
        if self.continuous:
            raise ValueError(f"{self.name} is continuous: it has no finite list of elements")
        return self._elements_of(self._all_batch())

    def _all_batch(self) -> np.ndarray:
        raise ValueError(f"{self.name} is continuous: it has no finite list of elements")

    @property
    def generators(self) -> list[GroupElement]:
        """Generators (finite groups); for continuous groups, elements generating a dense
        subgroup."""
        return self._elements_of(self._test_batch())

    @abstractmethod
    def _test_batch(self) -> np.ndarray:
        """Generators (finite) or a few fixed generic elements (continuous groups)."""

    # ------------------------------------------------------------------ irreps
    @abstractmethod
    def _irrep_ids(self, L: int | None = None) -> list[tuple]:
        """All irrep ids (finite) or those of frequency <= L (continuous)."""

    @abstractmethod
    def _check_irrep_id(self, id: tuple) -> bool:
        """Whether ``id`` (a tuple) names an irrep of this group."""

    @abstractmethod
    def _build_irrep(self, id: tuple) -> IrreducibleRepresentation: ...

    @abstractmethod
    def _irrep_matrices(self, id: tuple, batch: np.ndarray) -> np.ndarray: ...

    def _normalise_irrep_id(self, id: Any, argname: str = "id") -> tuple:
        if isinstance(id, IrreducibleRepresentation):
            if id.group != self:
                raise ValueError(f"{argname}: irrep of {id.group.name}, expected one of {self.name}")
            return id.id
        if not isinstance(id, tuple):
            id = (id,)
        try:
            ok = self._check_irrep_id(id)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(
                f"{argname}: {id!r} is not an irrep id of {self.name}; expected ids like {self._irrep_ids(2)[:6]}"
            )
        return tuple(_plain(x) for x in id)

    def irrep(self, *id: Any) -> IrreducibleRepresentation:
        """The irrep with the given id (see the group's docstring for its ids)."""
        if len(id) == 1 and isinstance(id[0], tuple):
            id = id[0]
        key = self._normalise_irrep_id(tuple(id))
        if key not in self._irrep_cache:
            self._irrep_cache[key] = self._build_irrep(key)
        return self._irrep_cache[key]

    def irreps(self) -> list[IrreducibleRepresentation]:
        """All irreps (finite groups) or those up to ``maximum_frequency`` (continuous), in
        escnn's order."""
        return [self.irrep(*i) for i in self._irreps_order()]

    def _irreps_order(self) -> list[tuple]:
        """Ids listed by ``irreps()`` (and used, with multiplicities, by regular representations)."""
        return self._irrep_ids(getattr(self, "maximum_frequency", None))

    def bl_irreps(self, L: int) -> list[tuple]:
        """The *ids* of the irreps of frequency (degree) at most ``L``, as in escnn
        (``[G.irrep(*i) for i in G.bl_irreps(L)]`` gives the irreps).

        >>> from steerable.group import o2_group
        >>> o2_group(3).bl_irreps(1)
        [(0, 0), (1, 0), (1, 1)]
        """
        if isinstance(L, bool) or int(L) != L or int(L) < 0:
            raise ValueError(f"L: expected a non-negative integer, got {L!r}")
        return [_IrrepId(i) for i in self._bl_irrep_ids(int(L))]

    def _bl_irrep_ids(self, L: int) -> list[tuple]:
        return self._irrep_ids(L)

    def get_irrep_id(self, psi: Any) -> tuple:
        """The id of ``psi``: an irrep of this group, its id (a tuple, or a bare number for
        one-number ids) or the name of an irrep in ``representations``."""
        if isinstance(psi, IrreducibleRepresentation):
            if psi.group != self:
                raise ValueError(f"psi: irrep of {psi.group.name}, expected one of {self.name}")
            return psi.id
        if isinstance(psi, str):
            rep = self.representations.get(psi)
            if not isinstance(rep, IrreducibleRepresentation):
                raise ValueError(f"psi: {psi!r} names no irrep of {self.name}")
            return rep.id
        if isinstance(psi, tuple):
            return self.irrep(*psi).id
        return self.irrep(psi).id

    @property
    def PARAMETRIZATIONS(self) -> list[str]:
        """The parametrisations ``element(value, param)`` and ``g.to(param)`` accept."""
        return list(self.PARAMS)

    def testing_elements(self):
        """A fixed, finite set of elements for tests (escnn's): all elements of a finite group;
        see each continuous group for its set."""
        if not self.continuous:
            return iter(self.elements)
        return iter(self._elements_of(self._testing_batch()))

    def _testing_batch(self) -> np.ndarray:
        return self._test_batch()

    @property
    def subgroup_self_id(self):
        """The subgroup id of the whole group."""
        raise TypeError(f"{type(self).__name__} must define subgroup_self_id (every steerable group does)")

    @property
    def subgroup_trivial_id(self):
        """The subgroup id of the trivial subgroup {e}."""
        raise TypeError(f"{type(self).__name__} must define subgroup_trivial_id (every steerable group does)")

    # ------------------------------------------------------------------ quadrature & grids
    @abstractmethod
    def _quadrature(self, L: int) -> tuple[np.ndarray, np.ndarray]:
        """Points (internal batch) and weights (sum 1) integrating exactly every matrix entry
        of every irrep of frequency <= L against the Haar measure."""

    def grid(self, type: str = "regular", *args: Any, **kwargs: Any) -> list[GroupElement]:
        """A sampling grid on the group (see each group's ``_grid`` for its types).

        Finite groups: ``'regular'`` (all elements, also the default).
        """
        return self._elements_of(self._grid(type, *args, **kwargs))

    def _grid(self, type: str, *args: Any, **kwargs: Any) -> np.ndarray:
        if type in ("regular", "all") and not self.continuous and not args and not kwargs:
            return self._all_batch()
        if type == "rand" and not self.continuous:
            n = int(args[0]) if args else int(kwargs.get("N", self.order()))
            return self._sample_batch(n, np.random.default_rng(kwargs.get("seed", 0)))
        raise ValueError(f"type: {self.name} has grid types {self._grid_types()}, got {type!r} with args {args}")

    def _grid_types(self) -> list[str]:
        return ["regular", "rand"]

    # ------------------------------------------------------------------ decomposition engine
    def _decompose(
        self,
        mats_fn: Callable[[np.ndarray], np.ndarray],
        bandlimit: int,
        name: str,
        supported_nonlinearities=None,
    ) -> Representation:
        """Decompose the representation whose matrices ``mats_fn`` returns on a batch into
        irreps, giving a :class:`Representation` with an orthogonal change of basis."""
        ids, q = self._decompose_q(mats_fn, bandlimit)
        return Representation(self, name, ids, q, supported_nonlinearities)

    def _decompose_q(self, mats_fn, bandlimit: int) -> tuple[list[tuple], np.ndarray]:
        points, weights = self._quadrature(2 * bandlimit)
        rho = mats_fn(points)
        d = rho.shape[1]
        chi = np.trace(rho, axis1=1, axis2=2)
        ids: list[tuple] = []
        cols: list[np.ndarray] = []
        found = 0
        for jid in self._irrep_ids(bandlimit):
            psi = self.irrep(*jid)
            pm = psi._matrices(points)
            m = float(np.sum(weights * chi * np.trace(pm, axis1=1, axis2=2)))
            m = int(round(m / psi.sum_of_squares_constituents))
            if m <= 0:
                continue
            xs = isotypic_intertwiners(rho, pm, weights, psi.endomorphism_basis(), m)
            if len(xs) != m:
                raise RuntimeError(
                    f"internal: found {len(xs)} of {m} copies of {jid} in a {d}-dim representation of {self.name}"
                )
            for x in xs:
                ids.append(jid)
                cols.append(x)
            found += m * psi.size
            if found == d:
                break
        if found != d:
            raise RuntimeError(
                f"internal: decomposition of a {d}-dim representation of {self.name} found only "
                f"{found} dimensions (band limit {bandlimit} too small?)"
            )
        return ids, np.concatenate(cols, axis=1)

    # ------------------------------------------------------------------ representations
    @cached_property
    def trivial_representation(self) -> IrreducibleRepresentation:
        return self.irrep(*self.trivial_irrep_id)

    @cached_property
    def regular_representation(self) -> Representation:
        """The regular representation (finite groups); for continuous groups the band-limited
        regular representation up to ``maximum_frequency``.

        For finite groups the basis is escnn's: the row of element g in the block of the k-th
        copy of ψ is ``sqrt(d_ψ/|G|) ψ(g)[:, k]``, irreps in the order of ``irreps()``.
        """
        if self.continuous:
            assert self.maximum_frequency is not None  # every continuous group has a band limit
            return self.bl_regular_representation(self.maximum_frequency)
        allv = self._all_batch()
        n = allv.shape[0]
        ids: list = []
        cols = []
        for i in self._irreps_order():
            psi = self.irrep(*i)
            mats = psi._matrices(allv) * np.sqrt(psi.size / n)
            for k in range(psi.size // psi.sum_of_squares_constituents):
                ids.append(i)
                cols.append(mats[:, :, k])
        q = np.concatenate(cols, axis=1)
        nl = {"pointwise", "concatenated"} | self._regular_extra()
        return Representation(self, "regular", ids, q, nl, change_of_basis_inv=q.T)

    def _regular_extra(self) -> set:
        return set()

    def bl_regular_representation(self, L: int) -> Representation:
        """⊕ over irreps ψ of frequency ≤ L of ψ repeated ``size / sum_of_squares_constituents``
        times, with identity change of basis: the Fourier-space regular representation."""
        ids = []
        for i in self.bl_irreps(L):
            psi = self.irrep(*i)
            ids += [psi.id] * (psi.size // psi.sum_of_squares_constituents)
        return Representation(self, f"regular_{L}", ids, None)

    def spectral_regular_representation(self, *irreps: Any, name: str | None = None) -> Representation:
        """The part of the regular representation made of the given irreps (ids or irreps), in
        the spectral basis: each ψ repeated ``size / sum_of_squares_constituents`` times.

        >>> from steerable.group import so2_group
        >>> so2_group(3).spectral_regular_representation((0,), (1,)).irreps
        [(0,), (1,)]
        """
        if name is None:
            name = "regular_[" + "|".join(str(self.get_irrep_id(i)) for i in irreps) + "]"
        return self.spectral_quotient_representation(self.subgroup_trivial_id, *irreps, name=name)

    def bl_quotient_representation(self, L: int, subgroup_id: Any) -> Representation:
        """Functions on G/H band-limited to frequency L: each irrep ψ of ``bl_irreps(L)`` repeated
        its multiplicity in the quotient representation, identity change of basis.

        >>> from steerable.group import so3_group
        >>> so3_group(3).bl_quotient_representation(2, (False, -1)).irreps
        [(0,), (1,), (2,)]
        """
        return self.bl_induced_representation(L, None, subgroup_id, f"quotient[{subgroup_id}]_{L}")

    def bl_induced_representation(self, L: int, repr: Any, subgroup_id: Any, name: str | None = None) -> Representation:
        """Ind_H^G ``repr`` (an irrep of H; None for H's trivial irrep) band-limited to frequency L."""
        X = self.homspace(subgroup_id)
        psi = X.H.trivial_irrep_id if repr is None else X.H._normalise_irrep_id(repr, "repr")
        ids: list = []
        for i in self.bl_irreps(L):
            ids += [tuple(i)] * X.dimension_basis(i, psi)[1]
        if not ids:
            raise ValueError(f"L: no irrep of frequency <= {L} occurs in the induced representation of {psi}")
        if name is None:
            name = f"induced[{subgroup_id}][{X.H.irrep(*psi).name}]_{L}"
        return Representation(self, name, ids, None)

    def spectral_quotient_representation(self, subgroup_id: Any, *irreps: Any, name: str | None = None):
        """The part of the quotient representation on G/H made of the given irreps, in the
        spectral basis (``homspace(subgroup_id).induced_representation`` of H's trivial irrep);
        None when none of the irreps occurs."""
        if name is None:
            name = f"quotient[{subgroup_id}]_[" + "|".join(str(self.get_irrep_id(i)) for i in irreps) + "]"
        X = self.homspace(subgroup_id)
        return X.induced_representation(X.H.trivial_irrep_id, list(irreps), name)

    def _index_of(self, batch: np.ndarray) -> np.ndarray:
        """Index of each element of a batch in ``_all_batch()`` (finite groups)."""
        table = getattr(self, "_index_table", None)
        if table is None:
            table = {self._hash_key(v): i for i, v in enumerate(self._all_batch())}
            self._index_table = table
        return np.array([table[self._hash_key(v)] for v in batch], dtype=int)

    @cached_property
    def standard_representation(self) -> Representation:
        """The natural action on R^n (n = 2 for planar groups, 3 for subgroups of O(3)).

        escnn has it as a method for SO(2), O(2), SO(3), O(3) and as a property for the
        finite groups: both spellings work here, since calling a representation without an
        element returns the representation itself.

        >>> from steerable.group import so3_group
        >>> so3_group().standard_representation() is so3_group().standard_representation
        True
        """
        return self._decompose(self._standard_matrices, 1, "standard")

    def _standard_matrices(self, batch: np.ndarray) -> np.ndarray:
        raise ValueError(f"{self.name} has no standard representation")

    @property
    def representations(self) -> dict:
        """Named representations: irreps (``'irrep_<id>'``), trivial, regular, standard."""
        out: dict[str, Representation] = {f"irrep_{','.join(map(str, p.id))}": p for p in self.irreps()}
        out["trivial"] = self.trivial_representation
        out["regular"] = self.regular_representation
        try:
            out["standard"] = self.standard_representation
        except ValueError:
            pass
        return out

    # ------------------------------------------------------------------ subgroups
    def subgroup(self, id: Any):
        """``(H, inclusion, restriction)`` for the subgroup ``id``.

        ``inclusion(h)`` maps an element of H to G; ``restriction(g)`` maps an element of G to
        H, or returns None when g is not in H. See the group's docstring for its ids.
        """
        H, incl, restr, key = self._subgroup_data(id)

        def inclusion(h: GroupElement) -> GroupElement:
            if not isinstance(h, GroupElement) or h.group != H:
                raise TypeError(f"h: expected an element of {H.name}")
            return self._element(incl(h._v[None])[0])

        def restriction(g: GroupElement):
            if not isinstance(g, GroupElement) or g.group != self:
                raise TypeError(f"g: expected an element of {self.name}")
            hv, mask = restr(g._v[None])
            return H._element(hv[0]) if mask[0] else None

        return H, inclusion, restriction

    def _subgroup_data(self, id: Any):
        """(H, inclusion, restriction, key) for a user-facing subgroup id."""
        return self._subgroup_by_key(self._process_subgroup_id(id))

    def _process_subgroup_id(self, id: Any) -> Any:
        """Canonical key of a subgroup id; idempotent (a key maps to itself), as escnn's."""
        if isinstance(id, _ComposedSubgroupId):
            return id
        known = self.__dict__.setdefault("_known_subgroup_keys", {})
        r = repr(id)  # repr, not ==: True == 1 and 2.0 == 2 but they are different ids
        if r in known:
            return known[r]
        key = self._normalise_subgroup_id(id)
        known[repr(key)] = key
        return key

    def _subgroup_by_key(self, key: Any):
        """Same as ``_subgroup_data`` for an already normalised key."""
        if key not in self._subgroup_cache and isinstance(key, _ComposedSubgroupId):
            H1, i1, r1, _ = self._subgroup_by_key(key[0])
            H, i2, r2, _ = H1._subgroup_by_key(key[1])

            def incl(b, i1=i1, i2=i2):
                return i1(i2(b))

            def restr(b, r1=r1, r2=r2):
                h1, ok1 = r1(b)
                h2, ok2 = r2(h1)
                return h2, ok1 & ok2

            self._subgroup_cache[key] = (H, incl, restr, key)
        if key not in self._subgroup_cache:
            H, incl, restr = self._build_subgroup(key)
            self._subgroup_cache[key] = (H, incl, restr, key)
        return self._subgroup_cache[key]

    @abstractmethod
    def _normalise_subgroup_id(self, id: Any) -> Any:
        """Canonical hashable subgroup id; ValueError naming ``subgroup_id`` when invalid."""

    @abstractmethod
    def _build_subgroup(self, key: Any):
        """(H, inclusion on batches, restriction on batches -> (H batch, mask))."""

    def _combine_subgroups(self, sg_id1: Any, sg_id2: Any) -> _ComposedSubgroupId:
        """The id, in this group, of the subgroup ``sg_id2`` of the subgroup ``sg_id1`` (escnn's)."""
        k1 = self._process_subgroup_id(sg_id1)
        H = self._subgroup_by_key(k1)[0]
        return _ComposedSubgroupId((k1, H._process_subgroup_id(sg_id2)))

    def _coset_reps(self, key: Any) -> np.ndarray | None:
        if isinstance(key, _ComposedSubgroupId):
            return None if self.continuous else Group._coset_representatives(self, key)
        return self._coset_representatives(key)

    def homspace(self, id: Any):
        """The homogeneous space G/H for the subgroup ``id`` (see :class:`HomSpace`)."""
        key = self._process_subgroup_id(id)
        cache = self.__dict__.setdefault("_homspace_cache", {})
        if key not in cache:
            from ._homspace import HomSpace

            cache[key] = HomSpace(self, key, _normalised=True)
        return cache[key]

    def _coset_representatives(self, key: Any) -> np.ndarray | None:
        """Representatives of G/H (internal batch) when H has finite index, else None."""
        if self.continuous:
            return None
        H, incl, restr, _ = self._subgroup_by_key(key)
        allv = self._all_batch()
        _, mask_all = restr(allv)
        n = allv.shape[0]
        seen = np.zeros(n, dtype=bool)
        reps = []
        hv = incl(H._all_batch())
        for i in range(n):
            if seen[i]:
                continue
            reps.append(allv[i])
            coset = self._combine(np.repeat(allv[i : i + 1], hv.shape[0], axis=0), hv)
            seen[self._index_of(coset)] = True
        return np.stack(reps)

    def restrict_representation(self, subgroup_id: Any, repr: Representation) -> Representation:
        """The restriction of ``repr`` to the subgroup ``subgroup_id``, decomposed into the
        subgroup's irreps."""
        if not isinstance(repr, Representation):
            raise TypeError(f"repr: expected a Representation, got {type(repr).__name__}")
        if repr.group != self:
            raise ValueError(f"repr: expected a representation of {self.name}, got one of {repr.group.name}")
        H, _, _, key = self._subgroup_data(subgroup_id)
        ids: list = []
        qs = []
        for i in repr.irreps:
            sub_ids, q = self._restrict_irrep(key, i)
            ids += sub_ids
            qs.append(q)
        q = repr.change_of_basis @ _block_diag_single(qs)
        nl = None
        if repr._declared_nonlinearities is not None and "pointwise" in repr._declared_nonlinearities:
            nl = {"pointwise", "concatenated"}
        return Representation(H, f"{repr.name}|{key}", ids, q, nl)

    def _restrict_irrep(self, key: Any, id: tuple) -> tuple[list, np.ndarray]:
        ck = (key, id)
        if ck not in self._restrict_cache:
            H, incl, _, _ = self._subgroup_by_key(key)
            psi = self.irrep(*id)
            ids, q = H._decompose_q(lambda b: psi._matrices(incl(b)), psi.bandlimit)
            q.setflags(write=False)
            self._restrict_cache[ck] = (ids, q)
        return self._restrict_cache[ck]

    def quotient_representation(
        self,
        subgroup_id: Any,
        representatives: Sequence[GroupElement] | None = None,
        name: str | None = None,
        maximum_frequency: int | None = None,
    ) -> Representation:
        """The representation of G on functions on G/H.

        For finite-index H (finite groups, or e.g. SO(2) in O(2)) this is the permutation
        representation on the cosets (``representatives``: optional coset representatives, one
        per coset, fixing the order of the axes); otherwise the band-limited one (irreps up to
        ``maximum_frequency``, each with multiplicity dim(ψ^H)/type, identity basis).
        """
        H, incl, restr, key = self._subgroup_data(subgroup_id)
        reps = self._representatives(key, representatives)
        if reps is not None:
            return self._decompose(
                self._permutation_on_cosets(key, reps),
                self._coset_bandlimit(reps),
                name if name is not None else f"quotient[{subgroup_id}]",
                {"pointwise", "concatenated", "induced_gate", "induced_norm_1", "induced_gated_1"},
            )
        L = self._default_frequency(maximum_frequency, "maximum_frequency")
        ids = []
        for i in self.bl_irreps(L):
            psi = self.irrep(*i)
            sub_ids, _ = self._restrict_irrep(key, psi.id)
            n_inv = sum(H.irrep(*s).size for s in sub_ids if s == H.trivial_irrep_id)
            ids += [psi.id] * (n_inv // psi.sum_of_squares_constituents)
        return Representation(self, name if name is not None else f"quotient[{key}]_{L}", ids, None)

    def _representatives(self, key: Any, representatives) -> np.ndarray | None:
        """Coset representatives (internal batch): the given ones, checked, or our own."""
        reps = self._coset_reps(key)
        if representatives is None:
            return reps
        given = self._batch(list(representatives), "representatives")
        H, incl, restr, _ = self._subgroup_by_key(key)
        n = len(given)
        if reps is not None and n != len(reps):
            raise ValueError(f"representatives: expected {len(reps)} coset representatives, got {n}")
        if reps is None:
            raise ValueError(
                f"representatives: {key!r} has infinite index in {self.name}; no finite set of representatives exists"
            )
        inv = self._inverse(given)
        for i in range(n):
            _, same = restr(self._combine(np.repeat(inv[i : i + 1], n, 0), given))
            same[i] = False
            if same.any():
                raise ValueError("representatives: two of them lie in the same coset")
        return given

    def _coset_bandlimit(self, reps: np.ndarray) -> int:
        return 0 if not self.continuous else 1

    def _default_frequency(self, L, argname):
        if L is None:
            L = getattr(self, "maximum_frequency", None)
        if L is None or int(L) < 0:
            raise ValueError(f"{argname}: expected a non-negative integer, got {L}")
        return int(L)

    def _permutation_on_cosets(self, key, reps):
        H, incl, restr, _ = self._subgroup_by_key(key)
        k = reps.shape[0]
        inv_reps = self._inverse(reps)

        def mats(batch):
            n = batch.shape[0]
            # g r_j lies in coset i iff r_i^{-1} g r_j in H
            grj = self._combine(np.repeat(batch, k, axis=0), np.tile(reps, (n, 1)))  # (n*k)
            prod = self._combine(np.tile(inv_reps, (n * k, 1)), np.repeat(grj, k, axis=0))
            _, mask = restr(prod)
            mask = mask.reshape(n, k, k)  # [g, j, i]
            return np.transpose(mask, (0, 2, 1)).astype(np.float64)

        return mats

    def induced_representation(
        self,
        subgroup_id: Any,
        repr: Representation,
        representatives: Sequence[GroupElement] | None = None,
        name: str | None = None,
    ) -> Representation:
        """Ind_H^G(repr) for a finite-index subgroup H (finite groups, or e.g. SO(2) ⊂ O(2));
        ``representatives`` optionally fixes the coset representatives (and so the basis)."""
        H, incl, restr, key = self._subgroup_data(subgroup_id)
        if not isinstance(repr, Representation):
            raise TypeError(f"repr: expected a Representation, got {type(repr).__name__}")
        if repr.group != H:
            raise ValueError(f"repr: expected a representation of the subgroup {H.name}, got one of {repr.group.name}")
        reps = self._representatives(key, representatives)
        if reps is None:
            raise ValueError(f"subgroup_id: induction needs a subgroup of finite index; {key!r} of {self.name} is not")
        k = reps.shape[0]
        inv_reps = self._inverse(reps)
        d = repr.size

        def mats(batch):
            n = batch.shape[0]
            grj = self._combine(np.repeat(batch, k, axis=0), np.tile(reps, (n, 1)))
            prod = self._combine(np.tile(inv_reps, (n * k, 1)), np.repeat(grj, k, axis=0))
            hv, mask = restr(prod)  # index [(g, j, i)]
            sig = np.zeros((prod.shape[0], d, d))
            if mask.any():
                sig[mask] = repr._matrices(hv[mask])
            sig = sig.reshape(n, k, k, d, d)  # [g, j, i]
            return np.transpose(sig, (0, 2, 3, 1, 4)).reshape(n, k * d, k * d)

        nl = {f"induced_norm_{d}", f"induced_gated_{d}"} | ({"induced_gate"} if repr.is_trivial() else set())
        if "pointwise" in repr.supported_nonlinearities:  # induced from a permutation representation
            nl |= {"pointwise", "concatenated"}
        return self._decompose(
            mats,
            repr.bandlimit + self._coset_bandlimit(reps),
            name if name is not None else f"induced[{subgroup_id}][{repr.name}]",
            nl,
        )

    # ------------------------------------------------------------------ tensor products & CG
    def _tensor_irreps(self, id1: tuple, id2: tuple) -> tuple[list[tuple], np.ndarray]:
        """Decomposition ψ1 ⊗ ψ2 = C (⊕ ψ_J) Cᵀ: (ids, orthogonal C of size d1*d2)."""
        key = (id1, id2)
        if key not in self._tensor_cache:
            ids, c = self._compute_tensor_irreps(id1, id2)
            c = np.ascontiguousarray(c)
            c.setflags(write=False)
            self._tensor_cache[key] = (ids, c)
        return self._tensor_cache[key]

    def _compute_tensor_irreps(self, id1, id2):
        p1, p2 = self.irrep(*id1), self.irrep(*id2)

        def mats(b):
            a, c = p1._matrices(b), p2._matrices(b)
            return np.einsum("nij,nkl->nikjl", a, c).reshape(b.shape[0], a.shape[1] * c.shape[1], -1)

        return self._decompose_q(mats, p1.bandlimit + p2.bandlimit)

    def tensor_product_decomposition(self, id1: Any, id2: Any) -> list[tuple[tuple, int]]:
        """[(J, multiplicity), ...] for ψ_id1 ⊗ ψ_id2, in the order of the CG basis."""
        ids, _ = self._tensor_irreps(self._normalise_irrep_id(id1, "id1"), self._normalise_irrep_id(id2, "id2"))
        out: list = []
        for j in ids:
            if out and out[-1][0] == j:
                out[-1] = (j, out[-1][1] + 1)
            else:
                out.append((j, 1))
        return out

    def clebsch_gordan(self, id1: Any, id2: Any, idJ: Any) -> np.ndarray:
        """Clebsch–Gordan coefficients C of shape (d1, d2, m, dJ): for every g,
        ``(ψ1(g) ⊗ ψ2(g)) C[:, :, s, :].reshape(d1*d2, dJ) = C[:, :, s, :].reshape(d1*d2, dJ) ψJ(g)``,
        orthonormal over (d1, d2) for each copy s; m = 0 when ψJ does not occur.

        >>> from steerable.group import so3_group
        >>> so3_group().clebsch_gordan(1, 1, 0).shape
        (3, 3, 1, 1)
        """
        i1 = self._normalise_irrep_id(id1, "id1")
        i2 = self._normalise_irrep_id(id2, "id2")
        iJ = self._normalise_irrep_id(idJ, "idJ")
        ids, c = self._tensor_irreps(i1, i2)
        d1, d2, dJ = self.irrep(*i1).size, self.irrep(*i2).size, self.irrep(*iJ).size
        offs = np.cumsum([0] + [self.irrep(*j).size for j in ids])
        blocks = [c[:, offs[k] : offs[k + 1]] for k, j in enumerate(ids) if j == iJ]
        if not blocks:
            return np.zeros((d1, d2, 0, dJ))
        return np.stack(blocks, axis=1).reshape(d1, d2, len(blocks), dJ)

    def _tensor_product_irreps(self, J: Any, l: Any) -> list[tuple[tuple, int]]:
        """escnn's name for :meth:`tensor_product_decomposition`."""
        return self.tensor_product_decomposition(J, l)

    def _clebsh_gordan_coeff(self, m: Any, n: Any, j: Any) -> np.ndarray:
        """escnn's name for :meth:`clebsch_gordan` (shape (d_m, d_n, multiplicity, d_j))."""
        return self.clebsch_gordan(m, n, j)

    def _tensor_representation(self, r1: Representation, r2: Representation) -> Representation:
        if not isinstance(r2, Representation):
            raise TypeError(f"other: expected a Representation, got {type(r2).__name__}")
        if r2.group != self:
            raise ValueError(f"other: expected a representation of {self.name}, got one of {r2.group.name}")
        s1 = [self.irrep(*i).size for i in r1.irreps]
        s2 = [self.irrep(*i).size for i in r2.irreps]
        o1, o2 = np.cumsum([0] + s1), np.cumsum([0] + s2)
        D2 = r2.size
        cols = []
        ids: list = []
        cgs = []
        for a, ia in enumerate(r1.irreps):
            for b, ib in enumerate(r2.irreps):
                rows = ((o1[a] + np.arange(s1[a]))[:, None] * D2 + (o2[b] + np.arange(s2[b]))[None, :]).reshape(-1)
                cols.append(rows)
                jids, c = self._tensor_irreps(ia, ib)
                ids += jids
                cgs.append(c)
        perm = np.zeros((r1.size * r2.size, r1.size * r2.size))
        perm[np.concatenate(cols), np.arange(r1.size * r2.size)] = 1.0
        q = np.kron(r1.change_of_basis, r2.change_of_basis) @ perm @ _block_diag_single(cgs)
        return Representation(self, f"({r1.name})⊗({r2.name})", ids, q)


def _plain(x):
    """numpy scalars -> Python scalars so ids hash and print cleanly."""
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, tuple):
        return tuple(_plain(y) for y in x)
    return x
