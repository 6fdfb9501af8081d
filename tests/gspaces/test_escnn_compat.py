"""escnn's G-space surface: featurefield_action, reflection and axis conventions, names, ids,
restriction to the factory's space, the representation registry, kernel-basis delegation."""

from __future__ import annotations

import pickle
import sys
import types

import numpy as np
import pytest
import torch

import steerable.kernels
from steerable import group as sg
from steerable import gspaces

F = np.diag([1.0, -1.0])


def rot(t):
    return np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


def mirror3(theta):
    """escnn's mirror of ('cone', θ, N): the plane through z and the direction at -θ/2."""
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s, 0.0], [-s, -c, 0.0], [0.0, 0.0, 1.0]])


# ------------------------------------------------------------------------------ reflections
@pytest.mark.parametrize("N, axis", [(8, np.pi / 2), (4, 0.0), (3, 0.3), (5, np.pi / 4), (2, 1.0)])
def test_dihedral_elements_act_as_in_escnn(N, axis):
    gs = gspaces.flipRot2dOnR2(N, axis=axis)
    for f in (0, 1):
        for k in range(N):
            m = gs.basespace_matrix(gs.fibergroup.element((f, k)))
            expected = rot(2 * np.pi * k / N + f * 2 * axis) @ np.linalg.matrix_power(F, f)
            np.testing.assert_allclose(m, expected, atol=1e-12)
    assert gs._sg_id == (2 * axis, N)


def test_default_flip_reverses_columns_and_keeps_fibre_frame():
    for gs in (
        gspaces.flipRot2dOnR2(8),
        gspaces.flipRot2dOnR2(),
        gspaces.flip2dOnR2(),
        gspaces.flipRot2dOnR2(8).restrict((0, 1))[0],
        gspaces.GSpace2D((np.pi, 4)),
    ):
        G = gs.fibergroup
        flip = G.element(1) if G.order() == 2 else G.element((1, 0) if not G.continuous else (1, 0.0))
        np.testing.assert_allclose(gs.basespace_matrix(flip), np.diag([-1.0, 1.0]), atol=1e-12)
        x = torch.arange(12.0).reshape(1, 1, 3, 4)[..., :3, :3].contiguous()
        torch.testing.assert_close(gs.transform_signal(x, flip), torch.flip(x, [-1]))
    gs = gspaces.flipRot2dOnR2(8)
    f = gs.fibergroup.element((1, 0))
    np.testing.assert_allclose(gs.irrep(1, 1)(f), F, atol=1e-12)  # the fibre frame is the group's
    np.testing.assert_allclose(gs.basespace_action(f), np.diag([-1.0, 1.0]), atol=1e-12)


def test_axis_zero_flips_rows():
    gs = gspaces.flipRot2dOnR2(4, axis=0.0)
    x = torch.randn(1, 2, 5, 5)
    torch.testing.assert_close(gs.transform_signal(x, gs.fibergroup.element((1, 0))), torch.flip(x, [-2]))


@pytest.mark.parametrize("axis", [0.0, 0.3, np.pi / 4, np.pi / 2])
def test_3d_axis_conventions(axis):
    # dihedral: the flip is the π-rotation about the xy-direction at angle `axis`
    d = gspaces.dihedralOnR3(3, axis=axis)
    u = np.array([np.cos(axis), np.sin(axis), 0.0])
    half_turn = 2 * np.outer(u, u) - np.eye(3)
    np.testing.assert_allclose(d.basespace_matrix(d.fibergroup.element((1, 0))), half_turn, atol=1e-12)
    # conical / mirror: escnn's mirror across the plane through z and the direction at -axis
    for gs in (gspaces.conicalOnR3(3, axis=axis), gspaces.mirOnR3(axis)):
        G = gs.fibergroup
        flip = G.element(1) if G.order() == 2 else G.element((1, 0))
        np.testing.assert_allclose(gs.basespace_matrix(flip), mirror3(2 * axis), atol=1e-12)
    # full cylinder: escnn passes `axis` unscaled, so the half-turn axis is at axis / 2
    c = gspaces.fullCylindricalOnR3(3, axis=axis)
    v = np.array([np.cos(axis / 2), np.sin(axis / 2), 0.0])
    mats = c.basespace_matrices(c.fibergroup.elements)
    assert any(np.allclose(m, 2 * np.outer(v, v) - np.eye(3), atol=1e-12) for m in mats)


