"""Kernel bases with escnn 1.0.11's defaults and escnn's API around them.

1. the number of weights of R2Conv / R3Conv / transposed / R3IcoConv equals escnn's for a table of
   gspaces, field types, kernel sizes, dilations and explicit sigma / rings / frequencies_cutoff
   (the sizes were measured with escnn 1.0.11); ``basis='complete'`` keeps steerable's richer basis;
2. delta-orthonormal initialisation: zero off-centre taps, orthonormal centre (2D, 3D, transposed,
   Linear); He initialisation with ``cache=True``;
3. the basis manager interface (``dimension()``, ``get_basis_info()``, ``get_element_info(i)``,
   ``forward(weights)``, ``blocks``) and the layers' escnn attributes;
4. the extension points: overriding ``_build_kernel_basis``, swapping the ``kernel_source``,
   escnn's import paths.
"""

from __future__ import annotations

import pytest
import torch

from steerable import gspaces, nn
from steerable.nn import init

# (class, gspace, in fields, out fields, kernel_size, kwargs, escnn's number of weights)
ESCNN_SIZES = [
    ("R2Conv", "rot2dOnR2(1)", "reg", "reg", 5, {}, 44),
    ("R2Conv", "rot2dOnR2(2)", "reg", "reg", 5, {}, 88),
    ("R2Conv", "rot2dOnR2(4)", "reg", "reg", 5, {}, 176),
    ("R2Conv", "rot2dOnR2(8)", "reg", "reg", 5, {}, 352),
    ("R2Conv", "rot2dOnR2(16)", "reg", "reg", 5, {}, 704),
    ("R2Conv", "rot2dOnR2(8)", "reg", "reg", 7, {}, 576),
    ("R2Conv", "rot2dOnR2(8)", "triv", "reg", 7, {}, 36),
    ("R2Conv", "rot2dOnR2(8)", "reg", "reg", 3, {}, 192),
    ("R2Conv", "rot2dOnR2(8)", "reg", "reg", 9, {}, 992),
    ("R2Conv", "rot2dOnR2(8)", "reg", "reg", 5, {"dilation": 2}, 672),
    ("R2Conv", "rot2dOnR2(8)", "reg", "reg", 3, {"dilation": 2}, 256),
    ("R2Conv", "rot2dOnR2(8)", "reg", "reg", 7, {"dilation": 2}, 1472),
    ("R2Conv", "rot2dOnR2(8)", "irr", "irr", 5, {}, 88),
    ("R2Conv", "rot2dOnR2(8)", "quot2", "reg", 5, {}, 176),
    ("R2Conv", "rot2dOnR2(8)", "mixed", "mixed", 5, {}, 615),
    ("R2Conv", "rot2dOnR2(8)", "reg", "reg", 5, {"frequencies_cutoff": 3.0}, 672),
    ("R2Conv", "rot2dOnR2(8)", "reg", "reg", 7, {"frequencies_cutoff": -2.0}, 512),
    ("R2Conv", "rot2dOnR2(8)", "reg", "reg", 7, {"frequencies_cutoff": -3.0}, 448),
    ("R2Conv", "rot2dOnR2(8)", "reg", "reg", 5, {"sigma": 0.6}, 352),
    ("R2Conv", "rot2dOnR2(8)", "reg", "reg", 5, {"rings": [0.0, 1.0, 1.5, 2.0]}, 512),
    ("R2Conv", "rot2dOnR2(8)", "reg", "reg", 5, {"rings": [0.5, 1.5], "sigma": [0.5, 0.5]}, 160),
    ("R2Conv", "rot2dOnR2(4)", "reg", "reg", 1, {}, 16),
    ("R2Conv", "rot2dOnR2(-1, 6)", "irr", "irr", 5, {}, 43),
    ("R2Conv", "rot2dOnR2(-1, 6)", "irr", "irr", 7, {}, 66),
    ("R2Conv", "rot2dOnR2(-1, 6)", "irr", "irr", 7, {"frequencies_cutoff": 1.5}, 66),
    ("R2Conv", "flipRot2dOnR2(1)", "reg", "reg", 5, {}, 88),
    ("R2Conv", "flipRot2dOnR2(4)", "reg", "reg", 5, {}, 352),
    ("R2Conv", "flipRot2dOnR2(8)", "reg", "reg", 5, {}, 704),
    ("R2Conv", "flipRot2dOnR2(16)", "reg", "reg", 5, {}, 1408),
    ("R2Conv", "flipRot2dOnR2(16)", "reg", "reg", 7, {}, 2304),
    ("R2Conv", "flipRot2dOnR2(8)", "irr", "irr", 7, {}, 94),
    ("R2Conv", "flipRot2dOnR2(8)", "mixed", "mixed", 5, {}, 899),
    ("R2Conv", "flipRot2dOnR2(8)", "triv", "reg", 9, {"dilation": 2}, 134),
    ("R2Conv", "flipRot2dOnR2(-1, 6)", "irr", "irr", 5, {}, 34),
    ("R2Conv", "flip2dOnR2()", "reg", "reg", 5, {}, 88),
    ("R2Conv", "flip2dOnR2()", "irr", "irr", 7, {}, 36),
    ("R2Conv", "trivialOnR2()", "triv", "triv", 5, {}, 11),
    ("R2Conv", "trivialOnR2()", "triv", "triv", 7, {}, 18),
    ("R2ConvTransposed", "rot2dOnR2(8)", "reg", "reg", 5, {}, 352),
    ("R2ConvTransposed", "flipRot2dOnR2(4)", "triv", "reg", 7, {}, 36),
    ("R2Conv", "rot2dOnR2(8)", "reg", "reg", 5, {"groups": 2}, 176),
    ("R3Conv", "rot3dOnR3(3)", "irr", "irr", 3, {}, 18),
    ("R3Conv", "rot3dOnR3(3)", "irr", "irr", 5, {}, 33),
    ("R3Conv", "rot3dOnR3(3)", "irr", "irr", 7, {}, 51),
    ("R3Conv", "rot3dOnR3(3)", "irr", "irr", 5, {"frequencies_cutoff": 2.0}, 37),
    ("R3Conv", "rot3dOnR3(3)", "irr", "irr", 5, {"dilation": 2}, 21),
    ("R3Conv", "flipRot3dOnR3(2)", "irr", "irr", 5, {}, 66),
    ("R3Conv", "flipRot3dOnR3(2)", "irr", "irr", 3, {"frequencies_cutoff": 2.0}, 36),
    ("R3Conv", "octaOnR3()", "reg", "reg", 3, {}, 960),
    ("R3Conv", "octaOnR3()", "reg", "reg", 5, {}, 1824),
    ("R3Conv", "octaOnR3()", "triv", "reg", 7, {}, 70),
    ("R3Conv", "octaOnR3()", "irr", "irr", 5, {}, 81),
    ("R3Conv", "fullOctaOnR3()", "irr", "irr", 5, {}, 64),
    ("R3Conv", "icoOnR3()", "irr", "irr", 5, {}, 83),
    ("R3Conv", "icoOnR3()", "reg", "reg", 3, {}, 2400),
    ("R3Conv", "rot2dOnR3(4)", "reg", "reg", 5, {}, 304),
    ("R3Conv", "rot2dOnR3()", "irr", "irr", 5, {}, 79),
    ("R3Conv", "conicalOnR3()", "irr", "irr", 5, {}, 62),
    ("R3Conv", "dihedralOnR3(4)", "reg", "reg", 3, {}, 320),
    ("R3Conv", "mirOnR3()", "reg", "reg", 5, {}, 152),
    ("R3Conv", "invOnR3()", "reg", "reg", 5, {}, 152),
    ("R3Conv", "trivialOnR3()", "triv", "triv", 5, {}, 19),
    ("R3ConvTransposed", "rot3dOnR3(3)", "irr", "irr", 5, {}, 33),
    ("R3ConvTransposed", "octaOnR3()", "irr", "irr", 5, {}, 81),
    ("R3IcoConv", "icoOnR3()", "irr", "irr", 5, {}, 177),
    ("R3IcoConv", "icoOnR3()", "irr", "irr", 5, {"samples": "dodeca"}, 109),
    ("R3IcoConv", "icoOnR3()", "irr", "irr", 5, {"samples": "icosidodeca"}, 261),
    ("R3IcoConv", "icoOnR3()", "reg", "reg", 3, {}, 5040),
    ("R3IcoConvTransposed", "icoOnR3()", "irr", "irr", 3, {}, 91),
    # point convolutions (escnn's BlocksBasisSampler with R2PointConv's defaults; torch_geometric-free)
    ("R2PointConv", "rot2dOnR2(8)", "reg", "reg", None, {"width": 2.0, "n_rings": 3}, 672),
    ("R2PointConv", "rot2dOnR2(8)", "reg", "reg", None, {"width": 2.0, "n_rings": 3, "frequencies_cutoff": 2.0}, 480),
    ("R2PointConv", "flipRot2dOnR2(-1, 8)", "irr", "irr", None, {"width": 2.0, "n_rings": 3}, 39),
    ("R2PointConv", "rot2dOnR2(-1, 6)", "irr", "irr", None, {"rings": [0.0, 0.5, 1.5], "sigma": 0.4}, 43),
    ("R3PointConv", "rot3dOnR3(3)", "irr", "irr", None, {"width": 2.0, "n_rings": 3}, 40),
    ("R3PointConv", "octaOnR3()", "irr", "irr", None, {"width": 2.0, "n_rings": 3}, 277),
    ("R3PointConv", "icoOnR3()", "irr", "irr", None, {"width": 1.0, "n_rings": 4}, 110),
]


