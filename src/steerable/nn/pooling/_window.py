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

from collections.abc import Sequence

import numpy as np
import torch

from steerable._validation import check_bool, check_int_tuple

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule
from .._validation import check_base_dimension, check_field_type, require_nonlinearity

IntOrTuple = int | Sequence[int]

# why max pooling needs 'pointwise' fields (appended to the error of require_nonlinearity)
_POINTWISE_HINT = (
    " (it pools every channel independently, which commutes with the group only for permutation "
    "representations; use an average or norm pooling instead)"
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
    g = np.exp(-r2 / (2.0 * sigma**2))
    g /= g.sum()
    t = torch.as_tensor(g, dtype=torch.get_default_dtype())
    return t.reshape(1, 1, *(size,) * d).repeat(channels, 1, *(1,) * d).contiguous()


def _blur_module(filt: torch.Tensor, d: int, stride, padding) -> torch.nn.Module:
    """A plain (frozen) depth-wise ``Conv{2,3}d`` applying ``filt``."""
    c, size = filt.shape[0], filt.shape[-1]
    cls = torch.nn.Conv2d if d == 2 else torch.nn.Conv3d
    conv = cls(c, c, size, stride=stride, padding=padding, groups=c, bias=False, dtype=filt.dtype, device=filt.device)
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
        check_field_type(in_type, owner=owner)
        check_base_dimension(in_type, (self._d,), owner)
        if self._pointwise_only:
            require_nonlinearity(in_type, "pointwise", owner, hint=_POINTWISE_HINT)
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
        self.kernel_size = check_int_tuple(kernel_size, "kernel_size", d, 1)
        self.stride = self.kernel_size if stride is None else check_int_tuple(stride, "stride", d, 1)
        self.padding = check_int_tuple(padding, "padding", d, 0)
        self.dilation = check_int_tuple(dilation, "dilation", d, 1)
        self.ceil_mode = check_bool(ceil_mode, "ceil_mode")
        _check_padding(self.padding, self.kernel_size)

    def _spatial_out(self, spatial):
        return tuple(
            _pool_out_size(n, k, s, p, dl, self.ceil_mode)
            for n, k, s, p, dl in zip(spatial, self.kernel_size, self.stride, self.padding, self.dilation)
        )

    def extra_repr(self) -> str:
        return (
            f"{self.in_type!r}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )
