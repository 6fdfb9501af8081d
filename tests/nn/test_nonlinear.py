"""Equivariant nonlinearities (all but the Fourier ones).

1. equivariance of every module on every group it supports: exact grid symmetries
   (``x.transform(g)`` for the gspace's testing elements, float32, 1e-5 relative) and fibre-only
   checks (``x.transform_fibers(g)``) for every element of finite groups and random elements of
   continuous groups (float32, 1e-4 relative: the fibre matrices of random rotations are rounded
   to float32, which the nonlinearities amplify a little near small norms);
2. export to plain torch (1e-5), float64, pickle/deepcopy, deterministic parameter/buffer order,
   state_dict (parameters only, same keys in train/eval), output shapes, gradients;
3. values against direct formulas (norms, gates, concatenation, vector fields, quadratic maps);
4. construction-time errors for unsupported representations, gate counts, bad arguments.
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
from steerable.group import change_basis, directsum
from steerable.nn import GeometricTensor
from steerable.nn.nonlinear._concatenated import ConcatenatedNonLinearity, concatenated_representation
from steerable.nn.nonlinear._gated import (
    GatedNonLinearity1,
    GatedNonLinearity2,
    GatedNonLinearityUniform,
    InducedGatedNonLinearity1,
)
from steerable.nn.nonlinear._norm import InducedNormNonLinearity, NormNonLinearity, imprimitivity_blocks
from steerable.nn.nonlinear._pointwise import ELU, LeakyReLU, PointwiseNonLinearity, ReLU
from steerable.nn.nonlinear._tensor_product import TensorProductModule, symmetric_quadratic_basis
from steerable.nn.nonlinear._vectorfield import VectorFieldNonLinearity
from steerable.testing import assert_equivariant, fibre_elements

TOL32 = 1e-5
TOL_FIBRE = 1e-4
SPATIAL = {0: None, 2: 7, 3: 5}


# ------------------------------------------------------------------------------ gspaces (cached)
@functools.cache
def GS(name: str):
    return {
        "c4": lambda: gspaces.rot2dOnR2(4),
        "c8": lambda: gspaces.rot2dOnR2(8),
        "c2": lambda: gspaces.rot2dOnR2(2),
        "so2": lambda: gspaces.rot2dOnR2(-1, maximum_frequency=4),
        "d4": lambda: gspaces.flipRot2dOnR2(4),
        "d6": lambda: gspaces.flipRot2dOnR2(6),
        "o2": lambda: gspaces.flipRot2dOnR2(-1, maximum_frequency=4),
        "flip2d": lambda: gspaces.flip2dOnR2(),
        "so3": lambda: gspaces.rot3dOnR3(maximum_frequency=2),
        "o3": lambda: gspaces.flipRot3dOnR3(maximum_frequency=2),
        "octa": lambda: gspaces.octaOnR3(),
        "ico": lambda: gspaces.icoOnR3(),
        "c4_r3": lambda: gspaces.rot2dOnR3(4),
        "r0_c5": lambda: gspaces.no_base_space(sg.cyclic_group(5)),
        "r0_d3": lambda: gspaces.no_base_space(sg.dihedral_group(3)),
        "r0_so3": lambda: gspaces.no_base_space(sg.so3_group(2)),
        "r0_o2": lambda: gspaces.no_base_space(sg.o2_group(3)),
    }[name]()


def ft(gs_name: str, reps) -> nn.FieldType:
    return nn.FieldType(GS(gs_name), list(reps))


def irr(gs_name: str, *ids):
    gs = GS(gs_name)
    return [gs.irrep(*(i if isinstance(i, tuple) else (i,))) for i in ids]


def quot(gs_name: str, sid):
    return GS(gs_name).fibergroup.quotient_representation(sid)


def ind(gs_name: str, sid, *hid):
    G = GS(gs_name).fibergroup
    H, _, _ = G.subgroup(sid)
    return G.induced_representation(sid, H.irrep(*hid))


def triv(gs_name: str, n: int = 1):
    return [GS(gs_name).trivial_repr] * n


def reg(gs_name: str, n: int = 1):
    return [GS(gs_name).regular_repr] * n


# ------------------------------------------------------------------------------ the cases
# Every (module, group) pair the tests cover: name -> builder returning a fresh module.
CASES = {
    # pointwise ----------------------------------------------------------------------------
    "relu/c4": lambda: ReLU(ft("c4", reg("c4", 2) + triv("c4") + [quot("c4", 2)])),
    "relu/c8": lambda: ReLU(ft("c8", reg("c8", 2))),
    "relu/d4": lambda: ReLU(ft("d4", reg("d4") + [quot("d4", (None, 2)), quot("d4", (0, 1))])),
    "relu/flip2d": lambda: ReLU(ft("flip2d", reg("flip2d", 2) + triv("flip2d"))),
    "relu/octa": lambda: ReLU(ft("octa", reg("octa") + triv("octa"))),
    "relu/ico": lambda: ReLU(ft("ico", reg("ico") + triv("ico"))),
    "relu/so2-trivial": lambda: ReLU(ft("so2", triv("so2", 3))),
    "relu/o2-quotient": lambda: ReLU(ft("o2", [quot("o2", (None, -1))] + triv("o2"))),
    "relu/so3-trivial": lambda: ReLU(ft("so3", triv("so3", 2))),
    "relu/o3-quotient": lambda: ReLU(ft("o3", [quot("o3", "so3")] + triv("o3"))),
    "relu/c4-r3": lambda: ReLU(ft("c4_r3", reg("c4_r3"))),
    "relu/r0-c5": lambda: ReLU(ft("r0_c5", reg("r0_c5", 2))),
    "relu/r0-d3": lambda: ReLU(ft("r0_d3", reg("r0_d3"))),
    "elu/d4": lambda: ELU(ft("d4", reg("d4", 2)), alpha=0.7),
    "elu/ico": lambda: ELU(ft("ico", reg("ico"))),
    "leaky/octa": lambda: LeakyReLU(ft("octa", reg("octa")), negative_slope=0.1),
    "leaky/c8": lambda: LeakyReLU(ft("c8", reg("c8") + triv("c8"))),
    "pointwise-sigmoid/d6": lambda: PointwiseNonLinearity(ft("d6", reg("d6")), "p_sigmoid"),
    "pointwise-tanh/o2": lambda: PointwiseNonLinearity(ft("o2", [quot("o2", (None, -1))]), "p_tanh"),
    "pointwise-elu/c4": lambda: PointwiseNonLinearity(ft("c4", reg("c4")), "p_elu"),
    "pointwise-leaky/r0-d3": lambda: PointwiseNonLinearity(ft("r0_d3", reg("r0_d3")), "p_leaky_relu"),
    "pointwise-callable/octa": lambda: PointwiseNonLinearity(ft("octa", reg("octa")), torch.nn.functional.silu),
    # norm ---------------------------------------------------------------------------------
    "norm/so2": lambda: NormNonLinearity(ft("so2", irr("so2", 1, 2, 3) + triv("so2"))),
    "norm/o2": lambda: NormNonLinearity(ft("o2", irr("o2", (1, 1), (1, 2), (1, 0), (0, 0))), "n_sigmoid"),
    "norm/so3": lambda: NormNonLinearity(ft("so3", irr("so3", 1, 2) + reg("so3")), "n_softplus"),
    "norm/o3": lambda: NormNonLinearity(ft("o3", irr("o3", (0, 1), (1, 2), (1, 0))), "squash", bias=False),
    "norm/c8-mixed": lambda: NormNonLinearity(ft("c8", reg("c8") + irr("c8", 1, 3) + reg("c8"))),
    "norm/d4": lambda: NormNonLinearity(ft("d4", irr("d4", (1, 1), (1, 0)) + reg("d4"))),
    "norm/flip2d": lambda: NormNonLinearity(ft("flip2d", reg("flip2d") + irr("flip2d", 1))),
    "norm/octa": lambda: NormNonLinearity(ft("octa", irr("octa", 1, 2, -1))),
    "norm/ico": lambda: NormNonLinearity(ft("ico", irr("ico", 1, 2, 3)), "n_sigmoid"),
    "norm/r0-so3": lambda: NormNonLinearity(ft("r0_so3", irr("r0_so3", 1, 2, 0))),
    # induced norm -------------------------------------------------------------------------
    "inducednorm/o2": lambda: InducedNormNonLinearity(
        ft("o2", [ind("o2", (None, -1), 1), ind("o2", (None, -1), 3), ind("o2", (None, -1), 1)])
    ),
    "inducednorm/d6": lambda: InducedNormNonLinearity(ft("d6", [ind("d6", (None, 3), 1)] * 2), "n_sigmoid"),
    "inducednorm/d4-monomial": lambda: InducedNormNonLinearity(ft("d4", [ind("d4", (None, 4), 1)])),
    "inducednorm/c8-regular": lambda: InducedNormNonLinearity(ft("c8", reg("c8")), "squash", bias=False),
    "inducednorm/o3": lambda: InducedNormNonLinearity(ft("o3", [ind("o3", "so3", 1), ind("o3", "so3", 2)])),
    "inducednorm/ico": lambda: InducedNormNonLinearity(ft("ico", [ind("ico", (False, 5), 1)])),
    "inducednorm/r0-o2": lambda: InducedNormNonLinearity(ft("r0_o2", [ind("r0_o2", (None, -1), 2)])),
    # gated --------------------------------------------------------------------------------
    "gated1/so2": lambda: GatedNonLinearity1(ft("so2", triv("so2", 3) + irr("so2", 1, 2, 3))),
    "gated1/o2-keep": lambda: GatedNonLinearity1(
        ft("o2", irr("o2", (1, 1)) + triv("o2") + irr("o2", (1, 2), (0, 0), (1, 0)) + triv("o2")),
        gates=["gated", "gate", "gated", "gate", "gated", "gate"],
        drop_gates=False,
    ),
    "gated1/so3": lambda: GatedNonLinearity1(ft("so3", triv("so3", 2) + irr("so3", 1, 2))),
    "gated1/o3": lambda: GatedNonLinearity1(ft("o3", triv("o3", 2) + irr("o3", (1, 1), (0, 2)))),
    "gated1/octa": lambda: GatedNonLinearity1(ft("octa", triv("octa", 2) + reg("octa") + irr("octa", 2))),
    "gated1/ico": lambda: GatedNonLinearity1(ft("ico", triv("ico", 2) + irr("ico", 1, 4))),
    "gated1/c4": lambda: GatedNonLinearity1(ft("c4", triv("c4", 2) + reg("c4") + irr("c4", 1))),
    "gated1/flip2d": lambda: GatedNonLinearity1(ft("flip2d", triv("flip2d") + irr("flip2d", 1)), drop_gates=False),
    "gated1/r0-so3": lambda: GatedNonLinearity1(ft("r0_so3", triv("r0_so3", 2) + irr("r0_so3", 1, 2))),
    "gated2/so2": lambda: GatedNonLinearity2((ft("so2", triv("so2", 2)), ft("so2", irr("so2", 2, 1)))),
    "gated2/o3": lambda: GatedNonLinearity2((ft("o3", triv("o3", 2)), ft("o3", irr("o3", (1, 1), (0, 2))))),
    "gated2/octa": lambda: GatedNonLinearity2((ft("octa", triv("octa", 2)), ft("octa", reg("octa") + irr("octa", 1)))),
    "gated2/r0-c5": lambda: GatedNonLinearity2((ft("r0_c5", triv("r0_c5")), ft("r0_c5", reg("r0_c5")))),
    "uniform/so2": lambda: GatedNonLinearityUniform(ft("so2", [directsum(triv("so2", 2) + irr("so2", 1, 3))] * 3)),
    "uniform/so3": lambda: GatedNonLinearityUniform(ft("so3", [directsum(triv("so3", 2) + irr("so3", 2, 1))] * 2)),
    "uniform/octa": lambda: GatedNonLinearityUniform(
        ft("octa", [directsum(triv("octa", 3) + irr("octa", 1, 2, 3))] * 2), gate=torch.tanh
    ),
    "uniform/r0-o2": lambda: GatedNonLinearityUniform(
        ft("r0_o2", [directsum(triv("r0_o2", 1) + irr("r0_o2", (1, 2)))] * 2)
    ),
    "inducedgated/d6": lambda: InducedGatedNonLinearity1(
        ft("d6", [quot("d6", (None, 3)), ind("d6", (None, 3), 1), quot("d6", (None, 3)), ind("d6", (None, 3), 0)]),
        gates=["gate", "gated", "gate", "gated"],
    ),
    "inducedgated/o2-keep": lambda: InducedGatedNonLinearity1(
        ft("o2", [quot("o2", (None, -1)), ind("o2", (None, -1), 2)]), drop_gates=False
    ),
    "inducedgated/o3": lambda: InducedGatedNonLinearity1(
        ft("o3", [quot("o3", "so3"), GS("o3").trivial_repr, ind("o3", "so3", 2), GS("o3").irrep(1, 1)])
    ),
    "inducedgated/ico": lambda: InducedGatedNonLinearity1(
        ft("ico", [quot("ico", (False, 5)), ind("ico", (False, 5), 2)])
    ),
    # concatenated -------------------------------------------------------------------------
    "concat/c4": lambda: ConcatenatedNonLinearity(ft("c4", reg("c4") + [quot("c4", 2)])),
    "concat/d4": lambda: ConcatenatedNonLinearity(ft("d4", reg("d4") + triv("d4")), "c_sigmoid"),
    "concat/flip2d": lambda: ConcatenatedNonLinearity(ft("flip2d", reg("flip2d")), "c_tanh"),
    "concat/octa": lambda: ConcatenatedNonLinearity(ft("octa", reg("octa"))),
    "concat/ico": lambda: ConcatenatedNonLinearity(ft("ico", reg("ico") + triv("ico"))),
    "concat/so2-trivial": lambda: ConcatenatedNonLinearity(ft("so2", triv("so2", 2))),
    "concat/o2-quotient": lambda: ConcatenatedNonLinearity(ft("o2", [quot("o2", (None, -1))])),
    "concat/o3-quotient": lambda: ConcatenatedNonLinearity(ft("o3", [quot("o3", "so3")] + triv("o3"))),
    "concat/r0-c5": lambda: ConcatenatedNonLinearity(ft("r0_c5", reg("r0_c5"))),
    # vector field -------------------------------------------------------------------------
    "vectorfield/c4": lambda: VectorFieldNonLinearity(ft("c4", reg("c4", 3))),
    "vectorfield/c8": lambda: VectorFieldNonLinearity(ft("c8", reg("c8", 2))),
    "vectorfield/c2": lambda: VectorFieldNonLinearity(ft("c2", reg("c2", 2))),
    "vectorfield/c4-r3": lambda: VectorFieldNonLinearity(ft("c4_r3", reg("c4_r3"))),
    "vectorfield/r0-c5": lambda: VectorFieldNonLinearity(ft("r0_c5", reg("r0_c5", 2))),
    # tensor product -----------------------------------------------------------------------
    "tp/c8": lambda: TensorProductModule(ft("c8", reg("c8", 2)), ft("c8", reg("c8", 2))),
    "tp/c4-mixed": lambda: TensorProductModule(
        ft("c4", reg("c4") + irr("c4", 1) + reg("c4")), ft("c4", irr("c4", 1) + triv("c4") + irr("c4", 2))
    ),
    "tp/so2": lambda: TensorProductModule(ft("so2", irr("so2", 1, 2, 1)), ft("so2", irr("so2", 2, 4, 0))),
    "tp/o2": lambda: TensorProductModule(ft("o2", irr("o2", (1, 1), (1, 2))), ft("o2", irr("o2", (1, 2), (0, 0)))),
    "tp/d4": lambda: TensorProductModule(ft("d4", reg("d4")), ft("d4", reg("d4"))),
    "tp/flip2d": lambda: TensorProductModule(
        ft("flip2d", irr("flip2d", 1) + reg("flip2d")), ft("flip2d", triv("flip2d") + reg("flip2d"))
    ),
    "tp/so3": lambda: TensorProductModule(ft("so3", irr("so3", 1, 2)), ft("so3", irr("so3", 2, 0))),
    "tp/o3": lambda: TensorProductModule(ft("o3", irr("o3", (1, 1), (0, 2))), ft("o3", irr("o3", (0, 2), (0, 0)))),
    "tp/octa": lambda: TensorProductModule(ft("octa", irr("octa", 1, 2)), ft("octa", irr("octa", -1, 2))),
    "tp/ico": lambda: TensorProductModule(ft("ico", irr("ico", 1, 2)), ft("ico", irr("ico", 2, 2))),
    "tp/r0-so3": lambda: TensorProductModule(ft("r0_so3", irr("r0_so3", 1, 2)), ft("r0_so3", irr("r0_so3", 0, 2))),
    "tp/r0-c5": lambda: TensorProductModule(ft("r0_c5", reg("r0_c5")), ft("r0_c5", reg("r0_c5"))),
}
CASE_IDS = list(CASES)


def build(name: str):
    torch.manual_seed(0)
    m = CASES[name]()
    # make biases non-trivial so that they matter in the checks
    with torch.no_grad():
        for p in m.parameters():
            if p.numel() and float(p.abs().sum()) == 0.0:
                p.normal_(0.0, 0.5)
    return m


# ------------------------------------------------------------------------------ helpers
def in_types(m):
    return m.in_type if isinstance(m, GatedNonLinearity2) else (m.in_type,)


def rand_inputs(m, dtype=torch.float32, batch: int = 2, seed: int = 1):
    gen = torch.Generator().manual_seed(seed)
    out = []
    for t in in_types(m):
        d = t.gspace.dimensionality
        shape = (batch, t.size) + ((SPATIAL[d],) * d if d else ())
        out.append(t(torch.randn(*shape, generator=gen, dtype=dtype)))
    return tuple(out)


def run(m, xs):
    return m(*xs)


def assert_close_scaled(a: torch.Tensor, b: torch.Tensor, tol: float, what: str = "") -> None:
    assert a.shape == b.shape, (what, a.shape, b.shape)
    err = (a - b).abs().max().item() if a.numel() else 0.0
    scale = b.abs().max().item() if b.numel() else 0.0
    assert err <= tol * max(1.0, scale), f"{what}: max error {err:.3g} (output scale {scale:.3g}, tol {tol:g})"


# ------------------------------------------------------------------------------ generic tests
@pytest.mark.parametrize("name", CASE_IDS)
def test_equivariance_grid(name):
    """f(g·x) == g·f(x) for every testing element (exact symmetries of the grid)."""
    m = build(name).eval()
    elements = m.out_type.testing_elements
    assert len(elements) >= 1
    assert_equivariant(m, inputs=rand_inputs(m), elements=elements, rtol=TOL32)


@pytest.mark.parametrize("name", CASE_IDS)
def test_equivariance_fibres(name):
    """Per-fibre modules: f(ρ(g)x) == ρ'(g)f(x) for all elements of finite groups and random
    elements of continuous ones (float32, 1e-4 relative for the float32-rounded fibre matrices)."""
    m = build(name).eval()
    G = m.out_type.gspace.fibergroup
    assert_equivariant(
        m,
        inputs=rand_inputs(m, batch=3, seed=7),
        elements=fibre_elements(G, seed=123),
        fibers_only=True,
        rtol=TOL_FIBRE if G.continuous else TOL32,
    )


@pytest.mark.parametrize("name", CASE_IDS)
def test_export_matches(name):
    m = build(name).eval()
    xs = rand_inputs(m, seed=3)
    plain = m.export()
    assert not isinstance(plain, nn.EquivariantModule)
    for mod in plain.modules():
        for v in vars(mod).values():
            assert not isinstance(v, (nn.FieldType, sg.Representation)), f"{name}: export keeps steerable objects"
    with torch.no_grad():
        a = plain(*[x.tensor for x in xs])
        b = run(m, xs).tensor
    assert_close_scaled(a, b, 1e-5, f"{name}: export")
    plain2 = pickle.loads(pickle.dumps(plain)) if not name.startswith("pointwise-callable") else plain
    with torch.no_grad():
        assert torch.equal(plain2(*[x.tensor for x in xs]), a)


@pytest.mark.parametrize("name", CASE_IDS)
def test_float64(name):
    m = build(name).double().eval()
    xs = rand_inputs(m, dtype=torch.float64, seed=5)
    with torch.no_grad():
        y = run(m, xs)
        assert y.tensor.dtype == torch.float64
    assert_equivariant(m, inputs=xs, elements=m.out_type.testing_elements[-1:], rtol=1e-10)
    # float64 agrees with float32
    m32 = build(name).eval()
    with torch.no_grad():
        y32 = run(m32, tuple(x.to(torch.float32) for x in xs)).tensor
    assert_close_scaled(y32.double(), y.tensor, 1e-4, f"{name}: float32 vs float64")


@pytest.mark.parametrize("name", CASE_IDS)
def test_structure_and_state(name):
    """Deterministic parameters/buffers, state_dict = parameters only (same in train/eval),
    pickle/deepcopy round trips, output shapes, finite gradients."""
    a, b = build(name), build(name)
    assert [(k, tuple(v.shape)) for k, v in a.named_parameters()] == [
        (k, tuple(v.shape)) for k, v in b.named_parameters()
    ]
    assert [k for k, _ in a.named_buffers()] == [k for k, _ in b.named_buffers()]
    for (k, u), (_, v) in zip(a.named_buffers(), b.named_buffers()):
        assert torch.equal(u, v), k
    for (k, u), (_, v) in zip(a.named_parameters(), b.named_parameters()):
        assert torch.equal(u, v), k
    keys_train = list(a.train().state_dict().keys())
    keys_eval = list(a.eval().state_dict().keys())
    assert keys_train == keys_eval == [k for k, _ in a.named_parameters()]

    xs = rand_inputs(a, seed=11)
    with torch.no_grad():
        y = run(a, xs)
    shapes = [tuple(x.shape) for x in xs]
    assert tuple(a.evaluate_output_shape(*shapes)) == tuple(y.shape)
    for c in [copy.deepcopy(a)] + ([] if name.startswith("pointwise-callable") else [pickle.loads(pickle.dumps(a))]):
        with torch.no_grad():
            assert torch.equal(run(c, xs).tensor, y.tensor)
        assert c.out_type == a.out_type

    a.train()
    xs_g = tuple(x.type(x.tensor.clone().requires_grad_(True)) for x in xs)
    out = run(a, xs_g).tensor
    (out * torch.randn_like(out)).sum().backward()
    for x in xs_g:
        assert x.tensor.grad is not None and torch.isfinite(x.tensor.grad).all()
    for k, p in a.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), k


@pytest.mark.parametrize(
    "name",
    [
        "relu/r0-c5",
        "norm/r0-so3",
        "gated1/r0-so3",
        "concat/r0-c5",
        "vectorfield/r0-c5",
        "tp/r0-so3",
        "uniform/r0-o2",
        "inducednorm/r0-o2",
    ],
)
def test_single_vector_and_point_cloud(name):
    """no_base_space: a single vector (C,) and a point cloud (N, C) with coords."""
    m = build(name).eval()
    t = m.in_type
    v = torch.randn(t.size)
    with torch.no_grad():
        y1 = m(t(v)).tensor
        yb = m(t(v[None])).tensor
    assert y1.shape == (m.out_type.size,) and torch.allclose(y1, yb[0])
    assert m.evaluate_output_shape((t.size,)) == (m.out_type.size,)


def test_point_cloud_coords_pass_through():
    t = ft("so3", irr("so3", 1, 2) + triv("so3", 2))
    x = GeometricTensor(torch.randn(6, t.size), t, coords=torch.randn(6, 3))
    for m in (
        NormNonLinearity(t),
        GatedNonLinearity1(t, gates=["gated", "gated", "gate", "gate"]),
        TensorProductModule(t, ft("so3", irr("so3", 0, 2) + triv("so3", 2))),
    ):
        out = m(x)
        assert out.coords is x.coords and out.shape == (6, m.out_type.size)
        assert_equivariant(m, inputs=x, elements=[t.gspace.fibergroup.sample(seed=3)], rtol=TOL_FIBRE)


# ------------------------------------------------------------------------------ values
def test_pointwise_values_and_inplace():
    t = ft("c4", reg("c4", 2))
    x = torch.randn(2, 8, 5, 5)
    assert torch.equal(ReLU(t)(t(x)).tensor, torch.relu(x))
    assert torch.allclose(ELU(t, alpha=0.3)(t(x)).tensor, torch.nn.functional.elu(x, 0.3))
    assert torch.allclose(LeakyReLU(t, 0.2)(t(x)).tensor, torch.nn.functional.leaky_relu(x, 0.2))
    for fname, f in [
        ("p_sigmoid", torch.sigmoid),
        ("p_tanh", torch.tanh),
        ("p_elu", torch.nn.functional.elu),
        ("p_leaky_relu", lambda z: torch.nn.functional.leaky_relu(z, 0.01)),
        ("p_relu", torch.relu),
    ]:
        m = PointwiseNonLinearity(t, fname)
        assert torch.allclose(m(t(x)).tensor, f(x))
        assert torch.allclose(m.export()(x), f(x))
    assert isinstance(ReLU(t).export(), torch.nn.ReLU) and isinstance(ELU(t).export(), torch.nn.ELU)
    assert isinstance(LeakyReLU(t).export(), torch.nn.LeakyReLU)
    assert ELU(t, alpha=0.3).export().alpha == 0.3 and LeakyReLU(t, 0.2).export().negative_slope == 0.2
    # inplace modifies the input tensor and keeps equivariance
    x2 = x.clone()
    y = ReLU(t, inplace=True)(t(x2)).tensor
    assert torch.equal(x2, torch.relu(x)) and torch.equal(y, x2)
    assert ReLU(t, inplace=True).export().inplace
    assert_equivariant(ReLU(t, inplace=True), inputs=t(x.clone()), elements=t.testing_elements[1:2], atol=1e-6, rtol=0)


def test_norm_values():
    t = ft("so3", irr("so3", 1, 2) + triv("so3"))
    m = NormNonLinearity(t, "n_relu")
    with torch.no_grad():
        m.log_bias.copy_(torch.tensor([0.1, -0.3, 0.2]))
    x = torch.randn(3, 9, 2, 2, 2)
    y = m(t(x)).tensor
    starts, ends = t.fields_start, t.fields_end
    for f in range(3):
        xf = x[:, starts[f] : ends[f]]
        n = xf.norm(dim=1, keepdim=True)
        expect = torch.relu(n - torch.exp(m.log_bias[f])) / n * xf
        assert torch.allclose(y[:, starts[f] : ends[f]], expect.detach(), atol=1e-6)
    # bias=False and the other functions
    for fname, f in [
        ("n_sigmoid", torch.sigmoid),
        ("squash", lambda s: s / (1 + s)),
        ("n_softplus", torch.nn.functional.softplus),
    ]:
        m = NormNonLinearity(t, fname, bias=False)
        assert m.log_bias is None and list(m.state_dict()) == []
        y = m(t(x)).tensor
        xf = x[:, 0:3]
        n = xf.norm(dim=1, keepdim=True)
        assert torch.allclose(y[:, 0:3], f(n) / n * xf, atol=1e-6)


@pytest.mark.parametrize("fname", ["n_relu", "n_sigmoid", "n_softplus", "squash"])
def test_norm_zero_is_safe(fname):
    t = ft("so2", irr("so2", 1, 2))
    for m in (
        NormNonLinearity(t, fname, bias=fname != "squash"),
        InducedNormNonLinearity(ft("o2", [ind("o2", (None, -1), 1)]), fname, bias=fname != "squash"),
    ):
        x = torch.zeros(2, m.in_type.size, 3, 3, requires_grad=True)
        x.data[0, :, 0, 0] = 1.0  # one non-zero fibre: the rest is exactly zero
        y = m(m.in_type(x)).tensor
        assert torch.isfinite(y).all() and y[1].abs().max() == 0
        y.square().sum().backward()
        assert torch.isfinite(x.grad).all()
        for p in m.parameters():
            assert torch.isfinite(p.grad).all()
        # tiny norms do not blow up either
        x2 = torch.full((1, m.in_type.size, 1, 1), 1e-12, requires_grad=True)
        m(m.in_type(x2)).tensor.sum().backward()
        assert torch.isfinite(x2.grad).all()


def test_imprimitivity_blocks():
    G = sg.o2_group(4)
    H, _, _ = G.subgroup((None, -1))
    assert imprimitivity_blocks(G.induced_representation((None, -1), H.irrep(2))) == [[0, 1], [2, 3]]
    assert imprimitivity_blocks(sg.cyclic_group(6).regular_representation) == [[i] for i in range(6)]
    assert imprimitivity_blocks(sg.so3_group(2).irrep(2)) == [list(range(5))]
    D = sg.dihedral_group(6)
    H, _, _ = D.subgroup((None, 3))
    assert imprimitivity_blocks(D.induced_representation((None, 3), H.irrep(1))) == [[0, 1], [2, 3], [4, 5], [6, 7]]
    # a permuted basis: the blocks follow the channels
    rho = D.induced_representation((None, 3), H.irrep(1))
    p = np.eye(8)[[0, 2, 1, 3, 4, 6, 5, 7]]
    blocks = imprimitivity_blocks(change_basis(rho, p))
    assert sorted(map(sorted, blocks)) == [[0, 2], [1, 3], [4, 6], [5, 7]]


def test_induced_norm_values():
    """Norm per sub-block with the field's bias shared by its sub-blocks."""
    rho = ind("o2", (None, -1), 2)
    t = ft("o2", [rho, rho])
    m = InducedNormNonLinearity(t)
    with torch.no_grad():
        m.log_bias.copy_(torch.tensor([0.2, -0.4]))
    x = torch.randn(2, 8, 3, 3)
    y = m(t(x)).tensor
    for f in range(2):
        for s in range(2):
            c = slice(4 * f + 2 * s, 4 * f + 2 * s + 2)
            n = x[:, c].norm(dim=1, keepdim=True)
            assert torch.allclose(y[:, c], (torch.relu(n - torch.exp(m.log_bias[f])) / n * x[:, c]).detach(), atol=1e-6)
    assert m.log_bias.shape == (2,)


