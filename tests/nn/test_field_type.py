"""FieldType and GeometricTensor: construction and validation, structure (size, len, iteration,
sums, selection, sorting, grouping, restriction), fibre representations, the group action on
grids (2D, 3D), point clouds and plain vectors, field slicing/splitting, arithmetic, torch.cat,
tensor_directsum and pickling."""

from __future__ import annotations

import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

from steerable import group as sg
from steerable import gspaces, nn
from steerable.gspaces import grid_coordinates
from steerable.nn import FieldType, GeometricTensor, tensor_directsum
from steerable.testing import assert_equivariant, random_elements

DT = torch.float64
ATOL = 1e-10

_CACHE: dict = {}


def _cached(name, factory):
    if name not in _CACHE:
        _CACHE[name] = factory()
    return _CACHE[name]


def c4():
    return _cached("c4", lambda: gspaces.rot2dOnR2(4))


def d4():
    return _cached("d4", lambda: gspaces.flipRot2dOnR2(4))


def so2():
    return _cached("so2", lambda: gspaces.rot2dOnR2(-1, maximum_frequency=3))


def octa():
    return _cached("octa", lambda: gspaces.octaOnR3())


def vec_so3():
    return _cached("vec_so3", lambda: gspaces.no_base_space(sg.so3_group(2)))


def vec_d3():
    return _cached("vec_d3", lambda: gspaces.no_base_space(sg.dihedral_group(3)))


def d4_type():
    gs = d4()
    return FieldType(gs, [gs.regular_repr, gs.trivial_repr, gs.irrep(1, 1), gs.basespace_action, gs.irrep(1, 0)])


def octa_type():
    gs = octa()
    return FieldType(gs, [gs.regular_repr, gs.irrep(1), gs.trivial_repr, gs.irrep(2), gs.basespace_action])


def so2_type():
    gs = so2()
    return FieldType(gs, [gs.irrep(1), gs.trivial_repr, gs.irrep(2), gs.irrep(3), gs.basespace_action])


def rand(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=DT)


def close(a, b, atol=ATOL):
    a = a.tensor if isinstance(a, GeometricTensor) else a
    b = b.tensor if isinstance(b, GeometricTensor) else b
    return a.shape == b.shape and torch.allclose(a, b, atol=atol, rtol=0)


def rho(ftype, g):
    return torch.as_tensor(np.asarray(ftype.fiber_representation(g)), dtype=DT)


def block_diag_rho(ftype, g):
    return torch.block_diag(*[torch.as_tensor(np.asarray(r(g)), dtype=DT) for r in ftype])


# =============================================================================================
# FieldType: construction and validation
# =============================================================================================


def test_construction_basic_and_single_representation():
    gs = c4()
    ft = FieldType(gs, [gs.regular_repr] * 3 + [gs.trivial_repr])
    assert ft.gspace == gs
    assert ft.size == 13
    assert len(ft) == 4
    assert isinstance(ft.representations, tuple)
    assert ft.representations == (gs.regular_repr,) * 3 + (gs.trivial_repr,)
    # a bare Representation is accepted as a one-field type; tuples and generators work too
    single = FieldType(gs, gs.regular_repr)
    assert len(single) == 1 and single.size == 4
    assert FieldType(gs, (r for r in [gs.trivial_repr, gs.irrep(1)])) == FieldType(gs, [gs.trivial_repr, gs.irrep(1)])
    # the gspace shortcut builds the same type
    assert gs.type(gs.regular_repr, gs.trivial_repr) == FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    assert gs.type([gs.regular_repr, gs.trivial_repr]) == FieldType(gs, [gs.regular_repr, gs.trivial_repr])


def test_construction_rejects_non_gspace():
    G = sg.cyclic_group(4)
    with pytest.raises(TypeError, match="^gspace"):
        FieldType(G, [G.regular_representation])
    with pytest.raises(TypeError, match="^gspace"):
        FieldType("rot2dOnR2", [G.regular_representation])
    with pytest.raises(TypeError, match="^gspace"):
        FieldType(None, [G.regular_representation])


def test_construction_rejects_representations_of_another_group():
    gs = c4()
    other = sg.cyclic_group(8).regular_representation
    with pytest.raises(ValueError, match="^representations"):
        FieldType(gs, [gs.regular_repr, other])
    with pytest.raises(ValueError, match="^representations"):
        FieldType(gs, [d4().regular_repr])
    with pytest.raises(ValueError, match="^representations"):
        FieldType(so2(), [sg.o2_group(3).irrep(1, 1)])
    # SO(2) is one group whatever the maximum frequency of the factory call (as in escnn)
    assert FieldType(so2(), [sg.so2_group(5).irrep(4)]).size == 2


def test_construction_rejects_empty_and_non_representations():
    gs = c4()
    with pytest.raises(ValueError, match="^representations"):
        FieldType(gs, [])
    with pytest.raises(ValueError, match="^representations"):
        FieldType(gs, ())
    with pytest.raises(TypeError, match="^representations"):
        FieldType(gs, [gs.regular_repr, "regular"])
    with pytest.raises(TypeError, match="^representations"):
        FieldType(gs, [np.eye(4)])


# =============================================================================================
# FieldType: structure
# =============================================================================================


def test_size_len_iteration():
    ft = d4_type()
    reps = list(ft.representations)
    assert ft.size == sum(r.size for r in reps) == 8 + 1 + 2 + 2 + 1
    assert len(ft) == 5
    assert list(ft) == reps
    assert [r for r in ft] == reps  # iterable twice
    assert [r.size for r in ft] == [8, 1, 2, 2, 1]
    # field boundaries used for channel bookkeeping
    assert list(ft.fields_start) == [0, 8, 9, 11, 13]
    assert list(ft.fields_end) == [8, 9, 11, 13, 14]
    assert ft.channel_indices([1, 3]).tolist() == [8, 11, 12]
    assert ft.channel_indices([]).tolist() == []


