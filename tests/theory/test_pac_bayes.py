"""PAC-Bayes bounds: irrep-block norms against brute force, basis invariance, margin monotonicity."""

import math

import numpy as np
import pytest
import torch

from steerable import gspaces, nn
from steerable.group import change_basis, so3_group
from steerable.theory import (
    conv_operator_norm,
    irrep_blocks,
    margins,
    matrix_irrep_blocks,
    nbs18_bound,
    pac_bayes_bound,
)
from steerable.theory._layers import affine_layer


def _dense_operator(layer, shape):
    """The dense matrix of a linear layer on inputs of ``shape`` (brute force)."""
    n = int(np.prod(shape[1:]))
    eye = torch.eye(n, dtype=torch.float64).reshape(n, *shape[1:])
    with torch.no_grad():
        out = layer(layer.in_type(eye)).tensor if isinstance(layer, nn.EquivariantModule) else layer(eye)
    return out.reshape(n, -1).T


def _types(name):
    if name == "so3":
        gs = gspaces.no_base_space(so3_group(2))
        return (
            nn.FieldType(gs, [gs.irrep(0), gs.irrep(1), gs.irrep(2), gs.irrep(1)]),
            nn.FieldType(gs, [gs.irrep(1), gs.irrep(0), gs.irrep(2)] * 2),
        )
    group = gspaces.rot2dOnR2(6).fibergroup if name == "c6" else gspaces.flipRot2dOnR2(4).fibergroup
    gs = gspaces.no_base_space(group)
    return (nn.FieldType(gs, [gs.regular_repr] + [gs.trivial_repr] * 2), nn.FieldType(gs, [gs.regular_repr] * 2))


@pytest.mark.parametrize("name", ["so3", "c6", "d4"])
def test_linear_irrep_blocks_match_dense_norms(name):
    torch.manual_seed(0)
    t_in, t_out = _types(name)
    lin = nn.Linear(t_in, t_out, bias=False).double()
    w = lin.expand_parameters()[0].detach()
    blocks = irrep_blocks(lin)
    assert max(b.spectral_norm for b in blocks) == pytest.approx(torch.linalg.matrix_norm(w, 2).item(), rel=1e-9)
    assert sum(b.dim * b.frobenius_norm**2 for b in blocks) == pytest.approx(w.norm().item() ** 2, rel=1e-9)


def test_complex_irreps_give_complex_blocks():
    gs = gspaces.no_base_space(gspaces.rot2dOnR2(5).fibergroup)
    t = nn.FieldType(gs, [gs.regular_repr] * 3)
    blocks = irrep_blocks(nn.Linear(t, t, bias=False))
    types = {b.type for b in blocks}
    assert "C" in types and all(np.iscomplexobj(b.matrix) for b in blocks if b.type == "C")
    assert all((b.m_out, b.m_in) == (3, 3) for b in blocks)


def test_non_equivariant_matrix_is_rejected():
    gs = gspaces.no_base_space(gspaces.rot2dOnR2(4).fibergroup)
    t = nn.FieldType(gs, [gs.regular_repr])
    with pytest.raises(ValueError, match="not equivariant"):
        matrix_irrep_blocks(np.random.default_rng(0).normal(size=(4, 4)), t, t)


def _basis_columns(layer):
    """The layer's dense weight (filter or matrix) for each unit weight vector, as columns."""
    cols = []
    for j in range(layer.weights.numel()):
        w = torch.zeros_like(layer.weights)
        w[j] = 1.0
        with torch.no_grad():
            layer.weights.copy_(w)
        cols.append(layer.expand_parameters()[0].detach().reshape(-1).double())
    return torch.stack(cols, 1)


def test_linear_tail_variance_matches_brute_force_projection():
    """v from multiplicities = ‖Σ_k T_k T_kᵀ‖ over an orthonormal basis of all intertwiners."""
    gs = gspaces.no_base_space(gspaces.flipRot2dOnR2(3).fibergroup)
    t_in = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    t_out = nn.FieldType(gs, [gs.regular_repr] * 2)
    lin = nn.Linear(t_in, t_out, bias=False).double()
    q, _ = torch.linalg.qr(_basis_columns(lin))
    mats = q.T.reshape(-1, t_out.size, t_in.size)
    v = max(
        torch.linalg.matrix_norm(torch.einsum("kij,klj->il", mats, mats), 2).item(),
        torch.linalg.matrix_norm(torch.einsum("kji,kjl->il", mats, mats), 2).item(),
    )
    term = affine_layer(lin, "lin", (1, t_in.size), (1, t_out.size), "equivariant")
    assert term.variance == pytest.approx(v, rel=1e-9)
    dense = affine_layer(lin, "lin", (1, t_in.size), (1, t_out.size), "dense")
    assert dense.variance == max(t_in.size, t_out.size) > term.variance


