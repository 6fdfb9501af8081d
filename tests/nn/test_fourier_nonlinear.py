"""Fourier nonlinearities: FourierPointwise / FourierELU / QuotientFourierPointwise / QuotientFourierELU.

Exact equivariance (float32, 1e-5 relative) wherever the grid is closed under the testing
elements: finite groups with their regular grid (all elements), SO(2)/O(2) with regular grids of
4k points (90° rotations, flips), SO(3)/O(3) with the 'cube' and 'thomson_cube' grids (the cube's
symmetries). For continuous groups and random elements the map is only approximately equivariant:
the fibre-only error must decrease as the grid grows and be < 1e-2 for a generous grid.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

from steerable import gspaces
from steerable.group import (
    FourierTransform,
    cyclic_group,
    dihedral_group,
    ico_group,
    o2_group,
    o3_group,
    octa_group,
    sampling_matrix,
    so2_group,
    so3_group,
    tetra_group,
)
from steerable.group._quotient_fourier import QuotientFourierTransform, quotient_sampling_matrix
from steerable.nn import GeometricTensor
from steerable.nn.nonlinear._fourier import (
    FourierELU,
    FourierPointwise,
    FourierPointwiseExport,
    QuotientFourierELU,
    QuotientFourierPointwise,
)
from steerable.testing import assert_equivariant, equivariance_errors, random_elements

FUNCS = ["p_relu", "p_elu", "p_sigmoid", "p_tanh"]


def _all(gs):
    return [p.id for p in gs.fibergroup.irreps()]


def _spatial(gs):
    return {0: (), 2: (7, 7), 3: (5, 5, 5)}[gs.dimensionality]


def _input(m, batch=2, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    shape = (batch, m.in_type.size) + _spatial(m.in_type.gspace)
    return torch.randn(*shape, generator=g, dtype=dtype)


def _fibre_error(m, n=8, batch=64, seed=0):
    """Mean over random g of ||f(ρ(g)x) − ρ(g)f(x)|| / ||f(x)|| (fibres only)."""
    G = m.in_type.gspace.fibergroup
    x = m.in_type(torch.randn(batch, m.in_type.size, generator=torch.Generator().manual_seed(seed)))
    errs = equivariance_errors(m, inputs=x, elements=random_elements(G, n, seed + 1), fibers_only=True)
    return float(np.mean([e.rel_norm for e in errs]))


# ------------------------------------------------------------------------------------------
# exact equivariance: finite groups (regular grid = all elements), spatial and fibre-only
# ------------------------------------------------------------------------------------------
FINITE_SPACES = {
    "C4onR2": lambda: gspaces.rot2dOnR2(4),
    "C8onR2": lambda: gspaces.rot2dOnR2(8),
    "D4onR2": lambda: gspaces.flipRot2dOnR2(4),
    "flip2d": lambda: gspaces.flip2dOnR2(),
    "octaOnR3": lambda: gspaces.octaOnR3(),
    "fullOctaOnR3": lambda: gspaces.fullOctaOnR3(),
    "icoOnR3": lambda: gspaces.icoOnR3(),
    "tetraOnR3": lambda: gspaces.tetraOnR3(),
    "R0_C5": lambda: gspaces.no_base_space(cyclic_group(5)),
    "R0_D3": lambda: gspaces.no_base_space(dihedral_group(3)),
    "R0_ico": lambda: gspaces.no_base_space(ico_group()),
}


@pytest.mark.parametrize("name", list(FINITE_SPACES))
@pytest.mark.parametrize("function", ["p_relu", "p_elu"])
def test_finite_exact(name, function):
    gs = FINITE_SPACES[name]()
    m = FourierPointwise(gs, 2, _all(gs), function=function)
    assert len(m.grid) == gs.fibergroup.order()
    assert_equivariant(m, inputs=m.in_type(_input(m)))


@pytest.mark.parametrize("name", ["C8onR2", "D4onR2", "octaOnR3", "R0_D3"])
def test_finite_exact_out_irreps(name):
    gs = FINITE_SPACES[name]()
    ids = _all(gs)
    m = FourierELU(gs, 2, ids, out_irreps=ids[:2])
    assert m.out_type.size == 2 * sum(
        gs.fibergroup.irrep(*i).size ** 2 // gs.fibergroup.irrep(*i).sum_of_squares_constituents for i in ids[:2]
    )
    assert_equivariant(m, inputs=m.in_type(_input(m)))


def test_finite_fibre_exact_all_elements():
    gs = gspaces.no_base_space(octa_group())
    m = FourierPointwise(gs, 3, _all(gs), function="p_relu")
    x = m.in_type(torch.randn(4, m.in_type.size))
    assert_equivariant(m, inputs=x, elements=gs.fibergroup.elements, fibers_only=True)


@pytest.mark.parametrize("G", [cyclic_group(6), dihedral_group(3), tetra_group()], ids=["C6", "D3", "tetra"])
def test_samples_are_function_values(G):
    """On the regular grid (normalize=False) the output's samples are σ of the input's samples."""
    gs = gspaces.no_base_space(G)
    ids = _all(gs)
    m = FourierPointwise(gs, 1, ids, function="p_relu", normalize=False).double()
    A = torch.as_tensor(sampling_matrix(G, ids, m.grid))
    x = torch.randn(5, A.shape[1], dtype=torch.float64)
    y = m(m.in_type(x)).tensor
    assert torch.allclose(y @ A.T, torch.relu(x @ A.T), atol=1e-10)


def test_representation_is_fourier_transform_representation():
    G = so2_group(3)
    gs = gspaces.rot2dOnR2(-1, maximum_frequency=3)
    m = FourierELU(gs, 2, 3, "regular", 8)
    assert m.in_type.representations[0] == FourierTransform(G, 3, G.grid("regular", 8)).representation
    assert m.in_type == m.out_type


# ------------------------------------------------------------------------------------------
# continuous groups: exact on grids closed under the testing elements, approximate otherwise
# ------------------------------------------------------------------------------------------
CLOSED_GRIDS = [
    ("SO2_reg8", lambda: gspaces.rot2dOnR2(-1, maximum_frequency=3), 3, ("regular", 8), {}),
    ("SO2_reg12", lambda: gspaces.rot2dOnR2(-1, maximum_frequency=3), 2, ("regular", 12), {}),
    ("SO2_escnn_kwargs", lambda: gspaces.rot2dOnR2(-1, maximum_frequency=3), 2, (), {"N": 16, "type": "regular"}),
    ("O2_reg8", lambda: gspaces.flipRot2dOnR2(-1, maximum_frequency=3), 3, ("regular", 8), {}),
    ("SO3_cube", lambda: gspaces.rot3dOnR3(maximum_frequency=1), 1, ("cube",), {}),
    ("SO3_thomson_cube", lambda: gspaces.rot3dOnR3(maximum_frequency=2), 2, ("thomson_cube", 3), {}),
    ("SO3_escnn_kwargs", lambda: gspaces.rot3dOnR3(maximum_frequency=2), 2, (), {"type": "thomson_cube", "N": 3}),
    ("O3_cube", lambda: gspaces.flipRot3dOnR3(maximum_frequency=1), 1, ("cube",), {}),
    ("O3_thomson_cube", lambda: gspaces.flipRot3dOnR3(maximum_frequency=1), 1, ("thomson_cube", 1), {}),
]


@pytest.mark.parametrize("name,make,L,args,kwargs", CLOSED_GRIDS, ids=[c[0] for c in CLOSED_GRIDS])
def test_continuous_exact_on_closed_grid(name, make, L, args, kwargs):
    gs = make()
    m = FourierELU(gs, 2, L, *args, **kwargs)
    assert_equivariant(m, inputs=m.in_type(_input(m)))


APPROX = [
    ("SO2", lambda: gspaces.no_base_space(so2_group(2)), 2, [("regular", 8), ("regular", 16), ("regular", 64)]),
    ("O2", lambda: gspaces.no_base_space(o2_group(2)), 2, [("regular", 8), ("regular", 16), ("regular", 64)]),
    ("SO3", lambda: gspaces.no_base_space(so3_group(1)), 1, [("thomson", 12), ("thomson", 40), ("thomson", 200)]),
    ("SO3_tc", lambda: gspaces.no_base_space(so3_group(1)), 1, [("cube",), ("thomson_cube", 2), ("thomson_cube", 8)]),
    ("O3", lambda: gspaces.no_base_space(o3_group(1)), 1, [("thomson", 12), ("thomson", 40), ("thomson", 200)]),
]


@pytest.mark.parametrize("name,make,L,grids", APPROX, ids=[a[0] for a in APPROX])
def test_continuous_error_decreases(name, make, L, grids):
    gs = make()
    errs = [_fibre_error(FourierELU(gs, 2, L, *g)) for g in grids]
    assert errs[0] > errs[1] > errs[2], errs
    assert errs[-1] < 1e-2, errs


@pytest.mark.parametrize("args", [("ico",), ("tetra",), ("rand", 60)])
def test_so3_other_grids_run(args):
    gs = gspaces.rot3dOnR3(maximum_frequency=1)
    m = FourierELU(gs, 1, 1, *args)
    y = m(m.in_type(_input(m)))
    assert torch.isfinite(y.tensor).all()
    assert _fibre_error(FourierELU(gspaces.no_base_space(so3_group(1)), 2, 1, *args)) < 0.3


def test_so2_rand_grid_and_explicit_grid():
    G = so2_group(2)
    gs = gspaces.no_base_space(G)
    a = FourierELU(gs, 2, 2, "rand", 40, seed=3)
    b = FourierELU(gs, 2, 2, grid=G.grid("rand", 40, seed=3))
    x = a.in_type(torch.randn(3, a.in_type.size))
    assert torch.equal(a(x).tensor, b(x).tensor)


# ------------------------------------------------------------------------------------------
# quotient spaces
# ------------------------------------------------------------------------------------------
QUOTIENT_EXACT = [
    ("C8/C2", lambda: gspaces.rot2dOnR2(8), 2, None, ()),
    ("C8/C4", lambda: gspaces.rot2dOnR2(8), 4, None, ()),
    ("D4/C4", lambda: gspaces.flipRot2dOnR2(4), (None, 4), None, ()),
    ("D4/D2", lambda: gspaces.flipRot2dOnR2(4), (0, 2), None, ()),
    ("octa/C4", lambda: gspaces.octaOnR3(), (False, 4), None, ()),
    ("ico/C5", lambda: gspaces.icoOnR3(), (False, 5), None, ()),
    ("O2/SO2", lambda: gspaces.flipRot2dOnR2(-1, maximum_frequency=2), (None, -1), 2, ("regular", 4)),
    ("SO2/C2", lambda: gspaces.rot2dOnR2(-1, maximum_frequency=4), 2, 4, ("regular", 16)),
    ("sphere_cube", lambda: gspaces.rot3dOnR3(maximum_frequency=2), (False, -1), 2, ("thomson_cube", 2)),
    ("O3/SO2_cube", lambda: gspaces.flipRot3dOnR3(maximum_frequency=2), (False, False, -1), 2, ("thomson_cube", 2)),
    ("O3/SO3", lambda: gspaces.flipRot3dOnR3(maximum_frequency=2), "so3", 2, ("cube",)),
]


@pytest.mark.parametrize("name,make,sid,L,args", QUOTIENT_EXACT, ids=[q[0] for q in QUOTIENT_EXACT])
def test_quotient_exact(name, make, sid, L, args):
    gs = make()
    irreps = _all(gs) if L is None else L
    m = QuotientFourierELU(gs, sid, 2, irreps, *args)
    assert_equivariant(m, inputs=m.in_type(_input(m)))
    mr = QuotientFourierPointwise(gs, sid, 1, irreps, *args, function="p_relu")
    assert_equivariant(mr, inputs=mr.in_type(_input(mr)))


@pytest.mark.parametrize(
    "G,sid",
    [(cyclic_group(8), 2), (dihedral_group(4), (None, 4)), (octa_group(), (False, 3))],
    ids=["C8/C2", "D4/C4", "octa/C3"],
)
def test_quotient_samples(G, sid):
    """Samples of a quotient function are constant on cosets; output samples = σ(input samples)."""
    gs = gspaces.no_base_space(G)
    m = QuotientFourierPointwise(gs, sid, 1, _all(gs), function="p_relu", normalize=False).double()
    A = torch.as_tensor(quotient_sampling_matrix(G, sid, _all(gs), m.grid))
    H, incl, _ = G.subgroup(sid)
    assert np.allclose(
        quotient_sampling_matrix(G, sid, _all(gs), [g @ incl(H.elements[-1]) for g in m.grid]), A.numpy(), atol=1e-12
    )
    x = torch.randn(4, A.shape[1], dtype=torch.float64)
    y = m(m.in_type(x)).tensor
    assert torch.allclose(y @ A.T, torch.relu(x @ A.T), atol=1e-10)


def test_sphere_error_decreases():
    gs = gspaces.no_base_space(so3_group(2))
    errs = [_fibre_error(QuotientFourierELU(gs, (False, -1), 2, 2, "thomson", n)) for n in (16, 50, 300)]
    assert errs[0] > errs[1] > errs[2], errs
    assert errs[-1] < 1e-2, errs


def test_sphere_type():
    G = so3_group(3)
    gs = gspaces.rot3dOnR3(maximum_frequency=3)
    m = QuotientFourierELU(gs, (False, -1), 2, 3, "thomson", 40)
    assert m.rho.irreps == [(0,), (1,), (2,), (3,)] and m.rho.size == 16
    assert m.in_type.representations[0] == QuotientFourierTransform(G, (False, -1), 3, m.grid).representation
    m2 = QuotientFourierELU(gs, (False, -1), 2, 3, "thomson", 40, out_irreps=[(0,), (1,)])
    assert m2.out_type.size == 2 * 4
    y = m2(m2.in_type(torch.randn(2, 32, 3, 3, 3)))
    assert y.shape == (2, 8, 3, 3, 3)


# ------------------------------------------------------------------------------------------
# autograd: custom Function gradients, memory, agreement with the plain graph
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("function", FUNCS)
@pytest.mark.parametrize("spatial", [True, False])
def test_gradcheck(function, spatial):
    gs = gspaces.rot2dOnR2(-1, maximum_frequency=2) if spatial else gspaces.no_base_space(so2_group(2))
    m = FourierPointwise(gs, 2, 2, "regular", 7, function=function, out_irreps=[(0,), (1,)]).double()
    shape = (2, m.in_type.size) + ((3, 3) if spatial else ())
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: m(m.in_type(t)).tensor, (x,))


def test_gradcheck_quotient_and_gradgrad():
    gs = gspaces.no_base_space(so3_group(2))
    m = QuotientFourierELU(gs, (False, -1), 2, 2, "thomson", 20).double()
    x = torch.randn(3, m.in_type.size, dtype=torch.float64, requires_grad=True)
    f = lambda t: m(m.in_type(t)).tensor
    assert torch.autograd.gradcheck(f, (x,))
    assert torch.autograd.gradgradcheck(f, (x,))


def test_gradcheck_callable():
    gs = gspaces.no_base_space(cyclic_group(4))
    m = FourierPointwise(gs, 2, _all(gs), function=torch.nn.functional.softplus).double()
    x = torch.randn(3, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: m(m.in_type(t)).tensor, (x,))


def _saved_bytes(fn, x, exclude):
    total = 0
    seen = set()

    def pack(t):
        nonlocal total
        key = (t.untyped_storage().data_ptr(), t.numel())
        if t.untyped_storage().data_ptr() not in exclude and key not in seen:
            seen.add(key)
            total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn(x)
    return out, total


def test_memory_saves_only_input_and_matches_plain_graph():
    from steerable.nn.nonlinear._fourier import _fourier_apply

    gs = gspaces.rot2dOnR2(-1, maximum_frequency=3)
    m = FourierELU(gs, 4, 3, "regular", 32)
    x = torch.randn(2, m.in_type.size, 9, 9, requires_grad=True)
    exclude = {m.A.untyped_storage().data_ptr(), m.A_inv.untyped_storage().data_ptr()}
    y1, b1 = _saved_bytes(lambda t: _fourier_apply(t, m.A, m.A_inv, 4, "p_elu"), x, exclude)
    y2, b2 = _saved_bytes(lambda t: _fourier_apply(t, m.A, m.A_inv, 4, "p_elu", recompute=False), x, exclude)
    assert b1 <= x.numel() * x.element_size()
    assert b2 >= 32 / 7 * x.numel() * x.element_size()  # the plain graph keeps the 32 samples
    assert torch.allclose(y1, y2, atol=1e-6)
    g = torch.randn_like(y1)
    (g1,) = torch.autograd.grad(y1, x, g)
    (g2,) = torch.autograd.grad(y2, x, g)
    assert torch.allclose(g1, g2, atol=1e-5)
    assert torch.allclose(m(m.in_type(x)).tensor, y1)


def test_input_not_modified_and_inference_path():
    gs = gspaces.rot2dOnR2(4)
    m = FourierPointwise(gs, 2, _all(gs), function="p_relu", inplace=True)
    x = torch.randn(1, 8, 5, 5)
    x0 = x.clone()
    with torch.no_grad():
        y = m(m.in_type(x)).tensor
    assert torch.equal(x, x0)
    assert torch.allclose(y, m(m.in_type(x.requires_grad_())).tensor.detach())


# ------------------------------------------------------------------------------------------
# export, dtype, state, pickling, shapes
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["R2", "R0", "R3_quotient", "callable"])
def test_export(kind):
    if kind == "R2":
        m = FourierELU(gspaces.rot2dOnR2(-1, maximum_frequency=2), 3, 2, "regular", 10, out_irreps=1)
    elif kind == "R0":
        m = FourierPointwise(gspaces.no_base_space(ico_group()), 2, [(0,), (1,), (3,)], function="p_tanh")
    elif kind == "R3_quotient":
        m = QuotientFourierELU(gspaces.rot3dOnR3(maximum_frequency=2), (False, -1), 2, 2, "thomson", 30)
    else:
        m = FourierPointwise(gspaces.rot2dOnR2(4), 2, [(0,), (1,), (2,)], function=torch.nn.functional.gelu)
    e = m.export()
    assert isinstance(e, FourierPointwiseExport)
    assert not any(
        "steerable" in type(v).__module__ and not isinstance(v, FourierPointwiseExport) for v in vars(e).values()
    )
    x = _input(m)
    assert torch.allclose(e(x), m(m.in_type(x)).tensor, atol=1e-5)
    if x.dim() == 2:
        assert torch.allclose(e(x[0]), m(m.in_type(x[:1])).tensor[0], atol=1e-5)
    e2 = pickle.loads(pickle.dumps(e))
    assert torch.allclose(e2(x), e(x))


def test_float64_exact_buffers():
    G = so3_group(2)
    gs = gspaces.no_base_space(G)
    m = FourierELU(gs, 2, 2, "thomson", 60).double()
    assert m.A.dtype == torch.float64
    assert np.array_equal(m.A.numpy(), m._A_np)
    x = torch.randn(4, m.in_type.size, dtype=torch.float64)
    y = m(m.in_type(x)).tensor
    A, Ai = m._A_np, m._A_inv_np
    s = x.numpy().reshape(4, 2, -1) @ A.T
    ref = (np.where(s > 0, s, np.expm1(s)) @ Ai.T).reshape(4, -1)
    assert np.allclose(y.numpy(), ref, atol=1e-12)
    m.float()
    assert m.A.dtype == torch.float32
    # float64 input to the float32 module uses the exact float64 matrices
    assert np.allclose(m(m.in_type(x)).tensor.numpy(), ref, atol=1e-12)


def test_normalize():
    gs = gspaces.no_base_space(so2_group(3))
    x = torch.randn(5, 14)
    a = FourierPointwise(gs, 2, 3, "regular", 12, normalize=True)
    b = FourierPointwise(gs, 2, 3, "regular", 12, normalize=False)
    # ReLU is positively homogeneous: the normalisation does not change the map
    assert torch.allclose(a(a.in_type(x)).tensor, b(b.in_type(x)).tensor, atol=1e-5)
    assert np.allclose(np.linalg.norm(a._A_np, axis=1), 1.0)
    ea, eb = (FourierELU(gs, 2, 3, "regular", 12, normalize=n) for n in (True, False))
    assert not torch.allclose(ea(ea.in_type(x)).tensor, eb(eb.in_type(x)).tensor, atol=1e-3)


def test_state_pickle_determinism():
    gs = gspaces.rot2dOnR2(8)
    make = lambda: FourierELU(gs, 3, _all(gs))
    m = make()
    assert list(m.state_dict()) == [] and list(m.eval().state_dict()) == []
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in make().named_buffers()] == ["A", "A_inv"]
    assert all(torch.equal(a, b) for (_, a), (_, b) in zip(m.named_buffers(), make().named_buffers()))
    x = m.in_type(torch.randn(2, 24, 5, 5))
    for m2 in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        assert m2.in_type == m.in_type
        assert torch.equal(m2(x).tensor, m(x).tensor)
    q = QuotientFourierELU(gs, 2, 2, _all(gs))
    q2 = pickle.loads(pickle.dumps(q))
    xq = q.in_type(torch.randn(1, q.in_type.size, 3, 3))
    assert torch.equal(q2(xq).tensor, q(xq).tensor)


def test_shapes_points_and_vectors():
    gs = gspaces.rot3dOnR3(maximum_frequency=1)
    m = FourierELU(gs, 2, 1, "cube")
    assert m.evaluate_output_shape((3, 20, 4, 5, 6)) == (3, 20, 4, 5, 6)
    mo = FourierELU(gs, 2, 1, "cube", out_irreps=[(0,)])
    assert mo.evaluate_output_shape((3, 20, 4, 4, 4)) == (3, 2, 4, 4, 4)
    with pytest.raises(ValueError, match="input_shape"):
        m.evaluate_output_shape((3, 19, 4, 4, 4))
    # point clouds: (N, C) with coords; the coords are kept
    feats, coords = torch.randn(6, 20), torch.randn(6, 3)
    y = m(GeometricTensor(feats, m.in_type, coords))
    assert y.coords is coords and y.shape == (6, 20)
    assert_equivariant(m, inputs=GeometricTensor(feats, m.in_type, coords), elements=gs.fibergroup.grid("cube")[5:6])
    # 1-d vectors on no_base_space
    m0 = FourierELU(gspaces.no_base_space(cyclic_group(3)), 2, _all(gspaces.no_base_space(cyclic_group(3))))
    v = torch.randn(6)
    assert torch.allclose(m0(m0.in_type(v)).tensor, m0(m0.in_type(v[None])).tensor[0])


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------
def test_bad_input():
    gs = gspaces.rot2dOnR2(-1, maximum_frequency=3)
    ok = dict(function="p_elu")
    with pytest.raises(ValueError, match="function"):
        FourierPointwise(gs, 2, 2, "regular", 8, function="p_swish")
    with pytest.raises(TypeError, match="function"):
        FourierPointwise(gs, 2, 2, "regular", 8, function=3)
    for bad in (0, -2):
        with pytest.raises(ValueError, match="channels"):
            FourierPointwise(gs, bad, 2, "regular", 8, **ok)
    for bad in (2.5, True, "2"):
        with pytest.raises(TypeError, match="channels"):
            FourierPointwise(gs, bad, 2, "regular", 8, **ok)
    with pytest.raises(ValueError, match="irreps"):
        FourierPointwise(gs, 2, [(0, 1), (1, 1)], "regular", 8, **ok)  # O(2) ids
    with pytest.raises(ValueError, match="irreps"):
        FourierPointwise(gs, 2, so3_group(2).irreps(), "regular", 8, **ok)  # irreps of SO(3)
    with pytest.raises(ValueError, match="irreps"):
        FourierPointwise(gs, 2, [], "regular", 8, **ok)
    with pytest.raises(ValueError, match="irreps"):
        FourierPointwise(gs, 2, [(0,), (1,), (1,)], "regular", 8, **ok)
    with pytest.raises(ValueError, match="out_irreps"):
        FourierPointwise(gs, 2, 2, "regular", 8, out_irreps=[(0, 0)], **ok)
    with pytest.raises(ValueError, match="grid"):
        FourierPointwise(gs, 2, 3, "regular", 5, **ok)  # 5 points, 7 coefficients
    with pytest.raises(ValueError, match="grid"):
        FourierPointwise(gs, 2, 1, "regular", 4, out_irreps=3, **ok)
    with pytest.raises(ValueError, match="grid"):
        FourierELU(gspaces.rot3dOnR3(maximum_frequency=2), 1, 2, "cube")  # 24 points, 35 coefficients
    with pytest.raises(ValueError, match="grid"):
        FourierELU(gs, 1, 1, grid=so3_group(1).grid("cube"))
    with pytest.raises(ValueError, match="type"):
        FourierELU(gs, 2, 2, "hexagonal", 8)
    with pytest.raises(ValueError, match="N"):
        FourierELU(gs, 2, 2, "regular")
    with pytest.raises(TypeError, match="gspace"):
        FourierELU(so2_group(2), 2, 2, "regular", 8)
    with pytest.raises(TypeError, match="function"):
        FourierELU(gs, 2, 2, "regular", 8, function="p_relu")
    s3 = gspaces.rot3dOnR3(maximum_frequency=2)
    with pytest.raises(ValueError, match="subgroup_id"):
        QuotientFourierELU(s3, (False, "bogus"), 2, 2, "thomson", 30)
    with pytest.raises(ValueError, match="irreps"):  # SO(3)/SO(3): only l = 0 has invariants
        QuotientFourierELU(s3, "so3", 2, [(1,), (2,)], "thomson", 30)
    with pytest.raises(ValueError, match="grid"):
        QuotientFourierELU(s3, (False, -1), 2, 2, "thomson", 5)
    m = FourierELU(gs, 2, 2, "regular", 8)
    with pytest.raises(ValueError, match="input"):
        m(FourierELU(gs, 3, 2, "regular", 8).in_type(torch.randn(1, 15, 3, 3)))
    with pytest.raises(TypeError, match="input"):
        m(torch.randn(1, 10, 3, 3))


def test_quotient_fourier_explicit_grid_keyword():
    """escnn's ``grid=`` keyword: an explicit list of group elements instead of grid arguments."""
    gs = gspaces.flipRot2dOnR2(-1, maximum_frequency=2)
    G = gs.fibergroup
    grid = [G.element((0, 0.0)), G.element((1, 0.0))]
    m = QuotientFourierELU(gs, (None, -1), 3, 2, grid=grid)
    ref = QuotientFourierELU(gs, (None, -1), 3, 2, "regular", 1)
    assert len(m.grid) == 2
    x = torch.randn(2, m.in_type.size, 3, 3)
    torch.testing.assert_close(m(m.in_type(x)).tensor, ref(ref.in_type(x)).tensor)
    with pytest.raises(ValueError, match="grid"):
        QuotientFourierPointwise(gs, (None, -1), 3, 2, "regular", 1, grid=grid)
