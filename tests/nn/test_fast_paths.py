"""Fused fast paths: InnerBatchNorm's ``F.batch_norm`` forward against the reference formula
(and the generic ``_FieldBatchNorm`` path), GroupPooling's ``amax`` against ``max``."""

from __future__ import annotations

import copy

import pytest
import torch

from steerable import gspaces, nn
from steerable.nn import GroupPooling, InnerBatchNorm
from steerable.nn.norm._field_batchnorm import _FieldBatchNorm


def _types():
    gs = gspaces.rot2dOnR2(4)
    G = gs.fibergroup
    reg, triv, quot = gs.regular_repr, gs.trivial_repr, G.quotient_representation(2)
    return {
        "regular": nn.FieldType(gs, [reg] * 3),
        "mixed_runs": nn.FieldType(gs, [reg, triv, reg, quot]),
        # more runs of equal-size fields than the fused path takes one by one: grouped by size
        "interleaved": nn.FieldType(gs, [reg, triv, quot] * 4),
    }


TYPES = _types()
VARIANTS = {
    "default": {},
    "cumulative": {"momentum": None},
    "no_affine": {"affine": False},
    "no_stats": {"track_running_stats": False},
    "no_stats_cumulative": {"track_running_stats": False, "momentum": None},
}


def _reference(bn: InnerBatchNorm, x: torch.Tensor, state: dict) -> torch.Tensor:
    """InnerBatchNorm's definition field by field; updates ``state`` (running stats, count)."""
    out = torch.empty_like(x)
    use_batch = bn.training or not bn.track_running_stats
    if use_batch and bn.training and bn.track_running_stats:
        state["n"] += 1
    mom = (1.0 / state["n"] if bn.momentum is None else bn.momentum) if state["n"] else 0.0
    for f in range(len(bn.in_type)):
        a, e = int(bn.in_type.fields_start[f]), int(bn.in_type.fields_end[f])
        xf = x[:, a:e]
        if use_batch:
            mu, var = xf.mean(), xf.var(unbiased=False)
            if bn.training and bn.track_running_stats:
                n = xf.numel()
                state["mean"][f] = (1 - mom) * state["mean"][f] + mom * mu.detach()
                state["var"][f] = (1 - mom) * state["var"][f] + mom * var.detach() * n / (n - 1)
        else:
            mu, var = state["mean"][f], state["var"][f]
        y = (xf - mu) / torch.sqrt(var + bn.eps)
        if bn.affine:
            y = y * bn.weight.detach()[f] + bn.bias.detach()[f]
        out[:, a:e] = y
    return out


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("kind", list(TYPES))
def test_inner_batchnorm_fused_equals_definition_and_generic_path(kind, variant, dtype):
    t = TYPES[kind]
    torch.manual_seed(0)
    bn = InnerBatchNorm(t, **VARIANTS[variant]).to(dtype)
    if bn.affine:
        with torch.no_grad():
            bn.weight.uniform_(0.5, 2.0)
            bn.bias.normal_()
    generic = copy.deepcopy(bn)
    F_ = len(t)
    state = {"n": 0, "mean": torch.zeros(F_, dtype=dtype), "var": torch.ones(F_, dtype=dtype)}
    tol = dict(atol=1e-11, rtol=1e-11) if dtype == torch.float64 else dict(atol=2e-5, rtol=2e-5)
    for step in range(3):
        x = (3 * torch.randn(4, t.size, 5, 5, dtype=dtype) + step).requires_grad_(True)
        xg = x.detach().clone().requires_grad_(True)
        xr = x.detach().clone().requires_grad_(True)
        y = bn(t(x)).tensor
        yg = _FieldBatchNorm.forward(generic, t(xg)).tensor
        yr = _reference(bn, xr, state)
        torch.testing.assert_close(y, yr, **tol)
        torch.testing.assert_close(y, yg, **tol)
        g = torch.randn_like(y)
        y.backward(g)
        yg.backward(g)
        yr.backward(g)
        torch.testing.assert_close(x.grad, xr.grad, **tol)
        torch.testing.assert_close(x.grad, xg.grad, **tol)
        if bn.affine:
            torch.testing.assert_close(bn.weight.grad, generic.weight.grad, **tol)
            torch.testing.assert_close(bn.bias.grad, generic.bias.grad, **tol)
        if bn.track_running_stats:
            torch.testing.assert_close(bn.running_mean, state["mean"], **tol)
            torch.testing.assert_close(bn.running_var, state["var"], **tol)
            torch.testing.assert_close(bn.running_var, generic.running_var, **tol)
            assert int(bn.num_batches_tracked) == int(generic.num_batches_tracked) == step + 1
    assert list(bn.state_dict()) == list(generic.state_dict())
    bn.eval()
    x = torch.randn(3, t.size, 4, 4, dtype=dtype)
    y = bn(t(x)).tensor
    torch.testing.assert_close(y, _reference(bn, x, state), **tol)
    torch.testing.assert_close(y, _FieldBatchNorm.forward(generic.eval(), t(x)).tensor, **tol)
    if bn.track_running_stats:
        torch.testing.assert_close(bn.export()(x), y, **tol)
    assert list(bn.state_dict()) == list(generic.state_dict())


