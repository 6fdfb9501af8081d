"""Equivariant layer and instance normalisation (new in steerable; escnn has neither).

Both use only invariant statistics of each sample: means of **trivial components** (coefficients
along the trivial irreps of each field, read with ``T_in`` = rows of ``Q⁻¹`` and written back
with ``T_out`` = columns of ``Q``) and means of **squared fibre norms** ``|x_f|²``. Trivial
coefficients are fixed by ρ(g), fibre norms are invariant for orthogonal ρ, and an exact grid
symmetry only permutes the pixels a spatial mean runs over; the output is then rescaled by one
scalar per field (commutes with ρ(g)) and shifted on trivial components only. Hence
``f(g·x) = g·f(x)`` for grid symmetries and for any fibre transformation applied everywhere.
"""

from __future__ import annotations

import torch

from steerable._validation import check_bool, check_positive, check_unit_interval

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._validation import check_field_type, require_orthogonal
from ._base import _NormBase
from ._field_batchnorm import _export_diagonal
from ._fields import _ORTHO_HINT, _ORTHO_WHY, _bview, _field_index, _field_matrix, _trivial_maps

__all__ = ["LayerNorm", "InstanceNorm"]


def _bcast(v: torch.Tensor, nd: int) -> torch.Tensor:
    """(B,) or (B, C) -> broadcastable against (B, C, *spatial)."""
    return v.reshape(v.shape[0], -1, *(1,) * (nd - 2))


def _layer_norm(
    t: torch.Tensor,
    a: torch.Tensor,
    u: torch.Tensor,
    n_triv: int,
    n_fields: int,
    weight_c: torch.Tensor | None,
    bias_c: torch.Tensor | None,
    eps: float,
) -> torch.Tensor:
    """LayerNorm's function on a plain tensor (B, C, ...); shared by the module and its export."""
    nd = t.dim()
    sp = list(range(2, nd))
    if n_triv:
        mu = ((t.mean(sp) if sp else t) @ a) / n_triv  # (B,) mean trivial coefficient
        t = t - _bcast(mu, nd) * _bview(u, nd)
    sq = (t * t).sum(1)
    ms = (sq.flatten(1).mean(1) if sp else sq) / t.shape[1]  # (B,) mean square per channel
    out = t * _bcast(torch.rsqrt(ms + eps), nd)
    if weight_c is not None:
        out = out * _bview(weight_c, nd)
    if bias_c is not None:
        out = out + _bview(bias_c, nd)
    return out