def test_add():
    gs = c4()
    a = FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    b = FieldType(gs, [gs.irrep(1)])
    s = a + b
    assert isinstance(s, FieldType)
    assert s.representations == (gs.regular_repr, gs.trivial_repr, gs.irrep(1))
    assert s.size == a.size + b.size and len(s) == len(a) + len(b)
    assert s.gspace == gs
    assert b + a != a + b
    # different gspaces (even with the same fibre group) cannot be summed
    other = gspaces.rot2dOnR3(4)
    assert other.fibergroup == gs.fibergroup
    with pytest.raises(ValueError, match="^other"):
        a + FieldType(other, [other.trivial_repr])
    with pytest.raises(ValueError, match="^other"):
        a + FieldType(d4(), [d4().trivial_repr])
    with pytest.raises(TypeError):
        a + gs.trivial_repr
    with pytest.raises(TypeError):
        a + 1


def test_equality_and_hash():
    gs = c4()
    a = FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    b = FieldType(gspaces.rot2dOnR2(4), [gs.regular_repr, gs.trivial_repr])
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != FieldType(gs, [gs.trivial_repr, gs.regular_repr])  # order matters
    assert a != FieldType(gs, [gs.regular_repr])
    assert a != FieldType(gs, [gs.regular_repr, gs.trivial_repr, gs.trivial_repr])
    # same fibre group, different base space
    r3 = gspaces.rot2dOnR3(4)
    assert a != FieldType(r3, [r3.regular_repr, r3.trivial_repr])
    assert a != "not a field type" and a != None  # noqa: E711
    d = {a: 1}
    assert d[b] == 1


def test_index_select():
    ft = d4_type()
    reps = ft.representations
    sel = ft.index_select([3, 0, 0])
    assert sel.representations == (reps[3], reps[0], reps[0])
    assert sel.gspace == ft.gspace
    assert sel.size == reps[3].size + 2 * reps[0].size
    assert ft.index_select([-1]).representations == (reps[-1],)
    assert ft.index_select(range(len(ft))) == ft
    assert ft.index_select(np.array([2, 1])).representations == (reps[2], reps[1])
    with pytest.raises(ValueError, match="^index"):
        ft.index_select([len(ft)])
    with pytest.raises(ValueError, match="^index"):
        ft.index_select([0, -len(ft) - 1])
    with pytest.raises(ValueError):  # selecting nothing gives no field type
        ft.index_select([])


def test_sorted():
    gs = c4()
    R, T, I = gs.regular_repr, gs.trivial_repr, gs.irrep(1)
    ft = FieldType(gs, [R, T, I, T, R, I, T])
    s = ft.sorted()
    assert s.representations == (R, R, T, T, T, I, I)  # grouped, by first appearance
    assert s.size == ft.size and len(s) == len(ft) and s.gspace == gs
    assert sorted(r.size for r in s) == sorted(r.size for r in ft)
    assert s.sorted() == s
    already = FieldType(gs, [T, T, R])
    assert already.sorted() == already


def test_group_by_labels():
    gs = c4()
    R, T, I = gs.regular_repr, gs.trivial_repr, gs.irrep(1)
    ft = FieldType(gs, [R, T, I, T, R])
    groups = ft.group_by_labels(["b", "a", "b", "c", "a"])
    assert isinstance(groups, OrderedDict)
    assert list(groups) == ["b", "a", "c"]  # order of first appearance
    assert groups["b"] == FieldType(gs, [R, I])
    assert groups["a"] == FieldType(gs, [T, R])
    assert groups["c"] == FieldType(gs, [T])
    assert sum(g.size for g in groups.values()) == ft.size
    assert all(g.gspace == gs for g in groups.values())
    with pytest.raises(ValueError, match="^labels"):
        ft.group_by_labels(["a", "b"])
    with pytest.raises(ValueError, match="^labels"):
        ft.group_by_labels(["a"] * 6)


@pytest.mark.parametrize("sid", [(None, 4), (0, 1), (1, 2), (None, 2), (None, 1)])
def test_restrict_2d(sid):
    _check_restrict(d4_type(), sid)


def _check_restrict(ft, sid):
    sub, inclusion, _ = ft.gspace.restrict(sid)
    H = sub.fibergroup
    r = ft.restrict(sid)
    assert isinstance(r, FieldType)
    assert r.gspace == sub
    assert r.gspace.fibergroup == H == ft.gspace.fibergroup.subgroup(sid)[0]
    assert r.gspace.dimensionality == ft.gspace.dimensionality
    assert r.size == ft.size and len(r) == len(ft)
    assert [a.size for a in r] == [b.size for b in ft]
    assert all(rep.group == H for rep in r)
    elements = H.elements if H.order() > 0 else r.testing_elements
    for h in elements:
        g = inclusion(h)
        np.testing.assert_allclose(
            np.asarray(r.fiber_representation(h)), np.asarray(ft.fiber_representation(g)), atol=1e-9
        )
        for rr, ro in zip(r, ft):
            np.testing.assert_allclose(np.asarray(rr(h)), np.asarray(ro(g)), atol=1e-9)
    return r


def test_restrict_continuous_and_no_base_space():
    ft = so2_type()
    r = _check_restrict(ft, 4)  # SO(2) -> C4
    assert r.gspace.fibergroup == sg.cyclic_group(4)
    gs0 = vec_d3()
    ft0 = FieldType(gs0, [gs0.regular_repr, gs0.irrep(1, 1)])
    r0 = _check_restrict(ft0, (None, 3))
    assert r0.gspace.dimensionality == 0
    assert r0.gspace.fibergroup == sg.cyclic_group(3)
    gsv = vec_so3()
    ftv = FieldType(gsv, [gsv.irrep(1), gsv.irrep(2)])
    rv = ftv.restrict((False, -1))  # SO(3) -> SO(2) about the z axis
    assert rv.gspace.fibergroup.continuous and rv.size == ftv.size
    _check_restrict(ftv, (False, -1))


def test_restrict_pickles_and_is_cached_consistently():
    ft = d4_type()
    r1 = ft.restrict((None, 4))
    r2 = ft.restrict((None, 4))
    assert r1 == r2 and hash(r1) == hash(r2)
    r3 = pickle.loads(pickle.dumps(r1))
    assert r3 == r1 and hash(r3) == hash(r1)