def test_gated_values_and_pairing():
    gs = GS("so2")
    t = ft("so2", irr("so2", 1) + triv("so2") + irr("so2", 2) + triv("so2"))
    m = GatedNonLinearity1(t, gates=["gated", "gate", "gated", "gate"])
    with torch.no_grad():
        m.bias.copy_(torch.tensor([0.3, -0.2]))
    x = torch.randn(2, 6, 3, 3)
    y = m(t(x)).tensor
    assert m.out_type == ft("so2", irr("so2", 1, 2))
    assert torch.allclose(y[:, 0:2], x[:, 0:2] * torch.sigmoid(x[:, 2:3] - 0.3))
    assert torch.allclose(y[:, 2:4], x[:, 3:5] * torch.sigmoid(x[:, 5:6] + 0.2))
    keep = GatedNonLinearity1(t, gates=["gated", "gate", "gated", "gate"], drop_gates=False)
    with torch.no_grad():
        keep.bias.copy_(m.bias)
    yk = keep(t(x)).tensor
    assert keep.out_type == t
    assert torch.allclose(yk[:, 2:3], torch.sigmoid(x[:, 2:3] - 0.3))
    assert torch.allclose(yk[:, [0, 1, 3, 4]], y)
    # default: first half gates
    t2 = ft("so2", triv("so2", 2) + irr("so2", 1, 3))
    d = GatedNonLinearity1(t2)
    assert d.gates == ["gate", "gate", "gated", "gated"] and d.out_type == ft("so2", irr("so2", 1, 3))
    # gated2 with a tuple, with two arguments, and its export
    g2 = GatedNonLinearity2((ft("so2", triv("so2", 2)), ft("so2", irr("so2", 1, 2))))
    gx, xx = torch.randn(1, 2, 3, 3), torch.randn(1, 4, 3, 3)
    a = g2(g2.in_type[0](gx), g2.in_type[1](xx)).tensor
    b = g2((g2.in_type[0](gx), g2.in_type[1](xx))).tensor
    assert torch.equal(a, b)
    assert torch.allclose(a[:, 2:4], xx[:, 2:4] * torch.sigmoid(gx[:, 1:2]))
    assert torch.equal(g2.export()(gx, xx), a)
    assert g2.check_equivariance()
    assert gs is not None


