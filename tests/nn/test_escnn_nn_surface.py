"""escnn compatibility of steerable.nn outside the convolutions: FieldType / GeometricTensor
members, check_equivariance (signature, exact grid sizes), export() in eval mode, arguments
escnn accepts, in-place nonlinearities after pooling, SequentialModule, escnn checkpoints."""

from __future__ import annotations

import inspect
import pathlib
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import scipy.sparse
import torch

from steerable import gspaces, nn

DATA = pathlib.Path(__file__).parent / "data"


def c4():
    return gspaces.rot2dOnR2(4)


# ---------------------------------------------------------------------------- FieldType / GeometricTensor
def test_field_type_members():
    gs = c4()
    G = gs.fibergroup
    t = nn.FieldType(gs, [gs.regular_repr, gs.irrep(1), gs.trivial_repr])
    assert t.fibergroup == G and not t.uniform and nn.FieldType(gs, [gs.regular_repr] * 3).uniform
    assert t.fields_names() == [r.name for r in t.representations]
    assert list(t.fields_start) == [0, 4, 6] and list(t.fields_end) == [4, 6, 7]
    assert t.representation == t.fiber_representation
    q, qi = t.change_of_basis, t.change_of_basis_inv
    assert scipy.sparse.issparse(q) and q.shape == (7, 7)
    np.testing.assert_allclose((q @ qi).toarray(), np.eye(7), atol=1e-12)
    dq, dqi = t.get_dense_change_of_basis(), t.get_dense_change_of_basis_inv()
    assert isinstance(dq, torch.Tensor) and dq.dtype == torch.float32 and dq.shape == (7, 7)
    torch.testing.assert_close(dq, torch.as_tensor(q.toarray(), dtype=torch.float32))
    torch.testing.assert_close(dq @ dqi, torch.eye(7), atol=1e-6, rtol=0)
    # block diagonal: Q ρ_irreps(g) Q⁻¹ = ρ(g)
    g = G.element(1)
    blocks = scipy.linalg.block_diag(*[G.irrep(*i)(g) for i in t.irreps])
    np.testing.assert_allclose(q.toarray() @ blocks @ qi.toarray(), t.representation(g), atol=1e-12)
    # testing elements: exact grid symmetries only
    exact = getattr(gs, "exact_testing_elements", gs.testing_elements)
    assert list(t.testing_elements) == list(exact)
    # escnn's parameter names of transform / transform_fibers
    x = torch.randn(2, 7, 5, 5)
    torch.testing.assert_close(t.transform_fibers(input=x, element=g), t.transform(x, g).rot90(-1, (2, 3)))
    assert "order" in inspect.signature(t.transform).parameters


def test_geometric_tensor_compatibility():
    gs = c4()
    t = nn.FieldType(gs, [gs.regular_repr])
    u = nn.FieldType(gs, [gs.trivial_repr] * 4)
    a, b, c = t(torch.randn(1, 4, 3, 3)), t(torch.randn(1, 4, 3, 3)), u(torch.randn(1, 4, 3, 3))
    assert a.has_same_coords(b) and a.is_compatible(b) and not a.is_compatible(c) and a.has_same_coords(c)
    tp = t
    pts = torch.randn(5, 2)
    p, q = tp(torch.randn(5, 4), pts), tp(torch.randn(5, 4), pts + 1)
    assert p.has_same_coords(tp(torch.randn(5, 4), pts.clone())) and not p.has_same_coords(q)
    assert not p.is_compatible(q) and not p.has_same_coords(a)
    with pytest.raises(TypeError, match="other"):
        a.is_compatible(a.tensor)


