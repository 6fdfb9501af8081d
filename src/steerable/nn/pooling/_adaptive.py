"""PointwiseAdaptiveAvgPool2D / 3D and PointwiseAdaptiveMaxPool2D / 3D: channel-wise adaptive pooling
(escnn's ``PointwiseAdaptiveAvgPool`` and ``PointwiseAdaptiveMaxPool``)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from steerable._validation import check_int, is_int

from .._field_type import FieldType
from ._window import (
    _PointwisePoolND,
)

__all__ = [
    "PointwiseAdaptiveAvgPool",
    "PointwiseAdaptiveAvgPool2D",
    "PointwiseAdaptiveAvgPool3D",
    "PointwiseAdaptiveMaxPool",
    "PointwiseAdaptiveMaxPool2D",
    "PointwiseAdaptiveMaxPool3D",
]


# ----------------------------------------------------------------------------- adaptive pooling
class _PointwiseAdaptivePoolND(_PointwisePoolND):
    _max = False

    def __init__(self, in_type: FieldType, output_size: int | Sequence[int | None]):
        super().__init__()
        self._setup(in_type)
        d = self._d
        size: tuple[int | None, ...]
        if (
            isinstance(output_size, (tuple, list))
            and len(output_size) == d
            and all(v is None or is_int(v) for v in output_size)
        ):
            size = tuple(None if v is None else int(v) for v in output_size)
        else:
            size = (check_int(output_size, "output_size", what=f"an int or a tuple of {d} ints (or None)"),) * d
        if any(v is not None and v < 1 for v in size):
            raise ValueError(f"output_size: expected positive sizes, got {output_size!r}")
        self.output_size = size

    def _pool(self, t):
        if self._max:
            fn = F.adaptive_max_pool2d if self._d == 2 else F.adaptive_max_pool3d
        else:
            fn = F.adaptive_avg_pool2d if self._d == 2 else F.adaptive_avg_pool3d
        return fn(t, self.output_size)

    def _spatial_out(self, spatial):
        return tuple(n if o is None else o for n, o in zip(spatial, self.output_size))

    def export(self) -> torch.nn.Module:
        """The equivalent ``torch.nn.Adaptive{Avg,Max}Pool{2,3}d``."""
        name = f"Adaptive{'Max' if self._max else 'Avg'}Pool{self._d}d"
        return getattr(torch.nn, name)(self.output_size)

    def extra_repr(self) -> str:
        return f"{self.in_type!r}, output_size={self.output_size}"


class PointwiseAdaptiveAvgPool2D(_PointwiseAdaptivePoolND):
    """Channel-wise adaptive average pooling on R^2 (``torch.nn.AdaptiveAvgPool2d``); any field
    type. torch's adaptive windows are mirror-symmetric, so this is exactly equivariant to the
    grid's symmetries on square inputs with equal output sizes.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import PointwiseAdaptiveAvgPool2D
    >>> gs = gspaces.flipRot2dOnR2(-1)
    >>> t = nn.FieldType(gs, [gs.irrep(1, 1)])
    >>> pool = PointwiseAdaptiveAvgPool2D(t, 1)
    >>> pool(t(torch.randn(2, 2, 8, 8))).shape
    torch.Size([2, 2, 1, 1])
    """

    _d = 2


class PointwiseAdaptiveAvgPool3D(_PointwiseAdaptivePoolND):
    """Channel-wise adaptive average pooling on R^3 (``torch.nn.AdaptiveAvgPool3d``); any field
    type; exactly equivariant on cubic inputs with equal output sizes.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import PointwiseAdaptiveAvgPool3D
    >>> gs = gspaces.rot3dOnR3()
    >>> t = nn.FieldType(gs, [gs.irrep(2)])
    >>> PointwiseAdaptiveAvgPool3D(t, 2)(t(torch.randn(1, 5, 5, 5, 5))).shape
    torch.Size([1, 5, 2, 2, 2])
    """

    _d = 3


class PointwiseAdaptiveMaxPool2D(_PointwiseAdaptivePoolND):
    """Channel-wise adaptive max pooling on R^2 (``torch.nn.AdaptiveMaxPool2d``); needs
    permutation representations ('pointwise'). Exactly equivariant on square inputs with equal
    output sizes.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import PointwiseAdaptiveMaxPool2D
    >>> gs = gspaces.flipRot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> PointwiseAdaptiveMaxPool2D(t, (3, 3))(t(torch.randn(1, 8, 9, 9))).shape
    torch.Size([1, 8, 3, 3])
    """

    _d = 2
    _max = True
    _pointwise_only = True


class PointwiseAdaptiveMaxPool3D(_PointwiseAdaptivePoolND):
    """Channel-wise adaptive max pooling on R^3 (``torch.nn.AdaptiveMaxPool3d``); needs
    permutation representations ('pointwise').

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import PointwiseAdaptiveMaxPool3D
    >>> gs = gspaces.octaOnR3()
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> PointwiseAdaptiveMaxPool3D(t, 1)(t(torch.randn(1, 24, 5, 5, 5))).shape
    torch.Size([1, 24, 1, 1, 1])
    """

    _d = 3
    _max = True
    _pointwise_only = True


# escnn's alias
PointwiseAdaptiveAvgPool = PointwiseAdaptiveAvgPool2D
PointwiseAdaptiveMaxPool = PointwiseAdaptiveMaxPool2D