@pytest.mark.parametrize("make_type", [d4_type, octa_type, so2_type])
def test_fiber_representation_is_block_diagonal(make_type):
    ft = make_type()
    rep = ft.fiber_representation
    assert rep.size == ft.size
    assert rep.group == ft.gspace.fibergroup
    assert ft.representation is rep or ft.representation == rep
    G = ft.gspace.fibergroup
    els = list(ft.testing_elements) + ([G.sample() for _ in range(3)] if G.continuous else [])
    for g in els:
        np.testing.assert_allclose(np.asarray(rep(g)), block_diag_rho(ft, g).numpy(), atol=1e-9)
    # a homomorphism
    a, b = els[1], els[-1]
    np.testing.assert_allclose(np.asarray(rep(a @ b)), np.asarray(rep(a)) @ np.asarray(rep(b)), atol=1e-9)


def test_irreps():
    ft = d4_type()
    expected = []
    for r in ft:
        expected += list(r.irreps)
    assert list(ft.irreps) == expected
    gs = c4()
    assert FieldType(gs, [gs.irrep(1), gs.trivial_repr, gs.irrep(2)]).irreps == [(1,), (0,), (2,)]
    reg = FieldType(gs, [gs.regular_repr]).irreps
    assert sorted(reg) == sorted(gs.regular_repr.irreps)
    assert sum(gs.irrep(*i).size for i in reg) == 4  # C4: irrep (1,) is 2-dimensional


@pytest.mark.parametrize(
    "factory, n",
    [(c4, 4), (d4, 8), (so2, 4), (octa, 24), (vec_d3, 6)],
)
def test_testing_elements(factory, n):
    gs = factory()
    ft = FieldType(gs, [gs.trivial_repr])
    els = ft.testing_elements
    assert len(els) == n
    assert list(els) == list(gs.exact_testing_elements)
    assert els[0] == gs.fibergroup.identity
    assert all(g.group == gs.fibergroup for g in els)
    if gs.dimensionality:
        for g in els:  # exact grid symmetries
            m = gs.basespace_matrix(g)
            assert np.allclose(m, np.round(m), atol=1e-9)


@pytest.mark.parametrize("make_type", [d4_type, octa_type, so2_type])
def test_field_type_pickle(make_type):
    ft = make_type()
    ft2 = pickle.loads(pickle.dumps(ft))
    assert ft2 == ft and hash(ft2) == hash(ft)
    assert ft2.size == ft.size and len(ft2) == len(ft)
    g = ft.testing_elements[1]
    np.testing.assert_allclose(np.asarray(ft2.fiber_representation(g)), np.asarray(ft.fiber_representation(g)))


def test_repr_mentions_gspace_and_sizes():
    ft = d4_type()
    s = repr(ft)
    assert "5 fields" in s and "14 channels" in s


# =============================================================================================
# GeometricTensor: construction and validation
# =============================================================================================


def test_geometric_tensor_construction():
    ft = d4_type()
    t = rand(2, ft.size, 5, 5)
    x = GeometricTensor(t, ft)
    assert x.tensor is t and x.type is ft and x.coords is None
    y = ft(t)
    assert isinstance(y, GeometricTensor) and y.type == ft and y.tensor is t
    assert "GeometricTensor" in repr(x)


def test_geometric_tensor_validation_grid():
    ft = d4_type()
    with pytest.raises(TypeError, match="^tensor"):
        GeometricTensor(np.zeros((2, ft.size, 5, 5)), ft)
    with pytest.raises(TypeError, match="^tensor"):
        GeometricTensor([[1.0]], ft)
    with pytest.raises(TypeError, match="^type"):
        GeometricTensor(rand(2, ft.size, 5, 5), ft.fiber_representation)
    with pytest.raises(TypeError, match="^type"):
        GeometricTensor(rand(2, ft.size, 5, 5), ft.gspace)
    # rank: 2D fields need (B, C, H, W)
    for shape in [(2, ft.size, 5), (2, ft.size, 5, 5, 5), (2, ft.size), (ft.size,)]:
        with pytest.raises(ValueError, match="^tensor"):
            GeometricTensor(rand(*shape), ft)
    # channel count
    with pytest.raises(ValueError, match="^tensor"):
        GeometricTensor(rand(2, ft.size + 1, 5, 5), ft)
    with pytest.raises(ValueError, match="^tensor"):
        GeometricTensor(rand(ft.size, 2, 5, 5), ft)
    # 3D fields need (B, C, D, H, W)
    ft3 = octa_type()
    GeometricTensor(rand(1, ft3.size, 3, 3, 3), ft3)
    with pytest.raises(ValueError, match="^tensor"):
        GeometricTensor(rand(1, ft3.size, 3, 3), ft3)


def test_geometric_tensor_validation_point_cloud():
    ft = d4_type()
    n = 7
    x = GeometricTensor(rand(n, ft.size), ft, rand(n, 2, seed=1))
    assert x.coords.shape == (n, 2)
    with pytest.raises(ValueError, match="^coords"):
        GeometricTensor(rand(n, ft.size), ft, rand(n, 3))  # wrong dimension
    with pytest.raises(ValueError, match="^coords"):
        GeometricTensor(rand(n, ft.size), ft, rand(n + 1, 2))  # wrong number of points
    with pytest.raises(ValueError, match="^coords"):
        GeometricTensor(rand(n, ft.size), ft, rand(n, 2, 1))  # wrong rank
    with pytest.raises(ValueError, match="^coords"):
        GeometricTensor(rand(1, ft.size, n), ft, rand(n, 2))  # features must be (N, C)
    with pytest.raises(TypeError, match="^coords"):
        GeometricTensor(rand(n, ft.size), ft, np.zeros((n, 2)))
    with pytest.raises(ValueError, match="^tensor"):
        GeometricTensor(rand(n, ft.size + 2), ft, rand(n, 2))  # channel count


def test_geometric_tensor_validation_no_base_space():
    gs = vec_d3()
    ft = FieldType(gs, [gs.regular_repr, gs.irrep(1, 1)])
    GeometricTensor(rand(4, ft.size), ft)
    GeometricTensor(rand(ft.size), ft)  # a single vector
    with pytest.raises(ValueError, match="^tensor"):
        GeometricTensor(rand(4, ft.size + 1), ft)
    with pytest.raises(ValueError, match="^tensor"):
        GeometricTensor(torch.tensor(1.0), ft)


