"""PointwiseAvgPool2D / 3D: channel-wise average pooling of any field type (escnn's ``PointwiseAvgPool``)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .._field_type import FieldType
from ._window import (
    IntOrTuple,
    _WindowPoolND,
)

__all__ = ["PointwiseAvgPool", "PointwiseAvgPool2D", "PointwiseAvgPool3D"]


# ----------------------------------------------------------------------------- average pooling
class _PointwiseAvgPoolND(_WindowPoolND):
    def __init__(
        self,
        in_type: FieldType,
        kernel_size: IntOrTuple,
        stride: IntOrTuple | None = None,
        padding: IntOrTuple = 0,
        ceil_mode: bool = False,
    ):
        super().__init__()
        self._setup(in_type)
        self._set_window(kernel_size, stride, padding, 1, ceil_mode)

    def _pool(self, t):
        fn = F.avg_pool2d if self._d == 2 else F.avg_pool3d
        return fn(t, self.kernel_size, self.stride, self.padding, self.ceil_mode)

    def export(self) -> torch.nn.Module:
        """The equivalent ``torch.nn.AvgPool2d`` / ``AvgPool3d``."""
        # torch's stubs ask for tuples of a fixed length; ours have length self._d, checked at construction
        cls: Callable[..., torch.nn.Module] = torch.nn.AvgPool2d if self._d == 2 else torch.nn.AvgPool3d
        return cls(self.kernel_size, self.stride, self.padding, ceil_mode=self.ceil_mode)

    def extra_repr(self) -> str:
        return (
            f"{self.in_type!r}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, ceil_mode={self.ceil_mode}"
        )


class PointwiseAvgPool2D(_PointwiseAvgPoolND):
    """Channel-wise average pooling on R^2 (``torch.nn.AvgPool2d``; escnn's arguments
    ``(in_type, kernel_size, stride=None, padding=0, ceil_mode=False)`` — torch's average pooling
    has no dilation). Linear, so any field type is accepted. Exactly equivariant on the grid under
    the same window condition as :class:`PointwiseMaxPool2D` (zero padding is counted in the
    average, symmetrically).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import PointwiseAvgPool2D
    >>> gs = gspaces.rot2dOnR2(-1)
    >>> t = nn.FieldType(gs, [gs.irrep(1), gs.irrep(2)])
    >>> pool = PointwiseAvgPool2D(t, 3, stride=2, padding=1)
    >>> pool(t(torch.randn(2, 4, 9, 9))).shape
    torch.Size([2, 4, 5, 5])
    >>> _ = pool.check_equivariance()
    """

    _d = 2


class PointwiseAvgPool3D(_PointwiseAvgPoolND):
    """Channel-wise average pooling on R^3 (``torch.nn.AvgPool3d``); any field type. See
    :class:`PointwiseAvgPool2D`.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import PointwiseAvgPool3D
    >>> gs = gspaces.rot3dOnR3()
    >>> t = nn.FieldType(gs, [gs.irrep(1)])
    >>> PointwiseAvgPool3D(t, 2)(t(torch.randn(1, 3, 6, 6, 6))).shape
    torch.Size([1, 3, 3, 3, 3])
    """

    _d = 3


# escnn's alias
PointwiseAvgPool = PointwiseAvgPool2D
