"""Tests for steerable.group._so3_math (numerical SO(3) core)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from steerable.group._so3_math import (
    axis_angle_to_quat,
    euler_zyz_to_quat,
    finite_group_table,
    grid_cube,
    grid_ico,
    grid_rand,
    grid_tetra,
    grid_thomson,
    grid_thomson_cube,
    icosahedral_quaternions,
    matrix_to_quat,
    octahedral_quaternions,
    quadrature_so3,
    quat_canonical,
    quat_inverse,
    quat_multiply,
    quat_to_axis_angle,
    quat_to_euler_zyz,
    quat_to_matrix,
    random_quaternions,
    real_spherical_harmonics,
    so3_clebsch_gordan,
    tetrahedral_quaternions,
    wigner_D,
    wigner_D_upto,
)
from steerable.testing import assert_equivariant, matrix_action

ATOL = 1e-12
PHI = 0.5 * (1 + np.sqrt(5))


def rng(seed=0):
    return np.random.default_rng(seed)


def same_rotation(a, b, atol=1e-10):
    """|<a, b>| == 1 elementwise (quaternions equal up to sign)."""
    a = np.asarray(a) / np.linalg.norm(a, axis=-1, keepdims=True)
    b = np.asarray(b) / np.linalg.norm(b, axis=-1, keepdims=True)
    return np.allclose(np.abs(np.sum(a * b, axis=-1)), 1.0, atol=atol)


def quat_index(quats, q):
    d = np.abs(np.asarray(quats) @ np.asarray(q))
    i = int(np.argmax(d))
    return i if d[i] > 1 - 1e-9 else -1


quat_strategy = st.lists(st.floats(-1.0, 1.0, allow_nan=False), min_size=4, max_size=4).filter(
    lambda v: np.linalg.norm(v) > 1e-3
)


# ---------------------------------------------------------------------------
# quaternions
# ---------------------------------------------------------------------------


def test_multiply_matches_matrix_product_and_scipy():
    a, b = random_quaternions(200, rng(1)), random_quaternions(200, rng(2))
    ab = quat_multiply(a, b)
    np.testing.assert_allclose(quat_to_matrix(ab), quat_to_matrix(a) @ quat_to_matrix(b), atol=ATOL)
    ref = (Rotation.from_quat(a) * Rotation.from_quat(b)).as_quat()
    assert same_rotation(ab, ref)
    # broadcasting
    assert quat_multiply(a[:, None], b[None, :5]).shape == (200, 5, 4)


def test_inverse():
    a = random_quaternions(50, rng(3))
    e = quat_canonical(quat_multiply(a, quat_inverse(a)))
    np.testing.assert_allclose(e, np.tile([0, 0, 0, 1.0], (50, 1)), atol=ATOL)
    np.testing.assert_allclose(quat_to_matrix(quat_inverse(a)), quat_to_matrix(a).transpose(0, 2, 1), atol=ATOL)


def test_canonical_sign_rules():
    q = np.array(
        [
            [0.1, 0.2, 0.3, -0.9],
            [0.0, -1.0, 0.0, 0.0],
            [0.0, 0.0, -1.0, 0.0],
            [-0.6, 0.8, 0.0, 0.0],
            [0.0, 0.0, 0.0, -2.0],
        ]
    )
    c = quat_canonical(q)
    np.testing.assert_allclose(np.linalg.norm(c, axis=-1), 1.0)
    assert c[0, 3] > 0
    np.testing.assert_allclose(c[1], [0, 1, 0, 0])
    np.testing.assert_allclose(c[2], [0, 0, 1, 0])
    np.testing.assert_allclose(c[3], [0.6, -0.8, 0, 0])
    np.testing.assert_allclose(c[4], [0, 0, 0, 1])
    a = random_quaternions(100, rng(4))
    np.testing.assert_allclose(quat_canonical(-a), a, atol=ATOL)
    np.testing.assert_allclose(quat_canonical(a), a, atol=ATOL)


@settings(max_examples=100, deadline=None)
@given(quat_strategy)
def test_matrix_roundtrip_hypothesis(v):
    q = quat_canonical(np.array(v))
    R = quat_to_matrix(q)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=ATOL)
    assert np.linalg.det(R) == pytest.approx(1.0)
    assert same_rotation(matrix_to_quat(R), q)
    np.testing.assert_allclose(quat_to_matrix(matrix_to_quat(R)), R, atol=1e-12)


def test_matrix_matches_scipy_and_batches():
    a = random_quaternions(30, rng(5)).reshape(5, 6, 4)
    np.testing.assert_allclose(
        quat_to_matrix(a),
        Rotation.from_quat(a.reshape(-1, 4)).as_matrix().reshape(5, 6, 3, 3),
        atol=ATOL,
    )
    np.testing.assert_allclose(matrix_to_quat(quat_to_matrix(a)), a, atol=1e-12)


def test_euler_zyz():
    a = random_quaternions(300, rng(6))
    e = quat_to_euler_zyz(a)
    assert np.all((e[:, 1] >= 0) & (e[:, 1] <= np.pi))
    np.testing.assert_allclose(euler_zyz_to_quat(e), a, atol=1e-12)

    def Rz(t):
        return Rotation.from_rotvec([0, 0, t]).as_matrix()

    def Ry(t):
        return Rotation.from_rotvec([0, t, 0]).as_matrix()

    al, be, ga = 0.3, 1.1, -2.0
    R = Rz(al) @ Ry(be) @ Rz(ga)
    np.testing.assert_allclose(quat_to_matrix(euler_zyz_to_quat([al, be, ga])), R, atol=ATOL)
    np.testing.assert_allclose(quat_to_euler_zyz(matrix_to_quat(R)), [al, be, ga], atol=1e-12)
    assert same_rotation(euler_zyz_to_quat(e), Rotation.from_euler("ZYZ", e).as_quat())
    # gimbal lock
    for b in (0.0, np.pi):
        q = euler_zyz_to_quat([0.7, b, 0.4])
        e2 = quat_to_euler_zyz(q)
        assert e2[2] == 0.0
        np.testing.assert_allclose(quat_to_matrix(euler_zyz_to_quat(e2)), quat_to_matrix(q), atol=1e-12)


def test_axis_angle():
    a = random_quaternions(300, rng(7))
    v = quat_to_axis_angle(a)
    assert np.all(np.linalg.norm(v, axis=-1) <= np.pi + 1e-12)
    np.testing.assert_allclose(axis_angle_to_quat(v), a, atol=1e-12)
    np.testing.assert_allclose(quat_to_matrix(axis_angle_to_quat(v)), Rotation.from_rotvec(v).as_matrix(), atol=ATOL)
    # small and zero angles, angle pi
    small = np.array([[1e-10, -2e-10, 3e-11], [0.0, 0.0, 0.0], [0, 0, np.pi]])
    np.testing.assert_allclose(quat_to_axis_angle(axis_angle_to_quat(small)), small, atol=1e-15)
    np.testing.assert_allclose(
        quat_to_matrix(axis_angle_to_quat(small)), Rotation.from_rotvec(small).as_matrix(), atol=ATOL
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-3.0, 3.0, allow_nan=False), min_size=3, max_size=3))
def test_axis_angle_roundtrip_hypothesis(v):
    v = np.array(v)
    if np.linalg.norm(v) > np.pi - 1e-6:
        v = v / np.linalg.norm(v) * (np.pi - 1e-3)
    np.testing.assert_allclose(quat_to_axis_angle(axis_angle_to_quat(v)), v, atol=1e-10)


def test_random_quaternions_haar():
    q1 = random_quaternions(20000, rng(8))
    np.testing.assert_allclose(np.linalg.norm(q1, axis=-1), 1.0)
    np.testing.assert_allclose(q1, quat_canonical(q1), atol=1e-15)
    np.testing.assert_array_equal(random_quaternions(5, 3), random_quaternions(5, 3))
    # Haar: mean of D^l vanishes for l >= 1
    for D in wigner_D_upto(2, q1)[1:]:
        assert np.abs(D.mean(axis=0)).max() < 0.03


# ---------------------------------------------------------------------------
# spherical harmonics
# ---------------------------------------------------------------------------


def real_sh_reference(L, xyz):
    """Real SH (no Condon-Shortley phase) from scipy's complex ones."""
    from scipy.special import sph_harm_y

    xyz = xyz / np.linalg.norm(xyz, axis=-1, keepdims=True)
    theta = np.arctan2(np.hypot(xyz[:, 0], xyz[:, 1]), xyz[:, 2])
    phi = np.mod(np.arctan2(xyz[:, 1], xyz[:, 0]), 2 * np.pi)
    cols = []
    for l in range(L + 1):
        for m in range(-l, l + 1):
            Y = sph_harm_y(l, abs(m), theta, phi)
            if m > 0:
                cols.append(np.sqrt(2) * (-1) ** m * Y.real)
            elif m < 0:
                cols.append(np.sqrt(2) * (-1) ** m * Y.imag)
            else:
                cols.append(Y.real)
    return np.stack(cols, axis=-1)


