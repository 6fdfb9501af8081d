"""IIDBatchNorm{1,2,3}d: batch normalisation assuming i.i.d. field components (escnn's)."""

from __future__ import annotations

import numpy as np

from .._field_type import FieldType
from .._validation import check_field_type, require_orthogonal
from ._field_batchnorm import _FieldBatchNorm
from ._fields import _ORTHO_HINT, _ORTHO_WHY, _field_index, _field_matrix, _trivial_maps

__all__ = ["IIDBatchNorm1d", "IIDBatchNorm2d", "IIDBatchNorm3d"]


class _IIDBatchNorm(_FieldBatchNorm):
    _d: int = 2

    def __init__(
        self,
        in_type: FieldType,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ):
        super().__init__()
        name = type(self).__name__
        check_field_type(in_type, owner=name)
        want = (0,) if self._d == 1 else (self._d,)
        if in_type.gspace.dimensionality not in want:
            raise ValueError(
                f"in_type: {name} needs a field type on "
                f"{'no_base_space (inputs (B, C) or (B, C, L))' if self._d == 1 else f'R^{self._d}'}, got "
                f"{in_type!r} on R^{in_type.gspace.dimensionality} (use IIDBatchNorm"
                f"{ {0: 1, 2: 2, 3: 3}.get(in_type.gspace.dimensionality, '?') }d)"
            )
        require_orthogonal(in_type, name, why=_ORTHO_WHY, hint=_ORTHO_HINT)
        fidx, sizes = _field_index(in_type)
        t_in, t_out, _ = _trivial_maps(in_type)
        self._setup(
            in_type,
            eps,
            momentum,
            affine,
            track_running_stats,
            fidx,
            _field_matrix(in_type, True),
            t_in,
            t_out,
            np.ones(len(sizes)),
        )


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
    >>> from steerable.nn import IIDBatchNorm{d}d
    >>> gs = {gs}
    >>> t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    >>> bn = IIDBatchNorm{d}d(t)
    >>> bn(t(torch.randn({shape}))).shape
    torch.Size([{shape}])
    """


class IIDBatchNorm1d(_IIDBatchNorm):
    __doc__ = _IID_DOC.format(
        d=1,
        where="For ``no_base_space`` inputs (B, C) or (B, C, L).",
        gs="gspaces.no_base_space(__import__('steerable').group.cyclic_group(5))",
        shape="8, 6",
    )
    _d = 1


class IIDBatchNorm2d(_IIDBatchNorm):
    __doc__ = _IID_DOC.format(d=2, where="For fields on R^2.", gs="gspaces.rot2dOnR2(4)", shape="4, 5, 7, 7")
    _d = 2


class IIDBatchNorm3d(_IIDBatchNorm):
    __doc__ = _IID_DOC.format(d=3, where="For fields on R^3.", gs="gspaces.octaOnR3()", shape="2, 25, 5, 5, 5")
    _d = 3
