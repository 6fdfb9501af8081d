"""Pooling modules: pointwise (max, average, adaptive, anti-aliased; 2D and 3D), norm-based
(NormMaxPool, NormPool, InducedNormPool) and group pooling (GroupPooling, MaxPoolChannels).

1. equivariance for every module and every gspace it supports, on the grid's exact symmetries
   (float32, 1e-5 relative), in window configurations where it is exact (see the docstrings);
2. fibre-only checks with random elements of the continuous groups (and all elements of finite
   ones) for the modules that commute with any fibre transformation;
3. reference values (each module against a direct computation);
4. ``export()`` equality, float64, state_dict / parameter order / pickle / deepcopy;
5. ``evaluate_output_shape`` against the actual output;
6. bad input at construction (and in forward).
"""

from __future__ import annotations

import copy
import functools
import pickle

import numpy as np
import pytest
import torch

from steerable import group as sg
from steerable import gspaces, nn
from steerable.nn import GeometricTensor
from steerable.nn.pooling import (
    GroupPooling,
    InducedNormPool,
    MaxPoolChannels,
    NormMaxPool,
    NormPool,
    PointwiseAdaptiveAvgPool,
    PointwiseAdaptiveAvgPool2D,
    PointwiseAdaptiveAvgPool3D,
    PointwiseAdaptiveMaxPool,
    PointwiseAdaptiveMaxPool2D,
    PointwiseAdaptiveMaxPool3D,
    PointwiseAvgPool,
    PointwiseAvgPool2D,
    PointwiseAvgPool3D,
    PointwiseAvgPoolAntialiased,
    PointwiseAvgPoolAntialiased2D,
    PointwiseAvgPoolAntialiased3D,
    PointwiseMaxPool,
    PointwiseMaxPool2D,
    PointwiseMaxPool3D,
    PointwiseMaxPoolAntialiased,
    PointwiseMaxPoolAntialiased2D,
    PointwiseMaxPoolAntialiased3D,
)
from steerable.nn.pooling._norm import induced_subfield_size
from steerable.testing import assert_equivariant, equivariance_errors

TOL32 = 1e-5
TOL64 = 1e-10


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# ------------------------------------------------------------------------------ gspaces and types
@functools.cache
def gs(name: str):
    return {
        "c4": lambda: gspaces.rot2dOnR2(4),
        "c8": lambda: gspaces.rot2dOnR2(8),
        "so2": lambda: gspaces.rot2dOnR2(-1, maximum_frequency=3),
        "d4": lambda: gspaces.flipRot2dOnR2(4),
        "d8": lambda: gspaces.flipRot2dOnR2(8),
        "o2": lambda: gspaces.flipRot2dOnR2(-1, maximum_frequency=3),
        "flip": lambda: gspaces.flip2dOnR2(),
        "octa": lambda: gspaces.octaOnR3(),
        "focta": lambda: gspaces.fullOctaOnR3(),
        "so3": lambda: gspaces.rot3dOnR3(),
        "o3": lambda: gspaces.flipRot3dOnR3(),
        "ico": lambda: gspaces.icoOnR3(),
    }[name]()


def _irreps(name, *idx):
    G = gs(name).fibergroup
    allr = G.irreps()
    return [allr[i] for i in idx]


@functools.cache
def pointwise_type(name: str) -> nn.FieldType:
    """Permutation representations (max pooling, GroupPooling)."""
    s = gs(name)
    G = s.fibergroup
    reps = {
        "c4": lambda: [s.regular_repr, s.trivial_repr, s.regular_repr],
        "c8": lambda: [s.regular_repr, s.quotient_repr(2)],
        "so2": lambda: [s.trivial_repr] * 2,
        "d4": lambda: [s.regular_repr, G.quotient_representation((0, 1)), s.trivial_repr],
        "d8": lambda: [s.regular_repr],
        "o2": lambda: [s.trivial_repr, s.quotient_repr((None, -1))],
        "flip": lambda: [s.regular_repr, s.trivial_repr],
        "octa": lambda: [s.regular_repr, s.trivial_repr],
        "focta": lambda: [s.regular_repr],
        "so3": lambda: [s.trivial_repr] * 2,
        "o3": lambda: [s.trivial_repr, s.quotient_repr("so3")],
        "ico": lambda: [s.regular_repr],
    }[name]()
    return nn.FieldType(s, reps)