def _conv(gs, padding_mode="circular", k=3, dilation=1):
    t_in = nn.FieldType(gs, [gs.trivial_repr, gs.regular_repr])
    t_out = nn.FieldType(gs, [gs.regular_repr] * 2)
    pad = dilation * (k // 2)
    return nn.R2Conv(t_in, t_out, k, padding=pad, padding_mode=padding_mode, dilation=dilation, bias=False).double()


@pytest.mark.parametrize("gs", [gspaces.rot2dOnR2(4), gspaces.flipRot2dOnR2(2)], ids=["c4", "d2"])
def test_conv_frequency_norm_equals_dense_operator(gs):
    torch.manual_seed(1)
    conv = _conv(gs)
    shape = (1, conv.in_type.size, 6, 6)
    dense = _dense_operator(conv, shape)
    f = conv.expand_parameters()[0].detach()
    assert conv_operator_norm(f, (1, 1), (6, 6)) == pytest.approx(torch.linalg.matrix_norm(dense, 2).item(), rel=1e-9)
    term = affine_layer(conv, "c", shape, (1, conv.out_type.size, 6, 6), "equivariant")
    assert term.spectral_norm == pytest.approx(torch.linalg.matrix_norm(dense, 2).item(), rel=1e-9)


def test_conv_zero_padding_and_stride_are_upper_bounds():
    torch.manual_seed(2)
    conv = _conv(gspaces.rot2dOnR2(4), padding_mode="zeros", dilation=2)
    shape = (1, conv.in_type.size, 7, 7)
    dense = _dense_operator(conv, shape)
    term = affine_layer(conv, "c", shape, (1, conv.out_type.size, 7, 7), "equivariant")
    exact = torch.linalg.matrix_norm(dense, 2).item()
    assert exact <= term.spectral_norm + 1e-9 and term.spectral_norm < 1.5 * exact


def test_conv_tail_variance_matches_brute_force():
    """The basis-assembled variance equals ‖Σ_k T_k T_kᵀ‖ of the dense operators (circular)."""
    gs = gspaces.rot2dOnR2(4)
    t_in = nn.FieldType(gs, [gs.trivial_repr, gs.regular_repr])
    t_out = nn.FieldType(gs, [gs.regular_repr, gs.irrep(1)])
    conv = nn.R2Conv(t_in, t_out, 3, padding=1, padding_mode="circular", bias=False).double()
    shape = (1, t_in.size, 5, 5)
    q, _ = torch.linalg.qr(_basis_columns(conv))
    ops = []
    for k in range(q.shape[1]):
        with torch.no_grad():
            ref = torch.nn.Conv2d(t_in.size, t_out.size, 3, padding=1, padding_mode="circular", bias=False).double()
            ref.weight.copy_(q[:, k].reshape(ref.weight.shape))
        ops.append(_dense_operator(ref, shape))
    ops = torch.stack(ops)
    v = max(
        torch.linalg.matrix_norm(torch.einsum("kij,klj->il", ops, ops), 2).item(),
        torch.linalg.matrix_norm(torch.einsum("kji,kjl->il", ops, ops), 2).item(),
    )
    term = affine_layer(conv, "c", shape, (1, t_out.size, 5, 5), "equivariant")
    assert term.variance == pytest.approx(v, rel=1e-8)
    assert affine_layer(conv, "c", shape, (1, t_out.size, 5, 5), "dense").variance == 9 * max(t_in.size, t_out.size)


def _net(gs, seed=0, basis=None):
    torch.manual_seed(seed)
    t0 = nn.FieldType(gs, [gs.trivial_repr])
    reg = gs.regular_repr if basis is None else basis
    t1 = nn.FieldType(gs, [reg] * 3)
    pool = nn.GroupPooling(t1)
    return nn.SequentialModule(
        nn.R2Conv(t0, t1, 3, padding=1),
        nn.ReLU(t1),
        nn.PointwiseMaxPool2D(t1, 2),
        nn.R2Conv(t1, t1, 3, padding=1, bias=False),
        nn.ELU(t1),
        pool,
        nn.PointwiseAdaptiveAvgPool2D(pool.out_type, 1),
    )


def _data(n=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 3, (n,), generator=g)


def _linear_net(gs, rep):
    t0, t1 = nn.FieldType(gs, [gs.trivial_repr]), nn.FieldType(gs, [rep] * 3)
    pool = nn.NormPool(t1)
    return nn.SequentialModule(
        nn.R2Conv(t0, t1, 3, padding=1, bias=False),
        nn.R2Conv(t1, t1, 3, padding=1, bias=False),
        pool,
        nn.PointwiseAdaptiveAvgPool2D(pool.out_type, 1),
    )


def _fit_weights(conv, target):
    """Weights of ``conv`` whose filter is ``target`` (which lies in its basis span)."""
    sol = torch.linalg.lstsq(_basis_columns(conv), target.reshape(-1, 1).double()).solution[:, 0]
    with torch.no_grad():
        conv.weights.copy_(sol.to(conv.weights.dtype))
    assert torch.allclose(conv.expand_parameters()[0].double(), target.double(), atol=1e-5)


def test_bound_is_invariant_to_an_orthogonal_change_of_basis_of_the_fields():
    gs = gspaces.rot2dOnR2(4)
    torch.manual_seed(4)
    q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(4, 4)))
    a = _linear_net(gs, gs.regular_repr)
    b = _linear_net(gs, change_basis(gs.regular_repr, q, "rotated_regular"))
    tq = torch.block_diag(*[torch.as_tensor(q)] * 3)  # hidden features of b = tq · features of a
    ca, cb = list(a.children()), list(b.children())
    with torch.no_grad():
        f0, f1 = ca[0].expand_parameters()[0].double(), ca[1].expand_parameters()[0].double()
    _fit_weights(cb[0], torch.einsum("oi,i...->o...", tq, f0))
    _fit_weights(cb[1], torch.einsum("oi,ij...,kj->ok...", tq, f1, tq))
    x, y = _data()
    assert torch.allclose(a(a.in_type(x)).tensor, b(b.in_type(x)).tensor, atol=1e-4)
    r1, r2 = pac_bayes_bound(a, (x, y), margin=0.01), pac_bayes_bound(b, (x, y), margin=0.01)
    assert r1.bound == pytest.approx(r2.bound, rel=1e-4) and r1.kl == pytest.approx(r2.kl, rel=1e-4)
    for t1, t2 in zip(r1.layers, r2.layers):
        if hasattr(t1, "variance"):
            assert t1.spectral_norm == pytest.approx(t2.spectral_norm, rel=1e-5)
            assert t1.variance == pytest.approx(t2.variance, rel=1e-6)


