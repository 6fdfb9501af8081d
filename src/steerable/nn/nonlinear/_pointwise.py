"""Pointwise nonlinearities: one scalar function applied to every channel.

A pointwise function commutes with ρ(g) exactly when every ρ(g) is a permutation matrix, so these
modules accept only fields whose representation supports ``'pointwise'`` (regular, quotient and
trivial representations of finite groups; trivial representations of any group).

This file also holds the small helpers the other nonlinearity files share (channel-axis
handling, output shapes); argument checks are in ``steerable._validation`` and
``steerable.nn._validation``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from steerable._validation import check_bool, check_real

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule
from .._validation import check_field_type, require_nonlinearity

__all__ = ["PointwiseNonLinearity", "ReLU", "ELU", "LeakyReLU"]


# ------------------------------------------------------------------------------ shared helpers
def _as_batched(t: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """Channels on axis 1: a single vector (C,) of a field on R^0 becomes (1, C)."""
    if t.dim() == 1:
        return t.unsqueeze(0), True
    return t, False


def _unbatch(t: torch.Tensor, squeezed: bool) -> torch.Tensor:
    return t.squeeze(0) if squeezed else t


def _same_layout_shape(
    module: EquivariantModule, input_shape: Sequence[int], in_size: int | None = None, out_size: int | None = None
) -> tuple:
    """(B, C_out, *rest) for an input (B, C_in, *rest); (C_out,) for a single vector (C_in,)."""
    in_size = module.in_type.size if in_size is None else in_size
    out_size = module.out_type.size if out_size is None else out_size
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 1 and shape[0] == in_size:
        return (out_size,)
    if len(shape) < 2 or shape[1] != in_size:
        raise ValueError(
            f"input_shape: {type(module).__name__} expects (B, {in_size}, ...) (channels on axis 1), got {shape}"
        )
    return (shape[0], out_size) + shape[2:]


def _leaky_relu(t: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(t, 0.01)


_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "p_relu": torch.relu,
    "p_elu": F.elu,
    "p_sigmoid": torch.sigmoid,
    "p_tanh": torch.tanh,
    "p_leaky_relu": _leaky_relu,
}


class _Elementwise(torch.nn.Module):
    """Plain module applying a callable elementwise (the export of a custom function)."""

    def __init__(self, function: Callable[[torch.Tensor], torch.Tensor]):
        super().__init__()
        self.function = function

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.function(x)


# ------------------------------------------------------------------------------ modules
class PointwiseNonLinearity(EquivariantModule):
    """The same scalar function on every channel; the field type is preserved.

    ``function`` is one of ``'p_relu'``, ``'p_elu'``, ``'p_sigmoid'``, ``'p_tanh'``,
    ``'p_leaky_relu'`` (slope 0.01), or any callable acting elementwise on a tensor (it must not
    mix channels, or equivariance is lost). Every field must support ``'pointwise'``.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import PointwiseNonLinearity
    >>> gs = gspaces.rot2dOnR2(8)
    >>> t = nn.FieldType(gs, [gs.regular_repr] * 2)
    >>> act = PointwiseNonLinearity(t, 'p_tanh')
    >>> act(t(torch.randn(1, 16, 5, 5))).shape
    torch.Size([1, 16, 5, 5])
    >>> _ = act.check_equivariance()
    """

    _display = "PointwiseNonLinearity"

    def __init__(self, in_type: FieldType, function: str | Callable[[torch.Tensor], torch.Tensor] = "p_relu"):
        super().__init__()
        check_field_type(in_type)
        if isinstance(function, str):
            if function not in _FUNCTIONS:
                raise ValueError(f"function: expected one of {sorted(_FUNCTIONS)} or a callable, got {function!r}")
        elif not callable(function):
            raise TypeError(f"function: expected a name or a callable, got {type(function).__name__}")
        self._validate(in_type)
        self.in_type = in_type
        self.out_type = in_type
        self.function = function

    def _validate(self, in_type: FieldType) -> None:
        require_nonlinearity(
            in_type, "pointwise", type(self).__name__, hint=" (permutation representations: regular, quotient, trivial)"
        )

    def _act(self, t: torch.Tensor) -> torch.Tensor:
        f = _FUNCTIONS[self.function] if isinstance(self.function, str) else self.function
        return f(t)

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        return GeometricTensor(self._act(x.tensor), self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape: Sequence[int]) -> tuple:
        return _same_layout_shape(self, input_shape)

    def export(self) -> torch.nn.Module:
        """The plain ``torch.nn`` activation (``_Elementwise`` wrapping a custom callable)."""
        if not isinstance(self.function, str):
            return _Elementwise(self.function)
        return {
            "p_relu": lambda: torch.nn.ReLU(),
            "p_elu": lambda: torch.nn.ELU(),
            "p_sigmoid": lambda: torch.nn.Sigmoid(),
            "p_tanh": lambda: torch.nn.Tanh(),
            "p_leaky_relu": lambda: torch.nn.LeakyReLU(0.01),
        }[self.function]()

    def extra_repr(self) -> str:
        f = self.function if isinstance(self.function, str) else getattr(self.function, "__name__", repr(self.function))
        return f"{self.in_type!r}, function={f}"


class ReLU(PointwiseNonLinearity):
    """ReLU on every channel (fields must support ``'pointwise'``).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import ReLU
    >>> gs = gspaces.flipRot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    >>> relu = ReLU(t)
    >>> bool((relu(t(torch.randn(2, 9, 5, 5))).tensor >= 0).all())
    True
    >>> relu.export()
    ReLU()
    """

    def __init__(self, in_type: FieldType, inplace: bool = False):
        self.inplace = check_bool(inplace, "inplace")
        super().__init__(in_type, "p_relu")

    def _act(self, t: torch.Tensor) -> torch.Tensor:
        return F.relu(t, inplace=self.inplace)

    def export(self) -> torch.nn.Module:
        """``torch.nn.ReLU(inplace)``."""
        return torch.nn.ReLU(inplace=self.inplace)

    def extra_repr(self) -> str:
        return f"{self.in_type!r}, inplace={self.inplace}"


class ELU(PointwiseNonLinearity):
    """ELU (``alpha``) on every channel (fields must support ``'pointwise'``).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import ELU
    >>> gs = gspaces.octaOnR3()
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> ELU(t, alpha=0.5)(t(torch.randn(1, 24, 3, 3, 3))).shape
    torch.Size([1, 24, 3, 3, 3])
    """

    def __init__(self, in_type: FieldType, alpha: float = 1.0, inplace: bool = False):
        self.alpha = check_real(alpha, "alpha")
        self.inplace = check_bool(inplace, "inplace")
        super().__init__(in_type, "p_elu")

    def _act(self, t: torch.Tensor) -> torch.Tensor:
        return F.elu(t, alpha=self.alpha, inplace=self.inplace)

    def export(self) -> torch.nn.Module:
        """``torch.nn.ELU(alpha, inplace)``."""
        return torch.nn.ELU(alpha=self.alpha, inplace=self.inplace)

    def extra_repr(self) -> str:
        return f"{self.in_type!r}, alpha={self.alpha}, inplace={self.inplace}"


class LeakyReLU(PointwiseNonLinearity):
    """Leaky ReLU (``negative_slope``) on every channel (fields must support ``'pointwise'``).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import LeakyReLU
    >>> gs = gspaces.no_base_space(gspaces.rot2dOnR2(6).fibergroup)
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> round(LeakyReLU(t, negative_slope=0.2)(t(-torch.ones(1, 6))).tensor[0, 0].item(), 6)
    -0.2
    """

    def __init__(self, in_type: FieldType, negative_slope: float = 0.01, inplace: bool = False):
        self.negative_slope = check_real(negative_slope, "negative_slope")
        self.inplace = check_bool(inplace, "inplace")
        super().__init__(in_type, "p_leaky_relu")

    def _act(self, t: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(t, negative_slope=self.negative_slope, inplace=self.inplace)

    def export(self) -> torch.nn.Module:
        """``torch.nn.LeakyReLU(negative_slope, inplace)``."""
        return torch.nn.LeakyReLU(negative_slope=self.negative_slope, inplace=self.inplace)

    def extra_repr(self) -> str:
        return f"{self.in_type!r}, negative_slope={self.negative_slope}, inplace={self.inplace}"
