"""Coordinates of pixel/voxel grids and the action of a linear map on signals sampled on them.

Convention (kernels, transforms and point convolutions all rely on it):

- a 2D signal is a tensor ``(B, C, H, W)``; pixel ``(i, j)`` sits at
  ``(x, y) = (j - (W-1)/2, -(i - (H-1)/2))`` (x to the right, y up, the origin at the centre);
- a 3D signal is a tensor ``(B, C, D, H, W)``; voxel ``(i, j, k)`` sits at
  ``(x, y, z) = (k - (W-1)/2, -(j - (H-1)/2), -(i - (D-1)/2))``.

So the last tensor axis is x, the one before it is -y, and (3D) the one before that is -z.

A matrix M acts on a signal by ``(M·f)(x) = f(M⁻¹ x)``. When M is a signed permutation matrix (a
symmetry of the grid: 90° rotations, flips, the cube's 48 symmetries) this is an exact
re-indexing; otherwise the signal is resampled by interpolation: by default with an interpolating
cubic B-spline (the samples are prefiltered into spline coefficients, mirrored at the ends, then
the spline is evaluated at ``M⁻¹ x``; error O(h⁴) on smooth signals, like scipy's spline of order
3), or with a quadratic spline (``order=2``, escnn's default) or (bi/tri)linearly (``order=1``,
zero-padded). Beyond the ends of the grid the signal fades linearly to zero over one step and is
zero further out.
Everything is torch, so it runs on the tensor's device and is differentiable in the tensor (and in
the matrix when that is a tensor requiring grad).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import torch

__all__ = ["grid_coordinates", "transform_grid", "is_signed_permutation"]

_MODES = ("auto", "exact", "interpolate")


def grid_coordinates(shape: Sequence[int]) -> np.ndarray:
    """Base-space coordinates of every point of a grid of the given spatial ``shape``.

    Returns a float64 array of shape ``(*shape, d)`` with ``d = len(shape)`` (1, 2 or 3), in the
    module's convention (last axis x, then -y, then -z; centred on the grid).

    >>> from steerable.gspaces import grid_coordinates
    >>> c = grid_coordinates((2, 3))
    >>> c.shape
    (2, 3, 2)
    >>> c[0, 0].tolist(), c[1, 2].tolist()
    ([-1.0, 0.5], [1.0, -0.5])
    """
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"shape: expected a sequence of grid sizes, got {type(shape).__name__}") from None
    if not 1 <= len(dims) <= 3:
        raise ValueError(f"shape: expected 1 to 3 spatial sizes, got {dims!r}")
    for n in dims:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or int(n) < 1:
            raise ValueError(f"shape: expected positive integer sizes, got {dims!r}")
    dims = tuple(int(n) for n in dims)
    d = len(dims)
    axes = [np.arange(n, dtype=np.float64) - (n - 1) / 2.0 for n in dims]
    mesh = np.meshgrid(*axes, indexing="ij")
    out = np.empty(dims + (d,), dtype=np.float64)
    for a in range(d):
        sign = 1.0 if a == 0 else -1.0
        out[..., a] = sign * mesh[d - 1 - a]
    return out + 0.0  # no negative zeros


def _axis_signs(d: int) -> np.ndarray:
    """S = diag(s): coordinate = S · (centred index), axis a read from tensor dim -1-a."""
    s = -np.ones(d)
    s[0] = 1.0
    return s


def is_signed_permutation(matrix, tol: float = 1e-9) -> bool:
    """Whether ``matrix`` is a signed permutation matrix (entries in {-1, 0, 1} within ``tol``,
    one non-zero per row and per column): an exact symmetry of the pixel/voxel grid.

    >>> from steerable.gspaces import is_signed_permutation
    >>> is_signed_permutation([[0, -1], [1, 0]]), is_signed_permutation([[0.6, -0.8], [0.8, 0.6]])
    (True, False)
    """
    m = _as_numpy_matrix(matrix, "matrix")
    if m.size == 0:
        return True
    r = np.round(m)
    if np.max(np.abs(m - r)) > tol or np.any(np.abs(r) > 1):
        return False
    nz = np.abs(r) > 0.5
    return bool(np.all(nz.sum(0) == 1) and np.all(nz.sum(1) == 1))


def _as_numpy_matrix(matrix, argname: str) -> np.ndarray:
    if isinstance(matrix, torch.Tensor):
        m = matrix.detach().to("cpu", torch.float64).numpy()
    else:
        try:
            m = np.asarray(matrix, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"{argname}: expected a square matrix (numpy array or torch tensor), got {type(matrix).__name__}"
            ) from None
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"{argname}: expected a square (d, d) matrix, got shape {tuple(m.shape)}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"{argname}: expected finite entries, got {m.tolist()}")
    return m


def transform_grid(tensor: torch.Tensor, matrix, mode: str = "auto", order: int = 3) -> torch.Tensor:
    """Act with the linear map ``matrix`` (d×d) on a signal sampled on a grid.

    ``tensor`` has shape ``(B, C, *spatial)`` with ``len(spatial) == d`` (d = 2 or 3; a 0×0 matrix
    returns the tensor unchanged). The output lives on the same grid and is
    ``output(x) = input(M⁻¹ x)`` at every grid point x (coordinates as in
    :func:`grid_coordinates`).

    ``mode='auto'`` re-indexes exactly (flip/permute, any dtype, no interpolation error) when
    ``matrix`` is a signed permutation and interpolates otherwise (a spline of degree
    ``order`` = 1, 2 or 3 through the samples, zero beyond one step outside the grid,
    differentiable); ``'exact'`` insists on the former, ``'interpolate'`` forces the latter.
    The exact path needs the axes it swaps to have equal sizes.

    >>> import torch
    >>> from steerable.gspaces import transform_grid
    >>> x = torch.arange(6.).reshape(1, 1, 2, 3)
    >>> transform_grid(x, [[-1, 0], [0, 1]])[0, 0].tolist()   # mirror x -> -x
    [[2.0, 1.0, 0.0], [5.0, 4.0, 3.0]]
    >>> y = torch.zeros(1, 1, 3, 3); y[0, 0, 1, 2] = 1.0       # a delta at (x, y) = (1, 0)
    >>> r90 = [[0, -1], [1, 0]]                                # rotation by +90°
    >>> transform_grid(y, r90)[0, 0].nonzero().tolist()        # moves to (0, 1): row 0, column 1
    [[0, 1]]
    >>> torch.allclose(transform_grid(y, r90, mode="interpolate"), transform_grid(y, r90), atol=1e-6)
    True
    """
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor: expected a torch.Tensor, got {type(tensor).__name__}")
    if mode not in _MODES:
        raise ValueError(f"mode: expected one of {list(_MODES)}, got {mode!r}")
    if isinstance(order, bool) or order not in (1, 2, 3):
        raise ValueError(f"order: expected a spline order 1, 2 or 3, got {order!r}")
    order = int(order)
    m = _as_numpy_matrix(matrix, "matrix")
    d = m.shape[0]
    if d == 0:
        return tensor
    if d not in (2, 3):
        raise ValueError(f"matrix: expected a 2x2 or 3x3 matrix, got shape {m.shape}")
    if tensor.ndim != d + 2:
        names = "(B, C, H, W)" if d == 2 else "(B, C, D, H, W)"
        raise ValueError(
            f"tensor: a {d}x{d} matrix acts on tensors of shape {names} ({d + 2} dims), got shape {tuple(tensor.shape)}"
        )
    if abs(np.linalg.det(m)) < 1e-12:
        raise ValueError(f"matrix: expected an invertible matrix, got {m.tolist()}")
    exact = is_signed_permutation(m)
    if mode == "exact" and not exact:
        raise ValueError(f"matrix: mode='exact' needs a signed permutation matrix, got {m.tolist()}")
    if exact and mode != "interpolate":
        return _permute_exact(tensor, np.round(m))
    return _interpolate(tensor, matrix, m, order)


def _permute_exact(tensor: torch.Tensor, m: np.ndarray) -> torch.Tensor:
    d = m.shape[0]
    nd = tensor.ndim
    s = _axis_signs(d)
    # centred indices: u_in = P u_out with P = S Mᵀ S (a signed permutation)
    p = (s[:, None] * m.T) * s[None, :]
    dims = list(range(nd))
    flips = []
    for b in range(d):
        a = int(np.argmax(np.abs(p[:, b])))
        if tensor.shape[nd - 1 - a] != tensor.shape[nd - 1 - b]:
            raise ValueError(
                f"tensor: the transformation swaps spatial axes of sizes {tensor.shape[nd - 1 - a]} and "
                f"{tensor.shape[nd - 1 - b]}; it needs equal sizes, got spatial shape "
                f"{tuple(tensor.shape[2:])}"
            )
        dims[nd - 1 - b] = nd - 1 - a
        if p[a, b] < 0:
            flips.append(nd - 1 - b)
    out = tensor.permute(dims)
    if flips:
        out = torch.flip(out, flips)
    else:
        out = out.clone()
    return out.contiguous()


def _spline_prefilter(n: int, order: int) -> np.ndarray:
    """The n×n matrix taking samples to B-spline coefficients of degree ``order`` (2 or 3) on an
    axis of n points, the coefficients extended beyond the ends by mirror symmetry (c[-k] = c[k],
    c[n-1+k] = c[n-1-k]): the inverse of the matrix of the spline's values at the nodes."""
    key = (n, order)
    m = _PREFILTERS.get(key)
    if m is None:
        side = 1.0 / 8.0 if order == 2 else 1.0 / 6.0
        t = np.eye(n) * (1.0 - 2.0 * side)
        if n == 1:
            t[0, 0] = 1.0
        else:
            i = np.arange(n - 1)
            t[i, i + 1] += side
            t[i + 1, i] += side
            t[0, 1] += side
            t[n - 1, n - 2] += side
        m = np.linalg.inv(t)
        m.setflags(write=False)
        _PREFILTERS[key] = m
    return m


