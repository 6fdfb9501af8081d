"""``_NormBase``: the shared plumbing of the normalisation layers (in_type = out_type, input
and shape checks, constants with float64 masters)."""

from __future__ import annotations

import torch

from .._constants import ExactConstants
from .._module import EquivariantModule


class _NormBase(ExactConstants, EquivariantModule):
    """Shared plumbing: in_type = out_type, shape checks, exact constants (``register_constant``)."""

    def _check_forward(self, x) -> torch.Tensor:
        self._check_input(x)
        t = x.tensor
        if t.dim() < 2:
            raise ValueError(
                f"input: {type(self).__name__} needs a batch axis, i.e. a tensor of shape (B, "
                f"{self.in_type.size}, ...), got shape {tuple(t.shape)}"
            )
        return t

    def evaluate_output_shape(self, input_shape) -> tuple:
        shape = tuple(int(s) for s in input_shape)
        if len(shape) < 2 or shape[1] != self.in_type.size:
            raise ValueError(f"input_shape: expected (B, {self.in_type.size}, ...), got {shape}")
        return shape

    def extra_repr(self) -> str:
        keys = [k for k in ("eps", "momentum", "affine", "track_running_stats") if hasattr(self, k)]
        return f"{self.in_type!r}, " + ", ".join(f"{k}={getattr(self, k)}" for k in keys)
