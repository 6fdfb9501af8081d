"""Structural modules (SequentialModule, BranchingModule, MergeModule, MultipleModule,
ReshuffleModule, RestrictionModule, DisentangleModule, IdentityModule, MaskModule), dropout
(FieldDropout, PointwiseDropout) and upsampling (R2Upsampling, R3Upsampling): equivariance on
the grids' exact symmetries and (per-fibre modules) under random elements of continuous groups,
export to plain torch, float64, pickling, deterministic parameters and argument validation."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from steerable import group as sg
from steerable import gspaces, nn
from steerable.nn import (
    BranchingModule,
    DisentangleModule,
    FieldType,
    GeometricTensor,
    IdentityModule,
    MaskModule,
    MergeModule,
    MultipleModule,
    ReshuffleModule,
    RestrictionModule,
    SequentialModule,
)
from steerable.nn._dropout import FieldDropout, PointwiseDropout
from steerable.nn._linear import Linear
from steerable.nn._module import EquivariantModule
from steerable.nn._upsampling import R2Upsampling, R3Upsampling
from steerable.testing import assert_equivariant, random_elements

_CACHE: dict = {}

_SPACES = {
    "C4": lambda: gspaces.rot2dOnR2(4),
    "C8": lambda: gspaces.rot2dOnR2(8),
    "D4": lambda: gspaces.flipRot2dOnR2(4),
    "SO2": lambda: gspaces.rot2dOnR2(-1, maximum_frequency=3),
    "O2": lambda: gspaces.flipRot2dOnR2(-1, maximum_frequency=2),
    "flip": lambda: gspaces.flip2dOnR2(),
    "SO3": lambda: gspaces.rot3dOnR3(maximum_frequency=2),
    "O3": lambda: gspaces.flipRot3dOnR3(maximum_frequency=1),
    "octa": lambda: gspaces.octaOnR3(),
    "ico": lambda: gspaces.icoOnR3(),
    "R0_SO3": lambda: gspaces.no_base_space(sg.so3_group(2)),
    "R0_D3": lambda: gspaces.no_base_space(sg.dihedral_group(3)),
}
GRID2 = ["C4", "C8", "D4", "SO2", "O2", "flip"]
GRID3 = ["SO3", "O3", "octa", "ico"]


def space(name):
    if name not in _CACHE:
        _CACHE[name] = _SPACES[name]()
    return _CACHE[name]


def mixed_type(gs) -> FieldType:
    """Regular, trivial and the first non-trivial irreps, not grouped by representation."""
    G = gs.fibergroup
    irr = G.irreps()
    reg = G.regular_representation if G.order() > 0 or G.regular_representation.size < 40 else irr[1] + irr[0]
    return FieldType(gs, [irr[1], gs.trivial_repr, reg, irr[-1], irr[1]])


def rand(ftype: FieldType, spatial: int = 7, batch: int = 2, dtype=torch.float32) -> GeometricTensor:
    d = ftype.gspace.dimensionality
    return ftype(torch.randn(batch, ftype.size, *(spatial,) * d, dtype=dtype))


def assert_export(module, x: GeometricTensor, atol=1e-5):
    ex = module.export()
    assert not any(isinstance(m, EquivariantModule) for m in ex.modules())
    with torch.no_grad():
        torch.testing.assert_close(ex(x.tensor), module(x).tensor, atol=atol, rtol=atol)
    return ex


def roundtrip(module):
    return [pickle.loads(pickle.dumps(module)), copy.deepcopy(module)]


# ====================================================================== SequentialModule
def test_sequential_conv_restriction_identity_upsampling_exports():
    torch.manual_seed(0)
    gs = space("D4")
    t = FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    conv = nn.R2Conv(t, t, 3, padding=1)
    res = RestrictionModule(t, (None, 4))
    net = SequentialModule(conv, res, IdentityModule(res.out_type), R2Upsampling(res.out_type, scale_factor=2))
    assert net.in_type == t and net.out_type == res.out_type
    x = rand(t, 7)
    for mode in (True, False):
        net.train(mode)
        ex = assert_export(net, x)
        assert type(ex) is torch.nn.Sequential and [type(m) for m in ex] == [
            torch.nn.Conv2d,
            torch.nn.Identity,
            torch.nn.Identity,
            torch.nn.Upsample,
        ]
        assert not ex.training and not net.training  # export() sets eval mode (escnn's contract)
    assert net.evaluate_output_shape((2, t.size, 7, 7)) == (2, t.size, 14, 14)
    assert len(net) == 4 and net[0] is conv and list(net)[1] is res
    # subgroup equivariance of the whole chain (C4 elements act through the inclusion)
    _, inclusion, _ = gs.restrict((None, 4))
    assert_equivariant(net, inputs=x, elements=res.out_type.testing_elements, in_element=inclusion)


@pytest.mark.parametrize("name", ["C4", "D4", "SO2", "octa"])
def test_sequential_equivariance_float64_pickle(name):
    torch.manual_seed(1)
    gs = space(name)
    t = FieldType(
        gs, [gs.regular_repr if gs.fibergroup.order() > 0 else gs.irrep(*gs.fibergroup.irreps()[1].id), gs.trivial_repr]
    )
    conv = nn.R2Conv(t, t, 3, padding=1) if gs.dimensionality == 2 else nn.R3Conv(t, t, 3, padding=1)
    up = R2Upsampling(t, scale_factor=2) if gs.dimensionality == 2 else R3Upsampling(t, scale_factor=2)
    net = SequentialModule(
        OrderedDict(conv=conv, id=IdentityModule(t), up=up, mask=MaskModule(t, 10 if gs.dimensionality == 2 else 6))
    )
    assert [n for n, _ in net.named_children()] == ["conv", "id", "up", "mask"]
    x = rand(t, 5 if gs.dimensionality == 2 else 3)
    net.eval()
    assert_equivariant(net, inputs=x)
    assert_export(net, x)
    y = net(x).tensor
    for c in roundtrip(net):
        torch.testing.assert_close(c(x).tensor, y)
    d = net.double()
    yd = d(x.to(torch.float64)).tensor
    assert yd.dtype == torch.float64
    torch.testing.assert_close(yd.float(), y, atol=1e-5, rtol=1e-5)


def test_sequential_errors_and_determinism():
    gs = space("C4")
    t = FieldType(gs, [gs.regular_repr])
    t2 = FieldType(gs, [gs.trivial_repr])
    empty = SequentialModule()  # escnn: an empty container, filled by append()
    assert empty.in_type is None and empty.out_type is None and len(empty) == 0
    with pytest.raises(ValueError, match="empty"):
        empty(FieldType(gs, [gs.regular_repr])(torch.randn(1, 4, 3, 3)))
    with pytest.raises(TypeError, match="module"):
        SequentialModule(IdentityModule(t), torch.nn.ReLU())
    with pytest.raises(ValueError, match="previous module outputs"):
        SequentialModule(IdentityModule(t), IdentityModule(t2))
    seq = SequentialModule(IdentityModule(t))
    seq.add_module("conv", nn.R2Conv(t, t2, 3))
    assert seq.out_type == t2
    with pytest.raises(TypeError, match="input"):
        seq(torch.randn(1, 4, 5, 5))
    with pytest.raises(ValueError, match="input"):
        seq(t2(torch.randn(1, 1, 5, 5)))

    def build():
        torch.manual_seed(0)
        return SequentialModule(nn.R2Conv(t, t, 3), nn.R2Conv(t, t2, 3))

    a, b = build(), build()
    assert [(n, p.shape) for n, p in a.named_parameters()] == [(n, p.shape) for n, p in b.named_parameters()]
    assert [n for n, _ in a.named_buffers()] == [n for n, _ in b.named_buffers()]
    assert list(a.state_dict().keys()) == list(a.eval().state_dict().keys())


def test_sequential_of_linear_layers_on_R0():
    torch.manual_seed(2)
    gs = space("R0_SO3")
    G = gs.fibergroup
    t0 = FieldType(gs, [G.irrep(0), G.irrep(1), G.irrep(2)])
    t1 = FieldType(gs, [G.irrep(1)] * 3 + [G.irrep(0)] * 2)
    net = SequentialModule(Linear(t0, t1), DisentangleModule(t1), Linear(t1, t0))
    x = t0(torch.randn(6, t0.size))
    assert_equivariant(net, inputs=x, elements=random_elements(G, 3))
    ex = assert_export(net, x)
    assert [type(m) for m in ex] == [torch.nn.Linear] * 3


# ====================================================================== Branching / Merge / Multiple
class _AddPair(EquivariantModule):
    """Test helper taking two tensors of the same type: returns their sum (in_type is a tuple)."""

    def __init__(self, t):
        super().__init__()
        self.in_type = (t, t)
        self.out_type = t

    def forward(self, a, b):
        return GeometricTensor(a.tensor + b.tensor, self.out_type)

    def evaluate_output_shape(self, sa, sb):
        return tuple(sa)

    def export(self):
        return _PlainAdd()


class _PlainAdd(torch.nn.Module):
    def forward(self, a, b):
        return a + b


def _branch_setup(name="D4"):
    gs = space(name)
    reg, triv, irr = gs.regular_repr, gs.trivial_repr, max(gs.fibergroup.irreps(), key=lambda r: r.size)
    t = FieldType(gs, [reg, triv, irr, reg, triv, irr])
    labels = ["a", "b", "c", "a", "c", "b"]
    return gs, t, labels


def test_branching_outputs_and_reshuffle_levels():
    gs, t, labels = _branch_setup()
    x = rand(t, 5)
    br = BranchingModule(t, labels)
    out = br(x)
    assert list(out) == ["a", "b", "c"]
    assert out["a"].type == t.index_select([0, 3])
    s3, e3 = t.fields_start[3], t.fields_end[3]
    torch.testing.assert_close(out["a"].tensor, torch.cat([x.tensor[:, :8], x.tensor[:, s3:e3]], 1))
    assert out["b"].type == t.index_select([1, 5]) and out["c"].type == t.index_select([2, 4])
    assert br.evaluate_output_shape((2, t.size, 5, 5)) == {"a": (2, 16, 5, 5), "b": (2, 3, 5, 5), "c": (2, 3, 5, 5)}
    # level 2 sorts by size within a label: label "c" = [irrep (2), trivial (1)] -> [trivial, irrep]
    assert BranchingModule(t, labels, reshuffle=1).out_type["c"] == t.index_select([2, 4])
    assert BranchingModule(t, labels, reshuffle=2).out_type["c"] == t.index_select([4, 2])
    assert BranchingModule(t, labels, reshuffle=3).out_type["b"] == t.index_select([1, 5])
    for level in range(4):
        b = BranchingModule(t, labels, reshuffle=level)
        b.check_equivariance(spatial=5)
        ex = b.export()
        res = b(x)
        for lab, v in ex(x.tensor).items():
            torch.testing.assert_close(v, res[lab].tensor)
    # contiguous labels are sliced (views)
    tc = FieldType(gs, [gs.regular_repr] * 2 + [gs.trivial_repr])
    bc = BranchingModule(tc, ["x", "x", "y"])
    xc = rand(tc, 5)
    assert bc(xc)["x"].tensor.data_ptr() == xc.tensor.data_ptr()


def test_merge_module():
    torch.manual_seed(3)
    gs, t, labels = _branch_setup()
    br = BranchingModule(t, labels)
    ta, tb, tc = br.out_type["a"], br.out_type["b"], br.out_type["c"]
    merge = MergeModule(
        [(nn.R2Conv(tc, ta, 3, padding=1), "c"), (IdentityModule(ta), ["a"]), (_AddPair(tb), ["b", "b"])]
    )
    assert merge.in_type == OrderedDict(c=tc, a=ta, b=tb)
    assert merge.out_type == FieldType(gs, list(ta) + list(ta) + list(tb))
    x = rand(t, 5)
    inp = br(x)
    y = merge(inp)
    torch.testing.assert_close(y.tensor[:, 16:32], inp["a"].tensor)
    torch.testing.assert_close(y.tensor[:, 32:], 2 * inp["b"].tensor)
    merge.check_equivariance(spatial=5)
    assert merge.evaluate_output_shape({lab: v.shape for lab, v in inp.items()}) == tuple(y.shape)
    assert merge.evaluate_output_shape(**{lab: v.shape for lab, v in inp.items()}) == tuple(y.shape)
    ex = merge.export()
    with torch.no_grad():
        torch.testing.assert_close(ex({lab: v.tensor for lab, v in inp.items()}), y.tensor, atol=1e-5, rtol=1e-5)
    with pytest.raises(TypeError, match="dict"):
        merge(x)
    with pytest.raises(ValueError, match="missing"):
        merge({"a": inp["a"]})
    with pytest.raises(ValueError, match="label 'a'"):
        merge({"a": inp["b"], "b": inp["b"], "c": inp["c"]})
    with pytest.raises(TypeError, match="modules"):
        MergeModule([])
    with pytest.raises(TypeError, match="label"):
        MergeModule([(IdentityModule(ta), 3)])
    with pytest.raises(ValueError, match="different field types"):
        MergeModule([(IdentityModule(ta), "a"), (IdentityModule(tb), "a")])
    with pytest.raises(ValueError, match="tuple"):
        MergeModule([(IdentityModule(ta), ["a", "b"])])


@pytest.mark.parametrize("reshuffle", [0, 1, 2, 3])
def test_multiple_module(reshuffle):
    torch.manual_seed(4)
    gs, t, labels = _branch_setup()
    br = BranchingModule(t, labels, reshuffle=reshuffle)
    ta, tb, tc = br.out_type["a"], br.out_type["b"], br.out_type["c"]
    mods = [(nn.R2Conv(ta, ta, 3, padding=1), "a"), (_AddPair(tb), ["b", "b"]), (IdentityModule(tc), "c")]
    m = MultipleModule(t, labels, mods, reshuffle=reshuffle)
    assert m.out_type == FieldType(gs, list(ta) + list(tb) + list(tc))
    x = rand(t, 7)
    m.check_equivariance(spatial=7)
    assert_equivariant(m, inputs=x)
    for mode in (True, False):
        m.train(mode)
        assert_export(m, x)
    assert m.evaluate_output_shape(tuple(x.shape)) == tuple(m(x).shape)
    for c in roundtrip(m):
        torch.testing.assert_close(c(x).tensor, m(x).tensor)
    yd = m.double()(x.to(torch.float64))
    assert yd.tensor.dtype == torch.float64


def test_multiple_module_drops_unused_labels_and_errors():
    gs, t, labels = _branch_setup("C4")
    br = BranchingModule(t, labels)
    ta = br.out_type["a"]
    m = MultipleModule(t, labels, [(IdentityModule(ta), "a")])
    x = rand(t, 5)
    torch.testing.assert_close(m(x).tensor, br(x)["a"].tensor)
    with pytest.raises(ValueError, match="not among"):
        MultipleModule(t, labels, [(IdentityModule(ta), "z")])
    with pytest.raises(ValueError, match="expects"):
        MultipleModule(t, labels, [(IdentityModule(ta), "b")])
    with pytest.raises(ValueError, match="labels"):
        MultipleModule(t, labels[:-1], [(IdentityModule(ta), "a")])
    with pytest.raises(TypeError, match="labels"):
        BranchingModule(t, "abcabc")
    with pytest.raises(TypeError, match="labels"):
        BranchingModule(t, [1, 2, 3, 1, 2, 3])
    with pytest.raises(ValueError, match="reshuffle"):
        BranchingModule(t, labels, reshuffle=4)
    with pytest.raises(TypeError, match="modules"):
        MultipleModule(t, labels, [(torch.nn.Identity(), "a")])


def test_multiple_module_on_R0_with_linear():
    torch.manual_seed(5)
    gs = space("R0_SO3")
    G = gs.fibergroup
    t = FieldType(gs, [G.irrep(1), G.irrep(0), G.irrep(2), G.irrep(1)])
    labels = ["v", "s", "t", "v"]
    br = BranchingModule(t, labels)
    mods = [
        (Linear(br.out_type["v"], FieldType(gs, [G.irrep(1)] * 3)), "v"),
        (Linear(br.out_type["s"], br.out_type["s"]), "s"),
    ]
    m = MultipleModule(t, labels, mods)
    x = t(torch.randn(5, t.size))
    assert_equivariant(m, inputs=x, elements=random_elements(G, 3))
    assert_export(m, x)


# ====================================================================== Reshuffle / Restriction / Identity
@pytest.mark.parametrize("name", ["C8", "D4", "SO2", "O3", "R0_D3"])
def test_reshuffle(name):
    gs = space(name)
    t = mixed_type(gs)
    perm = [3, 0, 4, 2, 1]
    m = ReshuffleModule(t, perm)
    assert m.out_type == t.index_select(perm)
    x = rand(t, 5)
    y = m(x)
    for i, f in enumerate(perm):
        torch.testing.assert_close(
            y.tensor[:, m.out_type.fields_start[i] : m.out_type.fields_end[i]],
            x.tensor[:, t.fields_start[f] : t.fields_end[f]],
        )
    assert_equivariant(m, inputs=x)
    if gs.fibergroup.continuous:
        assert_equivariant(m, inputs=x, elements=random_elements(gs.fibergroup, 3), fibers_only=True)
    assert_export(m, x)
    assert m.evaluate_output_shape(x.shape) == tuple(x.shape)
    for c in roundtrip(m):
        torch.testing.assert_close(c(x).tensor, y.tensor)
    torch.testing.assert_close(m.double()(x.to(torch.float64)).tensor, y.tensor.double())
    with pytest.raises(ValueError, match="permutation"):
        ReshuffleModule(t, [0, 0, 1, 2, 3])
    with pytest.raises(TypeError, match="permutation"):
        ReshuffleModule(t, ["a"])


@pytest.mark.parametrize(
    "name, sid, expected",
    [
        ("D4", (None, 4), "C4"),
        ("O2", (None, -1), "SO(2)"),
        ("O3", (False, False, -1), "SO(2)"),
        ("octa", "tetra", "Tetrahedral"),
        ("R0_D3", (None, 3), "C3"),
    ],
)
def test_restriction(name, sid, expected):
    gs = space(name)
    t = mixed_type(gs)
    m = RestrictionModule(t, sid)
    assert m.out_type == t.restrict(sid) and m.out_type.gspace.fibergroup.name.startswith(expected[:3])
    x = rand(t, 5)
    y = m(x)
    assert y.tensor is x.tensor and y.type == m.out_type
    errs = m.check_equivariance(spatial=5)
    assert len(errs) == len(m.out_type.testing_elements)
    ex = assert_export(m, x)
    assert isinstance(ex, torch.nn.Identity)
    for c in roundtrip(m):
        assert c.out_type == m.out_type
    # a restricted tensor feeds modules of the subgroup
    seq = SequentialModule(m, IdentityModule(m.out_type))
    assert seq(x).type == m.out_type


@pytest.mark.parametrize("name", ["C4", "octa", "R0_SO3"])
def test_identity(name):
    gs = space(name)
    t = mixed_type(gs)
    m = IdentityModule(t)
    x = rand(t, 3)
    assert m(x) is x
    assert_equivariant(m, inputs=x)
    assert isinstance(assert_export(m, x), torch.nn.Identity)
    assert m.evaluate_output_shape(x.shape) == tuple(x.shape)
    with pytest.raises(TypeError, match="in_type"):
        IdentityModule([gs.trivial_repr])


# ====================================================================== Disentangle
@pytest.mark.parametrize("name", ["C4", "D4", "SO2", "octa", "R0_SO3", "R0_D3"])
def test_disentangle(name):
    torch.manual_seed(6)
    gs = space(name)
    G = gs.fibergroup
    irr = G.irreps()
    # a field that is a sum of representations with separate changes of basis, plus others
    mixed = sg.directsum([G.regular_representation if G.order() > 0 else irr[1], irr[1], irr[0]])
    t = FieldType(gs, [mixed, irr[1], mixed])
    m = DisentangleModule(t)
    assert len(m.out_type) > len(t) and m.out_type.size == t.size
    # the change of basis intertwines the representations exactly
    M = m.change_of_basis.double()
    assert_equivariant(
        lambda v: v @ M.T,
        inputs=torch.eye(t.size, dtype=torch.float64),
        in_type=t.fiber_representation,
        out_type=m.out_type.fiber_representation,
        elements=random_elements(G, 3),
        atol=1e-5,
        rtol=0,
    )
    x = rand(t, 5)
    assert_equivariant(m, inputs=x)
    if G.continuous:
        assert_equivariant(m, inputs=x, elements=random_elements(G, 3), fibers_only=True)
    ex = assert_export(m, x)
    assert type(ex) in (torch.nn.Linear, torch.nn.Conv2d, torch.nn.Conv3d)
    for c in roundtrip(m):
        torch.testing.assert_close(c(x).tensor, m(x).tensor)
    assert m.double()(x.to(torch.float64)).tensor.dtype == torch.float64


def test_disentangle_dense_change_of_basis_path():
    """A representation whose change of basis mixes all channels stays one field; a field whose
    channels are a permutation of a direct sum is split (index path), and the dense matrix path
    computes the same function."""
    gs = space("C4")
    G = gs.fibergroup
    Q = np.linalg.qr(np.random.default_rng(0).normal(size=(4, 4)))[0]
    rho = sg.change_basis(G.regular_representation, Q, name="rotated_regular")
    perm = np.eye(6)[[3, 0, 5, 1, 4, 2]]
    shuffled = sg.change_basis(sg.directsum([G.irrep(1), G.irrep(0), G.irrep(2), G.irrep(1)]), perm, name="shuffled")
    t = FieldType(gs, [rho, shuffled, G.irrep(1)])
    m = DisentangleModule(t)
    assert [r.size for r in m.out_type] == [4, 2, 1, 1, 2, 2]
    assert m._is_permutation and not torch.equal(m._index, torch.arange(t.size))
    x = rand(t, 5)
    assert_equivariant(m, inputs=x)
    y = m(x).tensor
    m._is_permutation = False  # force the dense path: same function
    torch.testing.assert_close(m(x).tensor, y)
    assert_equivariant(m, inputs=x)


# ====================================================================== Mask
@pytest.mark.parametrize(
    "name, S",
    [
        ("C4", 9),
        ("C8", 8),
        ("D4", 7),
        ("SO2", 9),
        ("O2", 9),
        ("flip", 6),
        ("octa", 5),
        ("O3", 6),
        ("SO3", 5),
        ("ico", 5),
    ],
)
def test_mask_module(name, S):
    gs = space(name)
    t = mixed_type(gs)
    m = MaskModule(t, S, margin=20.0)
    x = rand(t, S)
    y = m(x)
    m.check_equivariance()
    assert_equivariant(m, inputs=x)
    if gs.fibergroup.continuous:
        assert_equivariant(m, inputs=x, elements=random_elements(gs.fibergroup, 2), fibers_only=True)
    assert_export(m, x)
    assert list(m.state_dict().keys()) == []
    for c in roundtrip(m):
        torch.testing.assert_close(c(x).tensor, y.tensor)
    assert m.double()(x.to(torch.float64)).tensor.dtype == torch.float64
    with pytest.raises(ValueError, match="spatial shape"):
        m(rand(t, S + 1))


def test_mask_values_follow_escnn_formula():
    gs = space("C4")
    t = FieldType(gs, [gs.trivial_repr])
    S, margin, sigma = 11, 10.0, 2.0
    mask = MaskModule(t, S, margin, sigma).mask[0, 0].numpy()
    c = (S - 1) / 2
    thr = (c - margin / 100 * c) ** 2
    for i, j in [(5, 5), (0, 0), (0, 5), (1, 2), (9, 3)]:
        r = (i - c) ** 2 + (j - c) ** 2
        want = 1.0 if r <= thr else np.exp((thr - r) / sigma**2)
        assert abs(mask[i, j] - want) < 1e-6
    m3 = MaskModule(FieldType(space("octa"), [space("octa").trivial_repr]), 5).mask
    assert m3.shape == (1, 1, 5, 5, 5) and m3[0, 0, 2, 2, 2] == 1.0 and m3[0, 0, 0, 0, 0] < 1.0


def test_mask_errors():
    gs = space("C4")
    t = FieldType(gs, [gs.trivial_repr])
    with pytest.raises(ValueError, match="R\\^2 or R\\^3"):
        MaskModule(FieldType(space("R0_D3"), [space("R0_D3").trivial_repr]), 5)
    with pytest.raises(ValueError, match="S"):
        MaskModule(t, 0)
    with pytest.raises(ValueError, match="margin"):
        MaskModule(t, 5, margin=-1)
    with pytest.raises(ValueError, match="sigma"):
        MaskModule(t, 5, sigma=0)


# ====================================================================== Dropout
@pytest.mark.parametrize("name", ["C4", "SO2", "octa", "R0_SO3"])
def test_field_dropout(name):
    torch.manual_seed(7)
    gs = space(name)
    t = mixed_type(gs)
    p = 0.4
    m = FieldDropout(t, p)
    d = gs.dimensionality
    x = t(torch.rand(64, t.size, *(3,) * d) + 0.5)  # strictly positive
    y = m(x).tensor
    ratio = y / x.tensor
    # per (sample, field, point): one decision for all the field's channels, values {0, 1/(1-p)}
    assert torch.all((ratio.abs() < 1e-6) | ((ratio - 1 / (1 - p)).abs() < 1e-5))
    for f in range(len(t)):
        r = ratio[:, t.fields_start[f] : t.fields_end[f]]
        torch.testing.assert_close(r, r[:, :1].expand_as(r), atol=1e-5, rtol=1e-5)
    kept = (ratio[:, t.fields_start] > 0).float().mean().item()
    assert abs(kept - (1 - p)) < 0.1
    # eval mode: identity, equivariant, exported as nn.Identity
    m.eval()
    assert m(x) is x
    assert_equivariant(m, inputs=rand(t, 5))
    assert isinstance(assert_export(m, x), torch.nn.Identity)
    for c in roundtrip(m):
        assert c.p == p and c.in_type == t
    assert list(m.state_dict().keys()) == []


def test_field_dropout_inplace_extremes_and_points():
    gs = space("D4")
    t = FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    x = torch.ones(4, 9, 3, 3)
    FieldDropout(t, 0.5, inplace=True)(t(x))
    assert torch.any(x == 0) and torch.all((x == 0) | (x == 2))
    z = torch.randn(2, 9, 3, 3)
    torch.testing.assert_close(FieldDropout(t, 0.0)(t(z)).tensor, z)
    assert torch.count_nonzero(FieldDropout(t, 1.0)(t(z)).tensor) == 0
    # point clouds: (N, C) with coords
    coords = torch.randn(10, 2)
    pts = GeometricTensor(torch.ones(10, 9), t, coords)
    out = FieldDropout(t, 0.5)(pts)
    assert out.coords is coords and torch.all(out.tensor[:, :8] == out.tensor[:, :1])
    with pytest.raises(ValueError, match="p"):
        FieldDropout(t, 1.5)
    with pytest.raises(TypeError, match="p"):
        FieldDropout(t, "0.5")
    with pytest.raises(TypeError, match="inplace"):
        FieldDropout(t, 0.5, inplace=1)


def test_pointwise_dropout():
    torch.manual_seed(8)
    gs = space("D4")
    t = FieldType(gs, [gs.regular_repr] * 4 + [gs.trivial_repr] * 2 + [gs.quotient_repr((0, 1))])
    m = PointwiseDropout(t, 0.5)
    x = t(torch.ones(16, t.size, 4, 4))
    y = m(x).tensor
    assert torch.all((y == 0) | (y == 2))
    frac = (y == 0).float().mean().item()
    assert 0.4 < frac < 0.6
    m.eval()
    assert m(x) is x
    assert_equivariant(m, inputs=rand(t, 5))
    assert isinstance(assert_export(m, x), torch.nn.Identity)
    pickle.loads(pickle.dumps(m))
    with pytest.raises(ValueError, match="pointwise"):
        PointwiseDropout(FieldType(gs, [gs.irrep(1, 1)]), 0.5)
    with pytest.raises(ValueError, match="p"):
        PointwiseDropout(t, -0.1)


# ====================================================================== Upsampling
UP2 = [
    ("C4", dict(scale_factor=2), 5),
    ("C8", dict(scale_factor=2, mode="bicubic"), 5),
    ("D4", dict(scale_factor=1.5), 7),  # non-integer output scale
    ("D4", dict(size=10, align_corners=True), 7),
    ("SO2", dict(scale_factor=3, mode="nearest"), 4),
    ("O2", dict(size=(9, 9), mode="bicubic", align_corners=True), 6),
    ("flip", dict(scale_factor=2.5), 6),
]


@pytest.mark.parametrize("name, kw, n", UP2)
def test_r2_upsampling(name, kw, n):
    gs = space(name)
    t = mixed_type(gs)
    m = R2Upsampling(t, **kw)
    x = rand(t, n)
    y = m(x)
    assert tuple(y.shape) == m.evaluate_output_shape(x.shape)
    assert_equivariant(m, inputs=x)
    if gs.fibergroup.continuous:
        assert_equivariant(m, inputs=x, elements=random_elements(gs.fibergroup, 2), fibers_only=True)
    ex = assert_export(m, x)
    assert type(ex) is torch.nn.Upsample
    for c in roundtrip(m):
        torch.testing.assert_close(c(x).tensor, y.tensor)
    assert m.double()(x.to(torch.float64)).tensor.dtype == torch.float64


@pytest.mark.parametrize(
    "name, kw, n",
    [
        ("octa", dict(scale_factor=2), 3),
        ("O3", dict(size=7), 4),
        ("SO3", dict(scale_factor=2, mode="nearest"), 3),
        ("ico", dict(scale_factor=1.5, align_corners=True), 4),
    ],
)
def test_r3_upsampling(name, kw, n):
    gs = space(name)
    t = mixed_type(gs)
    m = R3Upsampling(t, **kw)
    x = rand(t, n)
    y = m(x)
    assert tuple(y.shape) == m.evaluate_output_shape(x.shape)
    assert_equivariant(m, inputs=x)
    assert_export(m, x)
    pickle.loads(pickle.dumps(m))


def test_nearest_with_fractional_scale_is_not_equivariant():
    """Why R2Upsampling refuses 'nearest' with a non-integer scale: the rounding is asymmetric."""
    x = torch.randn(1, 1, 4, 4)
    y = F.interpolate(x, scale_factor=1.5, mode="nearest", recompute_scale_factor=True)
    y_flip = F.interpolate(x.flip(-1), scale_factor=1.5, mode="nearest", recompute_scale_factor=True)
    assert not torch.allclose(y_flip, y.flip(-1))


def test_upsampling_errors():
    gs = space("C4")
    t = FieldType(gs, [gs.regular_repr])
    with pytest.raises(ValueError, match="exactly one"):
        R2Upsampling(t)
    with pytest.raises(ValueError, match="exactly one"):
        R2Upsampling(t, scale_factor=2, size=8)
    # escnn accepts these (not exactly equivariant): we do too, with a warning
    with pytest.warns(UserWarning, match="nearest"):
        R2Upsampling(t, scale_factor=1.5, mode="nearest")
    with pytest.warns(UserWarning, match="nearest"):
        up = R2Upsampling(t, size=8, mode="nearest")
    assert up._exact_spatial_size() == 8  # the closest side below 9 that divides size=8
    up.check_equivariance()
    with pytest.raises(ValueError, match="mode"):
        R2Upsampling(t, scale_factor=2, mode="trilinear")
    with pytest.raises(ValueError, match="mode"):
        R3Upsampling(FieldType(space("octa"), [space("octa").trivial_repr]), scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="R\\^2"):
        R2Upsampling(FieldType(space("octa"), [space("octa").trivial_repr]), scale_factor=2)
    with pytest.raises(TypeError, match="scale_factor"):
        R2Upsampling(t, scale_factor=(2, 2))
    with pytest.raises(ValueError, match="scale_factor"):
        R2Upsampling(t, scale_factor=-1.0)
    with pytest.raises(ValueError, match="size"):
        R2Upsampling(t, size=(4, 4, 4))
    with pytest.raises(TypeError, match="align_corners"):
        R2Upsampling(t, scale_factor=2, align_corners=None)
    with pytest.raises(ValueError, match="input_shape"):
        R2Upsampling(t, scale_factor=2).evaluate_output_shape((1, 3, 4, 4))
