"""Per-layer quantities the bound reads: operator norms, perturbation tails, Lipschitz constants.

Every perturbed layer is an affine map x ↦ T(w) x + b. Its operator norm ‖T‖₂ and the tail of
‖U‖₂ for a Gaussian perturbation U = T(u) (u isotropic in an orthonormal basis of the layer's
weight space) are computed in the Fourier domain:

* ``Linear`` on ``no_base_space``: the irrep blocks (``‖T‖₂ = max_ψ ‖Ŵ(ψ)‖₂``); an isotropic
  perturbation of the equivariant maps has, per isotypic block, variance parameter
  ``v_ψ = (e_ψ / d_ψ) · max(m_out(ψ), m_in(ψ))`` (e_ψ = 1, 2, 4 for real, complex, quaternionic
  irreps), against ``max(C_in, C_out)`` for a dense matrix.
* convolutions: blocks per spatial frequency ω (the translations' irreps) on the periodic grid
  that contains the zero-padded input, ``‖T‖₂ ≤ max_ω ‖K̂(ω)‖₂`` (equality for circular padding
  and stride 1); the variance parameter is ``max_ω ‖Σ_k K̂_k(ω)^H K̂_k(ω)‖`` (and its transpose)
  over an orthonormal basis K_k of the layer's kernel space, assembled per irreps-pair block of
  the steerable basis (slot pairs are orthogonal), against ``taps · max(C_in, C_out)`` dense.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from steerable import nn

from ._blocks import matrix_irrep_blocks

__all__ = ["AffineLayer", "FixedMap", "conv_operator_norm"]


@dataclass
class AffineLayer:
    """A perturbed layer: operator norm, weight norms and the constants of its tail bound
    ``P(‖U‖₂ ≥ t) ≤ dims · exp(-t² / (2 σ² variance))``."""

    name: str
    spectral_norm: float
    frobenius_norm: float
    bias_norm: float
    variance: float
    dims: float
    bias_params: int
    bias_broadcast: int
    n_params: int


@dataclass
class FixedMap:
    """A parameter-free map with Lipschitz constant ``lipschitz`` and ``offset = ‖φ(0)‖``."""

    name: str
    lipschitz: float
    offset: float


def _conv_geometry(layer, in_shape):
    """(filter, bias, stride, padding, dilation, groups, periodic grid) of a convolution."""
    if isinstance(layer, (nn.R2Conv, nn.R3Conv)):
        if layer._transposed:
            raise TypeError(f"{type(layer).__name__}: transposed convolutions are not supported")
        with torch.no_grad():
            f, b = layer.expand_parameters()
        d = layer.d
        tup = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (int(v),) * d
        stride, padding, dilation, mode, groups = (
            tup(layer.stride),
            tup(layer.padding),
            tup(layer.dilation),
            layer.padding_mode,
            layer.groups,
        )
    else:
        f, b = layer.weight, layer.bias
        d = f.dim() - 2
        stride, padding, dilation, mode, groups = (
            layer.stride,
            layer.padding,
            layer.dilation,
            layer.padding_mode,
            layer.groups,
        )
        if isinstance(padding, str):
            raise TypeError(f"{type(layer).__name__}: padding={padding!r} is not supported; give integers")
    if mode not in ("zeros", "circular"):
        raise ValueError(f"{type(layer).__name__}: padding_mode={mode!r} is not supported (zeros or circular)")
    spatial = tuple(in_shape[2:])
    grid = tuple(n if mode == "circular" else n + 2 * p for n, p in zip(spatial, padding))
    f = f.detach().double().cpu()
    b = None if b is None else b.detach().double().cpu()
    return f, b, tuple(stride), tuple(dilation), groups, grid


def _embed_fft(kernel: torch.Tensor, dilation, grid) -> torch.Tensor:
    """FFT over the periodic grid of a kernel (..., k1, ..., kd) with dilated taps → (..., *grid)."""
    d = len(grid)
    k = kernel.shape[-d:]
    big = kernel.new_zeros(*kernel.shape[:-d], *grid)
    idx: tuple = (Ellipsis, *(slice(0, dl * (n - 1) + 1, dl) for n, dl in zip(k, dilation)))
    big[idx] = kernel
    return torch.fft.fftn(big, dim=tuple(range(-d, 0)))


def conv_operator_norm(filt: torch.Tensor, dilation, grid, groups: int = 1) -> float:
    """max over spatial frequencies ω of ‖K̂(ω)‖₂ for a filter (C_out, C_in/groups, *k) on a periodic
    grid: the norm of the circular convolution, an upper bound for zero padding and any stride.

    >>> import torch
    >>> from steerable.theory import conv_operator_norm
    >>> f = torch.zeros(1, 1, 3, 3, dtype=torch.float64); f[0, 0, 1, 1] = 2.0
    >>> round(conv_operator_norm(f, (1, 1), (8, 8)), 12)
    2.0
    """
    d = len(grid)
    out = 0.0
    co = filt.shape[0] // groups
    for g in range(groups):
        kh = _embed_fft(filt[g * co : (g + 1) * co].double(), dilation, grid)  # (co, ci, *grid)
        mats = kh.permute(*range(2, 2 + d), 0, 1).reshape(-1, kh.shape[0], kh.shape[1])
        out = max(out, float(torch.linalg.matrix_norm(mats, ord=2).max()))
    return out


def _steerable_conv_variance(layer, grid) -> float:
    """Variance parameter of an isotropic perturbation of a steerable conv's kernel space."""
    src = layer.kernel_source
    if type(src).__name__ != "BasisKernelSource" or not isinstance(layer.basisexpansion, nn.BlockBasisExpansion):
        raise ValueError(
            f"{type(layer).__name__}: the equivariant tail needs the default steerable basis "
            f"(kernel source {type(src).__name__}); use perturbation='dense'"
        )
    for t in (layer.in_type, layer.out_type):
        for r in t.representations:
            q = np.asarray(r.change_of_basis, dtype=np.float64)
            if not np.allclose(q.T @ q, np.eye(len(q)), atol=1e-6):
                raise ValueError(
                    f"{type(layer).__name__}: representation {r.name} has a non-orthogonal change of basis"
                )
    be = layer.basisexpansion
    d = layer.d
    k = layer.kernel_size
    dil = tuple(layer.dilation) if isinstance(layer.dilation, (tuple, list)) else (int(layer.dilation),) * d
    s_in: dict = {}
    s_out: dict = {}
    for blk in be.blocks:
        basis = be.basis_tensor(blk.name).detach().double().cpu()  # (nb, do, di, taps)
        nb, do, di, _ = basis.shape
        flat = basis.reshape(nb, -1)
        _, ss, vh = torch.linalg.svd(flat, full_matrices=False)
        keep = ss > 1e-10 * max(float(ss.max()) if ss.numel() else 0.0, 1e-300)
        orth = vh[keep].reshape(-1, do, di, *(k,) * d)  # orthonormal basis of the block's span
        kh = _embed_fft(orth, dil, grid)  # (r, do, di, *grid)
        kh = kh.reshape(kh.shape[0], do, di, -1)
        m_in = torch.einsum("roif,rojf->fij", kh.conj(), kh)  # (F, di, di)
        m_out = torch.einsum("roif,rpif->fop", kh, kh.conj())  # (F, do, do)
        for sl in blk.in_slots:
            s_in[sl[1]] = s_in.get(sl[1], 0) + blk.n_out * m_in
        for sl in blk.out_slots:
            s_out[sl[1]] = s_out.get(sl[1], 0) + blk.n_in * m_out
    v = 0.0
    for acc in (s_in, s_out):
        for m in acc.values():
            v = max(v, float(torch.linalg.matrix_norm(m, ord=2).max()))
    return v