def test_sh_low_degrees():
    x = rng(9).standard_normal((100, 3))
    Y = real_spherical_harmonics(2, x)
    assert Y.shape == (100, 9)
    u = x / np.linalg.norm(x, axis=-1, keepdims=True)
    np.testing.assert_allclose(Y[:, 0], np.sqrt(1 / (4 * np.pi)), atol=ATOL)
    np.testing.assert_allclose(Y[:, 1:4], np.sqrt(3 / (4 * np.pi)) * u[:, [1, 2, 0]], atol=ATOL)
    # scale invariance, batch shape
    np.testing.assert_allclose(real_spherical_harmonics(2, 3.7 * x), Y, atol=ATOL)
    assert real_spherical_harmonics(3, x.reshape(10, 10, 3)).shape == (10, 10, 16)
    # xy-degree 2, m = -2: sqrt(15/4pi) x y
    np.testing.assert_allclose(Y[:, 4], np.sqrt(15 / (4 * np.pi)) * u[:, 0] * u[:, 1], atol=ATOL)


def test_sh_origin():
    Y = real_spherical_harmonics(3, np.zeros((2, 3)))
    np.testing.assert_allclose(Y[:, 0], np.sqrt(1 / (4 * np.pi)))
    assert np.all(Y[:, 1:] == 0)


