"""Differentiable torch versions of the angular harmonics and of the kernel-basis sampler.

Everything here is plain, vectorised torch (any floating dtype, any device, autograd through
the points) and reproduces the numpy reference of :mod:`steerable.kernels._harmonics` /
:meth:`steerable.kernels.IrrepsPairBasis.sample` to rounding (1e-12 in float64):

- ``spherical_harmonics_torch``: the real spherical harmonics of ``steerable.group._so3_math``
  (no Condon–Shortley phase, ``m = -l..l`` within a degree), by the polynomial recursion in
  ``x, y, z`` (no angles, regular at the poles). With ``normalize=False`` they are the solid
  harmonics ``|x|^l Y_l(x̂)`` (homogeneous polynomials, smooth everywhere).
- ``harmonics_torch``: ``_harmonics.harmonics`` (circular harmonics on R^2, spherical on R^3,
  ``Σ_m Y_{j,m}² = 1``, only ``Y_0`` non-zero for ``|x| < 1e-9``).
- ``radial_harmonic_features``: the products ``φ_r(|x|) Y_{j,m}(x̂)`` of every Gaussian ring
  profile with every harmonic up to order J, shape (N, R·M). A steerable kernel basis is a
  *fixed linear map* of these features (``pair_basis_coefficients``), so sampling a basis on N
  points is one matmul: ``sample_pair_basis_torch``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from steerable.group.functional._harmonics import spherical_harmonics as spherical_harmonics_torch

__all__ = [
    "spherical_harmonics_torch",
    "harmonics_torch",
    "harmonic_dims",
    "radial_harmonic_features",
    "pair_basis_coefficients",
    "sample_pair_basis_torch",
]

_ORIGIN = 1e-9  # the numpy harmonics' origin rule: |x| < 1e-9 is the origin


def _as_points(points, d: int | None, name: str = "points") -> torch.Tensor:
    if isinstance(points, np.ndarray):
        points = torch.as_tensor(points, dtype=torch.float64)
    if not isinstance(points, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor (or numpy array), got {type(points).__name__}")
    if not points.is_floating_point():
        points = points.to(torch.get_default_dtype())
    if d is not None and (points.dim() < 1 or points.shape[-1] != d):
        raise ValueError(f"{name}: expected shape (..., {d}), got {tuple(points.shape)}")
    return points


def _check_degree(L, name: str = "L") -> int:
    if isinstance(L, bool) or not isinstance(L, (int, np.integer)) or int(L) < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {L!r}")
    return int(L)


def _safe_norm(points: torch.Tensor, threshold: float):
    """(|x|, mask |x| <= threshold (== 0 when threshold is 0)), with finite gradients at 0."""
    sq = (points * points).sum(-1)
    if threshold > 0:
        zero = sq < threshold * threshold
    else:
        zero = sq == 0
    r = torch.sqrt(torch.where(zero, torch.ones_like(sq), sq))
    return torch.where(zero, torch.zeros_like(r), r), r, zero  # r, safe r (1 at 0), mask


def harmonic_dims(d: int, J: int) -> list[int]:
    """Sizes of ``Y_0 .. Y_J`` on R^d (R^2: 1, 2, 2, ...; R^3: 1, 3, 5, ...)."""
    if d == 2:
        return [1] + [2] * J
    if d == 3:
        return [2 * j + 1 for j in range(J + 1)]
    raise ValueError(f"d: harmonics exist on R^2 and R^3, got d={d}")


def _harmonics_cat(d: int, J: int, pts: torch.Tensor) -> torch.Tensor:
    """``cat(harmonics_torch(d, J, pts), -1)``: (N, M) with M = Σ_j dim Y_j."""
    _, r_safe, zero = _safe_norm(pts, _ORIGIN)
    if d == 2:
        u = pts / r_safe[:, None]
        cx, sx = u[:, 0], u[:, 1]
        cols = [torch.ones_like(cx)]
        c, s = cx, sx
        for j in range(1, J + 1):
            if j > 1:
                c, s = c * cx - s * sx, s * cx + c * sx
            cols += [c, s]
        out = torch.stack(cols, -1)
    else:
        out = spherical_harmonics_torch(J, pts, normalization="norm", normalize=True)
        if J >= 0:
            out = torch.cat([torch.ones_like(out[:, :1]), out[:, 1:]], -1)
    if J > 0:
        mask = torch.ones(out.shape[1], dtype=torch.bool, device=out.device)
        mask[0] = False
        out = torch.where(zero[:, None] & mask, torch.zeros_like(out), out)
    return out


def harmonics_torch(d: int, J: int, points) -> list[torch.Tensor]:
    """``[Y_0(x), ..., Y_J(x)]`` as in ``steerable.kernels.harmonics``: on R^2 ``1`` and
    ``(cos jφ, sin jφ)``, on R^3 the real spherical harmonics with ``Σ_m Y_{j,m}² = 1``; at the
    origin (``|x| < 1e-9``) only ``Y_0 = 1`` is non-zero. Shapes (N, dim Y_j).

    >>> import torch
    >>> from steerable.kernels import harmonics_torch
    >>> ys = harmonics_torch(2, 2, torch.tensor([[0.0, 1.0]]))
    >>> [y.round(decimals=6).tolist() for y in ys]
    [[[1.0]], [[0.0, 1.0]], [[-1.0, 0.0]]]
    """
    J = _check_degree(J, "J")
    if d not in (2, 3):
        raise ValueError(f"d: harmonics exist on R^2 and R^3, got d={d}")
    pts = _as_points(points, d)
    if pts.dim() != 2:
        raise ValueError(f"points: expected shape (N, {d}), got {tuple(pts.shape)}")
    return list(torch.split(_harmonics_cat(d, J, pts), harmonic_dims(d, J), dim=1))


def radial_harmonic_features(
    d: int, rings: Sequence[float] | torch.Tensor, sigmas: Sequence[float] | torch.Tensor, J: int, points
) -> torch.Tensor:
    """``Φ[n, r·M + m] = exp(-(|x_n| - r)² / 2σ_r²) · Y_m(x̂_n)``: shape (N, R·M), M = Σ_{j ≤ J} dim Y_j.

    ``rings``/``sigmas`` may be sequences or 1-d tensors.

    >>> import torch
    >>> radial_harmonic_features(2, [0.0, 1.0], [0.6, 0.6], 1, torch.zeros(4, 2)).shape
    torch.Size([4, 6])
    """
    J = _check_degree(J, "J")
    pts = _as_points(points, d)
    if pts.dim() != 2:
        raise ValueError(f"points: expected shape (N, {d}), got {tuple(pts.shape)}")
    y = _harmonics_cat(d, J, pts)  # (N, M)
    rings_t = torch.as_tensor(rings, dtype=pts.dtype, device=pts.device).reshape(-1)
    sig_t = torch.as_tensor(sigmas, dtype=pts.dtype, device=pts.device).reshape(-1)
    if rings_t.shape != sig_t.shape:
        raise ValueError(f"sigmas: expected one width per ring ({rings_t.numel()}), got {sig_t.numel()}")
    r, _, _ = _safe_norm(pts, 0.0)
    prof = torch.exp(-((r[:, None] - rings_t) ** 2) / (2 * sig_t * sig_t))  # (N, R)
    return (prof[:, :, None] * y[:, None, :]).reshape(pts.shape[0], prof.shape[1] * y.shape[1])


def _pair_basis_J(pair_basis) -> int:
    return max((j for _, j, _ in pair_basis._blocks), default=0)


def pair_basis_coefficients(pair_basis, J: int | None = None) -> np.ndarray:
    """The basis of an ``IrrepsPairBasis`` as a linear map of ``radial_harmonic_features``:
    ``A`` (n_basis, d_out, d_in, R·M) (float64) with ``sample(x) = A @ Φ(x)ᵀ``; ``J`` (≥ the
    basis' highest order, default that order) fixes M.

    >>> from steerable import gspaces
    >>> from steerable.kernels import IrrepsPairBasis, default_cutoff
    >>> pb = IrrepsPairBasis(gspaces.rot2dOnR2(4), (0,), (1,), [0.0, 1.0], [0.6, 0.6], default_cutoff)
    >>> pair_basis_coefficients(pb).shape
    (2, 2, 1, 6)
    """
    d = pair_basis.gspace.dimensionality
    jmax = _pair_basis_J(pair_basis)
    J = jmax if J is None else _check_degree(J, "J")
    if J < jmax:
        raise ValueError(f"J: the basis has harmonics up to order {jmax}, got J={J}")
    dims = harmonic_dims(d, J)
    offs = np.cumsum([0] + dims)
    M = int(offs[-1])
    R = len(pair_basis.rings)
    do, di = pair_basis.d_out, pair_basis.d_in
    a = np.zeros((len(pair_basis), do * di, R * M))
    p = 0
    for ri, j, x in pair_basis._blocks:
        k = x.shape[0]
        start = ri * M + int(offs[j])
        a[p : p + k, :, start : start + dims[j]] = x
        p += k
    return a.reshape(len(pair_basis), do, di, R * M)


def sample_pair_basis_torch(pair_basis, points) -> torch.Tensor:
    """``IrrepsPairBasis.sample`` in torch: (n_basis, d_out, d_in, N) at ``points`` (N, d),
    differentiable in the points, in their dtype and on their device (numpy input → float64).

    >>> import numpy as np, torch
    >>> from steerable import gspaces
    >>> from steerable.kernels import IrrepsPairBasis, default_cutoff, sample_pair_basis_torch
    >>> pb = IrrepsPairBasis(gspaces.rot2dOnR2(4), (1,), (1,), [0.0, 1.0], [0.6, 0.6], default_cutoff)
    >>> pts = np.random.default_rng(0).normal(size=(7, 2))
    >>> bool(np.allclose(sample_pair_basis_torch(pb, pts).numpy(), pb.sample(pts), atol=1e-12))
    True
    """
    d = pair_basis.gspace.dimensionality
    pts = _as_points(points, d)
    if pts.dim() != 2:
        raise ValueError(f"points: expected shape (N, {d}), got {tuple(pts.shape)}")
    nb, do, di = len(pair_basis), pair_basis.d_out, pair_basis.d_in
    if nb == 0:
        return pts.new_zeros(0, do, di, pts.shape[0])
    J = _pair_basis_J(pair_basis)
    a = torch.as_tensor(pair_basis_coefficients(pair_basis, J), dtype=pts.dtype, device=pts.device)
    phi = radial_harmonic_features(d, pair_basis.rings, pair_basis.sigmas, J, pts)  # (N, R·M)
    return (a.reshape(-1, a.shape[-1]) @ phi.T).reshape(nb, do, di, pts.shape[0])
