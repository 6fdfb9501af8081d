"""SequentialModule: a sequence of equivariant modules (escnn's ``SequentialModule``)."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

import numpy as np
import torch

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule

__all__ = ["SequentialModule"]


class SequentialModule(EquivariantModule):
    """A sequence of equivariant modules, applied in order (escnn's ``SequentialModule``).

    Takes modules as positional arguments or one ``OrderedDict`` of named modules; checks that
    each module's ``in_type`` is the previous module's ``out_type``. ``export()`` returns a plain
    ``torch.nn.Sequential`` of the children's exports (same names), computing the same function.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import SequentialModule, IdentityModule
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr] * 2)
    >>> net = SequentialModule(nn.R2Conv(t, t, 3, padding=1), IdentityModule(t))
    >>> x = t(torch.randn(1, 8, 7, 7))
    >>> bool(torch.allclose(net.export()(x.tensor), net(x).tensor, atol=1e-6))
    True
    """

    def __init__(self, *args: EquivariantModule | OrderedDict[str, EquivariantModule]):
        super().__init__()
        self.in_type = None
        self.out_type = None
        if len(args) == 1 and isinstance(args[0], Mapping):
            items = list(args[0].items())
        else:
            items = [(str(i), m) for i, m in enumerate(args)]
        for name, m in items:
            self.add_module(name, m)

    def append(self, module: EquivariantModule) -> SequentialModule:
        """Add ``module`` at the end (named by its position); returns ``self``."""
        self.add_module(str(len(self)), module)
        return self

    def add_module(self, name: str, module: EquivariantModule) -> None:
        """Append ``module``; its ``in_type`` must be the current ``out_type``."""
        if not isinstance(module, EquivariantModule):
            raise TypeError(f"module: SequentialModule takes EquivariantModules, got {type(module).__name__} ({name!r})")
        if len(self._modules) > 0:
            if module.in_type != self.out_type:
                raise ValueError(
                    f"module: the input type of {name!r} ({type(module).__name__}) is {module.in_type!r}, but the "
                    f"previous module outputs {self.out_type!r}"
                )
        else:
            self.in_type = module.in_type
        super().add_module(name, module)
        self.out_type = module.out_type

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        """``self[i]``: the i-th module; ``self[a:b]``: a SequentialModule of those modules."""
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        if isinstance(idx, bool) or not isinstance(idx, (int, np.integer)):
            raise TypeError(f"idx: expected an int or a slice, got {type(idx).__name__}")
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"idx: {idx} out of range for {n} modules")
        return list(self._modules.values())[idx]

    def _grid_output_size(self, n: int) -> int | None:
        for m in self._modules.values():
            n = m._grid_output_size(n)
            if n is None:
                return None
        return n

    def forward(self, x: GeometricTensor):
        self._check_input(x)
        for m in self._modules.values():
            x = m(x)
        return x

    def _check_input(self, x) -> None:
        if self.in_type is None:
            raise ValueError("input: this SequentialModule is empty; append modules first")
        if isinstance(self.in_type, FieldType):
            super()._check_input(x)

    def evaluate_output_shape(self, input_shape):
        shape = input_shape
        for m in self._modules.values():
            shape = m.evaluate_output_shape(shape)
        return shape

    def export(self) -> torch.nn.Sequential:
        """``torch.nn.Sequential`` of the children's ``export()`` (raises TypeError if one has none)."""
        return torch.nn.Sequential(OrderedDict((n, m.export()) for n, m in self._modules.items()))
