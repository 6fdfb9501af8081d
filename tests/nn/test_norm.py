"""Tests of the normalisation modules (batch norms, FieldNorm, LayerNorm, InstanceNorm)."""

from __future__ import annotations

import copy
import functools
import pickle
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from steerable import group, gspaces
from steerable.group import change_basis
from steerable.nn import FieldType, GeometricTensor
from steerable.nn.norm import (
    FieldNorm,
    GNormBatchNorm,
    IIDBatchNorm1d,
    IIDBatchNorm2d,
    IIDBatchNorm3d,
    InducedNormBatchNorm,
    InnerBatchNorm,
    InstanceNorm,
    LayerNorm,
    NormBatchNorm,
)
from steerable.testing import assert_equivariant

SPATIAL = {0: (), 2: (9, 9), 3: (5, 5, 5)}

GSPACES = {
    "rot2d_4": lambda: gspaces.rot2dOnR2(4),
    "rot2d_8": lambda: gspaces.rot2dOnR2(8),
    "rot2d_so2": lambda: gspaces.rot2dOnR2(-1, maximum_frequency=4),
    "flipRot2d_4": lambda: gspaces.flipRot2dOnR2(4),
    "flipRot2d_o2": lambda: gspaces.flipRot2dOnR2(-1, maximum_frequency=4),
    "flip2d": lambda: gspaces.flip2dOnR2(),
    "rot3d": lambda: gspaces.rot3dOnR3(),
    "flipRot3d": lambda: gspaces.flipRot3dOnR3(),
    "octa": lambda: gspaces.octaOnR3(),
    "ico": lambda: gspaces.icoOnR3(),
    "c5_R0": lambda: gspaces.no_base_space(group.cyclic_group(5)),
    "so3_R0": lambda: gspaces.no_base_space(group.so3_group(2)),
    "o2_R0": lambda: gspaces.no_base_space(group.o2_group(3)),
}
# the subgroup (id, irreps of it) that induced representations are built from
INDUCED = {
    "flipRot2d_4": ((None, 4), [(1,), (2,)]),
    "flipRot2d_o2": ((None, -1), [(1,), (2,)]),
    "flipRot3d": ("so3", [(1,)]),
    "o2_R0": ((None, -1), [(1,), (2,)]),
}
QUOTIENT = {"flipRot2d_o2": (None, -1), "o2_R0": (None, -1), "flipRot3d": "so3"}


@functools.cache
def _gs(name: str):
    return GSPACES[name]()


def _nontrivial(G, n: int = 3):
    irreps = [G.irrep(*i) for i in G.bl_irreps(2)] if G.continuous else G.irreps()
    return [psi for psi in irreps if not psi.is_trivial()][:n]


def _regular(G):
    return G.bl_regular_representation(1) if G.continuous else G.regular_representation


@functools.cache
def ftype(name: str, kind: str) -> FieldType:
    gs = _gs(name)
    G = gs.fibergroup
    triv = G.trivial_representation
    nt = _nontrivial(G)
    nt1 = nt[1] if len(nt) > 1 else nt[0]
    if kind == "perm":  # permutation representations (InnerBatchNorm)
        if not G.continuous:
            reps = [G.regular_representation, triv, G.regular_representation]
        elif name in QUOTIENT:
            q = G.quotient_representation(QUOTIENT[name])
            reps = [q, triv, q]
        else:
            reps = [triv, triv, triv]
    elif kind == "notriv":  # trivial fields and fields free of trivial irreps (NormBatchNorm)
        reps = [nt[0], triv, nt1, nt[0], triv]
    elif kind == "induced":
        sid, ids = INDUCED[name]
        H = G.subgroup(sid)[0]
        ind = [G.induced_representation(sid, H.irrep(*i)) for i in ids]
        reps = [ind[0], ind[-1], ind[0]]
    elif kind == "mixed":  # everything orthogonal, repeated types non-contiguous
        reps = [triv, nt[0], _regular(G), nt1, _regular(G), triv]
    elif kind == "mixed_nt":  # no purely trivial field (FieldNorm would make it constant)
        reps = [nt[0], _regular(G), nt1, _regular(G)]
    elif kind == "gnorm":  # plus a non-orthogonal change of basis
        reg = _regular(G)
        rng = np.random.default_rng(0)
        q = np.eye(reg.size) + 0.1 * rng.standard_normal((reg.size, reg.size))  # well conditioned
        reps = [triv, nt[0], reg, change_basis(reg, q, name="skewed"), nt1, reg]
    else:
        raise KeyError(kind)
    return FieldType(gs, reps)


