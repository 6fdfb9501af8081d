"""Finite subgroups of O(3) given by their elements: the icosahedral (I, 60), octahedral (O, 24),
tetrahedral (T, 12) and full tetrahedral (T_d, 24) groups.

Orientation (see ``_so3_math``): O has 4-fold axes along x, y, z; T ⊂ O has 2-fold axes along x,
y, z and 3-fold axes along (±1, ±1, ±1); I ⊃ T is the rotation group of the icosahedron with
vertices (0, ±1, ±φ) and cyclic permutations; T_d = T ∪ {-R : R ∈ O \\ T} (reflections included).

Elements are indexed in a fixed order (identity first); internal value ``[index]``.
Parametrisations: ``'Q'`` (quaternion; for T_d the pair (parity, quaternion)), ``'MAT'``,
``'int'`` (the index).

Irreps: found once, exactly, by decomposing the restrictions of the O(3) irreps (j, l) in the
order l = 0, 1, 2, …, j = 0, 1: a central element Σ_c a_c Σ_{g∈c} ρ(g) separates the isotypic
components, each irreducible component's basis is the Gram–Schmidt of its (canonical)
isotypic projector's columns, and ψ(g) = Vᵀ ρ(g) V. Ids follow escnn:

- ico ``(l,)``: 0 → trivial, 1 → the standard 3-dim (from l = 1), 2 → 5-dim (l = 2), 3 → the other
  3-dim, 4 → 4-dim (both from l = 3).
- octa ``(l,)``: 0 → trivial, 1 → standard 3-dim, 2 → 2-dim, -1 → the other 3-dim, 3 → sign.
- tetra ``(l,)``: 0 → trivial, 1 → standard 3-dim, 2 → the 2-dim irrep of complex type.
- full tetra ``(l,)``: 0 → trivial, 3 → sign (det), 1 → standard (the vector representation),
  -1 → the axial vector, 2 → 2-dim.

Subgroup ids: the group's own name (itself), ``'trivial'`` / ``(False, 1)``, ``(False, N)`` the
cyclic subgroup about the N-fold axis (z for N = 2, 4; (1, 1, 1) for N = 3; the vertex
(φ, 0, 1) for N = 5, as escnn), ``(True, N)`` the dihedral one adding the first π-rotation perpendicular to
that axis, ``(True, 1)`` the C_2 of the π-rotation about x, and ``'tetra'`` (T inside O, I or T_d).
"""

from __future__ import annotations

import numpy as np

from . import _so3_math as sm
from ._group import Group
from ._irrep import IrreducibleRepresentation
from ._linalg import gram_schmidt_columns, intertwiner_basis

_PHI = 0.5 * (1 + np.sqrt(5.0))

_IDS = {
    "ico": [(0,), (1,), (2,), (3,), (4,)],
    "octa": [(0,), (1,), (2,), (-1,), (3,)],
    "tetra": [(0,), (1,), (2,)],
    "fulltetra": [(0,), (3,), (-1,), (1,), (2,)],
}
_NAMES = {"ico": "Icosahedral", "octa": "Octahedral", "tetra": "Tetrahedral", "fulltetra": "FullTetrahedral"}
# escnn's irreps() order (also the order of the irreps in regular/quotient representations)
_ORDER = {
    "ico": [(0,), (1,), (2,), (3,), (4,)],
    "octa": [(0,), (1,), (-1,), (2,), (3,)],
    "tetra": [(0,), (1,), (2,)],
    "fulltetra": [(0,), (3,), (-1,), (1,), (2,)],
}


def _elements_o3(kind: str) -> np.ndarray:
    if kind == "ico":
        q = np.array(sm.icosahedral_quaternions())
        return np.concatenate([np.zeros((len(q), 1)), q], 1)
    if kind == "octa":
        q = np.array(sm.octahedral_quaternions())
        return np.concatenate([np.zeros((len(q), 1)), q], 1)
    t = np.array(sm.tetrahedral_quaternions())
    rows = [np.concatenate([np.zeros((len(t), 1)), t], 1)]
    if kind == "fulltetra":
        o = np.array(sm.octahedral_quaternions())
        dots = np.abs(o @ t.T).max(1)
        rest = o[dots < 1 - 1e-9]
        rows.append(np.concatenate([np.ones((len(rest), 1)), rest], 1))
    return np.concatenate(rows, 0)