@functools.cache
def general_type(name: str) -> nn.FieldType:
    """Non-permutation (irreducible) representations, for the linear and norm-based modules."""
    s = gs(name)
    reps = {
        "c4": lambda: [s.irrep(1), s.regular_repr],
        "c8": lambda: [s.irrep(3), s.irrep(2), s.irrep(4)],
        "so2": lambda: [s.irrep(1), s.irrep(2), s.trivial_repr],
        "d4": lambda: [s.irrep(1, 1), s.irrep(1, 0), s.regular_repr],
        "d8": lambda: [s.irrep(1, 3)],
        "o2": lambda: [s.irrep(1, 1), s.irrep(1, 2), s.irrep(1, 0)],
        "flip": lambda: [s.irrep(1), s.regular_repr],
        "octa": lambda: _irreps("octa", 1, 2, 3),
        "focta": lambda: _irreps("focta", 6, 2),
        "so3": lambda: [s.irrep(1), s.irrep(2)],
        "o3": lambda: [s.irrep(1, 1), s.irrep(0, 2)],
        "ico": lambda: _irreps("ico", 1, 2),
    }[name]()
    return nn.FieldType(s, reps)


@functools.cache
def induced_type(name: str) -> nn.FieldType:
    """Induced representations (InducedNormPool): index-2 inductions and quotients."""
    s = gs(name)
    G = s.fibergroup
    if name in ("d4", "d8"):
        N = G.order() // 2
        H = G.subgroup((None, N))[0]
        reps = [
            G.induced_representation((None, N), H.irrep(1)),
            G.induced_representation((None, N), H.irrep(2)),
            G.quotient_representation((0, 1)),
        ]
    elif name == "o2":
        H = G.subgroup((None, -1))[0]
        reps = [G.induced_representation((None, -1), H.irrep(k)) for k in (1, 2)] + [s.quotient_repr((None, -1))]
    elif name == "o3":
        H = G.subgroup("so3")[0]
        reps = [G.induced_representation("so3", H.irrep(1)), G.induced_representation("so3", H.irrep(2))]
    elif name == "focta":
        H = G.subgroup((1, "octa"))[0]
        reps = [G.induced_representation((1, "octa"), H.irrep(2)), G.induced_representation((1, "octa"), H.irrep(1))]
    else:  # pragma: no cover
        raise KeyError(name)
    return nn.FieldType(s, reps)


GS2 = ["c4", "c8", "so2", "d4", "o2", "flip"]
GS3 = ["octa", "focta", "so3", "o3", "ico"]
CONTINUOUS = ["so2", "o2", "so3", "o3"]


# ------------------------------------------------------------------------------ helpers
def assert_close_scaled(a: torch.Tensor, b: torch.Tensor, tol: float, what: str = "") -> None:
    assert a.shape == b.shape, (what, a.shape, b.shape)
    err, scale = (a - b).abs().max().item(), b.abs().max().item()
    assert err <= tol * max(1.0, scale), f"{what}: max error {err:.3g} (scale {scale:.3g}, tol {tol:g})"


def rand_input(
    ftype: nn.FieldType, n: int | None = None, batch: int | None = None, dtype=torch.float32
) -> GeometricTensor:
    d = ftype.gspace.dimensionality
    if batch is None:
        batch = 2 if d < 3 else 1
    if n is None:
        n = 9 if d == 2 else 5
    return ftype(torch.randn(batch, ftype.size, *(n,) * d, dtype=dtype))


def assert_export(m, x: GeometricTensor, tol: float = TOL32) -> None:
    e = m.export()
    assert not any(isinstance(mod, nn.EquivariantModule) for mod in e.modules())
    with torch.no_grad():
        assert_close_scaled(e(x.tensor), m(x).tensor, tol, f"export of {type(m).__name__}")


# exactly equivariant window configurations: (n, kernel, stride, padding, dilation, ceil_mode)
CONFIGS2 = [
    (9, 3, 2, 1, 1, False),
    (8, 2, 2, 0, 1, False),
    (7, 3, 1, 1, 1, False),
    (9, 3, 1, 1, 2, False),
    (9, 3, 2, 1, 1, True),
    (10, 4, 3, 0, 1, False),
]
CONFIGS3 = [(5, 3, 2, 1, 1, False), (6, 2, 2, 0, 1, False)]

