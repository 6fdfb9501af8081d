"""Adaptive Fourier nonlinearities: exact equivariance with few samples for random elements of
SO(2), O(2), SO(3), O(3) (full group and spheres), on vectors, grids and point clouds; frames,
degenerate inputs, learned grids, several frames, gradients and argument errors."""

import pickle

import pytest
import torch

from steerable import gspaces, nn
from steerable.group import cyclic_group, direct_product, o2_group, o3_group, so2_group, so3_group
from steerable.gspaces import no_base_space
from steerable.nn.nonlinear._adaptive_fourier import frame_params

GROUPS = {
    "SO2": (lambda: so2_group(4), 3, ("regular", 4)),
    "O2": (lambda: o2_group(4), 3, ("regular", 2)),  # 2 rotations × 2 reflections
    "SO3": (lambda: so3_group(3), 2, ("thomson", 4)),
    "O3": (lambda: o3_group(3), 2, ("thomson", 2)),  # 2 rotations × 2 parities
}


def _error(act, x, elements):
    """max_g |f(ρ(g)x) − ρ(g)f(x)| / max |f(x)| with the fibres of every point transformed."""
    worst = 0.0
    with torch.no_grad():
        y = act(act.in_type(x)).tensor
        for g in elements:
            ri = torch.as_tensor(act.in_type.representation(g), dtype=x.dtype)
            ro = torch.as_tensor(act.out_type.representation(g), dtype=x.dtype)
            yg = act(act.in_type(x @ ri.T)).tensor
            worst = max(worst, float((yg - y @ ro.T).abs().max() / y.abs().max()))
    return worst


@pytest.mark.parametrize("name", sorted(GROUPS))
@pytest.mark.parametrize("head", ["linear", "quadratic"])
@pytest.mark.parametrize("frame_from", ["all", "first_order"])
def test_exact_with_four_samples(name, head, frame_from):
    make, L, grid = GROUPS[name]
    gs = no_base_space(make())
    torch.manual_seed(0)
    act = nn.AdaptiveFourierELU(gs, 3, L, *grid, head=head, frame_from=frame_from)
    fixed = nn.FourierELU(gs, 3, L, *grid, _strict=False)
    assert len(act.core.grid) <= 4
    x = torch.randn(16, act.in_type.size)
    elements = gs.fibergroup.sample(5, seed=1)
    assert _error(act, x, elements) < 1e-5  # float32
    assert _error(act.double(), x.double(), elements) < 1e-10
    assert _error(fixed, x, elements) > 1e-2  # the same grid, not moved with the input


@pytest.mark.parametrize("name, irreps", [("O2", [(0, 0), (1, 1), (1, 2)]), ("O3", [(0, 0), (1, 1), (0, 2)])])
def test_reflection_from_determinants_without_pseudoscalars(name, irreps):
    make, _, grid = GROUPS[name]
    gs = no_base_space(make())
    act = nn.AdaptiveFourierPointwise(gs, 3, irreps, *grid, function="p_elu").double()
    assert not act.pseudo
    x = torch.randn(12, act.in_type.size, dtype=torch.float64)
    assert _error(act, x, gs.fibergroup.sample(6, seed=3)) < 1e-10


def test_grids_and_point_clouds_transform_pointwise():
    gs = gspaces.rot2dOnR2(-1, maximum_frequency=3)
    act = nn.AdaptiveFourierELU(gs, 2, 3, "regular", 3).double()
    x = torch.randn(2, act.in_type.size, 6, 6, dtype=torch.float64)
    y = act(act.in_type(x)).tensor
    for g in gs.fibergroup.sample(3, seed=0):  # fibres of every pixel by a random angle
        r = torch.as_tensor(act.in_type.representation(g))
        yg = act(act.in_type(torch.einsum("ij,bjhw->bihw", r, x))).tensor
        torch.testing.assert_close(yg, torch.einsum("ij,bjhw->bihw", r, y), atol=1e-10, rtol=1e-10)
    act.check_equivariance(atol=1e-5, rtol=1e-5)  # the grid's 90° rotations (pixels move too)
    g3 = gspaces.rot3dOnR3(maximum_frequency=2)
    act3 = nn.AdaptiveFourierELU(g3, 2, 2, "thomson", 4).double()
    pos = torch.randn(7, 3, dtype=torch.float64)
    f = torch.randn(7, act3.in_type.size, dtype=torch.float64)
    out = act3(act3.in_type(f, coords=pos))
    assert out.coords is pos and out.tensor.shape == f.shape


