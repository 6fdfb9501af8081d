"""SO(3) utilities in torch: Haar sampling, exp/log maps, geodesic distance, the 6-D map."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ._checks import last_dim, matrices, rotation_input
from ._quaternion import matrix_to_quat, quat_canonical, quat_inverse, quat_multiply, quat_to_axis_angle, quat_to_matrix


def _shape(n, name: str = "n") -> tuple[int, ...]:
    if isinstance(n, bool):
        raise ValueError(f"{name}: expected a non-negative integer or a shape, got {n!r}")
    if isinstance(n, int):
        n = (n,)
    if not isinstance(n, (tuple, list, torch.Size)) or not all(
        isinstance(k, int) and not isinstance(k, bool) and k >= 0 for k in n
    ):
        raise ValueError(f"{name}: expected a non-negative integer or a shape, got {n!r}")
    return tuple(n)


def haar_quaternions(
    n: int | Sequence[int],
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Haar-uniform rotations as canonical unit quaternions, shape ``(*n, 4)`` (normalised
    Gaussian 4-vectors; ``generator`` makes the draw reproducible).

    >>> import torch
    >>> from steerable.group.functional import haar_quaternions
    >>> q = haar_quaternions(5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> q.shape, bool(torch.allclose(q.norm(dim=-1), torch.ones(5, dtype=torch.float64)))
    (torch.Size([5, 4]), True)
    """
    shape = _shape(n)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator: expected a torch.Generator or None, got {type(generator).__name__}")
    if dtype is not None and not dtype.is_floating_point:
        raise ValueError(f"dtype: expected a floating dtype, got {dtype}")
    if generator is not None and device is None:
        device = generator.device
    g = torch.randn(shape + (4,), generator=generator, dtype=dtype, device=device)
    return quat_canonical(g)


