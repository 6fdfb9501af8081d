"""SequentialModule: a sequence of equivariant modules (escnn's ``SequentialModule``)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule
from ._shared import _equivariant_children

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

    # None while empty; the first module's in_type and the last one's out_type otherwise, which are
    # dicts or tuples of field types after a BranchingModule or before a MergeModule
    in_type: Any
    out_type: Any

    def __init__(self, *args: EquivariantModule | OrderedDict[str, EquivariantModule]):
        super().__init__()
        self.in_type = None
        self.out_type = None
        items: list[tuple[str, Any]]  # add_module checks each module
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

    def add_module(self, name: str, module: torch.nn.Module | None) -> None:
        """Append ``module``; its ``in_type`` must be the current ``out_type``."""
        if not isinstance(module, EquivariantModule):
            raise TypeError(
                f"module: SequentialModule takes EquivariantModules, got {type(module).__name__} ({name!r})"
            )
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

    def __iter__(self) -> Iterator[EquivariantModule]:
        return iter(_equivariant_children(self))

    def __getitem__(self, idx):
        """``self[i]``: the i-th module; ``self[a:b]``: a SequentialModule of those modules."""
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        if isinstance(idx, bool) or not isinstance(idx, (int, np.integer)):
            raise TypeError(f"idx: expected an int or a slice, got {type(idx).__name__}")
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"idx: {idx} out of range for {n} modules")
        return _equivariant_children(self)[idx]

    def _grid_output_size(self, n: int) -> int | None:
        for m in _equivariant_children(self):
            out = m._grid_output_size(n)
            if out is None:
                return None
            n = out
        return n

    def forward(self, x: GeometricTensor):
        self._check_input(x)
        for m in _equivariant_children(self):
            x = m(x)
        return x

    def _check_input(self, x) -> None:
        if self.in_type is None:
            raise ValueError("input: this SequentialModule is empty; append modules first")
        if isinstance(self.in_type, FieldType):
            super()._check_input(x)

    def evaluate_output_shape(self, input_shape):
        shape = input_shape
        for m in _equivariant_children(self):
            shape = m.evaluate_output_shape(shape)
        return shape

    def export(self) -> torch.nn.Sequential:
        """``torch.nn.Sequential`` of the children's ``export()`` (raises TypeError if one has none)."""
        return torch.nn.Sequential(OrderedDict((n, m.export()) for n, m in zip(self._modules, self)))