MAX_POOLS = {2: PointwiseMaxPool2D, 3: PointwiseMaxPool3D}
AVG_POOLS = {2: PointwiseAvgPool2D, 3: PointwiseAvgPool3D}
MAX_AA = {2: PointwiseMaxPoolAntialiased2D, 3: PointwiseMaxPoolAntialiased3D}
AVG_AA = {2: PointwiseAvgPoolAntialiased2D, 3: PointwiseAvgPoolAntialiased3D}
ADA_MAX = {2: PointwiseAdaptiveMaxPool2D, 3: PointwiseAdaptiveMaxPool3D}
ADA_AVG = {2: PointwiseAdaptiveAvgPool2D, 3: PointwiseAdaptiveAvgPool3D}


def _configs(name):
    return CONFIGS2 if gs(name).dimensionality == 2 else CONFIGS3


# ------------------------------------------------------------------------------ 1. equivariance on the grid
@pytest.mark.parametrize("name", GS2 + GS3)
def test_max_pool_equivariance(name):
    t = pointwise_type(name)
    d = t.gspace.dimensionality
    for n, k, s, p, dl, ceil in _configs(name):
        m = MAX_POOLS[d](t, k, s, p, dl, ceil)
        assert_equivariant(m, inputs=rand_input(t, n))


@pytest.mark.parametrize("name", GS2 + GS3)
def test_avg_pool_equivariance(name):
    for t in (general_type(name), pointwise_type(name)):
        d = t.gspace.dimensionality
        for n, k, s, p, dl, ceil in _configs(name)[: (None if t is general_type(name) else 1)]:
            if dl != 1:
                continue
            assert_equivariant(AVG_POOLS[d](t, k, s, p, ceil), inputs=rand_input(t, n))


@pytest.mark.parametrize("name", GS2 + GS3)
def test_adaptive_pools_equivariance(name):
    """torch's adaptive windows are mirror-symmetric: exact for every (square) size."""
    d = gs(name).dimensionality
    sizes = [(9, 4), (9, 1), (8, 3)] if d == 2 else [(5, 2), (6, 4)]
    for n, o in sizes:
        assert_equivariant(ADA_AVG[d](general_type(name), o), inputs=rand_input(general_type(name), n))
        assert_equivariant(ADA_MAX[d](pointwise_type(name), o), inputs=rand_input(pointwise_type(name), n))


@pytest.mark.parametrize("name", GS2 + GS3)
def test_antialiased_pools_equivariance(name):
    d = gs(name).dimensionality
    t = pointwise_type(name)
    # max: (n + 4p - dil(k-1) - 1) % stride == 0
    cfgs = (
        [(9, 3, 2, 1, 1, 0.6), (8, 2, 2, 0, 1, 0.6), (7, 3, 1, 1, 1, 1.0), (9, 3, 2, 1, 2, 0.6)]
        if d == 2
        else [(5, 3, 2, 1, 1, 0.6), (6, 2, 2, 0, 1, 0.5)]
    )
    for n, k, s, p, dl, sigma in cfgs:
        assert (n + 4 * p - dl * (k - 1) - 1) % s == 0
        assert_equivariant(MAX_AA[d](t, k, s, p, dl, sigma=sigma), inputs=rand_input(t, n))
    # average: (n + 2p - filter) % stride == 0; default padding -> (n - 1) % stride == 0
    for tt, cfgs in (
        (
            general_type(name),
            [(9, 0.6, 2, None), (9, 1.0, 1, None), (9, 0.6, 4, None), (6, 0.6, 3, 1)]
            if d == 2
            else [(5, 0.6, 2, None), (5, 0.5, 1, 0)],
        ),
        (t, [(9, 0.6, 2, None)] if d == 2 else [(5, 0.6, 2, None)]),
    ):
        for n, sigma, s, p in cfgs:
            m = AVG_AA[d](tt, sigma, s, p)
            assert (n + 2 * m.padding[0] - m.filter_size) % s == 0
            assert_equivariant(m, inputs=rand_input(tt, n))


