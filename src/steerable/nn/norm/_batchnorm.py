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

from typing import Sequence

import numpy as np
import torch

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule

__all__ = [
    "InnerBatchNorm", "NormBatchNorm", "InducedNormBatchNorm", "GNormBatchNorm",
    "IIDBatchNorm1d", "IIDBatchNorm2d", "IIDBatchNorm3d",
]


# ------------------------------------------------------------------------------------------
# argument checks and field-type structure (shared with _fieldnorm.py and _layernorm.py)
# ------------------------------------------------------------------------------------------
def _check_in_type(in_type, owner: str) -> FieldType:
    if not isinstance(in_type, FieldType):
        raise TypeError(f"in_type: {owner} expects a FieldType, got {type(in_type).__name__}")
    return in_type


def _check_eps(eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating, np.integer)):
        raise TypeError(f"eps: expected a positive float, got {type(eps).__name__}")
    if not float(eps) > 0:
        raise ValueError(f"eps: expected a positive float, got {eps!r}")
    return float(eps)


def _check_momentum(momentum) -> float | None:
    if momentum is None:
        return None
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float, np.floating, np.integer)):
        raise TypeError(f"momentum: expected a float in [0, 1] or None, got {type(momentum).__name__}")
    if not 0.0 <= float(momentum) <= 1.0:
        raise ValueError(f"momentum: expected a float in [0, 1] or None, got {momentum!r}")
    return float(momentum)


def _check_bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a bool, got {type(value).__name__}")
    return bool(value)


def _is_orthogonal(rep) -> bool:
    """Whether ρ(g) is orthogonal on the group's generators (hence everywhere)."""
    mats = rep.matrices(rep.group.generators)
    gram = np.einsum("nij,nkj->nik", mats, mats)
    return bool(np.allclose(gram, np.eye(rep.size)[None], atol=1e-8))


def _require_orthogonal(in_type: FieldType, owner: str) -> None:
    seen: list = []
    for f, rep in enumerate(in_type.representations):
        if any(rep == r for r in seen):
            continue
        seen.append(rep)
        if not _is_orthogonal(rep):
            raise ValueError(
                f"in_type: {owner} normalises by field norms, which are invariant only for orthogonal "
                f"representations; field {f} ({rep!r}) is not orthogonal (use GNormBatchNorm, or "
                "a representation with an orthogonal change of basis)"
            )


def _field_index(in_type: FieldType) -> tuple[np.ndarray, np.ndarray]:
    """(field of each channel (C,), field sizes (F,))."""
    sizes = np.array([r.size for r in in_type.representations], dtype=np.int64)
    return np.repeat(np.arange(len(sizes)), sizes), sizes


def _field_matrix(in_type: FieldType, average: bool) -> np.ndarray:
    """(F, C): sums (or averages, ``average``) the channels of each field."""
    fidx, sizes = _field_index(in_type)
    m = np.zeros((len(sizes), in_type.size))
    m[fidx, np.arange(in_type.size)] = 1.0 / sizes[fidx] if average else 1.0
    return m