def test_sphere_quotients():
    gs = no_base_space(so3_group(3))
    for channels, head in ((3, "linear"), (1, "quadratic")):
        act = nn.AdaptiveQuotientFourierELU(gs, (False, -1), channels, 3, "thomson", 4, head=head).double()
        x = torch.randn(10, act.in_type.size, dtype=torch.float64)
        assert _error(act, x, gs.fibergroup.sample(5, seed=2)) < 1e-10
    g2 = no_base_space(o2_group(2))  # O(2)/flips: functions on the circle
    act = nn.AdaptiveQuotientFourierPointwise(g2, (0.0, 1), 2, 2, "regular", 3, function="p_elu").double()
    x = torch.randn(10, act.in_type.size, dtype=torch.float64)
    assert _error(act, x, g2.fibergroup.sample(5, seed=2)) < 1e-10


def test_several_frames_and_learned_grid():
    gs = no_base_space(so3_group(2))
    act = nn.AdaptiveFourierELU(gs, 2, 2, "thomson", 3, n_frames=3, learn_grid=True).double()
    x = torch.randn(8, act.in_type.size, dtype=torch.float64)
    assert _error(act, x, gs.fibergroup.sample(4, seed=5)) < 1e-10
    A, A_inv = act._learned_matrices(torch.float64)
    torch.testing.assert_close(A, act.core.A.double(), atol=1e-6, rtol=0)  # grid stored in float32 first
    act(act.in_type(x)).tensor.square().sum().backward()
    assert act.grid_params.grad is not None and act.grid_params.grad.abs().sum() > 0
    assert all(torch.isfinite(p.grad).all() for p in act.parameters() if p.grad is not None)
    with pytest.raises(ValueError, match="learn_grid"):
        g3 = gspaces.rot3dOnR3(maximum_frequency=2)
        nn.AdaptiveQuotientFourierPointwise(g3, (False, -1), 1, 2, "thomson", 4, learn_grid=True)


@pytest.mark.parametrize("name", sorted(GROUPS))
def test_degenerate_features_give_the_identity_frame(name):
    make, L, grid = GROUPS[name]
    gs = no_base_space(make())
    act = nn.AdaptiveFourierELU(gs, 2, L, *grid)
    x = torch.zeros(3, act.in_type.size, requires_grad=True)
    params = act.frames(act.in_type(x))
    ident = torch.tensor(list(gs.fibergroup.identity._v), dtype=params.dtype)
    if name in ("SO3", "O3"):  # quaternions: ± the same rotation
        assert torch.allclose(params[..., -4:].abs(), ident[-4:].abs())
    else:
        assert torch.allclose(params, ident.expand_as(params))
    y = act(act.in_type(x)).tensor
    torch.testing.assert_close(y, act.core(act.core.in_type(x)).tensor)
    y.sum().backward()
    assert torch.isfinite(x.grad).all()


def test_parallel_vectors_fall_back_to_a_defined_frame():
    h = torch.tensor([[0.0, 0.0, 1.0, 0.0, 0.0, 2.0]], dtype=torch.float64, requires_grad=True)  # c2 ∥ c1
    q = frame_params("so3", h)
    assert torch.isfinite(q).all() and torch.allclose(q.norm(dim=-1), torch.ones(1, dtype=torch.float64))
    q.sum().backward()
    assert torch.isfinite(h.grad).all()


