"""G-spaces: factories, base-space action, grid symmetries, signal/point transforms, restriction,
pickling and input validation."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from steerable import group as sg
from steerable import gspaces
from steerable.gspaces import grid_coordinates, is_signed_permutation, transform_grid

ADJ = sg.o3_group().element((0, [0.0, np.sin(0.3), 0.0, np.cos(0.3)]))  # generic: axis tilted
ADJ90 = sg.o3_group().element((0, [0.0, np.sqrt(0.5), 0.0, np.sqrt(0.5)]))  # axis moved onto x

# name -> (factory, fibre group, number of exact testing elements, number of escnn's testing elements)
FACTORIES = {
    "rot2dOnR2(-1)": (lambda: gspaces.rot2dOnR2(), sg.so2_group(6), 4, 52),
    "rot2dOnR2(8)": (lambda: gspaces.rot2dOnR2(8), sg.cyclic_group(8), 4, 8),
    "rot2dOnR2(3)": (lambda: gspaces.rot2dOnR2(3), sg.cyclic_group(3), 1, 3),
    "flipRot2dOnR2(-1)": (lambda: gspaces.flipRot2dOnR2(), sg.o2_group(6), 8, 104),
    "flipRot2dOnR2(4)": (lambda: gspaces.flipRot2dOnR2(4), sg.dihedral_group(4), 8, 8),
    "flipRot2dOnR2(6, axis=0)": (lambda: gspaces.flipRot2dOnR2(6, axis=0.0), sg.dihedral_group(6), 4, 12),
    "flip2dOnR2": (lambda: gspaces.flip2dOnR2(), sg.cyclic_group(2), 2, 2),
    "flip2dOnR2(pi/4)": (lambda: gspaces.flip2dOnR2(np.pi / 4), sg.cyclic_group(2), 2, 2),
    "trivialOnR2": (lambda: gspaces.trivialOnR2(), sg.trivial_group(), 1, 1),
    "rot3dOnR3": (lambda: gspaces.rot3dOnR3(), sg.so3_group(), 24, 60),
    "flipRot3dOnR3": (lambda: gspaces.flipRot3dOnR3(), sg.o3_group(), 48, 120),
    "icoOnR3": (lambda: gspaces.icoOnR3(), sg.ico_group(), 12, 60),
    "fullIcoOnR3": (lambda: gspaces.fullIcoOnR3(), sg.full_ico_group(), 24, 120),
    "octaOnR3": (lambda: gspaces.octaOnR3(), sg.octa_group(), 24, 24),
    "fullOctaOnR3": (lambda: gspaces.fullOctaOnR3(), sg.full_octa_group(), 48, 48),
    "tetraOnR3": (lambda: gspaces.tetraOnR3(), sg.tetra_group(), 12, 12),
    "rot2dOnR3(-1)": (lambda: gspaces.rot2dOnR3(), sg.so2_group(2), 4, 52),
    "rot2dOnR3(4)": (lambda: gspaces.rot2dOnR3(4), sg.cyclic_group(4), 4, 4),
    "rot2dOnR3(4, adjoint)": (lambda: gspaces.rot2dOnR3(4, adjoint=ADJ), sg.cyclic_group(4), 1, 4),
    "rot2dOnR3(4, adjoint90)": (lambda: gspaces.rot2dOnR3(4, adjoint=ADJ90), sg.cyclic_group(4), 4, 4),
    "dihedralOnR3(-1, adjoint90)": (lambda: gspaces.dihedralOnR3(adjoint=ADJ90), sg.o2_group(2), 8, 104),
    "dihedralOnR3(-1)": (lambda: gspaces.dihedralOnR3(), sg.o2_group(2), 8, 104),
    "dihedralOnR3(4)": (lambda: gspaces.dihedralOnR3(4), sg.dihedral_group(4), 8, 8),
    "conicalOnR3(-1)": (lambda: gspaces.conicalOnR3(), sg.o2_group(2), 8, 104),
    "conicalOnR3(4)": (lambda: gspaces.conicalOnR3(4), sg.dihedral_group(4), 8, 8),
    "fullCylindricalOnR3(-1)": (lambda: gspaces.fullCylindricalOnR3(), sg.full_cylinder_group(2), 16, 208),
    "fullCylindricalOnR3(4)": (lambda: gspaces.fullCylindricalOnR3(4), sg.full_cylinder_discrete_group(4), 16, 16),
    "cylindricalOnR3(-1)": (lambda: gspaces.cylindricalOnR3(), sg.cylinder_group(2), 8, 104),
    "cylindricalOnR3(4)": (lambda: gspaces.cylindricalOnR3(4), sg.cylinder_discrete_group(4), 8, 8),
    "mirOnR3": (lambda: gspaces.mirOnR3(), sg.cyclic_group(2), 2, 2),
    "invOnR3": (lambda: gspaces.invOnR3(), sg.cyclic_group(2), 2, 2),
    "trivialOnR3": (lambda: gspaces.trivialOnR3(), sg.trivial_group(), 1, 1),
    "no_base_space(D3)": (lambda: gspaces.no_base_space(sg.dihedral_group(3)), sg.dihedral_group(3), 6, 6),
    "no_base_space(SO3)": (lambda: gspaces.no_base_space(sg.so3_group(2)), sg.so3_group(2), None, 60),
}

_CACHE: dict = {}


def build(name):
    if name not in _CACHE:
        _CACHE[name] = FACTORIES[name][0]()
    return _CACHE[name]


def some_elements(gs, n=6):
    G = gs.fibergroup
    if not G.continuous and G.order() <= 48:
        return G.elements
    return [G.identity] + G.sample(n, seed=1)


def signed_perm(m):
    return is_signed_permutation(m)


# ------------------------------------------------------------------------------ factories
@pytest.mark.parametrize("name", list(FACTORIES))
def test_factory_fibergroup_and_dimension(name):
    gs = build(name)
    _, expected, _, _ = FACTORIES[name]
    assert gs.fibergroup == expected
    dim = 0 if name.startswith("no_base") else (2 if "R2" in name else 3)
    assert gs.dimensionality == dim
    assert gs.basespace == f"R^{dim}"
    assert gs.trivial_repr == gs.fibergroup.trivial_representation
    assert gs.irrep(*gs.fibergroup.trivial_irrep_id).size == 1
    assert isinstance(gs.representations, dict)
    assert gs == FACTORIES[name][0]() and hash(gs) == hash(FACTORIES[name][0]())


@pytest.mark.parametrize("name", [n for n in FACTORIES if not n.startswith("no_base")])
def test_basespace_matrices_are_orthogonal_homomorphisms(name):
    gs = build(name)
    G = gs.fibergroup
    d = gs.dimensionality
    els = some_elements(gs)
    mats = gs.basespace_matrices(els)
    assert mats.shape == (len(els), d, d)
    eye = np.eye(d)
    for m in mats:
        np.testing.assert_allclose(m @ m.T, eye, atol=1e-12)
    np.testing.assert_allclose(gs.basespace_matrices(G.identity)[0], eye, atol=1e-12)
    a, b = els[-1], els[len(els) // 2]
    np.testing.assert_allclose(
        gs.basespace_matrices(a @ b)[0],
        gs.basespace_matrices(a)[0] @ gs.basespace_matrices(b)[0],
        atol=1e-10,
    )
    # equal to the ambient standard matrix of the included element
    amb = gs._ambient
    for g, m in zip(els, mats):
        h = amb._element(gs._incl(g._v[None])[0])
        np.testing.assert_allclose(amb._standard_matrices(h._v[None])[0], m, atol=1e-12)
        np.testing.assert_allclose(gs.basespace_matrix(g), m, atol=1e-12)
    # the decomposed representation agrees with the matrices
    rho = gs.basespace_action
    assert rho.size == d
    np.testing.assert_allclose(rho.matrices(els), mats, atol=1e-9)


def test_basespace_matrices_known_values():
    gs = gspaces.rot2dOnR2(8)
    np.testing.assert_allclose(gs.basespace_matrices(gs.fibergroup.element(2))[0], [[0, -1], [1, 0]], atol=1e-12)
    gs = gspaces.flip2dOnR2()
    np.testing.assert_allclose(gs.basespace_matrices(gs.fibergroup.element(1))[0], np.diag([-1.0, 1.0]), atol=1e-12)
    gs = gspaces.flip2dOnR2(0.0)
    np.testing.assert_allclose(gs.basespace_matrices(gs.fibergroup.element(1))[0], np.diag([1.0, -1.0]), atol=1e-12)
    gs = gspaces.mirOnR3()
    np.testing.assert_allclose(gs.basespace_matrices(gs.fibergroup.element(1))[0], np.diag([-1.0, 1, 1]), atol=1e-12)
    gs = gspaces.invOnR3()
    np.testing.assert_allclose(gs.basespace_matrices(gs.fibergroup.element(1))[0], -np.eye(3), atol=1e-12)
    gs = gspaces.rot2dOnR3(4)
    np.testing.assert_allclose(
        gs.basespace_matrices(gs.fibergroup.element(1))[0], [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12
    )
    gs = gspaces.rot2dOnR3(4, adjoint=ADJ)  # rotation axis A⁻¹ z
    axis = ADJ.to("MAT")[1].T @ np.array([0.0, 0, 1])
    m = gs.basespace_matrices(gs.fibergroup.element(1))[0]
    np.testing.assert_allclose(m @ axis, axis, atol=1e-12)


@pytest.mark.parametrize("name", list(FACTORIES))
def test_escnn_testing_elements(name):
    # escnn's list: every element of a finite group, a fixed finite set of a continuous one
    gs = build(name)
    te = gs.testing_elements
    assert isinstance(te, list) and len(te) == FACTORIES[name][3]
    assert all(t.group == gs.fibergroup for t in te)
    assert te[0] == gs.fibergroup.identity
    if not gs.fibergroup.continuous:
        assert set(te) == set(gs.fibergroup.elements)
    elif len(te) <= 120:
        for i in range(len(te)):
            for j in range(i):
                assert te[i] != te[j]
    # the exact ones are among them where the group is finite
    if not gs.fibergroup.continuous:
        assert set(gs.exact_testing_elements) <= set(te)


def test_escnn_testing_elements_values():
    G = gspaces.rot2dOnR2().fibergroup
    np.testing.assert_allclose(
        [g.to("radians") for g in gspaces.rot2dOnR2().testing_elements], 2 * np.pi * np.arange(52) / 52
    )
    te = gspaces.flipRot2dOnR2().testing_elements
    assert [g.to("radians")[0] for g in te] == [0] * 52 + [1] * 52
    ico = {
        tuple(np.round(m, 8).ravel() + 0.0)
        for m in gspaces.icoOnR3().basespace_matrices(gspaces.icoOnR3().testing_elements)
    }
    so3 = gspaces.rot3dOnR3()
    assert {tuple(np.round(m, 8).ravel() + 0.0) for m in so3.basespace_matrices(so3.testing_elements)} == ico
    assert G.continuous


@pytest.mark.parametrize("name", list(FACTORIES))
def test_exact_testing_elements(name):
    gs = build(name)
    te = gs.exact_testing_elements
    expected = FACTORIES[name][2]
    if expected is not None:
        assert len(te) == expected
    assert te[0] == gs.fibergroup.identity
    assert all(t.group == gs.fibergroup for t in te)
    assert len(set(map(repr, te))) == len(te) or gs.fibergroup.continuous
    for i in range(len(te)):
        for j in range(i):
            assert te[i] != te[j]
    if gs.dimensionality > 0:
        for m in gs.basespace_matrices(te):
            assert signed_perm(m)
        # closed under products: the grid symmetries inside G form a group
        if len(te) <= 24:
            for a in te:
                for b in te:
                    assert any(a @ b == c for c in te)


# ------------------------------------------------------------------------------ coordinates
def test_grid_coordinates_convention():
    c = grid_coordinates((3, 4))
    assert c.shape == (3, 4, 2) and c.dtype == np.float64
    for i in range(3):
        for j in range(4):
            assert tuple(c[i, j]) == (j - 1.5, -(i - 1.0))
    c3 = grid_coordinates((2, 3, 4))
    assert c3.shape == (2, 3, 4, 3)
    for i in range(2):
        for j in range(3):
            for k in range(4):
                assert tuple(c3[i, j, k]) == (k - 1.5, -(j - 1.0), -(i - 0.5))
    with pytest.raises(ValueError, match="shape"):
        grid_coordinates((0, 3))
    with pytest.raises(ValueError, match="shape"):
        grid_coordinates((2, 2, 2, 2))


# ------------------------------------------------------------------------------ transforms
def _signed_perms(d):
    from steerable.gspaces._r3 import _signed_permutations

    return _signed_permutations(d)


@pytest.mark.parametrize("d", [2, 3])
def test_exact_transform_matches_interpolation(d):
    gen = torch.Generator().manual_seed(0)
    shape = (2, 3) + ((7, 7) if d == 2 else (5, 5, 5))
    x = torch.randn(shape, generator=gen)
    for m in _signed_perms(d):
        exact = transform_grid(x, m)
        interp = transform_grid(x, m, mode="interpolate")
        assert exact.shape == x.shape
        torch.testing.assert_close(exact, interp, atol=1e-5, rtol=1e-5)


def test_exact_transform_non_square():
    x = torch.randn(1, 2, 4, 6)
    for m in ([[-1, 0], [0, 1]], [[1, 0], [0, -1]], [[-1, 0], [0, -1]]):
        torch.testing.assert_close(transform_grid(x, m), transform_grid(x, m, mode="interpolate"), atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="tensor"):
        transform_grid(x, [[0, -1], [1, 0]])
    v = torch.randn(1, 1, 3, 4, 4)  # D=3, H=W=4: swapping x and y is fine, z and x is not
    torch.testing.assert_close(
        transform_grid(v, [[0, -1, 0], [1, 0, 0], [0, 0, 1]]),
        transform_grid(v, [[0, -1, 0], [1, 0, 0], [0, 0, 1]], mode="interpolate"),
        atol=1e-5,
        rtol=1e-5,
    )
    with pytest.raises(ValueError, match="tensor"):
        transform_grid(v, [[0, 0, 1], [0, 1, 0], [-1, 0, 0]])


@pytest.mark.parametrize("d", [2, 3])
def test_transform_is_group_action(d):
    shape = (1, 2) + ((5, 5) if d == 2 else (4, 4, 4))
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    perms = _signed_perms(d)
    rng = np.random.default_rng(0)
    for _ in range(10):
        a, b = perms[rng.integers(len(perms))], perms[rng.integers(len(perms))]
        torch.testing.assert_close(transform_grid(x, a @ b), transform_grid(transform_grid(x, b), a), atol=0, rtol=0)
    # also for generic rotations (interpolation) on a smooth, compactly supported signal
    if d == 2:
        r = lambda t: np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
        c = torch.as_tensor(grid_coordinates((41, 41)))
        f = torch.exp(-((c[..., 0] - 4) ** 2 + (c[..., 1] - 2) ** 2) / 30.0)[None, None]
        one = transform_grid(f, r(0.8))
        two = transform_grid(transform_grid(f, r(0.5)), r(0.3))
        assert (one - two).abs().max() < 0.03  # two bilinear resamplings vs one


@pytest.mark.parametrize("d", [2, 3])
def test_interpolation_matches_analytic_transform(d):
    from scipy.spatial.transform import Rotation

    shape = (41, 41) if d == 2 else (17, 17, 17)
    c = grid_coordinates(shape)
    centre = np.array([4.0, 2.0, -1.0])[:d]
    sigma2 = 60.0 if d == 2 else 40.0
    tol = 1.2 * d * (2.0 / sigma2) / 8.0  # linear interpolation error bound h²/8 Σ|∂ᵢ²f|
    f = lambda p: np.exp(-((p - centre) ** 2).sum(-1) / sigma2)
    if d == 2:
        t = 0.7
        m = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    else:
        m = Rotation.from_rotvec([0.3, 0.5, -0.2]).as_matrix() @ np.diag([1.0, -1.0, 1.0])
    for mat in (m, np.diag([1.5, 0.8, 1.0][:d])):  # orthogonal and a generic invertible matrix
        got = transform_grid(torch.as_tensor(f(c))[None, None], mat)[0, 0].numpy()
        src = c @ np.linalg.inv(mat).T
        inside = np.all(np.abs(src) <= (np.array(shape[::-1]) - 1) / 2.0, axis=-1)  # zeros outside
        assert np.abs(got - f(src))[inside].max() < tol
        far = np.any(np.abs(src) >= (np.array(shape[::-1]) + 1) / 2.0, axis=-1)  # > 1 step outside
        assert far.any() or mat is m
        assert np.abs(got[far]).max(initial=0.0) == 0.0
    # float32 input stays float32 and agrees
    got32 = transform_grid(torch.as_tensor(f(c), dtype=torch.float32)[None, None], m)
    assert got32.dtype == torch.float32
    got64 = transform_grid(torch.as_tensor(f(c))[None, None], m)
    assert (got32.double() - got64).abs().max() < 1e-5


@pytest.mark.parametrize("d", [2, 3])
def test_transform_moves_delta_to_Mx(d):
    shape = (5, 5) if d == 2 else (3, 4, 4)
    coords = grid_coordinates(shape)
    idx = (1, 3) if d == 2 else (0, 1, 3)
    x = torch.zeros((1, 1) + shape, dtype=torch.float64)
    x[(0, 0) + idx] = 1.0
    for m in _signed_perms(d):
        target = m @ coords[idx]
        hit = np.argwhere(np.all(np.abs(coords - target) < 1e-9, axis=-1))
        try:
            transform_grid(x, m)
        except ValueError:
            assert d == 3  # swaps axes of unequal sizes
            continue
        for mode in ("auto", "interpolate"):
            y = transform_grid(x, m, mode=mode)
            if len(hit) == 0:
                assert y.abs().max() < 1e-9
                continue
            assert abs(float(y[(0, 0) + tuple(hit[0])]) - 1.0) < 1e-9
            assert abs(float(y.sum()) - 1.0) < 1e-9


def test_transform_interpolation_dtype_device_grad():
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64, requires_grad=True)
    r = np.array([[np.cos(0.4), -np.sin(0.4)], [np.sin(0.4), np.cos(0.4)]])
    y = transform_grid(x, r)
    assert y.dtype == torch.float64 and y.shape == x.shape
    y.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    # exact path keeps integer dtypes
    xi = torch.arange(9).reshape(1, 1, 3, 3)
    assert transform_grid(xi, [[0, -1], [1, 0]]).dtype == xi.dtype
    with pytest.raises(TypeError, match="tensor"):
        transform_grid(xi, r)


def test_transform_signal_and_points():
    gs = gspaces.flipRot2dOnR2(4)
    x = torch.randn(2, 3, 5, 5)
    for g in gs.exact_testing_elements:
        m = gs.basespace_matrices(g)[0]
        torch.testing.assert_close(gs.transform_signal(x, g), transform_grid(x, m))
        pts = torch.randn(7, 2, dtype=torch.float64)
        torch.testing.assert_close(gs.transform_points(pts, g), pts @ torch.as_tensor(m).T)
        np.testing.assert_allclose(gs.transform_points(pts.numpy(), g), pts.numpy() @ m.T)
    # points and signals agree: a delta at p moves to g p
    coords = grid_coordinates((5, 5))
    g = gs.fibergroup.element((1, 1))
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 0, 3] = 1
    p = gs.transform_points(torch.as_tensor(coords[0, 3])[None], g)[0].numpy()
    hit = np.argwhere(np.all(np.abs(coords - p) < 1e-9, axis=-1))[0]
    assert gs.transform_signal(x, g)[0, 0, hit[0], hit[1]] == 1
    g3 = gspaces.octaOnR3()
    v = torch.randn(1, 2, 3, 3, 3)
    for g in g3.testing_elements[:5]:
        torch.testing.assert_close(g3.transform_signal(v, g), transform_grid(v, g3.basespace_matrices(g)[0]))
    g0 = gspaces.no_base_space(sg.cyclic_group(3))
    t = torch.randn(4, 3)
    assert g0.transform_signal(t, g0.fibergroup.element(1)) is t
    # continuous group, generic element: interpolation path
    so2 = gspaces.rot2dOnR2()
    y = so2.transform_signal(torch.randn(1, 1, 9, 9), so2.fibergroup.element(0.3))
    assert y.shape == (1, 1, 9, 9)


# ------------------------------------------------------------------------------ restriction
def test_restrict_flipRot2d_to_C4():
    gs = gspaces.flipRot2dOnR2(8)
    sub, inclusion, restriction = gs.restrict((None, 4))
    assert sub.fibergroup == sg.cyclic_group(4)
    assert sub.dimensionality == 2 and isinstance(sub, gspaces.GSpace2D)
    for h in sub.fibergroup.elements:
        g = inclusion(h)
        np.testing.assert_allclose(sub.basespace_matrices(h), gs.basespace_matrices(g), atol=1e-12)
        assert restriction(g) == h
    assert restriction(gs.fibergroup.element((1, 0))) is None
    assert len(sub.testing_elements) == 4
    assert sub.rotations_order == 4 and sub.flips_order == 0
    # restricting twice composes
    sub2, incl2, _ = sub.restrict(2)
    assert sub2.fibergroup == sg.cyclic_group(2)
    np.testing.assert_allclose(sub2.basespace_matrices(sub2.fibergroup.element(1))[0], -np.eye(2), atol=1e-12)
    assert len(sub2.testing_elements) == 2
    # cached, and (as in escnn) the space the factory builds
    assert gs.restrict((None, 4))[0] is sub
    assert sub == gspaces.rot2dOnR2(4) and hash(sub) == hash(gspaces.rot2dOnR2(4))
    assert sub.name == "C4_on_R2[(None, 4)]" and sub._sg_id == (None, 4)


def test_restrict_rot3d_to_C4_and_others():
    gs = gspaces.rot3dOnR3()
    sub, inclusion, restriction = gs.restrict((False, 4))
    assert sub.fibergroup == sg.cyclic_group(4) and sub.dimensionality == 3
    h = sub.fibergroup.element(1)
    np.testing.assert_allclose(sub.basespace_matrices(h)[0], [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12)
    np.testing.assert_allclose(sub.basespace_matrices(h), gs.basespace_matrices(inclusion(h)), atol=1e-12)
    assert len(sub.testing_elements) == 4
    sub_o, _, _ = gspaces.flipRot3dOnR3().restrict((True, "octa"))
    assert sub_o.fibergroup == sg.full_octa_group() and len(sub_o.testing_elements) == 48
    sub_so2, _, _ = gspaces.flipRot3dOnR3().restrict((False, False, -1))
    assert sub_so2.fibergroup == sg.so2_group() and len(sub_so2.exact_testing_elements) == 4
    sub_t, _, _ = gspaces.octaOnR3().restrict("tetra")
    assert sub_t.fibergroup == sg.tetra_group() and len(sub_t.testing_elements) == 12
    s0, inc0, res0 = gspaces.no_base_space(sg.dihedral_group(4)).restrict((None, 2))
    assert s0 == gspaces.no_base_space(sg.cyclic_group(2))
    assert res0(inc0(s0.fibergroup.element(1))) == s0.fibergroup.element(1)


def test_rotations_and_flips_order():
    assert gspaces.rot2dOnR2(8).rotations_order == 8 and gspaces.rot2dOnR2(8).flips_order == 0
    assert gspaces.flipRot2dOnR2(4).rotations_order == 4 and gspaces.flipRot2dOnR2(4).flips_order == 1
    assert gspaces.flipRot2dOnR2().rotations_order == -1 and gspaces.flipRot2dOnR2().flips_order == 1
    assert gspaces.rot2dOnR2().flips_order == 0
    assert gspaces.flip2dOnR2().rotations_order == 1 and gspaces.flip2dOnR2().flips_order == 1


# ------------------------------------------------------------------------------ values & pickling
@pytest.mark.parametrize(
    "make",
    [
        lambda: gspaces.rot2dOnR2(8),
        lambda: gspaces.flipRot2dOnR2(-1, maximum_frequency=3),
        lambda: gspaces.flip2dOnR2(np.pi / 4),
        lambda: gspaces.icoOnR3(),
        lambda: gspaces.rot2dOnR3(4, adjoint=ADJ),
        lambda: gspaces.no_base_space(sg.so3_group(2)),
        lambda: gspaces.flipRot2dOnR2(8).restrict((None, 4))[0],
        lambda: gspaces.rot3dOnR3().restrict((False, 4))[0].restrict(2)[0],
    ],
)
def test_pickle_round_trip(make):
    gs = make()
    gs2 = pickle.loads(pickle.dumps(gs))
    assert gs2 == gs and hash(gs2) == hash(gs)
    assert type(gs2) is type(gs)
    assert gs2.fibergroup == gs.fibergroup and gs2.dimensionality == gs.dimensionality
    els = gs.testing_elements
    assert len(gs2.testing_elements) == len(els)
    if gs.dimensionality:
        np.testing.assert_allclose(gs2.basespace_matrices(els), gs.basespace_matrices(els), atol=1e-12)


def test_equality():
    assert gspaces.rot2dOnR2(8) == gspaces.rot2dOnR2(8)
    assert gspaces.rot2dOnR2(8) == gspaces.GSpace2D((None, 8))
    assert gspaces.flipRot2dOnR2(4) == gspaces.GSpace2D((np.pi, 4))
    assert gspaces.rot2dOnR2(8) != gspaces.rot2dOnR2(4)
    assert gspaces.flipRot2dOnR2(3) != gspaces.flipRot2dOnR2(3, axis=0.0)
    assert gspaces.flipRot2dOnR2() != gspaces.flipRot2dOnR2(axis=0.0)
    # the same subgroup of O(2), but the flip element acts differently (x -> -x vs y -> -y)
    assert gspaces.flipRot2dOnR2(4) != gspaces.flipRot2dOnR2(4, axis=0.0)
    # equal when they act alike: D_4 with mirror axis π/2 + 2π/4 labels its elements as with 0
    assert gspaces.flipRot2dOnR2(4, axis=0.0) == gspaces.flipRot2dOnR2(4, axis=np.pi / 4 * 4)
    assert gspaces.rot2dOnR3(4) != gspaces.rot2dOnR2(4)
    assert gspaces.rot2dOnR3(4) != gspaces.rot2dOnR3(4, adjoint=ADJ)
    # as in escnn, the band limit of a continuous group does not distinguish G-spaces
    assert gspaces.rot2dOnR2(-1, 3) == gspaces.rot2dOnR2(-1, 4)
    sub = gspaces.flipRot2dOnR2(8).restrict((1, 4))[0]  # the flip r f of D_8: mirror at π/2 + π/8
    assert sub == gspaces.flipRot2dOnR2(4, axis=np.pi / 2 + np.pi / 8) and sub._sg_id == (np.pi + np.pi / 4, 4)
    assert gspaces.flipRot3dOnR3().restrict((False, "octa"))[0] == gspaces.octaOnR3()
    assert gspaces.rot3dOnR3().restrict((False, 4))[0] == gspaces.rot2dOnR3(4)
    assert gspaces.no_base_space(sg.cyclic_group(3)) == gspaces.no_base_space(sg.cyclic_group(3))
    assert len({gspaces.octaOnR3(), gspaces.octaOnR3(), gspaces.fullOctaOnR3()}) == 2


# ------------------------------------------------------------------------------ validation
def test_bad_arguments():
    with pytest.raises(ValueError, match="N"):
        gspaces.rot2dOnR2(0)
    with pytest.raises(ValueError, match="N"):
        gspaces.flipRot2dOnR2(-2)
    with pytest.raises(ValueError, match="N"):
        gspaces.rot2dOnR2(True)
    with pytest.raises(ValueError, match="n"):
        gspaces.rot2dOnR3(0)
    with pytest.raises(ValueError, match="maximum_frequency"):
        gspaces.rot2dOnR2(-1, maximum_frequency=-1)
    with pytest.raises(TypeError, match="axis"):
        gspaces.flipRot2dOnR2(4, axis="x")
    with pytest.raises(TypeError, match="adjoint"):
        gspaces.rot2dOnR3(4, adjoint=np.eye(3))
    with pytest.raises(ValueError, match="adjoint"):
        gspaces.rot2dOnR3(4, adjoint=sg.so3_group().identity)
    with pytest.raises(TypeError, match="G"):
        gspaces.no_base_space("C4")
    with pytest.raises(ValueError, match="subgroup_id"):
        gspaces.rot2dOnR2(8).restrict(3)
    gs = gspaces.rot2dOnR2(4)
    g = gs.fibergroup.element(1)
    with pytest.raises(ValueError, match="tensor"):
        gs.transform_signal(torch.randn(3, 5, 5), g)
    with pytest.raises(ValueError, match="tensor"):
        transform_grid(torch.randn(1, 1, 3, 3, 3), np.eye(2))
    with pytest.raises(TypeError, match="tensor"):
        transform_grid(np.zeros((1, 1, 3, 3)), np.eye(2))
    with pytest.raises(ValueError, match="matrix"):
        transform_grid(torch.randn(1, 1, 3, 3), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="matrix"):
        transform_grid(torch.randn(1, 1, 3, 3), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="matrix"):
        transform_grid(torch.randn(1, 1, 3, 3), [[0.6, -0.8], [0.8, 0.6]], mode="exact")
    with pytest.raises(ValueError, match="mode"):
        transform_grid(torch.randn(1, 1, 3, 3), np.eye(2), mode="nearest")
    with pytest.raises(TypeError, match="g"):
        gs.transform_signal(torch.randn(1, 1, 3, 3), 1)
    with pytest.raises(ValueError, match="g"):
        gs.transform_signal(torch.randn(1, 1, 3, 3), sg.cyclic_group(8).element(1))
    with pytest.raises(ValueError, match="coords"):
        gs.transform_points(torch.randn(4, 3), g)
    with pytest.raises(TypeError, match="elements"):
        gs.basespace_matrices([1, 2])
