"""Partial equivariance: the density λ over G, the relaxed kernel, conversion and regularisers."""

import math
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from steerable import gspaces, nn
from steerable.group import (
    cyclic_group,
    dihedral_group,
    ico_group,
    o2_group,
    o3_group,
    octa_group,
    so2_group,
    so3_group,
)
from steerable.nn.partial import plot_densities, plot_density

GROUPS = {
    "SO2": so2_group,
    "O2": o2_group,
    "SO3": so3_group,
    "O3": o3_group,
    "C8": lambda: cyclic_group(8),
    "D4": lambda: dihedral_group(4),
    "octa": octa_group,
    "ico": ico_group,
}

GSPACES = {
    "C8": lambda: gspaces.rot2dOnR2(8),
    "D4": lambda: gspaces.flipRot2dOnR2(4),
    "SO2": lambda: gspaces.rot2dOnR2(-1, maximum_frequency=3),
    "O2": lambda: gspaces.flipRot2dOnR2(-1, maximum_frequency=3),
    "SO3": lambda: gspaces.rot3dOnR3(maximum_frequency=2),
    "O3": lambda: gspaces.flipRot3dOnR3(maximum_frequency=2),
    "octa": lambda: gspaces.octaOnR3(),
}


def _types(gs):
    G = gs.fibergroup
    irr = [gs.irrep(*i) for i in G.bl_irreps(2)] if G.continuous else list(G.irreps())[:3]
    return nn.FieldType(gs, irr[:3]), nn.FieldType(gs, irr[-2:] + [gs.trivial_repr])


# the tests read scalar values of differentiable quantities (KLs, masses, alignments) with float():
# torch warns about the dropped graph, which is the point here
pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True to a scalar:UserWarning")


def _random_density(G, L=3, seed=0, scale=1.0, **kw):
    d = nn.EquivarianceDensity(G, L, **kw).double()
    with torch.no_grad():
        d.coefficients.copy_(scale * torch.randn(d.coefficients.shape, generator=torch.Generator().manual_seed(seed)))
    return d.requires_grad_(False)  # a fixed density: its values are read, not trained


# ---------------------------------------------------------------------------------- the density
@pytest.mark.parametrize("name", sorted(GROUPS))
def test_density_integrates_to_one_and_uniform_init_is_trivial(name):
    G = GROUPS[name]()
    d = nn.EquivarianceDensity(G, L=3).double()
    w = d.grid_weights
    assert torch.allclose((d.values() * w).sum(), torch.tensor(1.0, dtype=torch.float64), atol=1e-12)
    lam = d.fourier()
    assert torch.allclose(lam[0], torch.ones(1, 1, dtype=torch.float64))
    assert max(float(m.detach().abs().max()) for m in lam[1:]) < 1e-12
    assert float(d.kl_uniform().detach()) == pytest.approx(0.0, abs=1e-12)
    assert float(d.alignment().detach()) == pytest.approx(0.0, abs=1e-12)
    r = _random_density(G, seed=1)
    with torch.no_grad():
        assert float((r.values() * r.grid_weights).sum()) == pytest.approx(1.0, abs=1e-12)
        assert float(r.fourier()[0]) == pytest.approx(1.0, abs=1e-12)
    assert bool((r.values() > 0).all())


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.0, 4.0), name=st.sampled_from(["SO2", "O2", "D4", "octa"]))
def test_density_properties(seed, scale, name):
    d = _random_density(GROUPS[name](), L=2, seed=seed, scale=scale)
    other = _random_density(GROUPS[name](), L=2, seed=seed + 1, scale=scale)
    assert float((d.values() * d.grid_weights).sum()) == pytest.approx(1.0, abs=1e-10)
    assert float(d.kl_uniform()) >= -1e-12
    assert float(d.kl(other)) >= -1e-12
    assert float(d.kl(d)) == 0.0
    assert float(d.alignment()) >= 0.0
    # λ̂(ψ) are the quadrature transforms of the grid values, bounded by ∫λ = 1 in operator norm
    for m in d.fourier()[1:]:
        assert float(torch.linalg.matrix_norm(m, ord=2)) <= 1.0 + 1e-9