def _fields(gs, spec):
    G = gs.fibergroup
    if spec == "reg":
        return [gs.regular_repr] * 2
    if spec == "triv":
        return [gs.trivial_repr]
    if spec == "irr":
        if G.order() < 0:
            return [gs.irrep(*i) for i in G.bl_irreps(2)]
        return list(gs.irreps)[:6]
    if spec == "quot2":
        return [gs.quotient_repr(2)] * 2
    if spec == "mixed":
        return [gs.trivial_repr, gs.regular_repr] + list(gs.irreps)[1:3] + [gs.regular_repr]
    raise ValueError(spec)


def _build(cls, gs, fin, fout, k, kw, **extra):
    g = eval("gspaces." + gs)
    t_in, t_out = nn.FieldType(g, _fields(g, fin)), nn.FieldType(g, _fields(g, fout))
    if k is None:  # point convolutions
        return getattr(nn, cls)(t_in, t_out, initialize=False, **kw, **extra)
    return getattr(nn, cls)(t_in, t_out, k, initialize=False, **kw, **extra)


@pytest.mark.parametrize("cls,gs,fin,fout,k,kw,expected", ESCNN_SIZES)
def test_number_of_weights_is_escnns(cls, gs, fin, fout, k, kw, expected):
    conv = _build(cls, gs, fin, fout, k, kw)
    assert conv.weights.numel() == expected


