"""SO(3) and O(3).

SO(3) elements are unit quaternions (scalar last, q ~ -q); internal value: the canonical
quaternion. O(3) elements are ``(parity, rotation)`` with ``(1, R)`` the map ``x -> -R x``;
internal value ``[parity, qx, qy, qz, qw]``.

Irreps: SO(3) ``(l,)`` = the real Wigner D matrix of degree l in the basis of the real spherical
harmonics (``Y_l(R x) = D^l(R) Y_l(x)``; for l = 1 the coordinates are ordered (y, z, x)).
O(3) ``(j, l)``: ``(-1)^(j·parity) D^l``; the standard (vector) representation is ``(1, 1)``.

Subgroup ids (escnn's grammar; an optional trailing element ``adj`` conjugates the subgroup to
``adj⁻¹ H adj``):

SO(3): ``'so3'``; ``'ico'``, ``'octa'``, ``'tetra'``; ``(False, N)`` rotations about z (C_N, or SO(2)
for N = -1); ``(True, N)`` adds the π-rotation about x (D_N, O(2) for N = -1, C_2 for N = 1);
``(θ, N)`` with θ a float: the same with the flip axis at angle θ/2 in the xy plane.

O(3): ``'o3'`` = ``(True, 'so3')``, ``'so3'`` = ``(False, 'so3')``; ``(False, 'ico'|'octa'|'tetra')``;
``(True, 'ico')`` the full icosahedral group, ``(True, 'octa')`` the full octahedral group,
``(True, 'tetra')`` the pyritohedral T×{±I}, ``'fulltetra'`` the full tetrahedral group T_d;
``(False, False|True|θ, N)`` the SO(3) subgroups above; ``(True, False|True|θ, N)`` those times the
inversion {±I} (cylinder groups; ``(True, False, 1)`` is the inversion group, alias
``'inversion'``); ``('cone', N)`` / ``('cone', θ, N)`` rotations about z with the mirrors through
planes containing z (mirror y→-y, or through the axis at θ/2); ``'mirror'`` = ``('cone', π, 1)``
(x→-x); ``'trivial'``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _so3_math as sm
from ._element import GroupElement
from ._group import Group
from ._irrep import IrreducibleRepresentation
from ._representation import Representation

_X_PI = np.array([1.0, 0.0, 0.0, 0.0])  # π-rotation about x


def _zrot(theta: np.ndarray) -> np.ndarray:
    t = np.asarray(theta, dtype=float) / 2
    z = np.zeros_like(t)
    return np.stack([z, z, np.sin(t), np.cos(t)], -1)


def _qeq(a: np.ndarray, b: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    return np.minimum(np.linalg.norm(a - b, axis=-1), np.linalg.norm(a + b, axis=-1)) < tol


def _z_angle(q: np.ndarray):
    """(angle, is-z-rotation mask) of quaternions."""
    ok = np.linalg.norm(q[:, :2], axis=1) < 1e-9
    return np.mod(2 * np.arctan2(q[:, 2], q[:, 3]), 2 * np.pi), ok


_EULER = tuple(
    [a + b + c for a, b, c in ("xyz", "xzy", "yxz", "yzx", "zxy", "zyx", "xyx", "xzx", "yxy", "yzy", "zxz", "zyz")]
)
_EULER = _EULER + tuple(e.upper() for e in _EULER)


class _RotationParams:
    """Parametrisations shared by rotation-valued groups: quaternion, matrix, rotation vector
    and the 24 Euler-angle conventions (scipy's: lower case extrinsic, upper case intrinsic)."""

    PARAMS_ROT = ("Q", "MAT", "EV") + _EULER

    @staticmethod
    def _rot_from(value, param) -> np.ndarray:
        v = np.asarray(value, dtype=float)
        if param in _EULER and param != "ZYZ":
            if v.shape != (3,):
                raise ValueError(f"value: expected 3 Euler angles ({param}), got {value!r}")
            from scipy.spatial.transform import Rotation

            return sm.quat_canonical(Rotation.from_euler(param, v).as_quat())
        if param == "Q":
            if v.shape != (4,) or abs(np.linalg.norm(v) - 1) > 1e-6:
                raise ValueError(f"value: expected a unit quaternion (x, y, z, w), got {value!r}")
            return sm.quat_canonical(v)
        if param == "MAT":
            if v.shape != (3, 3) or not np.allclose(v.T @ v, np.eye(3), atol=1e-6) or np.linalg.det(v) < 0:
                raise ValueError(f"value: expected a 3x3 rotation matrix, got {value!r}")
            return sm.matrix_to_quat(v)
        if param == "EV":
            if v.shape != (3,):
                raise ValueError(f"value: expected a rotation vector of 3 numbers, got {value!r}")
            return sm.axis_angle_to_quat(v)
        if param == "ZYZ":
            if v.shape != (3,):
                raise ValueError(f"value: expected 3 Euler angles (ZYZ), got {value!r}")
            return sm.euler_zyz_to_quat(v)
        raise ValueError(f"param: unknown parametrisation {param!r}")

    @staticmethod
    def _rot_to(q, param):
        if param in _EULER and param != "ZYZ":
            import warnings

            from scipy.spatial.transform import Rotation

            with warnings.catch_warnings():  # gimbal lock: scipy picks valid angles and warns
                warnings.simplefilter("ignore", UserWarning)
                return Rotation.from_quat(np.asarray(q)).as_euler(param)
        if param == "Q":
            return np.array(q)
        if param == "MAT":
            return sm.quat_to_matrix(q)
        if param == "EV":
            return sm.quat_to_axis_angle(q)
        if param == "ZYZ":
            return sm.quat_to_euler_zyz(q)
        raise ValueError(f"param: unknown parametrisation {param!r}")


def _so3_grid(type: str, *args, **kwargs) -> np.ndarray:
    types = ["thomson", "thomson_cube", "ico", "cube", "tetra", "rand"]
    if type == "thomson":
        return sm.grid_thomson(_need_n(args, kwargs, type))
    if type == "thomson_cube":
        n = _need_n(args, kwargs, type)
        return sm.grid_thomson_cube(24 * n)
    if type == "ico":
        return np.array(sm.grid_ico())
    if type == "cube":
        return np.array(sm.grid_cube())
    if type == "tetra":
        return np.array(sm.grid_tetra())
    if type == "rand":
        n = _need_n(args, kwargs, type)
        seed = args[1] if len(args) > 1 else kwargs.get("seed", 0)
        return sm.grid_rand(n, seed)
    raise ValueError(f"type: SO(3) grids are {types}, got {type!r}")


def _need_n(args, kwargs, type):
    n = args[0] if args else kwargs.get("N")
    if n is None or isinstance(n, bool) or int(n) != n or int(n) <= 0:
        raise ValueError(f"N: grid({type!r}, N) needs a positive integer N, got {n!r}")
    return int(n)


# ------------------------------------------------------------------------------------------
# subgroups of SO(3) as (H, inclusion -> quaternions, restriction from quaternions)
# ------------------------------------------------------------------------------------------
def _so3_subgroup_maps(kind: Any, N: int, mf: int):
    """kind: 'so3' | 'ico' | 'octa' | 'tetra' | ('rot',) | ('dih', axis_angle)."""
    from ._factory import (
        cyclic_group,
        dihedral_group,
        ico_group,
        o2_group,
        octa_group,
        so2_group,
        so3_group,
        tetra_group,
    )

    if kind == "so3":
        return so3_group(mf), (lambda b: b), (lambda q: (q, np.ones(len(q), bool)))
    if kind in ("ico", "octa", "tetra"):
        H = {"ico": ico_group, "octa": octa_group, "tetra": tetra_group}[kind]()
        table = H._quats

        def incl(b):
            return table[np.round(b[:, 0]).astype(int)]

        def restr(q):
            dots = np.abs(q @ table.T)
            idx = np.argmax(dots, 1)
            ok = dots[np.arange(len(q)), idx] > 1 - 1e-9
            return idx[:, None].astype(float), ok

        return H, incl, restr
    if kind in ("rot", ("rot",)):
        if N == -1:
            H = so2_group(mf)
            return (
                H,
                (lambda b: sm.quat_canonical(_zrot(b[:, 1]))),
                (lambda q: (lambda a, ok: (np.stack([np.zeros(len(q)), a], 1), ok))(*_z_angle(q))),
            )
        H = cyclic_group(N)
        step = 2 * np.pi / N

        def restr(q):
            a, ok = _z_angle(q)
            k = a / step
            kr = np.round(k)
            ok = ok & (np.abs(k - kr) < 1e-7)
            return np.stack([np.zeros(len(q)), np.mod(kr, N)], 1), ok

        return H, (lambda b: sm.quat_canonical(_zrot(b[:, 1] * step))), restr
    # dihedral: (f, φ) -> R_z(φ + f α) X^f
    alpha = kind[1]
    if N == 1:
        H = cyclic_group(2)
        flipq = sm.quat_canonical(sm.quat_multiply(_zrot(alpha), _X_PI))

        def incl(b):
            out = np.tile(np.array([0.0, 0, 0, 1]), (len(b), 1))
            out[b[:, 1] > 0.5] = flipq
            return out

        def restr(q):
            is_id = _qeq(q, np.array([0.0, 0, 0, 1]))
            is_f = _qeq(q, flipq)
            return np.stack([np.zeros(len(q)), is_f.astype(float)], 1), is_id | is_f

        return H, incl, restr
    H = o2_group(mf) if N == -1 else dihedral_group(N)
    step = 1.0 if N == -1 else 2 * np.pi / N

    def incl_planar(b):
        z = _zrot(b[:, 1] * step + b[:, 0] * alpha)
        f = b[:, 0] > 0.5
        z[f] = sm.quat_multiply(z[f], _X_PI)
        return sm.quat_canonical(z)

    def restr_planar(q):
        qx = sm.quat_multiply(q, _X_PI)  # q X^{-1} (X = X^{-1} as a rotation)
        a0, ok0 = _z_angle(sm.quat_canonical(q))
        a1, ok1 = _z_angle(sm.quat_canonical(qx))
        f = ~ok0 & ok1
        a = np.where(f, np.mod(a1 - alpha, 2 * np.pi), a0)
        ok = ok0 | ok1
        if N != -1:
            k = a / step
            kr = np.round(k)
            ok = ok & (np.abs(k - kr) < 1e-7)
            a = np.mod(kr, N)
        return np.stack([f.astype(float), a], 1), ok

    return H, incl_planar, restr_planar


def _parse_axis_kind(flag, argerr):
    """False -> rotations about z; True -> dihedral with flip about x; float θ -> axis θ/2."""
    if flag is False or flag is None:
        return ("rot",)
    if flag is True:
        return ("dih", 0.0)
    if isinstance(flag, (float, np.floating)):
        return ("dih", float(flag) % (2 * np.pi))
    raise argerr


def _parse_N(N, argerr):
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or not (int(N) == -1 or int(N) > 0):
        raise argerr
    return int(N)


def _split_adj(id, G):
    """Strip a trailing adjoint element of ``G`` from a tuple id."""
    if isinstance(id, tuple) and id and isinstance(id[-1], GroupElement):
        adj = id[-1]
        if adj.group != G:
            raise ValueError(f"subgroup_id: the adjoint element must belong to {G.name}, got {adj.group.name}")
        rest = id[:-1]
        if len(rest) == 1:
            rest = rest[0]
        return rest, tuple(np.round(adj._v, 12))
    return id, None


class SO3(Group, _RotationParams):
    """The rotation group SO(3). ``maximum_frequency`` bounds ``irreps()``.

    >>> import numpy as np
    >>> from steerable.group import so3_group
    >>> G = so3_group(2)
    >>> g = G.sample(seed=0)
    >>> D = G.irrep(2)
    >>> bool(np.allclose(D(g @ g), D(g) @ D(g)))
    True
    """

    PARAM = "Q"
    PARAMS = _RotationParams.PARAMS_ROT
    continuous = True
    trivial_irrep_id = (0,)

    def __init__(self, maximum_frequency: int = 2):
        super().__init__()
        self.maximum_frequency = int(maximum_frequency)
        self.name = "SO(3)"

    @classmethod
    def _instance_key(cls, maximum_frequency: int = 2):
        from ._factory import _check_int

        return _check_int("maximum_frequency", maximum_frequency, 0)

    subgroup_self_id = "so3"
    subgroup_trivial_id = (False, 1)

    def _testing_batch(self):
        return self._grid("ico")  # escnn's: the 60 rotations of the icosahedron

    def _irrep_attributes(self, id):
        return {"frequency": int(id[0])}

    def bl_sphere_representation(self, L: int) -> Representation:
        """Functions on the sphere S² = SO(3)/SO(2) band-limited to degree L."""
        return self.bl_quotient_representation(L, (False, -1))

    def sphere_grid(self, type: str, *args, adj: GroupElement | None = None, **kwargs) -> list[GroupElement]:
        """Points of a sphere grid (see ``_sphere.SPHERE_GRID_TYPES``) as rotations taking the
        north pole to each point (representatives of SO(3)/SO(2)); ``adj`` rotates the grid."""
        return self._elements_of(self._sphere_batch(type, args, kwargs, adj))

    def _sphere_batch(self, type, args, kwargs, adj):
        from ._sphere import points_to_quaternions, sphere_points

        q = points_to_quaternions(sphere_points(type, *args, **kwargs))
        if adj is not None:
            a = self._batch([adj], "adj")[:, -4:]
            q = sm.quat_canonical(sm.quat_multiply(np.repeat(a, len(q), 0), q))
        return q

    def _key(self):
        return ()

    def __reduce__(self):
        from ._factory import so3_group

        return (so3_group, (self.maximum_frequency,))

    def order(self):
        return -1

    def _identity_value(self):
        return np.array([0.0, 0.0, 0.0, 1.0])

    def _combine(self, a, b):
        return sm.quat_canonical(sm.quat_multiply(a, b))

    def _inverse(self, a):
        return sm.quat_canonical(sm.quat_inverse(a))

    def _equal(self, a, b):
        return _qeq(a, b)

    def _from_param(self, value, param):
        return self._rot_from(value, param)

    def _to_param(self, v, param):
        return self._rot_to(v, param)

    def _sample_batch(self, n, rng):
        return sm.random_quaternions(n, rng)

    def _test_batch(self):
        return sm.random_quaternions(2, np.random.default_rng(7))

    def _irrep_ids(self, L=None):
        L = self.maximum_frequency if L is None else L
        return [(l,) for l in range(L + 1)]

    def _check_irrep_id(self, id):
        return len(id) == 1 and int(id[0]) == id[0] and id[0] >= 0 and not isinstance(id[0], bool)

    def _build_irrep(self, id):
        l = int(id[0])
        return IrreducibleRepresentation(self, (l,), f"irrep_{l}", size=2 * l + 1, type="R", bandlimit=l)

    def _irrep_matrices(self, id, batch):
        return sm.wigner_D(int(id[0]), batch)

    def _standard_matrices(self, batch):
        return sm.quat_to_matrix(batch)

    def _quadrature(self, L):
        q, w = sm.quadrature_so3(int(L))
        return np.array(q), np.array(w)

    def _grid(self, type="thomson", *args, **kwargs):
        return _so3_grid(type, *args, **kwargs)

    def _compute_tensor_irreps(self, id1, id2):
        l1, l2 = int(id1[0]), int(id2[0])
        ids, cols = [], []
        for L in range(abs(l1 - l2), l1 + l2 + 1):
            ids.append((L,))
            cols.append(sm.so3_clebsch_gordan(l1, l2, L).reshape((2 * l1 + 1) * (2 * l2 + 1), 2 * L + 1))
        return ids, np.concatenate(cols, axis=1)

    # subgroups ---------------------------------------------------------------------------
    def _coset_representatives(self, key):
        if key[0] == "so3":  # SO(3) itself (any adjoint): index 1
            return self._identity_value()[None]
        return None

    def _normalise_subgroup_id(self, id):
        err = ValueError(
            f"subgroup_id: {id!r} is not a subgroup id of SO(3); expected 'so3', 'ico', 'octa', "
            "'tetra', (False, N), (True, N) or (axis: float, N), optionally followed by an "
            "SO(3) element (adjoint)"
        )
        rest, adj = _split_adj(id, self)
        if rest in ("so3", "ico", "octa", "tetra"):
            return (rest, -1, adj)
        if not isinstance(rest, tuple) or len(rest) != 2:
            raise err
        kind = _parse_axis_kind(rest[0], err)
        N = _parse_N(rest[1], err)
        return (kind, N, adj)

    def _build_subgroup(self, key):
        kind, N, adj = key
        H, incl_q, restr_q = _so3_subgroup_maps(kind, N, self.maximum_frequency)
        if adj is None:
            return H, incl_q, restr_q
        a = np.array(adj)[None]
        ai = sm.quat_inverse(a)

        def incl(b):
            return sm.quat_canonical(sm.quat_multiply(sm.quat_multiply(ai, incl_q(b)), a))

        def restr(q):
            return restr_q(sm.quat_canonical(sm.quat_multiply(sm.quat_multiply(a, q), ai)))

        return H, incl, restr


class O3(Group, _RotationParams):
    """The orthogonal group O(3) = SO(3) × {±I}; elements ``(parity, rotation)``.

    >>> from steerable.group import o3_group
    >>> G = o3_group(2)
    >>> G.irrep(1, 1)(G.element((1, [0.0, 0.0, 0.0, 1.0]))).diagonal().round(12).tolist()
    [-1.0, -1.0, -1.0]
    >>> G.inversion.to("MAT")[0]   # 'MAT' is escnn's pair (parity, rotation matrix)
    1
    """

    PARAM = "Q"
    PARAMS = _RotationParams.PARAMS_ROT
    continuous = True
    trivial_irrep_id = (0, 0)

    def __init__(self, maximum_frequency: int = 3):
        super().__init__()
        self.maximum_frequency = int(maximum_frequency)
        self.name = "O(3)"

    @classmethod
    def _instance_key(cls, maximum_frequency: int = 3):
        from ._factory import _check_int

        return _check_int("maximum_frequency", maximum_frequency, 0)

    subgroup_self_id = "o3"
    subgroup_trivial_id = (False, False, 1)

    @property
    def inversion(self) -> GroupElement:
        """The inversion x -> -x."""
        return self._element(np.array([1.0, 0.0, 0.0, 0.0, 1.0]))

    def _testing_batch(self):
        return self._grid("ico")  # escnn's: the icosahedral rotations, with and without inversion

    def _irreps_order(self):
        L = self.maximum_frequency
        return [(j, l) for j in (0, 1) for l in range(L + 1)]  # escnn's irreps() order

    def _irrep_attributes(self, id):
        return {"frequency": int(id[1]), "inv_frequency": int(id[0])}

    def bl_sphere_representation(self, L: int) -> Representation:
        """Functions on the sphere S² = O(3)/O(2) (the 'cone' subgroup) band-limited to degree L."""
        return self.bl_quotient_representation(L, ("cone", -1))

    def grid_so3(self, type: str, *args, **kwargs) -> list[GroupElement]:
        """An SO(3) grid (``so3_group().grid(type, ...)``) as rotations in O(3)."""
        q = _so3_grid(type, *args, **kwargs)
        return self._elements_of(np.concatenate([np.zeros((len(q), 1)), q], 1))

    def sphere_grid(self, type: str, *args, adj: GroupElement | None = None, **kwargs) -> list[GroupElement]:
        """As ``SO3.sphere_grid``: rotations (parity 0) taking the north pole to each point."""
        from ._factory import so3_group

        q = so3_group()._sphere_batch(type, args, kwargs, None)
        b = np.concatenate([np.zeros((len(q), 1)), q], 1)
        if adj is not None:
            a = self._batch([adj], "adj")
            b = self._combine(np.repeat(a, len(b), 0), b)
        return self._elements_of(b)

    def _key(self):
        return ()

    def __reduce__(self):
        from ._factory import o3_group

        return (o3_group, (self.maximum_frequency,))

    def order(self):
        return -1

    def _identity_value(self):
        return np.array([0.0, 0.0, 0.0, 0.0, 1.0])

    def _combine(self, a, b):
        p = np.mod(a[:, :1] + b[:, :1], 2)
        return np.concatenate([p, sm.quat_canonical(sm.quat_multiply(a[:, 1:], b[:, 1:]))], 1)

    def _inverse(self, a):
        return np.concatenate([a[:, :1], sm.quat_canonical(sm.quat_inverse(a[:, 1:]))], 1)

    def _equal(self, a, b):
        return (a[:, 0] == b[:, 0]) & _qeq(a[:, 1:], b[:, 1:])

    def _from_param(self, value, param):
        if param == "MAT":
            # escnn's form is the pair (parity, rotation matrix); a 3x3 orthogonal matrix works too
            if isinstance(value, tuple) and len(value) == 2:
                p, r = value
                if p not in (0, 1, True, False):
                    raise ValueError(f"value: parity must be 0 or 1, got {p!r}")
                return np.concatenate([[float(p)], self._rot_from(r, "MAT")])
            m = np.asarray(value, dtype=float)
            if m.shape != (3, 3) or not np.allclose(m.T @ m, np.eye(3), atol=1e-6):
                raise ValueError(f"value: expected (parity, rotation matrix) or a 3x3 orthogonal matrix, got {value!r}")
            p = 1.0 if np.linalg.det(m) < 0 else 0.0
            return np.concatenate([[p], sm.matrix_to_quat(m * (-1 if p else 1))])
        try:
            p, r = value
        except (TypeError, ValueError):
            raise ValueError(f"value: O(3) elements are pairs (parity, rotation), got {value!r}") from None
        if p not in (0, 1, True, False):
            raise ValueError(f"value: parity must be 0 or 1, got {p!r}")
        return np.concatenate([[float(p)], self._rot_from(r, param)])

    def _to_param(self, v, param):
        return (int(v[0]), self._rot_to(v[1:], param))  # 'MAT' too: (parity, rotation), as escnn

    def _sample_batch(self, n, rng):
        p = rng.integers(0, 2, n).astype(float)
        return np.concatenate([p[:, None], sm.random_quaternions(n, rng)], 1)

    def _test_batch(self):
        q = sm.random_quaternions(2, np.random.default_rng(7))
        return np.concatenate([np.array([[0.0], [1.0]]), q], 1)

    def _irrep_ids(self, L=None):
        L = self.maximum_frequency if L is None else L
        return [(j, l) for l in range(L + 1) for j in (0, 1)]

    def _check_irrep_id(self, id):
        return len(id) == 2 and id[0] in (0, 1) and int(id[1]) == id[1] and id[1] >= 0

    def _build_irrep(self, id):
        j, l = int(id[0]), int(id[1])
        return IrreducibleRepresentation(self, (j, l), f"irrep_{j},{l}", size=2 * l + 1, type="R", bandlimit=l)

    def _irrep_matrices(self, id, batch):
        d = sm.wigner_D(int(id[1]), batch[:, 1:])
        if id[0] == 1:
            d = d * np.where(batch[:, 0] > 0.5, -1.0, 1.0)[:, None, None]
        return d

    def _standard_matrices(self, batch):
        return sm.quat_to_matrix(batch[:, 1:]) * np.where(batch[:, 0] > 0.5, -1.0, 1.0)[:, None, None]

    def _quadrature(self, L):
        q, w = sm.quadrature_so3(int(L))
        n = len(q)
        pts = np.concatenate([np.repeat([[0.0], [1.0]], n, axis=0), np.tile(q, (2, 1))], 1)
        return pts, np.tile(w, 2) / 2

    def _grid(self, type="thomson", *args, **kwargs):
        if type == "rand":
            n = _need_n(args, kwargs, type)
            seed = args[1] if len(args) > 1 else kwargs.get("seed", 0)
            return self._sample_batch(n, np.random.default_rng(seed))
        q = _so3_grid(type, *args, **kwargs)
        n = len(q)
        return np.concatenate([np.repeat([[0.0], [1.0]], n, axis=0), np.tile(q, (2, 1))], 1)

    def _compute_tensor_irreps(self, id1, id2):
        j = (id1[0] + id2[0]) % 2
        l1, l2 = int(id1[1]), int(id2[1])
        ids, cols = [], []
        for L in range(abs(l1 - l2), l1 + l2 + 1):
            ids.append((j, L))
            cols.append(sm.so3_clebsch_gordan(l1, l2, L).reshape((2 * l1 + 1) * (2 * l2 + 1), 2 * L + 1))
        return ids, np.concatenate(cols, axis=1)

    def _coset_representatives(self, key):
        if key[0] == "o3":
            return self._identity_value()[None]
        if key[0] == "rot" and key[1] == "so3":  # normalised key of 'so3' is ('rot', 'so3', -1, adj)
            return np.array([[0.0, 0, 0, 0, 1], [1.0, 0, 0, 0, 1]])
        return None

    # subgroups ---------------------------------------------------------------------------
    def _normalise_subgroup_id(self, id):
        err = ValueError(
            f"subgroup_id: {id!r} is not a subgroup id of O(3); expected 'o3', 'so3', "
            "(False|True, 'so3'|'ico'|'octa'|'tetra'), 'fulltetra', (False|True, False|True|axis, N), "
            "('cone', N), ('cone', axis, N), 'mirror', 'inversion' or 'trivial', optionally "
            "followed by an O(3) element (adjoint)"
        )
        rest, adj = _split_adj(id, self)
        aliases = {
            "o3": (True, "so3"),
            "so3": (False, "so3"),
            "ico": (False, "ico"),
            "octa": (False, "octa"),
            "tetra": (False, "tetra"),
            "fullico": (True, "ico"),
            "fullocta": (True, "octa"),
            "inversion": (True, False, 1),
            "mirror": ("cone", float(np.pi), 1),
            "trivial": (False, False, 1),
        }
        if isinstance(rest, str):
            if rest == "fulltetra":
                return ("fulltetra", None, None, adj)
            if rest not in aliases:
                raise err
            rest = aliases[rest]
        if not isinstance(rest, tuple):
            raise err
        if len(rest) == 2 and rest[0] in (True, False) and rest[1] in ("so3", "ico", "octa", "tetra"):
            if rest == (True, "so3"):
                return ("o3", None, None, adj)
            return ("inv" if rest[0] else "rot", rest[1], -1, adj)
        if rest and rest[0] == "cone":
            if len(rest) == 2:
                N = rest[1]
                kind = ("dih", float(np.pi))
            elif len(rest) == 3:
                if isinstance(rest[1], bool) or not isinstance(rest[1], (int, float, np.number)):
                    raise err
                kind = ("dih", (float(rest[1]) + np.pi) % (2 * np.pi))
                N = rest[2]
            else:
                raise err
            return ("cone", kind, _parse_N(N, err), adj)
        if len(rest) == 3 and rest[0] in (True, False):
            kind = _parse_axis_kind(rest[1], err)
            return ("inv" if rest[0] else "rot", kind, _parse_N(rest[2], err), adj)
        raise err

    def _build_subgroup(self, key):
        from ._factory import cyclic_group, full_tetra_group, o3_group
        from ._product import inversion_product

        top, kind, N, adj = key
        mf = self.maximum_frequency
        if top == "o3":
            H, incl, restr = o3_group(mf), (lambda b: b), (lambda b: (b, np.ones(len(b), bool)))
        elif top == "fulltetra":
            H = full_tetra_group()
            table = H._table_o3  # (n, 5)

            def incl(b):
                return table[np.round(b[:, 0]).astype(int)]

            def restr(b):
                same_p = b[:, None, 0] == table[None, :, 0]
                dots = np.abs(b[:, 1:] @ table[:, 1:].T) * same_p
                idx = np.argmax(dots, 1)
                ok = dots[np.arange(len(b)), idx] > 1 - 1e-9
                return idx[:, None].astype(float), ok
        elif top == "rot":
            Hr, iq, rq = _so3_subgroup_maps(kind if kind != "so3" else "so3", N, mf)
            H = Hr

            def incl(b, iq=iq):
                return np.concatenate([np.zeros((len(b), 1)), iq(b)], 1)

            def restr(b, rq=rq):
                hb, ok = rq(b[:, 1:])
                return hb, ok & (b[:, 0] < 0.5)
        elif top == "inv":
            if kind == ("rot",) and N == 1:
                H = cyclic_group(2)

                def incl(b):
                    out = np.tile(np.array([0.0, 0, 0, 0, 1]), (len(b), 1))
                    out[:, 0] = b[:, 1]
                    return out

                def restr(b):
                    ok = _qeq(b[:, 1:], np.array([0.0, 0, 0, 1]))
                    return np.stack([np.zeros(len(b)), b[:, 0]], 1), ok
            else:
                Hr, iq, rq = _so3_subgroup_maps(kind, N, mf)
                H = inversion_product(Hr)
                k = Hr._identity_value().shape[0]

                def incl(b, iq=iq):
                    return np.concatenate([b[:, 1:2], iq(b[:, 2:])], 1)

                def restr(b, rq=rq):
                    hb, ok = rq(b[:, 1:])
                    return np.concatenate([np.zeros((len(b), 1)), b[:, :1], hb], 1), ok

                del k
        elif top == "cone":
            Hr, iq, rq = _so3_subgroup_maps(kind, N, mf)
            H = Hr
            # H element -> parity = flip, rotation = dihedral element
            if N == 1:

                def flipbit(b):
                    return b[:, 1]
            else:

                def flipbit(b):
                    return b[:, 0]

            def incl(b, iq=iq):
                return np.concatenate([flipbit(b)[:, None], iq(b)], 1)

            def restr(b, rq=rq):
                hb, ok = rq(b[:, 1:])
                return hb, ok & (flipbit(hb) == b[:, 0])
        else:  # pragma: no cover
            raise ValueError(f"subgroup_id: unknown {key!r}")
        if adj is None:
            return H, incl, restr
        a = np.array(adj)[None]
        ai = self._inverse(a)

        def incl_adj(b, incl=incl):
            x = incl(b)
            return self._combine(np.repeat(ai, len(x), 0), self._combine(x, np.repeat(a, len(x), 0)))

        def restr_adj(b, restr=restr):
            return restr(self._combine(np.repeat(a, len(b), 0), self._combine(b, np.repeat(ai, len(b), 0))))

        return H, incl_adj, restr_adj