def test_uniform_and_induced_gated_values():
    rho = directsum(triv("so2", 2) + irr("so2", 1, 3))
    t = ft("so2", [rho] * 2)
    m = GatedNonLinearityUniform(t)
    x = torch.randn(1, 12, 2, 2)
    y = m(t(x)).tensor
    assert m.bias.shape == (2, 2)
    v = x.view(1, 2, 6, 2, 2)
    expect = torch.cat([v[:, :, 2:4] * torch.sigmoid(v[:, :, 0:1]), v[:, :, 4:6] * torch.sigmoid(v[:, :, 1:2])], 2)
    assert torch.allclose(y, expect.reshape(1, 8, 2, 2))
    # induced: gate channel j multiplies sub-block j
    q, r = quot("d6", (None, 3)), ind("d6", (None, 3), 1)
    t = ft("d6", [q, r])
    m = InducedGatedNonLinearity1(t)
    x = torch.randn(1, 12, 2, 2)
    y = m(t(x)).tensor
    for j in range(4):
        assert torch.allclose(y[:, 2 * j : 2 * j + 2], x[:, 4 + 2 * j : 6 + 2 * j] * torch.sigmoid(x[:, j : j + 1]))


def test_concatenated_values_and_type():
    t = ft("d4", reg("d4") + triv("d4"))
    m = ConcatenatedNonLinearity(t)
    x = torch.randn(2, 9, 3, 3)
    y = m(t(x)).tensor
    assert torch.equal(y[:, 0::2], torch.relu(x)) and torch.equal(y[:, 1::2], torch.relu(-x))
    assert m.out_type.size == 18 and len(m.out_type) == 2
    for r in m.out_type.representations:
        assert "pointwise" in r.supported_nonlinearities
    # the output supports pointwise nonlinearities: chain a ReLU
    ReLU(m.out_type)(m(t(x)))
    G = GS("d4").fibergroup
    r = concatenated_representation(G.regular_representation)
    for g in G.elements:
        assert np.allclose(r(g), np.kron(G.regular_representation(g), np.eye(2)))