# ---------------------------------------------------------------------------- check_equivariance
def test_check_equivariance_signatures_follow_escnn():
    sig = inspect.signature(nn.EquivariantModule.check_equivariance).parameters
    assert list(sig)[:6] == ["self", "atol", "rtol", "assertion", "verbose", "device"]
    assert (sig["atol"].default, sig["rtol"].default) == (1e-7, 1e-5)
    expected = {
        nn.ReLU: (1e-6, 1e-5),
        nn.InnerBatchNorm: (1e-6, 1e-5),
        nn.PointwiseMaxPool2D: (1e-6, 1e-5),
        nn.GroupPooling: (1e-6, 1e-5),
        nn.SequentialModule: (2e-6, 1e-5),
        nn.IdentityModule: (2e-6, 1e-5),
        nn.MultipleModule: (2e-6, 1e-5),
        nn.R2Upsampling: (0.1, 0.1),
        nn.MaskModule: (0.1, 0.1),
        nn.RestrictionModule: (1e-7, 1e-5),
        nn.HarmonicPolynomialR3: (1e-4, 1e-3),
        nn.MergeModule: (1e-6, 1e-5),
        nn.GatedNonLinearity2: (1e-6, 1e-5),
        nn.BranchingModule: (1e-6, 1e-5),
    }
    for cls, (atol, rtol) in expected.items():
        p = inspect.signature(cls.check_equivariance).parameters
        assert (p["atol"].default, p["rtol"].default) == (atol, rtol), cls.__name__
        assert "assertion" in p and "verbose" in p, cls.__name__
    assert inspect.signature(nn.MaskModule.check_equivariance).parameters["verbose"].default is True
    assert "full_space_action" in inspect.signature(nn.MultipleModule.check_equivariance).parameters