def _iid(t, **kw):
    return {0: IIDBatchNorm1d, 2: IIDBatchNorm2d, 3: IIDBatchNorm3d}[t.gspace.dimensionality](t, **kw)


# name -> (factory, field-type kind, gspaces)
ALL = list(GSPACES)
GRID = [n for n in ALL if not n.endswith("_R0")]
MODULES = {
    "InnerBatchNorm": (lambda t: InnerBatchNorm(t), "perm", ALL),
    "InnerBatchNorm-nostats": (
        lambda t: InnerBatchNorm(t, track_running_stats=False, momentum=None),
        "perm",
        ["rot2d_4", "octa", "c5_R0"],
    ),
    "NormBatchNorm": (lambda t: NormBatchNorm(t), "notriv", ALL),
    "InducedNormBatchNorm": (lambda t: InducedNormBatchNorm(t), "induced", list(INDUCED)),
    "GNormBatchNorm": (lambda t: GNormBatchNorm(t), "gnorm", ALL),
    "IIDBatchNorm": (lambda t: _iid(t), "mixed", ALL),
    "IIDBatchNorm-cumulative": (lambda t: _iid(t, momentum=None, affine=False), "mixed", ["flipRot2d_4", "so3_R0"]),
    "FieldNorm": (lambda t: FieldNorm(t), "mixed_nt", ALL),
    "LayerNorm": (lambda t: LayerNorm(t), "mixed", ALL),
    "InstanceNorm": (lambda t: InstanceNorm(t), "mixed", GRID),
    "InstanceNorm-tracked": (lambda t: InstanceNorm(t, track_running_stats=True), "mixed", GRID),
}
CASES = [(m, g) for m, (_, _, gss) in MODULES.items() for g in gss]


def _input(t: FieldType, gen: torch.Generator, batch: int = 3, dtype=torch.float32) -> GeometricTensor:
    shape = (batch, t.size) + SPATIAL[t.gspace.dimensionality]
    if t.gspace.dimensionality == 0:
        shape = (8, t.size)
    view = (1, t.size) + (1,) * (len(shape) - 2)
    x = torch.randn(*shape, generator=gen) * (0.5 + torch.rand(t.size, generator=gen)).reshape(view)
    x = x + torch.randn(t.size, generator=gen).reshape(view)
    return t(x.to(dtype))


def _build(module: str, gsname: str, seed: int = 0):
    factory, kind, _ = MODULES[module]
    t = ftype(gsname, kind)
    m = factory(t)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("weight"):
                p.copy_(0.5 + torch.rand(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen))
    m.train()
    for _ in range(3):
        m(_input(t, gen))
    return m, t, gen


def _max_rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item() / max(1.0, b.abs().max().item())


