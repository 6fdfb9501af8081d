"""Channel-wise ("pointwise") pooling over the base space: max, average, adaptive and
anti-aliased pooling on R^2 and R^3 (escnn's ``PointwiseMaxPool``, ``PointwiseAvgPool``, ...).

Every channel is pooled independently, exactly as ``torch.nn.MaxPool2d`` & co. do.

* **Average** pooling (plain, adaptive and anti-aliased) is linear and acts on every channel
  alike, so it commutes with any fibre representation: it accepts every field type.
* **Max** pooling commutes with ρ(g) only if ρ(g) permutes the channels, so it needs every field to
  support ``'pointwise'`` nonlinearities (trivial, regular and quotient representations of finite
  groups, quotient representations such as O(2)/SO(2)); anything else is refused at construction.

**Exact equivariance on the grid.** A 90° rotation or a reflection of the grid maps the pooling
windows onto pooling windows only if the windows are placed symmetrically, i.e. if they tile the
padded grid with no remainder: on a square (cubic) input of side ``n``, the output is exactly
equivariant to the grid's symmetries when

    (n + 2·padding − dilation·(kernel_size − 1) − 1) is divisible by stride

(e.g. kernel 3, stride 2, padding 1 on odd sizes: 9 → 5; kernel 2, stride 2 on even sizes:
8 → 4; any stride-1 pooling). With a remainder the last row/column is dropped on one side only
(or, with ``ceil_mode``, a partial window is added on one side) and equivariance is lost.
Adaptive pooling is always exactly equivariant on square (cubic) inputs with equal output sizes
(torch's adaptive windows are mirror-symmetric). For the anti-aliased versions see their
docstrings.
"""
from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule

__all__ = [
    "PointwiseMaxPool2D", "PointwiseMaxPool", "PointwiseMaxPool3D",
    "PointwiseAvgPool2D", "PointwiseAvgPool", "PointwiseAvgPool3D",
    "PointwiseAdaptiveAvgPool2D", "PointwiseAdaptiveAvgPool", "PointwiseAdaptiveAvgPool3D",
    "PointwiseAdaptiveMaxPool2D", "PointwiseAdaptiveMaxPool", "PointwiseAdaptiveMaxPool3D",
    "PointwiseMaxPoolAntialiased2D", "PointwiseMaxPoolAntialiased", "PointwiseMaxPoolAntialiased3D",
    "PointwiseAvgPoolAntialiased2D", "PointwiseAvgPoolAntialiased", "PointwiseAvgPoolAntialiased3D",
]

IntOrTuple = int | Sequence[int]


# ----------------------------------------------------------------------------- validation helpers
def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _int_tuple(value, d: int, name: str, minimum: int) -> tuple[int, ...]:
    """An int or a sequence of ``d`` ints, each ``>= minimum``, as a ``d``-tuple."""
    if _is_int(value):
        vals = (int(value),) * d
    elif isinstance(value, (tuple, list)) and len(value) == d and all(_is_int(v) for v in value):
        vals = tuple(int(v) for v in value)
    else:
        raise TypeError(f"{name}: expected an int or a tuple of {d} ints, got {value!r}")
    if any(v < minimum for v in vals):
        raise ValueError(f"{name}: expected integers >= {minimum}, got {value!r}")
    return vals


def _check_bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a bool, got {value!r}")
    return bool(value)


def _check_sigma(sigma) -> float:
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.integer, np.floating)):
        raise TypeError(f"sigma: expected a positive float, got {sigma!r}")
    if not (math.isfinite(float(sigma)) and float(sigma) > 0):
        raise ValueError(f"sigma: expected a positive float, got {sigma!r}")
    return float(sigma)


def _check_in_type(in_type, d: int, owner: str) -> None:
    if not isinstance(in_type, FieldType):
        raise TypeError(f"in_type: {owner} expects a FieldType, got {type(in_type).__name__}")
    if in_type.gspace.dimensionality != d:
        raise ValueError(
            f"in_type: {owner} needs a field type on R^{d}, got {in_type!r} on "
            f"R^{in_type.gspace.dimensionality}"
        )


def _check_pointwise(in_type: FieldType, owner: str) -> None:
    """Every field must support 'pointwise' nonlinearities (permutation representations)."""
    checked: dict = {}
    for i, r in enumerate(in_type.representations):
        ok = checked.get(r)
        if ok is None:
            ok = checked[r] = "pointwise" in r.supported_nonlinearities
        if not ok:
            raise ValueError(
                f"in_type: {owner} pools every channel independently, which commutes with the group "
                f"only for permutation representations ('pointwise' support); field {i} of {in_type!r} "
                f"has {r!r}, which does not support it (use an average or norm pooling instead)"
            )


def _check_padding(padding, kernel) -> None:
    """torch's pooling needs padding <= kernel_size // 2 on every axis."""
    for p, k in zip(padding, kernel):
        if p > k // 2:
            raise ValueError(f"padding: must be at most half the kernel size {tuple(kernel)}, got {tuple(padding)}")


