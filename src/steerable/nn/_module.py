"""EquivariantModule: the base of every steerable layer."""
from __future__ import annotations

from abc import abstractmethod
from typing import Sequence

import torch

from ._field_type import FieldType
from ._geometric_tensor import GeometricTensor


class EquivariantModule(torch.nn.Module):
    """A ``torch.nn.Module`` mapping GeometricTensors of ``in_type`` to ``out_type``.

    Subclasses implement ``forward`` and ``evaluate_output_shape`` and, where a plain-torch
    equivalent exists, ``export``.
    """

    in_type: FieldType
    out_type: FieldType

    def _check_input(self, x) -> None:
        if not isinstance(x, GeometricTensor):
            raise TypeError(
                f"input: {type(self).__name__} expects a GeometricTensor of type {self.in_type!r}, "
                f"got {type(x).__name__}"
            )
        if x.type != self.in_type:
            raise ValueError(
                f"input: {type(self).__name__} expects field type {self.in_type!r}, got {x.type!r}"
            )

    @abstractmethod
    def evaluate_output_shape(self, input_shape: Sequence[int]) -> tuple:
        """The output shape for an input of shape ``input_shape``."""

    def export(self) -> torch.nn.Module:
        """A plain ``torch.nn`` module computing the same function on ``.tensor``."""
        raise TypeError(f"{type(self).__name__} has no plain-torch equivalent to export to")

    def check_equivariance(self, atol: float = 1e-5, rtol: float = 1e-5, x: torch.Tensor | None = None,
                           spatial: int = 9, batch: int = 2):
        """Compare ``f(g·x)`` with ``g·f(x)`` for every testing element (exact symmetries of the
        grid). Returns ``[(element, max relative error)]``; raises AssertionError beyond
        ``atol + rtol·|f|``.
        """
        was_training = self.training
        self.eval()
        try:
            d = self.in_type.gspace.dimensionality
            if x is None:
                shape = (batch, self.in_type.size) + (spatial,) * d
                x = torch.randn(*shape, dtype=self._param_dtype())
            gx = GeometricTensor(x, self.in_type)
            out = self(gx)
            errors = []
            for g in self.in_type.testing_elements:
                a = self(gx.transform(g)).tensor
                b = out.transform(g).tensor
                err = (a - b).abs().max().item()
                scale = b.abs().max().item()
                errors.append((g, err / max(scale, 1e-12)))
                if not torch.allclose(a, b, atol=atol * max(1.0, scale), rtol=rtol):
                    raise AssertionError(
                        f"{type(self).__name__} is not equivariant to {g}: max error {err:.3g} "
                        f"(output scale {scale:.3g})"
                    )
            return errors
        finally:
            self.train(was_training)

    def _param_dtype(self) -> torch.dtype:
        for p in self.parameters():
            return p.dtype
        for b in self.buffers():
            if b.is_floating_point():
                return b.dtype
        return torch.get_default_dtype()
