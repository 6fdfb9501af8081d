"""InnerBatchNorm: batch normalisation of permutation fields (escnn's ``InnerBatchNorm``)."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._validation import check_field_type, is_orthogonal
from ._escnn_keys import _escnn_inner_keys
from ._field_batchnorm import _FieldBatchNorm
from ._fields import _field_index, _field_matrix

__all__ = ["InnerBatchNorm"]

# the fused forward normalises up to this many runs of equal-size fields one by one, more by size
_MAX_RUNS = 8


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
    >>> from steerable.nn import InnerBatchNorm
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr] * 2 + [gs.trivial_repr])
    >>> bn = InnerBatchNorm(t)
    >>> bn(t(torch.randn(4, 9, 7, 7))).shape
    torch.Size([4, 9, 7, 7])
    >>> [k for k in bn.state_dict()]
    ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
    """

    _groups: list[tuple[int, int, int]]  # per field size: (size, number of fields, first field or -1)
    _perm: torch.Tensor | None  # the channels grouped by field size (None: the identity)
    _order: torch.Tensor | None  # the inverse of _perm

    def __init__(
        self,
        in_type: FieldType,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ):
        super().__init__()
        check_field_type(in_type, owner="InnerBatchNorm")
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
            if not (is_orthogonal(rep) and np.allclose(mats.sum(axis=2), 1.0, atol=1e-8)):
                raise ValueError(
                    f"in_type: InnerBatchNorm shares one mean and variance over each field's channels, "
                    f"which needs ρ(g) orthogonal and fixing the all-ones vector (a permutation "
                    f"representation); field {f} ({rep!r}) declares 'pointwise' but is not"
                )
        fidx, sizes = _field_index(in_type)
        avg = _field_matrix(in_type, average=True)
        onehot = _field_matrix(in_type, average=False)
        self._setup(in_type, eps, momentum, affine, track_running_stats, fidx, avg, avg, onehot.T, sizes)
        self._plan_size_groups(in_type, sizes)

    def _plan_size_groups(self, in_type: FieldType, sizes: np.ndarray) -> None:
        """The blocks of fields the fused forward normalises with one ``batch_norm`` each, as
        ``(field size, number of fields, first field)``.

        Statistics are per field, so any partition into blocks of equal-size fields gives the
        same result. Up to ``_MAX_RUNS`` maximal runs of consecutive equal-size fields: the runs
        (contiguous channels, no data movement). Beyond: one block per field size (first-
        appearance order), the first field -1 when its fields are not contiguous (the
        non-persistent buffer ``_fields_<i>`` lists them), ``_perm`` gathering the channels
        block after block and ``_order`` its inverse (None when not needed)."""
        runs: list[tuple[int, int, int]] = []
        for f, s in enumerate(sizes.tolist()):
            if runs and runs[-1][0] == s:
                runs[-1] = (s, runs[-1][1] + 1, runs[-1][2])
            else:
                runs.append((int(s), 1, f))
        if len(runs) <= _MAX_RUNS:
            self._groups = runs
            self._perm = self._order = None
            return
        by_size: dict[int, list[int]] = {}
        for f, s in enumerate(sizes.tolist()):
            by_size.setdefault(int(s), []).append(f)
        self._groups = []
        for i, (s, fields) in enumerate(by_size.items()):
            if fields == list(range(fields[0], fields[0] + len(fields))):
                self._groups.append((s, len(fields), fields[0]))
            else:
                self._groups.append((s, len(fields), -1))
                self.register_buffer(f"_fields_{i}", torch.as_tensor(fields, dtype=torch.long), persistent=False)
        perm = np.concatenate([in_type.channel_indices(fields).numpy().astype(np.int64) for fields in by_size.values()])
        self.register_buffer("_perm", torch.as_tensor(perm), persistent=False)
        self.register_buffer("_order", torch.as_tensor(np.argsort(perm)), persistent=False)

    def _fused_ok(self, t: torch.Tensor) -> bool:
        """Whether ``torch.nn.functional.batch_norm`` can take ``t`` with our parameters and
        statistics as they are (same dtype and device; else the generic path promotes types)."""
        for p in (self.weight, self.bias, self.running_mean, self.running_var):
            if p is not None and (p.dtype != t.dtype or p.device != t.device):
                return False
        return True

    @staticmethod
    def _part(v: torch.Tensor | None, start: int, n: int, index: torch.Tensor | None) -> torch.Tensor | None:
        if v is None:
            return None
        return v.narrow(0, start, n) if index is None else v.index_select(0, index)

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        """Normalise ``x`` (see the class).

        Fused: one ``torch.nn.functional.batch_norm`` per block of equal-size fields (all fields
        at once when they have one size ``G``), on their channels viewed as ``(B, n_fields,
        G·H·W)``: one mean and variance per field over the batch, the field's channels and the
        grid, the running variance updated with the unbiased estimate over those ``B·G·H·W``
        values (as the generic path does). In eval mode with running statistics: that view when
        all fields have one size, else one per-channel ``batch_norm``. Inputs whose dtype or
        device differ from the module's take the generic path (which promotes types).
        """
        t = self._check_forward(x)
        if not self._fused_ok(t):
            return super().forward(x)
        B, hw = t.shape[0], math.prod(t.shape[2:])
        npix = B * hw
        batch_stats = self.training or self.running_var is None
        if batch_stats and npix <= 1:
            if self.training:
                raise ValueError(
                    f"input: {type(self).__name__} needs more than one value per channel in training "
                    f"mode, got input shape {tuple(t.shape)}"
                )
            return super().forward(x)  # eval with batch statistics of one value: the generic path
        single = len(self._groups) == 1 and self._groups[0][2] == 0
        if not batch_stats:
            if single:
                out = F.batch_norm(
                    t.reshape(B, self._nstats, self._groups[0][0] * hw),
                    self.running_mean,
                    self.running_var,
                    self.weight,
                    self.bias,
                    False,
                    0.0,
                    self.eps,
                ).reshape(t.shape)
            else:
                out = F.batch_norm(
                    t,
                    self._part_c(self.running_mean),
                    self._part_c(self.running_var),
                    self._part_c(self.weight),
                    self._part_c(self.bias),
                    False,
                    0.0,
                    self.eps,
                )
            return GeometricTensor(out, self.out_type, x.coords)
        update = self.training and self.running_var is not None
        if update and single and self.momentum is not None:
            # one fused op updates the running statistics in place (torch's convention)
            out = F.batch_norm(
                t.reshape(B, self._nstats, self._groups[0][0] * hw),
                self.running_mean,
                self.running_var,
                self.weight,
                self.bias,
                True,
                self.momentum,
                self.eps,
            ).reshape(t.shape)
            if self.num_batches_tracked is not None:
                self.num_batches_tracked.add_(1)
            return GeometricTensor(out, self.out_type, x.coords)
        # the blocks' channels (gathered block after block if not contiguous), split (whose backward
        # is one concatenation), one batch_norm per block, concatenated back
        tg = t if self._perm is None else t.index_select(1, self._perm)
        parts = tg.split([nf * s for s, nf, _ in self._groups], dim=1) if len(self._groups) > 1 else (tg,)
        outs, means, vars_ = [], [], []
        for i, ((s, nf, f0), xg) in enumerate(zip(self._groups, parts)):
            fidx = None if f0 >= 0 else getattr(self, f"_fields_{i}")
            rm = rv = None
            if update:  # momentum 1: the buffers receive this batch's mean and unbiased variance
                rm = torch.zeros(nf, dtype=t.dtype, device=t.device)
                rv = torch.zeros(nf, dtype=t.dtype, device=t.device)
                means.append(rm)
                vars_.append(rv)
            y = F.batch_norm(
                xg.reshape(B, nf, s * hw),
                rm,
                rv,
                self._part(self.weight, f0, nf, fidx),
                self._part(self.bias, f0, nf, fidx),
                True,
                1.0,
                self.eps,
            )
            outs.append(y.reshape(xg.shape))
        out = outs[0] if len(outs) == 1 else torch.cat(outs, dim=1)
        if self._order is not None:
            out = out.index_select(1, self._order)
        if update:
            self._lerp_running(means, vars_)
        return GeometricTensor(out, self.out_type, x.coords)

    def _part_c(self, v: torch.Tensor | None) -> torch.Tensor | None:
        """A per-field vector repeated over each field's channels."""
        return None if v is None else v[self._fidx]

    @torch.no_grad()
    def _lerp_running(self, means: list[torch.Tensor], vars_: list[torch.Tensor]) -> None:
        """Move the running statistics towards the per-size-group batch statistics (momentum, or
        the cumulative average ``1/num_batches_tracked`` when ``momentum`` is None)."""
        if self.running_var is None or self.running_mean is None or self.num_batches_tracked is None:
            return
        self.num_batches_tracked.add_(1)
        f: float | torch.Tensor
        if self.momentum is None:
            f = 1.0 / self.num_batches_tracked.to(self.running_var.dtype)
        else:
            f = self.momentum
        for i, (_, nf, f0) in enumerate(self._groups):
            m, v = means[i], vars_[i]
            if f0 >= 0:
                self.running_mean.narrow(0, f0, nf).lerp_(m, f)
                self.running_var.narrow(0, f0, nf).lerp_(v, f)
            else:
                idx = getattr(self, f"_fields_{i}")
                self.running_mean.index_copy_(0, idx, self.running_mean.index_select(0, idx).lerp_(m, f))
                self.running_var.index_copy_(0, idx, self.running_var.index_select(0, idx).lerp_(v, f))

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ):
        _escnn_inner_keys(self.in_type, state_dict, prefix)
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )
