"""MergeModule: applies modules to labelled tensors and concatenates (escnn's ``MergeModule``)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule
from .._validation import check_field_type
from ._shared import _equivariant_children, _Merge

__all__ = ["MergeModule"]


def _normalise_modules(modules: Any) -> list[tuple[EquivariantModule, list[str]]]:
    if isinstance(modules, (str, bytes)) or not isinstance(modules, Sequence) or len(modules) == 0:
        raise TypeError("modules: expected a non-empty list of (module, label or list of labels) pairs")
    out = []
    for item in modules:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise TypeError(f"modules: expected (module, label(s)) pairs, got {item!r}")
        m, labs = item
        if not isinstance(m, EquivariantModule):
            raise TypeError(f"modules: expected EquivariantModules, got {type(m).__name__}")
        labs = [labs] if isinstance(labs, str) else list(labs) if isinstance(labs, (list, tuple)) else None
        if not labs or not all(isinstance(lab, str) for lab in labs):
            raise TypeError(
                f"modules: the label of {type(m).__name__} must be a string or a non-empty list of strings, got {item[1]!r}"
            )
        out.append((m, labs))
    return out


def _module_input_types(m: EquivariantModule, labs: list[str]) -> list:
    """The types ``m`` expects for each of its labels (``in_type`` or a tuple of them)."""
    if len(labs) == 1:
        return [m.in_type]
    t = m.in_type
    if not isinstance(t, (tuple, list)) or len(t) != len(labs):
        raise ValueError(
            f"modules: {type(m).__name__} is given {len(labs)} labels {labs} but its in_type is not a tuple of "
            f"{len(labs)} field types"
        )
    return list(t)


class MergeModule(EquivariantModule):
    """Applies modules to labelled tensors and concatenates their outputs (escnn's
    ``MergeModule``).

    ``modules`` is a list of pairs ``(module, label)`` or ``(module, [label, ...])``; ``forward``
    takes a dict ``label -> GeometricTensor`` and calls each module on the tensors of its labels
    (in that order), then concatenates the outputs (in the order of ``modules``). ``in_type`` is
    the dict ``label -> FieldType`` the modules expect.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import BranchingModule, MergeModule, IdentityModule
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    >>> br = BranchingModule(t, ["a", "b"])
    >>> merge = MergeModule([(IdentityModule(br.out_type["b"]), "b"), (IdentityModule(br.out_type["a"]), "a")])
    >>> merge(br(t(torch.randn(1, 5, 3, 3)))).type.size
    5
    """

    # escnn's API: a dict label -> field type where most modules have one type
    in_type: OrderedDict[str, FieldType]  # type: ignore[assignment]

    def __init__(self, modules: Sequence[tuple[EquivariantModule, str | Sequence[str]]]):
        super().__init__()
        pairs = _normalise_modules(modules)
        in_type: OrderedDict[str, FieldType] = OrderedDict()
        gspace = None
        out_reps: list = []
        for m, labs in pairs:
            for lab, t in zip(labs, _module_input_types(m, labs)):
                check_field_type(t, "modules")
                if gspace is None:
                    gspace = t.gspace
                if t.gspace != gspace:
                    raise ValueError(f"modules: all modules must act on the same gspace, got {gspace} and {t.gspace}")
                if lab in in_type and in_type[lab] != t:
                    raise ValueError(f"modules: label {lab!r} is given to modules expecting different field types")
                in_type[lab] = t
            if not isinstance(m.out_type, FieldType) or m.out_type.gspace != gspace:
                raise ValueError(f"modules: {type(m).__name__} must output a FieldType on {gspace}")
            out_reps += list(m.out_type.representations)
        self.in_type = in_type
        self.out_type = FieldType(gspace, out_reps)
        self.gspace = gspace
        self._labels = [labs for _, labs in pairs]
        for i, (m, _) in enumerate(pairs):
            self.add_module(f"submodule_{i}", m)

    def _check_input(self, x) -> None:
        if not isinstance(x, Mapping):
            raise TypeError(f"input: MergeModule expects a dict label -> GeometricTensor, got {type(x).__name__}")
        for lab, t in self.in_type.items():
            if lab not in x:
                raise ValueError(f"input: missing the tensor of label {lab!r} (expected labels {list(self.in_type)})")
            if not isinstance(x[lab], GeometricTensor):
                raise TypeError(
                    f"input: the value of label {lab!r} must be a GeometricTensor, got {type(x[lab]).__name__}"
                )
            if x[lab].type != t:
                raise ValueError(f"input: label {lab!r} expects field type {t!r}, got {x[lab].type!r}")

    def forward(self, x: Mapping[str, GeometricTensor]) -> GeometricTensor:
        self._check_input(x)
        outs = [m(*[x[lab] for lab in labs]) for m, labs in zip(_equivariant_children(self), self._labels)]
        first = outs[0]
        t = torch.cat([o.tensor for o in outs], dim=first._ch_axis)
        return GeometricTensor(t, self.out_type, first.coords)

    # escnn's API: the input shapes by label (a dict, or keywords) where most modules take one shape
    def evaluate_output_shape(self, input_shapes: Mapping | None = None, **kwargs) -> tuple:  # type: ignore[override]
        shapes = dict(input_shapes or {}, **kwargs)
        out: list[int] = []
        for i, (m, labs) in enumerate(zip(_equivariant_children(self), self._labels)):
            s = list(m.evaluate_output_shape(*[shapes[lab] for lab in labs]))
            ax = 1 if len(s) > 1 else 0
            if i == 0:
                out = s
            else:
                if out[:ax] + out[ax + 1 :] != s[:ax] + s[ax + 1 :]:
                    raise ValueError(
                        f"input_shapes: the branches' outputs {tuple(out)} and {tuple(s)} cannot be concatenated"
                    )
                out[ax] += s[ax]
        return tuple(out)

    def _grid_output_size(self, n: int) -> int | None:
        sizes = {m._grid_output_size(n) for m in _equivariant_children(self)}
        return sizes.pop() if len(sizes) == 1 else None

    def export(self) -> torch.nn.Module:
        """A plain module taking the dict ``label -> tensor`` (the sub-modules exported)."""
        return _Merge([m.export() for m in _equivariant_children(self)], self._labels)