# ------------------------------------------------------------------------------------------
# equivariance, export, float64, pickle, determinism: every module × every gspace it supports
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("module,gsname", CASES, ids=[f"{m}-{g}" for m, g in CASES])
def test_module(module, gsname):
    m, t, gen = _build(module, gsname)
    G = t.gspace.fibergroup
    gx = _input(t, gen)
    elements = t.testing_elements
    assert len(elements) >= 2
    for mode in ("train", "eval"):
        m.train(mode == "train")
        assert_equivariant(m, inputs=gx, elements=elements)
        if G.continuous:  # random rotations applied to the fibres only (a global fibre transform)
            assert_equivariant(m, inputs=gx, elements=G.sample(3, seed=1), fibers_only=True)

    # state_dict: the same keys in train and eval mode, before and after a forward pass
    m.train()
    keys_train = list(m.state_dict())
    m(gx)
    m.eval()
    assert list(m.state_dict()) == keys_train
    assert all(not k.startswith("_") for k in keys_train)

    # export: a plain module computing the eval-mode function
    m.eval()
    ref = m(gx).tensor
    if module == "InnerBatchNorm-nostats":
        with pytest.raises(TypeError, match="track_running_stats"):
            m.export()
    else:
        exported = m.export()
        assert not any(
            type(s).__module__.startswith("steerable") and not type(s).__name__.startswith("_Plain")
            for s in exported.modules()
        )
        exported.eval()
        with torch.no_grad():
            got = exported(gx.tensor)
        assert _max_rel_err(got, ref) <= 1e-5

    # pickle / deepcopy
    for clone in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        clone.eval()
        assert torch.allclose(clone(gx).tensor, ref, atol=1e-6)
        assert list(clone.state_dict()) == keys_train

    # float64: the module and the input converted, still equivariant
    md = copy.deepcopy(m).double()
    gxd = gx.to(torch.float64)
    for mode in (True, False):
        md.train(mode)
        out = md(gxd)
        assert out.tensor.dtype == torch.float64
        assert_equivariant(md, inputs=gxd, elements=elements[:3], rtol=1e-10)

    # deterministic parameter/buffer order
    m2 = MODULES[module][0](t)
    assert [(n, p.shape) for n, p in m.named_parameters()] == [(n, p.shape) for n, p in m2.named_parameters()]
    assert [(n, b.shape) for n, b in m.named_buffers()] == [(n, b.shape) for n, b in m2.named_buffers()]
    assert m.evaluate_output_shape(gx.shape) == tuple(gx.shape)


# ------------------------------------------------------------------------------------------
# semantics: comparison with torch's own normalisation layers and with the definitions
# ------------------------------------------------------------------------------------------
def _trivial_type(n: int = 3, gsname: str = "rot2d_4") -> FieldType:
    gs = _gs(gsname)
    return FieldType(gs, [gs.trivial_repr] * n)


@pytest.mark.parametrize("cls", [InnerBatchNorm, NormBatchNorm, IIDBatchNorm2d, GNormBatchNorm])
def test_trivial_fields_equal_torch_batchnorm(cls):
    t = _trivial_type()
    gen = torch.Generator().manual_seed(0)
    m = cls(t, momentum=0.3)
    ref = torch.nn.BatchNorm2d(3, momentum=0.3)
    with torch.no_grad():
        w, b = 0.5 + torch.rand(3, generator=gen), torch.randn(3, generator=gen)
        m.weight.copy_(w)
        m.bias.copy_(b)
        ref.weight.copy_(w)
        ref.bias.copy_(b)
    for _ in range(3):
        x = _input(t, gen)
        assert torch.allclose(m(x).tensor, ref(x.tensor), atol=1e-5)
    assert torch.allclose(m.running_mean, ref.running_mean, atol=1e-6)
    assert torch.allclose(m.running_var, ref.running_var, atol=1e-6)
    assert int(m.num_batches_tracked) == int(ref.num_batches_tracked) == 3
    m.eval()
    ref.eval()
    x = _input(t, gen)
    assert torch.allclose(m(x).tensor, ref(x.tensor), atol=1e-5)