def test_shape_size_to():
    ft = d4_type()
    x = ft(torch.randn(3, ft.size, 4, 5))
    assert x.shape == torch.Size([3, ft.size, 4, 5])
    assert x.size() == torch.Size([3, ft.size, 4, 5])
    assert x.size(1) == ft.size and x.size(-1) == 5
    assert x.dtype == torch.float32 and x.device == torch.device("cpu")
    y = x.to(torch.float64)
    assert isinstance(y, GeometricTensor)
    assert y.tensor.dtype == torch.float64 and y.dtype == torch.float64 and y.type == ft
    assert torch.equal(y.tensor, x.tensor.double())
    assert x.tensor.dtype == torch.float32  # original untouched
    z = x.to(dtype=torch.float16)
    assert z.dtype == torch.float16
    assert x.to("cpu").type == ft
    pc = ft(torch.randn(6, ft.size), torch.randn(6, 2))
    pc64 = pc.to(torch.float64)
    assert pc64.tensor.dtype == torch.float64 and pc64.coords.dtype == torch.float64
    assert torch.equal(pc64.coords, pc.coords.double())


# =============================================================================================
# GeometricTensor: the group action
# =============================================================================================


def _pixel_of(coords_grid, point):
    d = np.abs(coords_grid - np.asarray(point)).sum(-1)
    idx = np.unravel_index(np.argmin(d), d.shape)
    assert d[idx] < 1e-9
    return idx


@pytest.mark.parametrize("make_type, spatial", [(d4_type, (5, 5)), (so2_type, (4, 4)), (octa_type, (3, 3, 3))])
def test_transform_moves_a_delta_and_rotates_its_fibre(make_type, spatial):
    """(g·f)(x) = ρ(g) f(g⁻¹x): a delta at p with value v becomes a delta at M p with ρ(g) v."""
    ft = make_type()
    gs = ft.gspace
    coords = grid_coordinates(spatial)
    p_idx = tuple(0 for _ in spatial[:-1]) + (1,)  # a pixel off every symmetry axis/centre
    p = coords[p_idx]
    v = rand(ft.size, seed=3)
    t = torch.zeros((1, ft.size) + spatial, dtype=DT)
    t[(0, slice(None)) + p_idx] = v
    x = ft(t)
    for g in ft.testing_elements:
        y = x.transform(g)
        assert isinstance(y, GeometricTensor) and y.type == ft
        q_idx = _pixel_of(coords, gs.basespace_matrix(g) @ p)
        expected = torch.zeros_like(t)
        expected[(0, slice(None)) + q_idx] = rho(ft, g) @ v
        assert close(y, expected), g


@pytest.mark.parametrize("make_type, spatial", [(d4_type, (4, 4)), (so2_type, (3, 3))])
def test_transform_is_a_group_action_2d(make_type, spatial):
    ft = make_type()
    x = ft(rand(2, ft.size, *spatial))
    els = ft.testing_elements
    e = ft.gspace.fibergroup.identity
    assert close(x.transform(e), x)
    cache = {i: x.transform(g) for i, g in enumerate(els)}
    for i, g in enumerate(els):
        for j, h in enumerate(els):
            assert close(cache[j].transform(g), x.transform(g @ h)), (g, h)
        assert close(cache[i].transform(~g), x)


def test_transform_is_a_group_action_3d():
    ft = octa_type()
    x = ft(rand(2, ft.size, 3, 3, 3))
    els = ft.testing_elements
    assert len(els) == 24
    assert close(x.transform(els[0]), x)
    moved = [x.transform(h) for h in els]
    for g in els[::3]:
        for h, xh in zip(els, moved):
            assert close(xh.transform(g), x.transform(g @ h))
        assert close(x.transform(g).transform(~g), x)


@pytest.mark.parametrize("make_type, spatial", [(d4_type, (5, 5)), (octa_type, (3, 3, 3))])
def test_transform_fixes_the_position_field(make_type, spatial):
    """f(x) = x with the base-space representation is invariant: ρ(g) g⁻¹x = x."""
    gs = make_type().gspace
    ft = FieldType(gs, [gs.basespace_action])
    pos = torch.as_tensor(grid_coordinates(spatial), dtype=DT)  # (*spatial, d)
    t = pos.movedim(-1, 0).unsqueeze(0)  # (1, d, *spatial)
    x = ft(t)
    for g in ft.testing_elements:
        assert close(x.transform(g), x), g


def test_transform_non_square_grid():
    gs = gspaces.flip2dOnR2()
    ft = FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    x = ft(rand(1, ft.size, 3, 5))
    f = gs.fibergroup.elements[1]
    y = x.transform(f)
    assert y.shape == x.shape
    assert close(y.transform(f), x)
    # the flip x -> -x mirrors the last axis and swaps the regular channels
    expected = torch.einsum("oc,bchw->bohw", rho(ft, f), x.tensor).flip(-1)
    assert close(y, expected)
    # a 90° rotation cannot act on a non-square grid
    ft4 = FieldType(c4(), [c4().trivial_repr])
    with pytest.raises(ValueError):
        ft4(rand(1, 1, 3, 5)).transform(c4().fibergroup.element(1))


def test_transform_rejects_bad_elements():
    ft = d4_type()
    x = ft(rand(1, ft.size, 3, 3))
    with pytest.raises(TypeError):
        x.transform(1)
    with pytest.raises(ValueError):
        x.transform(sg.cyclic_group(4).element(1))
    with pytest.raises(ValueError):
        x.transform_fibers(sg.cyclic_group(4).element(1))