class _PlainLayerNorm(torch.nn.Module):
    """Plain-torch LayerNorm (exported): buffers only, no steerable objects."""

    a: torch.Tensor
    u: torch.Tensor
    weight: torch.Tensor | None
    bias: torch.Tensor | None

    def __init__(self, a, u, n_triv: int, n_fields: int, weight_c, bias_c, eps: float):
        super().__init__()
        self.n_triv, self.n_fields, self.eps = int(n_triv), int(n_fields), float(eps)
        self.register_buffer("a", a.detach().clone())
        self.register_buffer("u", u.detach().clone())
        self.register_buffer("weight", None if weight_c is None else weight_c.detach().clone())
        self.register_buffer("bias", None if bias_c is None else bias_c.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _layer_norm(x, self.a, self.u, self.n_triv, self.n_fields, self.weight, self.bias, self.eps)


class _PerFieldAffine(_NormBase):
    """Shared: orthogonality check, trivial maps, per-field weight and trivial bias."""

    eps: float
    affine: bool
    weight: torch.nn.Parameter | None  # None iff not affine
    bias: torch.nn.Parameter | None  # None if not affine or no trivial component
    _nfields: int
    _ntriv: int
    _fidx: torch.Tensor
    _t_in: torch.Tensor
    _t_out: torch.Tensor

    def _build(self, in_type: FieldType, eps, affine) -> None:
        name = type(self).__name__
        check_field_type(in_type, owner=name)
        require_orthogonal(in_type, name, why=_ORTHO_WHY, hint=_ORTHO_HINT)
        self.in_type = in_type
        self.out_type = in_type
        self.eps = check_positive(eps, "eps")
        self.affine = check_bool(affine, "affine")
        fidx, sizes = _field_index(in_type)
        t_in, t_out, _ = _trivial_maps(in_type)
        self._nfields, self._ntriv = len(sizes), t_in.shape[0]
        if self.affine:
            self.weight = torch.nn.Parameter(torch.ones(self._nfields))
            self.bias = torch.nn.Parameter(torch.zeros(self._ntriv)) if self._ntriv else None
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.register_buffer("_fidx", torch.as_tensor(fidx, dtype=torch.long), persistent=False)
        self.register_constant("_t_in", t_in)
        self.register_constant("_t_out", t_out)

    def reset_parameters(self) -> None:
        with torch.no_grad():
            if self.weight is not None:
                self.weight.fill_(1.0)
            if self.bias is not None:
                self.bias.zero_()

    def _weight_c(self) -> torch.Tensor | None:
        return self.weight[self._fidx] if self.weight is not None else None

    def _bias_c(self) -> torch.Tensor | None:
        return self._t_out @ self.bias if self.bias is not None else None


class LayerNorm(_PerFieldAffine):
    """Equivariant layer normalisation: statistics of each sample over all fields and the grid.

    For sample ``b`` (``c_k`` the K trivial coefficients, ``F`` fields, ``N`` grid points)::

        μ_b = mean_{x, k} c_k(b, x)                    (trivial components only)
        x' = x - μ_b · T_out 1                          (μ_b removed from every trivial component)
        σ²_b = mean_{x, f} |x'_f(b, x)|² / size_f       (mean square per channel)
        y = x' · w_f / sqrt(σ²_b + eps) + T_out b       (per-field scale, bias on trivial irreps)

    On 1-dim trivial fields this is ``torch.nn.functional.layer_norm`` over (C, *spatial) with
    per-channel affine parameters. The variance is the mean square per channel (the sum of squared
    fibre norms over all channels), so every channel comes out with RMS about 1, as torch's
    LayerNorm does. Equivariant: ``μ_b`` and ``σ_b`` are invariant (see the module docstring).
    Needs orthogonal representations.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import LayerNorm
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr, gs.irrep(1), gs.trivial_repr])
    >>> ln = LayerNorm(t)
    >>> ln(t(torch.randn(2, 7, 5, 5))).shape
    torch.Size([2, 7, 5, 5])
    >>> _ = ln.check_equivariance()
    """

    _a: torch.Tensor
    _u: torch.Tensor

    def __init__(self, in_type: FieldType, eps: float = 1e-5, affine: bool = True):
        super().__init__()
        self._build(in_type, eps, affine)
        self.register_constant("_a", self.constant_master("_t_in").sum(0))
        self.register_constant("_u", self.constant_master("_t_out").sum(1))

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        t = self._check_forward(x)
        out = _layer_norm(t, self._a, self._u, self._ntriv, self._nfields, self._weight_c(), self._bias_c(), self.eps)
        return GeometricTensor(out, self.out_type, x.coords)

    def export(self) -> torch.nn.Module:
        """A small plain ``torch.nn.Module`` with buffers computing the same function (the same in
        train and eval mode: LayerNorm keeps no running statistics)."""
        with torch.no_grad():
            return _PlainLayerNorm(
                self._a, self._u, self._ntriv, self._nfields, self._weight_c(), self._bias_c(), self.eps
            )


def _instance_stats(t: torch.Tensor, t_in: torch.Tensor, t_out: torch.Tensor, fsum: torch.Tensor):
    """Per-sample statistics: trivial means m (B, K), centred tensor, field variances (B, F)."""
    nd = t.dim()
    sp = list(range(2, nd))
    m = t.mean(sp) @ t_in.T
    t = t - _bcast(m @ t_out.T, nd)
    var = (t * t).mean(sp) @ fsum.T
    return m, t, var


def _instance_apply(t, var, fidx, weight, bias_c, eps: float) -> torch.Tensor:
    nd = t.dim()
    inv = torch.rsqrt(var + eps)
    if weight is not None:
        inv = inv * weight
    out = t * _bcast(inv.index_select(-1, fidx), nd)
    if bias_c is not None:
        out = out + _bview(bias_c, nd)
    return out


class _PlainInstanceNorm(torch.nn.Module):
    """Plain-torch InstanceNorm with per-sample statistics (exported): buffers only."""

    t_in: torch.Tensor
    t_out: torch.Tensor
    fsum: torch.Tensor
    fidx: torch.Tensor
    weight: torch.Tensor | None
    bias: torch.Tensor | None

    def __init__(self, t_in, t_out, fsum, fidx, weight, bias_c, eps: float):
        super().__init__()
        self.eps = float(eps)
        self.register_buffer("t_in", t_in.detach().clone())
        self.register_buffer("t_out", t_out.detach().clone())
        self.register_buffer("fsum", fsum.detach().clone())
        self.register_buffer("fidx", fidx.detach().clone())
        self.register_buffer("weight", None if weight is None else weight.detach().clone())
        self.register_buffer("bias", None if bias_c is None else bias_c.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, t, var = _instance_stats(x, self.t_in, self.t_out, self.fsum)
        return _instance_apply(t, var, self.fidx, self.weight, self.bias, self.eps)


class InstanceNorm(_PerFieldAffine):
    """Equivariant instance normalisation: statistics of each sample and field over the grid.

    For sample ``b`` and field ``f`` (``c`` its trivial coefficients, means over grid points x)::

        m_{b,f} = mean_x c(b, x)                       x'_f = x_f - T_out m_{b,f}
        σ²_{b,f} = mean_x |x'_f(b, x)|² / size_f       (mean square per channel of the field)
        y_f = x'_f · w_f / sqrt(σ²_{b,f} + eps) + T_out b_f

    On 1-dim trivial fields this is ``torch.nn.InstanceNorm{2,3}d``. With
    ``track_running_stats=True`` the batch averages of m and σ² (σ² unbiased) are tracked with
    ``momentum`` in training mode and used in eval mode, as torch does. Equivariant: m and σ² are
    invariant (see the module docstring). Needs a base space (not ``no_base_space``) and
    orthogonal representations.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import InstanceNorm
    >>> gs = gspaces.flipRot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr, gs.irrep(1, 1)])
    >>> inorm = InstanceNorm(t)
    >>> inorm(t(torch.randn(2, 10, 7, 7))).shape
    torch.Size([2, 10, 7, 7])
    >>> _ = inorm.check_equivariance()
    """

    track_running_stats: bool
    momentum: float | None
    running_mean: torch.Tensor | None  # None if not tracking or no trivial component
    running_var: torch.Tensor | None  # None iff not tracking
    num_batches_tracked: torch.Tensor | None  # None iff not tracking
    _fsum: torch.Tensor

    def __init__(
        self,
        in_type: FieldType,
        eps: float = 1e-5,
        affine: bool = True,
        track_running_stats: bool = False,
        momentum: float | None = 0.1,
    ):
        super().__init__()
        check_field_type(in_type, owner="InstanceNorm")
        if in_type.gspace.dimensionality == 0:
            raise ValueError(
                f"in_type: InstanceNorm normalises over the base space, but {in_type!r} lives on no_base_space "
                "(use LayerNorm or FieldNorm)"
            )
        self._build(in_type, eps, affine)
        self.track_running_stats = check_bool(track_running_stats, "track_running_stats")
        self.momentum = check_unit_interval(momentum, "momentum", allow_none=True)
        self.register_constant("_fsum", _field_matrix(in_type, True))  # per-channel mean within each field
        if self.track_running_stats:
            self.register_buffer("running_mean", torch.zeros(self._ntriv) if self._ntriv else None)
            self.register_buffer("running_var", torch.ones(self._nfields))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.running_mean is not None:
            self.running_mean.zero_()
        if self.running_var is not None:
            self.running_var.fill_(1.0)
        if self.num_batches_tracked is not None:
            self.num_batches_tracked.zero_()

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        t = self._check_forward(x)
        nd = t.dim()
        if self.training or self.running_var is None:
            npix = t[0, 0].numel()
            if npix <= 1:
                raise ValueError(
                    f"input: InstanceNorm needs more than one grid point per sample, got input shape {tuple(t.shape)}"
                )
            m, t, var = _instance_stats(t, self._t_in, self._t_out, self._fsum)
            if self.training:
                self._update_running(m, var, npix)
        else:
            if self.running_mean is not None:
                t = t - _bview(self._t_out @ self.running_mean, nd)
            var = self.running_var[None]
        out = _instance_apply(t, var, self._fidx, self.weight, self._bias_c(), self.eps)
        return GeometricTensor(out, self.out_type, x.coords)

    @torch.no_grad()
    def _update_running(self, m: torch.Tensor, var: torch.Tensor, npix: int) -> None:
        if self.running_var is None or self.num_batches_tracked is None:
            return
        self.num_batches_tracked.add_(1)
        f: float | torch.Tensor = (
            self.momentum if self.momentum is not None else 1.0 / self.num_batches_tracked.to(var.dtype)
        )
        unbiased = var.detach().mean(0) * (npix / (npix - 1))
        self.running_var.lerp_(unbiased.to(self.running_var.dtype), f)
        if self.running_mean is not None:
            self.running_mean.lerp_(m.detach().mean(0).to(self.running_mean.dtype), f)

    def export(self) -> torch.nn.Module:
        """Plain torch. Without running statistics: a small plain module computing the same
        per-sample function (train and eval alike). With ``track_running_stats=True``: the
        eval-mode function (running statistics) as a ``torch.nn.BatchNorm{2,3}d`` in eval mode;
        switched to train mode it would not be equivariant."""
        with torch.no_grad():
            if self.running_var is None or self.num_batches_tracked is None:
                return _PlainInstanceNorm(
                    self._t_in, self._t_out, self._fsum, self._fidx, self.weight, self._bias_c(), self.eps
                )
            rm = self.running_mean
            mean_c = self._t_out @ rm if rm is not None else torch.zeros_like(self._fidx, dtype=self.running_var.dtype)
            weight_c = self._weight_c()
            bias_c = self._bias_c()
            if self.affine and bias_c is None:
                bias_c = torch.zeros_like(mean_c)
            return _export_diagonal(
                self.in_type.gspace.dimensionality,
                self.eps,
                self.momentum,
                mean_c,
                self.running_var[self._fidx],
                weight_c,
                bias_c,
                self.num_batches_tracked,
                self.affine,
            )