def haar_rotations(
    n: int | Sequence[int],
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Haar-uniform rotation matrices, shape ``(*n, 3, 3)`` (``quat_to_matrix`` of
    :func:`haar_quaternions`).

    >>> import torch
    >>> from steerable.group.functional import haar_rotations
    >>> R = haar_rotations(2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> bool(torch.allclose(R @ R.transpose(-1, -2), torch.eye(3, dtype=torch.float64).expand(2, 3, 3)))
    True
    """
    return quat_to_matrix(haar_quaternions(n, generator, dtype, device))


def _hat(v: torch.Tensor) -> torch.Tensor:
    x, y, z = v.unbind(-1)
    o = torch.zeros_like(x)
    return torch.stack([o, -z, y, z, o, -x, -y, x, o], -1).reshape(v.shape[:-1] + (3, 3))


def so3_exp(v) -> torch.Tensor:
    """The exponential map: rotation vectors ``v = axis · angle`` (..., 3) → rotation matrices
    (..., 3, 3), by Rodrigues' formula ``I + sin θ/θ K + (1 - cos θ)/θ² K²`` with series for
    small θ (smooth, finite gradients everywhere, also at ``v = 0``).

    >>> import math, torch
    >>> from steerable.group.functional import so3_exp
    >>> so3_exp(torch.tensor([0.0, 0.0, math.pi / 2], dtype=torch.float64)).round(decimals=12).tolist()
    [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    v = last_dim(v, 3, "v")
    t2 = (v * v).sum(-1)
    small = t2 < 1e-4  # θ < 1e-2: series exact to rounding
    t2s = torch.where(small, torch.ones_like(t2), t2)
    t = torch.sqrt(t2s)
    a = torch.where(small, 1.0 - t2 / 6.0 + t2 * t2 / 120.0, torch.sin(t) / t)
    b = torch.where(small, 0.5 - t2 / 24.0 + t2 * t2 / 720.0, (1.0 - torch.cos(t)) / t2s)
    K = _hat(v)
    eye = torch.eye(3, dtype=v.dtype, device=v.device)
    return eye + a[..., None, None] * K + b[..., None, None] * (K @ K)


def so3_log(R) -> torch.Tensor:
    """The logarithm map: rotation matrices (..., 3, 3) → rotation vectors ``axis · angle`` with
    angle in [0, π] (inverse of :func:`so3_exp`).

    Computed through the quaternion (:func:`matrix_to_quat`, Shepperd's method) and
    ``2 atan2(|v|, w)``, so it is accurate near the identity (a series) and near π. It is
    differentiable except at half-turns (θ = π, the cut locus: there ``v`` and ``-v`` are the
    same rotation and the returned sign follows the canonical quaternion).

    >>> import torch
    >>> from steerable.group.functional import so3_exp, so3_log
    >>> v = torch.tensor([0.3, -0.2, 0.5], dtype=torch.float64)
    >>> bool(torch.allclose(so3_log(so3_exp(v)), v))
    True
    """
    R = matrices(R, 3, "R")
    return quat_to_axis_angle(matrix_to_quat(R, canonical=True))


def geodesic_distance(a, b) -> torch.Tensor:
    """The angle in [0, π] of ``a⁻¹ b`` for rotations given as matrices (..., 3, 3) or quaternions
    (..., 4) (both arguments in the same form; broadcast over leading axes).

    ``atan2(|sin|, cos)`` form, accurate for all angles. Differentiable except at the two cut
    points: at θ = 0 (a cusp, like ``|x|``) and θ = π the returned gradient is the finite
    one-sided choice 0 for the part through ``|sin θ|``.

    >>> import math, torch
    >>> from steerable.group.functional import geodesic_distance, so3_exp
    >>> a = so3_exp(torch.tensor([0.0, 0.0, 0.3], dtype=torch.float64))
    >>> b = so3_exp(torch.tensor([0.0, 0.0, -0.4], dtype=torch.float64))
    >>> round(float(geodesic_distance(a, b)), 12)
    0.7
    """
    a, qa = rotation_input(a, "a")
    b, qb = rotation_input(b, "b")
    if qa != qb:
        raise ValueError(
            f"b: expected rotations in the same form as a ({'quaternions' if qa else 'matrices'}), "
            f"got shape {tuple(b.shape)}"
        )
    if qa:
        rel = quat_multiply(quat_inverse(a), b)
        s2 = (rel[..., :3] ** 2).sum(-1)
        c = rel[..., 3].abs()
        zero = s2 == 0
        s = torch.sqrt(torch.where(zero, torch.ones_like(s2), s2))
        s = torch.where(zero, torch.zeros_like(s), s)
        return 2.0 * torch.atan2(s, c)
    m = a.transpose(-1, -2) @ b
    cos = 0.5 * (m.diagonal(dim1=-2, dim2=-1).sum(-1) - 1.0)
    w = torch.stack([m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1)
    s2 = (w * w).sum(-1)
    zero = s2 == 0
    s = torch.sqrt(torch.where(zero, torch.ones_like(s2), s2))
    s = torch.where(zero, torch.zeros_like(s), s)
    return torch.atan2(0.5 * s, cos)


def sixd_to_matrix(x) -> torch.Tensor:
    """The continuous 6-D rotation representation (Zhou et al. 2019) → rotation matrices:
    ``x = (a₁, a₂)`` (..., 6) are two 3-vectors, Gram–Schmidt gives the first two columns
    ``b₁ = a₁/|a₁|``, ``b₂ ∝ a₂ - (b₁·a₂) b₁`` and ``b₃ = b₁ × b₂``. Smooth wherever ``a₁, a₂``
    are independent.

    >>> import torch
    >>> from steerable.group.functional import sixd_to_matrix
    >>> sixd_to_matrix(torch.tensor([2.0, 0.0, 0.0, 1.0, 3.0, 0.0])).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    x = last_dim(x, 6, "x")
    a1, a2 = x[..., :3], x[..., 3:]
    b1 = a1 / torch.linalg.vector_norm(a1, dim=-1, keepdim=True)
    u = a2 - (b1 * a2).sum(-1, keepdim=True) * b1
    b2 = u / torch.linalg.vector_norm(u, dim=-1, keepdim=True)
    b3 = torch.linalg.cross(b1, b2, dim=-1)
    return torch.stack([b1, b2, b3], -1)


def matrix_to_sixd(R) -> torch.Tensor:
    """The 6-D representation of rotation matrices (..., 3, 3): their first two columns,
    concatenated (..., 6); ``sixd_to_matrix(matrix_to_sixd(R)) == R``.

    >>> import torch
    >>> from steerable.group.functional import matrix_to_sixd
    >>> matrix_to_sixd(torch.eye(3)).tolist()
    [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    """
    R = matrices(R, 3, "R")
    return torch.cat([R[..., :, 0], R[..., :, 1]], -1)