def test_check_equivariance_picks_a_grid_on_which_strided_layers_are_exact():
    """The issue: PointwiseMaxPool2D(t, 2) was reported broken (error 3.14) on the default 9x9 grid."""
    torch.manual_seed(0)
    gs = gspaces.flipRot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr] * 2)
    pool = nn.PointwiseMaxPool2D(t, 2)
    assert pool._exact_spatial_size() % 2 == 0
    errs = pool.check_equivariance()
    assert len(errs) == 8 and max(e for _, e in errs) == 0.0
    # on an odd grid the last row/column is dropped on one side: not equivariant, and the message says why
    with pytest.raises(AssertionError, match="does not place every layer's windows symmetrically"):
        pool.check_equivariance(spatial=9)
    # assertion=False returns the errors instead of raising
    assert max(e for _, e in pool.check_equivariance(assertion=False, spatial=9)) > 0.1
    # a sequence ending in a strided pool, after a strided conv: needs (n - 1) % 2 == 0, then even
    seq = nn.SequentialModule(
        nn.R2Conv(t, t, 3, padding=1, stride=2),
        nn.ReLU(t),
        nn.PointwiseMaxPool2D(t, 2),
        nn.PointwiseAvgPoolAntialiased2D(t, 0.6, 2),
    )
    n = seq._exact_spatial_size()
    m1 = (n - 1) // 2 + 1
    assert (n - 1) % 2 == 0 and m1 % 2 == 0 and (m1 // 2 - 1) % 2 == 0
    assert max(e for _, e in seq.check_equivariance(atol=1e-5)) < 1e-5


@pytest.mark.parametrize(
    "make",
    [
        lambda t: nn.PointwiseMaxPoolAntialiased2D(t, 3, 2, 1),
        lambda t: nn.PointwiseAvgPool2D(t, 3, 3),
        lambda t: nn.NormMaxPool(t, 2, 2),
        lambda t: nn.PointwiseAdaptiveMaxPool2D(t, 3),
        lambda t: nn.R2Upsampling(t, 2, mode="nearest"),
        lambda t: nn.MaskModule(t, 13, 10),
        lambda t: nn.MultipleModule(
            t,
            ["a", "b"],
            [
                (nn.PointwiseMaxPool2D(t.index_select([0]), 2), "a"),
                (nn.PointwiseAvgPool2D(t.index_select([1]), 2), "b"),
            ],
        ),
    ],
)
def test_check_equivariance_default_grid_is_exact(make):
    torch.manual_seed(1)
    gs = gspaces.rot2dOnR2(8)
    t = nn.FieldType(gs, [gs.regular_repr] * 2)
    m = make(t)
    errs = m.check_equivariance(atol=1e-6, rtol=1e-5)
    assert len(errs) == 4 and max(e for _, e in errs) < 1e-6


def test_check_equivariance_says_when_no_grid_is_exact():
    gs = c4()
    t = nn.FieldType(gs, [gs.regular_repr])
    m = nn.SequentialModule(nn.MaskModule(t, 5), nn.MaskModule(t, 7))
    with pytest.raises(ValueError, match="no square input"):
        m.check_equivariance()


def test_check_equivariance_restriction_and_gated2_and_merge():
    torch.manual_seed(2)
    gs = gspaces.flipRot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    res = nn.RestrictionModule(t, (None, 4))
    assert len(res.check_equivariance()) == 4  # the subgroup's exact elements
    so2 = gspaces.rot2dOnR2(-1)
    gates, gated = nn.FieldType(so2, [so2.trivial_repr] * 2), nn.FieldType(so2, [so2.irrep(1), so2.irrep(2)])
    assert max(e for _, e in nn.GatedNonLinearity2((gates, gated)).check_equivariance(atol=1e-6)) < 1e-6
    br = nn.BranchingModule(t + t, ["a", "b"])
    merge = nn.MergeModule([(nn.ReLU(t), "a"), (nn.PointwiseMaxPool2D(t, 2), "b")])
    with pytest.raises(ValueError, match="no square input"):
        merge.check_equivariance()  # ReLU keeps the size, the pool halves it: no common output grid
    assert len(br.check_equivariance()) == 8


# ---------------------------------------------------------------------------- export() -> eval
@pytest.mark.parametrize(
    "make",
    [
        lambda t: nn.InnerBatchNorm(t),
        lambda t: nn.IIDBatchNorm2d(t),
        lambda t: nn.GNormBatchNorm(t),
        lambda t: nn.FieldDropout(t, 0.5),
        lambda t: nn.PointwiseDropout(t, 0.5),
        lambda t: nn.SequentialModule(nn.InnerBatchNorm(t), nn.ReLU(t), nn.PointwiseDropout(t, 0.3)),
        lambda t: nn.MultipleModule(
            t, ["a", "b"], [(nn.InnerBatchNorm(t.index_select([0])), "a"), (nn.FieldDropout(t.index_select([1])), "b")]
        ),
    ],
)
def test_export_puts_module_and_export_in_eval_mode(make):
    torch.manual_seed(3)
    gs = c4()
    t = nn.FieldType(gs, [gs.regular_repr] * 2)
    m = make(t)
    m.train()
    for _ in range(2):
        m(t(2 * torch.randn(6, 8, 5, 5) + 1))
    ex = m.export()
    assert not m.training and not any(s.training for s in m.modules())
    assert not ex.training and not any(s.training for s in ex.modules())
    x = t(torch.randn(3, 8, 5, 5))
    with torch.no_grad():
        torch.testing.assert_close(ex(x.tensor), m.eval()(x).tensor, atol=1e-6, rtol=1e-5)


# ---------------------------------------------------------------------------- escnn's arguments
def test_arguments_escnn_accepts():
    gs = c4()
    reg, tri, vec = (nn.FieldType(gs, [r] * 2) for r in (gs.regular_repr, gs.trivial_repr, gs.irrep(1)))
    with pytest.warns(UserWarning, match="no effect"):
        nn.GatedNonLinearity2((tri, vec), function=torch.sigmoid)
    with pytest.warns(UserWarning, match="no effect"):
        nn.GatedNonLinearity1(tri + vec, gates=["gate"] * 2 + ["gated"] * 2, function=torch.sigmoid)
    with pytest.warns(UserWarning, match="no effect"):
        nn.VectorFieldNonLinearity(reg, function=torch.relu)
    with pytest.warns(UserWarning, match="no effect"):
        nn.GroupPooling(reg, foo=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.GatedNonLinearity2((tri, vec))
        nn.GroupPooling(reg)
    mixed = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr] * 2)
    m = nn.MultipleModule(
        mixed, ["a", "b", "a", "b"], [(nn.IdentityModule(reg), "a"), (nn.IdentityModule(tri), "b")], reshuffle=1
    )
    assert m.out_type.size == 10
    with pytest.warns(UserWarning, match="nearest"):
        up = nn.R2Upsampling(reg, size=10, mode="nearest")
    assert up(reg(torch.randn(1, 8, 5, 5))).shape == (1, 8, 10, 10)
    assert nn.MaskModule(reg, 9, 10, sigma=3.0).sigma == 3.0
    assert nn.HarmonicPolynomialR3(2, group="o3").out_type.size == 9