def test_bound_terms_are_monotone_in_the_margin():
    net, data = _net(gspaces.rot2dOnR2(4)), _data()
    rs = [pac_bayes_bound(net, data, margin=g) for g in (1e-3, 1e-2, 1e-1, 1.0)]
    comps = [r.complexity for r in rs]
    losses = [r.empirical_margin_loss for r in rs]
    assert all(a >= b for a, b in zip(comps, comps[1:])) and comps[0] > comps[-1]
    assert all(a <= b for a, b in zip(losses, losses[1:]))


def test_equivariant_bound_is_tighter_than_nbs18_on_the_same_network():
    net, data = _net(gspaces.rot2dOnR2(8)), _data()
    eq, dense = pac_bayes_bound(net, data, test_data=_data(seed=1)), nbs18_bound(net, data)
    assert eq.complexity < dense.complexity
    assert eq.kl > 0 and math.isfinite(eq.bound) and eq.sigma > dense.sigma
    assert 0 <= eq.test_error <= 1 and eq.gap == eq.test_error - eq.train_error
    # the same weights give the same norms in both
    for a, b in zip(eq.layers, dense.layers):
        if hasattr(a, "variance"):
            assert a.spectral_norm == pytest.approx(b.spectral_norm) and a.variance < b.variance


def test_exported_network_gives_the_same_nbs18_bound():
    net, data = _net(gspaces.rot2dOnR2(4)), _data()
    leaves = [
        m.export()
        if isinstance(m, (nn.R2Conv, nn.ReLU, nn.ELU, nn.PointwiseMaxPool2D, nn.PointwiseAdaptiveAvgPool2D))
        else m
        for m in net.children()
    ]
    plain = torch.nn.Sequential(*[m if not isinstance(m, nn.GroupPooling) else nn.MaxPoolChannels(4) for m in leaves])
    a = nbs18_bound(net, data, margin=0.05)
    b = nbs18_bound(plain, data, margin=0.05)
    assert a.bound == pytest.approx(b.bound, rel=1e-6)