def _mirror_index(i: torch.Tensor, n: int) -> torch.Tensor:
    """Whole-sample mirror of integer indices into 0 .. n-1."""
    if n == 1:
        return torch.zeros_like(i)
    period = 2 * (n - 1)
    i = torch.remainder(i, period)
    return torch.where(i > n - 1, period - i, i)


_PREFILTERS: dict = {}


def _bspline_weights(frac: torch.Tensor, order: int) -> list[torch.Tensor]:
    """Weights of the taps ``base + k`` (k = 0 .. order) of a B-spline of degree ``order`` at
    the offset ``frac`` from ``base`` (``frac`` in [0, 1) for odd, [-0.5, 0.5) for even degree)."""
    if order == 1:
        return [1.0 - frac, frac]
    if order == 2:  # taps -1, 0, 1 around the nearest node
        return [0.5 * (0.5 - frac) ** 2, 0.75 - frac**2, 0.5 * (0.5 + frac) ** 2]
    # cubic: taps -1, 0, 1, 2 around floor
    u = 1.0 - frac
    return [
        u**3 / 6.0,
        (3.0 * frac**3 - 6.0 * frac**2 + 4.0) / 6.0,
        (3.0 * u**3 - 6.0 * u**2 + 4.0) / 6.0,
        frac**3 / 6.0,
    ]