def test_escnn_public_attributes():
    gs = c4()
    t = nn.FieldType(gs, [gs.regular_repr] * 2)
    assert nn.ReLU(t).space == gs and nn.InnerBatchNorm(t).space == gs
    assert nn.PointwiseMaxPool2D(t, 2).d == 2 and nn.R2Upsampling(t, 2).d == 2 and nn.MaskModule(t, 5).dim == 2
    assert nn.MultipleModule(t, ["a", "a"], [(nn.ReLU(t), "a")]).gspace == gs
    hp = nn.HarmonicPolynomialR3(2)
    assert hp.rho.size == 9
    so2 = gspaces.rot2dOnR2(-1)
    f = nn.FourierELU(so2, 2, [(0,), (1,)], N=8)
    assert f.Ainv is f.A_inv and f.space == so2


def test_tensor_product_construct_and_basisexpansion():
    gs = c4()
    m = nn.TensorProductModule.construct(gs, 3, gs.regular_repr, gs.regular_repr)
    assert m.in_type == nn.FieldType(gs, [gs.regular_repr] * 3)
    be = m.basisexpansion
    assert be.dimension() == m.weights.numel() > 0
    for a, b in zip(be(m.weights), m.expand_parameters()):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="weights"):
        be(torch.zeros(1))
    with pytest.raises(ValueError, match="in_repr"):
        nn.TensorProductModule.construct(gs, 2, gspaces.rot2dOnR2(8).regular_repr, gs.regular_repr)


# ---------------------------------------------------------------------------- SequentialModule
def test_sequential_empty_append_slice():
    gs = c4()
    t = nn.FieldType(gs, [gs.regular_repr] * 2)
    s = nn.SequentialModule()
    assert s.in_type is None and s.out_type is None and len(s) == 0
    assert s.append(nn.ReLU(t)) is s
    s.append(nn.PointwiseMaxPool2D(t, 2)).append(nn.ELU(t))
    assert s.in_type == t and len(s) == 3 and list(s._modules) == ["0", "1", "2"]
    sub = s[1:]
    assert isinstance(sub, nn.SequentialModule) and len(sub) == 2 and sub[0] is s[1]
    with pytest.raises(IndexError):
        s[3]
    with pytest.raises(ValueError, match="previous module outputs"):
        s.append(nn.ReLU(nn.FieldType(gs, [gs.trivial_repr])))
    named = nn.SequentialModule(OrderedDict(relu=nn.ReLU(t), pool=nn.PointwiseMaxPool2D(t, 2)))
    assert list(named._modules) == ["relu", "pool"]
    assert named(t(torch.randn(1, 8, 6, 6))).shape == (1, 8, 3, 3)


