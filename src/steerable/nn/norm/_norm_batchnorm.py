"""NormBatchNorm: batch normalisation of field norms (escnn's ``NormBatchNorm``)."""

from __future__ import annotations

import numpy as np

from .._field_type import FieldType
from .._validation import check_field_type, require_orthogonal
from ._escnn_keys import _escnn_norm_keys
from ._field_batchnorm import _FieldBatchNorm
from ._fields import _ORTHO_HINT, _ORTHO_WHY, _field_index, _field_matrix, _trivial_maps

__all__ = ["NormBatchNorm"]


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
    >>> from steerable.nn import NormBatchNorm
    >>> gs = gspaces.rot2dOnR2(-1)
    >>> t = nn.FieldType(gs, [gs.irrep(1), gs.irrep(2), gs.trivial_repr])
    >>> bn = NormBatchNorm(t)
    >>> bn(t(torch.randn(4, 5, 7, 7))).shape
    torch.Size([4, 5, 7, 7])
    """

    def __init__(self, in_type: FieldType, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True):
        super().__init__()
        check_field_type(in_type, owner="NormBatchNorm")
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
        require_orthogonal(in_type, "NormBatchNorm", why=_ORTHO_WHY, hint=_ORTHO_HINT)
        fidx, sizes = _field_index(in_type)
        t_in, t_out, _ = _trivial_maps(in_type, trivial_fields)
        self._setup(
            in_type, eps, momentum, affine, True, fidx, _field_matrix(in_type, True), t_in, t_out, np.ones(len(sizes))
        )

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ):
        _escnn_norm_keys(self.in_type, state_dict, prefix)
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )
