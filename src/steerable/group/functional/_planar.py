"""Irreps of SO(2), O(2), C_N and D_N in torch, in closed form (the basis of ``group._planar``)."""

from __future__ import annotations

import torch

from ._checks import as_float_tensor, degree, integer


def _rot2(theta: torch.Tensor) -> torch.Tensor:
    c, s = torch.cos(theta), torch.sin(theta)
    return torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)


def _check_N(N) -> int | None:
    if N is None:
        return None
    N = integer(N, "N")
    if N == -1:
        return None
    if N < 1:
        raise ValueError(f"N: expected a positive integer (C_N, D_N) or None / -1 (SO(2), O(2)), got {N}")
    return N


def _one_dim(k: int, N: int | None) -> bool:
    return k == 0 or (N is not None and 2 * k == N)


def _check_k(k, N: int | None) -> int:
    k = degree(k, "k")
    if N is not None and k > N // 2:
        raise ValueError(f"k: the irreps of C_{N} / D_{N} have frequencies 0..{N // 2}, got {k}")
    return k


def so2_irrep(k: int, angle, N: int | None = None) -> torch.Tensor:
    """The irrep of frequency ``k`` of SO(2) (``N=None``) or C_N at rotation angles (...,) in
    radians: ``[[cos kθ, -sin kθ], [sin kθ, cos kθ]]``, or the 1×1 ``cos kθ`` for ``k = 0`` and
    (C_N) ``2k = N``. Shape (..., d, d). For C_N pass ``angle = 2π · index / N``.

    >>> import math, torch
    >>> from steerable.group.functional import so2_irrep
    >>> so2_irrep(1, torch.tensor([math.pi / 2], dtype=torch.float64)).round(decimals=12).tolist()
    [[[0.0, -1.0], [1.0, 0.0]]]
    """
    N = _check_N(N)
    k = _check_k(k, N)
    angle = as_float_tensor(angle, "angle")
    if _one_dim(k, N):
        v = torch.cos(k * angle) if k else torch.ones_like(angle)
        return v[..., None, None]
    return _rot2(k * angle)


def o2_irrep(j: int, k: int, angle, flip, N: int | None = None) -> torch.Tensor:
    """The irrep ``(j, k)`` of O(2) (``N=None``) or D_N at the elements ``r_θ f^flip`` (the
    rotation by ``angle`` after the optional mirror ``f = diag(1, -1)``); ``flip`` (...,) is
    0/1 (read as ``flip > 0.5``). 2×2 irreps (``j = 1``, k > 0): ``R(kθ) f^flip``; 1-dim:
    ``cos(kθ) · (-1)^(j·flip)`` for ``k = 0`` and (D_N) ``2k = N``.

    >>> import torch
    >>> from steerable.group.functional import o2_irrep
    >>> o2_irrep(1, 1, torch.tensor(0.0), torch.tensor(1.0)).tolist()
    [[1.0, 0.0], [0.0, -1.0]]
    """
    N = _check_N(N)
    k = _check_k(k, N)
    j = integer(j, "j")
    if j not in (0, 1) or (j == 0 and not _one_dim(k, N)):
        raise ValueError(f"j: expected 0 or 1 (0 only for the 1-dim irreps), got j={j} for k={k}")
    angle = as_float_tensor(angle, "angle")
    flip = as_float_tensor(flip, "flip").to(angle.dtype)
    angle, flip = torch.broadcast_tensors(angle, flip)
    sign = torch.where(flip > 0.5, -torch.ones_like(flip), torch.ones_like(flip))
    if _one_dim(k, N):
        v = torch.cos(k * angle) if k else torch.ones_like(angle)
        if j == 1:
            v = v * sign
        return v[..., None, None]
    m = _rot2(k * angle)
    return m * torch.stack([torch.ones_like(sign), sign], -1)[..., None, :]