def test_sh_matches_scipy_to_L20():
    L = 20
    x = rng(10).standard_normal((300, 3))
    x = np.concatenate([x, [[0, 0, 1.0], [0, 0, -2.0], [1e-9, 0, 1.0], [1, 0, 0]]])
    np.testing.assert_allclose(real_spherical_harmonics(L, x), real_sh_reference(L, x), atol=1e-12)


def test_sh_orthonormal():
    L = 12
    # Gauss-Legendre in z x uniform in phi, exact for degree <= 2L
    z, wz = np.polynomial.legendre.leggauss(L + 1)
    nphi = 2 * L + 2
    phi = 2 * np.pi * np.arange(nphi) / nphi
    Z, P = np.meshgrid(z, phi, indexing="ij")
    rho = np.sqrt(1 - Z**2)
    pts = np.stack([rho * np.cos(P), rho * np.sin(P), Z], -1).reshape(-1, 3)
    w = np.repeat(wz, nphi) * (2 * np.pi / nphi)
    Y = real_spherical_harmonics(L, pts)
    G = Y.T @ (w[:, None] * Y)
    np.testing.assert_allclose(G, np.eye((L + 1) ** 2), atol=1e-12)


# ---------------------------------------------------------------------------
# Wigner D
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("l", range(9))
def test_wigner_homomorphism_orthogonality_equivariance(l):
    a, b = random_quaternions(100, rng(11)), random_quaternions(100, rng(12))
    Da, Db = wigner_D(l, a), wigner_D(l, b)
    assert Da.shape == (100, 2 * l + 1, 2 * l + 1)
    np.testing.assert_allclose(wigner_D(l, quat_multiply(a, b)), Da @ Db, atol=ATOL)
    np.testing.assert_allclose(Da @ Da.transpose(0, 2, 1), np.broadcast_to(np.eye(2 * l + 1), Da.shape), atol=ATOL)
    np.testing.assert_allclose(wigner_D(l, -a), Da, atol=ATOL)
    np.testing.assert_allclose(wigner_D(l, quat_inverse(a)), Da.transpose(0, 2, 1), atol=ATOL)
    np.testing.assert_allclose(wigner_D(l, [0, 0, 0, 1.0]), np.eye(2 * l + 1), atol=ATOL)
    # Y_l(R x) = D^l(R) Y_l(x), for the 100 rotations (element i acts by R[i] and Da[i])
    x = torch.as_tensor(rng(13).standard_normal((7, 3)))
    R = quat_to_matrix(a)
    assert_equivariant(
        lambda p: torch.as_tensor(real_spherical_harmonics(l, p.numpy())[:, l * l :]),
        inputs=x,
        elements=range(100),
        in_action=matrix_action(lambda i: R[i], axis=-1),
        out_action=matrix_action(lambda i: Da[i], axis=-1),
        atol=ATOL,
        rtol=0,
    )