def test_inner_batchnorm_matches_escnn_layout():
    """escnn's InnerBatchNorm = BatchNorm3d on the view (B, fields, |field|, H, W)."""
    gs = _gs("rot2d_8")
    t = FieldType(gs, [gs.regular_repr] * 3)
    gen = torch.Generator().manual_seed(0)
    m = InnerBatchNorm(t)
    ref = torch.nn.BatchNorm3d(3)
    with torch.no_grad():
        w, b = 0.5 + torch.rand(3, generator=gen), torch.randn(3, generator=gen)
        m.weight.copy_(w)
        m.bias.copy_(b)
        ref.weight.copy_(w)
        ref.bias.copy_(b)
    for train in (True, True, False):
        m.train(train)
        ref.train(train)
        x = _input(t, gen)
        got = m(x).tensor
        want = ref(x.tensor.reshape(3, 3, 8, 9, 9)).reshape(3, 24, 9, 9)
        assert torch.allclose(got, want, atol=1e-5)
    assert torch.allclose(m.running_var, ref.running_var, atol=1e-6)
    assert torch.allclose(m.running_mean, ref.running_mean, atol=1e-6)


def test_norm_batchnorm_definition():
    gs = _gs("rot2d_so2")
    t = FieldType(gs, [gs.irrep(1), gs.irrep(2)])
    m = NormBatchNorm(t, affine=False)
    x = _input(t, torch.Generator().manual_seed(0))
    y = m(x).tensor
    v = x.tensor
    for a, b in ((0, 2), (2, 4)):
        var = (v[:, a:b] ** 2).sum(1).mean() / 2
        assert torch.allclose(y[:, a:b], v[:, a:b] / torch.sqrt(var + 1e-5), atol=1e-5)
        n = v.shape[0] * 81
        assert torch.allclose(m.running_var[a // 2], 0.9 + 0.1 * var * n / (n - 1), atol=1e-6)
    # eval mode uses the running statistics, not the batch
    m2 = NormBatchNorm(t, affine=False).eval()
    assert torch.allclose(m2(x).tensor, v / np.sqrt(1 + 1e-5), atol=1e-6)


def test_induced_equals_norm_batchnorm():
    gs = _gs("flipRot2d_o2")
    t = ftype("flipRot2d_o2", "induced")
    a, b = InducedNormBatchNorm(t), NormBatchNorm(t)
    assert a.subfield_sizes == (2, 2, 2)
    x = _input(t, torch.Generator().manual_seed(0))
    assert torch.allclose(a(x).tensor, b(x).tensor, atol=1e-6)
    assert torch.allclose(a.running_var, b.running_var)
    assert isinstance(gs, type(t.gspace))


def test_gnorm_equals_iid_on_irrep_fields():
    """With every field a single irrep, per-irrep statistics are per-field statistics."""
    gs = _gs("flipRot2d_4")
    G = gs.fibergroup
    t = FieldType(gs, list(G.irreps()))
    a, b = GNormBatchNorm(t), IIDBatchNorm2d(t)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        w = 0.5 + torch.rand(a.weight.shape, generator=gen)
        a.weight.copy_(w)
        b.weight.copy_(w)
        a.bias.fill_(0.7)
        b.bias.fill_(0.7)
    for _ in range(2):
        x = _input(t, gen)
        assert torch.allclose(a(x).tensor, b(x).tensor, atol=1e-5)
    assert torch.allclose(a.running_var, b.running_var, atol=1e-6)
    assert torch.allclose(a.running_mean, b.running_mean, atol=1e-6)


def test_gnorm_normalises_each_irrep_block():
    gs = _gs("rot2d_8")
    t = FieldType(gs, [gs.regular_repr])
    m = GNormBatchNorm(t, affine=False)
    x = _input(t, torch.Generator().manual_seed(0), batch=16)
    y = m(x).tensor
    q = torch.as_tensor(np.array(gs.regular_repr.change_of_basis_inv), dtype=torch.float32)
    z = torch.einsum("ij,bj...->bi...", q, y)
    start = 0
    for i in gs.regular_repr.irreps:
        d = gs.fibergroup.irrep(*i).size
        block = z[:, start : start + d]
        if i == (0,):
            assert abs(block.mean().item()) < 1e-5
        assert abs((block**2).sum(1).mean().item() / d - 1) < 1e-3
        start += d


def test_iid_definition_and_cumulative_momentum():
    gs = _gs("rot2d_4")
    t = FieldType(gs, [gs.regular_repr])
    m = IIDBatchNorm2d(t, momentum=None, affine=False)
    gen = torch.Generator().manual_seed(0)
    xs = [_input(t, gen) for _ in range(2)]
    unb = []
    for x in xs:
        v = x.tensor
        mu = v.mean(dim=(0, 1, 2, 3))  # trivial component of the regular rep of C4: the channel mean
        c = v - mu
        var = (c**2).mean(dim=(0, 2, 3)).mean()
        n = v.shape[0] * 81
        unb.append(var * n / (n - 1))
        assert torch.allclose(m(x).tensor, c / torch.sqrt(var + 1e-5), atol=1e-5)
    assert torch.allclose(m.running_var, (unb[0] + unb[1]) / 2, atol=1e-6)


def test_fieldnorm_definition():
    gs = _gs("rot2d_8")
    t = FieldType(gs, [gs.regular_repr, gs.irrep(1)])
    m = FieldNorm(t, affine=False, eps=1e-9)
    x = _input(t, torch.Generator().manual_seed(0))
    y = m(x).tensor
    v = x.tensor
    c = v[:, :8] - v[:, :8].mean(1, keepdim=True)  # the trivial projection of a regular field
    assert torch.allclose(y[:, :8], c / torch.sqrt((c**2).mean(1, keepdim=True)), atol=1e-4)
    assert torch.allclose(y[:, 8:], v[:, 8:] / torch.sqrt((v[:, 8:] ** 2).mean(1, keepdim=True)), atol=1e-4)
    m.train()
    assert torch.allclose(m(x).tensor, y)  # no running statistics: train = eval


def test_layernorm_equals_torch_on_trivial_fields():
    t = _trivial_type(4)
    m = LayerNorm(t)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        m.weight.copy_(0.5 + torch.rand(4, generator=gen))
        m.bias.copy_(torch.randn(4, generator=gen))
    x = _input(t, gen)
    shape = x.tensor.shape[1:]
    want = F.layer_norm(
        x.tensor, shape, m.weight[:, None, None].expand(shape), m.bias[:, None, None].expand(shape), eps=1e-5
    )
    assert torch.allclose(m(x).tensor, want, atol=1e-5)
    m.eval()
    assert torch.allclose(m(x).tensor, want, atol=1e-5)


def test_layernorm_definition():
    gs = _gs("rot2d_4")
    t = FieldType(gs, [gs.regular_repr, gs.irrep(1)])
    m = LayerNorm(t, affine=False, eps=1e-9)
    x = _input(t, torch.Generator().manual_seed(0))
    v = x.tensor
    # the one trivial coefficient is <1,x_reg>/2; its sample mean is removed from the regular field
    mu = (v[:, :4].sum(1) / 2).mean(dim=(1, 2))
    c = v.clone()
    c[:, :4] -= (mu / 2)[:, None, None, None]
    sigma2 = (c**2).sum(1).mean(dim=(1, 2)) / 6  # mean square per channel (4 + 2 channels) and grid point
    assert torch.allclose(m(x).tensor, c / sigma2.sqrt()[:, None, None, None], atol=1e-5)


def test_instancenorm_equals_torch_on_trivial_fields():
    t = _trivial_type(3)
    gen = torch.Generator().manual_seed(0)
    m = InstanceNorm(t, track_running_stats=True, momentum=0.2)
    ref = torch.nn.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=0.2)
    with torch.no_grad():
        w, b = 0.5 + torch.rand(3, generator=gen), torch.randn(3, generator=gen)
        m.weight.copy_(w)
        m.bias.copy_(b)
        ref.weight.copy_(w)
        ref.bias.copy_(b)
    for _ in range(2):
        x = _input(t, gen)
        assert torch.allclose(m(x).tensor, ref(x.tensor), atol=1e-5)
    assert torch.allclose(m.running_mean, ref.running_mean, atol=1e-6)
    assert torch.allclose(m.running_var, ref.running_var, atol=1e-6)
    m.eval()
    ref.eval()
    x = _input(t, gen)
    assert torch.allclose(m(x).tensor, ref(x.tensor), atol=1e-5)
    untracked = InstanceNorm(t, affine=False)
    assert torch.allclose(untracked.eval()(x).tensor, F.instance_norm(x.tensor, eps=1e-5), atol=1e-5)


def test_instancenorm_definition():
    gs = _gs("rot2d_so2")
    t = FieldType(gs, [gs.irrep(1)])
    m = InstanceNorm(t, affine=False, eps=1e-9)
    x = _input(t, torch.Generator().manual_seed(0))
    v = x.tensor
    var = (v**2).sum(1).mean(dim=(1, 2)) / 2  # mean square per channel of the 2-channel field
    assert torch.allclose(m(x).tensor, v / var.sqrt()[:, None, None, None], atol=1e-5)


def test_train_uses_batch_eval_uses_running_statistics():
    t = ftype("rot2d_4", "mixed")
    m = IIDBatchNorm2d(t)
    x = _input(t, torch.Generator().manual_seed(0))
    m.eval()
    assert torch.allclose(m(x).tensor, x.tensor / np.sqrt(1 + 1e-5), atol=1e-6)  # fresh running stats
    assert int(m.num_batches_tracked) == 0
    m.train()
    y = m(x).tensor
    assert int(m.num_batches_tracked) == 1
    assert not torch.allclose(y, x.tensor / np.sqrt(1 + 1e-5), atol=1e-3)
    m.reset_running_stats()
    assert int(m.num_batches_tracked) == 0 and torch.all(m.running_var == 1)


def test_gradients_flow():
    t = ftype("flipRot2d_4", "mixed")
    for m in (IIDBatchNorm2d(t), GNormBatchNorm(t), LayerNorm(t), InstanceNorm(t)):
        x = _input(t, torch.Generator().manual_seed(0))
        x.tensor.requires_grad_(True)
        m(x).tensor.pow(2).sum().backward()
        assert x.tensor.grad is not None and torch.isfinite(x.tensor.grad).all()
        assert all(p.grad is not None for p in m.parameters())


def test_point_cloud_and_vector_inputs():
    gs = _gs("so3_R0")
    t = ftype("so3_R0", "mixed")
    x = _input(t, torch.Generator().manual_seed(0))
    assert x.shape == (8, t.size)
    for m in (IIDBatchNorm1d(t), GNormBatchNorm(t), LayerNorm(t), NormBatchNorm(ftype("so3_R0", "notriv"))):
        xi = x if m.in_type == t else _input(m.in_type, torch.Generator().manual_seed(0))
        assert m(xi).shape == xi.shape
    # (B, C, L) inputs for IIDBatchNorm1d, like torch.nn.BatchNorm1d
    m = IIDBatchNorm1d(t).eval()
    xl = t(torch.randn(4, t.size, 6))
    assert torch.allclose(m.export()(xl.tensor), m(xl).tensor, atol=1e-6)
    assert gs.dimensionality == 0


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------
def test_inner_rejects_non_permutation_fields():
    gs = _gs("rot2d_so2")
    t = FieldType(gs, [gs.irrep(1)])
    with pytest.raises(ValueError, match="in_type"):
        InnerBatchNorm(t)
    G = _gs("flipRot2d_4").fibergroup
    fake = change_basis(G.irrep(1, 1), np.eye(2), name="fake", supported_nonlinearities={"pointwise"})
    with pytest.raises(ValueError, match="in_type.*permutation"):
        InnerBatchNorm(FieldType(_gs("flipRot2d_4"), [fake]))


def test_norm_batchnorms_reject_bad_fields():
    gs = _gs("rot2d_4")
    with pytest.raises(ValueError, match="in_type.*trivial"):
        NormBatchNorm(FieldType(gs, [gs.regular_repr]))
    with pytest.raises(ValueError, match="in_type.*trivial"):
        InducedNormBatchNorm(FieldType(gs, [gs.regular_repr]))
    so2 = _gs("rot2d_so2")
    with pytest.raises(ValueError, match="in_type.*induced"):
        InducedNormBatchNorm(FieldType(so2, [so2.irrep(1)]))


@pytest.mark.parametrize("cls", [NormBatchNorm, IIDBatchNorm2d, FieldNorm, LayerNorm, InstanceNorm])
def test_non_orthogonal_rejected_by_norm_based_modules(cls):
    gs = _gs("rot2d_so2")
    skew = change_basis(gs.irrep(1), np.array([[1.0, 0.5], [0.0, 1.0]]), name="skew")
    with pytest.raises(ValueError, match="in_type.*orthogonal"):
        cls(FieldType(gs, [skew]))


def test_iid_dimension_checks():
    with pytest.raises(ValueError, match="in_type"):
        IIDBatchNorm2d(ftype("octa", "mixed"))
    with pytest.raises(ValueError, match="in_type"):
        IIDBatchNorm3d(ftype("rot2d_4", "mixed"))
    with pytest.raises(ValueError, match="in_type"):
        IIDBatchNorm1d(ftype("rot2d_4", "mixed"))
    with pytest.raises(ValueError, match="in_type"):
        IIDBatchNorm2d(ftype("c5_R0", "mixed"))
    with pytest.raises(ValueError, match="in_type.*no_base_space"):
        InstanceNorm(ftype("c5_R0", "mixed"))


ALL_CLASSES = [
    InnerBatchNorm,
    NormBatchNorm,
    InducedNormBatchNorm,
    GNormBatchNorm,
    IIDBatchNorm2d,
    FieldNorm,
    LayerNorm,
    InstanceNorm,
]


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_argument_types(cls):
    with pytest.raises(TypeError, match="in_type"):
        cls([1, 2, 3])
    t = _trivial_type(2) if cls is not InducedNormBatchNorm else ftype("flipRot2d_4", "induced")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="eps"):
            cls(t, eps=0.0)
        with pytest.raises(TypeError, match="eps"):
            cls(t, eps="small")
        with pytest.raises(TypeError, match="affine"):
            cls(t, affine="yes")
        if cls not in (FieldNorm, LayerNorm):
            with pytest.raises(ValueError, match="momentum"):
                cls(t, momentum=1.5)
        m = cls(t)
    with pytest.raises(TypeError, match="input"):
        m(torch.randn(2, t.size, 5, 5))
    other = FieldType(t.gspace, list(t.representations) + [t.gspace.trivial_repr])
    with pytest.raises(ValueError, match="input"):
        m(other(torch.randn(2, other.size, 5, 5)))
    with pytest.raises(ValueError, match="input_shape"):
        m.evaluate_output_shape((2, t.size + 1, 5, 5))


def test_degenerate_inputs_and_warnings():
    t = _trivial_type(2)
    with pytest.warns(UserWarning, match="trivial"):
        FieldNorm(t)
    with pytest.raises(ValueError, match="more than one"):
        InstanceNorm(t)(t(torch.randn(2, 2, 1, 1)))
    t0 = FieldType(_gs("c5_R0"), [_gs("c5_R0").trivial_repr])
    with pytest.raises(ValueError, match="more than one"):
        IIDBatchNorm1d(t0)(t0(torch.randn(1, 1)))
    with pytest.raises(ValueError, match="batch axis"):
        LayerNorm(t0)(t0(torch.randn(1)))
    with pytest.raises(TypeError, match="track_running_stats"):
        _iid(ftype("rot2d_4", "mixed"), track_running_stats=False).export()
