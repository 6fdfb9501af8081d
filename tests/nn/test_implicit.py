"""Implicit steerable kernels: exact equivariance of the MLP kernel for every group (continuous
ones included), of the grid and point convolutions, completeness against the analytic basis,
export, pickling, compilation, and argument errors."""

import io
import pickle

import numpy as np
import pytest
import torch

from steerable import gspaces, nn
from steerable.nn.implicit import ImplicitKernelSource, irrep_frequency

GSPACES = {
    "C8": lambda: gspaces.rot2dOnR2(8),
    "D4": lambda: gspaces.flipRot2dOnR2(4),
    "SO2": lambda: gspaces.rot2dOnR2(-1, maximum_frequency=3),
    "O2": lambda: gspaces.flipRot2dOnR2(-1, maximum_frequency=3),
    "SO3": lambda: gspaces.rot3dOnR3(maximum_frequency=2),
    "O3": lambda: gspaces.flipRot3dOnR3(maximum_frequency=2),
    "SO2onR3": lambda: gspaces.rot2dOnR3(-1, maximum_frequency=2),
    "C4onR3": lambda: gspaces.rot2dOnR3(4),
    "octa": lambda: gspaces.octaOnR3(),
    "cyl": lambda: gspaces.cylindricalOnR3(maximum_frequency=2),
    "fullcyl": lambda: gspaces.fullCylindricalOnR3(maximum_frequency=2),
    "fullocta": lambda: gspaces.fullOctaOnR3(),
    "ico": lambda: gspaces.icoOnR3(),
}


def _types(gs):
    G = gs.fibergroup
    irr = [gs.irrep(*i) for i in G.bl_irreps(2)] if G.continuous else list(G.irreps())[:3]
    return nn.FieldType(gs, irr[:2]), nn.FieldType(gs, irr[-2:] + [gs.trivial_repr])


