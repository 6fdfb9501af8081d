"""Steerable convolutions: R2Conv, R3Conv and their transposes.

1. equivariance for every gspace factory and for regular, irrep, quotient and mixed field types
   (float32, every testing element — the exact symmetries of the grid — to 1e-5 relative);
2. transposed convolutions (stride 1 and 2; adjointness; export);
3. ``export()`` to plain torch for every padding mode, stride, dilation, groups, bias;
4. padding modes, stride and dilation keep equivariance on square grids;
5. state_dict (same keys in train/eval, no bases) and the eval-mode filter cache;
6. pickling, deepcopy, deterministic parameter/buffer order (also across processes);
7. ``torch.compile(fullgraph=True)`` in training mode;
8. float64;
9. bias only on trivial components;
10. initialisation (also recompute=True, basis_filter, rings/sigma);
11. input validation, warnings and ``evaluate_output_shape``.
"""

from __future__ import annotations

import copy
import io
import json
import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

from steerable import gspaces, nn
from steerable.nn import GeometricTensor
from steerable.nn.init import deltaorthonormal_init, generalized_he_init
from steerable.testing import assert_equivariant

TOL32 = 1e-5
TOL64 = 1e-10


def _adj90():
    """An O(3) element moving the rotation axis z onto x (so the gspace is still grid-aligned)."""
    from steerable import group as sg

    return sg.o3_group().element((0, [0.0, np.sqrt(0.5), 0.0, np.sqrt(0.5)]))


