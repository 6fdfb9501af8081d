"""MaskModule: a radial mask on the grid (escnn's ``MaskModule``)."""

from __future__ import annotations

import numpy as np
import torch

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule
from .._validation import check_field_type
from ._shared import _Multiply, _same_shape

__all__ = ["MaskModule"]


def _radial_mask(S: int, d: int, margin: float, sigma: float) -> np.ndarray:
    """escnn's mask on a grid of side S: 1 within radius (S-1)/2·(1 - margin/100) of the centre,
    ``exp((t - r²)/σ²)`` outside (t the squared radius)."""
    c = (S - 1) / 2.0
    t = (c - margin / 100.0 * c) ** 2
    axis = (np.arange(S) - c) ** 2
    r = np.zeros((S,) * d)
    for a in range(d):
        r = r + axis.reshape((1,) * a + (S,) + (1,) * (d - a - 1))
    return np.where(r > t, np.exp((t - r) / sigma**2), 1.0)


class MaskModule(EquivariantModule):
    """Multiplies the input by a fixed radial mask on a grid of side ``S`` (escnn's
    ``MaskModule``): 1 inside the ball of radius ``(S-1)/2 · (1 - margin/100)`` around the grid
    centre, decaying as ``exp((t - r²)/sigma²)`` outside (``t`` the squared radius, ``r²`` the
    squared distance of the pixel from the centre). It removes the corners that a rotation would
    move off the grid. The mask is invariant under every symmetry of the grid, so the module is
    equivariant. Works on R^2 and R^3; inputs must have spatial shape ``(S,) * d``.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import MaskModule
    >>> gs = gspaces.rot2dOnR2(8)
    >>> t = nn.FieldType(gs, [gs.trivial_repr])
    >>> out = MaskModule(t, 9, margin=10)(t(torch.ones(1, 1, 9, 9))).tensor
    >>> out[0, 0, 4, 4].item(), out[0, 0, 0, 0].item() < 0.01
    (1.0, True)
    """

    mask: torch.Tensor

    def __init__(self, in_type: FieldType, S: int, margin: float = 0.0, sigma: float = 2.0):
        super().__init__()
        check_field_type(in_type)
        d = in_type.gspace.dimensionality
        if d not in (2, 3):
            raise ValueError(f"in_type: MaskModule needs a field type on R^2 or R^3, got one on R^{d}")
        if isinstance(S, bool) or not isinstance(S, (int, np.integer)) or S < 1:
            raise ValueError(f"S: expected a positive integer grid size, got {S!r}")
        if (
            isinstance(margin, bool)
            or not isinstance(margin, (int, float, np.floating, np.integer))
            or not 0 <= margin <= 100
        ):
            raise ValueError(f"margin: expected a percentage in [0, 100], got {margin!r}")
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.floating, np.integer)) or not sigma > 0:
            raise ValueError(f"sigma: expected a positive number, got {sigma!r}")
        self.in_type = self.out_type = in_type
        self.S, self.margin, self.sigma = int(S), float(margin), float(sigma)
        self.dim = d
        mask = _radial_mask(self.S, d, self.margin, self.sigma)
        self.register_buffer(
            "mask", torch.as_tensor(mask, dtype=torch.get_default_dtype()).reshape(1, 1, *mask.shape), persistent=False
        )

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        d = self.in_type.gspace.dimensionality
        if x.coords is not None or tuple(x.shape[2:]) != (self.S,) * d:
            raise ValueError(
                f"input: MaskModule expects a grid of spatial shape {(self.S,) * d}, got shape {tuple(x.shape)}"
            )
        return GeometricTensor(x.tensor * self.mask.to(x.tensor.dtype), self.out_type)

    def evaluate_output_shape(self, input_shape) -> tuple:
        shape = _same_shape(self, input_shape)
        d = self.in_type.gspace.dimensionality
        if shape[2:] != (self.S,) * d:
            raise ValueError(f"input_shape: expected spatial shape {(self.S,) * d}, got {shape}")
        return shape

    def _grid_output_size(self, n: int) -> int | None:
        return n if n == self.S else None

    def export(self) -> torch.nn.Module:
        """A plain module multiplying by the mask."""
        return _Multiply(self.mask.detach())