def test_wigner_high_degree_and_upto():
    a, b = random_quaternions(50, rng(14)), random_quaternions(50, rng(15))
    Ds_a, Ds_b = wigner_D_upto(10, a), wigner_D_upto(10, b)
    Ds_ab = wigner_D_upto(10, quat_multiply(a, b))
    for l in range(11):
        np.testing.assert_allclose(Ds_a[l], wigner_D(l, a), atol=ATOL)
        np.testing.assert_allclose(Ds_ab[l], Ds_a[l] @ Ds_b[l], atol=ATOL)
        np.testing.assert_allclose(
            Ds_a[l] @ Ds_a[l].transpose(0, 2, 1), np.broadcast_to(np.eye(2 * l + 1), Ds_a[l].shape), atol=ATOL
        )
    # batch shapes
    assert wigner_D(3, a.reshape(5, 10, 4)).shape == (5, 10, 7, 7)
    assert wigner_D_upto(2, a[0])[2].shape == (5, 5)


def test_wigner_D1_is_permuted_rotation():
    a = random_quaternions(20, rng(16))
    P = np.eye(3)[[1, 2, 0]]  # (x, y, z) -> (y, z, x)
    np.testing.assert_allclose(wigner_D(1, a), P @ quat_to_matrix(a) @ P.T, atol=ATOL)


# ---------------------------------------------------------------------------
# Clebsch-Gordan
# ---------------------------------------------------------------------------


def test_clebsch_gordan_intertwines():
    g = random_quaternions(5, rng(17))
    Ds = wigner_D_upto(8, g)
    for l1 in range(5):
        for l2 in range(5):
            K = np.einsum("bij,bkl->bikjl", Ds[l1], Ds[l2]).reshape(
                5, (2 * l1 + 1) * (2 * l2 + 1), (2 * l1 + 1) * (2 * l2 + 1)
            )
            for L in range(abs(l1 - l2), l1 + l2 + 1):
                C = so3_clebsch_gordan(l1, l2, L)
                assert C.shape == (2 * l1 + 1, 2 * l2 + 1, 2 * L + 1)
                assert C.dtype == np.float64
                Cf = C.reshape(-1, 2 * L + 1)
                np.testing.assert_allclose(Cf.T @ Cf, np.eye(2 * L + 1), atol=ATOL)
                np.testing.assert_allclose(K @ Cf, Cf @ Ds[L], atol=ATOL)
                first = Cf.ravel()[np.abs(Cf.ravel()) > 1e-9][0]
                assert first > 0