def test_vectorfield_values():
    t = ft("c8", reg("c8"))
    m = VectorFieldNonLinearity(t)
    x = torch.randn(4, 8, 3, 3)
    y = m(t(x)).tensor
    mx, k = x.max(1)
    ang = 2 * np.pi * k.double() / 8
    assert torch.allclose(y[:, 0], (torch.relu(mx) * torch.cos(ang)).float(), atol=1e-6)
    assert torch.allclose(y[:, 1], (torch.relu(mx) * torch.sin(ang)).float(), atol=1e-6)
    assert m.out_type == ft("c8", irr("c8", 1))
    # C2: the frequency-1 irrep is 1-dimensional (sign): relu(max)·cos(πk)
    t2 = ft("c2", reg("c2"))
    y2 = VectorFieldNonLinearity(t2)(t2(x[:, :2])).tensor
    mx2, k2 = x[:, :2].max(1)
    assert torch.allclose(y2[:, 0], torch.relu(mx2) * (1 - 2 * k2.float()))


def test_tensor_product_values_and_basis():
    G = sg.so3_group(2)
    # the symmetric basis spans the symmetric part of every intertwiner ρ⊗ρ → ρ_out
    for rin, rout in [
        (G.irrep(1), G.irrep(0)),
        (G.irrep(1), G.irrep(2)),
        (G.irrep(2), G.irrep(2)),
        (directsum([G.irrep(1), G.irrep(0)]), G.irrep(1)),
    ]:
        basis, iu, ju = symmetric_quadratic_basis(rin, rout)
        d = rin.size
        x = torch.as_tensor(np.random.default_rng(0).normal(size=d))
        for b in torch.as_tensor(basis):
            assert_equivariant(
                lambda z, b=b, iu=iu, ju=ju: b @ (z[iu] * z[ju]),
                inputs=x,
                in_type=rin,
                out_type=rout,
                elements=G.sample(3, seed=0),
                atol=1e-9,
                rtol=0,
            )
        hom = sg.homomorphism_space(rin.tensor(rin), rout)
        sym = (hom.reshape(-1, rout.size, d, d) + hom.reshape(-1, rout.size, d, d).transpose(0, 1, 3, 2)) / 2
        rank = np.linalg.matrix_rank(sym.reshape(len(sym), -1), tol=1e-8) if len(sym) else 0
        assert basis.shape[0] == rank
    b, _, _ = symmetric_quadratic_basis(G.irrep(1), G.irrep(1))
    assert b.shape[0] == 0  # Sym²(l=1) = l0 ⊕ l2
    # the module spans exactly the reference maps: same count, and its function lies in their span
    for gsn, rin, rout in [
        ("so3", irr("so3", 1), irr("so3", 0)),
        ("so3", irr("so3", 2), irr("so3", 2)),
        ("c4", reg("c4"), reg("c4")),
        ("o2", irr("o2", (1, 1)) + irr("o2", (1, 2)), irr("o2", (1, 2))),
        ("octa", reg("octa"), irr("octa", 2)),
        ("ico", irr("ico", 2), irr("ico", 2)),
    ]:
        rho_in, rho_out = directsum(rin), directsum(rout)
        t_in, t_out = ft(gsn, [rho_in]), ft(gsn, [rho_out])
        tp = TensorProductModule(t_in, t_out).double()
        ref, iu, ju = symmetric_quadratic_basis(rho_in, rho_out)
        assert tp.weights.numel() == ref.shape[0], gsn
        gs_dim = t_in.gspace.dimensionality
        z = torch.randn(64, rho_in.size, dtype=torch.float64)
        xin = z.reshape(64, rho_in.size, *([1] * gs_dim))
        y = tp(t_in(xin)).tensor.reshape(64, -1)  # (64, D_out)
        mono = (z[:, iu] * z[:, ju]).numpy()
        feats = np.einsum("kot,bt->kbo", ref, mono).reshape(ref.shape[0], -1).T  # (64*D_out, k)
        coef, *_ = np.linalg.lstsq(feats, y.detach().numpy().reshape(-1), rcond=None)
        assert np.abs(feats @ coef - y.detach().numpy().reshape(-1)).max() < 1e-9 * max(
            1, np.abs(y.detach().numpy()).max()
        )
    # an invariant of a vector field: c·|x|² with a learned c
    t_in, t_out = ft("so3", irr("so3", 1, 1)), ft("so3", irr("so3", 0, 2))
    tp = TensorProductModule(t_in, t_out).double()
    x = torch.randn(2, 6, 2, 2, 2, dtype=torch.float64)
    y = tp(t_in(x)).tensor
    ratio = y[:, 0:1] / x[:, 0:3].square().sum(1, keepdim=True)
    assert torch.allclose(ratio, ratio.flatten()[0].expand_as(ratio), atol=1e-12)
    # only some output irreps reachable: warning (those channels stay zero)
    with pytest.warns(UserWarning, match="always zero"):
        TensorProductModule(ft("so3", [directsum(irr("so3", 1))]), ft("so3", [directsum(irr("so3", 0, 1))]))
    # large fields build quickly (per-irreps-triple bases, no D² x D² matrices)
    import time

    t0 = time.perf_counter()
    big = ft("so3", reg("so3", 2))
    tp = TensorProductModule(big, big)
    assert time.perf_counter() - t0 < 10.0 and tp.weights.numel() > 0
    # zero init
    assert TensorProductModule(t_in, t_out, initialize=False).weights.abs().sum() == 0


