"""Equivariant batch normalisation (escnn's ``InnerBatchNorm``, ``NormBatchNorm``,
``InducedNormBatchNorm``, ``GNormBatchNorm``, ``IIDBatchNorm{1,2,3}d``).

Every module here is one affine map per channel whose statistics are *invariant* numbers:

* a mean is only ever taken of **trivial components** (the coefficients of a field along the
  trivial irreps of its decomposition ``ρ = Q (⊕ ψ_i) Q⁻¹``, or, for permutation fields, the
  average of the field's channels), averaged over the batch and the grid: these are invariant
  because ``G`` fixes them and the grid symmetries only permute pixels;
* a variance is only ever a mean of **squared norms** of whole fields (or of whole irrep blocks in
  the irrep basis), again invariant because the representations are orthogonal;
* the scale is one scalar per field (per irrep block for ``GNormBatchNorm``), which commutes with
  ``ρ(g)``, and the bias lives on trivial components only.

Hence ``f(g·x) = g·f(x)`` both in training mode (batch statistics) and in eval mode (running
statistics). Statistics are not detached: gradients flow through them as in ``torch.nn.BatchNorm``.
Running variances are updated with the unbiased estimate (``n/(n-1)``), the normalisation uses
the biased one, as torch does.

Parameters and buffers (the same keys in train and eval mode, in this order):
``weight`` (one scale per field; per irrep block for ``GNormBatchNorm``), ``bias`` (one per trivial
component; absent when there is none), ``running_mean`` (per trivial component; absent when there
is none), ``running_var`` (like ``weight``), ``num_batches_tracked``. Index tensors and bases are
non-persistent buffers.
"""

from __future__ import annotations

import torch

from steerable._validation import check_bool, check_positive, check_unit_interval

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from ._base import _NormBase
from ._fields import _bview


def _bn_class(d: int):
    return {0: torch.nn.BatchNorm1d, 1: torch.nn.BatchNorm1d, 2: torch.nn.BatchNorm2d, 3: torch.nn.BatchNorm3d}[d]


def _export_diagonal(d: int, eps: float, momentum, mean_c, var_c, weight_c, bias_c, nbt, affine: bool):
    """A ``torch.nn.BatchNormNd`` in eval mode computing ``(x - mean)/sqrt(var + eps)·w + b``."""
    bn = _bn_class(d)(
        mean_c.numel(),
        eps=eps,
        momentum=momentum,
        affine=affine,
        track_running_stats=True,
        device=mean_c.device,
        dtype=mean_c.dtype,
    )
    with torch.no_grad():
        bn.running_mean.copy_(mean_c)
        bn.running_var.copy_(var_c)
        if nbt is not None:
            bn.num_batches_tracked.copy_(nbt)
        if affine:
            bn.weight.copy_(weight_c)
            bn.bias.copy_(bias_c)
    return bn.eval()


