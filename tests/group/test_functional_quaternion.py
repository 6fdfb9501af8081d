"""steerable.group.functional quaternion helpers against the numpy reference (_so3_math)."""

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


def _rand_q(n, seed):
    return torch.tensor(sm.random_quaternions(n, np.random.default_rng(seed)))


def test_multiply_inverse_canonical_match_reference():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 50, 4))
    torch.testing.assert_close(
        F.quat_multiply(torch.tensor(a), torch.tensor(b)).numpy(), sm.quat_multiply(a, b), atol=1e-14, rtol=0
    )
    torch.testing.assert_close(F.quat_inverse(torch.tensor(a)).numpy(), sm.quat_inverse(a), atol=0, rtol=0)
    a[:5, 3] = 0.0  # w = 0: the sign is fixed by the first non-zero of x, y, z
    a[:2, 0] = 0.0
    torch.testing.assert_close(F.quat_canonical(torch.tensor(a)).numpy(), sm.quat_canonical(a), atol=1e-15, rtol=0)


def test_quat_to_matrix_and_back_match_reference():
    q = _rand_q(200, 1)
    R = F.quat_to_matrix(q)
    torch.testing.assert_close(R.numpy(), sm.quat_to_matrix(q.numpy()), atol=1e-14, rtol=0)
    torch.testing.assert_close(F.matrix_to_quat(R).numpy(), sm.matrix_to_quat(R.numpy()), atol=1e-12, rtol=0)
    # every Shepperd branch and half-turns: rotations by π about random axes and about x, y, z
    gen = torch.Generator().manual_seed(1)
    axes = torch.cat(
        [torch.eye(3, dtype=DT), torch.nn.functional.normalize(torch.randn(20, 3, dtype=DT, generator=gen), dim=-1)]
    )
    for angle in (math.pi, math.pi - 1e-7, 1e-9, 0.0):
        Rh = F.so3_exp(axes * angle)
        q2 = F.matrix_to_quat(Rh)
        torch.testing.assert_close(F.quat_to_matrix(q2), Rh, atol=1e-12, rtol=0)
        torch.testing.assert_close(q2.numpy(), sm.matrix_to_quat(Rh.numpy()), atol=1e-8, rtol=0)


def test_matrix_to_quat_gradcheck():
    q = _rand_q(6, 2)
    q[0] = torch.tensor([0.9, 0.1, 0.2, 0.1])  # w branch
    q[1] = torch.tensor([0.1, 0.95, 0.2, 0.1])  # x branch
    q[2] = torch.tensor([0.1, 0.2, 0.95, 0.1])  # y branch
    q[3] = torch.tensor([0.1, 0.2, 0.1, -0.95])  # z... (w large, negative sign canonicalised)
    q[4] = torch.tensor([0.2, 0.1, 0.95, 0.1])
    R = F.quat_to_matrix(q).requires_grad_()
    assert torch.autograd.gradcheck(F.matrix_to_quat, (R,))
    assert torch.autograd.gradcheck(lambda m: F.matrix_to_quat(m, canonical=False), (R,))
    assert torch.autograd.gradcheck(F.quat_to_matrix, (q.clone().requires_grad_(),))


def test_axis_angle_round_trip_and_reference():
    gen = torch.Generator().manual_seed(0)
    v = torch.randn(100, 3, dtype=DT, generator=gen)
    v = v / v.norm(dim=-1, keepdim=True) * torch.rand(100, 1, dtype=DT, generator=gen) * (math.pi - 1e-6)
    q = F.axis_angle_to_quat(v)
    torch.testing.assert_close(q.numpy(), sm.axis_angle_to_quat(v.numpy()), atol=1e-13, rtol=0)
    torch.testing.assert_close(F.quat_to_axis_angle(q), v, atol=1e-12, rtol=0)
    half = v / v.norm(dim=-1, keepdim=True) * math.pi  # half-turns: the same rotation as the reference's
    torch.testing.assert_close(
        F.quat_canonical(F.axis_angle_to_quat(half)).numpy(), sm.axis_angle_to_quat(half.numpy()), atol=1e-13, rtol=0
    )
    small = torch.tensor([[1e-9, -2e-9, 3e-10], [0.0, 0.0, 0.0], [1e-5, 0.0, 0.0]], dtype=DT)
    torch.testing.assert_close(F.quat_to_axis_angle(F.axis_angle_to_quat(small)), small, atol=1e-18, rtol=1e-12)
    vg = torch.tensor([[0.3, -0.2, 0.1], [1e-5, 2e-5, -1e-5], [0.0, 0.0, 0.0]], dtype=DT, requires_grad=True)
    assert torch.autograd.gradcheck(F.axis_angle_to_quat, (vg,))
    qg = F.axis_angle_to_quat(vg.detach()[:2]).requires_grad_()
    assert torch.autograd.gradcheck(F.quat_to_axis_angle, (qg,))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-1, 1, allow_nan=False), min_size=8, max_size=8))
def test_product_is_composition(vals):
    a = torch.tensor(vals[:4], dtype=DT)
    b = torch.tensor(vals[4:], dtype=DT)
    if a.norm() < 1e-3 or b.norm() < 1e-3:
        return
    torch.testing.assert_close(
        F.quat_to_matrix(F.quat_multiply(a, b)), F.quat_to_matrix(a) @ F.quat_to_matrix(b), atol=1e-12, rtol=0
    )


def test_float32_and_errors():
    q = _rand_q(10, 3).float()
    R = F.quat_to_matrix(q)
    assert R.dtype == torch.float32
    torch.testing.assert_close(F.quat_to_matrix(F.matrix_to_quat(R)), R, atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="q"):
        F.quat_to_matrix(torch.zeros(3, 3))
    with pytest.raises(TypeError, match="q1"):
        F.quat_multiply([1.0, 0, 0, 0], torch.zeros(4))
    with pytest.raises(ValueError, match="R"):
        F.matrix_to_quat(torch.zeros(4, 4))
