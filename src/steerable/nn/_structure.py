"""Structural modules: sequences, branches and merges, field permutations, restriction to a
subgroup, disentangling change of basis, identity and the radial mask."""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from steerable.group import disentangle

from ._field_type import FieldType
from ._geometric_tensor import GeometricTensor
from ._module import EquivariantModule

__all__ = [
    "SequentialModule", "MultipleModule", "BranchingModule", "MergeModule", "ReshuffleModule",
    "RestrictionModule", "DisentangleModule", "IdentityModule", "MaskModule",
]


def _check_field_type(t: Any, name: str = "in_type") -> FieldType:
    if not isinstance(t, FieldType):
        raise TypeError(f"{name}: expected a FieldType, got {type(t).__name__}")
    return t


def _channel_axis(t: torch.Tensor) -> int:
    """The channel axis of a plain tensor in the GeometricTensor convention (exported modules)."""
    return 1 if t.dim() > 1 else 0


# ------------------------------------------------------------------------------------------------
# plain-torch modules returned by export()
# ------------------------------------------------------------------------------------------------
class _ChannelSelect(torch.nn.Module):
    """Plain module: ``x.index_select(channel_axis, index)``."""

    def __init__(self, index: torch.Tensor):
        super().__init__()
        self.register_buffer("index", index.clone().long())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.index_select(_channel_axis(x), self.index.to(x.device))


