"""PointwiseMaxPoolAntialiased2D / 3D: max pooling followed by a Gaussian blur (escnn's
``PointwiseMaxPoolAntialiased``)."""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from steerable._validation import check_positive

from .._field_type import FieldType
from ._window import (
    IntOrTuple,
    _blur_module,
    _gaussian_filter,
    _pool_out_size,
    _WindowPoolND,
)

__all__ = ["PointwiseMaxPoolAntialiased", "PointwiseMaxPoolAntialiased2D", "PointwiseMaxPoolAntialiased3D"]


# ----------------------------------------------------------------------------- anti-aliased pooling
class _PointwiseMaxPoolAntialiasedND(_WindowPoolND):
    _pointwise_only = True
    filter: torch.Tensor

    def __init__(
        self,
        in_type: FieldType,
        kernel_size: IntOrTuple,
        stride: IntOrTuple | None = None,
        padding: IntOrTuple = 0,
        dilation: IntOrTuple = 1,
        ceil_mode: bool = False,
        sigma: float = 0.6,
    ):
        super().__init__()
        self._setup(in_type)
        self._set_window(kernel_size, stride, padding, dilation, ceil_mode)
        if self.ceil_mode:
            warnings.warn(
                f"{type(self).__name__}: ceil_mode has no effect (the max is taken with stride 1 and the "
                "blur's output size is floored)",
                stacklevel=2,
            )
        self.sigma = check_positive(sigma, "sigma")
        self.filter_size = 2 * int(round(4 * self.sigma)) + 1
        half = (self.filter_size - 1) // 2
        self.blur_padding = tuple(p + half for p in self.padding)
        self.register_buffer(
            "filter", _gaussian_filter(self.sigma, self.filter_size, self._d, in_type.size), persistent=False
        )

    def _pool(self, t):
        d = self._d
        mp = F.max_pool2d if d == 2 else F.max_pool3d
        conv = F.conv2d if d == 2 else F.conv3d
        y = mp(t, self.kernel_size, 1, self.padding, self.dilation)
        return conv(y, self.filter.to(dtype=y.dtype), None, self.stride, self.blur_padding, 1, t.shape[1])

    def _spatial_out(self, spatial):
        out = []
        for n, k, s, p, dl, q in zip(
            spatial, self.kernel_size, self.stride, self.padding, self.dilation, self.blur_padding
        ):
            m = _pool_out_size(n, k, 1, p, dl, False)
            out.append(_pool_out_size(m, self.filter_size, s, q, 1, False) if m > 0 else 0)
        return tuple(out)

    def export(self) -> torch.nn.Module:
        """``Sequential(MaxPool{2,3}d(stride=1), frozen depth-wise Conv{2,3}d with the Gaussian)``."""
        cls = torch.nn.MaxPool2d if self._d == 2 else torch.nn.MaxPool3d
        return torch.nn.Sequential(
            cls(self.kernel_size, 1, self.padding, self.dilation),
            _blur_module(self.filter.detach().clone(), self._d, self.stride, self.blur_padding),
        )

    def extra_repr(self) -> str:
        return super().extra_repr() + f", sigma={self.sigma}"


class PointwiseMaxPoolAntialiased2D(_PointwiseMaxPoolAntialiasedND):
    """Anti-aliased channel-wise max pooling on R^2 (Zhang 2019, "Making Convolutional Networks
    Shift-Invariant Again"), as escnn/e2cnn do: a stride-1 max pooling (``kernel_size``,
    ``padding``, ``dilation``), then a depth-wise Gaussian blur (std ``sigma``, filter size
    ``2·round(4σ)+1``, padding ``padding + (filter−1)/2``) applied with ``stride`` (default
    ``kernel_size``). Needs permutation representations ('pointwise').

    The blur is an isotropic, symmetric filter, so the result is exactly equivariant to the grid's
    symmetries when the strided blur windows sit symmetrically on the (square) input of side n:
    ``(n + 4·padding − dilation·(kernel_size−1) − 1) % stride == 0`` (e.g. kernel 3, stride 2,
    padding 1 on 9 × 9 → 6 × 6; kernel 2, stride 2, padding 0 on 8 × 8 → 4 × 4).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import PointwiseMaxPoolAntialiased2D
    >>> gs = gspaces.rot2dOnR2(8)
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> pool = PointwiseMaxPoolAntialiased2D(t, kernel_size=3, stride=2, padding=1)
    >>> pool(t(torch.randn(1, 8, 9, 9))).shape
    torch.Size([1, 8, 6, 6])
    >>> _ = pool.check_equivariance()
    """

    _d = 2


class PointwiseMaxPoolAntialiased3D(_PointwiseMaxPoolAntialiasedND):
    """Anti-aliased channel-wise max pooling on R^3; see :class:`PointwiseMaxPoolAntialiased2D`.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import PointwiseMaxPoolAntialiased3D
    >>> gs = gspaces.octaOnR3()
    >>> t = nn.FieldType(gs, [gs.trivial_repr])
    >>> PointwiseMaxPoolAntialiased3D(t, 2, 2)(t(torch.randn(1, 1, 5, 5, 5))).shape
    torch.Size([1, 1, 2, 2, 2])
    """

    _d = 3


# escnn's alias
PointwiseMaxPoolAntialiased = PointwiseMaxPoolAntialiased2D