@pytest.mark.parametrize("make_type", [d4_type, octa_type, so2_type])
def test_transform_fibers(make_type):
    ft = make_type()
    d = ft.gspace.dimensionality
    x = ft(rand(2, ft.size, *([3] * d)))
    G = ft.gspace.fibergroup
    els = list(ft.testing_elements) + ([G.sample() for _ in range(2)] if G.continuous else [])
    for g in els:
        y = x.transform_fibers(g)
        assert isinstance(y, GeometricTensor) and y.type == ft and y.shape == x.shape
        expected = torch.einsum("oc,bc...->bo...", rho(ft, g), x.tensor)
        assert close(y, expected)
        # only the fibres: the base-space action is what remains of transform
        assert close(y.tensor, torch.einsum("oc,bc...->bo...", block_diag_rho(ft, g), x.tensor))
    for g in ft.testing_elements:  # transform = transform_fibers, then move the base space
        assert close(ft.gspace.transform_signal(x.transform_fibers(g).tensor, g), x.transform(g))
    g, h = els[1], els[-1]
    assert close(x.transform_fibers(h).transform_fibers(g), x.transform_fibers(g @ h))
    # the FieldType-level API agrees
    assert close(ft.transform_fibers(x.tensor, g), x.transform_fibers(g))
    assert close(ft.transform(x.tensor, g), x.transform(g))


@pytest.mark.parametrize("make_type", [d4_type, octa_type, so2_type])
def test_transform_point_cloud(make_type):
    ft = make_type()
    gs = ft.gspace
    d = gs.dimensionality
    n = 9
    feats, coords = rand(n, ft.size, seed=1), rand(n, d, seed=2)
    x = ft(feats, coords)
    assert x.coords is coords
    G = gs.fibergroup
    els = list(ft.testing_elements) + [G.sample() for _ in range(2)]  # any element: points move exactly
    for g in els:
        y = x.transform(g)
        assert isinstance(y, GeometricTensor) and y.type == ft
        M = torch.as_tensor(gs.basespace_matrix(g), dtype=DT)
        assert close(y.coords, coords @ M.T)
        assert close(y.tensor, feats @ rho(ft, g).T)
        # transform_fibers leaves the points in place
        z = x.transform_fibers(g)
        assert torch.equal(z.coords, coords)
        assert close(z.tensor, feats @ rho(ft, g).T)
    g, h = els[1], els[-1]
    lhs, rhs = x.transform(h).transform(g), x.transform(g @ h)
    assert close(lhs.tensor, rhs.tensor, 1e-9) and close(lhs.coords, rhs.coords, 1e-9)
    # the position field is invariant as a point cloud, too
    pos = FieldType(gs, [gs.basespace_action])(coords.clone(), coords)
    for g in els:
        y = pos.transform(g)
        assert close(y.tensor, y.coords, 1e-9)
    # FieldType.transform with coords returns (features, moved points)
    f2, c2 = ft.transform(feats, els[1], coords)
    y = x.transform(els[1])
    assert close(f2, y.tensor) and close(c2, y.coords)


def test_transform_no_base_space():
    gs = vec_so3()
    ft = FieldType(gs, [gs.irrep(1), gs.trivial_repr, gs.irrep(2), gs.irrep(1)])
    x = ft(rand(5, ft.size))
    els = list(ft.testing_elements) + [gs.fibergroup.sample() for _ in range(2)]
    for g in els:
        y = x.transform(g)
        assert isinstance(y, GeometricTensor) and y.shape == x.shape and y.type == ft
        assert close(y, x.tensor @ rho(ft, g).T)
        assert close(x.transform_fibers(g), y)
    g, h = els[1], els[-1]
    assert close(x.transform(h).transform(g), x.transform(g @ h), 1e-9)
    # a finite group acting on plain vectors, and a single vector (C,)
    gd = vec_d3()
    fd = FieldType(gd, [gd.regular_repr, gd.irrep(1, 1)])
    v = fd(rand(fd.size))
    for g in fd.testing_elements:
        assert close(v.transform(g), rho(fd, g) @ v.tensor)
    for g in fd.testing_elements:
        for h in fd.testing_elements:
            assert close(v.transform(h).transform(g), v.transform(g @ h))


def test_restrict_keeps_data():
    ft = d4_type()
    x = ft(rand(2, ft.size, 4, 4))
    sid = (None, 4)
    y = x.restrict(sid)
    assert isinstance(y, GeometricTensor)
    assert torch.equal(y.tensor, x.tensor)
    assert y.type == ft.restrict(sid)
    sub, inclusion, _ = ft.gspace.restrict(sid)
    assert_equivariant(
        lambda v: v.restrict(sid), inputs=x, elements=sub.fibergroup.elements, in_element=inclusion, atol=ATOL, rtol=0
    )
    # point clouds keep their coords
    pc = ft(rand(5, ft.size), rand(5, 2))
    pr = pc.restrict((0, 1))
    assert torch.equal(pr.tensor, pc.tensor) and torch.equal(pr.coords, pc.coords)
    # plain vectors
    gs = vec_d3()
    fv = FieldType(gs, [gs.regular_repr])
    v = fv(rand(3, 6))
    vr = v.restrict((None, 3))
    assert torch.equal(vr.tensor, v.tensor) and vr.type.gspace.fibergroup == sg.cyclic_group(3)


# =============================================================================================
# GeometricTensor: fields
# =============================================================================================


def test_split_none_and_explicit():
    ft = d4_type()
    x = ft(rand(2, ft.size, 3, 3))
    parts = x.split(None)
    assert len(parts) == len(ft)
    for i, (p, r) in enumerate(zip(parts, ft)):
        assert p.type == FieldType(ft.gspace, [r])
        assert torch.equal(p.tensor, x.tensor[:, ft.fields_start[i] : ft.fields_end[i]])
    assert torch.equal(torch.cat([p.tensor for p in parts], 1), x.tensor)

    parts = x.split([1, 3])
    assert [len(p.type) for p in parts] == [1, 2, 2]
    assert parts[0].type == ft.index_select([0])
    assert parts[1].type == ft.index_select([1, 2])
    assert parts[2].type == ft.index_select([3, 4])
    assert [p.shape[1] for p in parts] == [8, 3, 3]
    assert torch.equal(torch.cat([p.tensor for p in parts], 1), x.tensor)
    assert all(p.shape[0] == 2 and p.shape[2:] == x.shape[2:] for p in parts)

    whole = x.split([])
    assert len(whole) == 1 and whole[0].type == ft and torch.equal(whole[0].tensor, x.tensor)


