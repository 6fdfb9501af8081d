"""The band-limited Fourier transform on a group at arbitrary, differentiable sample points."""

from __future__ import annotations

from functools import cache

import torch

from .._fourier import _fourier_columns, _irrep_list
from .._group import Group
from .._irrep import IrreducibleRepresentation
from ._checks import as_float_tensor
from ._elements import _check_params
from ._irreps import _irrep


@cache
def _columns(psi: IrreducibleRepresentation) -> tuple[int, ...]:
    return tuple(_fourier_columns(psi))


def _resolve(G: Group, irreps) -> list[IrreducibleRepresentation]:
    if not isinstance(G, Group):
        raise TypeError(f"G: expected a steerable.group.Group, got {type(G).__name__}")
    return _irrep_list(G, irreps)


def fourier_dim(G: Group, irreps) -> int:
    """The number D of Fourier coefficients over ``irreps`` (Σ_ψ dim ψ · dim ψ / type ψ).

    >>> from steerable.group import so2_group
    >>> from steerable.group.functional import fourier_dim
    >>> fourier_dim(so2_group(), 2)
    5
    """
    return sum(p.size * len(_columns(p)) for p in _resolve(G, irreps))


def sampling_matrix(G: Group, irreps, params) -> torch.Tensor:
    """The sampling matrix ``A`` (..., n, D) at element parameters ``params`` (..., n, k): row
    ``a(g) = ⊕_ψ √dim ψ · (chosen columns of ψ(g))``, the same matrix as
    ``steerable.group.sampling_matrix`` (``irreps``: an int L for ``G.bl_irreps(L)`` or a list of
    irreps / ids) — differentiable in ``params``, so the points may come from a network.

    >>> import numpy as np, torch
    >>> from steerable.group import so3_group, sampling_matrix as np_sampling_matrix
    >>> from steerable.group.functional import element_params, sampling_matrix
    >>> G = so3_group(2)
    >>> els = G.sample(6, seed=0)
    >>> A = sampling_matrix(G, 1, element_params(els))
    >>> A.shape, bool(np.allclose(A.numpy(), np_sampling_matrix(G, 1, els)))
    (torch.Size([6, 10]), True)
    """
    irr = _resolve(G, irreps)
    p = _check_params(G, params)
    if p.dim() < 2:
        raise ValueError(f"params: expected shape (..., n_points, {p.shape[-1]}), got {tuple(p.shape)}")
    blocks = []
    for psi in irr:
        cols = list(_columns(psi))
        m = _irrep(psi, p)[..., cols]  # (..., n, d, m)
        m = m.transpose(-1, -2).reshape(m.shape[:-2] + (-1,))
        blocks.append(m * (psi.size**0.5))
    return torch.cat(blocks, -1)


def inverse_fourier(coefficients, G: Group, irreps, params) -> torch.Tensor:
    """Samples ``f(g_n) = a(g_n) · x`` (..., n) of the band-limited functions with coefficients
    ``x`` (..., D) at element parameters (..., n, k); leading axes broadcast.

    >>> import torch
    >>> from steerable.group import cyclic_group
    >>> from steerable.group.functional import element_params, inverse_fourier
    >>> G = cyclic_group(4)
    >>> x = torch.zeros(4, dtype=torch.float64); x[0] = 1.0
    >>> inverse_fourier(x, G, G.irreps(), element_params(G.elements)).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    A = sampling_matrix(G, irreps, params)
    x = as_float_tensor(coefficients, "coefficients")
    if x.dim() < 1 or x.shape[-1] != A.shape[-1]:
        raise ValueError(f"coefficients: expected shape (..., {A.shape[-1]}), got {tuple(x.shape)}")
    return (A @ x.to(A.dtype)[..., None])[..., 0]


def fourier(samples, G: Group, irreps, params, weights=None, solve: bool = True) -> torch.Tensor:
    """Fourier coefficients (..., D) of samples (..., n) at element parameters (..., n, k).

    ``solve=True`` (default): the (weighted) least-squares fit ``argmin_x Σ_n w_n (a(g_n)·x - s_n)²``
    via the pseudo-inverse of ``diag(√w) A`` (exact when the points resolve the band limit;
    ``weights=None`` is uniform, matching ``FourierTransform.from_samples``). ``solve=False``:
    the quadrature ``x = Aᵀ (w · s)`` (needs ``weights``, e.g. an exact Haar quadrature summing
    to 1, for which the columns of A are orthonormal on real-type irreps). Differentiable in the
    samples, the points and the weights.

    >>> import torch
    >>> from steerable.group import so2_group
    >>> from steerable.group.functional import element_params, fourier, inverse_fourier
    >>> G = so2_group(2)
    >>> g = element_params(G.grid('regular', 7))
    >>> x = torch.randn(3, 5, dtype=torch.float64)
    >>> bool(torch.allclose(fourier(inverse_fourier(x, G, 2, g), G, 2, g), x))
    True
    """
    A = sampling_matrix(G, irreps, params)
    s = as_float_tensor(samples, "samples").to(A.dtype)
    n = A.shape[-2]
    if s.dim() < 1 or s.shape[-1] != n:
        raise ValueError(f"samples: expected shape (..., {n}) (one value per point), got {tuple(s.shape)}")
    if weights is not None:
        w = as_float_tensor(weights, "weights").to(A.dtype)
        if w.dim() < 1 or w.shape[-1] != n:
            raise ValueError(f"weights: expected shape (..., {n}) (one weight per point), got {tuple(w.shape)}")
    elif not solve:
        raise ValueError("weights: solve=False (quadrature) needs the quadrature weights, got None")
    if not solve:
        return (A.transpose(-1, -2) @ (w * s)[..., None])[..., 0]
    if weights is None:
        return (torch.linalg.pinv(A) @ s[..., None])[..., 0]
    r = torch.sqrt(w)
    return (torch.linalg.pinv(A * r[..., None]) @ (r * s)[..., None])[..., 0]