# ------------------------------------------------------------------------------ featurefield_action
def test_featurefield_action_moves_vectors_and_points():
    gs = gspaces.rot2dOnR2(4)
    g = gs.fibergroup.element(1)  # +90°
    x = np.zeros((1, 2, 5, 5))
    x[0, 0, 2, 4] = 1.0  # the vector (1, 0) at the point (2, 0)
    y = gs.featurefield_action(x, gs.irrep(1), g)
    assert isinstance(y, np.ndarray) and y.shape == x.shape
    assert np.argwhere(np.abs(y) > 1e-9).tolist() == [[0, 1, 0, 2]]  # (0, 1) at the point (0, 2)
    assert abs(y[0, 1, 0, 2] - 1.0) < 1e-12


@pytest.mark.parametrize(
    "make",
    [
        lambda: gspaces.flipRot2dOnR2(4),
        lambda: gspaces.fullOctaOnR3(),
        lambda: gspaces.no_base_space(sg.dihedral_group(3)),
    ],
)
def test_featurefield_action_is_an_action_and_matches_transform(make):
    gs = make()
    G = gs.fibergroup
    rho = gs.regular_repr
    d = gs.dimensionality
    x = np.random.default_rng(0).standard_normal((2, rho.size) + (5,) * d)
    els = gs.exact_testing_elements
    a, b = els[1], els[-1]
    np.testing.assert_allclose(
        gs.featurefield_action(x, rho, a @ b),
        gs.featurefield_action(gs.featurefield_action(x, rho, b), rho, a),
        atol=1e-10,
    )
    # torch in, torch out; equal to rho(g) then the grid transform
    t = torch.as_tensor(x)
    y = gs.featurefield_action(t, rho, a)
    assert isinstance(y, torch.Tensor)
    fib = torch.einsum("oi,bi...->bo...", torch.as_tensor(rho(a)), t)
    ref = fib if d == 0 else gs.transform_signal(fib, a)
    torch.testing.assert_close(y, ref)
    assert G.order() > 1


def test_featurefield_action_extra_axes_and_interpolation():
    # escnn's tests pass (B, C, 5, 5, 5) arrays to 2D spaces: the last two axes are the plane
    gs = gspaces.rot2dOnR2(-1)
    x = np.random.default_rng(1).standard_normal((1, 3, 4, 6, 6))
    g = gs.fibergroup.element(np.pi / 2)
    y = gs.featurefield_action(x[:, :1], gs.trivial_repr, g)
    np.testing.assert_allclose(y, np.rot90(x[:, :1], 1, axes=(-2, -1)), atol=1e-12)
    h = gs.fibergroup.element(0.4)
    y2 = gs.featurefield_action(x[:, :1], gs.trivial_repr, h, order=2)
    y3 = gs.featurefield_action(x[:, :1], gs.trivial_repr, h, order=3)
    assert y2.shape == y3.shape == x[:, :1].shape and not np.allclose(y2, y3)


def test_featurefield_action_bad_arguments():
    gs = gspaces.rot2dOnR2(4)
    g = gs.fibergroup.element(1)
    with pytest.raises(TypeError, match="repr"):
        gs.featurefield_action(np.zeros((1, 1, 3, 3)), "irrep", g)
    with pytest.raises(ValueError, match="repr"):
        gs.featurefield_action(np.zeros((1, 1, 3, 3)), sg.cyclic_group(8).trivial_representation, g)
    with pytest.raises(ValueError, match="input"):
        gs.featurefield_action(np.zeros((1, 3, 3, 3)), gs.irrep(1), g)
    with pytest.raises(TypeError, match="element"):
        gs.featurefield_action(np.zeros((1, 1, 3, 3)), gs.trivial_repr, 1)
    with pytest.raises(TypeError, match="input"):
        gs.featurefield_action(object(), gs.trivial_repr, g)


