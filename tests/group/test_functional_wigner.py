"""Wigner D matrices and spherical harmonics of steerable.group.functional vs the numpy reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from steerable.group import _so3_math as sm
from steerable.group import functional as F
from steerable.group import o3_group, so3_group
from steerable.kernels import _torch_harmonics

DT = torch.float64


def _q(n, seed):
    return torch.tensor(sm.random_quaternions(n, np.random.default_rng(seed)))


@pytest.mark.parametrize("l", [0, 1, 2, 3, 4, 5, 6, 10])
def test_wigner_matches_reference_from_quaternions_and_matrices(l):
    q = _q(40, l)
    ref = sm.wigner_D(l, q.numpy())
    torch.testing.assert_close(F.wigner_D(l, q).numpy(), ref, atol=1e-10, rtol=0)
    torch.testing.assert_close(F.wigner_D(l, F.quat_to_matrix(q)).numpy(), ref, atol=1e-10, rtol=0)
    G = so3_group(1)
    els = G._elements_of(q.numpy())
    torch.testing.assert_close(F.irrep_matrices(G.irrep(l), q).numpy(), G.irrep(l).matrices(els), atol=1e-10, rtol=0)


def test_wigner_upto_matches_single_degrees_and_any_norm():
    q = _q(7, 100).reshape(7, 1, 4).expand(7, 2, 4)  # extra batch axis
    ups = F.wigner_D_upto(5, 3.0 * q)  # quaternions of any non-zero norm
    for l, D in enumerate(ups):
        assert D.shape == (7, 2, 2 * l + 1, 2 * l + 1)
        torch.testing.assert_close(D, F.wigner_D(l, q), atol=1e-11, rtol=0)


@pytest.mark.parametrize("l", [2, 7])
def test_homomorphism_orthogonality_and_harmonics_action(l):
    a, b = _q(10, 1), _q(10, 2)
    Da, Db = F.wigner_D(l, a), F.wigner_D(l, b)
    Dab = F.wigner_D(l, F.quat_multiply(a, b))
    torch.testing.assert_close(Dab, Da @ Db, atol=1e-10, rtol=0)
    eye = torch.eye(2 * l + 1, dtype=DT).expand_as(Da)
    torch.testing.assert_close(Da @ Da.transpose(-1, -2), eye, atol=1e-10, rtol=0)
    torch.testing.assert_close(F.wigner_D(l, F.quat_inverse(a)), Da.transpose(-1, -2), atol=1e-10, rtol=0)
    # Y_l(R x) = D^l(R) Y_l(x)
    x = torch.randn(5, 3, dtype=DT, generator=torch.Generator().manual_seed(3))
    R = F.quat_to_matrix(a)
    y = F.spherical_harmonics(l, x)[..., l * l :]
    yr = F.spherical_harmonics(l, x @ R[0].T)[..., l * l :]
    torch.testing.assert_close(yr, y @ Da[0].T, atol=1e-10, rtol=0)


def test_wigner_gradcheck_quaternion_and_matrix():
    q = _q(3, 4).requires_grad_()
    for l in (1, 2, 3):
        assert torch.autograd.gradcheck(lambda t, l=l: F.wigner_D(l, t), (q,))
    R = F.quat_to_matrix(_q(2, 5)).requires_grad_()
    for l in (1, 3):
        assert torch.autograd.gradcheck(lambda t, l=l: F.wigner_D(l, t), (R,))
    # a polynomial of degree l in R: homogeneous
    torch.testing.assert_close(F.wigner_D(3, 2.0 * R.detach()), 8.0 * F.wigner_D(3, R.detach()), atol=1e-10, rtol=0)


def test_wigner_float32_and_identity():
    q = _q(20, 6)
    D32 = F.wigner_D(4, q.float())
    assert D32.dtype == torch.float32
    torch.testing.assert_close(D32.double(), F.wigner_D(4, q), atol=5e-5, rtol=0)
    e = torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=DT)
    torch.testing.assert_close(F.wigner_D(6, e), torch.eye(13, dtype=DT), atol=1e-11, rtol=0)


def test_o3_irrep_matches_reference():
    G = o3_group(3)
    els = G.sample(30, seed=7)
    p = F.element_params(els)
    for j in (0, 1):
        for l in range(4):
            ref = G.irrep(j, l).matrices(els)
            torch.testing.assert_close(F.o3_irrep(j, l, p[:, 1:], p[:, 0]).numpy(), ref, atol=1e-10, rtol=0)
            got = F.o3_irrep(j, l, F.quat_to_matrix(p[:, 1:]), p[:, 0]).numpy()
            torch.testing.assert_close(got, ref, atol=1e-10, rtol=0)


def test_spherical_harmonics_moved_and_reexported():
    assert _torch_harmonics.spherical_harmonics_torch is F.spherical_harmonics
    x = np.random.default_rng(8).normal(size=(30, 3))
    torch.testing.assert_close(
        F.spherical_harmonics(6, torch.tensor(x)).numpy(), sm.real_spherical_harmonics(6, x), atol=1e-12, rtol=0
    )


def test_errors():
    with pytest.raises(ValueError, match="l"):
        F.wigner_D(-1, torch.zeros(4))
    with pytest.raises(ValueError, match="rotation"):
        F.wigner_D(1, torch.zeros(3))
    with pytest.raises(ValueError, match="j"):
        F.o3_irrep(2, 1, torch.eye(3), torch.tensor(0.0))
    with pytest.raises(TypeError, match="rotation"):
        F.wigner_D(1, [[1.0, 0, 0], [0, 1, 0], [0, 0, 1]])