def _match(batch_o3: np.ndarray, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    same_p = batch_o3[:, None, 0] == table[None, :, 0]
    dots = np.abs(batch_o3[:, 1:] @ table[:, 1:].T) * same_p
    idx = np.argmax(dots, 1)
    ok = dots[np.arange(len(batch_o3)), idx] > 1 - 1e-9
    return idx, ok


def _o3_irrep_on(table: np.ndarray, j: int, l: int) -> np.ndarray:
    d = sm.wigner_D(l, table[:, 1:])
    if j:
        d = d * np.where(table[:, 0] > 0.5, -1.0, 1.0)[:, None, None]
    return d


class FiniteO3Group(Group):
    """A finite subgroup of O(3) (icosahedral, octahedral, tetrahedral, full tetrahedral).

    >>> from steerable.group import ico_group
    >>> G = ico_group()
    >>> G.order(), [p.size for p in G.irreps()]
    (60, [1, 3, 5, 3, 4])
    """

    PARAM = "Q"
    continuous = False
    trivial_irrep_id = (0,)

    def __init__(self, kind: str):
        super().__init__()
        if kind not in _IDS:
            raise ValueError(f"kind: expected one of {sorted(_IDS)}, got {kind!r}")
        self.kind = kind
        self.name = _NAMES[kind]
        self._table_o3 = _elements_o3(kind)
        self._table_o3.setflags(write=False)
        self._quats = self._table_o3[:, 1:]
        self._has_parity = bool((self._table_o3[:, 0] > 0.5).any())
        n = len(self._table_o3)
        prods = np.concatenate(
            [
                np.mod(self._table_o3[:, None, :1] + self._table_o3[None, :, :1], 2),
                sm.quat_multiply(self._quats[:, None, :], self._quats[None, :, :]),
            ],
            -1,
        ).reshape(n * n, 5)
        idx, ok = _match(prods, self._table_o3)
        if not ok.all():  # pragma: no cover - construction is fixed
            raise RuntimeError("internal: element set not closed")
        self._mult = idx.reshape(n, n)
        self._inv = np.argmax(self._mult == 0, axis=1)
        self._irrep_data: dict | None = None

    @property
    def PARAMS(self):
        from ._rot3d import _RotationParams

        return _RotationParams.PARAMS_ROT + ("int",)

    @property
    def subgroup_self_id(self):
        return self.kind

    @property
    def subgroup_trivial_id(self):
        return (False, 1)

    def _irreps_order(self):
        return list(_ORDER[self.kind])

    def _bl_irrep_ids(self, L):
        if self.kind == "ico":  # escnn: ico irreps are labelled by their frequency
            return [(l,) for l in range(min(L, 4) + 1)]
        return list(_ORDER[self.kind])

    def _irrep_attributes(self, id):
        return {"frequency": int(id[0])} if self.kind == "ico" else {}

    def change_param(self, element, p_from: str, p_to: str):
        """Convert an element's value from parametrisation ``p_from`` to ``p_to``."""
        return self.element(element, p_from).to(p_to)

    def _key(self):
        return (self.kind,)

    def __reduce__(self):
        from . import _factory as f

        fn = {"ico": f.ico_group, "octa": f.octa_group, "tetra": f.tetra_group, "fulltetra": f.full_tetra_group}
        return (fn[self.kind], ())

    # arithmetic ------------------------------------------------------------------------------
    def order(self):
        return len(self._table_o3)

    def _identity_value(self):
        return np.zeros(1)

    def _idx(self, a):
        return np.round(a[:, 0]).astype(int)

    def _combine(self, a, b):
        return self._mult[self._idx(a), self._idx(b)][:, None].astype(float)

    def _inverse(self, a):
        return self._inv[self._idx(a)][:, None].astype(float)

    def _equal(self, a, b):
        return self._idx(a) == self._idx(b)

    def _all_batch(self):
        return np.arange(self.order(), dtype=float)[:, None]

    def _index_of(self, batch):
        return self._idx(batch)

    def _sample_batch(self, n, rng):
        return rng.integers(0, self.order(), n).astype(float)[:, None]

    def _test_batch(self):
        gens = {
            "ico": [([0, 0, 1], 2), ([1, 1, 1], 3), ([0, 1, _PHI], 5)],
            "octa": [([0, 0, 1], 4), ([1, 0, 0], 4)],
            "tetra": [([0, 0, 1], 2), ([1, 1, 1], 3)],
            "fulltetra": [([0, 0, 1], 2), ([1, 1, 1], 3)],
        }[self.kind]
        rows = [
            np.concatenate(
                [
                    [0.0],
                    sm.quat_canonical(sm.axis_angle_to_quat(np.array(ax, float) / np.linalg.norm(ax) * 2 * np.pi / n)),
                ]
            )
            for ax, n in gens
        ]
        if self.kind == "fulltetra":
            # a mirror: -(π/2 rotation about z)
            rows.append(np.concatenate([[1.0], sm.quat_canonical(sm.axis_angle_to_quat(np.array([0, 0, np.pi / 2])))]))
        idx, ok = _match(np.array(rows), self._table_o3)
        assert ok.all()
        return idx[:, None].astype(float)

    # parametrisations ------------------------------------------------------------------------
    def _from_param(self, value, param):
        if param == "int":
            if isinstance(value, bool) or int(value) != value or not 0 <= int(value) < self.order():
                raise ValueError(f"value: expected an index in [0, {self.order()}), got {value!r}")
            return np.array([float(int(value))])
        if param == "MAT":
            m = np.asarray(value, dtype=float)
            if m.shape != (3, 3):
                raise ValueError(f"value: expected a 3x3 matrix, got shape {m.shape}")
            p = 1.0 if np.linalg.det(m) < 0 else 0.0
            row = np.concatenate([[p], sm.matrix_to_quat(m * (-1 if p else 1))])
        elif param != "Q":
            from ._rot3d import _RotationParams

            p, r = value if self._has_parity else (0, value)
            row = np.concatenate([[float(p)], _RotationParams._rot_from(r, param)])
        else:
            if self._has_parity:
                try:
                    p, q = value
                except (TypeError, ValueError):
                    raise ValueError(f"value: {self.name} elements are (parity, quaternion), got {value!r}") from None
                row = np.concatenate([[float(p)], np.asarray(q, float)])
            else:
                row = np.concatenate([[0.0], np.asarray(value, float).reshape(-1)])
            if row.shape != (5,):
                raise ValueError(f"value: expected a quaternion (x, y, z, w), got {value!r}")
        idx, ok = _match(row[None], self._table_o3)
        if not ok[0]:
            raise ValueError(f"value: {value!r} is not an element of the {self.name} group")
        return np.array([float(idx[0])])

    def _to_param(self, v, param):
        i = int(round(v[0]))
        if param == "int":
            return i
        row = self._table_o3[i]
        if param == "MAT":
            return sm.quat_to_matrix(row[1:]) * (-1 if row[0] > 0.5 else 1)
        if param != "Q":
            from ._rot3d import _RotationParams

            r = _RotationParams._rot_to(row[1:], param)
            return (int(row[0]), r) if self._has_parity else r
        return (int(row[0]), row[1:].copy()) if self._has_parity else row[1:].copy()

    # irreps ------------------------------------------------------------------------------------
    def _discover(self) -> dict:
        if self._irrep_data is not None:
            return self._irrep_data
        table = self._table_o3
        n = len(table)
        gens = self._test_batch()[:, 0].astype(int)
        classes = self._conjugacy_classes()
        rng = np.random.default_rng(1234)
        coeff = np.zeros(n)
        for c in classes:
            inv_c = frozenset(self._inv[list(c)])
            key = min(min(c), min(inv_c))
            coeff_c = 1.0 + np.random.default_rng(1234 + key).uniform()
            coeff[list(c)] = coeff_c
        del rng
        found: list = []  # (mats, type, ends)
        total = 0.0
        parities = (0, 1) if self._has_parity else (0,)
        for l in range(0, 8):
            for j in parities:
                rho = _o3_irrep_on(table, j, l)
                d = rho.shape[1]
                # remove known isotypic components
                keep = np.eye(d)
                for mats, typ, _ in found:
                    s = {"R": 1, "C": 2, "H": 4}[typ]
                    chi = np.trace(mats, axis1=1, axis2=2)
                    p = mats.shape[1] / (s * n) * np.einsum("n,nij->ij", chi, rho)
                    keep = keep - p
                u = gram_schmidt_columns(keep)
                if u.shape[1] == 0:
                    continue
                z = u.T @ np.einsum("n,nij->ij", coeff, rho) @ u
                z = 0.5 * (z + z.T)
                w, vecs = np.linalg.eigh(z)
                clusters: list = []
                for i, wi in enumerate(w):
                    if clusters and abs(wi - w[clusters[-1][-1]]) < 1e-6 * max(1.0, abs(wi)):
                        clusters[-1].append(i)
                    else:
                        clusters.append([i])
                comps = []
                for cl in clusters:
                    v = u @ vecs[:, cl]
                    proj = v @ v.T
                    basis = gram_schmidt_columns(proj, rank=len(cl))
                    psi = np.einsum("ia,nij,jb->nab", basis, rho, basis)
                    comm = intertwiner_basis(psi[gens], psi[gens])
                    sym = [0.5 * (c + c.T) for c in comm]
                    irreducible = all(np.allclose(sc, sc[0, 0] * np.eye(len(sc)), atol=1e-8) for sc in sym)
                    if not irreducible:
                        continue
                    typ = {1: "R", 2: "C", 4: "H"}[len(comm)]
                    comps.append((psi, typ, comm))
                comps.sort(key=lambda c: c[0].shape[1])
                for psi, typ, comm in comps:
                    found.append((psi, typ, _normalised_endomorphisms(comm)))
                    total += psi.shape[1] ** 2 / {"R": 1, "C": 2, "H": 4}[typ]
                if abs(total - n) < 1e-6:
                    break
            if abs(total - n) < 1e-6:
                break
        if abs(total - n) > 1e-6:  # pragma: no cover
            raise RuntimeError(f"internal: irreps of {self.name} incomplete")
        ids = _IDS[self.kind]
        self._irrep_data = {ids[k]: found[k] for k in range(len(found))}
        for mats, _, _ in found:
            mats.setflags(write=False)
        return self._irrep_data

    def _conjugacy_classes(self) -> list:
        n = self.order()
        seen = np.zeros(n, bool)
        out = []
        for g in range(n):
            if seen[g]:
                continue
            conj = set(self._mult[self._mult[np.arange(n), g], self._inv].tolist())
            for c in conj:
                seen[c] = True
            out.append(frozenset(conj))
        return out

    def _irrep_ids(self, L=None):
        return list(_ORDER[self.kind])

    def _check_irrep_id(self, id):
        return id in _IDS[self.kind]

    def _build_irrep(self, id):
        mats, typ, ends = self._discover()[id]
        return IrreducibleRepresentation(self, id, f"irrep_{id[0]}", size=mats.shape[1], type=typ, endomorphisms=ends)

    def _irrep_matrices(self, id, batch):
        return self._discover()[id][0][self._idx(batch)]

    def _standard_matrices(self, batch):
        rows = self._table_o3[self._idx(batch)]
        return sm.quat_to_matrix(rows[:, 1:]) * np.where(rows[:, 0] > 0.5, -1.0, 1.0)[:, None, None]

    def _quadrature(self, L):
        allv = self._all_batch()
        return allv, np.full(len(allv), 1.0 / len(allv))

    # subgroups ---------------------------------------------------------------------------------
    def _normalise_subgroup_id(self, id):
        # escnn: an optional trailing element ``adj`` conjugates the subgroup to adj⁻¹ H adj
        from ._element import GroupElement

        if isinstance(id, tuple) and id and isinstance(id[-1], GroupElement):
            adj = id[-1]
            if adj.group != self:
                raise ValueError(f"subgroup_id: the adjoint element must belong to {self.name}, got {adj.group.name}")
            rest = id[:-1] if len(id) > 2 else id[0]
            base = self._normalise_base_subgroup_id(rest)
            a = int(round(adj._v[0]))
            return base if a == 0 else ("adj", base, a)
        return self._normalise_base_subgroup_id(id)

    def _normalise_base_subgroup_id(self, id):
        err = ValueError(
            f"subgroup_id: {id!r} is not a subgroup id of {self.name}; expected {self.kind!r}, "
            "'trivial', 'tetra', (False, N) or (True, N) with N an order of a rotation axis"
        )
        if id in (self.kind, "trivial", "tetra"):
            if id == "trivial":
                return (False, 1)  # same subgroup as (False, 1); _build_subgroup unpacks (dihedral, N)
            if id == "tetra" and self.kind not in ("ico", "octa", "fulltetra"):
                if self.kind == "tetra":
                    return "tetra"
                raise err
            return id
        if not (isinstance(id, tuple) and len(id) == 2 and id[0] in (True, False)):
            raise err
        N = id[1]
        if isinstance(N, bool) or not isinstance(N, (int, np.integer)):
            raise err
        axes = self._axes()
        if int(N) == 1:
            return (bool(id[0]), 1)
        if int(N) not in axes:
            raise err
        return (bool(id[0]), int(N))

    def _axes(self):
        return {
            "ico": {2: [0, 0, 1], 3: [1, 1, 1], 5: [_PHI, 0, 1]},  # escnn's axes
            "octa": {2: [0, 0, 1], 3: [1, 1, 1], 4: [0, 0, 1]},
            "tetra": {2: [0, 0, 1], 3: [1, 1, 1]},
            "fulltetra": {2: [0, 0, 1], 3: [1, 1, 1]},
        }[self.kind]

    def _rotation_index(self, axis, angle):
        q = sm.quat_canonical(sm.axis_angle_to_quat(np.asarray(axis, float) / np.linalg.norm(axis) * angle))
        idx, ok = _match(np.concatenate([[0.0], q])[None], self._table_o3)
        assert ok[0]
        return int(idx[0])

    def _build_subgroup(self, key):
        from ._factory import cyclic_group, dihedral_group, tetra_group

        if isinstance(key, tuple) and len(key) == 3 and key[0] == "adj":
            H, incl0, restr0 = self._build_subgroup(key[1])
            a = np.array([[float(key[2])]])
            ai = self._inverse(a)

            def incl(b):
                return self._combine(np.repeat(ai, len(b), 0), self._combine(incl0(b), np.repeat(a, len(b), 0)))

            def restr(b):
                return restr0(self._combine(np.repeat(a, len(b), 0), self._combine(b, np.repeat(ai, len(b), 0))))

            return H, incl, restr
        if key == self.kind:
            return self, (lambda b: b), (lambda b: (b, np.ones(len(b), bool)))
        if key == "tetra":
            H = tetra_group()
            idx, ok = _match(H._table_o3, self._table_o3)
            sub = idx
        else:
            dihedral, N = key
            if key == "trivial" or (not dihedral and N == 1):
                H = cyclic_group(1)
                sub = np.array([0])
            elif dihedral and N == 1:
                H = cyclic_group(2)
                sub = np.array([0, self._rotation_index([1, 0, 0], np.pi)])
            else:
                axis = np.asarray(self._axes()[N], float)
                r = self._rotation_index(axis, 2 * np.pi / N)
                powers = [0]
                for _ in range(N - 1):
                    powers.append(self._mult[powers[-1], r])
                if not dihedral:
                    H = cyclic_group(N)
                    sub = np.array(powers)
                else:
                    H = dihedral_group(N)
                    flip = None
                    for i, row in enumerate(self._table_o3):
                        if row[0] > 0.5 or abs(row[4]) > 1e-9:
                            continue  # not a π-rotation
                        if abs(row[1:4] @ axis) < 1e-9:
                            flip = i
                            break
                    if flip is None:  # pragma: no cover
                        raise ValueError(f"subgroup_id: {self.name} has no D{N} subgroup")
                    sub = np.array(powers + [self._mult[p, flip] for p in powers])
        n_h = len(sub)
        lookup = -np.ones(self.order(), dtype=int)
        lookup[sub] = np.arange(n_h)
        h_all = H._all_batch()

        def incl(b):
            return sub[H._index_of(b)][:, None].astype(float)

        def restr(b):
            k = lookup[self._idx(b)]
            ok = k >= 0
            return h_all[np.maximum(k, 0)], ok

        return H, incl, restr


def _normalised_endomorphisms(comm: np.ndarray) -> np.ndarray:
    """Basis [I, E_1, ...] of an endomorphism algebra, each E orthogonal (EᵀE = I)."""
    d = comm.shape[1]
    basis = [np.eye(d)]
    for c in comm:
        x = c.copy()
        for b in basis:
            x -= np.sum(b * x) / d * b
        nx = np.linalg.norm(x)
        if nx > 1e-8:
            basis.append(x / nx * np.sqrt(d))
        if len(basis) == len(comm):
            break
    return np.stack(basis)


class Icosahedral(FiniteO3Group):
    """The icosahedral rotation group I (order 60); ``Icosahedral()`` is ``ico_group()``.

    >>> from steerable.group import Icosahedral, ico_group
    >>> Icosahedral() is ico_group(), ico_group().ico_vertices_representation.size
    (True, 12)
    """

    def __init__(self):
        super().__init__("ico")

    @classmethod
    def _instance_key(cls):
        return ()

    @property
    def ico_vertices_representation(self):
        """The permutation action on the 12 vertices (quotient by the C5 of a vertex)."""
        return self._named_quotient((False, 5), "ico_vertices")

    @property
    def ico_faces_representation(self):
        """The permutation action on the 20 faces (quotient by the C3 of a face)."""
        return self._named_quotient((False, 3), "ico_faces")

    @property
    def ico_edges_representation(self):
        """The permutation action on the 30 edges (quotient by the C2 of an edge)."""
        return self._named_quotient((False, 2), "ico_edges")

    def _named_quotient(self, sgid, name):
        cache = self.__dict__.setdefault("_named_quotients", {})
        if name not in cache:
            cache[name] = self.quotient_representation(sgid, name=name)
        return cache[name]


class Octahedral(FiniteO3Group):
    """The octahedral (cube) rotation group O (order 24); ``Octahedral()`` is ``octa_group()``."""

    def __init__(self):
        super().__init__("octa")

    @classmethod
    def _instance_key(cls):
        return ()

    _named_quotient = Icosahedral._named_quotient

    @property
    def cube_vertices_representation(self):
        """The permutation action on the 8 vertices of the cube (quotient by a C3)."""
        return self._named_quotient((False, 3), "cube_vertices")

    @property
    def cube_faces_representation(self):
        """The permutation action on the 6 faces of the cube (quotient by a C4)."""
        return self._named_quotient((False, 4), "cube_faces")

    @property
    def cube_edges_representation(self):
        """escnn's "cube edges": the 12 cosets of the C2 of the π-rotation about x."""
        return self._named_quotient((True, 1), "cube_edges")


class Tetrahedral(FiniteO3Group):
    """The tetrahedral rotation group T (order 12); ``Tetrahedral()`` is ``tetra_group()``."""

    def __init__(self):
        super().__init__("tetra")

    @classmethod
    def _instance_key(cls):
        return ()


class FullTetrahedral(FiniteO3Group):
    """The full tetrahedral group T_d (order 24); ``FullTetrahedral()`` is ``full_tetra_group()``."""

    def __init__(self):
        super().__init__("fulltetra")

    @classmethod
    def _instance_key(cls):
        return ()
