"""Unit quaternions in torch, scalar last ``(x, y, z, w)`` like ``steerable.group._so3_math``."""

from __future__ import annotations

import torch

from ._checks import last_dim, matrices, tiny

_EPS_CANON = 1e-12  # the numpy reference's threshold for "w = 0" in the canonical sign


def quat_multiply(q1, q2) -> torch.Tensor:
    """Hamilton product ``q1 * q2`` (broadcast over leading axes), so that
    ``quat_to_matrix(quat_multiply(a, b)) == quat_to_matrix(a) @ quat_to_matrix(b)``.

    >>> import torch
    >>> from steerable.group.functional import quat_multiply
    >>> i = torch.tensor([1.0, 0.0, 0.0, 0.0])
    >>> quat_multiply(i, i).tolist()
    [0.0, 0.0, 0.0, -1.0]
    """
    q1 = last_dim(q1, 4, "q1")
    q2 = last_dim(q2, 4, "q2")
    x1, y1, z1, w1 = q1.unbind(-1)
    x2, y2, z2, w2 = q2.unbind(-1)
    return torch.stack(
        [
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        ],
        -1,
    )


def quat_inverse(q) -> torch.Tensor:
    """Inverse of unit quaternions: the conjugate ``(-x, -y, -z, w)``.

    >>> import torch
    >>> from steerable.group.functional import quat_inverse
    >>> quat_inverse(torch.tensor([0.6, 0.0, 0.0, 0.8])).tolist()
    [-0.6000000238418579, -0.0, -0.0, 0.800000011920929]
    """
    q = last_dim(q, 4, "q")
    return torch.cat([-q[..., :3], q[..., 3:]], -1)


def quat_canonical(q) -> torch.Tensor:
    """Normalise and pick the canonical sign of ``q ~ -q``: ``w > 0``, or, when ``|w| < 1e-12``,
    the first of ``x, y, z`` with ``|.| > 1e-12`` positive (the numpy reference's rule).
    Differentiable away from ``w = 0`` (where the sign flips).

    >>> import torch
    >>> from steerable.group.functional import quat_canonical
    >>> quat_canonical(torch.tensor([0.0, 0.0, 2.0, -2.0], dtype=torch.float64)).round(decimals=6).tolist()
    [-0.0, -0.0, -0.707107, 0.707107]
    """
    q = last_dim(q, 4, "q")
    q = q / torch.linalg.vector_norm(q, dim=-1, keepdim=True)
    w = q[..., 3]
    v = q[..., :3]
    big = v.abs() > _EPS_CANON
    first = torch.argmax(big.to(torch.uint8), dim=-1, keepdim=True)
    lead = torch.gather(v, -1, first)[..., 0]
    flip = torch.where(w.abs() >= _EPS_CANON, w < 0, lead < 0)
    return torch.where(flip[..., None], -q, q)