def _trivial_maps(in_type: FieldType, fields: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trivial components of the fields ``fields`` (default all).

    Returns ``(T_in (K, C), T_out (C, K), field (K,))``: row k of ``T_in`` reads the coefficient
    of the k-th trivial irrep (a row of the field's ``Q⁻¹``), column k of ``T_out`` embeds it (the
    matching column of ``Q``). ``T_out T_in`` is the projector onto the invariant subspace along
    the non-trivial isotypic components; it commutes with ρ(g).
    """
    G = in_type.gspace.fibergroup
    C = in_type.size
    rows, cols, owner = [], [], []
    wanted = range(len(in_type)) if fields is None else fields
    for f in wanted:
        rep = in_type.representations[f]
        q, qi = np.asarray(rep.change_of_basis), np.asarray(rep.change_of_basis_inv)
        a, p = int(in_type.fields_start[f]), 0
        for i in rep.irreps:
            psi = G.irrep(*i)
            if psi.is_trivial():
                r = np.zeros(C)
                c = np.zeros(C)
                r[a:a + rep.size] = qi[p]
                c[a:a + rep.size] = q[:, p]
                rows.append(r)
                cols.append(c)
                owner.append(f)
            p += psi.size
    if not rows:
        return np.zeros((0, C)), np.zeros((C, 0)), np.zeros(0, dtype=np.int64)
    return np.stack(rows), np.stack(cols, 1), np.array(owner, dtype=np.int64)


def _bview(vec: torch.Tensor, ndim: int) -> torch.Tensor:
    """(C,) -> (1, C, 1, ...) for a tensor of ``ndim`` dimensions."""
    return vec.reshape(1, -1, *(1,) * (ndim - 2))


class _NormBase(EquivariantModule):
    """Shared plumbing: in_type = out_type, shape checks, exact constants."""

    def _const(self, name: str, array) -> None:
        """Register a floating constant (a non-persistent buffer) kept in float64 numpy too, so
        that ``.double()`` gives it to full precision rather than a widened float32 copy."""
        arr = np.array(array, dtype=np.float64)
        self.__dict__.setdefault("_consts", {})[name] = arr
        self.register_buffer(name, torch.tensor(arr, dtype=torch.get_default_dtype()), persistent=False)

    def _apply(self, fn, *args, **kwargs):
        out = super()._apply(fn, *args, **kwargs)
        for name, arr in self.__dict__.get("_consts", {}).items():
            b = self._buffers.get(name)
            if b is not None and b.dtype == torch.float64:
                self._buffers[name] = torch.tensor(arr, dtype=b.dtype, device=b.device)
        return out

    def _check_forward(self, x) -> torch.Tensor:
        self._check_input(x)
        t = x.tensor
        if t.dim() < 2:
            raise ValueError(
                f"input: {type(self).__name__} needs a batch axis, i.e. a tensor of shape (B, "
                f"{self.in_type.size}, ...), got shape {tuple(t.shape)}"
            )
        return t

    def evaluate_output_shape(self, input_shape) -> tuple:
        shape = tuple(int(s) for s in input_shape)
        if len(shape) < 2 or shape[1] != self.in_type.size:
            raise ValueError(f"input_shape: expected (B, {self.in_type.size}, ...), got {shape}")
        return shape

    def extra_repr(self) -> str:
        keys = [k for k in ("eps", "momentum", "affine", "track_running_stats") if hasattr(self, k)]
        return f"{self.in_type!r}, " + ", ".join(f"{k}={getattr(self, k)}" for k in keys)


def _bn_class(d: int):
    return {0: torch.nn.BatchNorm1d, 1: torch.nn.BatchNorm1d, 2: torch.nn.BatchNorm2d, 3: torch.nn.BatchNorm3d}[d]


def _export_diagonal(d: int, eps: float, momentum, mean_c, var_c, weight_c, bias_c, nbt, affine: bool):
    """A ``torch.nn.BatchNormNd`` in eval mode computing ``(x - mean)/sqrt(var + eps)·w + b``."""
    bn = _bn_class(d)(mean_c.numel(), eps=eps, momentum=momentum, affine=affine, track_running_stats=True,
                      device=mean_c.device, dtype=mean_c.dtype)
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

    def _setup(self, in_type, eps, momentum, affine, track_running_stats, fidx, avg, t_in, t_out, mult):
        self.in_type = in_type
        self.out_type = in_type
        self.eps = _check_eps(eps)
        self.momentum = _check_momentum(momentum)
        self.affine = _check_bool(affine, "affine")
        self.track_running_stats = _check_bool(track_running_stats, "track_running_stats")
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
        self._const("_avg", avg)
        self._const("_t_in", t_in)
        self._const("_t_out", t_out)
        self._const("_mult", mult)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            if self.running_mean is not None:
                self.running_mean.zero_()
            self.running_var.fill_(1.0)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            with torch.no_grad():
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
        if not self.training and self.track_running_stats and type(self)._to_basis is _FieldBatchNorm._to_basis:
            # eval mode: the per-channel affine map, computed exactly as the exported BatchNorm does
            mean_c, var_c, weight_c, bias_c = self._eval_affine()
            out = torch.nn.functional.batch_norm(t, mean_c, var_c, weight_c, bias_c, False, 0.0, self.eps)
            return GeometricTensor(out, self.out_type, x.coords)
        z = self._to_basis(t)
        nd = z.dim()
        dims = [0] + list(range(2, nd))
        n = z.numel() // z.shape[1]
        K = self._ntriv
        if self.training or not self.track_running_stats:
            if self.training and n <= 1:
                raise ValueError(
                    f"input: {type(self).__name__} needs more than one value per channel in training "
                    f"mode, got input shape {tuple(t.shape)}"
                )
            if K:
                m = self._t_in @ z.mean(dims)
                z = z - _bview(self._t_out @ m, nd)
            var = self._avg @ (z * z).mean(dims)
            if self.training and self.track_running_stats:
                self._update_running(m if K else None, var, n)
        else:
            if K:
                z = z - _bview(self._t_out @ self.running_mean, nd)
            var = self.running_var
        w = self.weight if self.affine else torch.ones_like(var)
        scale = (w * torch.rsqrt(var + self.eps))[self._fidx]
        out = z * _bview(scale, nd)
        if self.affine and K:
            out = out + _bview(self._t_out @ self.bias, nd)
        return GeometricTensor(self._from_basis(out), self.out_type, x.coords)

    @torch.no_grad()
    def _update_running(self, m, var, n: int) -> None:
        self.num_batches_tracked.add_(1)
        if self.momentum is None:
            f = 1.0 / self.num_batches_tracked.to(var.dtype)
        else:
            f = self.momentum
        nn_ = self._mult * n
        unbiased = var.detach() * nn_ / (nn_ - 1).clamp(min=1)
        self.running_var.lerp_(unbiased.to(self.running_var.dtype), f)
        if m is not None:
            self.running_mean.lerp_(m.detach().to(self.running_mean.dtype), f)

    # -- export ------------------------------------------------------------------------------
    def _eval_affine(self) -> tuple:
        """Per-channel eval-mode statistics in the working basis: (mean, var, weight, bias)."""
        var = self.running_var
        mean_c = (self._t_out @ self.running_mean) if self._ntriv else torch.zeros_like(self._fidx, dtype=var.dtype)
        w = self.weight.detach() if self.affine else torch.ones_like(var)
        weight_c = w[self._fidx]
        bias_c = (self._t_out @ self.bias.detach()) if (self.affine and self._ntriv) else torch.zeros_like(mean_c)
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
            return _export_diagonal(self.in_type.gspace.dimensionality, self.eps, self.momentum, mean_c, var_c,
                                    weight_c, bias_c, self.num_batches_tracked, self.affine)


# ------------------------------------------------------------------------------------------
# public modules
# ------------------------------------------------------------------------------------------
class InnerBatchNorm(_FieldBatchNorm):
    """Batch normalisation for fields whose representation permutes channels ('pointwise').

    One mean and one variance per field, over the batch, the grid and the field's channels
    (which ρ(g) permutes), one learnable scale and bias per field (escnn's semantics)::

        μ_f = mean_{b,x,c∈f} x_c      σ²_f = mean_{b,x,c∈f} (x_c - μ_f)²
        y_c = (x_c - μ_f) / sqrt(σ²_f + eps) · w_f + b_f

    Equivariant because ρ(g) permutes the channels of a field (so μ_f and σ²_f are invariant and
    the per-field affine map commutes with it) and grid symmetries permute pixels.

    Args:
        in_type: fields whose representations support ``'pointwise'`` (and fix the all-ones
            vector, i.e. permutation representations).
        eps, momentum, affine, track_running_stats: as ``torch.nn.BatchNorm2d``.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr] * 2 + [gs.trivial_repr])
    >>> bn = InnerBatchNorm(t)
    >>> bn(t(torch.randn(4, 9, 7, 7))).shape
    torch.Size([4, 9, 7, 7])
    >>> [k for k in bn.state_dict()]
    ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
    """

    def __init__(self, in_type: FieldType, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True):
        super().__init__()
        _check_in_type(in_type, "InnerBatchNorm")
        seen: list = []
        for f, rep in enumerate(in_type.representations):
            if any(rep == r for r in seen):
                continue
            seen.append(rep)
            if "pointwise" not in rep.supported_nonlinearities:
                raise ValueError(
                    f"in_type: InnerBatchNorm needs representations supporting 'pointwise' non-linearities "
                    f"(permutation representations); field {f} of {in_type!r} is {rep!r}, which supports "
                    f"{sorted(rep.supported_nonlinearities)} (use NormBatchNorm, IIDBatchNorm or GNormBatchNorm)"
                )
            mats = rep.matrices(rep.group.generators)
            if not (_is_orthogonal(rep) and np.allclose(mats.sum(axis=2), 1.0, atol=1e-8)):
                raise ValueError(
                    f"in_type: InnerBatchNorm shares one mean and variance over each field's channels, "
                    f"which needs ρ(g) orthogonal and fixing the all-ones vector (a permutation "
                    f"representation); field {f} ({rep!r}) declares 'pointwise' but is not"
                )
        fidx, sizes = _field_index(in_type)
        avg = _field_matrix(in_type, average=True)
        onehot = _field_matrix(in_type, average=False)
        self._setup(in_type, eps, momentum, affine, track_running_stats, fidx, avg, avg, onehot.T, sizes)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        _escnn_inner_keys(self.in_type, state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


def _fields_by_size(in_type: FieldType) -> tuple[int, dict]:
    """(number of fields, {field size: [indices of the fields of that size, in order]})."""
    groups: dict = {}
    for f, r in enumerate(in_type.representations):
        groups.setdefault(r.size, []).append(f)
    return len(in_type.representations), groups


def _merge_per_size(state_dict, prefix: str, n_fields: int, groups: dict, names, key, what: str) -> None:
    """For each of ``names``, pop escnn's per-field-size entries ``key(s, name)`` and store one
    tensor with an entry per field (in field order) under ``prefix + name``."""
    for name in names:
        parts = {s: state_dict.pop(f"{prefix}{key(s, name)}", None) for s in groups}
        if all(v is None for v in parts.values()):
            continue
        if any(v is None for v in parts.values()):
            raise ValueError(f"state_dict: escnn {what} state under {prefix!r} lacks {name} for some field sizes")
        ref = next(iter(parts.values()))
        out = torch.empty(n_fields, dtype=ref.dtype, device=ref.device)
        for s, fields in groups.items():
            v = parts[s].reshape(-1)
            if v.numel() != len(fields):
                raise ValueError(
                    f"state_dict: escnn key {prefix}{key(s, name)} has {v.numel()} entries, but the field type "
                    f"has {len(fields)} fields of size {s}"
                )
            out[torch.as_tensor(fields)] = v
        state_dict[f"{prefix}{name}"] = out


def _escnn_norm_keys(in_type: FieldType, state_dict, prefix: str) -> None:
    """Rewrite, in place, an escnn ``NormBatchNorm`` state (``{s}_weight``, ``{s}_running_var`` of
    shape (1, n_s, 1) per field size ``s``, plus ``{s}_indices``) into ours (one entry per field).
    Does nothing if the state has no escnn keys."""
    n, groups = _fields_by_size(in_type)
    if not any(f"{prefix}{s}_running_var" in state_dict or f"{prefix}{s}_weight" in state_dict for s in groups):
        return
    _merge_per_size(state_dict, prefix, n, groups, ("weight", "running_var"), lambda s, k: f"{s}_{k}",
                    "NormBatchNorm")
    for s in groups:
        state_dict.pop(f"{prefix}{s}_indices", None)


def _escnn_inner_keys(in_type: FieldType, state_dict, prefix: str) -> None:
    """Rewrite, in place, an escnn ``InnerBatchNorm`` state (one ``batch_norm_[s]`` BatchNorm per
    field size ``s``, over the fields of that size in order, plus ``indices_s``) into ours (one
    entry per field, in field order). Does nothing if the state has no escnn keys."""
    n, groups = _fields_by_size(in_type)
    if not any(f"{prefix}batch_norm_[{s}].{k}" in state_dict for s in groups
               for k in ("weight", "running_var", "running_mean")):
        return
    _merge_per_size(state_dict, prefix, n, groups, ("weight", "bias", "running_mean", "running_var"),
                    lambda s, k: f"batch_norm_[{s}].{k}", "InnerBatchNorm")
    counts = [state_dict.pop(f"{prefix}batch_norm_[{s}].num_batches_tracked", None) for s in groups]
    counts = [c for c in counts if c is not None]
    if counts:
        state_dict[f"{prefix}num_batches_tracked"] = torch.stack([c.reshape(()) for c in counts]).max()
    for s in groups:
        state_dict.pop(f"{prefix}indices_{s}", None)


class NormBatchNorm(_FieldBatchNorm):
    """Batch normalisation of field norms (escnn's ``NormBatchNorm``, plus trivial fields).

    * Fields with no trivial irrep have zero mean in expectation; each is only rescaled::

          σ²_f = mean_{b,x} |x_f|² / dim f       y_f = x_f · w_f / sqrt(σ²_f + eps)

    * Trivial fields (every channel invariant) get standard batch normalisation: each trivial
      component is centred by its batch mean, the variance is ``mean_{b,x} |x_f - μ_f|² / dim f``
      (for the usual 1-dim trivial field exactly ``torch.nn.BatchNorm``), and a bias is learnt
      per trivial component.

    Fields that mix trivial and non-trivial irreps (e.g. regular representations) are rejected:
    use :class:`IIDBatchNorm2d`, :class:`GNormBatchNorm` or :class:`InnerBatchNorm` for them.
    Equivariant because |x_f| is invariant for orthogonal ρ, the trivial means are invariant, and
    a scalar per field commutes with ρ(g).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(-1)
    >>> t = nn.FieldType(gs, [gs.irrep(1), gs.irrep(2), gs.trivial_repr])
    >>> bn = NormBatchNorm(t)
    >>> bn(t(torch.randn(4, 5, 7, 7))).shape
    torch.Size([4, 5, 7, 7])
    """

    def __init__(self, in_type: FieldType, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True):
        super().__init__()
        _check_in_type(in_type, "NormBatchNorm")
        G = in_type.gspace.fibergroup
        trivial_fields = []
        for f, rep in enumerate(in_type.representations):
            if rep.is_trivial():
                trivial_fields.append(f)
            elif any(G.irrep(*i).is_trivial() for i in rep.irreps):
                raise ValueError(
                    f"in_type: NormBatchNorm needs fields that are either trivial or free of trivial irreps "
                    f"(their mean is then zero); field {f} of {in_type!r} is {rep!r} with irreps {rep.irreps} "
                    "(use IIDBatchNorm, GNormBatchNorm or InnerBatchNorm)"
                )
        _require_orthogonal(in_type, "NormBatchNorm")
        fidx, sizes = _field_index(in_type)
        t_in, t_out, _ = _trivial_maps(in_type, trivial_fields)
        self._setup(in_type, eps, momentum, affine, True, fidx, _field_matrix(in_type, True), t_in, t_out,
                    np.ones(len(sizes)))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        _escnn_norm_keys(self.in_type, state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


def _induced_block_size(rep) -> int | None:
    """The smallest proper block size d such that every ρ(g) is block-monomial with d×d blocks
    (ρ is then induced: it permutes the d-dim sub-fields up to an orthogonal map), else None."""
    mats = rep.matrices(rep.group.generators)
    n, s = mats.shape[0], rep.size
    for d in range(1, s):
        if s % d:
            continue
        k = s // d
        nz = np.abs(mats.reshape(n, k, d, k, d)).max(axis=(2, 4)) > 1e-8
        if np.all(nz.sum(axis=2) == 1) and np.all(nz.sum(axis=1) == 1):
            return d
    return None


class InducedNormBatchNorm(_FieldBatchNorm):
    """Batch normalisation for induced (block-monomial) isometric fields without trivial irreps.

    ``ρ = Ind_H^G σ`` permutes its ``|G:H|`` sub-fields of size ``dim σ`` (up to σ(h)); as in
    escnn, one variance is shared by all sub-fields of a field::

        σ²_f = mean_{b,x,sub-fields} |x_sub|² / dim σ = mean_{b,x} |x_f|² / dim f
        y_f = x_f · w_f / sqrt(σ²_f + eps)

    (numerically the same map as :class:`NormBatchNorm` on these fields). A field is accepted when
    its matrices are block-monomial for some proper block size (the detected sizes are in
    ``subfield_sizes``), it is orthogonal and it contains no trivial irrep (so its mean is zero).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.flipRot2dOnR2(-1)
    >>> G = gs.fibergroup
    >>> H = G.subgroup((None, -1))[0]
    >>> rho = G.induced_representation((None, -1), H.irrep(1))
    >>> t = nn.FieldType(gs, [rho] * 2)
    >>> bn = InducedNormBatchNorm(t)
    >>> bn.subfield_sizes
    (2, 2)
    >>> bn(t(torch.randn(4, 8, 7, 7))).shape
    torch.Size([4, 8, 7, 7])
    """

    def __init__(self, in_type: FieldType, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True):
        super().__init__()
        _check_in_type(in_type, "InducedNormBatchNorm")
        G = in_type.gspace.fibergroup
        found: list = []
        sub = []
        for f, rep in enumerate(in_type.representations):
            hit = [d for r, d in found if r == rep]
            if hit:
                sub.append(hit[0])
                continue
            if any(G.irrep(*i).is_trivial() for i in rep.irreps):
                raise ValueError(
                    f"in_type: InducedNormBatchNorm needs fields without trivial irreps (their mean is then "
                    f"zero); field {f} of {in_type!r} is {rep!r} with irreps {rep.irreps}"
                )
            d = _induced_block_size(rep)
            if d is None:
                raise ValueError(
                    f"in_type: InducedNormBatchNorm needs induced representations (block-monomial matrices); "
                    f"field {f} of {in_type!r} ({rep!r}) is not (use NormBatchNorm)"
                )
            found.append((rep, d))
            sub.append(d)
        _require_orthogonal(in_type, "InducedNormBatchNorm")
        self.subfield_sizes = tuple(sub)
        fidx, sizes = _field_index(in_type)
        C = in_type.size
        self._setup(in_type, eps, momentum, affine, True, fidx, _field_matrix(in_type, True), np.zeros((0, C)),
                    np.zeros((C, 0)), np.ones(len(sizes)))


class GNormBatchNorm(_FieldBatchNorm):
    """Batch normalisation in the irrep basis, one statistic per irrep block (escnn's).

    Each field is mapped to its irrep basis ``z = Q⁻¹ x``; every irrep block ``z_i`` of every field
    gets its own statistics over the batch and the grid::

        μ_i = mean_{b,x} z_i  (trivial blocks only; 0 otherwise)
        σ²_i = mean_{b,x} |z_i - μ_i|² / dim ψ_i
        z_i ← (z_i - μ_i) · w_i / sqrt(σ²_i + eps) + b_i (b_i on trivial blocks only)

    and the result is mapped back with ``Q``. Equivariant because ``ψ_i`` is orthogonal (|z_i| and
    the trivial coefficients are invariant) and a scalar per irrep block commutes with ``⊕ ψ_i``;
    works for any representation, orthogonal or not. ``weight``/``running_var`` have one entry per
    (field, irrep) in field order, ``bias``/``running_mean`` one per trivial irrep.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(8)
    >>> t = nn.FieldType(gs, [gs.regular_repr, gs.irrep(1)])
    >>> bn = GNormBatchNorm(t)
    >>> tuple(bn.weight.shape), tuple(bn.bias.shape)
    ((6,), (1,))
    >>> bn(t(torch.randn(4, 10, 7, 7))).shape
    torch.Size([4, 10, 7, 7])
    """

    def __init__(self, in_type: FieldType, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True):
        super().__init__()
        _check_in_type(in_type, "GNormBatchNorm")
        G = in_type.gspace.fibergroup
        C = in_type.size
        bidx = np.zeros(C, dtype=np.int64)
        bsizes, triv_pos = [], []
        c = 0
        for rep in in_type.representations:
            for i in rep.irreps:
                psi = G.irrep(*i)
                bidx[c:c + psi.size] = len(bsizes)
                if psi.is_trivial():
                    triv_pos.append(c)
                bsizes.append(psi.size)
                c += psi.size
        R, K = len(bsizes), len(triv_pos)
        avg = np.zeros((R, C))
        avg[bidx, np.arange(C)] = 1.0 / np.asarray(bsizes, dtype=float)[bidx]
        t_in = np.zeros((K, C))
        t_in[np.arange(K), triv_pos] = 1.0
        self._setup(in_type, eps, momentum, affine, True, bidx, avg, t_in, t_in.T.copy(), np.ones(R))
        # fields with a non-identity change of basis, grouped by representation (first appearance)
        types: list = []
        for f, rep in enumerate(in_type.representations):
            if np.allclose(rep.change_of_basis, np.eye(rep.size), atol=1e-12):
                continue
            for entry in types:
                if entry[0] == rep:
                    entry[1].append(f)
                    break
            else:
                types.append((rep, [f]))
        self._cob_types: list[tuple[int, int]] = []
        if types:
            moved = []
            for k, (rep, fields) in enumerate(types):
                idx = in_type.channel_indices(fields)
                moved.append(idx)
                self.register_buffer(f"_cob_idx_{k}", idx, persistent=False)
                self._const(f"_cob_q_{k}", rep.change_of_basis)
                self._const(f"_cob_qinv_{k}", rep.change_of_basis_inv)
                self._cob_types.append((len(fields), rep.size))
            moved_all = torch.cat(moved)
            keep = np.setdiff1d(np.arange(C), moved_all.numpy())
            self.register_buffer("_cob_keep", torch.as_tensor(keep, dtype=torch.long), persistent=False)
            order = torch.cat([self._cob_keep, moved_all])
            self.register_buffer("_cob_unperm", torch.argsort(order), persistent=False)

    def _change(self, t: torch.Tensor, inverse: bool) -> torch.Tensor:
        if not self._cob_types:
            return t
        B, sp = t.shape[0], t.shape[2:]
        parts = [t.index_select(1, self._cob_keep)]
        for k, (n, s) in enumerate(self._cob_types):
            m = getattr(self, f"_cob_qinv_{k}" if inverse else f"_cob_q_{k}")
            xk = t.index_select(1, getattr(self, f"_cob_idx_{k}")).reshape(B, n, s, *sp)
            parts.append(torch.einsum("ij,bnj...->bni...", m, xk).reshape(B, n * s, *sp))
        return torch.cat(parts, 1).index_select(1, self._cob_unperm)

    def _to_basis(self, t):
        return self._change(t, inverse=True)

    def _from_basis(self, t):
        return self._change(t, inverse=False)

    def export(self) -> torch.nn.Module:
        """The eval-mode function in plain torch: ``torch.nn.BatchNorm{1,2,3}d`` when every field
        is in its irrep basis already (``Q = I``), else the block-diagonal channel map
        ``x ↦ Q D Q⁻¹ x + c`` as a 1×1 ``Conv{2,3}d`` (``Linear`` on ``no_base_space``, for inputs
        of shape (B, C)). Equal to this module in eval mode (running statistics)."""
        if not self._cob_types:
            return super().export()
        with torch.no_grad():
            mean_c, var_c, weight_c, bias_c = self._eval_affine()
            a = weight_c * torch.rsqrt(var_c + self.eps)
            shift = bias_c - a * mean_c
            qb = np.zeros((self.in_type.size,) * 2)
            qbi = np.zeros_like(qb)
            for f, rep in enumerate(self.in_type.representations):
                s, e = int(self.in_type.fields_start[f]), int(self.in_type.fields_end[f])
                qb[s:e, s:e] = rep.change_of_basis
                qbi[s:e, s:e] = rep.change_of_basis_inv
            q = torch.as_tensor(qb, dtype=torch.float64)
            matrix = (q * a.double()[None, :]) @ torch.as_tensor(qbi)
            offset = q @ shift.double()
            return _channel_affine(self.in_type.gspace.dimensionality, matrix.to(a), offset.to(a))


def _channel_affine(d: int, matrix: torch.Tensor, offset: torch.Tensor) -> torch.nn.Module:
    """``x ↦ M x + c`` on the channel axis: ``Linear`` (d = 0) or a 1×1 ``Conv{2,3}d``."""
    C = matrix.shape[0]
    kw = dict(device=matrix.device, dtype=matrix.dtype)
    if d == 0:
        m = torch.nn.Linear(C, C, **kw)
        with torch.no_grad():
            m.weight.copy_(matrix)
            m.bias.copy_(offset)
        return m.eval()
    cls = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[d]
    m = cls(C, C, 1, **kw)
    with torch.no_grad():
        m.weight.copy_(matrix.reshape(C, C, *(1,) * d))
        m.bias.copy_(offset)
    return m.eval()


class _IIDBatchNorm(_FieldBatchNorm):
    _d: int = 2

    def __init__(self, in_type: FieldType, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True):
        super().__init__()
        name = type(self).__name__
        _check_in_type(in_type, name)
        want = (0,) if self._d == 1 else (self._d,)
        if in_type.gspace.dimensionality not in want:
            raise ValueError(
                f"in_type: {name} needs a field type on "
                f"{'no_base_space (inputs (B, C) or (B, C, L))' if self._d == 1 else f'R^{self._d}'}, got "
                f"{in_type!r} on R^{in_type.gspace.dimensionality} (use IIDBatchNorm"
                f"{ {0: 1, 2: 2, 3: 3}.get(in_type.gspace.dimensionality, '?') }d)"
            )
        _require_orthogonal(in_type, name)
        fidx, sizes = _field_index(in_type)
        t_in, t_out, _ = _trivial_maps(in_type)
        self._setup(in_type, eps, momentum, affine, track_running_stats, fidx, _field_matrix(in_type, True), t_in,
                    t_out, np.ones(len(sizes)))


_IID_DOC = """Batch normalisation assuming i.i.d. field components (escnn's ``IIDBatchNorm{d}d``).

    Per field ``f``, over the batch and the grid: the mean is the projection of the batch mean on
    the field's trivial irreps (``μ_f = T_out T_in E[x_f]``, zero on non-trivial irreps), the
    variance is shared by all the field's channels::

        σ²_f = mean_{{b,x}} |x_f - μ_f|² / dim f
        y_f = (x_f - μ_f) · w_f / sqrt(σ²_f + eps) + T_out b_f   (bias on trivial irreps only)

    For 1-dim trivial fields this is exactly ``torch.nn.BatchNorm{d}d``. Equivariant because the
    projector on the trivial irreps commutes with ρ(g), ``|x_f - μ_f|`` is invariant (orthogonal ρ)
    and the scale is one scalar per field. {where}

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = {gs}
    >>> t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    >>> bn = IIDBatchNorm{d}d(t)
    >>> bn(t(torch.randn({shape}))).shape
    torch.Size([{shape}])
    """


class IIDBatchNorm1d(_IIDBatchNorm):
    __doc__ = _IID_DOC.format(d=1, where="For ``no_base_space`` inputs (B, C) or (B, C, L).",
                              gs="gspaces.no_base_space(__import__('steerable').group.cyclic_group(5))",
                              shape="8, 6")
    _d = 1


class IIDBatchNorm2d(_IIDBatchNorm):
    __doc__ = _IID_DOC.format(d=2, where="For fields on R^2.", gs="gspaces.rot2dOnR2(4)", shape="4, 5, 7, 7")
    _d = 2


class IIDBatchNorm3d(_IIDBatchNorm):
    __doc__ = _IID_DOC.format(d=3, where="For fields on R^3.", gs="gspaces.octaOnR3()", shape="2, 25, 5, 5, 5")
    _d = 3
