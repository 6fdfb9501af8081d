"""steerable.testing: every input kind is accepted (grid fields, fibres only, plain vectors,
point clouds, graphs, user actions, nested inputs / outputs), broken functions of each kind fail
with a message naming the element, the error, the tolerance and where, and bad arguments raise
clear TypeError / ValueError."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from steerable import group as sg
from steerable import gspaces, nn
from steerable.testing import (
    ElementError,
    assert_equivariant,
    assert_invariant,
    equivariance_errors,
    exact_elements,
    fibre_elements,
    matrix_action,
    random_elements,
)

C4 = gspaces.rot2dOnR2(4)
D4 = gspaces.flipRot2dOnR2(4)
SO2 = gspaces.rot2dOnR2(-1)
SO3 = gspaces.rot3dOnR3()
OCTA = gspaces.octaOnR3()


def _reg(gs, n=1):
    return nn.FieldType(gs, [gs.regular_repr] * n)


# ------------------------------------------------------------------------------ elements
def test_element_helpers():
    assert len(exact_elements(C4)) == 4 and len(exact_elements(_reg(D4))) == 8
    assert len(exact_elements(gspaces.fullOctaOnR3())) == 48
    assert exact_elements(gspaces.rot2dOnR2(8)) == list(gspaces.rot2dOnR2(8).exact_testing_elements)
    a, b = random_elements(sg.so3_group(), 3, seed=4), random_elements(SO3, 3, seed=4)
    assert a == b and a != random_elements(sg.so3_group(), 3, seed=5)
    assert fibre_elements(sg.octa_group()) == list(sg.octa_group().elements)
    els = fibre_elements(sg.o2_group(), n=2, seed=1)
    assert els[0] == sg.o2_group().identity and len(els) == 1 + len(sg.o2_group().generators) + 2
    with pytest.raises(TypeError, match="space: expected a GSpace or a FieldType, got int"):
        exact_elements(3)
    with pytest.raises(ValueError, match="n: expected a non-negative int"):
        random_elements(sg.so2_group(), -1)
    with pytest.raises(TypeError, match="group: expected a Group"):
        fibre_elements("SO2")
    with pytest.raises(TypeError, match="seed: expected an int"):
        random_elements(sg.so2_group(), 2, seed=1.5)


# ------------------------------------------------------------------------------ (a) grid fields
def test_grid_module_defaults_and_results():
    conv = nn.R2Conv(_reg(D4), _reg(D4), 3, padding=1)
    errs = assert_equivariant(conv)
    assert [e.element for e in errs] == exact_elements(D4)
    assert all(isinstance(e, ElementError) and e.passed and e.error < 1e-5 for e in errs)
    assert errs[0].where.startswith("output (shape (2, 8, 9, 9))")
    conv3 = nn.R3Conv(_reg(OCTA), nn.FieldType(OCTA, [OCTA.irrep(1)]), 3, padding=1)
    assert len(assert_equivariant(conv3, spatial=5, batch=1)) == 24
    # a strided layer: the default grid is one on which its windows are symmetric
    pool = nn.PointwiseMaxPool2D(_reg(C4), 2)
    assert max(e.error for e in assert_equivariant(pool)) == 0.0
    assert max(e.error for e in equivariance_errors(pool, spatial=9)) > 0.1


def test_grid_broken_module_message():
    t = _reg(C4, 2)
    conv = nn.R2Conv(t, t, 3, padding=1)
    with torch.no_grad():
        for name, buf in conv.basisexpansion.named_buffers():
            if name.startswith(("basis_", "dense_")):
                buf.add_(torch.randn_like(buf))
    with pytest.raises(AssertionError) as info:
        assert_equivariant(conv)
    msg = str(info.value)
    assert msg.startswith("R2Conv is not equivariant to C4[int: 1]")
    assert re.search(
        r"at output \(shape \(2, 8, 9, 9\)\), index \(\d, \d, \d, \d\), channel \d = field \d "
        r"\(regular, channels \d:\d\)",
        msg,
    ), msg
    assert "> tolerance" in msg and "rtol=1e-05" in msg and "worst relative error" in msg


def test_fibres_only_for_pointwise_modules():
    t = nn.FieldType(SO2, [SO2.irrep(1), SO2.irrep(2)])
    norm = nn.NormNonLinearity(t)
    errs = assert_equivariant(norm, fibers_only=True, rtol=1e-4)
    assert len(errs) == len(fibre_elements(SO2.fibergroup)) and len(errs) > 4
    # a spatial flip of the output: fibre-equivariant only in the fibres... and so it passes fibres only
    flip = lambda x: nn.GeometricTensor(x.tensor.flip(-1), x.type)
    assert_equivariant(flip, inputs=t(torch.randn(1, 4, 5, 5)), fibers_only=True)
    with pytest.raises(AssertionError, match="not equivariant to SO\\(2\\)"):
        assert_equivariant(flip, inputs=t(torch.randn(1, 4, 5, 5)))
    # a module acting on the magnitude of one component breaks the fibre action
    bad = lambda x: nn.GeometricTensor(x.tensor * x.tensor[:, :1].abs(), x.type)
    with pytest.raises(AssertionError, match=r"\(fibres only\)$"):
        assert_equivariant(bad, inputs=t(torch.randn(2, 4, 3, 3)), fibers_only=True)


def test_plain_tensors_with_field_types_and_modes():
    t = _reg(C4)
    x = torch.randn(2, 4, 7, 7)
    mirror = lambda v: v.flip(-1)  # a mirror does not commute with the 90° rotations
    with pytest.raises(AssertionError, match=r"not equivariant to C4\[int: 1\]"):
        assert_equivariant(mirror, inputs=x, in_type=t, out_type=t)
    assert_equivariant(lambda v: v.relu(), inputs=x, in_type=t, out_type=t)
    # modules run in their own mode; eval_mode=True: in eval mode, every submodule's mode restored
    bn = nn.InnerBatchNorm(t).train()
    seen = []
    bn.register_forward_hook(lambda mod, i, o: seen.append(mod.training))
    assert_equivariant(bn)
    assert set(seen) == {True}
    seq = nn.SequentialModule(nn.InnerBatchNorm(t), nn.FieldDropout(t, 0.5).eval())
    modes = [m.training for m in seq.modules()]
    assert_equivariant(seq, eval_mode=True)
    assert [m.training for m in seq.modules()] == modes and False in modes and True in modes
    seen.clear()
    assert_equivariant(bn, eval_mode=True)
    assert set(seen) == {False} and bn.training
    drop = nn.FieldDropout(t, 0.5).train()
    with pytest.raises(AssertionError):
        assert_equivariant(drop, seed=1)  # random masks in training mode
    assert_equivariant(drop, eval_mode=True)


# ------------------------------------------------------------------------------ (b) plain vectors
def test_vectors_representations_and_matrices():
    G = sg.so3_group(2)
    gs0 = gspaces.no_base_space(G)
    lin = nn.Linear(nn.FieldType(gs0, [G.irrep(1), G.irrep(2)]), nn.FieldType(gs0, [G.irrep(1)] * 2))
    errs = assert_equivariant(lin)
    assert len(errs) == len(fibre_elements(G)) and errs[0].where.startswith("output (shape (2, 6))")
    rho = G.irrep(1)
    cross = lambda a, b: torch.linalg.cross(a, b)
    assert_equivariant(
        cross, inputs=(torch.randn(4, 3), torch.randn(4, 3)), in_type=rho, out_type=rho, elements=random_elements(G, 3)
    )
    # O(3): the cross product is a pseudo-vector, so it is not equivariant to the inversion
    O3 = sg.o3_group(1)
    with pytest.raises(AssertionError, match="component"):
        assert_equivariant(
            cross,
            inputs=(torch.randn(4, 3), torch.randn(4, 3)),
            in_type=O3.irrep(1, 1),
            out_type=O3.irrep(1, 1),
            elements=[O3.element((1, [0.0, 0.0, 0.0, 1.0]))],
        )
    # elements as plain matrices, acted on by matrix_action; a callable g -> matrix
    R = torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=torch.float64)
    sq = lambda v: v * (v**2).sum(-1, keepdim=True)
    assert_equivariant(
        sq,
        inputs=torch.randn(6, 2, dtype=torch.float64),
        elements=[R, R @ R, R.T],
        in_action=matrix_action(),
        out_action=matrix_action(),
    )
    with pytest.raises(AssertionError):
        assert_equivariant(
            lambda v: v**2,
            inputs=torch.randn(6, 2, dtype=torch.float64),
            elements=[R],
            in_action=matrix_action(),
            out_action=matrix_action(),
        )
    act = matrix_action(lambda k: np.linalg.matrix_power(np.array([[0.0, -1.0], [1.0, 0.0]]), k), axis=-1)
    assert_equivariant(sq, inputs=torch.randn(3, 5, 2), elements=range(4), in_action=act, out_action=act)


def test_float64_defaults_are_tight():
    G = sg.so2_group(3)
    gs0 = gspaces.no_base_space(G)
    t = nn.FieldType(gs0, [G.irrep(1), G.irrep(3)])
    lin = nn.Linear(t, t).double()
    errs = assert_equivariant(lin)
    assert max(e.error for e in errs) < 1e-12
    # a perturbation of 1e-8 passes float32's 1e-5 but not float64's 1e-10
    noisy = lambda x: nn.GeometricTensor(x.tensor + 1e-8 * torch.randn_like(x.tensor), x.type)
    with pytest.raises(AssertionError, match="rtol=1e-10"):
        assert_equivariant(noisy, inputs=t(torch.randn(3, t.size, dtype=torch.float64)))
    assert_equivariant(noisy, inputs=t(torch.randn(3, t.size, dtype=torch.float64)), rtol=1e-6)


# ------------------------------------------------------------------------------ (c) point clouds
def _cloud(d, n=25, seed=0):
    gen = torch.Generator().manual_seed(seed)
    pos = torch.randn(n, d, generator=gen)
    return pos, (torch.cdist(pos, pos) < 1.2).nonzero().T.contiguous()


def test_point_convolution_with_permutations():
    from steerable.nn.point import R3PointConv

    tin = nn.FieldType(SO3, [SO3.irrep(1), SO3.trivial_repr])
    tout = nn.FieldType(SO3, [SO3.irrep(2), SO3.irrep(1)])
    conv = R3PointConv(tin, tout, width=1.5, n_rings=3)
    pos, ei = _cloud(3)
    x = tin(torch.randn(25, tin.size), coords=pos)
    errs = assert_equivariant(conv, inputs=(x, ei), permute=True)
    assert len(errs) == len(fibre_elements(SO3.fibergroup))
    # the output's positions move too, and are compared
    assert any(".coords" not in e.where for e in errs)
    # a convolution that forgets the fibre action of its output
    bad_out = lambda y, g: nn.GeometricTensor(y.tensor, y.type, SO3.transform_points(y.coords, g))
    with pytest.raises(AssertionError, match=r"field \d \(irrep_\d"):
        assert_equivariant(conv, inputs=(x, ei), out_action=bad_out)
    # a layer using the absolute position of point 0 is not permutation-equivariant (but rotation-equivariant)
    pin = lambda x, ei: nn.GeometricTensor(x.tensor * (x.coords[:1] ** 2).sum(), x.type, x.coords)
    assert_equivariant(pin, inputs=(x, ei))
    with pytest.raises(AssertionError, match=r"\(points permuted\)"):
        assert_equivariant(pin, inputs=(x, ei), permute=True)


def test_positions_translations_and_invariants():
    pos, _ = _cloud(2)
    dist = lambda p: torch.cdist(p, p)
    assert_invariant(dist, inputs=pos, in_type=SO2)
    shifts = [torch.tensor([1.0, -2.0]), torch.tensor([0.5, 3.0])]
    assert_invariant(dist, inputs=pos, elements=shifts, in_action=lambda p, s: p + s)
    with pytest.raises(AssertionError, match="is not invariant to"):
        assert_invariant(lambda p: p.norm(dim=1), inputs=pos, elements=shifts, in_action=lambda p, s: p + s)
    centroid = lambda p: p.mean(0, keepdim=True)
    assert_equivariant(centroid, inputs=pos, in_type=SO2, out_type=SO2)
    with pytest.raises(AssertionError):
        assert_equivariant(lambda p: p[:, :1] * p, inputs=pos, in_type=SO2, out_type=SO2)


# ------------------------------------------------------------------------------ (d) graphs
def _message(feat, pos, edge_index):
    src, dst = edge_index
    w = ((pos[src] - pos[dst]) ** 2).sum(1, keepdim=True)
    return torch.zeros_like(feat).index_add(0, dst, w * feat[src])


def test_graph_features_positions_edges():
    pos, ei = _cloud(3, seed=3)
    v = SO3.irrep(1)
    feat = torch.randn(25, 3)
    errs = assert_equivariant(_message, inputs=(feat, pos, ei), in_type=(v, SO3, None), out_type=v, permute=True)
    assert all(e.passed for e in errs)
    # a message using the source's index is not equivariant to relabelling the nodes
    by_index = lambda f, p, e: _message(f, p, e) * torch.arange(25.0)[:, None]
    assert_equivariant(by_index, inputs=(feat, pos, ei), in_type=(v, SO3, None), out_type=v)
    with pytest.raises(AssertionError, match="points permuted"):
        assert_equivariant(by_index, inputs=(feat, pos, ei), in_type=(v, SO3, None), out_type=v, permute=True)
    # position differences along the edges move as positions do (edge outputs keep their order);
    # the irrep's basis is not the base space's one
    delta = lambda f, p, e: p[e[0]] - p[e[1]]
    assert_equivariant(delta, inputs=(feat, pos, ei), in_type=(v, SO3, None), out_type=SO3, permute=True)
    with pytest.raises(AssertionError, match="component 0 of irrep_1"):
        assert_equivariant(delta, inputs=(feat, pos, ei), in_type=(v, SO3, None), out_type=v)
    with pytest.raises(ValueError, match="permute: no point cloud"):
        assert_equivariant(lambda f: f, inputs=feat, in_type=v, out_type=v, permute=True)


# ------------------------------------------------------------------------------ (e) user actions, nesting
def test_nested_inputs_and_outputs():
    t = nn.FieldType(C4, [C4.regular_repr, C4.trivial_repr, C4.regular_repr])
    br = nn.BranchingModule(t, ["a", "b", "a"])
    errs = assert_equivariant(br)
    assert len(errs) == 4
    merge = nn.MergeModule([(nn.ReLU(br.out_type["a"]), "a"), (nn.IdentityModule(br.out_type["b"]), "b")])
    assert_equivariant(merge)
    # a dict output whose 'b' entry is broken: the message names it
    bad = lambda x: {"a": x, "b": nn.GeometricTensor(x.tensor.flip(-1), x.type)}
    with pytest.raises(AssertionError, match=r"at output\['b'\]"):
        assert_equivariant(bad, inputs=_reg(C4)(torch.randn(1, 4, 5, 5)))
    # tuples of tensors in, tuple out, one type per entry (None: invariant)
    ta = _reg(C4)
    pair = lambda x, s: (x * s, s.sum())
    assert_equivariant(
        pair, inputs=(torch.randn(1, 4, 5, 5), torch.tensor(2.0)), in_type=(ta, None), out_type=(ta, None)
    )
    with pytest.raises(AssertionError, match=r"output\[1\]"):
        assert_equivariant(
            lambda x, s: (x * s, x[:, 0].sum()),
            inputs=(torch.randn(1, 4, 5, 5), torch.tensor(2.0)),
            in_type=(ta, None),
            out_type=(ta, None),
        )


def test_user_actions_and_element_maps():
    # the cyclic group Z_5 acting on sequences by shifts: a circular convolution is equivariant
    x = torch.randn(3, 5)
    shift = lambda v, k: v.roll(k, -1)
    circ = lambda v: v + 0.5 * v.roll(1, -1)
    assert len(assert_equivariant(circ, inputs=x, elements=range(5), in_action=shift, out_action=shift)) == 5
    with pytest.raises(AssertionError, match="not equivariant to 1"):
        assert_equivariant(lambda v: v.cumsum(-1), inputs=x, elements=range(5), in_action=shift, out_action=shift)
    # a subgroup acting through its inclusion
    res = nn.RestrictionModule(_reg(D4), (None, 4))
    _, incl, _ = D4.restrict((None, 4))
    errs = assert_equivariant(res, elements=exact_elements(res.out_type), in_element=incl)
    assert [e.element for e in errs] == exact_elements(res.out_type)
    # out_element: an output that transforms by the element's square
    assert_equivariant(
        lambda v: v.roll(1, -1) * 0 + v,
        inputs=x,
        elements=range(5),
        in_action=shift,
        out_action=shift,
        out_element=lambda k: k,
    )
    sq = lambda v: v[..., (2 * torch.arange(5)) % 5]
    assert_equivariant(
        sq, inputs=x, elements=range(5), in_action=shift, out_action=shift, out_element=lambda k: 3 * k
    )  # y[i] = x[2i]: a shift by k shifts y by k/2 = 3k
    with pytest.raises(AssertionError):
        assert_equivariant(sq, inputs=x, elements=range(5), in_action=shift, out_action=shift)


def test_structural_failures_are_reported():
    t = _reg(C4)
    x = t(torch.randn(1, 4, 5, 5))
    with pytest.raises(AssertionError, match="shapes differ"):
        assert_equivariant(
            lambda v: nn.GeometricTensor(v.tensor[..., : 5 - int(v.tensor[0, 0, 0, 0] > 0)], t),
            inputs=nn.GeometricTensor(torch.ones(1, 4, 5, 5), t),
            elements=[C4.fibergroup.identity],
            out_action=lambda y, g: nn.GeometricTensor(torch.ones(1, 4, 5, 5), t),
        )
    other = nn.FieldType(C4, [C4.irrep(1), C4.irrep(1)])  # 4 channels too
    with pytest.raises(AssertionError, match="field types differ"):
        assert_equivariant(lambda v: v, inputs=x, out_action=lambda y, g: nn.GeometricTensor(y.tensor, other))
    with pytest.raises(AssertionError, match="output: f returned a field of type .* but out_type is"):
        assert_equivariant(lambda v: v, inputs=x, out_type=_reg(C4, 2))
    nan = lambda v: nn.GeometricTensor(v.tensor / 0.0 * 0.0, v.type)
    with pytest.raises(AssertionError, match="is not equivariant"):
        assert_equivariant(nan, inputs=x)


# ------------------------------------------------------------------------------ arguments
def test_argument_validation():
    t = _reg(C4)
    relu = nn.ReLU(t)
    x = t(torch.randn(1, 4, 5, 5))
    with pytest.raises(TypeError, match="f: expected a module or a callable, got int"):
        assert_equivariant(3, inputs=x)
    with pytest.raises(TypeError, match="in_type: the plain tensor at inputs"):
        assert_equivariant(lambda v: v, inputs=torch.randn(2, 3), elements=[0])
    with pytest.raises(TypeError, match="out_type: the plain tensor at output"):
        assert_equivariant(lambda v: v.tensor, inputs=x)
    with pytest.raises(TypeError, match="in_type: expected a FieldType, a Representation"):
        assert_equivariant(lambda v: v, inputs=torch.randn(2, 3), in_type="vector", elements=[0])
    with pytest.raises(ValueError, match=r"in_type: 2 types at inputs but the value there is a tuple of length 3"):
        assert_equivariant(lambda *a: a[0], inputs=(x, x, x), in_type=(t, t))
    with pytest.raises(ValueError, match="elements: no GeometricTensor"):
        assert_equivariant(lambda v: v, inputs=torch.randn(2, 3), in_action=lambda v, g: v, out_action=lambda v, g: v)
    with pytest.raises(TypeError, match="elements: expected an iterable of group elements, got GroupElement"):
        assert_equivariant(relu, elements=C4.fibergroup.identity)
    with pytest.raises(ValueError, match="elements: expected at least one element"):
        assert_equivariant(relu, elements=[])
    with pytest.raises(ValueError, match="elements: pass the elements explicitly"):
        assert_equivariant(relu, in_element=lambda g: g)
    with pytest.raises(ValueError, match="atol: expected a finite non-negative number"):
        assert_equivariant(relu, atol=-1.0)
    with pytest.raises(ValueError, match="rtol"):
        assert_equivariant(relu, rtol=float("inf"))
    with pytest.raises(TypeError, match="in_action: expected None or a callable"):
        assert_equivariant(relu, in_action=1)
    with pytest.raises(TypeError, match="fibers_only: expected a bool, got str"):
        assert_equivariant(relu, fibers_only="yes")
    with pytest.raises(ValueError, match="batch: expected an int >= 1, got 0"):
        assert_equivariant(relu, batch=0)
    with pytest.raises(TypeError, match="spatial: expected an int or None, got float"):
        assert_equivariant(relu, spatial=5.0)
    with pytest.raises(ValueError, match="inputs: give the inputs"):
        assert_equivariant(lambda v: v)
    with pytest.raises(ValueError, match="inputs: random inputs can be built from FieldTypes and Representations"):
        assert_equivariant(lambda p: p, in_type=SO2, out_type=SO2)
    with pytest.raises(ValueError, match="element: expected an element of C4, got one of D4"):
        assert_equivariant(relu, elements=exact_elements(D4))
    with pytest.raises(TypeError, match="rho: expected a Representation"):
        matrix_action(3)
    with pytest.raises(ValueError, match="rho: a square matrix acting on axis 1"):
        matrix_action()(torch.randn(2, 3), torch.eye(2))
    with pytest.raises(TypeError, match="in_element"):
        assert_invariant(relu, in_element="g", elements=[C4.fibergroup.identity])


def test_check_equivariance_uses_the_same_comparison():
    t = _reg(C4, 2)
    conv = nn.R2Conv(t, t, 3, padding=1)
    errs = conv.check_equivariance()
    assert len(errs) == 4 and all(e < 1e-5 for _, e in errs)
    with torch.no_grad():
        conv.weights.add_(1.0)
        for name, buf in conv.basisexpansion.named_buffers():
            if name.startswith(("basis_", "dense_")):
                buf.add_(torch.randn_like(buf))
    with pytest.raises(
        AssertionError,
        match=r"R2Conv is not equivariant to C4\[int: 1\]: at output "
        r"\(shape \(2, 8, 9, 9\)\), index .*field",
    ):
        conv.check_equivariance(atol=1e-6, rtol=1e-6)


# ------------------------------------------------------------------------------ strided layers
_STRIDED_GROUPS = {
    "C4": gspaces.rot2dOnR2(4),
    "C8": gspaces.rot2dOnR2(8),
    "D4": D4,
    "flip": gspaces.flip2dOnR2(),
    "SO2": gspaces.rot2dOnR2(-1, maximum_frequency=2),
    "trivial": gspaces.trivialOnR2(),
}
_STRIDED_MODULES = {
    "max2": lambda t: nn.PointwiseMaxPool2D(t, 2),
    "max3s2p1": lambda t: nn.PointwiseMaxPool2D(t, 3, stride=2, padding=1),
    "avg2": lambda t: nn.PointwiseAvgPool2D(t, 2),
    "antialiased": lambda t: nn.PointwiseMaxPoolAntialiased2D(t, 2),
    "norm-max": lambda t: nn.NormMaxPool(t, 2),
    "conv-relu-pool": lambda t: nn.SequentialModule(
        nn.R2Conv(t, t, 3, padding=1), nn.ReLU(t), nn.PointwiseMaxPool2D(t, 2)
    ),
    "two-strides": lambda t: nn.SequentialModule(
        nn.R2Conv(t, t, 5), nn.PointwiseMaxPool2D(t, 2), nn.R2Conv(t, t, 3, stride=2), nn.PointwiseAvgPool2D(t, 3, 2)
    ),
    "dilated-pool": lambda t: nn.SequentialModule(
        nn.R2Conv(t, t, 3, dilation=2, padding=1), nn.PointwiseMaxPool2D(t, 2, padding=1)
    ),
}


def _pool_type(gs):
    # SO(2) has no regular representation: trivial fields (pointwise pools need them)
    return nn.FieldType(gs, [gs.trivial_repr] * 2) if gs.fibergroup.order() < 0 else _reg(gs, 2)


@pytest.mark.parametrize("mod", list(_STRIDED_MODULES))
@pytest.mark.parametrize("grp", list(_STRIDED_GROUPS))
def test_strided_modules_are_checked_on_a_grid_where_they_are_exact(grp, mod):
    """The defaults of check_equivariance() and assert_equivariant() pick a grid on which every
    strided window sits symmetrically, so correct strided pools (and sequences ending in them)
    pass; on a grid of the other parity they are genuinely not equivariant, and the message says
    why; a grid too small for the module is a ValueError naming the grid, not torch's error."""
    torch.manual_seed(0)
    m = _STRIDED_MODULES[mod](_pool_type(_STRIDED_GROUPS[grp]))
    n = m._exact_spatial_size()
    assert all(e < 1e-5 for _, e in m.check_equivariance())
    assert all(e.passed for e in assert_equivariant(m, eval_mode=True))
    bad = next(k for k in (n + 1, n - 1, n + 2, n + 3) if k > 0 and m._grid_output_size(k) is None)
    errs = equivariance_errors(m, spatial=bad, eval_mode=True)
    if grp != "trivial":
        assert not all(e.passed for e in errs), (grp, mod, bad)  # the symmetric grid matters
        with pytest.raises(AssertionError, match=r"does not place the strided windows .* symmetrically"):
            assert_equivariant(m, spatial=bad, eval_mode=True)
        with pytest.raises(AssertionError, match="does not place every layer's windows symmetrically"):
            m.check_equivariance(spatial=bad)


def test_strided_3d_pools_and_too_small_grids():
    t = nn.FieldType(OCTA, [OCTA.trivial_repr] * 2)
    seq = nn.SequentialModule(nn.R3Conv(t, t, 3), nn.PointwiseAvgPool3D(t, 2))
    assert len(seq.check_equivariance()) == 24 and all(e.passed for e in assert_equivariant(seq))
    t2 = _reg(C4, 1)
    deep = nn.SequentialModule(
        nn.R2Conv(t2, t2, 5),
        nn.PointwiseMaxPool2D(t2, 2),
        nn.R2Conv(t2, t2, 3, stride=2),
        nn.PointwiseAvgPool2D(t2, 3, 2),
    )
    for check in (lambda: deep.check_equivariance(spatial=9), lambda: assert_equivariant(deep, spatial=9)):
        with pytest.raises(ValueError, match=r"inputs: a grid of \(9, 9\) is too small for SequentialModule"):
            check()
    with pytest.raises(ValueError, match="too small"):
        assert_equivariant(deep, inputs=t2(torch.randn(1, 4, 9, 9)))