def quat_to_matrix(q) -> torch.Tensor:
    """Rotation matrices ``(..., 3, 3)`` of (not necessarily unit, non-zero) quaternions.

    >>> import math, torch
    >>> from steerable.group.functional import quat_to_matrix
    >>> q = torch.tensor([0.0, 0.0, math.sin(math.pi / 4), math.cos(math.pi / 4)], dtype=torch.float64)
    >>> quat_to_matrix(q).round(decimals=12).tolist()
    [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    q = last_dim(q, 4, "q")
    q = q / torch.linalg.vector_norm(q, dim=-1, keepdim=True)
    x, y, z, w = q.unbind(-1)
    xx, yy, zz = x * x, y * y, z * z
    xy, xz, yz = x * y, x * z, y * z
    wx, wy, wz = w * x, w * y, w * z
    R = torch.stack(
        [
            1 - 2 * (yy + zz),
            2 * (xy - wz),
            2 * (xz + wy),
            2 * (xy + wz),
            1 - 2 * (xx + zz),
            2 * (yz - wx),
            2 * (xz - wy),
            2 * (yz + wx),
            1 - 2 * (xx + yy),
        ],
        -1,
    )
    return R.reshape(q.shape[:-1] + (3, 3))


def matrix_to_quat(R, canonical: bool = True) -> torch.Tensor:
    """Unit quaternions of rotation matrices ``(..., 3, 3)`` (Shepperd's method).

    Each rotation uses the branch with the largest of ``w², x², y², z²`` (its denominator is then
    at least 1/2), so the map is accurate and differentiable everywhere except where the chosen
    branch changes (there the branches agree after ``canonical``) and, with ``canonical=True``
    (the numpy reference's sign), at ``w = 0`` (half-turns). Inputs that are not exactly
    orthogonal give the normalised quaternion of the chosen branch.

    >>> import torch
    >>> from steerable.group.functional import matrix_to_quat
    >>> matrix_to_quat(torch.eye(3)).tolist()
    [0.0, 0.0, 0.0, 1.0]
    """
    R = matrices(R, 3, "R")
    r = R.unbind(-1)  # columns
    r00, r10, r20 = r[0].unbind(-1)
    r01, r11, r21 = r[1].unbind(-1)
    r02, r12, r22 = r[2].unbind(-1)
    # four times the squares of w, x, y, z
    s = torch.stack([1 + r00 + r11 + r22, 1 + r00 - r11 - r22, 1 - r00 + r11 - r22, 1 - r00 - r11 + r22], -1)
    floor = tiny(R.dtype)
    d = 2.0 * torch.sqrt(s.clamp_min(floor))  # 4 |component| of each branch (clamped: unused branches stay finite)
    dw, dx, dy, dz = d.unbind(-1)
    a, b, c = r21 - r12, r02 - r20, r10 - r01  # 4 w (x, y, z)
    e, f, g = r01 + r10, r02 + r20, r12 + r21  # 4 (xy, xz, yz)
    cand = torch.stack(
        [
            torch.stack([a / dw, b / dw, c / dw, dw / 4], -1),
            torch.stack([dx / 4, e / dx, f / dx, a / dx], -1),
            torch.stack([e / dy, dy / 4, g / dy, b / dy], -1),
            torch.stack([f / dz, g / dz, dz / 4, c / dz], -1),
        ],
        -2,
    )  # (..., branch, 4)
    best = torch.argmax(s, dim=-1)
    q = torch.gather(cand, -2, best[..., None, None].expand(best.shape + (1, 4)))[..., 0, :]
    q = q / torch.linalg.vector_norm(q, dim=-1, keepdim=True)
    return quat_canonical(q) if canonical else q


def axis_angle_to_quat(v) -> torch.Tensor:
    """Unit quaternions of rotation vectors ``v = axis · angle`` (..., 3): ``(sin(θ/2) axis, cos(θ/2))``
    with ``w ≥ 0`` for ``θ ≤ π``; smooth everywhere (a series near θ = 0).

    >>> import math, torch
    >>> from steerable.group.functional import axis_angle_to_quat
    >>> axis_angle_to_quat(torch.tensor([0.0, 0.0, math.pi], dtype=torch.float64)).round(decimals=12).tolist()
    [0.0, 0.0, 1.0, 0.0]
    """
    v = last_dim(v, 3, "v")
    t2 = (v * v).sum(-1)
    small = t2 < 1e-6  # θ < 1e-3: sin(θ/2)/θ = 1/2 - θ²/48 + θ⁴/3840 to rounding
    t2s = torch.where(small, torch.ones_like(t2), t2)
    t = torch.sqrt(t2s)
    sinc_half = torch.where(small, 0.5 - t2 / 48.0 + t2 * t2 / 3840.0, torch.sin(0.5 * t) / t)
    cos_half = torch.where(small, 1.0 - t2 / 8.0 + t2 * t2 / 384.0, torch.cos(0.5 * t))
    return torch.cat([v * sinc_half[..., None], cos_half[..., None]], -1)


def quat_to_axis_angle(q) -> torch.Tensor:
    """Rotation vectors ``axis · angle`` (angle in [0, π]) of quaternions (..., 4) (canonicalised
    first; smooth near the identity by a series, exact near π where ``w → 0``).

    >>> import torch
    >>> from steerable.group.functional import quat_to_axis_angle
    >>> quat_to_axis_angle(torch.tensor([0.0, 1.0, 0.0, 0.0], dtype=torch.float64)).tolist()
    [0.0, 3.141592653589793, 0.0]
    """
    q = quat_canonical(q)
    v, w = q[..., :3], q[..., 3]
    n2 = (v * v).sum(-1)
    small = n2 < 1e-8  # |v| < 1e-4 (then w ≈ 1): 2 atan(n/w)/n = (2/w)(1 - n²/(3w²) + n⁴/(5w⁴))
    n = torch.sqrt(torch.where(small, torch.ones_like(n2), n2))
    ws = torch.where(small, w, torch.ones_like(w))
    u = n2 / (ws * ws)
    series = (2.0 / ws) * (1.0 - u / 3.0 + u * u / 5.0)
    scale = torch.where(small, series, 2.0 * torch.atan2(n, w) / n)
    return v * scale[..., None]