# ------------------------------------------------------------------------------ helpers
def _max_err(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
    return (a - b).abs().max().item(), b.abs().max().item()


def assert_close_scaled(a: torch.Tensor, b: torch.Tensor, tol: float, what: str = "") -> None:
    """max |a - b| <= tol * max(1, max |b|)."""
    assert a.shape == b.shape, (what, a.shape, b.shape)
    err, scale = _max_err(a, b)
    assert err <= tol * max(1.0, scale), f"{what}: max error {err:.3g} (output scale {scale:.3g}, tol {tol:g})"


def rand_input(ftype, spatial: int, batch: int = 1, dtype=torch.float32) -> GeometricTensor:
    d = ftype.gspace.dimensionality
    return ftype(torch.randn(batch, ftype.size, *(spatial,) * d, dtype=dtype))


def conv_cls(d: int, transposed: bool = False):
    if transposed:
        return nn.R2ConvTransposed if d == 2 else nn.R3ConvTransposed
    return nn.R2Conv if d == 2 else nn.R3Conv


def plain_cls(d: int, transposed: bool = False):
    if transposed:
        return torch.nn.ConvTranspose2d if d == 2 else torch.nn.ConvTranspose3d
    return torch.nn.Conv2d if d == 2 else torch.nn.Conv3d


# ------------------------------------------------------------------------------ 1. every gspace
# name -> (factory, quotient subgroup id or None)
GSPACES = {
    # R^2
    "rot2dOnR2(1)": (lambda: gspaces.rot2dOnR2(1), None),
    "rot2dOnR2(2)": (lambda: gspaces.rot2dOnR2(2), 1),
    "rot2dOnR2(4)": (lambda: gspaces.rot2dOnR2(4), 2),
    "rot2dOnR2(5)": (lambda: gspaces.rot2dOnR2(5), 1),
    "rot2dOnR2(8)": (lambda: gspaces.rot2dOnR2(8), 2),
    "rot2dOnR2(-1)": (lambda: gspaces.rot2dOnR2(-1), 4),
    "flipRot2dOnR2(1)": (lambda: gspaces.flipRot2dOnR2(1), 1),
    "flipRot2dOnR2(2)": (lambda: gspaces.flipRot2dOnR2(2), (None, 2)),
    "flipRot2dOnR2(4)": (lambda: gspaces.flipRot2dOnR2(4), (0, 1)),
    "flipRot2dOnR2(8)": (lambda: gspaces.flipRot2dOnR2(8), (0, 2)),
    "flipRot2dOnR2(-1)": (lambda: gspaces.flipRot2dOnR2(-1), (None, -1)),
    "flip2dOnR2": (lambda: gspaces.flip2dOnR2(), 1),
    "trivialOnR2": (lambda: gspaces.trivialOnR2(), None),
    # R^3
    "rot3dOnR3": (lambda: gspaces.rot3dOnR3(), (False, -1)),
    "flipRot3dOnR3": (lambda: gspaces.flipRot3dOnR3(), "so3"),
    "icoOnR3": (lambda: gspaces.icoOnR3(), (False, 5)),
    "fullIcoOnR3": (lambda: gspaces.fullIcoOnR3(), (2, (False, 5))),
    "octaOnR3": (lambda: gspaces.octaOnR3(), (False, 4)),
    "fullOctaOnR3": (lambda: gspaces.fullOctaOnR3(), (2, (False, 4))),
    "tetraOnR3": (lambda: gspaces.tetraOnR3(), (False, 3)),
    "rot2dOnR3(4)": (lambda: gspaces.rot2dOnR3(4), 2),
    "rot2dOnR3(-1)": (lambda: gspaces.rot2dOnR3(-1), 4),
    "rot2dOnR3(4,adjoint->x)": (lambda: gspaces.rot2dOnR3(4, adjoint=_adj90()), 2),
    "dihedralOnR3(-1)": (lambda: gspaces.dihedralOnR3(), (None, -1)),
    "dihedralOnR3(4)": (lambda: gspaces.dihedralOnR3(4), (None, 4)),
    "conicalOnR3(-1)": (lambda: gspaces.conicalOnR3(), (None, -1)),
    "conicalOnR3(4)": (lambda: gspaces.conicalOnR3(4), (None, 4)),
    "fullCylindricalOnR3(-1)": (lambda: gspaces.fullCylindricalOnR3(), (1, (None, -1))),
    "fullCylindricalOnR3(4)": (lambda: gspaces.fullCylindricalOnR3(4), (2, (None, 4))),
    "cylindricalOnR3(-1)": (lambda: gspaces.cylindricalOnR3(), (1, -1)),
    "cylindricalOnR3(4)": (lambda: gspaces.cylindricalOnR3(4), (1, 4)),
    "mirOnR3": (lambda: gspaces.mirOnR3(), 1),
    "invOnR3": (lambda: gspaces.invOnR3(), 1),
    "trivialOnR3": (lambda: gspaces.trivialOnR3(), None),
}

_GS_CACHE: dict = {}


def get_gspace(name):
    if name not in _GS_CACHE:
        _GS_CACHE[name] = GSPACES[name][0]()
    return _GS_CACHE[name]


def _field_types(name: str, kind: str):
    """(in_type, out_type) of the given kind, or None when the group has no such fields."""
    gs = get_gspace(name)
    G = gs.fibergroup
    finite = G.order() > 0
    irreps = [gs.irrep(*ir.id) for ir in G.irreps()]
    big = max(irreps, key=lambda r: r.size)
    qid = GSPACES[name][1]
    quot = gs.quotient_repr(qid) if qid is not None else None
    reg = gs.regular_repr if finite else None
    nreg = 1 if (finite and G.order() >= 24) else 2
    triv = gs.trivial_repr
    if kind == "regular":
        if not finite:
            return None
        return gs.type(*[reg] * nreg), gs.type(*[reg] * nreg)
    if kind == "irreps":  # every irrep in (1-dim and higher), in reverse order out
        return gs.type(*irreps), gs.type(*irreps[::-1])
    if kind == "quotient":
        if quot is None:
            return None
        return gs.type(quot, triv), gs.type(quot, big)
    if kind == "mixed":
        ins = [triv, big] + ([quot] if quot is not None else []) + ([reg] if finite and G.order() < 24 else [])
        outs = ([reg] if finite else []) + [big, irreps[-1], triv] + ([quot] if quot is not None else [])
        return gs.type(*ins), gs.type(*outs)
    raise AssertionError(kind)


EQ_CASES = []
for _name in GSPACES:
    for _kind in ("regular", "irreps", "quotient", "mixed"):
        EQ_CASES.append(pytest.param(_name, _kind, id=f"{_name}-{_kind}"))


@pytest.mark.parametrize("name,kind", EQ_CASES)
def test_equivariance_every_gspace(name, kind):
    torch.manual_seed(0)
    types = _field_types(name, kind)
    if types is None:
        G = get_gspace(name).fibergroup
        # nothing to test: a continuous group has no (finite) regular representation, the
        # trivial group no proper subgroup to quotient by
        assert (kind == "regular" and G.order() < 0) or (kind == "quotient" and GSPACES[name][1] is None)
        return
    t_in, t_out = types
    d = t_in.gspace.dimensionality
    k, spatial, batch = (5, 9, 2) if d == 2 else (3, 5, 1)
    conv = conv_cls(d)(t_in, t_out, k, padding=k // 2)
    assert conv.basisexpansion.dimension > 0
    with torch.no_grad():  # a non-zero bias on the trivial components
        if conv.bias is not None:
            conv.bias.normal_()
    conv.eval()
    x = rand_input(t_in, spatial, batch)
    y = conv(x)
    assert y.shape == (batch, t_out.size) + (spatial,) * d
    assert y.tensor.abs().max() > 0
    assert_equivariant(conv, inputs=x)
    if kind == "mixed":
        errs = conv.check_equivariance(atol=TOL32, rtol=TOL32, x=x.tensor)
        assert len(errs) == len(t_in.testing_elements)
        assert all(e <= TOL32 for _, e in errs)


def test_testing_elements_are_nontrivial():
    """The equivariance tests above are only as good as the testing elements."""
    expected = {
        "rot2dOnR2(4)": 4,
        "flipRot2dOnR2(8)": 8,
        "rot2dOnR2(-1)": 4,
        "flipRot2dOnR2(-1)": 8,
        "fullOctaOnR3": 48,
        "flipRot3dOnR3": 48,
        "rot3dOnR3": 24,
        "icoOnR3": 12,
        "fullIcoOnR3": 24,
        "rot2dOnR3(4,adjoint->x)": 4,
        "mirOnR3": 2,
        "invOnR3": 2,
    }
    for name, n in expected.items():
        assert len(get_gspace(name).testing_elements) >= n, name


def test_check_equivariance_catches_a_broken_layer():
    gs = gspaces.rot2dOnR2(4)
    t = gs.type(gs.regular_repr)
    conv = nn.R2Conv(t, t, 3, padding=1)
    conv.check_equivariance(x=torch.randn(1, 4, 9, 9))
    with torch.no_grad():  # break the layer: a non-equivariant filter
        for name, buf in conv.basisexpansion.named_buffers():
            if name.startswith(("basis_", "dense_")):  # block and folded (per field-pair) bases
                buf.add_(torch.randn_like(buf))
        conv.weights.add_(1.0)
    with pytest.raises(AssertionError):
        conv.check_equivariance(x=torch.randn(1, 4, 9, 9))


def test_check_equivariance_default_input():
    gs = gspaces.flipRot2dOnR2(4)
    conv = nn.R2Conv(gs.type(gs.trivial_repr), gs.type(gs.regular_repr), 3, padding=1)
    conv.train()
    errs = conv.check_equivariance()
    assert len(errs) == 8
    assert conv.training  # mode restored


K5_3D = [
    pytest.param("rot3dOnR3", "irreps", id="SO3-irreps"),
    pytest.param("flipRot3dOnR3", "irreps", id="O3-irreps"),
    pytest.param("octaOnR3", "regular", id="octa-regular"),
    pytest.param("icoOnR3", "irreps", id="ico-irreps"),
    pytest.param("fullCylindricalOnR3(-1)", "mixed", id="fullcyl-mixed"),
]


@pytest.mark.parametrize("name,kind", K5_3D)
def test_equivariance_3d_kernel5(name, kind):
    """Kernel 5 on R^3: three rings and harmonics up to degree 2 (escnn's default cut-off)."""
    torch.manual_seed(0)
    t_in, t_out = _field_types(name, kind)
    conv = nn.R3Conv(t_in, t_out, 5, padding=2).eval()
    assert max(a["frequency"] for a in conv.basisexpansion.attributes) == 2
    assert_equivariant(conv, inputs=rand_input(t_in, 7, 1))


@pytest.mark.parametrize("d", [2, 3])
def test_recompute_matches_precomputed(d):
    torch.manual_seed(12)
    t_in, t_out = _field_types("flipRot2dOnR2(4)" if d == 2 else "octaOnR3", "mixed")
    a = conv_cls(d)(t_in, t_out, 3, padding=1)
    b = conv_cls(d)(t_in, t_out, 3, padding=1, recompute=True)
    assert not any(".basis_" in n for n, _ in b.named_buffers())
    b.load_state_dict(a.state_dict())
    x = rand_input(t_in, 5, 1)
    assert_close_scaled(b(x).tensor, a(x).tensor, 1e-6, "recompute")
    c = pickle.loads(pickle.dumps(b))
    assert_close_scaled(c(x).tensor, a(x).tensor, 1e-6, "recompute, unpickled")
    assert_equivariant(b.eval(), inputs=x)


def test_basis_filter_rings_sigma_maximum_offset():
    torch.manual_seed(13)
    gs = gspaces.rot2dOnR2(8)
    t_in, t_out = gs.type(gs.regular_repr, gs.irrep(3)), gs.type(gs.irrep(1), gs.regular_repr)
    full = nn.R2Conv(t_in, t_out, 5, padding=2)
    low = nn.R2Conv(t_in, t_out, 5, padding=2, basis_filter=lambda a: a["frequency"] <= 1)
    assert 0 < low.basisexpansion.dimension < full.basisexpansion.dimension
    assert all(a["frequency"] <= 1 for a in low.basisexpansion.attributes)
    custom = nn.R2Conv(t_in, t_out, 5, padding=2, rings=[0.0, 1.5], sigma=[0.5, 0.8], maximum_offset=1)
    assert {a["radius"] for a in custom.basisexpansion.attributes} <= {0.0, 1.5}
    x = rand_input(t_in, 9, 1)
    for conv in (low, custom):
        assert_equivariant(conv.eval(), inputs=x)


# ------------------------------------------------------------------------------ 2. transposed
TRANSPOSED = [
    pytest.param("rot2dOnR2(4)", 1, 9, id="C4-stride1"),
    pytest.param("flipRot2dOnR2(4)", 2, 5, id="D4-stride2"),
    pytest.param("rot2dOnR2(-1)", 2, 5, id="SO2-stride2"),
    pytest.param("octaOnR3", 1, 5, id="octa-stride1"),
    pytest.param("fullOctaOnR3", 2, 3, id="fullocta-stride2"),
    pytest.param("flipRot3dOnR3", 2, 3, id="O3-stride2"),
]


@pytest.mark.parametrize("name,stride,n", TRANSPOSED)
def test_transposed_equivariance_and_export(name, stride, n):
    torch.manual_seed(1)
    t_in, t_out = _field_types(name, "mixed")
    d = t_in.gspace.dimensionality
    # stride 2, padding 1, output_padding 0: input pixel i lands on 2i - 1, the output has
    # 2n - 1 pixels and the same centre: exact for the grid symmetries
    conv = conv_cls(d, True)(t_in, t_out, 3, padding=1, stride=stride)
    with torch.no_grad():
        if conv.bias is not None:
            conv.bias.normal_()
    x = rand_input(t_in, n, 2)
    y = conv(x)
    assert tuple(y.shape) == conv.evaluate_output_shape(x.shape) == (2, t_out.size) + ((n - 1) * stride + 1,) * d
    assert_equivariant(conv, inputs=x)
    conv.check_equivariance(x=x.tensor)
    ex = conv.export()
    assert type(ex) is plain_cls(d, True)
    with torch.no_grad():
        assert_close_scaled(ex(x.tensor), conv(x).tensor, TOL32, "export")


def _filter_basis(conv) -> torch.Tensor:
    """(dimension, filter numel): the expanded filter of each unit weight (the map is linear)."""
    eye = torch.eye(conv.basisexpansion.dimension, dtype=torch.float64)
    with torch.no_grad():
        conv.double()
        return conv.basisexpansion(eye).reshape(eye.shape[0], -1)


@pytest.mark.parametrize("d", [2, 3])
def test_transposed_is_adjoint_of_conv(d):
    """The transposed layer from a to b spans exactly the adjoints of the convolutions from b to
    a: with W = K (torch's conv_transpose layout), <conv_T(x), y> = <x, conv(y)>."""
    torch.manual_seed(2)
    gs = gspaces.flipRot2dOnR2(4) if d == 2 else gspaces.octaOnR3()
    a = gs.type(gs.regular_repr, gs.trivial_repr)
    b = gs.type(gs.regular_repr, *[ir for ir in gs.irreps if ir.size > 1][:1])
    conv = conv_cls(d)(b, a, 3, padding=1, bias=False)
    convt = conv_cls(d, True)(a, b, 3, padding=1, bias=False)
    assert convt.basisexpansion.dimension == conv.basisexpansion.dimension
    # the filter K of a random conv lies in the span of the transposed layer's filters
    k = conv.expand_parameters()[0].detach().double().reshape(-1)  # (a, b, k^d) = conv_T layout (in=a, out=b)
    bt = _filter_basis(convt)  # rows: filters (b, a, k^d) in the irrep-blocks' (out, in) order
    bt = bt.reshape(-1, b.size, a.size, 3**d).transpose(1, 2).reshape(bt.shape[0], -1)
    coef = torch.linalg.lstsq(bt.T, k[:, None]).solution
    assert torch.allclose(bt.T @ coef, k[:, None], atol=1e-5)
    w = coef[:, 0].float()
    convt.float()
    with torch.no_grad():
        convt.weights.copy_(w)
        x, y = rand_input(a, 5, 1), rand_input(b, 5, 1)
        lhs = (convt(x).tensor * y.tensor).sum()
        rhs = (x.tensor * conv(y).tensor).sum()
    assert abs(lhs - rhs) <= 1e-4 * max(1.0, abs(rhs.item()))


@pytest.mark.parametrize("output_padding,dilation,groups", [(1, 1, 1), (0, 2, 1), (1, 2, 1), (0, 1, 2), (1, 2, 2)])
def test_transposed_export_output_padding_dilation_groups(output_padding, dilation, groups):
    torch.manual_seed(3)
    gs = gspaces.rot2dOnR2(4)
    t_in = gs.type(*[gs.regular_repr, gs.irrep(1)] * groups)
    t_out = gs.type(*[gs.regular_repr, gs.trivial_repr] * groups)
    conv = nn.R2ConvTransposed(
        t_in, t_out, 3, padding=1, stride=2, output_padding=output_padding, dilation=dilation, groups=groups
    )
    x = rand_input(t_in, 6, 2)
    y = conv(x)
    assert tuple(y.shape) == conv.evaluate_output_shape(x.shape)
    ex = conv.export()
    assert type(ex) is torch.nn.ConvTranspose2d
    assert_close_scaled(ex(x.tensor), y.tensor, TOL32, "export")


# ------------------------------------------------------------------------------ 3. export
def _export_types(d: int, groups: int):
    gs = gspaces.rot2dOnR2(4) if d == 2 else gspaces.octaOnR3()
    big = [ir for ir in gs.irreps if ir.size > 1][0]
    t_in = gs.type(*[gs.regular_repr, big, gs.trivial_repr] * groups)
    t_out = gs.type(*[big, gs.regular_repr] * groups)
    return t_in, t_out


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("stride,dilation", [(1, 1), (2, 1), (1, 2), (2, 2)])
@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("bias", [False, True])
def test_export_matches_2d(padding_mode, stride, dilation, groups, bias):
    torch.manual_seed(4)
    t_in, t_out = _export_types(2, groups)
    conv = nn.R2Conv(
        t_in, t_out, 3, padding=2, stride=stride, dilation=dilation, padding_mode=padding_mode, groups=groups, bias=bias
    )
    assert (conv.bias is not None) == bias
    with torch.no_grad():
        if bias:
            conv.bias.normal_()
    x = rand_input(t_in, 9, 2)
    y = conv(x)
    assert tuple(y.shape) == conv.evaluate_output_shape(x.shape)
    ex = conv.export()
    assert type(ex) is torch.nn.Conv2d
    assert ex.padding_mode == padding_mode and ex.groups == groups and (ex.bias is not None) == bias
    assert ex.training == conv.training
    with torch.no_grad():
        assert_close_scaled(ex(x.tensor), y.tensor, TOL32, "export (train)")
        conv.eval()
        assert_close_scaled(conv.export()(x.tensor), conv(x).tensor, TOL32, "export (eval)")
    assert not conv.export().training


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("stride,dilation,groups,bias", [(1, 1, 1, True), (2, 2, 2, False), (2, 1, 2, True)])
def test_export_matches_3d(padding_mode, stride, dilation, groups, bias):
    torch.manual_seed(5)
    t_in, t_out = _export_types(3, groups)
    conv = nn.R3Conv(
        t_in, t_out, 3, padding=2, stride=stride, dilation=dilation, padding_mode=padding_mode, groups=groups, bias=bias
    )
    x = rand_input(t_in, 5, 1)
    with torch.no_grad():
        y = conv(x)
        ex = conv.export()
        assert type(ex) is torch.nn.Conv3d
        assert tuple(y.shape) == conv.evaluate_output_shape(x.shape)
        assert_close_scaled(ex(x.tensor), y.tensor, TOL32, "export")


def test_export_is_independent_copy():
    gs = gspaces.rot2dOnR2(4)
    t = gs.type(gs.regular_repr)
    conv = nn.R2Conv(t, t, 3, padding=1)
    ex = conv.export()
    w = ex.weight.detach().clone()
    with torch.no_grad():
        conv.weights.add_(1.0)
    assert torch.equal(ex.weight, w)
    # the exported filter is the expanded one
    f, b = conv.expand_parameters()
    assert f.shape == (4, 4, 3, 3) and b.shape == (4,)


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "circular"])
def test_export_anisotropic_padding_and_inference_mode(padding_mode):
    torch.manual_seed(14)
    gs = gspaces.rot2dOnR2(4)
    t = gs.type(gs.regular_repr, gs.irrep(1))
    conv = nn.R2Conv(t, t, 3, padding=(1, 2), stride=(1, 2), padding_mode=padding_mode).eval()
    x = t(torch.randn(1, t.size, 7, 9))
    with torch.inference_mode():
        y_inf = conv(x).tensor
    with torch.no_grad():
        y = conv(x).tensor  # may reuse the filter cached under inference_mode
        assert torch.equal(y, y_inf)
        assert tuple(y.shape) == conv.evaluate_output_shape(x.shape) == (1, t.size, 7, 6)
        assert_close_scaled(conv.export()(x.tensor), y, TOL32, "export")
    conv.train()
    conv(x).tensor.sum().backward()  # the cache does not leak into autograd
    assert conv.weights.grad is not None