def test_inner_batchnorm_fused_without_base_space_and_empty_batch():
    gs = gspaces.no_base_space(gspaces.rot2dOnR2(4).fibergroup)
    t = nn.FieldType(gs, [gs.regular_repr] * 2 + [gs.trivial_repr])
    bn = InnerBatchNorm(t).double()
    generic = copy.deepcopy(bn)
    x = torch.randn(6, t.size, dtype=torch.float64)
    torch.testing.assert_close(bn(t(x)).tensor, _FieldBatchNorm.forward(generic, t(x)).tensor)
    torch.testing.assert_close(bn.running_var, generic.running_var)
    with pytest.raises(ValueError, match="more than one value"):
        bn(t(torch.randn(1, t.size, dtype=torch.float64)))
    bn.eval()
    assert bn(t(torch.randn(0, t.size, dtype=torch.float64))).shape == (0, t.size)


def test_inner_batchnorm_fused_compiles():
    t = TYPES["mixed_runs"]
    for kw in ({}, {"momentum": None}):
        bn = InnerBatchNorm(t, **kw)
        ref = copy.deepcopy(bn)
        f = torch.compile(lambda z, m=bn: m(t(z)).tensor, fullgraph=True, backend="eager")
        x = torch.randn(3, t.size, 4, 4)
        torch.testing.assert_close(f(x), ref(t(x)).tensor)
        torch.testing.assert_close(bn.running_var, ref.running_var)


@pytest.mark.parametrize("kind", list(TYPES))
def test_group_pooling_amax_equals_max_and_inplace_is_safe(kind):
    t = TYPES[kind]
    pool = GroupPooling(t)
    torch.manual_seed(1)
    x = torch.randn(2, t.size, 3, 3, requires_grad=True)
    ref = torch.stack([x[:, int(a) : int(e)].max(dim=1).values for a, e in zip(t.fields_start, t.fields_end)], dim=1)
    y = pool(t(x)).tensor
    torch.testing.assert_close(y, ref, atol=0, rtol=0)
    # no ties: the same gradient as max; an in-place ReLU after the pooling keeps backward intact
    torch.nn.functional.relu(y, inplace=True).sum().backward()
    xr = x.detach().clone().requires_grad_(True)
    torch.stack(
        [xr[:, int(a) : int(e)].max(dim=1).values for a, e in zip(t.fields_start, t.fields_end)], dim=1
    ).relu().sum().backward()
    torch.testing.assert_close(x.grad, xr.grad)
    torch.testing.assert_close(pool.export()(x.detach()), ref.detach(), atol=0, rtol=0)


def test_group_pooling_ties_share_the_gradient():
    gs = gspaces.rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    x = torch.tensor([1.0, 3.0, 3.0, 0.0]).reshape(1, 4, 1, 1).requires_grad_(True)
    GroupPooling(t)(t(x)).tensor.sum().backward()
    assert x.grad.flatten().tolist() == [0.0, 0.5, 0.5, 0.0]


def test_inner_batchnorm_fused_follows_batchnorm_warmup():
    """BatchNormWarmup sets momentum 1/(t+1) per step: the running stats average the batches."""
    from steerable.training import BatchNormWarmup

    t = TYPES["regular"]
    bn = InnerBatchNorm(t)
    warm = BatchNormWarmup(torch.nn.Sequential(bn))
    xs = [torch.randn(4, t.size, 3, 3) + k for k in range(3)]
    for x in xs:
        warm.step()
        bn(t(x))
    warm.restore()
    assert bn.momentum == 0.1
    spans = list(zip(t.fields_start.tolist(), t.fields_end.tolist()))
    means = torch.stack([torch.stack([x[:, a:e].mean() for x in xs]).mean() for a, e in spans])
    varis = torch.stack([torch.stack([x[:, a:e].var() for x in xs]).mean() for a, e in spans])  # unbiased
    torch.testing.assert_close(bn.running_mean, means)
    torch.testing.assert_close(bn.running_var, varis)