def _interpolate(tensor: torch.Tensor, matrix, m: np.ndarray, order: int = 3) -> torch.Tensor:
    if not tensor.is_floating_point():
        raise TypeError(f"tensor: interpolation needs a floating-point tensor, got dtype {tensor.dtype}")
    d = m.shape[0]
    spatial = tuple(tensor.shape[2:])
    dev, dt = tensor.device, tensor.dtype
    work = dt if dt in (torch.float32, torch.float64) else torch.float32
    if isinstance(matrix, torch.Tensor) and matrix.requires_grad:
        minv = torch.linalg.inv(matrix.to(device=dev, dtype=work))
    else:
        minv = torch.as_tensor(np.linalg.inv(m), dtype=work, device=dev)
    coords = torch.as_tensor(grid_coordinates(spatial), dtype=work, device=dev)  # x_out
    src = coords @ minv.T  # M⁻¹ x
    signs = torch.as_tensor(_axis_signs(d), dtype=work, device=dev)
    # u[..., a]: position along tensor dim -1-a, in index units (0 .. n-1)
    centre = torch.as_tensor([(spatial[d - 1 - a] - 1) / 2.0 for a in range(d)], dtype=work, device=dev)
    u = src * signs + centre
    # the signal is zero beyond one step outside the grid
    sizes = torch.as_tensor([spatial[d - 1 - a] for a in range(d)], dtype=work, device=dev)
    inside = ((u >= -1.0) & (u <= sizes)).all(-1)
    x = tensor.to(work)
    if order == 1:
        coeffs = x
    else:
        coeffs = x
        for a in range(d):  # separable prefilter along every spatial axis
            pm = torch.tensor(_spline_prefilter(spatial[d - 1 - a], order), dtype=work, device=dev)
            coeffs = torch.movedim(torch.movedim(coeffs, -1 - a, -1) @ pm.T, -1, -1 - a)
    b, c = x.shape[:2]
    flat = coeffs.reshape(b, c, -1)
    if order == 2:
        base = torch.floor(u + 0.5)
        first = -1
    else:
        base = torch.floor(u)
        first = 0 if order == 1 else -1
    frac = u - base
    base = base.to(torch.long)
    weights = [_bspline_weights(frac[..., a], order) for a in range(d)]
    strides = [int(np.prod(spatial[len(spatial) - a :])) if a else 1 for a in range(d)]
    npts = u.shape[:-1]
    out = torch.zeros((b, c) + tuple(npts), dtype=work, device=dev)
    for taps in itertools.product(range(order + 1), repeat=d):
        w = torch.ones(npts, dtype=work, device=dev)
        idx = torch.zeros(npts, dtype=torch.long, device=dev)
        valid = inside.clone()
        for a, k in enumerate(taps):
            i = base[..., a] + (first + k)
            n = spatial[d - 1 - a]
            if order == 1:  # zero beyond the ends
                valid &= (i >= 0) & (i < n)
                i = i.clamp(0, n - 1)
            else:  # mirrored spline coefficients
                i = _mirror_index(i, n)
            idx = idx + i * strides[a]
            w = w * weights[a][k]
        w = torch.where(valid, w, torch.zeros((), dtype=work, device=dev))
        out = out + flat[:, :, idx.reshape(-1)].reshape(out.shape) * w
    if order > 1:  # beyond the ends, fade linearly to zero over one step
        lo = torch.clamp(-u, min=0.0)
        hi = torch.clamp(u - (sizes - 1.0), min=0.0)
        taper = torch.clamp(1.0 - torch.maximum(lo, hi), min=0.0).prod(-1)
        out = out * taper
    return out.to(dt)