@pytest.mark.parametrize("breaks", [[0], [5], [3, 1], [2, 2], [-1], [1, 6]])
def test_split_bad_breaks(breaks):
    ft = d4_type()
    x = ft(rand(1, ft.size, 3, 3))
    with pytest.raises(ValueError, match="^breaks"):
        x.split(breaks)


def test_split_point_cloud_and_vectors():
    ft = d4_type()
    pc = ft(rand(6, ft.size), rand(6, 2))
    parts = pc.split([2])
    assert parts[0].type == ft.index_select([0, 1])
    assert parts[0].shape == (6, 9) and parts[1].shape == (6, 5)
    assert all(torch.equal(p.coords, pc.coords) for p in parts)
    assert torch.equal(torch.cat([p.tensor for p in parts], -1), pc.tensor)
    gs = vec_d3()
    fv = FieldType(gs, [gs.regular_repr, gs.irrep(1, 1), gs.trivial_repr])
    v = fv(rand(4, fv.size))
    vp = v.split(None)
    assert [p.shape for p in vp] == [(4, 6), (4, 2), (4, 1)]


def test_slicing_fields():
    ft = d4_type()
    x = ft(rand(3, ft.size, 4, 5))
    y = x[:, 1:3]
    assert isinstance(y, GeometricTensor)
    assert y.type == ft.index_select([1, 2])
    assert torch.equal(y.tensor, x.tensor[:, 8:11])
    # a single field by integer keeps the field axis
    z = x[:, 0]
    assert z.type == ft.index_select([0]) and torch.equal(z.tensor, x.tensor[:, 0:8])
    last = x[:, -1]
    assert last.type == ft.index_select([4]) and torch.equal(last.tensor, x.tensor[:, 13:14])
    penult = x[:, -2]
    assert penult.type == ft.index_select([3]) and torch.equal(penult.tensor, x.tensor[:, 11:13])
    # a list of fields, in any order
    w = x[:, [3, 0]]
    assert w.type == ft.index_select([3, 0])
    assert torch.equal(w.tensor, torch.cat([x.tensor[:, 11:13], x.tensor[:, 0:8]], 1))
    # strided slice
    s = x[:, ::2]
    assert s.type == ft.index_select([0, 2, 4])
    assert torch.equal(s.tensor, torch.cat([x.tensor[:, 0:8], x.tensor[:, 9:11], x.tensor[:, 13:14]], 1))


def test_slicing_batch_and_space():
    ft = d4_type()
    x = ft(rand(3, ft.size, 4, 5))
    b = x[1:]
    assert b.type == ft and torch.equal(b.tensor, x.tensor[1:])
    b0 = x[0]
    assert b0.type == ft and torch.equal(b0.tensor, x.tensor[0:1])  # batch axis kept
    s = x[:, :, 1:3, ::2]
    assert s.type == ft and torch.equal(s.tensor, x.tensor[:, :, 1:3, ::2])
    p = x[2, 1:2, 0, 4]
    assert p.type == ft.index_select([1])
    assert torch.equal(p.tensor, x.tensor[2:3, 8:9, 0:1, 4:5])
    # field indices out of range select nothing: an error, not an empty field type
    with pytest.raises((IndexError, ValueError)):
        x[:, len(ft)]
    # plain vectors
    gs = vec_d3()
    fv = FieldType(gs, [gs.regular_repr, gs.irrep(1, 1), gs.trivial_repr])
    v = fv(rand(4, fv.size))
    vs = v[1:3, 1:]
    assert vs.type == fv.index_select([1, 2]) and torch.equal(vs.tensor, v.tensor[1:3, 6:9])


def test_slicing_negative_integer_indices():
    """An integer index keeps its axis (length 1) and counts from the end when negative, like the
    torch slice ``i:i+1`` (``-1:`` for ``-1``)."""
    ft = d4_type()
    x = ft(rand(3, ft.size, 4, 5))
    assert torch.equal(x[-1].tensor, x.tensor[-1:])
    assert torch.equal(x[-2].tensor, x.tensor[-2:-1])
    assert torch.equal(x[:, :, -1].tensor, x.tensor[:, :, -1:])
    assert torch.equal(x[:, :, 0, -1].tensor, x.tensor[:, :, 0:1, -1:])
    assert torch.equal(x[-1, -1, -1, -1].tensor, x.tensor[-1:, 13:14, -1:, -1:])


def test_slicing_fields_with_index_tensors():
    """escnn: a bool tensor over the fields is a mask, a long tensor a list of field indices."""
    ft = d4_type()
    x = ft(rand(2, ft.size, 3, 3))
    idx = torch.tensor([3, 0])
    assert x[:, idx].type == ft.index_select([3, 0])
    mask = torch.tensor([False, True, True, False, True])
    y = x[:, mask]
    assert y.type == ft.index_select([1, 2, 4])
    assert torch.equal(y.tensor, torch.cat([x.tensor[:, 8:11], x.tensor[:, 13:14]], 1))


def test_slicing_with_ellipsis():
    """escnn: ``...`` stands for the axes not indexed, as in torch."""
    ft = d4_type()
    x = ft(rand(2, ft.size, 4, 5))
    y = x[..., 1:3]
    assert y.type == ft and torch.equal(y.tensor, x.tensor[..., 1:3])
    z = x[:, 1:3, ...]
    assert z.type == ft.index_select([1, 2]) and torch.equal(z.tensor, x.tensor[:, 8:11])


def test_slicing_point_clouds():
    """escnn: point clouds slice like (points, fields); the points' coords are sliced with them."""
    ft = d4_type()
    pc = ft(rand(6, ft.size), rand(6, 2, seed=1))
    f = pc[:, 1:3]
    assert f.type == ft.index_select([1, 2])
    assert torch.equal(f.tensor, pc.tensor[:, 8:11]) and torch.equal(f.coords, pc.coords)
    p = pc[2:5]
    assert p.type == ft and torch.equal(p.tensor, pc.tensor[2:5]) and torch.equal(p.coords, pc.coords[2:5])