# ---------------------------------------------------------------------------- in-place after pooling
@pytest.mark.parametrize("kind", ["group", "norm", "norm_mixed", "induced"])
def test_inplace_nonlinearity_after_fieldwise_pooling(kind):
    """GroupPooling followed by ReLU(inplace=True) failed in backward (amax keeps its output)."""
    torch.manual_seed(4)
    gs = gspaces.flipRot2dOnR2(4)
    G = gs.fibergroup
    if kind == "group":
        t, pool = (tt := nn.FieldType(gs, [gs.regular_repr] * 2)), nn.GroupPooling(tt)
    elif kind == "norm":
        t, pool = (tt := nn.FieldType(gs, [gs.irrep(1, 1)] * 2)), nn.NormPool(tt)
    elif kind == "norm_mixed":
        t, pool = (tt := nn.FieldType(gs, [gs.irrep(1, 1), gs.regular_repr])), nn.NormPool(tt)
    else:
        H, _, _ = G.subgroup((None, 4))
        t = nn.FieldType(gs, [G.induced_representation((None, 4), H.irrep(1))] * 2)
        pool = nn.InducedNormPool(t)
    for act in (nn.ReLU(pool.out_type, inplace=True), nn.ELU(pool.out_type, inplace=True)):
        x = torch.randn(2, t.size, 4, 4, requires_grad=True)
        act(pool(t(x))).tensor.sum().backward()
        x2 = x.detach().clone().requires_grad_(True)
        ref = torch.nn.ReLU() if isinstance(act, nn.ReLU) else torch.nn.ELU()
        ref(pool(t(x2)).tensor).sum().backward()
        torch.testing.assert_close(x.grad, x2.grad)


# ---------------------------------------------------------------------------- escnn checkpoints
def test_inner_batchnorm_loads_an_escnn_state_dict():
    """tests/nn/data/escnn_innerbatchnorm_c4.pt: escnn 1.0.11's InnerBatchNorm on C4 fields
    [regular, trivial, regular, quotient(C4/C2)] (state keys ``batch_norm_[s].*``, ``indices_s``)
    after 3 training steps, an input and its eval-mode output."""
    d = torch.load(DATA / "escnn_innerbatchnorm_c4.pt")
    gs = c4()
    G = gs.fibergroup
    t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr, gs.regular_repr, G.quotient_representation(2)])
    bn = nn.InnerBatchNorm(t, momentum=0.5)
    assert any(k.startswith("batch_norm_[") for k in d["state_dict"])
    bn.load_state_dict(d["state_dict"])
    assert set(bn.state_dict()) == {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}
    assert int(bn.num_batches_tracked) == 3
    bn.eval()
    with torch.no_grad():
        torch.testing.assert_close(bn(t(d["x"])).tensor, d["y"], atol=1e-5, rtol=1e-5)
    # nested under a prefix (as in a model) works the same
    seq = nn.SequentialModule(nn.InnerBatchNorm(t, momentum=0.5))
    seq.load_state_dict({f"0.{k}": v for k, v in d["state_dict"].items()})
    torch.testing.assert_close(seq.eval()(t(d["x"])).tensor, d["y"], atol=1e-5, rtol=1e-5)
    # our own keys still load, and a wrong escnn state is refused clearly
    bn2 = nn.InnerBatchNorm(t)
    bn2.load_state_dict(bn.state_dict())
    bad = dict(d["state_dict"])
    bad["batch_norm_[4].weight"] = torch.ones(3)
    with pytest.raises(ValueError, match="fields of size 4"):
        nn.InnerBatchNorm(t).load_state_dict(bad)