def test_log_density_matches_grid_and_identity():
    d = _random_density(so3_group(), L=2, seed=3)
    els = d.grid_elements[:7]
    assert torch.allclose(d.log_density(els), d.log_values()[:7], atol=1e-10)
    assert torch.allclose(d.log_density([so3_group().identity])[0], d.log_identity(), atol=1e-10)
    # a peak at the identity: the alignment penalty vanishes; a peak elsewhere: it does not
    d.set_log_density(lambda g: 4.0 * float(np.trace(g.to("MAT"))))
    assert float(d.alignment()) == pytest.approx(0.0, abs=1e-9)
    d.set_log_density(lambda g: -4.0 * float(np.trace(g.to("MAT"))))
    assert float(d.alignment()) > 1.0


def test_set_log_density_fits_band_limited_functions():
    d = nn.EquivarianceDensity(o2_group(), L=4).double()
    f = lambda g: 0.7 * math.cos(3 * g.to("radians")[1]) + (0.5 if g.to("radians")[0] else 0.0)
    d.set_log_density(f)
    vals = torch.tensor([f(g) for g in d.grid_elements], dtype=torch.float64)
    assert torch.allclose(d.log_unnormalised(), vals, atol=1e-10)


def test_kl_between_densities_on_different_grids():
    a = _random_density(so2_group(), L=2, seed=0)
    b = _random_density(so2_group(), L=2, seed=1)
    c = _random_density(so2_group(), L=2, seed=1, quadrature_degree=90)
    assert float(a.kl(b)) == pytest.approx(float(a.kl(c)), rel=1e-6)


def test_mass_of_a_peaked_density_concentrates_on_the_subgroup():
    d = nn.EquivarianceDensity(so2_group(), L=8).double()
    near_c4 = lambda g: abs(math.sin(2 * g.to("radians"))) < math.sin(math.pi / 8)
    uniform = float(d.mass(near_c4))
    d.set_log_density(lambda g: 4.0 * math.cos(4 * g.to("radians")))
    assert uniform == pytest.approx(0.25, abs=0.03)
    assert float(d.mass(near_c4)) > 0.8
    with pytest.raises(ValueError, match="where"):
        d.mass([True, False])


@pytest.mark.parametrize(
    "group, subgroup",
    [(so2_group, 4), (o2_group, (0.0, 1)), (so3_group, (False, -1)), (lambda: cyclic_group(8), 2)],
)
def test_subgroup_density_is_left_invariant(group, subgroup):
    G = group()
    d = _random_density(G, L=3, seed=2, subgroup=subgroup)
    H, incl, _ = G.subgroup(subgroup)
    for h in list(H.testing_elements())[:4]:
        hg = incl(h)
        for psi, m in zip(d.irreps, d.fourier()):
            P = torch.as_tensor(psi(hg), dtype=torch.float64)
            assert torch.allclose(P @ m, m, atol=1e-10)
        # the log density itself is invariant too
        els = d.grid_elements[:5]
        assert torch.allclose(d.log_density([hg @ g for g in els]), d.log_density(els), atol=1e-9)


def test_density_bad_arguments():
    with pytest.raises(TypeError, match="group"):
        nn.EquivarianceDensity("SO(2)")
    with pytest.raises(ValueError, match="L"):
        nn.EquivarianceDensity(so2_group(), L=-1)
    with pytest.raises(ValueError, match="quadrature_degree"):
        nn.EquivarianceDensity(so2_group(), L=4, quadrature_degree=2)
    with pytest.raises(ValueError, match="subgroup"):
        nn.EquivarianceDensity(so2_group(), L=2, subgroup="nope")
    d = nn.EquivarianceDensity(so2_group(), L=2)
    with pytest.raises(ValueError, match="other"):
        d.kl(nn.EquivarianceDensity(o2_group(), L=2))
    with pytest.raises(TypeError, match="other"):
        d.kl(3)
    with pytest.raises(ValueError, match="elements"):
        d.log_density([o2_group().identity])
    with pytest.raises(TypeError, match="f"):
        d.set_log_density(3)


# ---------------------------------------------------------------------------------- the kernel
def _point_conv(gs, t_in, t_out):
    cls = nn.R2PointConv if gs.dimensionality == 2 else nn.R3PointConv
    return cls(t_in, t_out, width=2.0, n_rings=3).double()