def test_sliced_fields_transform_like_the_original():
    ft = d4_type()
    x = ft(rand(2, ft.size, 4, 4))
    assert_equivariant(lambda v: v[:, 1:4], inputs=x, atol=ATOL, rtol=0)
    assert_equivariant(lambda v: v.split([2])[1], inputs=x, atol=ATOL, rtol=0)


# =============================================================================================
# GeometricTensor: arithmetic
# =============================================================================================


def test_arithmetic_compatible():
    ft = d4_type()
    a, b = ft(rand(2, ft.size, 3, 3, seed=1)), ft(rand(2, ft.size, 3, 3, seed=2))
    for res, exp in [
        (a + b, a.tensor + b.tensor),
        (a - b, a.tensor - b.tensor),
        (a * 2.5, a.tensor * 2.5),
        (3 * a, a.tensor * 3),
        (a * torch.tensor(-2.0, dtype=DT), a.tensor * -2.0),
        (a / 4, a.tensor / 4),
        (a / torch.tensor(0.5, dtype=DT), a.tensor / 0.5),
    ]:
        assert isinstance(res, GeometricTensor) and res.type == ft
        assert torch.allclose(res.tensor, exp)
    # a type built separately but equal is compatible
    other = FieldType(gspaces.flipRot2dOnR2(4), list(ft.representations))
    c = other(rand(2, ft.size, 3, 3))
    assert torch.allclose((a + c).tensor, a.tensor + c.tensor)
    # in place
    orig = a.tensor.clone()
    a2 = a
    a2 += b
    assert a2 is a and torch.allclose(a.tensor, orig + b.tensor)
    a2 -= b
    assert torch.allclose(a.tensor, orig)
    # point clouds keep their coords
    pc1 = ft(rand(4, ft.size), rand(4, 2))
    pc2 = ft(rand(4, ft.size, seed=5), pc1.coords)
    s = pc1 + pc2
    assert torch.equal(s.coords, pc1.coords) and torch.allclose(s.tensor, pc1.tensor + pc2.tensor)
    assert torch.equal((pc1 * 2).coords, pc1.coords)


def test_multiply_by_one_element_tensor():
    """escnn: any tensor with a single element (numel() == 1) is a scalar."""
    ft = d4_type()
    a = ft(rand(1, ft.size, 3, 3))
    for k in (torch.tensor([2.0], dtype=DT), torch.tensor([[2.0]], dtype=DT)):
        assert torch.allclose((a * k).tensor, a.tensor * 2.0)
        assert torch.allclose((a / k).tensor, a.tensor / 2.0)


def test_arithmetic_is_equivariant():
    ft = d4_type()
    a, b = ft(rand(1, ft.size, 4, 4, seed=1)), ft(rand(1, ft.size, 4, 4, seed=2))
    assert_equivariant(lambda u, v: u + v, inputs=(a, b), atol=ATOL, rtol=0)
    assert_equivariant(lambda u, v: u - 2 * v, inputs=(a, b), atol=ATOL, rtol=0)
    assert_equivariant(lambda u, v: u - v * 2, inputs=(a, b), atol=ATOL, rtol=0)


def test_arithmetic_incompatible():
    ft = d4_type()
    a = ft(rand(2, ft.size, 3, 3))
    other_type = FieldType(ft.gspace, list(reversed(ft.representations)))
    b = other_type(rand(2, ft.size, 3, 3))
    with pytest.raises(ValueError, match="^other"):
        a + b
    with pytest.raises(ValueError, match="^other"):
        a - b
    with pytest.raises(ValueError, match="^other"):
        a += b
    with pytest.raises(TypeError, match="^other"):
        a + a.tensor
    with pytest.raises(TypeError, match="^other"):
        a - 1.0
    with pytest.raises(TypeError, match="^other"):
        a * a
    with pytest.raises(TypeError, match="^other"):
        a * rand(2, ft.size, 3, 3)
    with pytest.raises(TypeError, match="^other"):
        a / a
    with pytest.raises(TypeError, match="^other"):
        a / torch.ones(3)
    # same representations on another gspace
    c4b = gspaces.rot2dOnR3(4)
    x = FieldType(c4(), [c4().trivial_repr])(rand(1, 1, 3, 3))
    y = FieldType(c4b, [c4b.trivial_repr])(rand(1, 1, 3, 3, 3))
    with pytest.raises(ValueError, match="^other"):
        x + y


def test_arithmetic_point_clouds_need_the_same_points():
    """As in escnn (``is_compatible``: same type and same coords), fields on different point sets
    cannot be added or subtracted."""
    ft = d4_type()
    pa = ft(rand(4, ft.size), rand(4, 2, seed=1))
    pb = ft(rand(4, ft.size, seed=3), rand(4, 2, seed=2))
    with pytest.raises(ValueError, match="^other"):
        pa + pb
    with pytest.raises(ValueError, match="^other"):
        pa - pb
    grid = ft(rand(1, ft.size, 2, 2))
    with pytest.raises(ValueError, match="^other"):
        pa + grid


# =============================================================================================
# torch.cat and tensor_directsum
# =============================================================================================


def test_torch_cat_along_fields():
    gs = d4()
    ta = FieldType(gs, [gs.regular_repr, gs.irrep(1, 1)])
    tb = FieldType(gs, [gs.trivial_repr, gs.basespace_action])
    a, b = ta(rand(2, ta.size, 4, 4, seed=1)), tb(rand(2, tb.size, 4, 4, seed=2))
    for c in [
        torch.cat([a, b], dim=1),
        torch.cat([a, b], 1),
        torch.cat((a, b), dim=-3),
        torch.cat(tensors=[a, b], dim=1),
    ]:
        assert isinstance(c, GeometricTensor)
        assert c.type == ta + tb
        assert torch.equal(c.tensor, torch.cat([a.tensor, b.tensor], 1))
    assert_equivariant(
        lambda u, v: torch.cat([u.tensor, v.tensor], 1), inputs=(a, b), out_type=ta + tb, atol=ATOL, rtol=0
    )
    assert_equivariant(lambda u, v: torch.cat([u, v], dim=1), inputs=(a, b), atol=ATOL, rtol=0)
    three = torch.cat([a, b, a], dim=1)
    assert three.type == ta + tb + ta and three.shape[1] == 2 * ta.size + tb.size


