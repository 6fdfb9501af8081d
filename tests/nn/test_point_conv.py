"""R2PointConv / R3PointConv: exact equivariance to random group elements on random point clouds
(irrep, regular and mixed fields; float32 and float64), translation invariance, agreement with
the numpy-sampled BlockBasisExpansion and a loop reference, both message orders, groups, bias,
batching of graphs, gradients, init, export, caching, pickling and bad input."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

from steerable import gspaces
from steerable.kernels import make_cutoff
from steerable.nn import FieldType, GeometricTensor
from steerable.nn.conv._expansion import BlockBasisExpansion
from steerable.nn.init import deltaorthonormal_init, generalized_he_init
from steerable.nn.point._point_conv import (
    ExportedPointConv,
    PointBasisExpansion,
    R2PointConv,
    R3PointConv,
    point_conv_rings,
    reference_offsets,
)
from steerable.testing import assert_equivariant, random_elements

_CACHE: dict = {}

SPACES = {
    "SO2": lambda: gspaces.rot2dOnR2(-1),
    "C8": lambda: gspaces.rot2dOnR2(8),
    "O2": lambda: gspaces.flipRot2dOnR2(-1),
    "D4": lambda: gspaces.flipRot2dOnR2(4),
    "SO3": lambda: gspaces.rot3dOnR3(),
    "O3": lambda: gspaces.flipRot3dOnR3(),
    "ico": lambda: gspaces.icoOnR3(),
    "octa": lambda: gspaces.octaOnR3(),
}
KINDS = ["irrep", "regular", "mixed"]
WIDTH, N_RINGS, RADIUS = 1.5, 3, 1.4


def _space(name):
    key = ("gs", name)
    if key not in _CACHE:
        _CACHE[key] = SPACES[name]()
    return _CACHE[key]


def _irreps(gs):
    G = gs.fibergroup
    irr = G.irreps() if G.order() > 0 else G.bl_irreps(2)
    return [gs.irrep(*i.id) for i in irr]


def _types(gs, kind):
    irr = _irreps(gs)
    nontriv = [r for r in irr if not r.is_trivial()]
    if kind == "irrep":
        return FieldType(gs, nontriv[:2]), FieldType(gs, nontriv[1:3] + nontriv[:1])
    if kind == "regular":
        return FieldType(gs, [gs.regular_repr]), FieldType(gs, [gs.regular_repr])
    return (
        FieldType(gs, [gs.trivial_repr, gs.regular_repr, nontriv[0]]),
        FieldType(gs, [nontriv[1], gs.regular_repr, gs.trivial_repr]),
    )


def _conv_cls(gs):
    return R2PointConv if gs.dimensionality == 2 else R3PointConv


def _conv(name, kind, dtype=torch.float32):
    key = (name, kind, dtype)
    if key not in _CACHE:
        if dtype == torch.float32:
            gs = _space(name)
            tin, tout = _types(gs, kind)
            torch.manual_seed(0)
            _CACHE[key] = _conv_cls(gs)(tin, tout, width=WIDTH, n_rings=N_RINGS)
        else:
            _CACHE[key] = copy.deepcopy(_conv(name, kind)).to(dtype)
    return _CACHE[key]


def _graph(d, n=30, seed=0, dtype=torch.float32, radius=RADIUS):
    gen = torch.Generator().manual_seed(seed)
    pos = torch.randn(n, d, generator=gen, dtype=torch.float64).to(dtype)
    edge_index = (torch.cdist(pos, pos) < radius).nonzero().T.contiguous()
    return pos, edge_index


def _input(conv, n=30, seed=0, dtype=torch.float32):
    pos, ei = _graph(conv.in_type.gspace.dimensionality, n, seed, dtype)
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(n, conv.in_type.size, generator=gen, dtype=torch.float64).to(dtype)
    # make sure a few edges carry a non-trivial kernel: the bias must not dominate
    if conv.bias is not None:
        with torch.no_grad():
            conv.bias.normal_(0, 0.1, generator=torch.Generator().manual_seed(5))
    return GeometricTensor(x, conv.in_type, pos), ei


# ---------------------------------------------------------------------------------------------
# equivariance
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", list(SPACES))
def test_equivariance_random_elements(name, kind):
    for dtype, tol in ((torch.float32, 1e-5), (torch.float64, 1e-10)):
        conv = _conv(name, kind, dtype).eval()
        x, ei = _input(conv, dtype=dtype)
        assert ei.shape[1] > 30 * 3  # a real graph, not only self-loops
        with torch.no_grad():
            out = conv(x, ei)
            assert out.tensor.abs().max() > 1e-2 and out.coords is x.coords
        # rotations (and relabelled points: the sum over the edges does not depend on their order)
        assert_equivariant(
            conv, inputs=(x, ei), elements=random_elements(conv.in_type, 4, seed=1), rtol=tol, permute=True
        )
        # translations: only offsets matter (the output's points move along)
        move = lambda v, s: GeometricTensor(v.tensor, v.type, v.coords + s)
        assert_equivariant(
            conv,
            inputs=(x, ei),
            elements=[torch.randn(1, conv._d, dtype=dtype) * 3],
            in_action=lambda xs, s, move=move: (move(xs[0], s), xs[1]),
            out_action=move,
            rtol=10 * tol,
        )


@pytest.mark.parametrize("name", ["C8", "D4", "octa"])
def test_equivariance_all_elements_and_check_method(name):
    conv = _conv(name, "mixed", torch.float64).eval()
    x, ei = _input(conv, dtype=torch.float64)
    assert_equivariant(conv, inputs=(x, ei), elements=conv.in_type.gspace.fibergroup.elements, rtol=1e-10)
    errs = _conv(name, "mixed").check_equivariance()
    assert len(errs) > 1 and max(e for _, e in errs) < 1e-5


# ---------------------------------------------------------------------------------------------
# correctness against references
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["C8", "O2", "SO3", "ico"])
def test_filter_matches_numpy_block_expansion(name):
    conv = _conv(name, "mixed", torch.float64)
    e = conv.basisexpansion
    d = conv._d
    pts = np.random.default_rng(0).normal(size=(9, d))
    pts[0] = 0.0
    ref = BlockBasisExpansion(
        conv.in_type, conv.out_type, pts, conv.rings, conv.sigmas, make_cutoff(3.0), dtype=torch.float64
    )
    assert ref.dimension == e.dimension and ref._types == e._types
    w = torch.randn(1, e.dimension, dtype=torch.float64)
    f_ref = ref(w)
    torch.testing.assert_close(e(w, torch.tensor(pts)), f_ref, atol=1e-12, rtol=0)
    with torch.no_grad():
        conv.weights.copy_(w[0])
        torch.testing.assert_close(conv.expand_filter(torch.tensor(pts)), f_ref[0].permute(2, 0, 1), atol=1e-12, rtol=0)
    # the parent's forward (sampling through basis_tensor at the reference offsets) agrees with ours
    torch.testing.assert_close(BlockBasisExpansion.forward(e, w), e(w), atol=1e-12, rtol=0)
    name0 = e._types[0][0]
    torch.testing.assert_close(
        e.basis_tensor(name0), torch.tensor(e._pair_bases[name0].sample(e._points)), atol=1e-12, rtol=0
    )


def test_messages_match_loop_reference_and_both_orders():
    conv = _conv("SO2", "mixed", torch.float64)
    x, ei = _input(conv, n=12, dtype=torch.float64)
    with torch.no_grad():
        out = conv(x, ei).tensor
        src, dst = ei
        k = conv.expand_filter(x.coords[src] - x.coords[dst])
        ref = torch.zeros_like(out) + conv.expand_bias()
        for e in range(ei.shape[1]):
            ref[dst[e]] += k[e] @ x.tensor[src[e]]
        torch.testing.assert_close(out, ref, atol=1e-12, rtol=0)
        for mode in ("filter", "features"):
            conv._message_mode = mode
            try:
                torch.testing.assert_close(conv(x, ei).tensor, ref, atol=1e-12, rtol=0)
            finally:
                conv._message_mode = "auto"


def test_edge_delta_isolated_nodes_and_bias():
    gs = _space("C8")
    tin, tout = FieldType(gs, [gs.regular_repr]), FieldType(gs, [gs.regular_repr, gs.irrep(1)])
    conv = R2PointConv(tin, tout, rings=[0.0, 1.0]).double()
    x, ei = _input(conv, dtype=torch.float64)
    with torch.no_grad():
        out = conv(x, ei).tensor
        delta = x.coords[ei[0]] - x.coords[ei[1]]
        torch.testing.assert_close(conv(x, ei, edge_delta=delta).tensor, out)
        # no edges: every node gets the bias, which lives on the trivial components only
        b = conv(x, torch.zeros(2, 0, dtype=torch.long)).tensor
        torch.testing.assert_close(b, conv.expand_bias().expand_as(b))
        assert torch.all(b[:, 8:] == 0) and torch.allclose(b[:, :8], b[:, :1].expand(-1, 8))
        g = gs.fibergroup.element(3)
        torch.testing.assert_close(torch.as_tensor(tout.fiber_representation(g)) @ b[0], b[0])
    assert R2PointConv(FieldType(gs, [gs.irrep(1)]), FieldType(gs, [gs.irrep(2)]), rings=[0.0, 1.0]).bias is None
    assert R2PointConv(tin, tout, rings=[0.0, 1.0], bias=False).bias is None


def test_groups():
    gs = _space("C8")
    t_in = FieldType(gs, [gs.regular_repr, gs.irrep(1)] * 2)
    t_out = FieldType(gs, [gs.irrep(2), gs.regular_repr] * 2)
    conv = R2PointConv(t_in, t_out, groups=2, width=WIDTH, n_rings=N_RINGS).double()
    single = R2PointConv(t_in.index_select([0, 1]), t_out.index_select([0, 1]), width=WIDTH, n_rings=N_RINGS)
    assert conv.weights.numel() == 2 * single.weights.numel()
    x, ei = _input(conv, dtype=torch.float64)
    with torch.no_grad():
        out = conv(x, ei).tensor
        x2 = x.tensor.clone()
        x2[:, 10:] += torch.randn_like(x2[:, 10:])
        out2 = conv(GeometricTensor(x2, t_in, x.coords), ei).tensor
        torch.testing.assert_close(out2[:, :10], out[:, :10])  # group 0 does not see group 1
        assert not torch.allclose(out2[:, 10:], out[:, 10:])
        assert_equivariant(conv, inputs=(x, ei), elements=random_elements(gs.fibergroup, 4), rtol=1e-10)
        k = conv.expand_filter(torch.randn(4, 2, dtype=torch.float64))
        assert k.shape == (4, 20, 20) and torch.all(k[:, :10, 10:] == 0) and torch.all(k[:, 10:, :10] == 0)


def test_batching_graphs_by_offsetting_indices():
    conv = _conv("SO3", "mixed")
    xa, ea = _input(conv, n=12, seed=1)
    xb, eb = _input(conv, n=17, seed=2)
    x = GeometricTensor(torch.cat([xa.tensor, xb.tensor]), conv.in_type, torch.cat([xa.coords, xb.coords]))
    ei = torch.cat([ea, eb + 12], 1)
    with torch.no_grad():
        out = conv(x, ei).tensor
        torch.testing.assert_close(out[:12], conv(xa, ea).tensor, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(out[12:], conv(xb, eb).tensor, atol=1e-6, rtol=1e-5)


def test_gradients_flow():
    gs = _space("O3")
    tin, tout = _types(gs, "mixed")
    conv = R3PointConv(tin, tout, width=WIDTH, n_rings=N_RINGS)
    x, ei = _input(conv)
    x.tensor.requires_grad_(True)
    x.coords.requires_grad_(True)
    conv(x, ei).tensor.pow(2).sum().backward()
    for t in (conv.weights.grad, conv.bias.grad, x.tensor.grad, x.coords.grad):
        assert t is not None and torch.isfinite(t).all() and t.abs().max() > 0


# ---------------------------------------------------------------------------------------------
# parameters, init, export, state
# ---------------------------------------------------------------------------------------------
def test_rings_and_sigmas():
    assert point_conv_rings(width=2.0, n_rings=3) == ([0.0, 1.0, 2.0], [0.005, 0.6, 0.4])
    # escnn's radii: torch's float32 linspace
    assert point_conv_rings(width=2.5) == (torch.linspace(0, 2.5, 4).tolist(), [0.005, 0.6, 0.6, 0.4])
    assert point_conv_rings(rings=[0.5, 1.0], sigma=0.3) == ([0.5, 1.0], [0.3, 0.3])
    assert point_conv_rings(rings=[0.0, 1.0], sigma=[0.1, 0.2])[1] == [0.1, 0.2]
    assert reference_offsets([0.0, 1.0, 2.0], 2).shape == (25, 2)
    assert np.abs(reference_offsets([0.0, 0.5], 3)).max() == 0.5
    gs = _space("C8")
    t = FieldType(gs, [gs.regular_repr])
    conv = R2PointConv(t, t, rings=[0.0, 1.0], frequencies_cutoff=1.0)
    assert max(a["frequency"] for a in conv.basisexpansion.attributes) == 1
    conv = R2PointConv(
        t, t, rings=[0.0, 1.0], frequencies_cutoff=lambda r: 2 * r, basis_filter=lambda a: a["frequency"] != 1
    )
    assert {a["frequency"] for a in conv.basisexpansion.attributes} == {0, 2}


def test_init():
    conv = _conv("octa", "regular")
    w = conv.weights.detach()
    assert torch.isfinite(w).all() and w.std() > 0
    # the init helpers work on the point expansion (reference offsets, centre included)
    w2 = torch.zeros_like(conv.weights)
    generalized_he_init(w2, conv.basisexpansion)
    assert w2.std() > 0
    deltaorthonormal_init(w2, conv.basisexpansion)
    assert torch.isfinite(w2).all() and w2.abs().max() > 0
    x, ei = _input(conv)
    with torch.no_grad():
        out = conv(x, ei).tensor
    assert 0.05 < out.std().item() < 50  # He-initialised: an O(1) response
    plain = R3PointConv(conv.in_type, conv.out_type, width=WIDTH, n_rings=N_RINGS, initialize=False)
    assert torch.all(plain.weights == 0)


def test_export_pickle_deepcopy_state():
    conv = _conv("ico", "mixed")
    x, ei = _input(conv)
    with torch.no_grad():
        out = conv(x, ei).tensor
    ex = conv.export()
    assert isinstance(ex, ExportedPointConv) and not any(True for _ in ex.parameters())
    for v in vars(ex).values():
        assert not isinstance(v, (FieldType, gspaces.GSpace))
    with torch.no_grad():
        torch.testing.assert_close(ex(x.tensor, x.coords, ei), out, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(
            ex(x.tensor, x.coords, ei, x.coords[ei[0]] - x.coords[ei[1]]), out, atol=1e-5, rtol=1e-5
        )
    ex64 = _conv("ico", "mixed", torch.float64).export()
    x64, _ = _input(_conv("ico", "mixed", torch.float64), dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(
            ex64(x64.tensor, x64.coords, ei), _conv("ico", "mixed", torch.float64)(x64, ei).tensor, atol=1e-12, rtol=0
        )
    for clone in (pickle.loads(pickle.dumps(conv)), copy.deepcopy(conv), pickle.loads(pickle.dumps(ex))):
        with torch.no_grad():
            res = clone(x, ei).tensor if not isinstance(clone, ExportedPointConv) else clone(x.tensor, x.coords, ei)
        torch.testing.assert_close(res, out)
    keys = set(conv.state_dict())
    assert keys == {"weights", "bias"}
    conv.eval()
    assert set(conv.state_dict()) == keys
    conv.train()
    a = R3PointConv(conv.in_type, conv.out_type, width=WIDTH, n_rings=N_RINGS)
    b = R3PointConv(conv.in_type, conv.out_type, width=WIDTH, n_rings=N_RINGS)
    assert [n for n, _ in a.named_parameters()] == [n for n, _ in b.named_parameters()] == ["weights", "bias"]
    assert [(n, t.shape) for n, t in a.named_buffers()] == [(n, t.shape) for n, t in b.named_buffers()]
    b.load_state_dict(a.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(a(x, ei).tensor, b(x, ei).tensor)
    assert conv.basissampler is conv.basisexpansion
    assert conv.evaluate_output_shape((30, conv.in_type.size)) == (30, conv.out_type.size)


def test_eval_cache_follows_weights():
    gs = _space("D4")
    tin, tout = _types(gs, "regular")
    conv = R2PointConv(tin, tout, width=WIDTH, n_rings=N_RINGS)
    x, ei = _input(conv)
    conv.eval()
    with torch.no_grad():
        a = conv(x, ei).tensor
        assert conv._cache is not None
        conv.weights.mul_(2.0)
        b = conv(x, ei).tensor
    conv.train()
    torch.testing.assert_close(conv(x, ei).tensor.detach(), b)
    assert not torch.allclose(a, b)


def test_float64_module():
    conv = _conv("SO2", "regular", torch.float64)
    x, ei = _input(conv, dtype=torch.float64)
    out = conv(x, ei)
    assert out.tensor.dtype == torch.float64 and out.type == conv.out_type


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------
def test_forward_bad_input():
    conv = _conv("C8", "regular")
    x, ei = _input(conv)
    grid = GeometricTensor(torch.randn(1, conv.in_type.size, 5, 5), conv.in_type)
    with pytest.raises(ValueError, match="coords"):
        conv(grid, ei)
    with pytest.raises(TypeError, match="GeometricTensor"):
        conv(x.tensor, ei)
    other = FieldType(conv.in_type.gspace, [conv.in_type.gspace.trivial_repr] * 8)
    with pytest.raises(ValueError, match="field type"):
        conv(GeometricTensor(x.tensor, other, x.coords), ei)
    with pytest.raises(ValueError, match="edge_index"):
        conv(x, ei.T.contiguous())
    with pytest.raises(ValueError, match="edge_index"):
        conv(x, ei[0])
    with pytest.raises(ValueError, match="edge_index"):
        conv(x, torch.cat([ei, ei[:1]], 0))
    with pytest.raises(TypeError, match="edge_index"):
        conv(x, ei.float())
    with pytest.raises(TypeError, match="edge_index"):
        conv(x, ei.tolist())
    with pytest.raises(ValueError, match="edge_index"):
        conv(x, ei + 100)
    with pytest.raises(ValueError, match="edge_delta"):
        conv(x, ei, edge_delta=torch.randn(ei.shape[1], 3))
    with pytest.raises(TypeError, match="edge_delta"):
        conv(x, ei, edge_delta=torch.ones(ei.shape[1], 2, dtype=torch.long))
    with pytest.raises(TypeError, match="dtype"):
        conv(x.to(torch.float64), ei)
    with pytest.raises(ValueError, match="input_shape"):
        conv.evaluate_output_shape((30, 3))
    assert conv(x, ei.int()).tensor.shape == (30, 8)  # int32 indices are accepted


def test_construction_errors():
    gs = _space("C8")
    t = FieldType(gs, [gs.regular_repr])
    t3 = FieldType(_space("octa"), [_space("octa").regular_repr])
    with pytest.raises(TypeError, match="in_type"):
        R2PointConv(gs.regular_repr, t, width=1.0)
    with pytest.raises(ValueError, match="in_type"):
        R2PointConv(t3, t3, width=1.0)
    with pytest.raises(ValueError, match="in_type"):
        R3PointConv(t, t, width=1.0)
    with pytest.raises(ValueError, match="out_type"):
        R2PointConv(t, FieldType(_space("D4"), [_space("D4").regular_repr]), width=1.0)
    with pytest.raises(ValueError, match="width"):
        R2PointConv(t, t)
    with pytest.raises(ValueError, match="rings"):
        R2PointConv(t, t, rings=[0.0, 1.0], width=1.0)
    with pytest.raises(ValueError, match="rings"):
        R2PointConv(t, t, rings=[])
    with pytest.raises(ValueError, match="rings"):
        R2PointConv(t, t, rings=[-1.0])
    with pytest.raises(ValueError, match="width"):
        R2PointConv(t, t, width=-1.0)
    with pytest.raises(ValueError, match="n_rings"):
        R2PointConv(t, t, width=1.0, n_rings=0)
    with pytest.raises(ValueError, match="sigma"):
        R2PointConv(t, t, rings=[0.0, 1.0], sigma=[0.5])
    with pytest.raises(ValueError, match="sigma"):
        R2PointConv(t, t, rings=[0.0, 1.0], sigma=-0.5)
    with pytest.raises(TypeError, match="frequencies_cutoff"):
        R2PointConv(t, t, width=1.0, frequencies_cutoff="high")
    with pytest.raises(TypeError, match="basis_filter"):
        R2PointConv(t, t, width=1.0, basis_filter=3)
    with pytest.raises(ValueError, match="groups"):
        R2PointConv(t, t, width=1.0, groups=2)
    with pytest.raises(ValueError, match="groups"):
        R2PointConv(t, t, width=1.0, groups=0)
    with pytest.raises(ValueError, match="groups"):
        R2PointConv(t + FieldType(gs, [gs.trivial_repr]), t + t, width=1.0, groups=2)
    with pytest.raises(TypeError, match="initialize"):
        R2PointConv(t, t, width=1.0, initialize="yes")
    with pytest.warns(UserWarning, match="identically zero"):
        empty = R2PointConv(FieldType(gs, [gs.trivial_repr]), FieldType(gs, [gs.irrep(1)]), rings=[0.0])
    pos, ei = _graph(2, n=6)
    assert empty.weights.numel() == 0
    assert torch.all(empty(empty.in_type(torch.randn(6, 1), coords=pos), ei).tensor == 0)


def test_point_basis_expansion_standalone():
    gs = _space("SO3")
    t = FieldType(gs, [gs.irrep(1), gs.irrep(2)])
    e = PointBasisExpansion(t, t, [0.0, 1.0], [0.005, 0.6], make_cutoff(3.0))
    w = torch.randn(2, e.dimension)
    assert e(w).shape == (2, 8, 8, e.n_points) == (2, 8, 8, len(reference_offsets([0.0, 1.0], 3)))
    assert e.coefficients(w).shape == (2, 8, 8, e.n_features)
    assert set(e.state_dict()) == set()


def test_eval_cache_follows_edits_through_data():
    """The shared ExpansionCacheMixin compares parameter values, so .data edits are seen."""
    import torch

    from steerable import gspaces
    from steerable.nn import FieldType
    from steerable.nn.point._point_conv import R2PointConv

    gs = gspaces.rot2dOnR2(-1, maximum_frequency=2)
    t = FieldType(gs, [gs.trivial_repr, gs.irrep(1)])
    conv = R2PointConv(t, t, width=2.0).eval()
    pos = torch.randn(12, 2)
    ei = torch.cartesian_prod(torch.arange(12), torch.arange(12)).T.contiguous()
    x = t(torch.randn(12, t.size), coords=pos)
    with torch.no_grad():
        before = conv(x, ei).tensor.clone()
        conv.weights.data.mul_(3.0)
        after = conv(x, ei).tensor
    assert not torch.allclose(before, after)