def _pool_out_size(n: int, k: int, s: int, p: int, dl: int, ceil_mode: bool) -> int:
    """torch's output size of a pooling window along one axis."""
    num = n + 2 * p - dl * (k - 1) - 1
    if num < 0:
        return 0
    if ceil_mode:
        out = -(-num // s) + 1
        if (out - 1) * s >= n + p:  # the last window would start in the right padding
            out -= 1
        return out
    return num // s + 1


def _gaussian_filter(sigma: float, size: int, d: int, channels: int) -> torch.Tensor:
    """Normalised isotropic Gaussian (channels, 1, size, ..., size) for a depth-wise convolution."""
    c = (size - 1) / 2.0
    ax = (np.arange(size) - c) ** 2
    r2 = sum(np.meshgrid(*([ax] * d), indexing="ij"))
    g = np.exp(-r2 / (2.0 * sigma ** 2))
    g /= g.sum()
    t = torch.as_tensor(g, dtype=torch.get_default_dtype())
    return t.reshape(1, 1, *(size,) * d).repeat(channels, 1, *(1,) * d).contiguous()


def _blur_module(filt: torch.Tensor, d: int, stride, padding) -> torch.nn.Module:
    """A plain (frozen) depth-wise ``Conv{2,3}d`` applying ``filt``."""
    c, size = filt.shape[0], filt.shape[-1]
    cls = torch.nn.Conv2d if d == 2 else torch.nn.Conv3d
    conv = cls(c, c, size, stride=stride, padding=padding, groups=c, bias=False,
               dtype=filt.dtype, device=filt.device)
    with torch.no_grad():
        conv.weight.copy_(filt)
    conv.weight.requires_grad_(False)
    return conv


# ----------------------------------------------------------------------------- base class
class _PointwisePoolND(EquivariantModule):
    """Shared plumbing: in/out type (the same), input checks, output shape, forward."""

    _d = 2
    _pointwise_only = False

    @property
    def d(self) -> int:
        """The dimensionality of the base space (escnn's attribute)."""
        return self._d

    def _setup(self, in_type: FieldType) -> None:
        owner = type(self).__name__
        _check_in_type(in_type, self._d, owner)
        if self._pointwise_only:
            _check_pointwise(in_type, owner)
        self.in_type = in_type
        self.out_type = in_type

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        if x.coords is not None:
            raise ValueError(f"input: {type(self).__name__} pools a grid; got a point-cloud tensor (with coords)")
        return GeometricTensor(self._pool(x.tensor), self.out_type)

    def _pool(self, t: torch.Tensor) -> torch.Tensor:  # pragma: no cover - every subclass defines it
        raise TypeError(f"{type(self).__name__} does not define its pooling operation")

    def _spatial_out(self, spatial: tuple[int, ...]) -> tuple[int, ...]:  # pragma: no cover - idem
        raise TypeError(f"{type(self).__name__} does not define its output size")

    def evaluate_output_shape(self, input_shape: Sequence[int]) -> tuple:
        d = self._d
        shape = tuple(int(v) for v in input_shape)
        if len(shape) != 2 + d or shape[1] != self.in_type.size:
            raise ValueError(
                f"input_shape: expected (B, {self.in_type.size}, *{d} spatial sizes), got {tuple(input_shape)}"
            )
        out = self._spatial_out(shape[2:])
        if any(o < 1 for o in out):
            raise ValueError(f"input_shape: spatial size {shape[2:]} is too small for {self.extra_repr()}")
        return (shape[0], self.out_type.size, *out)


class _WindowPoolND(_PointwisePoolND):
    """Max / average pooling with kernel_size, stride, padding, dilation, ceil_mode."""

    def _set_window(self, kernel_size, stride, padding, dilation, ceil_mode) -> None:
        d = self._d
        self.kernel_size = _int_tuple(kernel_size, d, "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else _int_tuple(stride, d, "stride", 1)
        self.padding = _int_tuple(padding, d, "padding", 0)
        self.dilation = _int_tuple(dilation, d, "dilation", 1)
        self.ceil_mode = _check_bool(ceil_mode, "ceil_mode")
        _check_padding(self.padding, self.kernel_size)

    def _spatial_out(self, spatial):
        return tuple(
            _pool_out_size(n, k, s, p, dl, self.ceil_mode)
            for n, k, s, p, dl in zip(spatial, self.kernel_size, self.stride, self.padding, self.dilation)
        )

    def extra_repr(self) -> str:
        return (f"{self.in_type!r}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode}")


# ----------------------------------------------------------------------------- max pooling
class _PointwiseMaxPoolND(_WindowPoolND):
    _pointwise_only = True

    def __init__(self, in_type: FieldType, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                 padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False):
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


# ----------------------------------------------------------------------------- average pooling
class _PointwiseAvgPoolND(_WindowPoolND):
    def __init__(self, in_type: FieldType, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                 padding: IntOrTuple = 0, ceil_mode: bool = False):
        super().__init__()
        self._setup(in_type)
        self._set_window(kernel_size, stride, padding, 1, ceil_mode)

    def _pool(self, t):
        fn = F.avg_pool2d if self._d == 2 else F.avg_pool3d
        return fn(t, self.kernel_size, self.stride, self.padding, self.ceil_mode)

    def export(self) -> torch.nn.Module:
        """The equivalent ``torch.nn.AvgPool2d`` / ``AvgPool3d``."""
        cls = torch.nn.AvgPool2d if self._d == 2 else torch.nn.AvgPool3d
        return cls(self.kernel_size, self.stride, self.padding, ceil_mode=self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"{self.in_type!r}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, ceil_mode={self.ceil_mode}")


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


# ----------------------------------------------------------------------------- adaptive pooling
class _PointwiseAdaptivePoolND(_PointwisePoolND):
    _max = False

    def __init__(self, in_type: FieldType, output_size: int | Sequence[int | None]):
        super().__init__()
        self._setup(in_type)
        d = self._d
        if _is_int(output_size):
            size = (int(output_size),) * d
        elif (isinstance(output_size, (tuple, list)) and len(output_size) == d
              and all(v is None or _is_int(v) for v in output_size)):
            size = tuple(None if v is None else int(v) for v in output_size)
        else:
            raise TypeError(f"output_size: expected an int or a tuple of {d} ints (or None), got {output_size!r}")
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


# ----------------------------------------------------------------------------- anti-aliased pooling
class _PointwiseMaxPoolAntialiasedND(_WindowPoolND):
    _pointwise_only = True

    def __init__(self, in_type: FieldType, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                 padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
                 sigma: float = 0.6):
        super().__init__()
        self._setup(in_type)
        self._set_window(kernel_size, stride, padding, dilation, ceil_mode)
        if self.ceil_mode:
            warnings.warn(
                f"{type(self).__name__}: ceil_mode has no effect (the max is taken with stride 1 and the "
                "blur's output size is floored)", stacklevel=2,
            )
        self.sigma = _check_sigma(sigma)
        self.filter_size = 2 * int(round(4 * self.sigma)) + 1
        half = (self.filter_size - 1) // 2
        self.blur_padding = tuple(p + half for p in self.padding)
        self.register_buffer("filter", _gaussian_filter(self.sigma, self.filter_size, self._d, in_type.size),
                             persistent=False)

    def _pool(self, t):
        d = self._d
        mp = F.max_pool2d if d == 2 else F.max_pool3d
        conv = F.conv2d if d == 2 else F.conv3d
        y = mp(t, self.kernel_size, 1, self.padding, self.dilation)
        return conv(y, self.filter.to(dtype=y.dtype), None, self.stride, self.blur_padding, 1, t.shape[1])

    def _spatial_out(self, spatial):
        out = []
        for n, k, s, p, dl, q in zip(spatial, self.kernel_size, self.stride, self.padding, self.dilation,
                                     self.blur_padding):
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


class _PointwiseAvgPoolAntialiasedND(_PointwisePoolND):
    def __init__(self, in_type: FieldType, sigma: float, stride: IntOrTuple | None,
                 padding: IntOrTuple | None = None):
        super().__init__()
        self._setup(in_type)
        d = self._d
        self.sigma = _check_sigma(sigma)
        self.filter_size = 2 * int(round(3 * self.sigma)) + 1
        self.kernel_size = (self.filter_size,) * d
        self.stride = self.kernel_size if stride is None else _int_tuple(stride, d, "stride", 1)
        if padding is None:
            padding = (self.filter_size - 1) // 2
        self.padding = _int_tuple(padding, d, "padding", 0)
        self.register_buffer("filter", _gaussian_filter(self.sigma, self.filter_size, d, in_type.size),
                             persistent=False)

    def _pool(self, t):
        conv = F.conv2d if self._d == 2 else F.conv3d
        return conv(t, self.filter.to(dtype=t.dtype), None, self.stride, self.padding, 1, t.shape[1])

    def _spatial_out(self, spatial):
        return tuple(_pool_out_size(n, self.filter_size, s, p, 1, False)
                     for n, s, p in zip(spatial, self.stride, self.padding))

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


# escnn's aliases
PointwiseMaxPool = PointwiseMaxPool2D
PointwiseAvgPool = PointwiseAvgPool2D
PointwiseAdaptiveAvgPool = PointwiseAdaptiveAvgPool2D
PointwiseAdaptiveMaxPool = PointwiseAdaptiveMaxPool2D
PointwiseMaxPoolAntialiased = PointwiseMaxPoolAntialiased2D
PointwiseAvgPoolAntialiased = PointwiseAvgPoolAntialiased2D
