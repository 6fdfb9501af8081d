"""BranchingModule: splits a tensor into labelled tensors (escnn's ``BranchingModule``)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import torch

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule
from .._validation import check_field_type
from ._shared import _Branch

__all__ = ["BranchingModule"]


class BranchingModule(EquivariantModule):
    """Splits a tensor into one GeometricTensor per label (escnn's ``BranchingModule``).

    ``labels[i]`` is the label of field i. ``forward`` returns a dict ``label -> GeometricTensor``
    (labels in order of first appearance) and ``out_type`` is the dict ``label -> FieldType``.
    With ``reshuffle`` = 1, 2 or 3 the fields are first sorted (stably) by label, then by size,
    then by representation name; fields of a label keep their relative order otherwise.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import BranchingModule
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr, gs.regular_repr])
    >>> out = BranchingModule(t, ["a", "b", "a"])(t(torch.randn(2, 9, 5, 5)))
    >>> {k: v.shape[1] for k, v in out.items()}
    {'a': 8, 'b': 1}
    """

    # escnn's API: a dict label -> field type where most modules have one type
    out_type: OrderedDict[str, FieldType]  # type: ignore[assignment]

    def __init__(self, in_type: FieldType, labels: Sequence[str], reshuffle: int = 0):
        super().__init__()
        check_field_type(in_type)
        if isinstance(labels, str) or not isinstance(labels, Sequence):
            raise TypeError(f"labels: expected a list of labels (one per field), got {type(labels).__name__}")
        labels = list(labels)
        if len(labels) != len(in_type):
            raise ValueError(f"labels: expected {len(in_type)} labels (one per field), got {len(labels)}")
        for lab in labels:
            if not isinstance(lab, str):
                raise TypeError(f"labels: expected strings, got {type(lab).__name__} ({lab!r})")
        if not isinstance(reshuffle, (int, np.integer)) or not 0 <= reshuffle <= 3:  # bools too, as escnn
            raise ValueError(f"reshuffle: expected 0, 1, 2 or 3 (or a bool), got {reshuffle!r}")
        self.in_type = in_type
        self.reshuffle = int(reshuffle)
        order = list(range(len(in_type)))
        if self.reshuffle > 0:
            keys = [(labels[i], in_type.representations[i].size, in_type.representations[i].name) for i in order]
            order = sorted(order, key=lambda i: keys[i][: self.reshuffle])
        sorted_labels = [labels[i] for i in order]
        self.labels = labels
        self.out_type = in_type.index_select(order).group_by_labels(sorted_labels)
        self._labels = list(self.out_type.keys())
        self._slices: list = []
        for j, lab in enumerate(self._labels):
            fields = [i for i in order if labels[i] == lab]
            idx = in_type.channel_indices(fields)
            n = idx.numel()
            if n and torch.equal(idx, torch.arange(int(idx[0]), int(idx[0]) + n)):
                self._slices.append((int(idx[0]), int(idx[0]) + n))
            else:
                self._slices.append(None)
            self.register_buffer(f"_index_{j}", idx, persistent=False)

    def forward(self, x: GeometricTensor) -> OrderedDict[str, GeometricTensor]:
        self._check_input(x)
        t, ax = x.tensor, x._ch_axis % x.tensor.dim()
        out: OrderedDict[str, GeometricTensor] = OrderedDict()
        for j, lab in enumerate(self._labels):
            sl = self._slices[j]
            sub = (
                t.narrow(ax, sl[0], sl[1] - sl[0])
                if sl is not None
                else t.index_select(ax, getattr(self, f"_index_{j}"))
            )
            out[lab] = GeometricTensor(sub, self.out_type[lab], x.coords)
        return out

    # escnn's API: the output shapes by label, as the output is a dict
    def evaluate_output_shape(self, input_shape) -> dict:  # type: ignore[override]
        shape = tuple(int(s) for s in input_shape)
        ax = 1 if len(shape) > 1 else 0
        if not shape or shape[ax] != self.in_type.size:
            raise ValueError(f"input_shape: expected {self.in_type.size} channels on axis {ax}, got {shape}")
        return {lab: shape[:ax] + (ft.size,) + shape[ax + 1 :] for lab, ft in self.out_type.items()}

    def export(self) -> torch.nn.Module:
        """A plain module returning the dict ``label -> tensor``."""
        return _Branch(self._labels, [getattr(self, f"_index_{j}") for j in range(len(self._labels))])