# ------------------------------------------------------------------------------ errors
def test_construction_errors_pointwise():
    t_irr = ft("so2", irr("so2", 1))
    with pytest.raises(ValueError, match="in_type"):
        ReLU(t_irr)
    with pytest.raises(ValueError, match="in_type"):
        ELU(ft("c8", irr("c8", 1)))
    with pytest.raises(ValueError, match="in_type"):
        LeakyReLU(ft("so3", irr("so3", 1) + triv("so3")))
    with pytest.raises(ValueError, match="in_type"):
        PointwiseNonLinearity(ft("o2", irr("o2", (1, 1))), "p_relu")
    t = ft("c4", reg("c4"))
    with pytest.raises(ValueError, match="function"):
        PointwiseNonLinearity(t, "relu")
    with pytest.raises(TypeError, match="function"):
        PointwiseNonLinearity(t, 3)
    with pytest.raises(TypeError, match="in_type"):
        ReLU(GS("c4"))
    with pytest.raises(TypeError, match="inplace"):
        ReLU(t, inplace="yes")
    with pytest.raises(TypeError, match="alpha"):
        ELU(t, alpha="1")
    with pytest.raises(TypeError, match="negative_slope"):
        LeakyReLU(t, negative_slope=None)


def test_construction_errors_norm():
    t = ft("so2", irr("so2", 1, 2))
    with pytest.raises(ValueError, match="function"):
        NormNonLinearity(t, "relu")
    with pytest.raises(ValueError, match="bias"):
        NormNonLinearity(t, "squash")
    with pytest.raises(TypeError, match="bias"):
        NormNonLinearity(t, bias=1)
    # a non-orthogonal change of basis: norms are not invariant
    skew = change_basis(GS("so2").irrep(1), np.array([[1.0, 0.5], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="in_type"):
        NormNonLinearity(ft("so2", [skew]))
    # induced norm on irreps: no sub-block structure
    with pytest.raises(ValueError, match="in_type"):
        InducedNormNonLinearity(ft("so3", irr("so3", 1)))
    with pytest.raises(ValueError, match="in_type"):
        InducedNormNonLinearity(ft("o2", [ind("o2", (None, -1), 1)] + irr("o2", (1, 1))))
    with pytest.raises(ValueError, match="bias"):
        InducedNormNonLinearity(ft("o2", [ind("o2", (None, -1), 1)]), "squash")


def test_construction_errors_gated():
    so2 = "so2"
    t = ft(so2, triv(so2, 2) + irr(so2, 1))
    with pytest.raises(ValueError, match="gates"):
        GatedNonLinearity1(ft(so2, triv(so2) + irr(so2, 1, 2)))  # odd number of fields
    with pytest.raises(ValueError, match="gates"):
        GatedNonLinearity1(t, gates=["gate", "gate", "gated"])  # 2 gates, 1 gated
    with pytest.raises(ValueError, match="gates"):
        GatedNonLinearity1(t, gates=["gate", "gated"])  # wrong length
    with pytest.raises(ValueError, match="gates"):
        GatedNonLinearity1(ft(so2, triv(so2) + irr(so2, 1)), gates=["gate", "gaited"])
    with pytest.raises(TypeError, match="gates"):
        GatedNonLinearity1(ft(so2, triv(so2) + irr(so2, 1)), gates="gate")
    with pytest.raises(ValueError, match="in_type"):
        GatedNonLinearity1(ft(so2, irr(so2, 1, 2)))  # first half not trivial
    with pytest.raises(ValueError, match="in_type"):
        GatedNonLinearity1(ft("c4", reg("c4") + irr("c4", 1)))  # a regular field is not a gate
    with pytest.raises(TypeError, match="drop_gates"):
        GatedNonLinearity1(ft(so2, triv(so2) + irr(so2, 1)), drop_gates=None)
    # gated2
    with pytest.raises(ValueError, match="in_type"):
        GatedNonLinearity2((ft(so2, triv(so2, 2)), ft(so2, irr(so2, 1))))
    with pytest.raises(ValueError, match=r"in_type\[0\]"):
        GatedNonLinearity2((ft(so2, irr(so2, 1)), ft(so2, irr(so2, 1))))
    with pytest.raises(TypeError, match="in_type"):
        GatedNonLinearity2(ft(so2, triv(so2) + irr(so2, 1)))
    with pytest.raises(ValueError, match="in_type"):
        GatedNonLinearity2((ft(so2, triv(so2)), ft("c4", irr("c4", 1))))
    g2 = GatedNonLinearity2((ft(so2, triv(so2)), ft(so2, irr(so2, 1))))
    with pytest.raises(ValueError, match="input"):
        g2(g2.in_type[0](torch.randn(1, 1, 3, 3)), g2.in_type[1](torch.randn(1, 2, 4, 4)))
    with pytest.raises(ValueError, match="gates"):
        g2(g2.in_type[1](torch.randn(1, 2, 3, 3)), g2.in_type[1](torch.randn(1, 2, 3, 3)))
    # uniform
    with pytest.raises(ValueError, match="uniform"):
        GatedNonLinearityUniform(ft(so2, [directsum(triv(so2) + irr(so2, 1)), directsum(triv(so2) + irr(so2, 2))]))
    with pytest.raises(ValueError, match="even"):
        GatedNonLinearityUniform(ft(so2, [directsum(triv(so2) + irr(so2, 1, 2))]))
    with pytest.raises(ValueError, match="trivial"):
        GatedNonLinearityUniform(ft(so2, [directsum(irr(so2, 1) + triv(so2))]))
    rot = np.array([[1, 0, 0], [0, 0.6, -0.8], [0, 0.8, 0.6]])
    with pytest.raises(ValueError, match="identity"):
        GatedNonLinearityUniform(ft(so2, [change_basis(directsum(triv(so2) + irr(so2, 1)), rot)]))
    with pytest.raises(ValueError, match="even"):
        GatedNonLinearityUniform(ft("c4", reg("c4")))
    with pytest.raises(TypeError, match="gate"):
        GatedNonLinearityUniform(ft(so2, [directsum(triv(so2) + irr(so2, 1))]), gate="sigmoid")
    # induced gated: the quotient of another subgroup, or a gated irrep with a quotient gate
    with pytest.raises(ValueError, match="in_type"):
        InducedGatedNonLinearity1(ft("d6", [quot("d6", (None, 2)), ind("d6", (None, 3), 1)]))
    with pytest.raises(ValueError, match="in_type"):
        InducedGatedNonLinearity1(ft("o2", [quot("o2", (None, -1))] + irr("o2", (1, 1))))
    with pytest.raises(ValueError, match="in_type"):
        InducedGatedNonLinearity1(ft("so2", irr("so2", 1, 2)))  # an irrep is not a gate
    with pytest.raises(ValueError, match="gates"):
        InducedGatedNonLinearity1(
            ft("d6", [quot("d6", (None, 3))] * 2 + [ind("d6", (None, 3), 1)]), gates=["gate", "gate", "gated"]
        )


def test_construction_errors_other():
    with pytest.raises(ValueError, match="in_type"):
        ConcatenatedNonLinearity(ft("so2", irr("so2", 1)))
    with pytest.raises(ValueError, match="in_type"):
        ConcatenatedNonLinearity(ft("c8", irr("c8", 1)))  # 45° rotations: not a signed permutation
    # C4's frequency-1 irrep (the 90° rotation) is a signed permutation: escnn's 'concatenated' support
    assert max(e for _, e in ConcatenatedNonLinearity(ft("c4", irr("c4", 1))).check_equivariance()) < 1e-6
    with pytest.raises(ValueError, match="function"):
        ConcatenatedNonLinearity(ft("c4", reg("c4")), "relu")
    with pytest.raises(ValueError, match="in_type"):
        VectorFieldNonLinearity(ft("d4", reg("d4")))  # dihedral: no 'vectorfield'
    with pytest.raises(ValueError, match="in_type"):
        VectorFieldNonLinearity(ft("c8", irr("c8", 1)))
    with pytest.raises(ValueError, match="in_type"):
        VectorFieldNonLinearity(ft("so2", reg("so2")))  # SO(2)'s band-limited regular
    with pytest.warns(UserWarning, match="no effect"):  # escnn takes **kwargs and ignores them
        VectorFieldNonLinearity(ft("c8", reg("c8")), function="x")
    # tensor product
    with pytest.raises(ValueError, match="out_type"):
        TensorProductModule(ft("so3", irr("so3", 1, 2)), ft("so3", irr("so3", 0)))
    with pytest.raises(ValueError, match="out_type"):
        TensorProductModule(ft("so3", irr("so3", 1)), ft("so3", irr("so3", 1)))  # Sym²(1) has no l=1
    with pytest.raises(ValueError, match="out_type"):
        TensorProductModule(ft("o3", irr("o3", (1, 1))), ft("o3", irr("o3", (1, 0))))  # odd parity
    with pytest.raises(ValueError, match="out_type"):
        TensorProductModule(ft("c4", reg("c4")), ft("c8", reg("c8")))
    with pytest.raises(TypeError, match="out_type"):
        TensorProductModule(ft("c4", reg("c4")), reg("c4"))
    with pytest.raises(TypeError, match="initialize"):
        TensorProductModule(ft("c4", reg("c4")), ft("c4", reg("c4")), initialize=None)


@pytest.mark.parametrize(
    "name",
    [
        "relu/c4",
        "norm/so2",
        "gated1/so2",
        "concat/c4",
        "vectorfield/c8",
        "tp/c8",
        "uniform/so2",
        "inducedgated/d6",
        "inducednorm/o2",
    ],
)
def test_forward_input_checks(name):
    m = build(name)
    t = m.in_type
    with pytest.raises(TypeError, match="input"):
        m(torch.randn(1, t.size, 5, 5))
    other = nn.FieldType(t.gspace, list(t.representations) + [t.gspace.trivial_repr])
    with pytest.raises(ValueError, match="input"):
        m(other(torch.randn(1, other.size, 5, 5)))
    with pytest.raises(ValueError, match="input_shape"):
        m.evaluate_output_shape((1, t.size + 1, 5, 5))


def test_check_equivariance_method():
    """The base class's check_equivariance works on these modules."""
    for name in ["relu/c8", "norm/so2", "gated1/flip2d", "tp/so2", "vectorfield/c4", "concat/d4"]:
        errs = build(name).check_equivariance(spatial=5)
        assert errs and max(e for _, e in errs) < 1e-5


@pytest.mark.slow
@pytest.mark.parametrize("name", ["norm/c8-mixed", "gated1/o2-keep", "vectorfield/c8", "tp/c4-mixed"])
def test_compile_fullgraph(name):
    """Every forward traces under torch.compile(fullgraph=True) in training mode."""
    torch._dynamo.reset()
    m = build(name).train()
    xs = rand_inputs(m)

    def f(*ts):
        return m(*[x.type(t) for x, t in zip(xs, ts)]).tensor

    ts = [x.tensor for x in xs]
    out = torch.compile(f, fullgraph=True)(*ts)
    assert torch.allclose(out, f(*ts), atol=1e-5)