def test_clebsch_gordan_complete_and_misc():
    # all L together give an orthogonal change of basis of l1 x l2
    l1, l2 = 3, 2
    Q = np.concatenate([so3_clebsch_gordan(l1, l2, L).reshape(35, -1) for L in range(1, 6)], axis=1)
    np.testing.assert_allclose(Q.T @ Q, np.eye(35), atol=ATOL)
    # trivial couplings
    np.testing.assert_allclose(so3_clebsch_gordan(0, 3, 3)[0], np.eye(7), atol=ATOL)
    np.testing.assert_allclose(so3_clebsch_gordan(1, 1, 0)[:, :, 0], np.eye(3) / np.sqrt(3), atol=ATOL)
    for bad in [(1, 1, 3), (3, 1, 1), (-1, 0, 1)]:
        with pytest.raises(ValueError):
            so3_clebsch_gordan(*bad)
    C = so3_clebsch_gordan(2, 2, 2)
    with pytest.raises(ValueError):
        C[0, 0, 0] = 1.0


def test_clebsch_gordan_higher_degree():
    g = random_quaternions(3, rng(18))
    for l1, l2, L in [(6, 5, 9), (8, 8, 16), (7, 7, 0), (10, 9, 4)]:
        C = so3_clebsch_gordan(l1, l2, L).reshape(-1, 2 * L + 1)
        D1, D2, D3 = wigner_D(l1, g), wigner_D(l2, g), wigner_D(L, g)
        K = np.einsum("bij,bkl->bikjl", D1, D2).reshape(3, C.shape[0], C.shape[0])
        np.testing.assert_allclose(K @ C, C @ D3, atol=1e-11)
        np.testing.assert_allclose(C.T @ C, np.eye(2 * L + 1), atol=1e-11)


# ---------------------------------------------------------------------------
# finite subgroups
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn, order", [(octahedral_quaternions, 24), (tetrahedral_quaternions, 12), (icosahedral_quaternions, 60)]
)
def test_finite_group_closure(fn, order):
    G = fn()
    assert G.shape == (order, 4)
    assert not G.flags.writeable
    np.testing.assert_array_equal(G[0], [0, 0, 0, 1.0])
    np.testing.assert_allclose(G, quat_canonical(G), atol=1e-15)
    assert np.array_equal(G, fn())  # deterministic / cached
    # distinct rotations
    d = np.abs(G @ G.T)
    np.fill_diagonal(d, 0)
    assert d.max() < 1 - 1e-6
    table, inv = finite_group_table(G)
    assert table.shape == (order, order)
    # Latin square, identity row/col, inverses
    for row in table:
        assert sorted(row) == list(range(order))
    np.testing.assert_array_equal(table[0], np.arange(order))
    np.testing.assert_array_equal(table[:, 0], np.arange(order))
    np.testing.assert_array_equal(table[np.arange(order), inv], 0)
    # table agrees with products
    prods = quat_multiply(G[:, None], G[None, :])
    assert same_rotation(prods, G[table])
    # associativity
    ijk = table[table[:, :, None], np.arange(order)[None, None, :]]
    ijk2 = table[np.arange(order)[:, None, None], table[None, :, :]]
    np.testing.assert_array_equal(ijk, ijk2)


def element_orders(G):
    table, _ = finite_group_table(G)
    orders = []
    for i in range(len(G)):
        k, j = 1, i
        while j != 0:
            j = table[j, i]
            k += 1
        orders.append(k)
    return orders