class _FieldBatchNorm(_NormBase):
    """Batch normalisation with per-"group" scalar statistics.

    Subclasses hand over the structure (numpy): ``fidx`` (C,) the statistics group of every
    channel (a field, or an irrep block for GNormBatchNorm), ``avg`` (F, C) averaging the squares
    over each group's channels, ``t_in``/``t_out`` the mean components, ``mult`` (F,) the number of
    samples per pixel each group's variance averages over (for the unbiased running estimate).
    Computation (x in the working basis, reductions over the batch and the grid):

        m = T_in E[x]          x' = x - T_out m          v = avg E[x'²]
        y = x' · (w / sqrt(v + eps))[group] + T_out b
    """

    in_type: FieldType
    out_type: FieldType
    eps: float
    momentum: float | None
    affine: bool
    track_running_stats: bool
    weight: torch.nn.Parameter | None  # None iff not affine
    bias: torch.nn.Parameter | None  # None if not affine or no trivial component
    running_mean: torch.Tensor | None  # None if not tracking or no trivial component
    running_var: torch.Tensor | None  # None iff not tracking
    num_batches_tracked: torch.Tensor | None  # None iff not tracking
    _fidx: torch.Tensor
    _avg: torch.Tensor
    _t_in: torch.Tensor
    _t_out: torch.Tensor
    _mult: torch.Tensor

    def _setup(self, in_type, eps, momentum, affine, track_running_stats, fidx, avg, t_in, t_out, mult):
        self.in_type = in_type
        self.out_type = in_type
        self.eps = check_positive(eps, "eps")
        self.momentum = check_unit_interval(momentum, "momentum", allow_none=True)
        self.affine = check_bool(affine, "affine")
        self.track_running_stats = check_bool(track_running_stats, "track_running_stats")
        F, K = avg.shape[0], t_in.shape[0]
        self._nstats, self._ntriv = int(F), int(K)
        if self.affine:
            self.weight = torch.nn.Parameter(torch.ones(F))
            self.bias = torch.nn.Parameter(torch.zeros(K)) if K else None
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", torch.zeros(K) if K else None)
            self.register_buffer("running_var", torch.ones(F))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.register_buffer("_fidx", torch.as_tensor(fidx, dtype=torch.long), persistent=False)
        self.register_constant("_avg", avg)
        self.register_constant("_t_in", t_in)
        self.register_constant("_t_out", t_out)
        self.register_constant("_mult", mult)

    def reset_running_stats(self) -> None:
        if self.running_mean is not None:
            self.running_mean.zero_()
        if self.running_var is not None:
            self.running_var.fill_(1.0)
        if self.num_batches_tracked is not None:
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        with torch.no_grad():
            if self.weight is not None:
                self.weight.fill_(1.0)
            if self.bias is not None:
                self.bias.zero_()

    # working basis (GNormBatchNorm overrides: the irrep basis)
    def _to_basis(self, t: torch.Tensor) -> torch.Tensor:
        return t

    def _from_basis(self, t: torch.Tensor) -> torch.Tensor:
        return t

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        t = self._check_forward(x)
        if not self.training and self.running_var is not None and type(self)._to_basis is _FieldBatchNorm._to_basis:
            # eval mode: the per-channel affine map, computed exactly as the exported BatchNorm does
            mean_c, var_c, weight_c, bias_c = self._eval_affine()
            out = torch.nn.functional.batch_norm(t, mean_c, var_c, weight_c, bias_c, False, 0.0, self.eps)
            return GeometricTensor(out, self.out_type, x.coords)
        z = self._to_basis(t)
        nd = z.dim()
        dims = [0] + list(range(2, nd))
        n = z.numel() // z.shape[1]
        K = self._ntriv
        m: torch.Tensor | None = None
        if self.training or self.running_var is None:
            if self.training and n <= 1:
                raise ValueError(
                    f"input: {type(self).__name__} needs more than one value per channel in training "
                    f"mode, got input shape {tuple(t.shape)}"
                )
            if K:
                m = self._t_in @ z.mean(dims)
                z = z - _bview(self._t_out @ m, nd)
            var = self._avg @ (z * z).mean(dims)
            if self.training and self.running_var is not None:
                self._update_running(m, var, n)
        else:
            if self.running_mean is not None:
                z = z - _bview(self._t_out @ self.running_mean, nd)
            var = self.running_var
        w = self.weight if self.weight is not None else torch.ones_like(var)
        scale = (w * torch.rsqrt(var + self.eps))[self._fidx]
        out = z * _bview(scale, nd)
        if self.bias is not None:
            out = out + _bview(self._t_out @ self.bias, nd)
        return GeometricTensor(self._from_basis(out), self.out_type, x.coords)

    @torch.no_grad()
    def _update_running(self, m: torch.Tensor | None, var: torch.Tensor, n: int) -> None:
        if self.running_var is None or self.num_batches_tracked is None:
            return
        self.num_batches_tracked.add_(1)
        f: float | torch.Tensor
        if self.momentum is None:
            f = 1.0 / self.num_batches_tracked.to(var.dtype)
        else:
            f = self.momentum
        nn_ = self._mult * n
        unbiased = var.detach() * nn_ / (nn_ - 1).clamp(min=1)
        self.running_var.lerp_(unbiased.to(self.running_var.dtype), f)
        if m is not None and self.running_mean is not None:
            self.running_mean.lerp_(m.detach().to(self.running_mean.dtype), f)

    # -- export ------------------------------------------------------------------------------
    def _eval_affine(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-channel eval-mode statistics in the working basis: (mean, var, weight, bias)."""
        var = self.running_var
        if var is None:
            raise TypeError(f"{type(self).__name__} with track_running_stats=False has no running statistics")
        rm = self.running_mean
        mean_c = (self._t_out @ rm) if rm is not None else torch.zeros_like(self._fidx, dtype=var.dtype)
        w = self.weight.detach() if self.weight is not None else torch.ones_like(var)
        weight_c = w[self._fidx]
        bias_c = (self._t_out @ self.bias.detach()) if self.bias is not None else torch.zeros_like(mean_c)
        return mean_c, var[self._fidx], weight_c, bias_c

    def export(self) -> torch.nn.Module:
        """The eval-mode function as a plain ``torch.nn.BatchNorm{1,2,3}d`` (returned in eval
        mode, with per-channel copies of the running statistics and affine parameters).

        The exported module equals this one in eval mode only: switched to train mode it would
        compute per-channel batch statistics, which are not equivariant. Needs
        ``track_running_stats=True`` (with batch statistics in eval mode there is no fixed
        per-channel map).
        """
        if not self.track_running_stats:
            raise TypeError(
                f"{type(self).__name__} with track_running_stats=False normalises with batch statistics "
                "in eval mode too; no fixed plain-torch module computes that function"
            )
        with torch.no_grad():
            mean_c, var_c, weight_c, bias_c = self._eval_affine()
            return _export_diagonal(
                self.in_type.gspace.dimensionality,
                self.eps,
                self.momentum,
                mean_c,
                var_c,
                weight_c,
                bias_c,
                self.num_batches_tracked,
                self.affine,
            )
