"""PointwiseMaxPool2D / 3D: channel-wise max pooling of permutation fields (escnn's ``PointwiseMaxPool``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .._field_type import FieldType
from ._window import (
    IntOrTuple,
    _WindowPoolND,
)

__all__ = ["PointwiseMaxPool", "PointwiseMaxPool2D", "PointwiseMaxPool3D"]


# ----------------------------------------------------------------------------- max pooling
class _PointwiseMaxPoolND(_WindowPoolND):
    _pointwise_only = True

    def __init__(
        self,
        in_type: FieldType,
        kernel_size: IntOrTuple,
        stride: IntOrTuple | None = None,
        padding: IntOrTuple = 0,
        dilation: IntOrTuple = 1,
        ceil_mode: bool = False,
    ):
        super().__init__()
        self._setup(in_type)
        self._set_window(kernel_size, stride, padding, dilation, ceil_mode)

    def _pool(self, t):
        fn = F.max_pool2d if self._d == 2 else F.max_pool3d
        return fn(t, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)

    def export(self) -> torch.nn.Module:
        """The equivalent ``torch.nn.MaxPool2d`` / ``MaxPool3d``."""
        cls = torch.nn.MaxPool2d if self._d == 2 else torch.nn.MaxPool3d
        return cls(self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode)


class PointwiseMaxPool2D(_PointwiseMaxPoolND):
    """Channel-wise max pooling on R^2 (``torch.nn.MaxPool2d`` on every channel).

    Needs permutation representations (every field supports ``'pointwise'``), otherwise
    ``ValueError``. Exactly equivariant to the grid's rotations/flips when the windows tile the
    (square) input symmetrically: ``(n + 2·padding − dilation·(kernel_size−1) − 1) % stride == 0``,
    e.g. kernel 3, stride 2, padding 1 on 9 × 9 → 5 × 5 (see the module docstring).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import PointwiseMaxPool2D
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr] * 2)
    >>> pool = PointwiseMaxPool2D(t, kernel_size=3, stride=2, padding=1)
    >>> pool(t(torch.randn(1, 8, 9, 9))).shape
    torch.Size([1, 8, 5, 5])
    >>> _ = pool.check_equivariance()
    """

    _d = 2


class PointwiseMaxPool3D(_PointwiseMaxPoolND):
    """Channel-wise max pooling on R^3 (``torch.nn.MaxPool3d`` on every channel); see
    :class:`PointwiseMaxPool2D` (same conditions for exact equivariance, per axis of a cube).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import PointwiseMaxPool3D
    >>> gs = gspaces.octaOnR3()
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> PointwiseMaxPool3D(t, 3, 2, 1)(t(torch.randn(1, 24, 5, 5, 5))).shape
    torch.Size([1, 24, 3, 3, 3])
    """

    _d = 3


# escnn's alias
PointwiseMaxPool = PointwiseMaxPool2D