def test_table_is_large_and_covers_the_defaults():
    assert len(ESCNN_SIZES) >= 40
    assert {c[0] for c in ESCNN_SIZES} >= {"R2Conv", "R3Conv", "R2ConvTransposed", "R3ConvTransposed", "R3IcoConv"}


@pytest.mark.parametrize(
    "cls,gs,k,complete",
    [("R2Conv", "rot2dOnR2(8)", 5, 480), ("R2Conv", "rot2dOnR2(8)", 7, 896), ("R3Conv", "octaOnR3()", 5, 3360)],
)
def test_complete_basis_option(cls, gs, k, complete):
    """``basis='complete'``: steerable's richer basis (σ = 0.6, order ≤ 2r, nothing dropped)."""
    rich = _build(cls, gs, "reg", "reg", k, {}, basis="complete")
    default = _build(cls, gs, "reg", "reg", k, {})
    assert rich.weights.numel() == complete > default.weights.numel()
    with pytest.raises(ValueError, match="basis"):
        _build(cls, gs, "reg", "reg", k, {}, basis="nope")


def test_escnn_rings_sigma_and_cutoff():
    gs = gspaces.rot2dOnR2(8)
    t = nn.FieldType(gs, [gs.regular_repr])
    conv = nn.R2Conv(t, t, 7, dilation=2, initialize=False)
    assert conv.rings == [0.0, 2.0, 4.0, 6.0] and conv.sigmas == [0.005, 0.6, 0.6, 0.4]
    assert (
        max(a["irrep:frequency"] for a in conv.basisexpansion.get_basis_info()) == 11
    )  # escnn: min(2r, 2r - (r+1) mod 2) at r = 6
    with pytest.raises(ValueError, match="rings"):
        nn.R2Conv(t, t, 3, rings=[0.0, 5.0])
    with pytest.raises(ValueError, match="frequencies_cutoff"):
        g3 = gspaces.octaOnR3()
        t3 = nn.FieldType(g3, [g3.trivial_repr])
        nn.R3Conv(t3, t3, 3, frequencies_cutoff=-1.0)


