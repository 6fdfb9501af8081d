"""Equivariant upsampling of fields on R^2 and R^3 grids (interpolation channel by channel)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ._field_type import FieldType
from ._geometric_tensor import GeometricTensor
from ._module import EquivariantModule

__all__ = ["R2Upsampling", "R3Upsampling"]


class _RdUpsampling(EquivariantModule):
    _d = 2
    _modes: tuple = ()

    @property
    def d(self) -> int:
        """The dimensionality of the base space (escnn's attribute)."""
        return self._d

    def __init__(
        self,
        in_type: FieldType,
        scale_factor: float | None = None,
        size: int | Sequence[int] | None = None,
        mode: str = "bilinear",
        align_corners: bool = False,
    ):
        super().__init__()
        d = self._d
        name = type(self).__name__
        if not isinstance(in_type, FieldType):
            raise TypeError(f"in_type: expected a FieldType, got {type(in_type).__name__}")
        if in_type.gspace.dimensionality != d:
            raise ValueError(
                f"in_type: {name} needs a field type on R^{d}, got one on R^{in_type.gspace.dimensionality}"
            )
        if (scale_factor is None) == (size is None):
            raise ValueError(
                f"scale_factor, size: give exactly one of them, got scale_factor={scale_factor!r}, size={size!r}"
            )
        if mode not in self._modes:
            raise ValueError(f"mode: expected one of {self._modes}, got {mode!r}")
        if not isinstance(align_corners, bool):
            raise TypeError(f"align_corners: expected a bool, got {type(align_corners).__name__}")
        if scale_factor is not None:
            if isinstance(scale_factor, bool) or not isinstance(scale_factor, (int, float, np.integer, np.floating)):
                raise TypeError(
                    f"scale_factor: expected a positive number (the same for every axis), got {scale_factor!r}"
                )
            if not (math.isfinite(float(scale_factor)) and float(scale_factor) > 0):
                raise ValueError(f"scale_factor: expected a positive number, got {scale_factor!r}")
            scale_factor = float(scale_factor)
            if mode == "nearest" and not scale_factor.is_integer():
                warnings.warn(
                    f"{name}: mode 'nearest' is equivariant only for an integer scale_factor (each pixel becomes "
                    f"a block of s^{d} copies); with scale_factor={scale_factor} the rounding is not symmetric and "
                    f"equivariance is lost (escnn accepts it too). Use an integer or {self._modes[1]!r}",
                    stacklevel=3,
                )
        if size is not None:
            if mode == "nearest":
                warnings.warn(
                    f"{name}: mode 'nearest' with a fixed size is equivariant only when size is an integer "
                    "multiple of the input size (otherwise the rounding is not symmetric); pass "
                    f"scale_factor or mode={self._modes[1]!r} for exact equivariance",
                    stacklevel=3,
                )
            sz = (size,) * d if isinstance(size, (int, np.integer)) else tuple(size)  # a bool fails the check below
            if len(sz) != d or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in sz):
                raise ValueError(f"size: expected a positive integer or {d} positive integers, got {size!r}")
            size = tuple(int(s) for s in sz)
        self.in_type = self.out_type = in_type
        self.scale_factor = scale_factor
        self.size = size
        self.mode = mode
        self.align_corners = align_corners

    def _kwargs(self) -> dict:
        kw: dict = dict(mode=self.mode, align_corners=None if self.mode == "nearest" else self.align_corners)
        if self.size is not None:
            kw["size"] = self.size
        else:
            # the sampling grid from the actual output size: symmetric for every input size
            kw["scale_factor"] = self.scale_factor
            kw["recompute_scale_factor"] = True
        return kw

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        if x.coords is not None:
            raise ValueError(f"input: {type(self).__name__} acts on grids, got a point cloud")
        return GeometricTensor(F.interpolate(x.tensor, **self._kwargs()), self.out_type)

    def evaluate_output_shape(self, input_shape) -> tuple:
        shape = tuple(int(s) for s in input_shape)
        d = self._d
        if len(shape) != 2 + d or shape[1] != self.in_type.size:
            raise ValueError(f"input_shape: expected (B, {self.in_type.size}, *{d} spatial), got {shape}")
        if self.size is not None:
            return shape[:2] + self.size
        assert self.scale_factor is not None  # __init__ sets exactly one of size and scale_factor
        return shape[:2] + tuple(int(math.floor(n * self.scale_factor)) for n in shape[2:])

    def _grid_output_size(self, n: int) -> int | None:
        m = super()._grid_output_size(n)
        if m is None or self.mode != "nearest":
            return m
        if self.size is not None:
            return m if all(s % n == 0 for s in self.size) else None
        assert self.scale_factor is not None  # __init__ sets exactly one of size and scale_factor
        return m if float(self.scale_factor).is_integer() else None

    def export(self) -> torch.nn.Upsample:
        """The equivalent ``torch.nn.Upsample``."""
        kw = self._kwargs()
        return torch.nn.Upsample(**kw)

    def extra_repr(self) -> str:
        what = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return f"{what}, mode={self.mode!r}, align_corners={self.align_corners}"


class R2Upsampling(_RdUpsampling):
    """Upsampling of fields on R^2 (escnn's arguments): ``torch.nn.functional.interpolate`` on
    every channel, which commutes with the fibre action (it is linear and acts on each channel
    alike) and with the grid symmetries (the sampling grid is symmetric about the centre).

    Give exactly one of ``scale_factor`` (one number for both axes) or ``size``. Modes:
    ``'bilinear'`` (default), ``'bicubic'``, and ``'nearest'`` (exactly equivariant only for an
    integer upsampling factor: otherwise the nearest-neighbour rounding is not symmetric, and a
    warning says so). With ``scale_factor`` the interpolation grid is recomputed from
    the output size (``recompute_scale_factor=True``), which keeps it symmetric for any input
    size. A non-square ``size`` is only compatible with the symmetries that keep the grid's
    shape (flips). ``export()`` is the equivalent ``torch.nn.Upsample``.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import R2Upsampling
    >>> gs = gspaces.rot2dOnR2(8)
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> up = R2Upsampling(t, scale_factor=2)
    >>> up(t(torch.randn(1, 8, 5, 5))).shape
    torch.Size([1, 8, 10, 10])
    >>> _ = up.check_equivariance(spatial=5)
    """

    _d = 2
    _modes = ("nearest", "bilinear", "bicubic")

    def __init__(
        self,
        in_type: FieldType,
        scale_factor: float | None = None,
        size: int | Sequence[int] | None = None,
        mode: str = "bilinear",
        align_corners: bool = False,
    ):
        super().__init__(in_type, scale_factor, size, mode, align_corners)


class R3Upsampling(_RdUpsampling):
    """Upsampling of fields on R^3; as ``R2Upsampling`` with modes ``'trilinear'`` (default) and
    ``'nearest'`` (integer ``scale_factor`` only).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import R3Upsampling
    >>> gs = gspaces.octaOnR3()
    >>> t = nn.FieldType(gs, [gs.trivial_repr])
    >>> R3Upsampling(t, size=6)(t(torch.randn(1, 1, 3, 3, 3))).shape
    torch.Size([1, 1, 6, 6, 6])
    """

    _d = 3
    _modes = ("nearest", "trilinear")

    def __init__(
        self,
        in_type: FieldType,
        scale_factor: float | None = None,
        size: int | Sequence[int] | None = None,
        mode: str = "trilinear",
        align_corners: bool = False,
    ):
        super().__init__(in_type, scale_factor, size, mode, align_corners)