def test_torch_cat_other_dims_raise():
    gs = d4()
    ta = FieldType(gs, [gs.regular_repr])
    a, b = ta(rand(2, 8, 4, 4)), ta(rand(2, 8, 4, 4, seed=1))
    for dim in [0, 2, 3, -1]:
        with pytest.raises(ValueError, match="^dim"):
            torch.cat([a, b], dim=dim)
    with pytest.raises(ValueError, match="^dim"):
        torch.cat([a, b])  # default dim=0 is the batch axis


def test_torch_cat_point_clouds_and_vectors():
    gs = d4()
    ta, tb = FieldType(gs, [gs.regular_repr]), FieldType(gs, [gs.irrep(1, 1)])
    coords = rand(5, 2)
    a, b = ta(rand(5, 8), coords), tb(rand(5, 2, seed=3), coords)
    for dim in (1, -1):
        c = torch.cat([a, b], dim=dim)
        assert c.type == ta + tb and torch.equal(c.coords, coords)
        assert torch.equal(c.tensor, torch.cat([a.tensor, b.tensor], -1))
    with pytest.raises(ValueError, match="^dim"):
        torch.cat([a, b], dim=0)
    # the features and the points of the concatenation move as those of its parts
    assert_equivariant(
        lambda u, v: torch.cat([u, v], dim=1), inputs=(a, b), elements=gs.exact_testing_elements[5:6], atol=ATOL, rtol=0
    )

    gv = vec_so3()
    va, vb = FieldType(gv, [gv.irrep(1)]), FieldType(gv, [gv.irrep(2)])
    x, y = va(rand(3, 3)), vb(rand(3, 5, seed=1))
    z = torch.cat([x, y], dim=1)
    assert z.type == va + vb and z.shape == (3, 8)
    assert_equivariant(
        lambda u, v: torch.cat([u, v], dim=1), inputs=(x, y), elements=random_elements(gv, 1), atol=ATOL, rtol=0
    )


def test_tensor_directsum():
    gs = d4()
    ta = FieldType(gs, [gs.regular_repr, gs.irrep(1, 1)])
    tb = FieldType(gs, [gs.trivial_repr])
    a, b = ta(rand(2, ta.size, 3, 3)), tb(rand(2, 1, 3, 3, seed=4))
    s = tensor_directsum([a, b])
    assert isinstance(s, GeometricTensor)
    assert s.type == ta + tb
    assert torch.equal(s.tensor, torch.cat([a.tensor, b.tensor], 1))
    assert tensor_directsum((a,)).type == ta
    assert nn.tensor_directsum is tensor_directsum
    assert_equivariant(
        lambda u, v: tensor_directsum([u, v]), inputs=(a, b), elements=gs.exact_testing_elements, atol=ATOL, rtol=0
    )
    with pytest.raises(ValueError, match="^tensors"):
        tensor_directsum([])
    with pytest.raises(TypeError, match="^tensors"):
        tensor_directsum([a, b.tensor])
    other = c4()
    with pytest.raises(ValueError, match="^tensors"):
        tensor_directsum([a, FieldType(other, [other.trivial_repr])(rand(2, 1, 3, 3))])
    # point clouds must share their points
    pa = ta(rand(4, ta.size), rand(4, 2, seed=1))
    pb = tb(rand(4, 1), rand(4, 2, seed=2))
    with pytest.raises(ValueError, match="^tensors"):
        tensor_directsum([pa, pb])
    with pytest.raises(ValueError, match="^tensors"):
        tensor_directsum([pa, tb(rand(4, 1, 3, 3))])  # a point cloud and a grid
    ok = tensor_directsum([pa, tb(rand(4, 1), pa.coords.clone())])
    assert ok.type == ta + tb and torch.equal(ok.coords, pa.coords)


def test_torch_cat_with_plain_tensor_is_rejected():
    gs = d4()
    ta = FieldType(gs, [gs.trivial_repr])
    a = ta(rand(1, 1, 3, 3))
    with pytest.raises(TypeError):
        torch.cat([a, torch.zeros(1, 1, 3, 3, dtype=DT)], dim=1)


# =============================================================================================
# pickling
# =============================================================================================


def test_geometric_tensor_pickle():
    ft = d4_type()
    x = ft(rand(2, ft.size, 3, 3))
    y = pickle.loads(pickle.dumps(x))
    assert isinstance(y, GeometricTensor)
    assert y.type == ft and torch.equal(y.tensor, x.tensor) and y.coords is None
    g = ft.testing_elements[3]
    assert close(y.transform(g), x.transform(g))
    pc = ft(rand(4, ft.size), rand(4, 2))
    pc2 = pickle.loads(pickle.dumps(pc))
    assert torch.equal(pc2.tensor, pc.tensor) and torch.equal(pc2.coords, pc.coords) and pc2.type == ft
    r = x.restrict((None, 4))
    r2 = pickle.loads(pickle.dumps(r))
    assert r2.type == r.type and torch.equal(r2.tensor, r.tensor)
    gv = vec_so3()
    v = FieldType(gv, [gv.irrep(1), gv.irrep(2)])(rand(3, 8))
    v2 = pickle.loads(pickle.dumps(v))
    assert v2.type == v.type and torch.equal(v2.tensor, v.tensor)


@pytest.mark.parametrize("shape", [(2, 8, 5, 5), (3, 8), (8,)])
def test_trusted_construction_equals_the_checked_one(shape):
    # layers build their outputs with GeometricTensor._trusted (no checks): the same object state
    gs = gspaces.rot2dOnR2(4) if len(shape) == 4 else gspaces.no_base_space(sg.cyclic_group(4))
    t = nn.FieldType(gs, [gs.regular_repr] * 2)
    x = torch.randn(*shape)
    a, b = nn.GeometricTensor(x, t), nn.GeometricTensor._trusted(x, t)
    assert vars(a).keys() == vars(b).keys()
    assert all(v is vars(b)[k] or v == vars(b)[k] for k, v in vars(a).items() if k != "tensor")
    assert a.tensor is b.tensor