class _Multiply(torch.nn.Module):
    """Plain module: ``x * mask`` (broadcast)."""

    def __init__(self, mask: torch.Tensor):
        super().__init__()
        self.register_buffer("mask", mask.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.mask.to(dtype=x.dtype, device=x.device)


class _Branch(torch.nn.Module):
    """Plain module: splits the channels into a dict ``label -> tensor``."""

    def __init__(self, labels: list, indices: list):
        super().__init__()
        self.labels = list(labels)
        for i, idx in enumerate(indices):
            self.register_buffer(f"index_{i}", idx.clone().long())

    def forward(self, x: torch.Tensor) -> dict:
        ax = _channel_axis(x)
        return {lab: x.index_select(ax, getattr(self, f"index_{i}").to(x.device)) for i, lab in enumerate(self.labels)}


class _Merge(torch.nn.Module):
    """Plain module: applies each sub-module to the tensors of its labels, concatenates."""

    def __init__(self, modules: list, labels: list):
        super().__init__()
        self.branches = torch.nn.ModuleList(modules)
        self.labels = [list(ls) for ls in labels]

    def forward(self, inputs: dict) -> torch.Tensor:
        outs = [m(*[inputs[lab] for lab in ls]) for m, ls in zip(self.branches, self.labels)]
        return torch.cat(outs, dim=_channel_axis(outs[0]))


# ------------------------------------------------------------------------------------------------
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

    def __init__(self, *args: EquivariantModule | "OrderedDict[str, EquivariantModule]"):
        super().__init__()
        self.in_type = None
        self.out_type = None
        if len(args) == 1 and isinstance(args[0], Mapping):
            items = list(args[0].items())
        else:
            items = [(str(i), m) for i, m in enumerate(args)]
        for name, m in items:
            self.add_module(name, m)

    def append(self, module: EquivariantModule) -> "SequentialModule":
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


# ------------------------------------------------------------------------------------------------
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

    def __init__(self, in_type: FieldType, labels: Sequence[str], reshuffle: int = 0):
        super().__init__()
        _check_field_type(in_type)
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
        self.out_type: "OrderedDict[str, FieldType]" = in_type.index_select(order).group_by_labels(sorted_labels)
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

    def forward(self, x: GeometricTensor) -> "OrderedDict[str, GeometricTensor]":
        self._check_input(x)
        t, ax = x.tensor, x._ch_axis % x.tensor.dim()
        out: "OrderedDict[str, GeometricTensor]" = OrderedDict()
        for j, lab in enumerate(self._labels):
            sl = self._slices[j]
            sub = t.narrow(ax, sl[0], sl[1] - sl[0]) if sl is not None else t.index_select(ax, getattr(self, f"_index_{j}"))
            out[lab] = GeometricTensor(sub, self.out_type[lab], x.coords)
        return out

    def evaluate_output_shape(self, input_shape) -> dict:
        shape = tuple(int(s) for s in input_shape)
        ax = 1 if len(shape) > 1 else 0
        if not shape or shape[ax] != self.in_type.size:
            raise ValueError(f"input_shape: expected {self.in_type.size} channels on axis {ax}, got {shape}")
        return {lab: shape[:ax] + (ft.size,) + shape[ax + 1 :] for lab, ft in self.out_type.items()}

    def export(self) -> torch.nn.Module:
        """A plain module returning the dict ``label -> tensor``."""
        return _Branch(self._labels, [getattr(self, f"_index_{j}") for j in range(len(self._labels))])


# ------------------------------------------------------------------------------------------------
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
            raise TypeError(f"modules: the label of {type(m).__name__} must be a string or a non-empty list of strings, got {item[1]!r}")
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

    def __init__(self, modules: Sequence[tuple[EquivariantModule, str | Sequence[str]]]):
        super().__init__()
        pairs = _normalise_modules(modules)
        in_type: "OrderedDict[str, FieldType]" = OrderedDict()
        gspace = None
        out_reps: list = []
        for m, labs in pairs:
            for lab, t in zip(labs, _module_input_types(m, labs)):
                _check_field_type(t, "modules")
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
                raise TypeError(f"input: the value of label {lab!r} must be a GeometricTensor, got {type(x[lab]).__name__}")
            if x[lab].type != t:
                raise ValueError(f"input: label {lab!r} expects field type {t!r}, got {x[lab].type!r}")

    def forward(self, x: Mapping[str, GeometricTensor]) -> GeometricTensor:
        self._check_input(x)
        outs = [m(*[x[lab] for lab in labs]) for m, labs in zip(self._modules.values(), self._labels)]
        first = outs[0]
        t = torch.cat([o.tensor for o in outs], dim=first._ch_axis)
        return GeometricTensor(t, self.out_type, first.coords)

    def evaluate_output_shape(self, input_shapes: Mapping | None = None, **kwargs) -> tuple:
        shapes = dict(input_shapes or {}, **kwargs)
        out = None
        for m, labs in zip(self._modules.values(), self._labels):
            s = list(m.evaluate_output_shape(*[shapes[lab] for lab in labs]))
            ax = 1 if len(s) > 1 else 0
            if out is None:
                out = s
            else:
                if out[:ax] + out[ax + 1 :] != s[:ax] + s[ax + 1 :]:
                    raise ValueError(f"input_shapes: the branches' outputs {tuple(out)} and {tuple(s)} cannot be concatenated")
                out[ax] += s[ax]
        return tuple(out)

    def _grid_output_size(self, n: int) -> int | None:
        sizes = {m._grid_output_size(n) for m in self._modules.values()}
        return sizes.pop() if len(sizes) == 1 else None

    def export(self) -> torch.nn.Module:
        """A plain module taking the dict ``label -> tensor`` (the sub-modules exported)."""
        return _Merge([m.export() for m in self._modules.values()], self._labels)


# ------------------------------------------------------------------------------------------------
class MultipleModule(EquivariantModule):
    """Splits the fields by label, applies one module per label (or list of labels) and
    concatenates the results: a ``BranchingModule`` followed by a ``MergeModule`` (escnn's
    ``MultipleModule``).

    ``labels[i]`` labels field i; ``modules`` is a list of ``(module, label)`` or
    ``(module, [labels])`` pairs whose input types must be the branches' types. Fields whose
    label no module uses are dropped. ``reshuffle`` as in ``BranchingModule``.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import MultipleModule, IdentityModule
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr, gs.regular_repr])
    >>> ta, tb = nn.FieldType(gs, [gs.regular_repr] * 2), nn.FieldType(gs, [gs.trivial_repr])
    >>> m = MultipleModule(t, ["a", "b", "a"], [(nn.R2Conv(ta, ta, 3, padding=1), "a"), (IdentityModule(tb), "b")])
    >>> m(t(torch.randn(1, 9, 7, 7))).shape
    torch.Size([1, 9, 7, 7])
    """

    def __init__(self, in_type: FieldType, labels: Sequence[str],
                 modules: Sequence[tuple[EquivariantModule, str | Sequence[str]]], reshuffle: int = 0):
        super().__init__()
        _check_field_type(in_type)
        pairs = _normalise_modules(modules)
        branching = BranchingModule(in_type, labels, reshuffle=reshuffle)
        for m, labs in pairs:
            for lab, t in zip(labs, _module_input_types(m, labs)):
                if lab not in branching.out_type:
                    raise ValueError(f"modules: label {lab!r} of {type(m).__name__} is not among the fields' labels {sorted(set(labels))}")
                if t != branching.out_type[lab]:
                    raise ValueError(
                        f"modules: {type(m).__name__} expects {t!r} for label {lab!r}, but the fields with that label "
                        f"form {branching.out_type[lab]!r}"
                    )
        self.in_type = in_type
        self.gspace = in_type.gspace
        self.branching = branching
        self.merging = MergeModule(pairs)
        self.out_type = self.merging.out_type

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        return self.merging(self.branching(x))

    def _grid_output_size(self, n: int) -> int | None:
        return self.merging._grid_output_size(n)

    def check_equivariance(self, atol: float = 2e-6, rtol: float = 1e-5, full_space_action: bool = True,
                           assertion: bool = True, verbose: bool = False, device: str = "cpu", *, x=None,
                           spatial: int | None = None, batch: int = 2) -> list:
        """As :meth:`EquivariantModule.check_equivariance` (escnn's defaults). With
        ``full_space_action=False`` only the fibres are transformed (the grid is left alone)."""
        if full_space_action:
            return self._check_equivariance(atol, rtol, assertion, verbose, device, x=x, spatial=spatial, batch=batch)
        self._fibers_only = True
        try:
            return self._check_equivariance(atol, rtol, assertion, verbose, device, x=x, spatial=spatial, batch=batch)
        finally:
            del self._fibers_only

    def evaluate_output_shape(self, input_shape) -> tuple:
        return self.merging.evaluate_output_shape(self.branching.evaluate_output_shape(input_shape))

    def export(self) -> torch.nn.Sequential:
        """``Sequential(branch, merge)`` of plain modules."""
        return torch.nn.Sequential(OrderedDict(branching=self.branching.export(), merging=self.merging.export()))


# ------------------------------------------------------------------------------------------------
class ReshuffleModule(EquivariantModule):
    """Permutes the fields: output field i is input field ``permutation[i]``.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import ReshuffleModule
    >>> gs = gspaces.flipRot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    >>> m = ReshuffleModule(t, [1, 0])
    >>> x = t(torch.randn(1, 9, 5, 5))
    >>> bool(torch.equal(m(x).tensor[:, 0], x.tensor[:, 8]))
    True
    """

    def __init__(self, in_type: FieldType, permutation: Sequence[int]):
        super().__init__()
        _check_field_type(in_type)
        try:
            perm = [int(p) for p in permutation]
        except (TypeError, ValueError):
            raise TypeError(f"permutation: expected a list of field indices, got {permutation!r}") from None
        if sorted(perm) != list(range(len(in_type))):
            raise ValueError(f"permutation: expected a permutation of 0..{len(in_type) - 1}, got {perm}")
        self.in_type = in_type
        self.permutation = perm
        self.out_type = in_type.index_select(perm)
        self.register_buffer("_index", in_type.channel_indices(perm), persistent=False)

    @property
    def indices(self) -> torch.Tensor:
        """Output channel i is input channel ``indices[i]`` (escnn's attribute)."""
        return self._index

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        t = x.tensor.index_select(x._ch_axis % x.tensor.dim(), self._index)
        return GeometricTensor(t, self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape) -> tuple:
        return _same_shape(self, input_shape)

    def export(self) -> torch.nn.Module:
        """A plain module selecting the channels in the new order."""
        return _ChannelSelect(self._index)


def _same_shape(module: EquivariantModule, input_shape) -> tuple:
    shape = tuple(int(s) for s in input_shape)
    ax = 1 if len(shape) > 1 else 0
    if not shape or shape[ax] != module.in_type.size:
        raise ValueError(f"input_shape: expected {module.in_type.size} channels on axis {ax}, got {shape}")
    return shape


# ------------------------------------------------------------------------------------------------
class RestrictionModule(EquivariantModule):
    """Views the input as a field of the subgroup ``id`` of the fibre group: same tensor,
    ``out_type = in_type.restrict(id)``. ``export()`` is ``torch.nn.Identity``.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import RestrictionModule
    >>> gs = gspaces.flipRot2dOnR2(8)
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> RestrictionModule(t, (None, 4)).out_type.gspace.fibergroup
    C4
    """

    def __init__(self, in_type: FieldType, id: Any):
        super().__init__()
        _check_field_type(in_type)
        self.in_type = in_type
        self.id = id
        self.out_type = in_type.restrict(id)

    def _check_elements(self) -> list:
        """``f(incl(h)·x) == h·f(x)`` for the subgroup's testing elements ``h``."""
        _, inclusion, _ = self.in_type.gspace.restrict(self.id)
        return [(inclusion(h), h) for h in self._check_gspace_elements(self.out_type)]

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        return GeometricTensor(x.tensor, self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape) -> tuple:
        return _same_shape(self, input_shape)

    def export(self) -> torch.nn.Module:
        return torch.nn.Identity()


# ------------------------------------------------------------------------------------------------
class DisentangleModule(EquivariantModule):
    """Change of basis to the disentangled form of each field: every field of representation
    ``ρ = P (ρ₁ ⊕ ρ₂ ⊕ …) P⁻¹`` (``steerable.group.disentangle``) becomes the fields
    ``ρ₁, ρ₂, …``, by applying ``P⁻¹`` to its channels. ``export()`` returns the fixed linear
    map as a plain module (``Linear`` without bias on R^0, a 1×1 ``Conv2d``/``Conv3d`` on
    grids).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import DisentangleModule
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.fibergroup.regular_representation + gs.irrep(1)])
    >>> [r.size for r in DisentangleModule(t).out_type]
    [4, 2]
    """

    def __init__(self, in_type: FieldType):
        super().__init__()
        _check_field_type(in_type)
        self.in_type = in_type
        per_rep: dict = {}
        out_reps: list = []
        blocks: list[np.ndarray] = []
        for r in in_type.representations:
            if r not in per_rep:
                p, parts = disentangle(r)
                per_rep[r] = (p, parts)  # p maps the field into the parts' basis
            m, parts = per_rep[r]
            out_reps += parts
            blocks.append(m)
        self.out_type = FieldType(in_type.gspace, out_reps)
        c = in_type.size
        mat = np.zeros((c, c))
        for f, m in enumerate(blocks):
            s, e = in_type.fields_start[f], in_type.fields_end[f]
            mat[s:e, s:e] = m
        r = np.round(mat)
        is_perm = np.allclose(mat, r, atol=1e-12) and np.all((r == 0) | (r == 1)) and np.all(r.sum(0) == 1) and np.all(r.sum(1) == 1)
        self._is_permutation = bool(is_perm)
        self.register_buffer("change_of_basis", torch.as_tensor(mat, dtype=torch.get_default_dtype()), persistent=False)
        self.register_buffer("_index", torch.as_tensor(np.argmax(r, axis=1) if is_perm else np.arange(c), dtype=torch.long),
                             persistent=False)

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        t = x.tensor
        ax = x._ch_axis % t.dim()
        if self._is_permutation:
            out = t.index_select(ax, self._index)
        else:
            out = torch.tensordot(t.movedim(ax, -1), self.change_of_basis.to(t.dtype), dims=([t.dim() - 1], [1])).movedim(-1, ax)
        return GeometricTensor(out, self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape) -> tuple:
        return _same_shape(self, input_shape)

    def export(self) -> torch.nn.Module:
        """The change of basis as ``Linear`` (R^0: acts on the last axis) or a 1×1 convolution."""
        d = self.in_type.gspace.dimensionality
        c = self.in_type.size
        w = self.change_of_basis.detach()
        if d == 0:
            m = torch.nn.Linear(c, c, bias=False, dtype=w.dtype, device=w.device)
            with torch.no_grad():
                m.weight.copy_(w)
            return m
        cls = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[d]
        m = cls(c, c, 1, bias=False, dtype=w.dtype, device=w.device)
        with torch.no_grad():
            m.weight.copy_(w.reshape(c, c, *(1,) * d))
        return m


# ------------------------------------------------------------------------------------------------
class IdentityModule(EquivariantModule):
    """The identity map (``export()`` is ``torch.nn.Identity``).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import IdentityModule
    >>> gs = gspaces.octaOnR3()
    >>> t = nn.FieldType(gs, [gs.trivial_repr])
    >>> IdentityModule(t)(t(torch.ones(1, 1, 3, 3, 3))).tensor.sum().item()
    27.0
    """

    def __init__(self, in_type: FieldType):
        super().__init__()
        _check_field_type(in_type)
        self.in_type = self.out_type = in_type

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        return x

    def evaluate_output_shape(self, input_shape) -> tuple:
        return _same_shape(self, input_shape)

    def export(self) -> torch.nn.Module:
        return torch.nn.Identity()


# ------------------------------------------------------------------------------------------------
def _radial_mask(S: int, d: int, margin: float, sigma: float) -> np.ndarray:
    """escnn's mask on a grid of side S: 1 within radius (S-1)/2·(1 - margin/100) of the centre,
    ``exp((t - r²)/σ²)`` outside (t the squared radius)."""
    c = (S - 1) / 2.0
    t = (c - margin / 100.0 * c) ** 2
    axis = (np.arange(S) - c) ** 2
    r = np.zeros((S,) * d)
    for a in range(d):
        r = r + axis.reshape((1,) * a + (S,) + (1,) * (d - a - 1))
    return np.where(r > t, np.exp((t - r) / sigma ** 2), 1.0)


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

    def __init__(self, in_type: FieldType, S: int, margin: float = 0.0, sigma: float = 2.0):
        super().__init__()
        _check_field_type(in_type)
        d = in_type.gspace.dimensionality
        if d not in (2, 3):
            raise ValueError(f"in_type: MaskModule needs a field type on R^2 or R^3, got one on R^{d}")
        if isinstance(S, bool) or not isinstance(S, (int, np.integer)) or S < 1:
            raise ValueError(f"S: expected a positive integer grid size, got {S!r}")
        if isinstance(margin, bool) or not isinstance(margin, (int, float, np.floating, np.integer)) or not 0 <= margin <= 100:
            raise ValueError(f"margin: expected a percentage in [0, 100], got {margin!r}")
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.floating, np.integer)) or not sigma > 0:
            raise ValueError(f"sigma: expected a positive number, got {sigma!r}")
        self.in_type = self.out_type = in_type
        self.S, self.margin, self.sigma = int(S), float(margin), float(sigma)
        self.dim = d
        mask = _radial_mask(self.S, d, self.margin, self.sigma)
        self.register_buffer("mask", torch.as_tensor(mask, dtype=torch.get_default_dtype()).reshape(1, 1, *mask.shape),
                             persistent=False)

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        d = self.in_type.gspace.dimensionality
        if x.coords is not None or tuple(x.shape[2:]) != (self.S,) * d:
            raise ValueError(f"input: MaskModule expects a grid of spatial shape {(self.S,) * d}, got shape {tuple(x.shape)}")
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