# ------------------------------------------------------------------------------ 4. padding modes
PAD_CASES = (
    [
        pytest.param("flipRot2dOnR2(4)", mode, stride, dil, id=f"D4-{mode}-s{stride}-d{dil}")
        for mode in ("zeros", "reflect", "replicate", "circular")
        for stride, dil in ((1, 1), (2, 1), (1, 2))
    ]
    + [pytest.param("rot2dOnR2(-1)", mode, 1, 1, id=f"SO2-{mode}") for mode in ("reflect", "replicate", "circular")]
    + [pytest.param("fullOctaOnR3", mode, 1, 1, id=f"fullocta-{mode}") for mode in ("reflect", "replicate", "circular")]
    + [pytest.param("octaOnR3", "circular", 2, 1, id="octa-circular-s2")]
)


@pytest.mark.parametrize("name,padding_mode,stride,dilation", PAD_CASES)
def test_padding_modes_keep_equivariance(name, padding_mode, stride, dilation):
    torch.manual_seed(6)
    gs = get_gspace(name)
    d = gs.dimensionality
    big = [ir for ir in gs.irreps if ir.size > 1][0]
    fin = gs.regular_repr if gs.fibergroup.order() > 0 else big
    t_in, t_out = gs.type(gs.trivial_repr, big), gs.type(fin, gs.trivial_repr)
    k = 3
    pad = dilation * (k // 2)
    n = 9 if d == 2 else 5  # odd: (n + 2p - dil(k-1)) is even, the stride-2 samples are symmetric
    conv = conv_cls(d)(t_in, t_out, k, padding=pad, stride=stride, dilation=dilation, padding_mode=padding_mode)
    x = rand_input(t_in, n, 1)
    assert_equivariant(conv, inputs=x)


# ------------------------------------------------------------------------------ 5. state_dict
def _sd_conv(seed: int, eval_mode: bool, d: int = 2):
    torch.manual_seed(seed)
    gs = gspaces.flipRot2dOnR2(4) if d == 2 else gspaces.octaOnR3()
    big = [ir for ir in gs.irreps if ir.size > 1][0]
    t_in, t_out = gs.type(gs.regular_repr, big), gs.type(gs.regular_repr, big, gs.trivial_repr)
    conv = conv_cls(d)(t_in, t_out, 3, padding=1)
    return conv.eval() if eval_mode else conv.train()


@pytest.mark.parametrize("d", [2, 3])
def test_state_dict_keys_same_in_train_and_eval(d):
    conv = _sd_conv(0, False, d)
    keys_train = list(conv.state_dict().keys())
    conv.eval()
    with torch.no_grad():
        conv(rand_input(conv.in_type, 5, 1))  # populate the eval cache
    keys_eval = list(conv.state_dict().keys())
    assert keys_train == keys_eval == ["weights", "bias"]
    assert sorted(k for k, _ in conv.named_parameters()) == ["bias", "weights"]
    # bases exist as buffers but are not persistent
    assert any(".basis_" in k for k, _ in conv.named_buffers())
    nobias = conv_cls(d)(conv.in_type, conv.out_type, 3, bias=False)
    assert list(nobias.state_dict().keys()) == ["weights"]


@pytest.mark.parametrize("src_eval,dst_eval", [(False, True), (True, False), (True, True), (False, False)])
def test_checkpoint_across_modes(src_eval, dst_eval):
    src = _sd_conv(0, src_eval)
    dst = _sd_conv(1, dst_eval)
    x = rand_input(src.in_type, 7, 2)
    with torch.no_grad():
        y_dst_before = dst(x).tensor
    buf = io.BytesIO()
    torch.save(src.state_dict(), buf)
    buf.seek(0)
    dst.load_state_dict(torch.load(buf, weights_only=True))  # strict
    with torch.no_grad():
        y_src, y_dst = src(x).tensor, dst(x).tensor
    assert not torch.allclose(y_dst_before, y_src)
    assert_close_scaled(y_dst, y_src, 1e-6, "loaded checkpoint")


def test_eval_cache_follows_load_state_dict():
    conv = _sd_conv(0, True)
    other = _sd_conv(1, True)
    x = rand_input(conv.in_type, 7, 1)
    with torch.no_grad():
        y0 = conv(x).tensor
        assert torch.equal(conv(x).tensor, y0)  # cached filter, same result
        conv.load_state_dict(other.state_dict())
        y1 = conv(x).tensor
        assert_close_scaled(y1, other(x).tensor, 1e-6, "after load_state_dict")
        assert not torch.allclose(y0, y1)


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_eval_cache_follows_optimizer_step(opt):
    conv = _sd_conv(0, True)
    x = rand_input(conv.in_type, 7, 1)
    o = torch.optim.SGD(conv.parameters(), lr=0.1) if opt == "sgd" else torch.optim.Adam(conv.parameters(), lr=0.1)
    with torch.no_grad():
        y0 = conv(x).tensor
    conv(x).tensor.square().sum().backward()  # still in eval mode, grads enabled
    o.step()
    with torch.no_grad():
        y1 = conv(x).tensor
        ref = conv.export()(x.tensor)
    assert not torch.allclose(y0, y1)
    assert_close_scaled(y1, ref, TOL32, "after optimizer step")


def _fresh_output(conv, x):
    with torch.no_grad():
        f, b = conv.expand_parameters()
        return conv._conv(x.tensor, f, b)


def test_eval_cache_follows_inplace_parameter_edits():
    """In-place edits of the parameters themselves between eval calls."""
    conv = _sd_conv(0, True)
    x = rand_input(conv.in_type, 7, 1)
    with torch.no_grad():
        conv(x)
        conv.weights.mul_(2.0)  # in-place on the parameter under no_grad
        assert_close_scaled(conv(x).tensor, _fresh_output(conv, x), 1e-6, "after weights.mul_")
        conv.bias.add_(1.0)
        assert_close_scaled(conv(x).tensor, _fresh_output(conv, x), 1e-6, "after bias.add_")
        conv.weights.data = torch.randn_like(conv.weights)  # new storage
        assert_close_scaled(conv(x).tensor, _fresh_output(conv, x), 1e-6, "after weights.data = ...")
        conv.train()
        conv(x)
        conv.eval()
        assert_close_scaled(conv(x).tensor, _fresh_output(conv, x), 1e-6, "after train/eval")


@pytest.mark.parametrize("edit", ["data.mul_", "generalized_he_init(data)", "deltaorthonormal_init(data)"])
def test_eval_cache_follows_edits_through_data(edit):
    """Edits through ``.data`` (escnn-style init code: ``init.generalized_he_init(conv.weights.data,
    conv.basisexpansion)``) must not leave a stale filter in an eval-mode module."""
    conv = _sd_conv(0, True)
    x = rand_input(conv.in_type, 7, 1)
    with torch.no_grad():
        y0 = conv(x).tensor  # caches the filter
        if edit == "data.mul_":
            conv.weights.data.mul_(0.5)
        elif edit == "generalized_he_init(data)":
            generalized_he_init(conv.weights.data, conv.basisexpansion)
        else:
            deltaorthonormal_init(conv.weights.data, conv.basisexpansion)
        ref = _fresh_output(conv, x)
        assert not torch.allclose(ref, y0)
        assert_close_scaled(conv(x).tensor, ref, 1e-6, f"eval output after {edit}")


def test_eval_no_grad_matches_train():
    conv = _sd_conv(0, False)
    x = rand_input(conv.in_type, 7, 1)
    y_train = conv(x).tensor.detach()
    conv.eval()
    with torch.no_grad():
        y_eval = conv(x).tensor
    assert_close_scaled(y_eval, y_train, 1e-6, "eval vs train")
    y_eval_grad = conv(x).tensor  # eval mode, grads enabled: gradients flow
    y_eval_grad.sum().backward()
    assert conv.weights.grad is not None and conv.weights.grad.abs().sum() > 0


# ------------------------------------------------------------------------------ 6. pickle, copies, order
def _pickle_conv():
    gs = gspaces.flipRot2dOnR2(4)
    t_in = gs.type(gs.regular_repr, gs.irrep(1, 1), gs.quotient_repr((0, 1)))
    t_out = gs.type(gs.irrep(1, 1), gs.regular_repr, gs.trivial_repr)
    return nn.R2Conv(t_in, t_out, 3, padding=1)


@pytest.mark.parametrize("eval_mode", [False, True])
def test_pickle_and_deepcopy(eval_mode):
    torch.manual_seed(7)
    conv = _pickle_conv()
    if eval_mode:
        conv.eval()
    x = rand_input(conv.in_type, 7, 2)
    with torch.no_grad():
        y = conv(x).tensor  # populates the eval cache
    for clone in (pickle.loads(pickle.dumps(conv)), copy.deepcopy(conv)):
        assert clone.training == conv.training
        assert clone.in_type == conv.in_type and clone.out_type == conv.out_type
        with torch.no_grad():
            assert torch.equal(clone(x).tensor, y)
        # the clone is independent of the original
        with torch.no_grad():
            clone.weights.add_(1.0)
            assert not torch.allclose(clone(x).tensor, y)
            assert torch.equal(conv(x).tensor, y)
    # a pickled module keeps working as a module (state_dict round trip)
    clone = pickle.loads(pickle.dumps(conv))
    clone.load_state_dict(conv.state_dict())
    assert list(clone.state_dict()) == list(conv.state_dict())


def _names(conv):
    return (
        [(n, tuple(p.shape)) for n, p in conv.named_parameters()],
        [(n, tuple(b.shape), str(b.dtype)) for n, b in conv.named_buffers()],
    )


def test_parameter_and_buffer_order_is_deterministic():
    a, b = _names(_pickle_conv()), _names(_pickle_conv())
    assert a == b
    code = (
        "import json, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from test_conv import _pickle_conv, _names\n"
        "p, b = _names(_pickle_conv())\n"
        "print(json.dumps([p, b]))\n"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run(
        [sys.executable, "-c", code, os.path.dirname(__file__)], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    p, bufs = json.loads(out.stdout.strip().splitlines()[-1])
    assert [(n, tuple(s)) for n, s in p] == a[0]
    assert [(n, tuple(s), dt) for n, s, dt in bufs] == a[1]


# ------------------------------------------------------------------------------ 7. torch.compile
def test_torch_compile_fullgraph_train():
    torch.manual_seed(8)
    gs = gspaces.rot2dOnR2(4)
    t_in, t_out = gs.type(gs.regular_repr), gs.type(gs.regular_repr, gs.irrep(1))
    conv = nn.R2Conv(t_in, t_out, 3, padding=1).train()
    x = rand_input(t_in, 9, 1)
    compiled = torch.compile(conv, fullgraph=True)
    y_c = compiled(x)
    assert isinstance(y_c, GeometricTensor) and y_c.type == t_out
    y_c.tensor.square().sum().backward()
    g_c = (conv.weights.grad.clone(), conv.bias.grad.clone())
    conv.zero_grad()
    y_e = conv(x)
    y_e.tensor.square().sum().backward()
    assert_close_scaled(y_c.tensor.detach(), y_e.tensor.detach(), TOL32, "compiled forward")
    assert_close_scaled(g_c[0], conv.weights.grad, 1e-4, "compiled weight grad")
    assert_close_scaled(g_c[1], conv.bias.grad, 1e-4, "compiled bias grad")


# ------------------------------------------------------------------------------ 8. float64
F64_CASES = [
    pytest.param("flipRot2dOnR2(4)", "mixed", id="D4-mixed"),
    pytest.param("rot2dOnR2(-1)", "irreps", id="SO2-irreps"),
    pytest.param("octaOnR3", "mixed", id="octa-mixed"),
    pytest.param("rot3dOnR3", "irreps", id="SO3-irreps"),
]


@pytest.mark.parametrize("name,kind", F64_CASES)
def test_float64(name, kind):
    torch.manual_seed(9)
    t_in, t_out = _field_types(name, kind)
    d = t_in.gspace.dimensionality
    conv = conv_cls(d)(t_in, t_out, 3, padding=1).double()
    assert conv.weights.dtype == torch.float64
    assert all(b.dtype == torch.float64 for b in conv.buffers() if b.is_floating_point())
    with torch.no_grad():
        if conv.bias is not None:
            conv.bias.normal_()
    x = rand_input(t_in, 7 if d == 2 else 5, 1, dtype=torch.float64)
    y = conv(x)
    assert y.tensor.dtype == torch.float64
    assert_equivariant(conv, inputs=x, rtol=TOL64)
    conv.check_equivariance(atol=TOL64, rtol=TOL64, x=x.tensor)
    ex = conv.export()
    assert ex.weight.dtype == torch.float64
    with torch.no_grad():
        assert_close_scaled(ex(x.tensor), conv(x).tensor, 1e-12, "float64 export")


# ------------------------------------------------------------------------------ 9. bias
def test_bias_only_on_trivial_components():
    gs = gspaces.rot2dOnR2(4)
    t_in = gs.type(gs.regular_repr)
    # irrep(1) fields have no trivial component: no bias parameter at all
    conv = nn.R2Conv(t_in, gs.type(gs.irrep(1), gs.irrep(2)), 3)
    assert conv.bias is None and "bias" not in conv.state_dict()
    # one bias per regular field, per trivial field and per quotient field
    t_out = gs.type(gs.regular_repr, gs.irrep(1), gs.regular_repr, gs.trivial_repr, gs.quotient_repr(2))
    conv = nn.R2Conv(t_in, t_out, 3, padding=1)
    assert conv.bias is not None and conv.bias.shape == (4,)
    with torch.no_grad():
        conv.bias.copy_(torch.tensor([1.0, 2.0, 3.0, 4.0]))
        conv.weights.zero_()
        _, b = conv.expand_parameters()
    # the expanded bias is invariant: constant on each regular/quotient field, zero on irrep(1)
    b = b.tolist()
    assert b[4:6] == [0.0, 0.0]
    for lo, hi in ((0, 4), (6, 10), (10, 11), (11, 13)):
        assert max(b[lo:hi]) - min(b[lo:hi]) < 1e-6 and abs(b[lo]) > 0
    rho = t_out.fiber_representation
    bt = torch.tensor(b, dtype=torch.float64)
    for g in gs.fibergroup.elements:
        assert torch.allclose(torch.as_tensor(rho(g)) @ bt, bt, atol=1e-6)
    # equivariance with a bias
    with torch.no_grad():
        conv.weights.normal_()
    assert_equivariant(conv, inputs=rand_input(t_in, 9, 2))


@pytest.mark.parametrize("name", ["flipRot2dOnR2(4)", "flipRot3dOnR3", "fullOctaOnR3", "fullCylindricalOnR3(-1)"])
def test_bias_count_matches_trivial_irreps(name):
    t_in, t_out = _field_types(name, "mixed")
    d = t_in.gspace.dimensionality
    conv = conv_cls(d)(t_in, t_out, 3)
    n_triv = t_out.fiber_representation.irreps.count(t_in.gspace.fibergroup.trivial_irrep_id)
    assert (0 if conv.bias is None else conv.bias.numel()) == n_triv
    assert conv_cls(d)(t_in, t_out, 3, bias=False).bias is None


# ------------------------------------------------------------------------------ 10. init
def test_generalized_he_init_variance():
    torch.manual_seed(10)
    gs = gspaces.rot2dOnR2(8)
    t = gs.type(*[gs.regular_repr] * 16)
    conv = nn.R2Conv(t, t, 5, bias=False)
    x = t(torch.randn(2, t.size, 15, 15))
    with torch.no_grad():
        var = conv(x).tensor.var().item()
    assert 0.2 < var < 5, var
    # again for a mixed irrep layer of a continuous group
    gs = gspaces.rot2dOnR2(-1)
    t = gs.type(*[gs.irrep(k) for k in range(4)] * 4)
    conv = nn.R2Conv(t, t, 5, bias=False)
    with torch.no_grad():
        var = conv(t(torch.randn(2, t.size, 15, 15))).tensor.var().item()
    assert 0.2 < var < 5, var


def test_generalized_he_init_on_groups_and_rejects_bad_sizes():
    gs = gspaces.rot2dOnR2(4)
    t = gs.type(gs.regular_repr, gs.regular_repr)
    conv = nn.R2Conv(t, t, 3, groups=2, initialize=False)
    assert conv.weights.numel() == 2 * conv.basisexpansion.dimension
    generalized_he_init(conv.weights.data, conv.basisexpansion)
    w = conv.weights.view(2, -1)
    assert (w[0] != 0).any() and (w[1] != 0).any() and not torch.equal(w[0], w[1])
    with pytest.raises(ValueError, match="tensor"):  # escnn's parameter name
        generalized_he_init(torch.zeros(conv.basisexpansion.dimension + 1), conv.basisexpansion)


@pytest.mark.parametrize("name", ["rot2dOnR2(4)", "flipRot2dOnR2(8)", "octaOnR3"])
def test_deltaorthonormal_init(name):
    torch.manual_seed(11)
    gs = get_gspace(name)
    d = gs.dimensionality
    t = gs.type(gs.regular_repr, gs.regular_repr)
    conv = conv_cls(d)(t, t, 3, padding=1, bias=False)
    deltaorthonormal_init(conv.weights.data, conv.basisexpansion)
    radii = np.array([a["radius"] for a in conv.basisexpansion.attributes])
    w = conv.weights.detach().numpy()
    assert np.all(w[radii > 1e-9] == 0)
    assert np.any(w[radii <= 1e-9] != 0)
    f, _ = conv.expand_parameters()
    f = f.detach().reshape(t.size, t.size, -1)
    centre = (f.shape[-1] - 1) // 2
    m = f[:, :, centre]
    assert m.abs().max() > 0
    # the centre tap is an orthogonal map (up to the radial profile's value at 0)
    mmt = (m @ m.T).double()
    c = mmt.diagonal().mean()
    assert c > 0
    assert torch.allclose(mmt / c, torch.eye(t.size, dtype=torch.float64), atol=1e-4)
    # the layer stays equivariant
    assert_equivariant(conv, inputs=rand_input(t, 7 if d == 2 else 5, 1))


def test_initialize_false_leaves_weights_zero():
    gs = gspaces.flipRot2dOnR2(4)
    t = gs.type(gs.regular_repr)
    conv = nn.R2Conv(t, t, 3, initialize=False)
    assert torch.count_nonzero(conv.weights) == 0
    assert torch.count_nonzero(conv.bias) == 0
    with torch.no_grad():
        assert torch.count_nonzero(conv(rand_input(t, 5, 1)).tensor) == 0
    conv = nn.R2Conv(t, t, 3)
    assert torch.count_nonzero(conv.weights) > 0


# ------------------------------------------------------------------------------ 11. bad input
@pytest.fixture(scope="module")
def c4():
    gs = gspaces.rot2dOnR2(4)
    return gs, gs.type(gs.regular_repr), gs.type(gs.regular_repr, gs.irrep(1))


def test_rejects_wrong_inputs(c4):
    gs, t_in, t_out = c4
    conv = nn.R2Conv(t_in, t_out, 3, padding=1)
    # a plain tensor
    with pytest.raises(TypeError, match="GeometricTensor"):
        conv(torch.randn(1, 4, 9, 9))
    # a tensor of another field type with the same number of channels
    other = gs.type(gs.irrep(1), gs.irrep(1))
    with pytest.raises(ValueError, match="field type"):
        conv(other(torch.randn(1, 4, 9, 9)))
    # a field type of another gspace
    gs8 = gspaces.rot2dOnR2(8)
    with pytest.raises(ValueError):
        conv(gs8.type(gs8.irrep(1), gs8.irrep(1))(torch.randn(1, 4, 9, 9)))
    # wrong channel count / wrong number of spatial axes when building the GeometricTensor
    with pytest.raises(ValueError, match="channels"):
        t_in(torch.randn(1, 5, 9, 9))
    with pytest.raises(ValueError, match="spatial"):
        t_in(torch.randn(1, 4, 9, 9, 9))


def test_rejects_bad_construction(c4):
    gs, t_in, t_out = c4
    with pytest.raises(ValueError, match="padding_mode"):
        nn.R2Conv(t_in, t_out, 3, padding_mode="mirror")
    # 3 regular fields in, 2 out: groups=2 does not divide the input
    t3 = gs.type(*[gs.regular_repr] * 3)
    with pytest.raises(ValueError, match="groups"):
        nn.R2Conv(t3, gs.type(gs.regular_repr, gs.regular_repr), 3, groups=2)
    with pytest.raises(ValueError, match="groups"):
        nn.R2Conv(gs.type(gs.regular_repr, gs.regular_repr), t3, 3, groups=2)
    # groups must split into equal blocks
    with pytest.raises(ValueError, match="groups"):
        nn.R2Conv(gs.type(gs.regular_repr, gs.irrep(1)), gs.type(gs.regular_repr, gs.regular_repr), 3, groups=2)
    with pytest.raises(ValueError, match="groups"):
        nn.R2Conv(t_in, t_out, 3, groups=0)
    with pytest.raises(ValueError, match="kernel_size"):
        nn.R2Conv(t_in, t_out, 0)
    with pytest.raises(TypeError, match="in_type"):
        nn.R2Conv(gs.regular_repr, t_out, 3)
    # dimension mismatch: a 3D field type in R2Conv, a 2D one in R3Conv
    g3 = gspaces.octaOnR3()
    with pytest.raises(ValueError, match="in_type"):
        nn.R2Conv(g3.type(g3.regular_repr), g3.type(g3.regular_repr), 3)
    with pytest.raises(ValueError, match="in_type"):
        nn.R3Conv(t_in, t_out, 3)
    # different gspaces
    gs8 = gspaces.rot2dOnR2(8)
    with pytest.raises(ValueError, match="out_type"):
        nn.R2Conv(t_in, gs8.type(gs8.regular_repr), 3)
    with pytest.raises(ValueError, match="stride"):
        nn.R2Conv(t_in, t_out, 3, stride=(1, 1, 1))


@pytest.mark.parametrize("k", [2, 4])
def test_even_kernel_warns(c4, k):
    _, t_in, t_out = c4
    with pytest.warns(UserWarning, match="even"):
        nn.R2Conv(t_in, t_out, k)


def test_empty_basis_warning_gives_the_reason():
    """The warning names the irrep pair, the harmonic order it needs and the orders the rings carry."""
    gs = gspaces.rot2dOnR2(-1)
    with pytest.warns(UserWarning) as rec:
        nn.R2Conv(gs.type(gs.irrep(0)), gs.type(gs.irrep(3)), 3)
    msg = str(rec[0].message)
    assert "the kernel basis is empty" in msg and "irrep_0 → irrep_3 needs order 3" in msg, msg
    assert "up to order 0 at radius 0, 2 at radius 1" in msg and "larger kernel_size" in msg, msg
    assert rec[0].filename == __file__  # points at the caller's line
    c8 = gspaces.rot2dOnR2(8)
    with pytest.warns(UserWarning, match="irrep_0 → irrep_4 needs order 4"):
        nn.R2Conv(c8.type(c8.irrep(0)), c8.type(c8.irrep(4)), 1)
    so3 = gspaces.rot3dOnR3()
    with pytest.warns(UserWarning, match="irrep_0 → irrep_3 needs order 3"):
        nn.R3Conv(so3.type(so3.irrep(0)), so3.type(so3.irrep(3)), 3)
    # the orders are there but a basis_filter removed every element: said so
    t = gs.type(gs.irrep(1))
    with pytest.warns(UserWarning, match="removed: by basis_filter"):
        nn.R2Conv(t, t, 3, basis_filter=lambda attr: False)


def test_no_equivariant_kernel_warns():
    gs = gspaces.rot2dOnR2(-1)
    t0, t3 = gs.type(gs.irrep(0)), gs.type(gs.irrep(3))
    with pytest.warns(UserWarning, match="no equivariant kernel"):
        conv = nn.R2Conv(t0, t3, 3, rings=[0.0])
    assert conv.basisexpansion.dimension == 0 and conv.weights.numel() == 0
    with torch.no_grad():
        assert torch.count_nonzero(conv(rand_input(t0, 5, 1)).tensor) == 0
    with pytest.warns(UserWarning, match="no equivariant kernel"):
        nn.R2Conv(t0, t3, 3)  # default cutoff: frequency ≤ 2 on the ring of radius 1
    with pytest.warns(UserWarning, match="no equivariant kernel"):
        nn.R2Conv(gs.type(gs.irrep(1)), gs.type(gs.irrep(0)), 5, frequencies_cutoff=0)
    # a layer with a basis does not warn
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.R2Conv(gs.type(gs.irrep(1)), gs.type(gs.irrep(0)), 5)
        nn.R2Conv(t0, t3, 7)


SHAPE_CASES = [
    (2, False, dict(padding=0), 9),
    (2, False, dict(padding=1, stride=2), 9),
    (2, False, dict(padding=2, stride=2), 10),
    (2, False, dict(padding=1, dilation=2, stride=3), 11),
    (2, False, dict(padding=(1, 2), stride=(1, 2)), 8),
    (2, True, dict(padding=1, stride=2, output_padding=1), 5),
    (2, True, dict(padding=0, stride=3, dilation=2), 4),
    (3, False, dict(padding=1, stride=2), 5),
    (3, True, dict(padding=1, stride=2, output_padding=1), 3),
]


@pytest.mark.parametrize("d,transposed,kw,n", SHAPE_CASES)
def test_evaluate_output_shape(d, transposed, kw, n):
    gs = gspaces.rot2dOnR2(4) if d == 2 else gspaces.octaOnR3()
    t_in, t_out = gs.type(gs.trivial_repr), gs.type(gs.regular_repr)
    conv = conv_cls(d, transposed)(t_in, t_out, 3, **kw)
    x = rand_input(t_in, n, 2)
    with torch.no_grad():
        y = conv(x)
    assert tuple(y.shape) == tuple(conv.evaluate_output_shape(tuple(x.shape)))
    with pytest.raises(ValueError, match="input_shape"):
        conv.evaluate_output_shape((2, t_in.size + 1) + (n,) * d)