@pytest.mark.parametrize("name", GS2 + GS3)
def test_norm_max_pool_equivariance(name):
    t = general_type(name)
    for n, k, s, p, dl, ceil in _configs(name)[:3]:
        assert_equivariant(NormMaxPool(t, k, s, p, dl, ceil), inputs=rand_input(t, n))
    t = pointwise_type(name)
    n, k, s, p, dl, ceil = _configs(name)[0]
    assert_equivariant(NormMaxPool(t, k, s, p, dl, ceil), inputs=rand_input(t, n))


@pytest.mark.parametrize("name", GS2 + GS3)
def test_fieldwise_pools_equivariance(name):
    assert_equivariant(NormPool(general_type(name)), inputs=rand_input(general_type(name), 7 if name in GS2 else 5))
    assert_equivariant(
        GroupPooling(pointwise_type(name)), inputs=rand_input(pointwise_type(name), 7 if name in GS2 else 5)
    )


@pytest.mark.parametrize("name", ["d4", "d8", "o2", "o3", "focta"])
def test_induced_norm_pool_equivariance(name):
    t = induced_type(name)
    m = InducedNormPool(t)
    assert_equivariant(m, inputs=rand_input(t, 7 if name in ("d4", "d8", "o2") else 5))
    assert_equivariant(m, inputs=rand_input(t, 3, batch=3), fibers_only=True)


def test_asymmetric_windows_break_equivariance():
    """The documented condition is necessary: 9 px with kernel 2, stride 2 drops one border only."""
    t = pointwise_type("c4")
    m = PointwiseMaxPool2D(t, 2, 2)
    x = rand_input(t, 9)
    r = equivariance_errors(m, inputs=x, elements=[t.testing_elements[1]])[0]
    assert not r.passed and r.abs_error > 0.1


# ------------------------------------------------------------------------------ 2. fibre-only checks
@pytest.mark.parametrize("name", CONTINUOUS + ["c8", "d4", "octa", "ico"])
def test_fibre_equivariance(name):
    t = general_type(name)
    d = t.gspace.dimensionality
    x = rand_input(t, 6 if d == 2 else 4)
    for m in (AVG_POOLS[d](t, 2), ADA_AVG[d](t, 2), AVG_AA[d](t, 0.6, 2), NormMaxPool(t, 2), NormPool(t)):
        assert_equivariant(m, inputs=x, fibers_only=True)
    tp = pointwise_type(name)
    xp = rand_input(tp, 6 if d == 2 else 4)
    for m in (MAX_POOLS[d](tp, 2), ADA_MAX[d](tp, 2), MAX_AA[d](tp, 2), GroupPooling(tp)):
        assert_equivariant(m, inputs=xp, fibers_only=True)


