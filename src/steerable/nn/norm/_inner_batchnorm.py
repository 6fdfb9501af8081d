"""InnerBatchNorm: batch normalisation of permutation fields (escnn's ``InnerBatchNorm``)."""
from __future__ import annotations

import numpy as np

from .._field_type import FieldType
from .._validation import check_field_type, is_orthogonal
from ._escnn_keys import _escnn_inner_keys
from ._field_batchnorm import _FieldBatchNorm
from ._fields import _field_index, _field_matrix

__all__ = ["InnerBatchNorm"]


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

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        _escnn_inner_keys(self.in_type, state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
