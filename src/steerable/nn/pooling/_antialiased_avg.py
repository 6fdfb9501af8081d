"""PointwiseAvgPoolAntialiased2D / 3D: Gaussian blur with a stride (escnn's ``PointwiseAvgPoolAntialiased``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from steerable._validation import check_int_tuple, check_positive

from .._field_type import FieldType
from ._window import (
    IntOrTuple,
    _blur_module,
    _gaussian_filter,
    _PointwisePoolND,
    _pool_out_size,
)

__all__ = ["PointwiseAvgPoolAntialiased", "PointwiseAvgPoolAntialiased2D", "PointwiseAvgPoolAntialiased3D"]


class _PointwiseAvgPoolAntialiasedND(_PointwisePoolND):
    filter: torch.Tensor

    def __init__(self, in_type: FieldType, sigma: float, stride: IntOrTuple | None, padding: IntOrTuple | None = None):
        super().__init__()
        self._setup(in_type)
        d = self._d
        self.sigma = check_positive(sigma, "sigma")
        self.filter_size = 2 * int(round(3 * self.sigma)) + 1
        self.kernel_size = (self.filter_size,) * d
        self.stride = self.kernel_size if stride is None else check_int_tuple(stride, "stride", d, 1)
        if padding is None:
            padding = (self.filter_size - 1) // 2
        self.padding = check_int_tuple(padding, "padding", d, 0)
        self.register_buffer(
            "filter", _gaussian_filter(self.sigma, self.filter_size, d, in_type.size), persistent=False
        )

    def _pool(self, t):
        conv = F.conv2d if self._d == 2 else F.conv3d
        return conv(t, self.filter.to(dtype=t.dtype), None, self.stride, self.padding, 1, t.shape[1])

    def _spatial_out(self, spatial):
        return tuple(
            _pool_out_size(n, self.filter_size, s, p, 1, False) for n, s, p in zip(spatial, self.stride, self.padding)
        )

    def export(self) -> torch.nn.Module:
        """A frozen depth-wise ``Conv{2,3}d`` holding the Gaussian filter."""
        return _blur_module(self.filter.detach().clone(), self._d, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"{self.in_type!r}, sigma={self.sigma}, stride={self.stride}, padding={self.padding}"


class PointwiseAvgPoolAntialiased2D(_PointwiseAvgPoolAntialiasedND):
    """Anti-aliased channel-wise average pooling on R^2, escnn's ``(in_type, sigma, stride,
    padding=None)``: a depth-wise convolution with a normalised Gaussian (std ``sigma``, filter
    size ``2·round(3σ)+1``) applied with ``stride``; ``padding=None`` pads by half the filter
    (the size is kept at stride 1). Linear: any field type.

    Exactly equivariant to the grid's symmetries when ``(n + 2·padding − filter_size) % stride == 0``
    on a square input of side n — with the default padding: ``(n − 1) % stride == 0``, e.g. odd n with
    stride 2 (9 → 5).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import PointwiseAvgPoolAntialiased2D
    >>> gs = gspaces.flipRot2dOnR2(-1)
    >>> t = nn.FieldType(gs, [gs.irrep(1, 2)])
    >>> pool = PointwiseAvgPoolAntialiased2D(t, sigma=0.6, stride=2)
    >>> pool(t(torch.randn(1, 2, 9, 9))).shape
    torch.Size([1, 2, 5, 5])
    >>> _ = pool.check_equivariance()
    """

    _d = 2


class PointwiseAvgPoolAntialiased3D(_PointwiseAvgPoolAntialiasedND):
    """Anti-aliased channel-wise average pooling on R^3; see :class:`PointwiseAvgPoolAntialiased2D`.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import PointwiseAvgPoolAntialiased3D
    >>> gs = gspaces.rot3dOnR3()
    >>> t = nn.FieldType(gs, [gs.irrep(1)])
    >>> PointwiseAvgPoolAntialiased3D(t, 0.6, 2)(t(torch.randn(1, 3, 5, 5, 5))).shape
    torch.Size([1, 3, 3, 3, 3])
    """

    _d = 3


# escnn's alias
PointwiseAvgPoolAntialiased = PointwiseAvgPoolAntialiased2D