def test_gradients_finite_and_pickle():
    gs = no_base_space(o2_group(3))
    act = nn.AdaptiveFourierELU(gs, 2, 3, "regular", 4, head="quadratic")
    x = torch.randn(5, act.in_type.size, requires_grad=True)
    act(act.in_type(x)).tensor.square().sum().backward()
    assert torch.isfinite(x.grad).all()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in act.parameters())
    again = pickle.loads(pickle.dumps(act))
    torch.testing.assert_close(again(again.in_type(x.detach())).tensor, act(act.in_type(x.detach())).tensor)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="gspace"):
        nn.AdaptiveFourierELU(gspaces.rot2dOnR2(8), 1, [(0,), (1,)], "regular", 8)
    gs = no_base_space(so2_group(3))
    for kw, name in (({"head": "mlp"}, "head"), ({"frame_from": "x"}, "frame_from"), ({"n_frames": 0}, "n_frames")):
        with pytest.raises(ValueError, match=name):
            nn.AdaptiveFourierELU(gs, 1, 2, "regular", 3, **kw)
    with pytest.raises(ValueError, match="eps"):
        nn.AdaptiveFourierELU(gs, 1, 2, "regular", 3, eps=0.0)
    with pytest.raises(TypeError, match="function"):
        nn.AdaptiveFourierELU(gs, 1, 2, "regular", 3, function="p_relu")


PRODUCTS = {
    # finite factor first (the inversion of the cylinder groups), then continuous ones
    "cylindrical": (
        lambda: no_base_space(gspaces.cylindricalOnR3(maximum_frequency=2).fibergroup),
        2,
        {"G2_type": "regular", "G2_args": (4,)},
    ),
    "full_cylindrical": (
        lambda: no_base_space(gspaces.fullCylindricalOnR3(maximum_frequency=2).fibergroup),
        2,
        {"G2_type": "regular", "G2_args": (2,)},
    ),
    "SO2xSO2": (
        lambda: no_base_space(direct_product(so2_group(2), so2_group(2))),
        2,
        {"G1_type": "regular", "G1_args": (3,), "G2_type": "regular", "G2_args": (3,)},
    ),
    "SO3xC2": (
        lambda: no_base_space(direct_product(so3_group(1), cyclic_group(2))),
        1,
        {"G1_type": "thomson", "G1_args": (4,)},
    ),
}


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_products_exact_with_few_samples(name):
    make, L, grid = PRODUCTS[name]
    gs = make()
    torch.manual_seed(0)
    act = nn.AdaptiveFourierELU(gs, 3, L, "product", **grid)
    fixed = nn.FourierELU(gs, 3, L, "product", _strict=False, **grid)
    assert len(act.core.grid) <= 16
    x = torch.randn(8, act.in_type.size)
    elements = gs.fibergroup.sample(5, seed=2)
    assert _error(act, x, elements) < 1e-5
    assert _error(act.double(), x.double(), elements) < 1e-10
    assert _error(fixed, x, elements) > 1e-2


def test_products_refuse_unsupported_factors():
    from steerable.group import ico_group

    with pytest.raises(ValueError, match="gspace.*finite"):
        nn.AdaptiveFourierELU(no_base_space(direct_product(cyclic_group(2), ico_group())), 1, 0, "product")
    with pytest.raises(ValueError, match="learn_grid"):
        make, L, grid = PRODUCTS["cylindrical"]
        nn.AdaptiveFourierELU(make(), 1, L, "product", learn_grid=True, **grid)


def test_fused_rotation_gradients():
    from steerable.nn.nonlinear._adaptive_autograd import _BlockRotate

    torch.manual_seed(0)
    x = torch.randn(2, 3, 6, 5, dtype=torch.float64, requires_grad=True)
    r1 = torch.randn(2, 2, 2, 5, dtype=torch.float64, requires_grad=True)
    r3 = torch.randn(2, 3, 3, 5, dtype=torch.float64, requires_grad=True)
    one = torch.ones((), dtype=torch.float64)
    torch.autograd.gradcheck(lambda x, a, b: _BlockRotate.apply(x, [0, 1, 3], one, a, b), (x, r1, r3))
    # the reference: dense block-diagonal matrices per location
    y = _BlockRotate.apply(x, [0, 1, 3], one, r1, r3)
    dense = torch.zeros(2, 6, 6, 5, dtype=torch.float64)
    dense[:, 0, 0] = 1
    dense[:, 1:3, 1:3], dense[:, 3:6, 3:6] = r1, r3
    torch.testing.assert_close(y, torch.einsum("bijs,bcjs->bcis", dense, x))