def affine_layer(layer, name: str, in_shape, out_shape, perturbation: str) -> AffineLayer:
    """The :class:`AffineLayer` terms of a convolution or linear layer (steerable or torch)."""
    is_conv = isinstance(layer, (nn.R2Conv, nn.R3Conv, torch.nn.Conv2d, torch.nn.Conv3d, torch.nn.Conv1d))
    equivariant = perturbation == "equivariant" and isinstance(layer, (nn.R2Conv, nn.R3Conv, nn.Linear))
    if is_conv:
        f, b, stride, dil, groups, grid = _conv_geometry(layer, in_shape)
        spec = conv_operator_norm(f, dil, grid, groups)
        co, cig = f.shape[0], f.shape[1]
        ci = cig * groups
        taps = int(np.prod(f.shape[2:]))
        dims = (ci + co) * float(np.prod(grid))
        if equivariant:
            if groups != 1:
                raise ValueError(f"{name}: the equivariant tail supports groups=1 only; use perturbation='dense'")
            var = _steerable_conv_variance(layer, grid)
        else:
            var = taps * max(cig, co // groups)
        n_params = f.numel() if not equivariant else int(layer.basisexpansion.dimension)
        broadcast = int(np.prod(out_shape[2:]))
    else:
        if isinstance(layer, nn.Linear):
            with torch.no_grad():
                w, b = layer.expand_parameters()
        else:
            w, b = layer.weight, layer.bias
        w = w.detach().double().cpu()
        b = None if b is None else b.detach().double().cpu()
        f = w
        co, ci = w.shape
        if equivariant:
            blocks = matrix_irrep_blocks(w.numpy(), layer.in_type, layer.out_type)
            spec = max((blk.spectral_norm for blk in blocks), default=0.0)
            e = {"R": 1, "C": 2, "H": 4}
            var = max((e[blk.type] / blk.dim * max(blk.m_out, blk.m_in) for blk in blocks), default=0.0)
            dims = float(sum((2 if blk.type == "H" else 1) * (blk.m_out + blk.m_in) for blk in blocks))
            n_params = int(layer.weights.numel())
        else:
            spec = float(torch.linalg.matrix_norm(w, ord=2))
            var, dims, n_params = float(max(ci, co)), float(ci + co), w.numel()
        broadcast = int(np.prod(out_shape[2:])) if len(out_shape) > 2 else 1
    if b is None:
        bias_params, bnorm = 0, 0.0
    else:
        bnorm = float(b.norm())
        bias_params = int(layer.bias.numel()) if equivariant else int(b.numel())
    return AffineLayer(name, spec, float(f.norm()), bnorm, float(var), max(dims, 1.0), bias_params, broadcast, n_params)


_POINTWISE = {"p_relu": 1.0, "p_elu": 1.0, "p_tanh": 1.0, "p_sigmoid": 0.25, "p_leaky_relu": 1.0}


def _max_pool_lipschitz(kernel, stride, dilation, d: int) -> float:
    tup = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (int(v),) * d
    count = 1
    for k, s, dl in zip(tup(kernel), tup(stride if stride is not None else kernel), tup(dilation)):
        count *= k if dl > 1 else math.ceil(k / s)
    return math.sqrt(count)


def _nonneg_linear_norm(fn, shape) -> float:
    """Schur bound √(max row sum · max column sum) of a linear map with nonnegative weights."""
    x = torch.ones(1, 1, *shape[2:], dtype=torch.float64, requires_grad=True)
    y = fn(x)
    (col,) = torch.autograd.grad(y.sum(), x)
    return math.sqrt(float(y.detach().max()) * float(col.max()))


def fixed_map(layer, name: str, in_shape) -> FixedMap:
    """Lipschitz constant (ℓ₂) and ‖φ(0)‖ of a parameter-free layer; TypeError for unknown ones."""
    d = max(len(in_shape) - 2, 0)
    lip: float | None = None
    if isinstance(layer, nn.PointwiseNonLinearity):
        if isinstance(layer.function, str):
            # ELU and LeakyReLU carry their own alpha / negative_slope
            lip = max(
                _POINTWISE[layer.function], abs(float(getattr(layer, "alpha", getattr(layer, "negative_slope", 0.0))))
            )
    elif isinstance(layer, (torch.nn.ReLU, torch.nn.Tanh, torch.nn.Identity, torch.nn.Flatten, torch.nn.Dropout)):
        lip = 1.0
    elif isinstance(layer, torch.nn.ELU):
        lip = max(1.0, float(layer.alpha))
    elif isinstance(layer, torch.nn.LeakyReLU):
        lip = max(1.0, abs(float(layer.negative_slope)))
    elif isinstance(layer, torch.nn.Sigmoid):
        lip = 0.25
    elif isinstance(layer, (nn.GroupPooling, nn.NormPool, nn.MaxPoolChannels, nn.IdentityModule, nn.PointwiseDropout)):
        lip = 1.0  # max or norm over the channels of a field; identity in eval
    elif isinstance(layer, (nn.PointwiseMaxPool2D, nn.PointwiseMaxPool3D, torch.nn.MaxPool2d, torch.nn.MaxPool3d)):
        lip = _max_pool_lipschitz(layer.kernel_size, layer.stride, getattr(layer, "dilation", 1), d)
    elif isinstance(layer, (torch.nn.AdaptiveMaxPool2d, torch.nn.AdaptiveMaxPool3d)) or type(layer).__name__.startswith(
        "PointwiseAdaptiveMaxPool"
    ):
        out = layer.output_size
        out = tuple(out) if isinstance(out, (tuple, list)) else (out,) * d
        count = 1
        for n, o in zip(in_shape[2:], out):
            o = n if o is None else o
            cover = np.zeros(n, dtype=int)
            for i in range(o):
                cover[(i * n) // o : -((-(i + 1) * n) // o)] += 1
            count *= int(cover.max())
        lip = math.sqrt(count)
    elif (
        isinstance(
            layer, (torch.nn.AvgPool2d, torch.nn.AvgPool3d, torch.nn.AdaptiveAvgPool2d, torch.nn.AdaptiveAvgPool3d)
        )
        or type(layer).__name__.startswith("PointwiseAvgPool")
        or type(layer).__name__.startswith("PointwiseAdaptiveAvgPool")
    ):
        fn = layer.export() if isinstance(layer, nn.EquivariantModule) else layer
        lip = _nonneg_linear_norm(fn, in_shape)
    if lip is None:
        raise TypeError(
            f"{name}: {type(layer).__name__} has no known Lipschitz constant; supported are pointwise "
            "ReLU/ELU/LeakyReLU/tanh/sigmoid, group/norm pooling, max/avg pooling, flatten, identity, dropout"
        )
    with torch.no_grad():
        z = torch.zeros(1, *in_shape[1:])
        y = layer(layer.in_type(z)) if isinstance(layer, nn.EquivariantModule) else layer(z)
        y = y.tensor if isinstance(y, nn.GeometricTensor) else y
    return FixedMap(name, float(lip), float(y.double().norm()))