def test_margins_and_bound_report_fields():
    net, (x, y) = _net(gspaces.rot2dOnR2(4)), _data()
    mg = margins(net, (x, y))
    r = pac_bayes_bound(net, (x, y))
    assert np.allclose(r.margins, mg) and r.m == len(y)
    assert r.train_error == pytest.approx(np.mean(mg <= 0))
    assert r.bound >= r.empirical_margin_loss and r.margin > 0
    loader = [(x[:30], y[:30]), (x[30:], y[30:])]
    assert pac_bayes_bound(net, loader, margin=r.margin).bound == pytest.approx(
        pac_bayes_bound(net, (x, y), margin=r.margin).bound
    )


def test_bad_inputs_are_rejected_at_the_boundary():
    net, data = _net(gspaces.rot2dOnR2(4)), _data()
    with pytest.raises(ValueError, match="delta"):
        pac_bayes_bound(net, data, delta=1.5)
    with pytest.raises(ValueError, match="margin"):
        pac_bayes_bound(net, data, margin=-1.0)
    with pytest.raises(ValueError, match="perturbation"):
        pac_bayes_bound(net, data, perturbation="sparse")
    with pytest.raises(TypeError, match="data"):
        pac_bayes_bound(net, 3)
    gs = gspaces.rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    bad = nn.SequentialModule(
        nn.R2Conv(nn.FieldType(gs, [gs.trivial_repr]), t, 3, padding=1),
        nn.PointwiseNonLinearity(t, torch.sin),
        nn.GroupPooling(t),
        nn.PointwiseAdaptiveAvgPool2D(nn.GroupPooling(t).out_type, 1),
    )
    with pytest.raises(TypeError, match="Lipschitz"):
        pac_bayes_bound(bad, (data[0], torch.zeros(60, dtype=torch.long)))


def test_trivial_group_gives_the_nbs18_tails_where_its_basis_spans_every_kernel():
    net, data = _net(gspaces.rot2dOnR2(1)), _data()
    eq, dense = pac_bayes_bound(net, data, margin=0.1), nbs18_bound(net, data, margin=0.1)
    assert eq.bound <= dense.bound * (1 + 1e-9)
    convs = [m for m in net.children() if isinstance(m, nn.R2Conv)]
    terms = [(a, b) for a, b in zip(eq.layers, dense.layers) if hasattr(a, "variance")]
    for conv, (a, b) in zip(convs, terms):
        full = int(conv.basisexpansion.dimension) == conv.expand_parameters()[0].numel()
        assert a.variance <= b.variance * (1 + 1e-9)
        if full:
            assert a.variance == pytest.approx(b.variance, rel=1e-9)
    gs = gspaces.rot2dOnR2(1)
    t = nn.FieldType(gs, [gs.regular_repr] * 3)
    one = nn.R2Conv(t, t, 1)
    shape = (1, 3, 5, 5)
    assert affine_layer(one, "c", shape, shape, "equivariant").variance == pytest.approx(
        affine_layer(one, "c", shape, shape, "dense").variance, rel=1e-9
    )


def test_pointwise_slopes_enter_the_lipschitz_constant():
    from steerable.theory._layers import fixed_map

    gs = gspaces.rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    shape = (1, 4, 3, 3)
    assert fixed_map(nn.LeakyReLU(t, negative_slope=2.0), "a", shape).lipschitz == 2.0
    assert fixed_map(nn.ELU(t, alpha=0.5), "a", shape).lipschitz == 1.0
    assert fixed_map(nn.PointwiseNonLinearity(t, "p_sigmoid"), "a", shape).lipschitz == 0.25
    assert fixed_map(nn.PointwiseNonLinearity(t, "p_sigmoid"), "a", shape).offset == pytest.approx(0.5 * 6)