def _filter_error(conv, gs, t_in, t_out, elements, n=30, seed=0):
    """max over elements of |K(gx) − ρ_out(g) K(x) ρ_in(g)ᵀ| / max|K| at random points."""
    x = torch.randn(n, gs.dimensionality, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    worst = 0.0
    with torch.no_grad():
        k = conv.kernel_source(conv, x)
        for g in elements:
            R = torch.as_tensor(gs.basespace_matrix(g), dtype=torch.float64)
            kg = conv.kernel_source(conv, x @ R.T)
            A = torch.as_tensor(t_out.representation(g), dtype=torch.float64)
            B = torch.as_tensor(t_in.representation(g), dtype=torch.float64)
            pred = torch.einsum("oa,gabs,cb->gocs", A, k, B)
            worst = max(worst, float((kg - pred).abs().max() / k.abs().max()))
    return worst


@pytest.mark.parametrize("name", sorted(GSPACES))
def test_uniform_density_reproduces_the_exact_layer(name):
    gs = GSPACES[name]()
    t_in, t_out = _types(gs)
    conv = _point_conv(gs, t_in, t_out)
    x = torch.randn(11, gs.dimensionality, dtype=torch.float64)
    ref = conv.kernel_source(conv, x).detach()
    src = nn.PartialEquivarianceSource(conv, nn.EquivarianceDensity(gs.fibergroup, L=2).double())
    conv.kernel_source = src
    assert len(src.weights) > 0
    assert torch.allclose(src(conv, x), ref, atol=1e-12)
    elements = list(gs.fibergroup.testing_elements())[:6]
    assert _filter_error(conv, gs, t_in, t_out, elements) < 1e-10


@pytest.mark.parametrize("name", sorted(GSPACES))
def test_the_kernel_is_the_density_average_of_transformed_kernels(name):
    """Translating λ by k (λ'(g) = λ(k⁻¹g), λ̂'(ψ) = ψ(k) λ̂(ψ)) transforms the kernel by k: the
    filter is ∫ λ(g) (g·K₀) dg, for every group and random continuous elements."""
    gs = GSPACES[name]()
    t_in, t_out = _types(gs)
    conv = _point_conv(gs, t_in, t_out)
    dens = _random_density(gs.fibergroup, L=3, seed=4)
    conv.kernel_source = src = nn.PartialEquivarianceSource(conv, dens)
    x = torch.randn(17, gs.dimensionality, dtype=torch.float64)
    base = dens.fourier()
    for k in gs.fibergroup.sample(3, seed=5):
        shifted = [torch.as_tensor(psi(k), dtype=torch.float64) @ m for psi, m in zip(dens.irreps, base)]
        dens.fourier = lambda s=shifted: s
        try:
            k_shift = src(conv, x).detach()
        finally:
            del dens.fourier
        R = torch.as_tensor(gs.basespace_matrix(k), dtype=torch.float64)
        kx = src(conv, x @ R).detach()  # K(k⁻¹ x)
        A = torch.as_tensor(t_out.representation(k), dtype=torch.float64)
        B = torch.as_tensor(t_in.representation(k), dtype=torch.float64)
        pred = torch.einsum("oa,gabs,cb->gocs", A, kx, B)
        assert float((pred - k_shift).abs().max() / k_shift.abs().max()) < 1e-10
    # a non-uniform λ relaxes the constraint
    assert _filter_error(conv, gs, t_in, t_out, gs.fibergroup.sample(3, seed=6)) > 1e-3


@pytest.mark.parametrize(
    "name, subgroup, make_h",
    [
        ("SO2", 4, lambda G: [G.element(2 * math.pi / 4), G.element(3 * 2 * math.pi / 4)]),
        ("SO2", 3, lambda G: [G.element(2 * math.pi / 3)]),
        ("O2", (0.0, 1), lambda G: [G.subgroup((0.0, 1))[1](G.subgroup((0.0, 1))[0].element(1))]),
        (
            "SO3",
            (False, -1),
            lambda G: [G.subgroup((False, -1))[1](h) for h in G.subgroup((False, -1))[0].sample(3, seed=1)],
        ),
    ],
)
def test_a_density_on_a_subgroup_gives_exactly_equivariant_layers(name, subgroup, make_h):
    gs = GSPACES[name]()
    t_in, t_out = _types(gs)
    conv = _point_conv(gs, t_in, t_out)
    conv.kernel_source = nn.PartialEquivarianceSource(
        conv, _random_density(gs.fibergroup, 4, seed=7, subgroup=subgroup)
    )
    hs = make_h(gs.fibergroup)
    assert _filter_error(conv, gs, t_in, t_out, hs) < 1e-10
    # ... and no more than H-equivariant
    assert _filter_error(conv, gs, t_in, t_out, gs.fibergroup.sample(3, seed=8)) > 1e-3


def _check_on(conv, elements, x):
    conv.eval()
    with torch.no_grad():
        y = conv(x)
        errs = []
        for g in elements:
            a = conv(x.transform(g)).tensor
            b = y.transform(g).tensor
            errs.append(float((a - b).abs().max() / b.abs().max()))
    return max(errs)


@pytest.mark.parametrize(
    "cls, gs_fn, subgroup, grid_h, other",
    [
        # C4 ⊂ C8: 90° rotations are grid symmetries; 45° ones are not tested on the grid
        (nn.R2Conv, lambda: gspaces.rot2dOnR2(8), 4, lambda G: [G.element(2), G.element(4)], None),
        # the flip ⊂ O(2): the flip is a grid symmetry, the 90° rotation too but must now fail
        (
            nn.R2Conv,
            lambda: gspaces.flipRot2dOnR2(-1, 3),
            (0.0, 1),
            lambda G: [G.element((1, 0.0))],
            lambda G: G.element((0, math.pi / 2)),
        ),
        (nn.R2ConvTransposed, lambda: gspaces.rot2dOnR2(8), 4, lambda G: [G.element(2)], None),
        # SO(2) about z ⊂ SO(3): the 90° z rotation is a voxel symmetry, a 90° x rotation must fail
        (
            nn.R3Conv,
            lambda: gspaces.rot3dOnR3(2),
            (False, -1),
            lambda G: [G.element(np.array([0, 0, math.sin(math.pi / 4), math.cos(math.pi / 4)]), "Q")],
            lambda G: G.element(np.array([math.sin(math.pi / 4), 0, 0, math.cos(math.pi / 4)]), "Q"),
        ),
    ],
)
def test_grid_convolutions_on_a_subgroup_are_equivariant_on_the_grid(cls, gs_fn, subgroup, grid_h, other):
    gs = gs_fn()
    t_in, t_out = _types(gs)
    conv = cls(t_in, t_out, 3, padding=1)
    ref = conv.filter.detach().clone()
    dens = nn.EquivarianceDensity(gs.fibergroup, L=4, subgroup=subgroup)
    conv.kernel_source = nn.PartialEquivarianceSource(conv, dens)
    assert torch.allclose(conv.filter, ref, atol=1e-6)  # uniform: unchanged
    with torch.no_grad():
        dens.coefficients.copy_(torch.randn(dens.coefficients.shape, generator=torch.Generator().manual_seed(0)))
    x = t_in(torch.randn(2, t_in.size, *[7] * gs.dimensionality))
    assert _check_on(conv, grid_h(gs.fibergroup), x) < 1e-5
    if other is not None:
        assert _check_on(conv, [other(gs.fibergroup)], x) > 1e-3


@pytest.mark.parametrize("name", ["C8", "SO2", "O3", "octa"])
def test_linear_layers(name):
    G = GSPACES[name]().fibergroup
    gs = gspaces.no_base_space(G)
    t_in, t_out = _types(gs)
    lin = nn.Linear(t_in, t_out).double()
    x = t_in(torch.randn(5, t_in.size, dtype=torch.float64))
    ref = lin(x).tensor.detach()
    dens = nn.EquivarianceDensity(G, L=2).double()
    lin.kernel_source = nn.PartialEquivarianceSource(lin, dens)
    assert torch.allclose(lin(x).tensor, ref, atol=1e-12)
    lin.check_equivariance(atol=1e-8)
    with torch.no_grad():
        dens.coefficients.normal_()
    els = list(G.testing_elements())[1:5]
    with torch.no_grad():
        y = lin(x)
        err = max(float((lin(x.transform(g)).tensor - y.transform(g).tensor).abs().max()) for g in els)
    assert err > 1e-3
    exported = lin.export()
    assert torch.allclose(exported(x.tensor), lin(x).tensor, atol=1e-10)


def test_linear_kernel_source_hook_checks_shapes():
    gs = gspaces.no_base_space(so2_group(2))
    t = nn.FieldType(gs, [gs.irrep(1)])

    class Bad(nn.KernelSource):
        def forward(self, conv, points=None):
            return torch.zeros(2, 2)

    lin = nn.Linear(t, t, kernel_source=Bad())
    with pytest.raises(ValueError, match="kernel_source"):
        lin(t(torch.randn(1, 2)))
    lin.kernel_source = None
    assert isinstance(lin.kernel_source, nn.BasisKernelSource)
    assert torch.allclose(nn.BasisKernelSource()(lin)[0, :, :, 0], lin.matrix)


# ---------------------------------------------------------------------------------- the model
def _model(gs):
    t0 = nn.FieldType(gs, [gs.trivial_repr])
    t1 = nn.FieldType(gs, [gs.irrep(*i) for i in gs.fibergroup.bl_irreps(2)])
    t2 = nn.FieldType(gs, [gs.trivial_repr] * 2)
    return nn.SequentialModule(
        nn.R2Conv(t0, t1, 5, padding=2),
        nn.NormNonLinearity(t1),
        nn.R2Conv(t1, t1, 3, padding=1),
        nn.NormNonLinearity(t1),
        nn.R2Conv(t1, t2, 3),
    )


def test_make_partially_equivariant_layerwise_and_shared():
    gs = gspaces.flipRot2dOnR2(-1, 2)
    model = _model(gs)
    x = model.in_type(torch.randn(2, 1, 9, 9))
    y = model(x).tensor.detach()
    dens = nn.make_partially_equivariant(model, L=2)
    assert list(dens) == ["0", "2", "4"] and len({id(d) for d in dens.values()}) == 3
    assert torch.allclose(model(x).tensor, y, atol=1e-5)
    assert list(nn.partial_densities(model)) == ["0", "2", "4"]
    shared_model = _model(gs)
    shared = nn.make_partially_equivariant(shared_model, L=2, shared=True)
    assert len({id(d) for d in shared.values()}) == 1
    n_density_params = sum(p.numel() for n, p in shared_model.named_parameters() if "density" in n)
    assert n_density_params == shared["0"].coefficients.numel()
    only = nn.make_partially_equivariant(_model(gs), layers=["2"])
    assert list(only) == ["2"]
    picked = nn.make_partially_equivariant(_model(gs), layers=lambda n, m: n != "0")
    assert list(picked) == ["2", "4"]
    again = nn.make_partially_equivariant(model)  # already converted: left alone
    assert not again
    with pytest.raises(ValueError, match="layers"):
        nn.make_partially_equivariant(_model(gs), layers=["nope"])
    with pytest.raises(ValueError, match="layers"):
        nn.make_partially_equivariant(_model(gs), layers=["1"])
    with pytest.raises(TypeError, match="model"):
        nn.make_partially_equivariant("model")
    with pytest.raises(TypeError, match="density"):
        nn.make_partially_equivariant(_model(gs), density=3)


def test_regularisers_and_training_moves_the_density():
    torch.manual_seed(0)
    gs = gspaces.rot2dOnR2(-1, maximum_frequency=2)
    model = _model(gs)
    dens = nn.make_partially_equivariant(model, L=3)
    assert float(nn.partial_equivariance_loss(model, 1.0, 1.0, 1.0)) == 0.0
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    x = torch.randn(4, 1, 9, 9)
    target = torch.randn(4, 2, 7, 7)
    for _ in range(5):
        loss = ((model(model.in_type(x)).tensor - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    coeffs = [d.coefficients.detach().abs().max() for d in dens.values()]
    assert all(float(c) > 0 for c in coeffs)
    reg = nn.partial_equivariance_loss(model, kl_uniform=1.0, kl_layers=0.5, alignment=2.0)
    expected = sum(d.kl_uniform() for d in dens.values()) + 2.0 * sum(d.alignment() for d in dens.values())
    ds = list(dens.values())
    expected = expected + 0.5 * (ds[0].kl(ds[1]) + ds[1].kl(ds[2]))
    assert float(reg) == pytest.approx(float(expected), rel=1e-5)
    reg.backward()
    assert all(d.coefficients.grad is not None for d in ds)
    with pytest.raises(ValueError, match="kl_uniform"):
        nn.partial_equivariance_loss(model, kl_uniform=-1.0)
    assert float(nn.partial_equivariance_loss(torch.nn.Linear(2, 2), 1.0)) == 0.0


def test_state_dict_pickle_cache_and_export():
    gs = gspaces.rot2dOnR2(8)
    t = nn.FieldType(gs, [gs.regular_repr])
    conv = nn.R2Conv(t, t, 3, padding=1)
    dens = _random_density(gs.fibergroup, 2, seed=1).float()
    conv.kernel_source = nn.PartialEquivarianceSource(conv, dens)
    keys = set(conv.state_dict())
    assert "_kernel_source.density.coefficients" in keys and "_kernel_source.weights.0" in keys
    conv.eval()
    assert set(conv.state_dict()) == keys
    x = t(torch.randn(1, 8, 7, 7))
    with torch.no_grad():
        y = conv(x).tensor
        clone = pickle.loads(pickle.dumps(conv))
        assert torch.allclose(clone(x).tensor, y)
        exported = conv.export()
        assert torch.allclose(exported(x.tensor), y, atol=1e-5)
        dens.coefficients.mul_(2.0)  # the eval cache follows the density
        assert not torch.allclose(conv(x).tensor, y, atol=1e-4)


def test_source_bad_arguments():
    gs = gspaces.rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    conv = nn.R2Conv(t, t, 3)
    with pytest.raises(TypeError, match="density"):
        nn.PartialEquivarianceSource(conv, 3)
    with pytest.raises(ValueError, match="density"):
        nn.PartialEquivarianceSource(conv, nn.EquivarianceDensity(so2_group(), 2))
    with pytest.raises(TypeError, match="layer"):
        nn.PartialEquivarianceSource(torch.nn.Conv2d(1, 1, 3), nn.EquivarianceDensity(cyclic_group(4), 2))
    implicit = nn.ImplicitR2Conv(t, t, 3)
    assert not nn.partial.supports_partial_equivariance(implicit)
    with pytest.raises(TypeError, match="layer"):
        nn.PartialEquivarianceSource(implicit, nn.EquivarianceDensity(cyclic_group(4), 2))


@pytest.mark.parametrize("name", ["SO2", "O2", "SO3", "O3", "D4"])
def test_plots(name, tmp_path):
    pytest.importorskip("matplotlib")
    d = _random_density(GROUPS[name](), L=2, seed=0)
    fig = plot_density(d, path=str(tmp_path / "d.png"))
    assert (tmp_path / "d.png").stat().st_size > 0 and len(fig.axes) >= 1
    fig = plot_densities({"a": d, "b": d})
    assert len(fig.axes) >= 2
    with pytest.raises(ValueError, match="densities"):
        plot_densities({})
    with pytest.raises(TypeError, match="density"):
        plot_density(3)


def test_grouped_and_transposed_convolutions_keep_their_filters_at_start():
    gs = gspaces.rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr] * 2)
    conv = nn.R2Conv(t, t, 3, padding=1, groups=2)
    ref = conv.filter.detach().clone()
    dens = nn.make_partially_equivariant(conv, L=2)
    assert torch.allclose(conv.filter, ref, atol=1e-6)
    assert conv.kernel_source.weights[0].shape[0] == 2  # one weight row per group
    with torch.no_grad():
        dens[""].coefficients.normal_()
    assert not torch.allclose(conv.filter, ref, atol=1e-3)
    assert conv(t(torch.randn(1, 8, 7, 7))).shape == (1, 8, 7, 7)
    gs3 = gspaces.flipRot3dOnR3(2)
    t3 = nn.FieldType(gs3, [gs3.irrep(0, 1), gs3.irrep(1, 1)])
    tconv = nn.R3ConvTransposed(t3, t3, 3)
    ref3 = tconv.filter.detach().clone()
    nn.make_partially_equivariant(tconv, L=2)
    assert torch.allclose(tconv.filter, ref3, atol=1e-6)
    tconv.check_equivariance(atol=1e-4, rtol=1e-4)
