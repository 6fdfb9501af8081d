"""SO(3) utilities of steerable.group.functional: Haar sampling, exp/log, geodesic distance, 6-D."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from steerable.group import _so3_math as sm
from steerable.group import functional as F

DT = torch.float64


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _eye(*batch):
    return torch.eye(3, dtype=DT).expand(*batch, 3, 3)


def test_haar_shapes_dtype_and_reproducibility():
    q = F.haar_quaternions((3, 5), generator=_gen(0), dtype=DT)
    assert q.shape == (3, 5, 4) and q.dtype == DT
    torch.testing.assert_close(q.norm(dim=-1), torch.ones(3, 5, dtype=DT))
    assert bool((q[..., 3] >= 0).all())
    torch.testing.assert_close(q, F.haar_quaternions((3, 5), generator=_gen(0), dtype=DT), atol=0, rtol=0)
    R = F.haar_rotations(4, generator=_gen(1), dtype=torch.float32)
    assert R.shape == (4, 3, 3) and R.dtype == torch.float32
    torch.testing.assert_close(torch.linalg.det(R), torch.ones(4), atol=1e-5, rtol=0)


def test_haar_character_means_vanish():
    # E[χ_l(g)] = 0 for every non-trivial irrep under the Haar measure; std of χ_l is 1
    n = 4000
    q = F.haar_quaternions(n, generator=_gen(2), dtype=DT)
    for l in (1, 2, 3):
        chi = F.wigner_D(l, q).diagonal(dim1=-2, dim2=-1).sum(-1)
        assert abs(float(chi.mean())) < 4.0 / math.sqrt(n)
        assert abs(float((chi * chi).mean()) - 1.0) < 0.15
    # the rotation angle has density (1 - cos θ)/π on [0, π]: mean π/2 + 2/π
    theta = F.geodesic_distance(torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=DT).expand(n, 4), q)
    std = float(theta.std())
    assert abs(float(theta.mean()) - (math.pi / 2 + 2 / math.pi)) < 4 * std / math.sqrt(n)


def test_exp_matches_reference_and_log_inverts_it():
    v = torch.randn(300, 3, dtype=DT, generator=_gen(3))
    v = v / v.norm(dim=-1, keepdim=True) * torch.rand(300, 1, dtype=DT, generator=_gen(4)) * math.pi
    R = F.so3_exp(v)
    ref = sm.quat_to_matrix(sm.axis_angle_to_quat(v.numpy()))
    torch.testing.assert_close(R.numpy(), ref, atol=1e-14, rtol=0)
    torch.testing.assert_close(F.so3_log(R), v, atol=1e-12, rtol=0)
    torch.testing.assert_close(
        F.so3_log(R).numpy(), sm.quat_to_axis_angle(sm.matrix_to_quat(R.numpy())), atol=1e-12, rtol=0
    )


@pytest.mark.parametrize("angle", [0.0, 1e-12, 1e-7, 1e-3, 0.5, math.pi - 1e-3, math.pi - 1e-9, math.pi])
def test_exp_log_near_zero_and_pi(angle):
    axes = torch.nn.functional.normalize(torch.randn(30, 3, dtype=DT, generator=_gen(5)), dim=-1)
    R = F.so3_exp(axes * angle)
    torch.testing.assert_close(R @ R.transpose(-1, -2), _eye(30), atol=1e-14, rtol=0)
    v = F.so3_log(R)
    torch.testing.assert_close(F.so3_exp(v), R, atol=1e-12, rtol=0)
    torch.testing.assert_close(v.norm(dim=-1), torch.full((30,), angle, dtype=DT), atol=1e-12, rtol=0)
    if angle < math.pi - 1e-6:
        torch.testing.assert_close(v, axes * angle, atol=1e-12, rtol=0)


def test_exp_log_gradcheck():
    v = torch.tensor(
        [[0.3, -0.2, 0.5], [1e-4, 2e-5, -3e-5], [0.0, 0.0, 0.0], [1.0, 2.0, -0.5]], dtype=DT, requires_grad=True
    )
    assert torch.autograd.gradcheck(F.so3_exp, (v,))
    R = F.so3_exp(
        torch.tensor([[0.3, -0.2, 0.5], [1e-3, 2e-4, -3e-4], [1.0, 2.0, -0.5], [0.0, 2.9, 0.5]], dtype=DT)
    ).requires_grad_()
    assert torch.autograd.gradcheck(F.so3_log, (R,))
    # d/dv log(exp(v)) = I away from the cut locus
    jac = torch.autograd.functional.jacobian(lambda x: F.so3_log(F.so3_exp(x)), v.detach()[0])
    torch.testing.assert_close(jac, torch.eye(3, dtype=DT), atol=1e-10, rtol=0)


def test_exp_gradient_is_finite_at_zero():
    v = torch.zeros(3, dtype=DT, requires_grad=True)
    F.so3_exp(v).sum().backward()
    assert bool(torch.isfinite(v.grad).all())


def test_geodesic_distance_matrices_and_quaternions():
    qa = F.haar_quaternions(100, generator=_gen(6), dtype=DT)
    qb = F.haar_quaternions(100, generator=_gen(7), dtype=DT)
    rel = sm.quat_multiply(sm.quat_inverse(qa.numpy()), qb.numpy())
    ref = np.linalg.norm(sm.quat_to_axis_angle(rel), axis=-1)
    dq = F.geodesic_distance(qa, qb)
    dm = F.geodesic_distance(F.quat_to_matrix(qa), F.quat_to_matrix(qb))
    torch.testing.assert_close(dq.numpy(), ref, atol=1e-12, rtol=0)
    torch.testing.assert_close(dm.numpy(), ref, atol=1e-12, rtol=0)
    torch.testing.assert_close(F.geodesic_distance(qa, -qb), dq, atol=1e-12, rtol=0)  # q ~ -q
    # tiny and near-π angles stay accurate (the atan2 form)
    axis = torch.tensor([0.6, 0.0, 0.8], dtype=DT)
    for t in (1e-9, 1e-5, math.pi - 1e-7, math.pi):
        d = F.geodesic_distance(_eye(), F.so3_exp(axis * t))
        assert abs(float(d) - t) < 1e-12 * max(1.0, t) + 1e-15


def test_geodesic_distance_gradcheck_and_cut_points():
    qa = F.haar_quaternions(4, generator=_gen(8), dtype=DT)
    qb = F.haar_quaternions(4, generator=_gen(9), dtype=DT)
    Ra, Rb = F.quat_to_matrix(qa).requires_grad_(), F.quat_to_matrix(qb).requires_grad_()
    assert torch.autograd.gradcheck(F.geodesic_distance, (Ra, Rb))
    assert torch.autograd.gradcheck(F.geodesic_distance, (qa.clone().requires_grad_(), qb.clone().requires_grad_()))
    # at the cut points the gradient is finite (0 through |sin θ|)
    for t in (0.0, math.pi):
        R = F.so3_exp(torch.tensor([0.0, 0.0, t], dtype=DT)).requires_grad_()
        F.geodesic_distance(_eye(), R).backward()
        assert bool(torch.isfinite(R.grad).all())


def test_sixd_round_trip_and_gradcheck():
    R = F.haar_rotations(50, generator=_gen(10), dtype=DT)
    x = F.matrix_to_sixd(R)
    assert x.shape == (50, 6)
    torch.testing.assert_close(F.sixd_to_matrix(x), R, atol=1e-14, rtol=0)
    y = torch.randn(20, 6, dtype=DT, generator=_gen(11))
    M = F.sixd_to_matrix(y)
    torch.testing.assert_close(M @ M.transpose(-1, -2), _eye(20), atol=1e-14, rtol=0)
    torch.testing.assert_close(torch.linalg.det(M), torch.ones(20, dtype=DT), atol=1e-14, rtol=0)
    # Gram–Schmidt: the first column is a1's direction, the second lies in span(a1, a2)
    torch.testing.assert_close(M[..., 0], torch.nn.functional.normalize(y[..., :3], dim=-1), atol=1e-14, rtol=0)
    assert torch.autograd.gradcheck(F.sixd_to_matrix, (y[:4].clone().requires_grad_(),))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(-3, 3, allow_nan=False), min_size=3, max_size=3))
def test_exp_log_property(vals):
    v = torch.tensor(vals, dtype=DT)
    if float(v.norm()) > math.pi - 1e-6:
        v = v / v.norm() * (math.pi - 1e-6)
    torch.testing.assert_close(F.so3_log(F.so3_exp(v)), v, atol=1e-10, rtol=0)


def test_float32():
    v = torch.randn(64, 3, generator=_gen(12))
    R = F.so3_exp(v)
    assert R.dtype == torch.float32
    torch.testing.assert_close(F.so3_exp(F.so3_log(R)), R, atol=1e-5, rtol=0)
    d = F.geodesic_distance(R, F.sixd_to_matrix(F.matrix_to_sixd(R)))
    assert float(d.max()) < 1e-3


def test_errors():
    with pytest.raises(ValueError, match="v"):
        F.so3_exp(torch.zeros(4))
    with pytest.raises(ValueError, match="R"):
        F.so3_log(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="b"):
        F.geodesic_distance(torch.eye(3), torch.tensor([0.0, 0, 0, 1]))
    with pytest.raises(ValueError, match="n"):
        F.haar_quaternions(-1)
    with pytest.raises(TypeError, match="generator"):
        F.haar_quaternions(3, generator=0)
    with pytest.raises(ValueError, match="x"):
        F.sixd_to_matrix(torch.zeros(5))