def test_finite_group_orientation_and_subgroups():
    O, T, I = octahedral_quaternions(), tetrahedral_quaternions(), icosahedral_quaternions()
    for G, counts in [(O, {1: 1, 2: 9, 3: 8, 4: 6}), (T, {1: 1, 2: 3, 3: 8}), (I, {1: 1, 2: 15, 3: 20, 5: 24})]:
        orders = element_orders(G)
        assert {k: orders.count(k) for k in set(orders)} == counts
    for q in T:
        assert quat_index(O, q) >= 0
        assert quat_index(I, q) >= 0
    # 4-fold axes of O along x, y, z
    for ax in np.eye(3):
        assert quat_index(O, axis_angle_to_quat(ax * np.pi / 2)) >= 0
        assert quat_index(T, axis_angle_to_quat(ax * np.pi)) >= 0
        assert quat_index(I, axis_angle_to_quat(ax * np.pi)) >= 0
    for s in [(1, 1, 1), (1, -1, 1), (-1, -1, 1)]:
        ax = np.array(s) / np.sqrt(3)
        assert quat_index(T, axis_angle_to_quat(ax * 2 * np.pi / 3)) >= 0
    assert quat_index(I, axis_angle_to_quat(np.array([1, 1, 1]) / np.sqrt(3) * 2 * np.pi / 3)) >= 0
    # I maps the icosahedron (0, +-1, +-phi) + cyclic permutations to itself
    base = np.array([[0, s1, s2 * PHI] for s1 in (-1, 1) for s2 in (-1, 1)], dtype=float)
    verts = np.concatenate([np.roll(base, k, axis=1) for k in range(3)])
    for R in quat_to_matrix(I):
        moved = verts @ R.T
        dist = np.linalg.norm(moved[:, None] - verts[None], axis=-1)
        assert np.all(dist.min(axis=1) < 1e-9)
    np.testing.assert_array_equal(grid_cube(), O)
    np.testing.assert_array_equal(grid_tetra(), T)
    np.testing.assert_array_equal(grid_ico(), I)


def test_finite_group_table_rejects_non_group():
    with pytest.raises(ValueError):
        finite_group_table(random_quaternions(5, rng(19)))


# ---------------------------------------------------------------------------
# quadrature
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("L", range(9))
def test_quadrature_exact(L):
    q, w = quadrature_so3(L)
    assert q.shape == (len(w), 4)
    assert w.sum() == pytest.approx(1.0, abs=1e-14)
    assert np.all(w > 0)
    for l, D in enumerate(wigner_D_upto(L, q)):
        expected = np.eye(1) if l == 0 else np.zeros((2 * l + 1, 2 * l + 1))
        np.testing.assert_allclose(np.einsum("n,nij->ij", w, D), expected, atol=1e-12)


def test_quadrature_orthogonality_of_D():
    # degree 2L quadrature integrates products D^l_ij D^l'_kl (Schur orthogonality)
    l = 3
    q, w = quadrature_so3(2 * l)
    D = wigner_D(l, q).reshape(len(w), -1)
    np.testing.assert_allclose(D.T @ (w[:, None] * D), np.eye((2 * l + 1) ** 2) / (2 * l + 1), atol=1e-12)


# ---------------------------------------------------------------------------
# grids
# ---------------------------------------------------------------------------


def min_angle(G):
    d = np.abs(G @ G.T)
    np.fill_diagonal(d, 0)
    return 2 * np.arccos(min(d.max(), 1.0))


def test_grid_rand():
    G = grid_rand(50, seed=3)
    assert G.shape == (50, 4)
    np.testing.assert_array_equal(G, grid_rand(50, seed=3))
    np.testing.assert_allclose(G, quat_canonical(G), atol=1e-15)


@pytest.mark.parametrize("n", [24, 60, 100])
def test_grid_thomson(n):
    G = grid_thomson(n)
    assert G.shape == (n, 4)
    np.testing.assert_allclose(G, quat_canonical(G), atol=1e-15)
    np.testing.assert_array_equal(G, grid_thomson(n))  # deterministic
    assert min_angle(G) > 2.5 * min_angle(grid_rand(n, 0))
    assert min_angle(G) > 0.8 * (np.pi**2 / n) ** (1 / 3)
    if n == 60:  # optimum for 60 is (a conjugate of) the icosahedral group
        assert min_angle(G) > np.radians(70)


@pytest.mark.parametrize("side", ["left", "right"])
def test_grid_thomson_cube_invariant(side):
    n = 96
    G = grid_thomson_cube(n, side=side)
    assert G.shape == (n, 4)
    assert min_angle(G) > np.radians(40)
    O = octahedral_quaternions()
    for g in O:
        moved = quat_multiply(g, G) if side == "left" else quat_multiply(G, g)
        d = np.abs(moved @ G.T)
        assert np.all(d.max(axis=1) > 1 - 1e-9)
    np.testing.assert_allclose(grid_thomson_cube(24), grid_thomson_cube(24), atol=0)
    with pytest.raises(ValueError):
        grid_thomson_cube(50)