@pytest.mark.parametrize(
    "G",
    [sg.so3_group(2), sg.o2_group(3), sg.cyclic_group(8), sg.ico_group(), sg.dihedral_group(4), sg.octa_group()],
    ids=lambda G: G.name,
)
def test_no_base_space(G):
    s = gspaces.no_base_space(G)
    irr = [r for r in G.irreps() if not r.is_trivial()][:2]
    t = nn.FieldType(s, irr + [s.trivial_repr])
    x = t(torch.randn(5, t.size))
    m = NormPool(t)
    assert m(x).shape == (5, 3)
    assert_equivariant(m, inputs=x, fibers_only=True)
    if not G.continuous:
        tp = nn.FieldType(s, [s.regular_repr, s.trivial_repr, s.regular_repr])
        xp = tp(torch.randn(5, tp.size))
        assert_equivariant(GroupPooling(tp), inputs=xp, fibers_only=True)
        assert_export(GroupPooling(tp), xp)
    if G.name.startswith("O(2)") or G.name.startswith("D"):
        sub = (None, -1) if G.continuous else (None, G.order() // 2)
        H = G.subgroup(sub)[0]
        ti = nn.FieldType(s, [G.induced_representation(sub, H.irrep(1))] * 2)
        assert_equivariant(InducedNormPool(ti), inputs=ti(torch.randn(4, ti.size)), fibers_only=True)


def test_point_cloud_keeps_coords():
    s = gs("c8")
    t = nn.FieldType(s, [s.regular_repr, s.trivial_repr])
    x = t(torch.randn(6, t.size), coords=torch.randn(6, 2))
    for m in (GroupPooling(t), NormPool(t)):
        y = m(x)
        assert y.coords is x.coords and y.shape == (6, 2)
    with pytest.raises(ValueError, match="point-cloud"):
        PointwiseAvgPool2D(t, 2)(x)


# ------------------------------------------------------------------------------ 3. reference values
def test_reference_values():
    s = gs("c4")
    t = nn.FieldType(s, [s.regular_repr, s.irrep(1), s.trivial_repr, s.irrep(1)])
    x = rand_input(t, 8)
    xt = x.tensor
    torch.testing.assert_close(PointwiseAvgPool2D(t, 2)(x).tensor, torch.nn.functional.avg_pool2d(xt, 2))
    torch.testing.assert_close(
        PointwiseAdaptiveAvgPool2D(t, 3)(x).tensor, torch.nn.functional.adaptive_avg_pool2d(xt, 3)
    )
    # NormPool: the norm of every field
    ref = torch.stack([xt[:, 0:4].norm(dim=1), xt[:, 4:6].norm(dim=1), xt[:, 6].abs(), xt[:, 7:9].norm(dim=1)], 1)
    torch.testing.assert_close(NormPool(t)(x).tensor, ref)
    # NormMaxPool: per field and window, the fibre of largest norm
    y = NormMaxPool(t, 2)(x).tensor
    for _f, (a, b) in enumerate([(0, 4), (4, 6), (6, 7), (7, 9)]):
        fld = xt[:, a:b].unfold(2, 2, 2).unfold(3, 2, 2).reshape(2, b - a, 4, 4, 4)  # window positions last
        arg = fld.norm(dim=1).argmax(-1, keepdim=True)  # (2, 4, 4, 1)
        ref = fld.gather(-1, arg.unsqueeze(1).expand(-1, b - a, -1, -1, -1)).squeeze(-1)
        torch.testing.assert_close(y[:, a:b], ref)
    # GroupPooling: the max over each field's channels (fields of different sizes, interleaved)
    tp = nn.FieldType(s, [s.regular_repr, s.trivial_repr, s.regular_repr, s.quotient_repr(2)])
    xp = rand_input(tp, 5)
    xpt = xp.tensor
    ref = torch.stack([xpt[:, 0:4].amax(1), xpt[:, 4], xpt[:, 5:9].amax(1), xpt[:, 9:11].amax(1)], 1)
    torch.testing.assert_close(GroupPooling(tp)(xp).tensor, ref)
    # anti-aliased average = depth-wise Gaussian convolution
    aa = PointwiseAvgPoolAntialiased2D(t, 0.6, 2)
    assert aa.filter_size == 5 and torch.allclose(aa.filter.sum(dim=(1, 2, 3)), torch.ones(t.size))
    assert PointwiseMaxPoolAntialiased2D(tp, 2).filter_size == 5


def test_induced_norm_pool_values_and_subfields():
    t = induced_type("d4")
    m = InducedNormPool(t)
    assert m.subfield_sizes == (2, 1, 1)  # C4 irrep(1) -> 2-dim sub-fields; sign irrep and quotient -> 1
    x = rand_input(t, 5)
    xt = x.tensor
    ref = torch.stack(
        [
            torch.maximum(xt[:, 0:2].norm(dim=1), xt[:, 2:4].norm(dim=1)),
            torch.maximum(xt[:, 4].abs(), xt[:, 5].abs()),
            xt[:, 6:10].abs().amax(1),
        ],
        1,
    )
    torch.testing.assert_close(m(x).tensor, ref)
    assert InducedNormPool(induced_type("o2")).subfield_sizes == (2, 2, 1)
    assert InducedNormPool(induced_type("o3")).subfield_sizes == (3, 5)
    assert InducedNormPool(induced_type("focta")).subfield_sizes == (2, 3)
    # explicit sub-field size (a valid finer structure: C4 irrep(1) blocks are signed permutations)
    m1 = InducedNormPool(t, subfield_size=[1, 1, 1])
    torch.testing.assert_close(m1(x).tensor[:, 0], xt[:, 0:4].abs().amax(1))
    assert_equivariant(m1, inputs=x)
    assert induced_subfield_size(gs("so2").irrep(1)) is None


# ------------------------------------------------------------------------------ 4. export, float64, state
def _all_modules():
    """One instance of every module (2D and 3D), with a matching input."""
    out = []
    for name in ("d4", "octa"):
        tp, tg = pointwise_type(name), general_type(name)
        d = tp.gspace.dimensionality
        n = 9 if d == 2 else 5
        out += [
            (MAX_POOLS[d](tp, 3, 2, 1), tp, n),
            (MAX_POOLS[d](tp, 2, ceil_mode=True, dilation=1), tp, n),
            (AVG_POOLS[d](tg, 3, 2, 1), tg, n),
            (AVG_POOLS[d](tg, 2, ceil_mode=True), tg, n),
            (ADA_MAX[d](tp, 2), tp, n),
            (ADA_AVG[d](tg, (2,) * d), tg, n),
            (MAX_AA[d](tp, 3, 2, 1), tp, n),
            (AVG_AA[d](tg, 0.6, 2), tg, n),
            (NormMaxPool(tg, 3, 2, 1), tg, n),
            (NormMaxPool(tg, 2, ceil_mode=True), tg, n),
            (NormPool(tg), tg, n),
            (GroupPooling(tp), tp, n),
        ]
    ti = induced_type("d4")
    out.append((InducedNormPool(ti), ti, 7))
    return out


def test_export_equality():
    for m, t, n in _all_modules():
        assert_export(m, rand_input(t, n))
    # GroupPooling exports to MaxPoolChannels when all fields have the same size (as escnn)
    s = gs("c8")
    t = nn.FieldType(s, [s.regular_repr] * 3)
    e = GroupPooling(t).export()
    assert isinstance(e, MaxPoolChannels) and e.kernel_size == 8
    assert isinstance(PointwiseMaxPool3D(pointwise_type("octa"), 2).export(), torch.nn.MaxPool3d)
    assert isinstance(PointwiseAvgPool2D(general_type("c4"), 2).export(), torch.nn.AvgPool2d)


def test_float64():
    for m, t, n in _all_modules():
        m = m.double()
        x = rand_input(t, n, dtype=torch.float64)
        y = m(x)
        assert y.tensor.dtype == torch.float64
        assert_close_scaled(m.export()(x.tensor), y.tensor, TOL64, type(m).__name__)
    m = PointwiseAvgPoolAntialiased2D(general_type("so2"), 0.6, 2).double()
    assert_equivariant(m, inputs=rand_input(general_type("so2"), 9, dtype=torch.float64), rtol=TOL64)


def test_state_order_pickle_deepcopy():
    mods_a, mods_b = _all_modules(), _all_modules()
    for (m, t, n), (m2, _, _) in zip(mods_a, mods_b):
        assert m.state_dict().keys() == m.eval().state_dict().keys() == m.train().state_dict().keys()
        assert len(m.state_dict()) == 0 and len(list(m.parameters())) == 0
        nb = [(k, v) for k, v in m.named_buffers()]
        nb2 = [(k, v) for k, v in m2.named_buffers()]
        assert [k for k, _ in nb] == [k for k, _ in nb2]
        assert all(torch.equal(a, b) for (_, a), (_, b) in zip(nb, nb2))
        x = rand_input(t, n)
        for clone in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
            assert clone.in_type == m.in_type and clone.out_type == m.out_type
            torch.testing.assert_close(clone(x).tensor, m(x).tensor)
        e = m.export()
        torch.testing.assert_close(pickle.loads(pickle.dumps(e))(x.tensor), e(x.tensor))


def test_gradients_are_finite():
    s = gs("so2")
    t = nn.FieldType(s, [s.irrep(1), s.trivial_repr])
    x = torch.randn(1, 3, 5, 5)
    x[:, :, 0, 0] = 0.0  # zero fields: the norm's gradient must not be NaN
    x.requires_grad_(True)
    (NormPool(t)(t(x)).tensor.sum() + NormMaxPool(t, 2)(t(x)).tensor.sum()).backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_aliases():
    assert PointwiseMaxPool is PointwiseMaxPool2D and PointwiseAvgPool is PointwiseAvgPool2D
    assert PointwiseAdaptiveAvgPool is PointwiseAdaptiveAvgPool2D
    assert PointwiseAdaptiveMaxPool is PointwiseAdaptiveMaxPool2D
    assert PointwiseMaxPoolAntialiased is PointwiseMaxPoolAntialiased2D
    assert PointwiseAvgPoolAntialiased is PointwiseAvgPoolAntialiased2D


def test_max_pool_channels():
    s = gs("d4")
    t = nn.FieldType(s, [s.regular_repr] * 3)
    x = rand_input(t, 5)
    torch.testing.assert_close(MaxPoolChannels(8)(x.tensor), GroupPooling(t)(x).tensor)
    m = pickle.loads(pickle.dumps(MaxPoolChannels(8)))
    assert m(torch.randn(2, 16)).shape == (2, 2)
    with pytest.raises(ValueError, match="multiple of kernel_size"):
        MaxPoolChannels(5)(x.tensor)
    with pytest.raises(ValueError, match="kernel_size"):
        MaxPoolChannels(0)
    with pytest.raises(TypeError, match="kernel_size"):
        MaxPoolChannels(t)
    with pytest.raises(TypeError, match="input"):
        MaxPoolChannels(8)(x)


# ------------------------------------------------------------------------------ 5. output shapes
def test_evaluate_output_shape():
    t2, t3 = pointwise_type("c4"), pointwise_type("octa")
    g2 = general_type("c4")
    mods = []
    for k, s, p, dl, ceil in [
        (3, 2, 1, 1, False),
        (3, 2, 1, 1, True),
        (2, 3, 1, 1, True),
        (3, 2, 0, 2, True),
        (2, None, 0, 1, False),
        ((3, 2), (2, 1), (1, 0), (1, 2), True),
    ]:
        mods.append((MAX_POOLS[2](t2, k, s, p, dl, ceil), t2))
        mods.append((NormMaxPool(g2, k, s, p, dl, ceil), g2))
        if dl == 1:
            mods.append((AVG_POOLS[2](g2, k, s, p, ceil), g2))
            mods.append((MAX_AA[2](t2, k, s, p, dl), t2))
    mods += [
        (AVG_AA[2](g2, 0.6, 2), g2),
        (AVG_AA[2](g2, 0.9, 3, 0), g2),
        (ADA_AVG[2](g2, (3, None)), g2),
        (ADA_MAX[2](t2, 4), t2),
        (MAX_POOLS[3](t3, 3, 2, 1, 1, True), t3),
        (MAX_AA[3](t3, 2), t3),
        (NormPool(g2), g2),
        (GroupPooling(t2), t2),
    ]
    for m, t in mods:
        for n in (7, 8, 9, 10):
            x = rand_input(t, n, batch=1)
            assert m.evaluate_output_shape(x.shape) == tuple(m(x).shape), (m, n)
    with pytest.raises(ValueError, match="input_shape"):
        MAX_POOLS[2](t2, 2).evaluate_output_shape((1, t2.size, 5))
    with pytest.raises(ValueError, match="input_shape"):
        MAX_POOLS[2](t2, 5).evaluate_output_shape((1, t2.size, 3, 3))


# ------------------------------------------------------------------------------ 6. bad input
def test_max_pools_refuse_non_permutation_representations():
    s = gs("so2")
    t = nn.FieldType(s, [s.trivial_repr, s.irrep(1)])
    for ctor in (
        lambda: PointwiseMaxPool(t, 2),
        lambda: PointwiseAdaptiveMaxPool(t, 2),
        lambda: PointwiseMaxPoolAntialiased(t, 2),
        lambda: GroupPooling(t),
    ):
        with pytest.raises(ValueError, match="in_type.*field 1"):
            ctor()
    t3 = nn.FieldType(gs("so3"), [gs("so3").irrep(1)])
    for cls in (PointwiseMaxPool3D, PointwiseAdaptiveMaxPool3D, PointwiseMaxPoolAntialiased3D):
        with pytest.raises(ValueError, match="in_type"):
            cls(t3, 2)
    with pytest.raises(ValueError, match="in_type"):
        InducedNormPool(t)  # an irrep (and a trivial field) is not induced


def test_bad_arguments():
    t2, t3 = pointwise_type("c4"), pointwise_type("octa")
    with pytest.raises(ValueError, match="in_type.*R\\^2"):
        PointwiseMaxPool2D(t3, 2)
    with pytest.raises(ValueError, match="in_type.*R\\^3"):
        PointwiseAvgPool3D(t2, 2)
    with pytest.raises(TypeError, match="in_type"):
        PointwiseAvgPool2D(gs("c4").regular_repr, 2)
    with pytest.raises(TypeError, match="in_type"):
        NormPool([1, 2])
    with pytest.raises(ValueError, match="in_type"):
        NormMaxPool(
            nn.FieldType(gspaces.no_base_space(sg.cyclic_group(4)), [sg.cyclic_group(4).regular_representation]), 2
        )
    for kw, exc in [
        (dict(kernel_size=0), ValueError),
        (dict(kernel_size=True), TypeError),
        (dict(kernel_size=(2, 2, 2)), TypeError),
        (dict(kernel_size=2.0), TypeError),
        (dict(kernel_size=2, stride=0), ValueError),
        (dict(kernel_size=3, padding=2), ValueError),
        (dict(kernel_size=2, padding=-1), ValueError),
        (dict(kernel_size=2, dilation=0), ValueError),
        (dict(kernel_size=2, ceil_mode=1), TypeError),
    ]:
        arg = next(k for k in ("ceil_mode", "dilation", "padding", "stride", "kernel_size") if k in kw)
        for cls in (PointwiseMaxPool2D, NormMaxPool, PointwiseMaxPoolAntialiased2D):
            with pytest.raises(exc, match=arg):
                cls(t2, **kw)
    with pytest.raises(ValueError, match="padding"):
        PointwiseAvgPool2D(t2, 2, padding=2)
    for sigma, exc in [(0.0, ValueError), (-1, ValueError), ("a", TypeError), (float("nan"), ValueError)]:
        with pytest.raises(exc, match="sigma"):
            PointwiseAvgPoolAntialiased2D(t2, sigma, 2)
        with pytest.raises(exc, match="sigma"):
            PointwiseMaxPoolAntialiased2D(t2, 2, sigma=sigma)
    with pytest.warns(UserWarning, match="ceil_mode"):
        PointwiseMaxPoolAntialiased2D(t2, 2, ceil_mode=True)
    with pytest.raises(ValueError, match="output_size"):
        PointwiseAdaptiveAvgPool2D(t2, 0)
    with pytest.raises(TypeError, match="output_size"):
        PointwiseAdaptiveAvgPool3D(t3, (2, 2))
    with pytest.warns(UserWarning, match="no effect"):  # escnn takes **kwargs and ignores them
        NormPool(t2, foo=1)


def test_norm_pools_refuse_non_orthogonal_representations():
    s = gs("c4")
    q = np.array([[2.0, 1.0], [0.0, 1.0]])
    rho = sg.change_basis(s.irrep(1), q, name="skewed")
    t = nn.FieldType(s, [s.regular_repr, rho])
    for ctor in (lambda: NormPool(t), lambda: NormMaxPool(t, 2), lambda: InducedNormPool(t)):
        with pytest.raises(ValueError, match="in_type.*field 1"):
            ctor()


def test_induced_subfield_size_argument():
    t = induced_type("d4")
    with pytest.raises(ValueError, match="subfield_size"):
        InducedNormPool(t, subfield_size=3)
    with pytest.raises(TypeError, match="subfield_size"):
        InducedNormPool(t, subfield_size=[1, 2])
    o2 = induced_type("o2")
    with pytest.raises(ValueError, match="subfield_size"):
        InducedNormPool(o2, subfield_size=1)  # SO(2) irreps are not monomial


def test_forward_checks_input():
    t = pointwise_type("c4")
    m = PointwiseMaxPool2D(t, 2)
    with pytest.raises(TypeError, match="input"):
        m(torch.randn(1, t.size, 4, 4))
    other = pointwise_type("d4")
    with pytest.raises(ValueError, match="input"):
        m(rand_input(other, 4))
    with pytest.raises(ValueError, match="input"):
        GroupPooling(t)(rand_input(other, 4))
    with pytest.raises(ValueError, match="input"):
        NormMaxPool(t, 2)(rand_input(other, 4))


@pytest.mark.slow
def test_torch_compile_fullgraph():
    t = general_type("c4")
    tp = pointwise_type("c4")
    for m, tt in (
        (NormMaxPool(t, 3, 2, 1), t),
        (NormPool(t), t),
        (GroupPooling(tp), tp),
        (PointwiseMaxPoolAntialiased2D(tp, 3, 2, 1), tp),
    ):
        x = torch.randn(2, tt.size, 9, 9, requires_grad=True)
        f = torch.compile(lambda a, m=m, tt=tt: m(tt(a)).tensor, fullgraph=True)
        y = f(x)
        y.sum().backward()
        torch.testing.assert_close(y, m(tt(x)).tensor)