# ----------------------------------------------------------------------------- initialisation
def _centre(f, d):
    c = f.shape[-1] // 2
    return f[(...,) + (c,) * d]


@pytest.mark.parametrize(
    "cls,gs",
    [
        ("R2Conv", "rot2dOnR2(8)"),
        ("R2ConvTransposed", "flipRot2dOnR2(4)"),
        ("R3Conv", "octaOnR3()"),
        ("R3ConvTransposed", "rot3dOnR3(2)"),
    ],
)
def test_deltaorthonormal_is_a_delta(cls, gs):
    g = eval("gspaces." + gs)
    fields = [g.regular_repr] if g.fibergroup.order() > 0 else [g.irrep(*i) for i in g.fibergroup.bl_irreps(2)]
    t_in, t_out = nn.FieldType(g, fields), nn.FieldType(g, fields * 2)
    conv = getattr(nn, cls)(t_in, t_out, 5 if g.dimensionality == 3 else 7, frequencies_cutoff=3.0, bias=False)
    d = g.dimensionality
    for _ in range(3):
        init.deltaorthonormal_init(conv.weights.data, conv.basisexpansion)
        f, _ = conv.expand_parameters()
        f = f.detach()
        if conv._transposed:
            f = f.transpose(0, 1)
        c = _centre(f, d).clone()
        assert torch.allclose(c.T @ c, torch.eye(t_in.size), atol=1e-5)
        _centre(f, d).zero_()
        assert f.abs().max().item() == 0.0


def test_deltaorthonormal_linear():
    g = gspaces.no_base_space(gspaces.rot3dOnR3(3).fibergroup)
    reps = [g.irrep(*i) for i in g.fibergroup.bl_irreps(2)]
    t_in, t_out = nn.FieldType(g, reps * 2), nn.FieldType(g, reps * 3)
    lin = nn.Linear(t_in, t_out)
    init.deltaorthonormal_init(lin.weights.data, lin.basisexpansion)
    m = lin.matrix
    assert torch.allclose(m.T @ m, torch.eye(t_in.size), atol=1e-5)


def test_he_init_cache_and_groups():
    gs = gspaces.rot2dOnR2(8)
    t = nn.FieldType(gs, [gs.regular_repr] * 4)
    conv = nn.R2Conv(t, t, 5, groups=2, initialize=False)
    torch.manual_seed(0)
    init.generalized_he_init(conv.weights.data, conv.basisexpansion, cache=True)
    w1 = conv.weights.detach().clone()
    torch.manual_seed(0)
    init.generalized_he_init(conv.weights.data, conv.basisexpansion, cache=True)
    assert torch.equal(w1, conv.weights.detach()) and w1.abs().sum() > 0
    with pytest.raises(ValueError, match="tensor"):
        init.generalized_he_init(torch.zeros(3), conv.basisexpansion)