@pytest.mark.parametrize("fn", ["p_elu", "p_relu", "p_sigmoid", "p_tanh"])
def test_fused_adaptive_function_gradients(fn):
    # ρ_in = ψ0 ⊕ ψ1 ⊕ ψ2 ⊕ ψ1 (a repeated block), ρ_out = ψ0 ⊕ ψ2: both layouts, shared blocks
    from steerable.nn.nonlinear._adaptive_autograd import _AdaptiveFourierFn
    from steerable.nn.nonlinear._fourier import _act

    torch.manual_seed(1)
    f64 = dict(dtype=torch.float64)
    x = torch.randn(2, 3, 8, 4, **f64, requires_grad=True)
    r1 = torch.randn(2, 2, 2, 4, **f64, requires_grad=True)
    r2 = torch.randn(2, 3, 3, 4, **f64, requires_grad=True)
    A, A_inv = torch.randn(5, 8, **f64), torch.randn(4, 5, **f64)
    lay_in, lay_out = [(0, -1), (1, 0), (3, 1), (6, 0)], [(0, -1), (1, 1)]

    def f(x, r1, r2):
        return _AdaptiveFourierFn.apply(x, A, A_inv, fn, lay_in, lay_out, r1, r2)

    torch.autograd.gradcheck(f, (x, r1, r2))

    def dense(blocks, layout, size):
        M = torch.zeros(2, size, size, 4, **f64)
        for a, k in layout:
            if k < 0:
                M[:, a, a] = 1
            else:
                d = blocks[k].shape[1]
                M[:, a : a + d, a : a + d] = blocks[k]
        return M

    R_in, R_out = dense((r1, r2), lay_in, 8), dense((r1, r2), lay_out, 4)
    xc = torch.einsum("bjis,bcjs->bcis", R_in, x)  # ρ_in(h)ᵀ x
    yc = torch.einsum("nd,bcds->bcns", A_inv, _act(fn, torch.einsum("nd,bcds->bcns", A, xc), False))
    torch.testing.assert_close(f(x, r1, r2), torch.einsum("bijs,bcjs->bcis", R_out, yc))


def test_memory_light_matches_the_plain_graph():
    gs = gspaces.rot2dOnR2(-1, maximum_frequency=2)
    torch.manual_seed(0)
    light = nn.AdaptiveFourierELU(gs, 2, 2, "regular", 4, head="quadratic")
    plain = pickle.loads(pickle.dumps(light))
    plain.memory_light = False
    x = torch.randn(2, light.in_type.size, 4, 4)
    grads = []
    for m in (light, plain):
        xi = x.clone().requires_grad_()
        m(m.in_type(xi)).tensor.square().sum().backward()
        grads.append([xi.grad] + [p.grad for p in m.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize(
    "make, args, kw",
    [
        (lambda: gspaces.rot2dOnR2(-1, maximum_frequency=2), (3, 2, "regular", 4), {"head": "quadratic"}),
        (lambda: gspaces.flipRot2dOnR2(-1, maximum_frequency=2), (2, 2, "regular", 2), {"n_frames": 2}),
        (lambda: no_base_space(so3_group(2)), (2, 2, "thomson", 4), {"learn_grid": True}),
        (lambda: no_base_space(o3_group(2)), (2, 1, "thomson", 2), {"frame_from": "first_order"}),
        (lambda: PRODUCTS["cylindrical"][0](), (2, 2, "product"), PRODUCTS["cylindrical"][2]),
    ],
)
def test_export_computes_the_same_function(make, args, kw):
    gs = make()
    torch.manual_seed(0)
    act = nn.AdaptiveFourierELU(gs, *args, **kw).eval()
    shape = (2, act.in_type.size) + (5,) * gs.dimensionality
    x = torch.randn(*shape)
    plain = act.export()
    assert not any(isinstance(m, nn.EquivariantModule) for m in plain.modules())
    torch.testing.assert_close(plain(x), act(act.in_type(x)).tensor, atol=1e-5, rtol=1e-5)
    again = pickle.loads(pickle.dumps(plain))
    torch.testing.assert_close(again(x), plain(x))


def test_export_of_the_sphere_quotient_on_point_clouds():
    gs = gspaces.rot3dOnR3(maximum_frequency=2)
    act = nn.AdaptiveQuotientFourierELU(gs, (False, -1), 2, 2, "thomson", 4).eval()
    x = torch.randn(7, act.in_type.size)
    torch.testing.assert_close(act.export()(x), act(act.in_type(x, coords=torch.randn(7, 3))).tensor)
