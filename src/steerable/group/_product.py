"""Direct products G1 × G2 (cylinder groups, Klein four, full icosahedral/octahedral, double
groups).

Elements are pairs ``(g1, g2)``; internal value ``[v1, v2]`` concatenated. Parametrisation
``'pair'`` (default): a pair of values in each factor's default parametrisation; escnn's
``'[p1 | p2]'`` strings select each factor's parametrisation.

Irreps: ``(id1, id2)`` is ψ1 ⊗ ψ2 whenever one factor is of real type (its type is the other's).
When both are of complex type, ψ1 ⊗ ψ2 splits into ``(id1, id2, 0)`` (the realification of
ψ1⊗ψ2, eigenvalue -1 of J1⊗J2) and ``(id1, id2, 1)`` (of ψ1⊗ψ̄2, eigenvalue +1). ``(id1, id2, 0)``
is accepted for ``(id1, id2)`` too.

Subgroup ids: ``(id1, id2)`` → H1 × H2 (or just one factor when the other is trivial);
double groups also have ``'diagonal'`` ({(g, g)} ≅ G).
"""

from __future__ import annotations

import numpy as np

from ._group import Group
from ._irrep import IrreducibleRepresentation
from ._linalg import gram_schmidt_columns


class DirectProductGroup(Group):
    """The direct product G1 × G2.

    >>> from steerable.group import cyclic_group, direct_product
    >>> G = direct_product(cyclic_group(2), cyclic_group(3))
    >>> G.order(), G.element((1, 2)) @ G.element((1, 2))
    (6, C2xC3[pair: (0, 1)])
    """

    PARAM = "pair"

    def __init__(self, G1: Group, G2: Group, name: str | None = None):
        super().__init__()
        for arg, g in (("G1", G1), ("G2", G2)):
            if not isinstance(g, Group):
                raise TypeError(f"{arg}: expected a Group, got {type(g).__name__}")
        self._G1, self._G2 = G1, G2
        self._given_name = name
        self._k1 = G1._identity_value().shape[0]
        self.continuous = G1.continuous or G2.continuous
        self.name = name or f"{G1.name}x{G2.name}"
        self.trivial_irrep_id = (G1.trivial_irrep_id, G2.trivial_irrep_id)
        mf = [getattr(g, "maximum_frequency", None) for g in (G1, G2)]
        mf = [m for m in mf if m is not None]
        self.maximum_frequency = max(mf) if mf else None

    @classmethod
    def _instance_key(cls, G1: Group, G2: Group, name: str | None = None):
        for arg, g in (("G1", G1), ("G2", G2)):
            if not isinstance(g, Group):
                raise TypeError(f"{arg}: expected a Group, got {type(g).__name__}")
        return (
            G1,
            G1.maximum_frequency if hasattr(G1, "maximum_frequency") else None,
            G2,
            getattr(G2, "maximum_frequency", None),
            name,
        )

    @property
    def PARAMS(self):
        return ("pair",) + tuple(f"[{a} | {b}]" for a in self.G1.PARAMS for b in self.G2.PARAMS)

    @property
    def G1(self) -> Group:
        """The first factor."""
        return self._G1

    @property
    def G2(self) -> Group:
        """The second factor."""
        return self._G2

    @property
    def abelian(self) -> bool:  # type: ignore[override]  # a class constant on the other groups
        return self.G1.abelian and self.G2.abelian

    @property
    def subgroup_self_id(self):
        return (self.G1.subgroup_self_id, self.G2.subgroup_self_id)

    @property
    def subgroup_trivial_id(self):
        return (self.G1.subgroup_trivial_id, self.G2.subgroup_trivial_id)

    @property
    def subgroup1_id(self):
        """The id of the subgroup G1 × {e}."""
        return (self.G1.subgroup_self_id, self.G2.subgroup_trivial_id)

    @property
    def subgroup2_id(self):
        """The id of the subgroup {e} × G2."""
        return (self.G1.subgroup_trivial_id, self.G2.subgroup_self_id)

    def inclusion1(self, g1):
        """g1 ↦ (g1, e)."""
        return self.pair_elements(g1, self.G2.identity)

    def inclusion2(self, g2):
        """g2 ↦ (e, g2)."""
        return self.pair_elements(self.G1.identity, g2)

    def pair_elements(self, g1, g2):
        """The element (g1, g2)."""
        v1 = self.G1._batch([g1], "g1")[0]
        v2 = self.G2._batch([g2], "g2")[0]
        return self._element(np.concatenate([v1, v2]))

    def split_element(self, g):
        """(g1, g2) of an element g = (g1, g2)."""
        v = self._batch([g], "g")[0]
        return self.G1._element(v[: self._k1]), self.G2._element(v[self._k1 :])

    def testing_elements(self):
        for g1 in self.G1.testing_elements():
            for g2 in self.G2.testing_elements():
                yield self.pair_elements(g1, g2)

    def _irrep_attributes(self, id):
        return {"id1": id[0], "id2": id[1], "i": id[2] if len(id) == 3 else 0}

    def _split_param(self, param):
        p1, p2 = [t.strip() for t in param.strip("[]").split("|")]
        return p1, p2

    def _key(self):
        return (self.G1, self.G2)

    def __reduce__(self):
        from ._factory import direct_product

        return (direct_product, (self.G1, self.G2, self._given_name))

    # arithmetic ------------------------------------------------------------------------------
    def _split(self, a):
        return a[:, : self._k1], a[:, self._k1 :]

    def order(self):
        if self.continuous:
            return -1
        return self.G1.order() * self.G2.order()

    def _identity_value(self):
        return np.concatenate([self.G1._identity_value(), self.G2._identity_value()])

    def _combine(self, a, b):
        a1, a2 = self._split(a)
        b1, b2 = self._split(b)
        return np.concatenate([self.G1._combine(a1, b1), self.G2._combine(a2, b2)], 1)

    def _inverse(self, a):
        a1, a2 = self._split(a)
        return np.concatenate([self.G1._inverse(a1), self.G2._inverse(a2)], 1)

    def _equal(self, a, b):
        a1, a2 = self._split(a)
        b1, b2 = self._split(b)
        return self.G1._equal(a1, b1) & self.G2._equal(a2, b2)

    def _hash_key(self, v):
        return (self.G1._hash_key(v[: self._k1]), self.G2._hash_key(v[self._k1 :]))

    def _all_batch(self):
        a1, a2 = self.G1._all_batch(), self.G2._all_batch()
        return np.concatenate([np.repeat(a1, len(a2), 0), np.tile(a2, (len(a1), 1))], 1)

    def _index_of(self, batch):
        b1, b2 = self._split(batch)
        return self.G1._index_of(b1) * self.G2.order() + self.G2._index_of(b2)

    def _sample_batch(self, n, rng):
        return np.concatenate([self.G1._sample_batch(n, rng), self.G2._sample_batch(n, rng)], 1)

    def _test_batch(self):
        t1, t2 = self.G1._test_batch(), self.G2._test_batch()
        e1, e2 = self.G1._identity_value()[None], self.G2._identity_value()[None]
        rows = [np.concatenate([t1, np.repeat(e2, len(t1), 0)], 1), np.concatenate([np.repeat(e1, len(t2), 0), t2], 1)]
        return np.concatenate(rows, 0)

    def _from_param(self, value, param):
        try:
            v1, v2 = value
        except (TypeError, ValueError):
            raise ValueError(f"value: {self.name} elements are pairs (g1, g2), got {value!r}") from None
        p1, p2 = (None, None) if param == "pair" else self._split_param(param)
        return np.concatenate([self.G1.element(v1, p1)._v, self.G2.element(v2, p2)._v])

    def _to_param(self, v, param):
        p1, p2 = (self.G1.PARAM, self.G2.PARAM) if param == "pair" else self._split_param(param)
        return (self.G1._to_param(v[: self._k1], p1), self.G2._to_param(v[self._k1 :], p2))

    def element(self, value, param=None):
        """``param``: ``'pair'`` (each factor's default) or escnn's ``'[p1 | p2]'``."""
        if isinstance(param, str) and param.startswith("[") and "|" in param and param not in self.PARAMS:
            p1, p2 = self._split_param(param)
            self.G1._check_param(p1)
            self.G2._check_param(p2)
            return super().element(value, f"[{p1} | {p2}]")
        return super().element(value, param)

    # irreps ------------------------------------------------------------------------------------
    def _factor_ids(self, L=None):
        if self.continuous and L is None:
            L = self.maximum_frequency
        l1 = self.G1._irrep_ids(L) if self.G1.continuous else self.G1._irreps_order()
        l2 = self.G2._irrep_ids(L) if self.G2.continuous else self.G2._irreps_order()
        return l1, l2

    def _irrep_ids(self, L=None):
        l1, l2 = self._factor_ids(L)
        out = []
        for a in l1:
            for b in l2:
                if self.G1.irrep(*a).type != "R" and self.G2.irrep(*b).type != "R":
                    out += [(a, b, 0), (a, b, 1)]
                else:
                    out.append((a, b))
        return out

    def _check_irrep_id(self, id):
        if len(id) not in (2, 3):
            return False
        a, b = id[0], id[1]
        a = a if isinstance(a, tuple) else (a,)
        b = b if isinstance(b, tuple) else (b,)
        if not (self.G1._check_irrep_id(a) and self.G2._check_irrep_id(b)):
            return False
        split = self.G1.irrep(*a).type != "R" and self.G2.irrep(*b).type != "R"
        if split:
            return len(id) == 3 and id[2] in (0, 1)
        return len(id) == 2 or id[2] == 0

    def _normalise_irrep_id(self, id, argname="id"):
        if isinstance(id, tuple) and len(id) in (2, 3) and not isinstance(id, IrreducibleRepresentation):
            a, b = id[0], id[1]
            a = a if isinstance(a, tuple) else (a,)
            b = b if isinstance(b, tuple) else (b,)
            id = (a, b) + tuple(id[2:])
            if len(id) == 3 and id[2] == 0:
                try:
                    if self.G1.irrep(*a).type == "R" or self.G2.irrep(*b).type == "R":
                        id = (a, b)
                except ValueError:
                    pass
        return super()._normalise_irrep_id(id, argname)

    def _constituent(self, id):
        """(ψ1, ψ2, V or None): the irrep is Vᵀ (ψ1 ⊗ ψ2) V."""
        p1, p2 = self.G1.irrep(*id[0]), self.G2.irrep(*id[1])
        if len(id) == 2:
            return p1, p2, None
        for p in (p1, p2):
            if p.type == "H":
                raise ValueError(f"id: products of quaternionic irreps are not supported ({id!r})")
        j1, j2 = p1.endomorphism_basis()[1], p2.endomorphism_basis()[1]
        sign = -1.0 if id[2] == 0 else 1.0
        proj = 0.5 * (np.eye(p1.size * p2.size) + sign * np.kron(j1, j2))
        v = gram_schmidt_columns(proj, rank=p1.size * p2.size // 2)
        return p1, p2, v

    def _build_irrep(self, id):
        p1, p2, v = self._constituent(id)
        bl = p1.bandlimit + p2.bandlimit  # e.g. on the diagonal of G×G frequencies add up
        name = f"irrep_[{p1.id},{p2.id}]" + (f"({id[2]})" if len(id) == 3 else "")
        e1, e2 = p1.endomorphism_basis(), p2.endomorphism_basis()
        if v is not None:
            ends = np.stack([np.eye(v.shape[1]), v.T @ np.kron(e1[1], np.eye(p2.size)) @ v])
            return IrreducibleRepresentation(
                self, id, name, size=v.shape[1], type="C", endomorphisms=ends, bandlimit=bl
            )
        if p1.type == "R":
            ends, typ = np.stack([np.kron(np.eye(p1.size), e) for e in e2]), p2.type
        else:
            ends, typ = np.stack([np.kron(e, np.eye(p2.size)) for e in e1]), p1.type
        return IrreducibleRepresentation(
            self, id, name, size=p1.size * p2.size, type=typ, endomorphisms=ends, bandlimit=bl
        )

    def _irrep_matrices(self, id, batch):
        p1, p2, v = self._constituent(id)
        b1, b2 = self._split(batch)
        m1, m2 = p1._matrices(b1), p2._matrices(b2)
        k = np.einsum("nij,nkl->nikjl", m1, m2).reshape(len(batch), p1.size * p2.size, -1)
        if v is None:
            return k
        return v.T @ k @ v

    def _quadrature(self, L):
        q1, w1 = self.G1._quadrature(L)
        q2, w2 = self.G2._quadrature(L)
        pts = np.concatenate([np.repeat(q1, len(q2), 0), np.tile(q2, (len(q1), 1))], 1)
        return pts, np.outer(w1, w2).reshape(-1)

    def _grid(self, type="product", *args, **kwargs):
        """``'regular'`` (finite products: all elements), ``'rand'`` (N random pairs) or
        ``'product'``: the product of the factors' grids, with
        ``G1_type``/``G1_args``/``G2_type``/``G2_args`` keywords (finite factors default to all
        elements)."""
        if type == "rand":
            n = int(args[0] if args else kwargs["N"])
            return self._sample_batch(n, np.random.default_rng(kwargs.get("seed", 0)))
        if type == "regular" and not self.continuous and not args and not kwargs:
            return self._all_batch()
        if type not in ("product", "regular"):
            raise ValueError(f"type: {self.name} has grid types ['regular', 'product', 'rand'], got {type!r}")
        g1 = self.G1._grid(kwargs.get("G1_type", "regular"), *kwargs.get("G1_args", ()))
        g2 = self.G2._grid(kwargs.get("G2_type", "regular"), *kwargs.get("G2_args", ()))
        return np.concatenate([np.repeat(g1, len(g2), 0), np.tile(g2, (len(g1), 1))], 1)

    # subgroups ---------------------------------------------------------------------------------
    def _normalise_subgroup_id(self, id):
        if not (isinstance(id, tuple) and len(id) == 2):
            raise ValueError(
                f"subgroup_id: {id!r} is not a subgroup id of {self.name}; expected a pair "
                "(id1, id2) of subgroup ids of the two factors"
            )
        return (self.G1._normalise_subgroup_id(id[0]), self.G2._normalise_subgroup_id(id[1]))

    def _build_subgroup(self, key):
        from ._factory import direct_product

        H1, i1, r1, _ = self.G1._subgroup_by_key(key[0])
        H2, i2, r2, _ = self.G2._subgroup_by_key(key[1])
        k1 = self._k1
        if H2.order() == 1:
            e2 = self.G2._identity_value()[None]

            def incl(b):
                return np.concatenate([i1(b), np.repeat(e2, len(b), 0)], 1)

            def restr(b):
                h, ok = r1(b[:, :k1])
                return h, ok & self.G2._equal(b[:, k1:], np.repeat(e2, len(b), 0))

            return H1, incl, restr
        if H1.order() == 1:
            e1 = self.G1._identity_value()[None]

            def incl(b):
                return np.concatenate([np.repeat(e1, len(b), 0), i2(b)], 1)

            def restr(b):
                h, ok = r2(b[:, k1:])
                return h, ok & self.G1._equal(b[:, :k1], np.repeat(e1, len(b), 0))

            return H2, incl, restr
        H = direct_product(H1, H2)
        kh = H1._identity_value().shape[0]

        def incl(b):
            return np.concatenate([i1(b[:, :kh]), i2(b[:, kh:])], 1)

        def restr(b):
            h1, ok1 = r1(b[:, :k1])
            h2, ok2 = r2(b[:, k1:])
            return np.concatenate([h1, h2], 1), ok1 & ok2

        return H, incl, restr

    def _coset_representatives(self, key):
        if not self.continuous:
            return super()._coset_representatives(key)
        c1 = self.G1._coset_representatives(key[0])
        c2 = self.G2._coset_representatives(key[1])
        if c1 is None or c2 is None:
            return None
        return np.concatenate([np.repeat(c1, len(c2), 0), np.tile(c2, (len(c1), 1))], 1)


class InversionProduct(DirectProductGroup):
    """{±I} × H for a group H of rotations of R^3 (full icosahedral and octahedral groups,
    cylinder groups): the C_2 factor is the inversion x → -x."""

    def __init__(self, H: Group, name: str):
        from ._factory import cyclic_group

        super().__init__(cyclic_group(2), H, name)

    @classmethod
    def _instance_key(cls, H: Group, name: str):  # type: ignore[override]  # built from one group
        return (H, getattr(H, "maximum_frequency", None), name)

    def __reduce__(self):
        return (inversion_product, (self.G2,))

    def _build_subgroup(self, key):
        H, incl, restr = super()._build_subgroup(key)
        if isinstance(H, DirectProductGroup) and type(H) is DirectProductGroup and H.G1 == self.G1:
            H = inversion_product(H.G2)  # same internal layout: keep the geometry (standard rep)
        return H, incl, restr

    def _standard_matrices(self, batch):
        b1, b2 = self._split(batch)
        sign = np.where(b1[:, 1] > 0.5, -1.0, 1.0)[:, None, None]
        return sign * self._rotation_matrices(b2)

    def _rotation_matrices(self, b2):
        from . import _so3_math as sm
        from ._finite3d import FiniteO3Group
        from ._planar import PlanarGroup
        from ._rot3d import SO3, _so3_subgroup_maps

        H = self.G2
        if isinstance(H, FiniteO3Group):
            return H._standard_matrices(b2)
        if isinstance(H, SO3):
            return sm.quat_to_matrix(b2)
        if isinstance(H, PlanarGroup):
            kind = ("dih", 0.0) if H.flips else ("rot",)
            N = -1 if H.continuous else H.N
            _, incl, _ = _so3_subgroup_maps(kind, N, H.maximum_frequency or 2)
            return sm.quat_to_matrix(incl(b2))
        raise ValueError(f"{self.name} has no standard representation")  # pragma: no cover


_INV_NAMES = {
    "Icosahedral": "FullIcosahedral",
    "Octahedral": "FullOctahedral",
    "Tetrahedral": "Pyritohedral",
    "SO(3)": "O(3)'",
}


def inversion_product(H: Group) -> InversionProduct:
    """{±I} × H (cached)."""
    from ._factory import _cached_inversion_product

    return _cached_inversion_product(H)


def _make_inversion_product(H: Group) -> InversionProduct:
    from ._planar import PlanarGroup

    if isinstance(H, PlanarGroup):
        base = "FullCylindrical" if H.flips else "Cylindrical"
        name = f"{base}{'' if H.continuous else H.N}"
    else:
        name = _INV_NAMES.get(H.name, f"Inv×{H.name}")
    return InversionProduct(H, name)


class DoubleGroup(DirectProductGroup):
    """G × G with the extra subgroup id ``'diagonal'`` ({(g, g)} ≅ G)."""

    def __init__(self, G: Group, name: str | None = None):
        super().__init__(G, G, name or f"Double({G.name})")
        self._double_name = name

    @classmethod
    def _instance_key(cls, G: Group, name: str | None = None):  # type: ignore[override]  # one group
        if not isinstance(G, Group):
            raise TypeError(f"G: expected a Group, got {type(G).__name__}")
        return (G, getattr(G, "maximum_frequency", None), name)

    def __reduce__(self):
        from ._factory import double_group

        return (double_group, (self.G1, self._double_name))

    subgroup_diagonal_id = "diagonal"

    def _normalise_subgroup_id(self, id):
        if id == "diagonal":
            return "diagonal"
        return super()._normalise_subgroup_id(id)

    def _build_subgroup(self, key):
        if key != "diagonal":
            return super()._build_subgroup(key)
        G = self.G1
        k = self._k1

        def incl(b):
            return np.concatenate([b, b], 1)

        def restr(b):
            return b[:, :k], G._equal(b[:, :k], b[:, k:])

        return G, incl, restr