# ----------------------------------------------------------------------------- basis manager and attributes
def test_basis_manager_interface():
    gs = gspaces.flipRot2dOnR2(4)
    t_in = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    t_out = nn.FieldType(gs, [gs.irrep(1, 1), gs.regular_repr])
    conv = nn.R2Conv(t_in, t_out, 5)
    be = conv.basisexpansion
    n = be.dimension()
    assert n == conv.weights.numel() == be.dimension
    info = list(be.get_basis_info())
    assert len(info) == n and all(a["id"] == i for i, a in enumerate(info))
    assert all(be.get_element_info(i) == info[i] for i in (0, n // 2, n - 1))
    for key in (
        "in_irrep",
        "out_irrep",
        "in_irreps_position",
        "out_irreps_position",
        "radius",
        "irrep:frequency",
        "in_field_position",
        "out_field_position",
        "in_repr",
        "out_repr",
    ):
        assert key in info[0]
    f = be(conv.weights)
    assert f.shape == (t_out.size, t_in.size, 25)
    assert torch.allclose(f.reshape(conv.filter.shape), conv.expand_parameters()[0])
    blocks = be.blocks
    assert sum(b.weights.stop - b.weights.start for b in blocks) == n
    assert all(b.weights.stop - b.weights.start == b.n_out * b.n_in * b.size for b in blocks)
    with pytest.raises(IndexError):
        be.get_element_info(n)


def test_escnn_attributes_of_convs():
    gs = gspaces.rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    conv = nn.R2Conv(t, t, 3, padding=1, stride=1, dilation=1)
    assert (conv.d, conv.kernel_size, conv.padding, conv.stride, conv.dilation, conv.groups, conv.padding_mode) == (
        2,
        3,
        1,
        1,
        1,
        1,
        "zeros",
    )
    assert conv.space is gs and conv.bias_expansion.shape == (t.size, 2)
    conv.eval()
    f, b = conv.expand_parameters()
    assert torch.equal(conv.filter, f) and torch.equal(conv.expanded_bias, b)
    conv.train()
    exported = conv.export()
    assert not conv.training and not exported.training


def test_r3icoconv_samples_and_equivariance():
    gs = gspaces.icoOnR3()
    t = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(1), gs.irrep(2)])
    sizes = {s: nn.R3IcoConv(t, t, 5, samples=s).weights.numel() for s in ("ico", "dodeca", "icosidodeca")}
    assert len(set(sizes.values())) == 3
    conv = nn.R3IcoConv(t, t, 5, samples="dodeca", padding=2)
    conv.check_equivariance()
    with pytest.raises(ValueError, match="samples"):
        nn.R3IcoConv(t, t, 3, samples="cube")
    tr = nn.R3IcoConvTransposed(t, t, 3)
    assert tr.weights.numel() == nn.R3IcoConv(t, t, 3).weights.numel()


# ----------------------------------------------------------------------------- extension points
class _SameBasisConv(nn.R2Conv):
    def _build_kernel_basis(self, in_repr, out_repr):
        return super()._build_kernel_basis(in_repr, out_repr)


class _CentreOnlyConv(nn.R2Conv):
    """A research-style subclass: keeps only the analytic basis elements at radius 0."""

    def _build_kernel_basis(self, in_repr, out_repr):
        from steerable.kernels import EmptyBasisException

        rings, self._rings = self._rings, [0.0]
        sig, self._sigma = self._sigma, [0.005]
        try:
            return super()._build_kernel_basis(in_repr, out_repr)
        except EmptyBasisException:
            raise
        finally:
            self._rings, self._sigma = rings, sig


def test_build_kernel_basis_override():
    gs = gspaces.rot2dOnR2(8)
    t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    ref = nn.R2Conv(t, t, 5, padding=2)
    same = _SameBasisConv(t, t, 5, padding=2)
    assert isinstance(same.basisexpansion, nn.conv.RepBasisExpansion)
    assert same.weights.numel() == ref.weights.numel()
    same.check_equivariance()
    centre = _CentreOnlyConv(t, t, 5, padding=2)
    assert 0 < centre.weights.numel() < ref.weights.numel()
    f = centre.filter.detach().clone()
    f[:, :, 2, 2] = 0
    assert f.abs().max().item() == 0.0
    centre.check_equivariance()
    info = list(centre.basisexpansion.get_basis_info())
    assert len(info) == centre.weights.numel() and all(a["radius"] == 0.0 for a in info)


class _MLPSource(nn.conv.KernelSource):
    """An implicit kernel: an MLP on the kernel offsets (not equivariant by itself)."""

    def __init__(self, conv):
        super().__init__()
        self.register_buffer("pts", torch.as_tensor(conv.kernel_points, dtype=torch.float32))
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(conv.d, 16), torch.nn.Tanh(), torch.nn.Linear(16, conv.out_type.size * conv.in_type.size)
        )
        self.shape = (1, conv.out_type.size, conv.in_type.size)

    def forward(self, conv):
        return self.mlp(self.pts).T.reshape(*self.shape, -1)


