"""Accuracy and properties of the spline resampling behind transforms at non-grid elements."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from steerable import gspaces
from steerable.gspaces import grid_coordinates, transform_grid

ANGLES = [0.3, 0.7, 1.1, 2.0, 2.9]


def bump(n=65, centre=(6.0, -4.0), sigma=5.0):
    c = grid_coordinates((n, n))
    f = lambda p: np.exp(-((p - np.array(centre)) ** 2).sum(-1) / (2 * sigma**2))
    return c, f


def rot(t):
    return np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


@pytest.mark.parametrize("order, tol", [(3, 3.5e-4), (2, 3.5e-4)])
def test_rotation_of_smooth_field_is_accurate(order, tol):
    # a Gaussian bump on 65×65 against the exact rotation: escnn (quadratic spline) reaches
    # 2.3e-4 .. 5.0e-4 here; bilinear resampling only ~9e-3
    c, f = bump()
    x = torch.as_tensor(f(c))[None, None]
    errs = []
    for t in ANGLES:
        m = rot(t)
        got = transform_grid(x, m, order=order)[0, 0].numpy()
        exact = f(c @ np.linalg.inv(m).T)
        errs.append(np.abs(got - exact).max() / np.abs(exact).max())
    assert max(errs) <= tol, errs
    lin = transform_grid(x, rot(0.7), order=1)[0, 0].numpy()
    assert np.abs(lin - f(c @ rot(0.7))).max() > 10 * max(errs)  # the test can tell them apart


def test_default_is_cubic_and_signal_transform_uses_it():
    c, f = bump(33, (3.0, -2.0), 3.0)
    x = torch.as_tensor(f(c))[None, None]
    gs = gspaces.rot2dOnR2(-1)
    g = gs.fibergroup.element(0.5)
    torch.testing.assert_close(gs.transform_signal(x, g), transform_grid(x, rot(0.5), order=3))
    torch.testing.assert_close(transform_grid(x, rot(0.5)), transform_grid(x, rot(0.5), order=3))
    assert not torch.allclose(gs.transform_signal(x, g, order=1), gs.transform_signal(x, g))


def test_3d_rotation_of_smooth_field_is_accurate():
    from scipy.spatial.transform import Rotation

    shape = (25, 25, 25)
    c = grid_coordinates(shape)
    f = lambda p: np.exp(-((p - np.array([2.0, -1.0, 1.5])) ** 2).sum(-1) / (2 * 3.0**2))
    m = Rotation.from_rotvec([0.3, 0.5, -0.2]).as_matrix()
    got = transform_grid(torch.as_tensor(f(c))[None, None], m)[0, 0].numpy()
    exact = f(c @ m)  # M⁻¹ = Mᵀ
    assert np.abs(got - exact).max() < 2e-3


def test_nodes_are_reproduced_and_far_points_vanish():
    x = torch.randn(1, 2, 7, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for order in (2, 3):
        for m in ([[0, -1], [1, 0]], [[-1, 0], [0, 1]]):
            torch.testing.assert_close(transform_grid(x, m, mode="interpolate", order=order), transform_grid(x, m))
    # a translation-free scaling by 3 maps most points far outside the grid: exactly zero there
    y = transform_grid(x, np.diag([1 / 3.0, 1 / 3.0]), order=3)
    c = grid_coordinates((7, 7))
    far = np.any(np.abs(c * 3.0) >= 4.0, axis=-1)
    assert y[0, 0][torch.as_tensor(far)].abs().max() == 0.0


def test_interpolation_is_differentiable_in_signal_and_matrix():
    x = torch.randn(1, 1, 9, 9, dtype=torch.float64, requires_grad=True)
    t = torch.tensor(0.4, dtype=torch.float64, requires_grad=True)
    m = torch.stack([torch.stack([torch.cos(t), -torch.sin(t)]), torch.stack([torch.sin(t), torch.cos(t)])])
    y = transform_grid(x, m, order=3)
    (y**2).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert t.grad is not None and torch.isfinite(t.grad) and t.grad.abs() > 0
    # linear in the signal
    a, b = torch.randn(2, 1, 1, 9, 9, dtype=torch.float64)
    r = rot(0.9)
    torch.testing.assert_close(transform_grid(a + 2 * b, r), transform_grid(a, r) + 2 * transform_grid(b, r))


def test_float32_and_bad_order():
    c, f = bump(33, (3.0, -2.0), 3.0)
    x64 = torch.as_tensor(f(c))[None, None]
    y32 = transform_grid(x64.float(), rot(0.7))
    assert y32.dtype == torch.float32
    assert (y32.double() - transform_grid(x64, rot(0.7))).abs().max() < 1e-5
    with pytest.raises(ValueError, match="order"):
        transform_grid(x64, rot(0.7), order=4)
    with pytest.raises(ValueError, match="order"):
        transform_grid(x64, rot(0.7), order=True)
