"""The differentiable Fourier transform on groups at arbitrary sample points."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from steerable import group as sg
from steerable.group import functional as F

from .conftest import ALL_GROUPS, GROUP_FACTORIES

DT = torch.float64


def _band(G):
    return 2 if G.continuous else G.irreps()


@pytest.mark.parametrize("name", ALL_GROUPS)
def test_sampling_matrix_matches_reference(name):
    G = GROUP_FACTORIES[name]()
    els = G.sample(30, seed=1)
    p = F.element_params(els)
    irreps = _band(G)
    ref = sg.sampling_matrix(G, irreps, els)
    A = F.sampling_matrix(G, irreps, p)
    assert A.shape == ref.shape == (30, F.fourier_dim(G, irreps))
    torch.testing.assert_close(A.numpy(), ref, atol=1e-10, rtol=0)
    ids = [p_.id for p_ in sg._fourier._irrep_list(G, irreps)][::-1]  # any list / order of irreps
    torch.testing.assert_close(
        F.sampling_matrix(G, ids, p).numpy(), sg.sampling_matrix(G, ids, els), atol=1e-10, rtol=0
    )


@pytest.mark.parametrize("name", ["SO2", "O2", "SO3", "O3", "octa", "D5", "SO2xSO2"])
def test_round_trip_and_agreement_with_fourier_transform(name):
    G = GROUP_FACTORIES[name]()
    irreps = 2 if G.continuous else G.irreps()
    grid = G.grid("rand", 120, seed=2) if G.continuous else G.elements
    ft = sg.FourierTransform(G, irreps, grid)
    p = F.element_params(grid)
    x = torch.randn(3, ft.dim, dtype=DT, generator=torch.Generator().manual_seed(3))
    s = F.inverse_fourier(x, G, irreps, p)
    torch.testing.assert_close(s.numpy(), ft.to_samples(x.numpy()), atol=1e-10, rtol=0)
    torch.testing.assert_close(F.fourier(s, G, irreps, p), x, atol=1e-10, rtol=0)
    noisy = s + 0.1 * torch.randn(s.shape, dtype=DT, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(
        F.fourier(noisy, G, irreps, p).numpy(), ft.from_samples(noisy.numpy()), atol=1e-10, rtol=0
    )


def test_left_regular_action_on_coefficients():
    # f_{ρ(h) x}(g) = f_x(h⁻¹ g) for the band-limited regular representation
    G = sg.so3_group(2)
    rho = G.bl_regular_representation(2)
    h = G.sample(seed=5)
    els = G.sample(12, seed=6)
    x = torch.randn(rho.size, dtype=DT, generator=torch.Generator().manual_seed(7))
    lhs = F.inverse_fourier(F.representation_matrices(rho, F.element_params(h)) @ x, G, 2, F.element_params(els))
    rhs = F.inverse_fourier(x, G, 2, F.element_params([~h @ g for g in els]))
    torch.testing.assert_close(lhs, rhs, atol=1e-10, rtol=0)


def test_quadrature_and_weighted_least_squares():
    G = sg.so3_group(2)
    pts, w = G._quadrature(4)  # exact for products of two band-2 functions
    p, wt = torch.tensor(pts), torch.tensor(w)
    A = F.sampling_matrix(G, 2, p)
    torch.testing.assert_close(A.T @ (wt[:, None] * A), torch.eye(A.shape[1], dtype=DT), atol=1e-10, rtol=0)
    x = torch.randn(2, A.shape[1], dtype=DT, generator=torch.Generator().manual_seed(8))
    s = F.inverse_fourier(x, G, 2, p)
    torch.testing.assert_close(F.fourier(s, G, 2, p, weights=wt, solve=False), x, atol=1e-10, rtol=0)
    torch.testing.assert_close(F.fourier(s, G, 2, p, weights=wt), x, atol=1e-10, rtol=0)
    # weighted least squares equals the normal-equations solution
    pr = F.element_params(G.sample(40, seed=9))
    Ar = F.sampling_matrix(G, 2, pr)
    y = torch.randn(40, dtype=DT, generator=torch.Generator().manual_seed(10))
    wr = torch.rand(40, dtype=DT, generator=torch.Generator().manual_seed(11)) + 0.5
    ref = torch.linalg.solve(Ar.T @ (wr[:, None] * Ar), Ar.T @ (wr * y))
    torch.testing.assert_close(F.fourier(y, G, 2, pr, weights=wr), ref, atol=1e-10, rtol=0)


def test_batched_input_dependent_points():
    G = sg.o2_group(3)
    params = F.element_params(G.sample(4 * 16, seed=12)).reshape(4, 16, 2)  # one point set per input
    A = F.sampling_matrix(G, 2, params)
    assert A.shape == (4, 16, F.fourier_dim(G, 2))
    for i in range(4):
        torch.testing.assert_close(
            A[i].numpy(), sg.sampling_matrix(G, 2, F.params_to_elements(G, params[i])), atol=1e-10, rtol=0
        )
    x = torch.randn(4, A.shape[-1], dtype=DT, generator=torch.Generator().manual_seed(13))
    s = F.inverse_fourier(x, G, 2, params)
    assert s.shape == (4, 16)
    torch.testing.assert_close(F.fourier(s, G, 2, params), x, atol=1e-10, rtol=0)
    # coefficients broadcast against one shared point set
    s2 = F.inverse_fourier(x, G, 2, params[0])
    torch.testing.assert_close(s2[0], s[0], atol=1e-12, rtol=0)


def test_gradcheck_points_and_values():
    G = sg.so3_group(1)
    q = F.element_params(G.sample(8, seed=14)).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: F.sampling_matrix(G, 1, t), (q,))
    x = torch.randn(2, F.fourier_dim(G, 1), dtype=DT, generator=torch.Generator().manual_seed(15)).requires_grad_()
    assert torch.autograd.gradcheck(lambda c, t: F.inverse_fourier(c, G, 1, t), (x, q))
    s = torch.randn(2, 8, dtype=DT, generator=torch.Generator().manual_seed(16)).requires_grad_()
    assert torch.autograd.gradcheck(lambda v, t: F.fourier(v, G, 1, t), (s, q))
    w = (torch.rand(8, dtype=DT, generator=torch.Generator().manual_seed(17)) + 0.5).requires_grad_()
    assert torch.autograd.gradcheck(lambda v, t, ww: F.fourier(v, G, 1, t, weights=ww), (s, q, w))
    H = sg.so2_group(2)
    a = torch.stack([torch.zeros(6, dtype=DT), torch.linspace(0.1, 5.0, 6, dtype=DT)], -1).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: F.fourier(t[:, 1].sin(), H, 2, t), (a,))


def test_float32():
    G = sg.octa_group()
    p = F.element_params(G.elements, dtype=torch.float32)
    x = torch.randn(G.order(), generator=torch.Generator().manual_seed(18))
    s = F.inverse_fourier(x, G, G.irreps(), p)
    assert s.dtype == torch.float32
    torch.testing.assert_close(F.fourier(s, G, G.irreps(), p), x, atol=1e-4, rtol=0)


def test_errors():
    G = sg.so3_group(2)
    p = F.element_params(G.sample(5, seed=19))
    with pytest.raises(TypeError, match="G"):
        F.sampling_matrix("SO3", 1, p)
    with pytest.raises(ValueError, match="params"):
        F.sampling_matrix(G, 1, p[0])
    with pytest.raises(ValueError, match="coefficients"):
        F.inverse_fourier(torch.zeros(3, dtype=DT), G, 1, p)
    with pytest.raises(ValueError, match="samples"):
        F.fourier(torch.zeros(4, dtype=DT), G, 1, p)
    with pytest.raises(ValueError, match="weights"):
        F.fourier(torch.zeros(5, dtype=DT), G, 1, p, solve=False)
    with pytest.raises(ValueError, match="weights"):
        F.fourier(torch.zeros(5, dtype=DT), G, 1, p, weights=torch.ones(4, dtype=DT))
    with pytest.raises(ValueError, match="irreps"):
        F.sampling_matrix(G, [sg.so2_group(2).irrep(1)], p)
    assert np.isfinite(F.fourier(torch.zeros(5, dtype=DT), G, 1, p).numpy()).all()