def test_kernel_source_swap():
    gs = gspaces.rot2dOnR2(8)
    t = nn.FieldType(gs, [gs.regular_repr])
    conv = nn.R2Conv(t, t, 5, padding=2)
    ref = conv.filter.detach().clone()
    conv.kernel_source = nn.conv.BlockReweightedKernelSource(conv.basisexpansion)
    assert torch.allclose(conv.filter, ref, atol=1e-6)
    with torch.no_grad():
        conv.kernel_source.log_scales.normal_()
    conv.eval()
    with torch.no_grad():
        changed = conv.filter.clone()
        assert not torch.allclose(changed, ref, atol=1e-4)
        conv.check_equivariance()  # re-weighting whole blocks keeps equivariance
        conv.kernel_source.log_scales.zero_()
        assert torch.allclose(conv.filter, ref, atol=1e-6)  # the eval cache saw the source change
    conv.train()
    assert "_kernel_source.log_scales" in dict(conv.named_parameters())
    conv.kernel_source = _MLPSource(conv)
    y = conv(t(torch.randn(2, 8, 9, 9)))
    y.tensor.sum().backward()
    assert conv.kernel_source.mlp[0].weight.grad is not None
    conv.kernel_source = None
    assert torch.allclose(conv.filter, ref, atol=1e-6)
    with pytest.raises(TypeError, match="kernel_source"):
        conv.kernel_source = torch.nn.Linear(2, 2)


def test_escnn_import_paths():
    from steerable.nn.modules.basismanager import BasisManager, BlocksBasisExpansion, BlocksBasisSampler
    from steerable.nn.modules.conv.rd_convolution import _RdConv
    from steerable.nn.modules.pointconv.rd_point_convolution import _RdPointConv

    gs = gspaces.rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    conv = nn.R2Conv(t, t, 3)
    assert isinstance(conv, _RdConv) and isinstance(conv.basisexpansion, BlocksBasisExpansion)
    assert isinstance(conv.basisexpansion, BasisManager)
    pc = nn.R2PointConv(t, t, width=2.0, n_rings=3)
    assert isinstance(pc, _RdPointConv) and isinstance(pc.basissampler, BlocksBasisSampler)


def test_point_conv_sampler_escnn_layout():
    gs = gspaces.rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    pc = nn.R2PointConv(t, t, width=2.0, n_rings=3, frequencies_cutoff=2.0)
    bs = pc.basissampler
    w = torch.randn(bs.dimension())
    delta = torch.randn(11, 2)
    f = bs(w, delta)
    assert f.shape == (11, t.size, t.size)
    x = torch.randn(11, t.size)
    assert torch.allclose(
        bs.compute_messages(w, x, delta, conv_first=True), bs.compute_messages(w, x, delta, conv_first=False), atol=1e-5
    )
    assert torch.allclose(bs.compute_messages(w, x, delta), torch.einsum("eoi,ei->eo", f, x), atol=1e-5)


class _PointSubclass(nn.R2PointConv):
    """escnn-style research subclass of a point convolution: a custom (here: the analytic, restricted
    to the rings of radius > 0) basis evaluated on the edge offsets."""

    def _build_kernel_basis(self, in_repr, out_repr):
        rings, self._rings = self._rings, [r for r in self._rings if r > 0]
        sig, self._sigma = self._sigma, [s for r, s in zip(rings, self._sigma) if r > 0]
        try:
            return super()._build_kernel_basis(in_repr, out_repr)
        finally:
            self._rings, self._sigma = rings, sig


def test_point_conv_build_kernel_basis_override():
    from steerable.nn.point._point_conv import RepBasisSampler

    gs = gspaces.rot2dOnR2(8)
    t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    ref = nn.R2PointConv(t, t, width=2.0, n_rings=3)
    sub = _PointSubclass(t, t, width=2.0, n_rings=3)
    assert isinstance(sub.basissampler, RepBasisSampler)
    assert 0 < sub.weights.numel() < ref.weights.numel()
    sub.check_equivariance()
    pos = torch.randn(15, 2)
    edge_index = (torch.cdist(pos, pos) < 1.5).nonzero().T
    y = sub(t(torch.randn(15, t.size), coords=pos), edge_index)
    y.tensor.sum().backward()
    assert sub.weights.grad is not None and sub.weights.grad.abs().sum() > 0