# ------------------------------------------------------------------------------ names, ids, restriction
def test_names_and_ids_as_in_escnn():
    assert repr(gspaces.rot2dOnR2(8)) == "C8_on_R2[(None, 8)]"
    assert gspaces.flipRot2dOnR2(8).name == "D8_on_R2[(3.141592653589793, 8)]"
    assert gspaces.flip2dOnR2().name == "C2_on_R2[(3.141592653589793, 1)]"
    assert gspaces.trivialOnR2().name == "C1_on_R2[(None, 1)]"
    assert gspaces.rot3dOnR3().name == "SO(3)_on_R3[so3]"
    assert gspaces.flipRot3dOnR3().name == "O(3)_on_R3[o3]"
    assert gspaces.octaOnR3().name == "Octahedral_on_R3[(False, 'octa')]"
    assert gspaces.dihedralOnR3(4).name == "D4_on_R3[(False, 3.141592653589793, 4)]"
    assert gspaces.no_base_space(sg.dihedral_group(3)).name == "D3"
    for gs in (gspaces.rot2dOnR2(8), gspaces.octaOnR3(), gspaces.no_base_space(sg.so3_group(1))):
        assert gs.basespace == f"R^{gs.dimensionality}" and isinstance(gs.irreps, list)
    gs = gspaces.GSpace2D((None, -1), maximum_frequency=3)
    assert (gs.rotations_order, gs.flips_order) == (-1, 0) and gs == gspaces.rot2dOnR2(-1, 3)
    assert (
        gspaces.GSpace3D("so3", 2) == gspaces.rot3dOnR3() and gspaces.GSpace0D(sg.cyclic_group(2)).dimensionality == 0
    )


@pytest.mark.parametrize(
    "parent, id, factory",
    [
        (lambda: gspaces.flipRot2dOnR2(8), (None, 4), lambda: gspaces.rot2dOnR2(4)),
        (lambda: gspaces.flipRot2dOnR2(8), (0, 4), lambda: gspaces.flipRot2dOnR2(4)),
        (lambda: gspaces.flipRot2dOnR2(8), (0, 1), lambda: gspaces.flip2dOnR2()),
        (lambda: gspaces.flipRot2dOnR2(-1), (None, -1), lambda: gspaces.rot2dOnR2(-1)),
        (lambda: gspaces.flipRot2dOnR2(-1), (0.5, 3), lambda: gspaces.flipRot2dOnR2(3, axis=np.pi / 2 + 0.25)),
        (lambda: gspaces.rot2dOnR2(-1), 4, lambda: gspaces.rot2dOnR2(4)),
        (lambda: gspaces.flip2dOnR2(), 1, lambda: gspaces.trivialOnR2()),
        (lambda: gspaces.flipRot3dOnR3(), "so3", lambda: gspaces.rot3dOnR3()),
        (lambda: gspaces.flipRot3dOnR3(), (False, np.pi, 4), lambda: gspaces.dihedralOnR3(4)),
        (lambda: gspaces.flipRot3dOnR3(), ("cone", np.pi, 3), lambda: gspaces.conicalOnR3(3)),
        (lambda: gspaces.rot3dOnR3(), "ico", lambda: gspaces.icoOnR3()),
        (lambda: gspaces.rot3dOnR3(), (False, 4), lambda: gspaces.rot2dOnR3(4)),
    ],
)
def test_restrict_gives_the_factory_space(parent, id, factory):
    sub, inclusion, restriction = parent().restrict(id)
    expected = factory()
    assert sub == expected and hash(sub) == hash(expected)
    assert type(sub) is type(expected) and sub.name == expected.name
    # and it is consistent with the parent's action
    p = parent()
    for h in sub.fibergroup.elements if not sub.fibergroup.continuous else sub.testing_elements[:5]:
        np.testing.assert_allclose(sub.basespace_matrix(h), p.basespace_matrix(inclusion(h)), atol=1e-10)
    assert pickle.loads(pickle.dumps(sub)) == sub