# ---------------------------------------------------------------------------- smaller escnn behaviours
@pytest.mark.parametrize("space", ["c8", "d8", "octa"])
def test_concatenated_on_signed_permutations(space):
    """escnn's 'concatenated' support includes signed permutations (e.g. the 90° rotation)."""
    torch.manual_seed(5)
    gs = {"c8": lambda: gspaces.rot2dOnR2(8), "d8": lambda: gspaces.flipRot2dOnR2(8), "octa": gspaces.octaOnR3}[space]()
    reps = [r for r in gs.representations.values() if "concatenated" in r.supported_nonlinearities]
    signed = [r for r in reps if (np.round(r.matrices(list(gs.fibergroup.generators))) < 0).any()]
    assert signed  # some are genuinely signed
    t = nn.FieldType(gs, reps)
    m = nn.ConcatenatedNonLinearity(t)
    assert m.out_type.size == 2 * t.size
    assert max(e for _, e in m.check_equivariance(atol=1e-6)) < 1e-6
    # every output representation is a permutation representation
    for r in m.out_type.representations:
        mats = r.matrices(list(gs.fibergroup.generators))
        np.testing.assert_allclose(np.abs(mats).sum(1), 1, atol=1e-9)
        assert np.allclose(mats, np.round(mats), atol=1e-9) and (np.round(mats) >= 0).all()


def test_misc_escnn_behaviours():
    gs = c4()
    t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr, gs.regular_repr])
    assert nn.BranchingModule(t, ["a", "b", "a"], reshuffle=True).reshuffle == 1
    rs = nn.ReshuffleModule(t, [2, 0, 1])
    assert rs.indices.tolist() == [5, 6, 7, 8, 0, 1, 2, 3, 4]
    fn = nn.FieldNorm(nn.FieldType(gs, [gs.regular_repr]))
    fn.reset_running_stats()  # no running statistics: a no-op, as the batch norms' method
    # eval-mode batch norm is computed exactly as its export
    bn = nn.InnerBatchNorm(t)
    bn.train()
    bn(t(3 * torch.randn(8, 9, 5, 5) + 2))
    ex = bn.export()
    x = torch.randn(4, 9, 5, 5)
    assert torch.equal(bn(t(x)).tensor, ex(x))


def test_geometric_tensor_indexing_errors_follow_escnn():
    gs = gspaces.flipRot2dOnR2(2)
    t = nn.FieldType(gs, [gs.trivial_repr] * 7)
    gt = t(torch.randn(10, 7, 11, 11))
    with pytest.raises(TypeError, match="too many indices"):
        gt[2:5, 0:4, 1:7, 1:7, ...]
    with pytest.raises(TypeError, match="axis 0"):
        gt[[2, 4, 2], 0:4, ...]
    with pytest.raises(TypeError, match="axis 2"):
        gt[2, 0:4, range(3), range(3)]
    with pytest.raises(TypeError):
        gt[2, 1:3, ...] = torch.randn(1, 2, 11, 11)
    # lists of fields on the field axis and bool/long tensors elsewhere still work
    assert gt[:, [0, 2]].shape == (10, 2, 11, 11)
    assert gt[torch.tensor([1, 3])].shape == (2, 7, 11, 11)


def test_norm_batchnorm_loads_an_escnn_state_dict():
    """tests/nn/data/escnn_normbatchnorm_so2.pt: escnn 1.0.11's NormBatchNorm on SO(2) fields
    [ψ1, ψ2, ψ1, ψ3] (keys ``2_weight``, ``2_running_var`` of shape (1, 4, 1), ``2_indices``) after
    3 training steps, an input and its eval-mode output."""
    d = torch.load(DATA / "escnn_normbatchnorm_so2.pt")
    gs = gspaces.rot2dOnR2(-1, maximum_frequency=3)
    t = nn.FieldType(gs, [gs.irrep(1), gs.irrep(2), gs.irrep(1), gs.irrep(3)])
    bn = nn.NormBatchNorm(t, momentum=0.5)
    bn.load_state_dict(d["state_dict"])
    assert set(bn.state_dict()) == {"weight", "running_var", "num_batches_tracked"}
    with torch.no_grad():
        torch.testing.assert_close(bn.eval()(t(d["x"])).tensor, d["y"], atol=1e-5, rtol=1e-5)
    bad = dict(d["state_dict"])
    bad["2_weight"] = torch.ones(1, 3, 1)
    with pytest.raises(ValueError, match="fields of size 2"):
        nn.NormBatchNorm(t).load_state_dict(bad)