def _kernel_error(src, gs, t_in, t_out, dtype, n=25, edge_attr=None, edge_type=None, seed=0):
    """max_g |k(gx, g·a) - ρ_out(g) k(x, a) ρ_in(g)ᵀ| / max |k|, g random elements of G."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, gs.dimensionality, generator=gen, dtype=dtype)
    worst = 0.0
    for g in gs.fibergroup.sample(4, seed=seed + 1):
        R = torch.as_tensor(gs.basespace_matrix(g), dtype=dtype)
        a = ag = None
        if edge_type is not None:
            a = edge_attr.to(dtype)
            ag = a @ torch.as_tensor(edge_type.representation(g), dtype=dtype).T
        with torch.no_grad():
            k, kg = src.kernel(x, a), src.kernel(x @ R.T, ag)
        A = torch.as_tensor(t_out.representation(g), dtype=dtype)
        B = torch.as_tensor(t_in.representation(g), dtype=dtype)
        pred = torch.einsum("oa,gabs,cb->gocs", A, k, B)
        worst = max(worst, float((kg - pred).abs().max() / k.abs().max()))
    return worst


@pytest.mark.parametrize("name", sorted(GSPACES))
@pytest.mark.parametrize("nonlinearity", ["auto", "gated", "norm"])
def test_kernel_equivariance_every_element(name, nonlinearity):
    gs = GSPACES[name]()
    t_in, t_out = _types(gs)
    src = ImplicitKernelSource(t_in, t_out, groups=2, hidden_channels=3, nonlinearity=nonlinearity)
    assert _kernel_error(src, gs, t_in, t_out, torch.float32) < 1e-5
    assert _kernel_error(src.double(), gs, t_in, t_out, torch.float64) < 1e-10


@pytest.mark.parametrize("name", ["SO3", "O2", "octa"])
def test_kernel_equivariance_with_edge_attributes_and_batch_norm(name):
    gs = GSPACES[name]()
    t_in, t_out = _types(gs)
    G = gs.fibergroup
    e = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(*G.bl_irreps(1)[-1]) if G.continuous else gs.regular_repr])
    src = ImplicitKernelSource(t_in, t_out, edge_type=e, hidden_channels=3, batch_norm=True).double()
    attr = torch.randn(25, e.size, dtype=torch.float64)
    for mode in (True, False):  # batch statistics (train) and running statistics (eval)
        src.train(mode)
        assert _kernel_error(src, gs, t_in, t_out, torch.float64, edge_attr=attr, edge_type=e) < 1e-10


def _span_rank(vectors: np.ndarray, tol=1e-6) -> int:
    s = np.linalg.svd(vectors, compute_uv=False)
    return int((s > tol * s[0]).sum())


@pytest.mark.parametrize(
    "name, pair",
    [
        ("SO3", ((1,), (1,))),
        ("SO3", ((1,), (2,))),
        ("O3", ((1, 1), (1, 1))),
        ("SO2", ((1,), (2,))),
        ("O2", ((1, 1), (1, 2))),
    ],
)
def test_kernels_span_the_analytic_space_on_a_sphere(name, pair):
    """On the unit sphere the angular parts of the MLP's kernels (over random initialisations) span
    exactly the analytic steerable basis of the pair: nothing is missing (every harmonic the
    constraint admits is reached) and nothing extra (the constraint holds)."""
    gs = GSPACES[name]()
    t_in, t_out = nn.FieldType(gs, [gs.irrep(*pair[0])]), nn.FieldType(gs, [gs.irrep(*pair[1])])
    d = gs.dimensionality
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(60, d, generator=gen, dtype=torch.float64)
    x = x / x.norm(dim=1, keepdim=True)
    ks = []
    for seed in range(40):
        torch.manual_seed(seed)
        src = ImplicitKernelSource(t_in, t_out, hidden_channels=4).double()
        ks.append(src.kernel(x).reshape(-1).detach().numpy())
    conv_cls = nn.R3PointConv if d == 3 else nn.R2PointConv
    conv = conv_cls(t_in, t_out, rings=[1.0], sigma=[0.5], frequencies_cutoff=10.0).double()
    basis = conv.basisexpansion.forward(torch.eye(conv.weights.numel(), dtype=torch.float64), x)
    analytic = basis.reshape(basis.shape[0], -1).numpy()
    r_mlp, r_ana = _span_rank(np.stack(ks)), _span_rank(analytic)
    assert r_mlp == r_ana
    assert _span_rank(np.concatenate([np.stack(ks), analytic])) == r_ana


@pytest.mark.parametrize(
    "cls, name",
    [(nn.ImplicitR2Conv, n) for n in ("C8", "D4", "SO2", "O2")]
    + [(nn.ImplicitR3Conv, n) for n in ("SO3", "O3", "SO2onR3", "C4onR3", "octa")],
)
def test_grid_convolution_equivariant_on_the_grid_symmetries(cls, name):
    gs = GSPACES[name]()
    t_in, t_out = _types(gs)
    conv = cls(t_in, t_out, kernel_size=3, padding=1, hidden_channels=3)
    errs = conv.check_equivariance(atol=1e-5, rtol=1e-5)
    assert len(errs) > 1 and max(e for _, e in errs) < 1e-5


def test_grid_conv_stride_dilation_groups_and_transposed_taps():
    gs = gspaces.rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr] * 2)
    conv = nn.ImplicitR2Conv(t, t, 5, padding=4, dilation=2, stride=2, groups=2, hidden_channels=2)
    assert conv.filter.shape == (8, 4, 5, 5)
    conv.check_equivariance(atol=1e-5, rtol=1e-5)
    x = t(torch.randn(2, 8, 11, 11))
    assert conv(x).shape == conv.evaluate_output_shape(x.shape)


def test_grid_conv_has_no_basis_and_learnable_mlp():
    gs = gspaces.rot3dOnR3(maximum_frequency=2)
    t = nn.FieldType(gs, [gs.irrep(0), gs.irrep(1)])
    conv = nn.ImplicitR3Conv(t, t, 3, padding=1, hidden_channels=2)
    assert conv.basisexpansion is None and conv.weights.numel() == 0
    names = [n for n, _ in conv.named_parameters()]
    assert "weights" not in names and "_kernel_source.log_sigma" in names and "bias" in names
    assert sorted(conv.state_dict()) == sorted(conv.eval().state_dict())
    conv.train()
    out = conv(t(torch.randn(1, 4, 5, 5, 5)))
    out.tensor.square().sum().backward()
    grads = [p.grad for p in conv.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert float(conv.kernel_source.log_sigma.grad.abs()) > 0


def test_envelope_and_offsets_normalised():
    gs = gspaces.rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    conv = nn.ImplicitR2Conv(t, t, 7, sigma=0.3, learn_sigma=False)
    src = conv.kernel_source
    assert src.offset_scale == pytest.approx(1 / 3)
    assert float(src.sigma) == pytest.approx(0.3)
    assert "log_sigma" in dict(src.named_buffers())
    f = conv.filter.detach().abs()
    assert f[..., 0, 0].max() < 1e-3 * f.max()  # corners (|x| = √2) damped by exp(-½ (√2/0.3)²)


def test_export_matches_and_is_plain_torch():
    gs = gspaces.flipRot2dOnR2(4)
    t_in = nn.FieldType(gs, [gs.trivial_repr] * 2)
    t_out = nn.FieldType(gs, [gs.regular_repr] * 2)
    conv = nn.ImplicitR2Conv(t_in, t_out, 3, padding=1, hidden_channels=2)
    x = torch.randn(2, 2, 9, 9)
    ref = conv(t_in(x)).tensor
    plain = conv.export()
    assert type(plain) is torch.nn.Conv2d
    torch.testing.assert_close(plain(x), ref, atol=1e-5, rtol=1e-5)


def test_pickle_state_dict_and_compile():
    gs = gspaces.rot2dOnR3(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    conv = nn.ImplicitR3Conv(t, t, 3, padding=1, hidden_channels=2).eval()
    x = t(torch.randn(1, 4, 5, 5, 5))
    ref = conv(x).tensor
    again = pickle.loads(pickle.dumps(conv))
    torch.testing.assert_close(again(x).tensor, ref)
    buf = io.BytesIO()
    torch.save(conv.state_dict(), buf)
    fresh = nn.ImplicitR3Conv(t, t, 3, padding=1, hidden_channels=2).eval()
    buf.seek(0)
    fresh.load_state_dict(torch.load(buf))
    torch.testing.assert_close(fresh(x).tensor, ref)
    # the whole forward traces (fullgraph) in training mode; aot_eager also traces the backward
    compiled = torch.compile(conv.train(), backend="aot_eager", fullgraph=True)
    y = compiled(x)
    y.tensor.square().sum().backward()
    g = conv.kernel_source.log_sigma.grad.clone()
    conv.zero_grad()
    conv(x).tensor.square().sum().backward()
    torch.testing.assert_close(y.tensor, conv(x).tensor)
    torch.testing.assert_close(g, conv.kernel_source.log_sigma.grad, rtol=1e-4, atol=1e-6)
    pc = nn.ImplicitR3PointConv(t, t, width=1.0, hidden_channels=2)
    pos = torch.randn(10, 3)
    ei = (torch.cdist(pos, pos) < 1.5).nonzero().T
    xp = t(torch.randn(10, 4), coords=pos)
    yp = torch.compile(pc, backend="aot_eager", fullgraph=True)(xp, ei)
    torch.testing.assert_close(yp.tensor, pc(xp, ei).tensor)


@pytest.mark.parametrize(
    "cls, name",
    [
        (nn.ImplicitR2PointConv, "SO2"),
        (nn.ImplicitR2PointConv, "D4"),
        (nn.ImplicitR3PointConv, "SO3"),
        (nn.ImplicitR3PointConv, "O3"),
        (nn.ImplicitR3PointConv, "SO2onR3"),
        (nn.ImplicitR3PointConv, "octa"),
    ],
)
def test_point_convolution_equivariant(cls, name):
    gs = GSPACES[name]()
    t_in, t_out = _types(gs)
    conv = cls(t_in, t_out, width=1.5, hidden_channels=3)
    errs = conv.check_equivariance(atol=1e-5, rtol=1e-5)
    assert len(errs) >= 4 and max(e for _, e in errs) < 1e-5


@pytest.mark.parametrize("cls, name", [(nn.ImplicitR2PointConv, "O2"), (nn.ImplicitR3PointConv, "SO3")])
def test_point_convolution_with_edge_attributes(cls, name):
    gs = GSPACES[name]()
    G = gs.fibergroup
    t_in, t_out = _types(gs)
    e = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(*G.bl_irreps(1)[-1])])
    conv = cls(t_in, t_out, width=1.0, edge_type=e, hidden_channels=3, groups=1).double()
    errs = conv.check_equivariance(atol=1e-10, rtol=1e-10)
    assert max(err for _, err in errs) < 1e-10
    pos = torch.randn(10, gs.dimensionality, dtype=torch.float64)
    ei = (torch.cdist(pos, pos) < 1.2).nonzero().T
    x = t_in(torch.randn(10, t_in.size, dtype=torch.float64), coords=pos)
    attr = torch.randn(ei.shape[1], e.size, dtype=torch.float64)
    a = conv(x, ei, edge_attr=attr).tensor
    b = conv(x, ei, edge_attr=e(attr, coords=torch.zeros(ei.shape[1], gs.dimensionality, dtype=torch.float64))).tensor
    torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="edge_attr"):
        conv(x, ei)
    with pytest.raises(ValueError, match="edge_attr"):
        conv(x, ei, edge_attr=attr[:, :1])


def test_point_conv_groups_and_gradients():
    gs = GSPACES["SO3"]()
    t = nn.FieldType(gs, [gs.irrep(0), gs.irrep(1)] * 2)
    conv = nn.ImplicitR3PointConv(t, t, groups=2, width=1.0, hidden_channels=2)
    conv.check_equivariance()
    pos = torch.randn(8, 3)
    ei = (torch.cdist(pos, pos) < 1.5).nonzero().T
    out = conv(t(torch.randn(8, 8), coords=pos), ei).tensor
    out.square().sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in conv.parameters())
    with pytest.raises(TypeError, match="export"):
        conv.export()


def test_fourier_on_a_continuous_group_is_approximately_equivariant():
    gs = GSPACES["SO2"]()
    t_in, t_out = _types(gs)
    src = ImplicitKernelSource(t_in, t_out, nonlinearity="fourier", hidden_channels=2, fourier_grid={"N": 24})
    err = _kernel_error(src.double(), gs, t_in, t_out, torch.float64)
    assert 1e-10 < err < 0.2  # a fixed grid on SO(2): close, but not exact


def test_irrep_frequency():
    from steerable.group import o3_group, so2_group

    assert irrep_frequency(so2_group(4), (3,)) == 3
    assert irrep_frequency(o3_group(2), (1, 2)) == 2


def test_bad_arguments_are_named():
    gs = gspaces.rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.ImplicitR2Conv(t, t, 3, nonlinearity="relu")
    with pytest.raises(ValueError, match="hidden_channels"):
        nn.ImplicitR2Conv(t, t, 3, hidden_channels=0)
    with pytest.raises(ValueError, match="sigma"):
        nn.ImplicitR2Conv(t, t, 3, sigma=-1.0)
    with pytest.raises(ValueError, match="lift_order"):
        ImplicitKernelSource(t, t, lift_order=0)
    with pytest.raises(ValueError, match="width"):
        nn.ImplicitR2PointConv(t, t, width=0.0)
    with pytest.raises(TypeError, match="edge_type"):
        nn.ImplicitR2PointConv(t, t, edge_type=[gs.trivial_repr])
    with pytest.raises(ValueError, match="edge_type"):
        g3 = gspaces.rot2dOnR3(4)
        nn.ImplicitR2PointConv(t, t, edge_type=nn.FieldType(g3, [g3.trivial_repr]))
    with pytest.raises(ValueError, match="fourier_grid"):
        cyl = gspaces.cylindricalOnR3()
        tc = nn.FieldType(cyl, [cyl.trivial_repr])
        ImplicitKernelSource(tc, tc, nonlinearity="fourier")
    with pytest.raises(ValueError, match="points"):
        ImplicitKernelSource(t, t).kernel(torch.randn(4, 3))
    with pytest.raises(ValueError, match="edge_attr"):
        ImplicitKernelSource(t, t).kernel(torch.randn(4, 2), torch.randn(4, 1))