def test_equality_is_by_action():
    assert gspaces.flipRot2dOnR2(8) != gspaces.flipRot2dOnR2(8, axis=0.0)
    assert gspaces.flipRot2dOnR2(8) == gspaces.flipRot2dOnR2(8, axis=np.pi / 2 + 2 * np.pi)
    assert gspaces.rot2dOnR2(4) != gspaces.no_base_space(sg.cyclic_group(4))
    assert gspaces.rot2dOnR2(4) != gspaces.rot2dOnR3(4)
    assert gspaces.conicalOnR3(3, axis=0.3) != gspaces.conicalOnR3(3, axis=-0.3)


# ------------------------------------------------------------------------------ representations
def test_representation_registry_lists_built_representations():
    gs = gspaces.rot2dOnR2(8)
    q = gs.quotient_repr(2)
    H = gs.fibergroup.subgroup(2)[0]
    ind = gs.induced_repr(2, H.irrep(1))
    names = gs.representations
    assert names[q.name] == q and names[ind.name] == ind  # values: an equal one built earlier may be listed
    assert "regular" in names and "irrep_1" in names
    assert q.name in gspaces.rot2dOnR2(8).representations  # listed per fibre group, as in escnn
    assert q.name not in gspaces.rot2dOnR2(4).representations


# ------------------------------------------------------------------------------ kernel bases
def test_build_kernel_basis_delegates(monkeypatch):
    calls = []
    fake = types.ModuleType("steerable.kernels._gspace_bases")
    fake.build_kernel_basis = lambda *a, **k: calls.append(("kernel", a, k)) or "K"
    fake.build_fiber_intertwiner_basis = lambda *a, **k: calls.append(("fiber", a, k)) or "B"
    monkeypatch.setitem(sys.modules, "steerable.kernels._gspace_bases", fake)
    monkeypatch.setattr(steerable.kernels, "_gspace_bases", fake, raising=False)
    gs = gspaces.rot2dOnR2(4)
    r = gs.regular_repr
    assert gs.build_kernel_basis(r, r, sigma=0.6, rings=[0.0, 1.0], maximum_frequency=3) == "K"
    assert calls[-1] == ("kernel", (gs, r, r, 0.6, [0.0, 1.0]), {"maximum_frequency": 3})
    assert gs.build_fiber_intertwiner_basis(r, r) == "B"
    assert calls[-1] == ("fiber", (gs, r, r), {})
    g0 = gspaces.no_base_space(sg.cyclic_group(3))
    g0.build_kernel_basis(g0.regular_repr, g0.trivial_repr)
    assert calls[-1] == ("kernel", (g0, g0.regular_repr, g0.trivial_repr, None, None), {})


@pytest.mark.parametrize(
    "make",
    [
        lambda: gspaces.flipRot2dOnR2(4),
        lambda: gspaces.flipRot2dOnR2(3, axis=0.0),
        lambda: gspaces.flipRot2dOnR2(8).restrict((1, 4))[0],
    ],
)
def test_convolution_equivariant_under_the_new_flips(make):
    from steerable import nn
    from steerable.testing import assert_equivariant

    gs = make()
    t_in = nn.FieldType(gs, [gs.regular_repr, gs.irrep(1, 1)])
    t_out = nn.FieldType(gs, [gs.regular_repr, gs.irrep(1, 1)])
    conv = nn.R2Conv(t_in, t_out, kernel_size=5, padding=2).eval()
    torch.manual_seed(0)
    x = t_in(torch.randn(2, t_in.size, 9, 9, dtype=conv.weights.dtype))
    assert len(assert_equivariant(conv, inputs=x)) == len(gs.exact_testing_elements) >= 2


def test_generic_constructor_has_escnn_signature():
    gs = gspaces.GSpace(sg.cyclic_group(3), 0, "C3 on a point")
    assert (gs.name, gs.dimensionality, gs.basespace, gs.basespace_action) == ("C3 on a point", 0, "R^0", None)
    assert len(gs.testing_elements) == 3
    with pytest.raises(TypeError, match="pickle"):
        pickle.dumps(gs)
    with pytest.raises(TypeError, match="ambient"):
        gspaces.GSpace(sg.cyclic_group(3), 2, "no action given")
