"""GeometricTensor: a torch tensor together with its FieldType."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from steerable.group import GroupElement

from ._field_type import FieldType


class GeometricTensor:
    """A feature field: ``tensor`` of shape (B, C, *spatial) (grids), (B, C) (no base space) or
    (N, C) with ``coords`` (N, d) (point clouds), whose channels transform by ``type``.

    Works with ``torch.cat`` along the field axis (dim 1, or dim -1 for point clouds/vectors).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> x = t(torch.randn(2, 4, 5, 5))
    >>> y = torch.cat([x, x], dim=1)
    >>> y.shape, len(y.type)
    (torch.Size([2, 8, 5, 5]), 2)
    """

    def __init__(self, tensor: torch.Tensor, type: FieldType, coords: torch.Tensor | None = None):
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"tensor: expected a torch.Tensor, got {type_name(tensor)}")
        if not isinstance(type, FieldType):
            raise TypeError(f"type: expected a FieldType, got {type_name(type)}")
        d = type.gspace.dimensionality
        if coords is not None:
            if not isinstance(coords, torch.Tensor):
                raise TypeError(f"coords: expected a torch.Tensor, got {type_name(coords)}")
            if tensor.dim() != 2 or coords.dim() != 2 or coords.shape != (tensor.shape[0], d):
                raise ValueError(
                    f"coords: expected shape ({tensor.shape[0] if tensor.dim() else '?'}, {d}) for "
                    f"features of shape (N, C), got tensor {tuple(tensor.shape)} and coords {tuple(coords.shape)}"
                )
        elif d > 0 and tensor.dim() != 2 + d:
            raise ValueError(
                f"tensor: a field on R^{d} needs shape (B, C{', *spatial' if d else ''}) with {d} "
                f"spatial axes, got shape {tuple(tensor.shape)}"
            )
        elif d == 0 and tensor.dim() < 1:
            raise ValueError(f"tensor: expected at least 1 dimension, got shape {tuple(tensor.shape)}")
        ch_axis = 1 if (coords is None and tensor.dim() > 1) else -1
        if tensor.shape[ch_axis] != type.size:
            raise ValueError(
                f"tensor: the field type has {type.size} channels but the tensor has "
                f"{tensor.shape[ch_axis]} on axis {ch_axis} (shape {tuple(tensor.shape)})"
            )
        self.tensor = tensor
        self.type = type
        self.coords = coords
        self._ch_axis = ch_axis

    @classmethod
    def _trusted(cls, tensor: torch.Tensor, type: FieldType) -> GeometricTensor:
        """A grid / vector field built without the checks of ``__init__``: for library layers whose
        output is ``(B, type.size, *spatial)`` by construction (no coords; the field axis is 1, or
        -1 for a 1-d tensor, as ``__init__`` sets it)."""
        out = object.__new__(cls)
        out.tensor = tensor
        out.type = type
        out.coords = None
        out._ch_axis = 1 if tensor.dim() > 1 else -1
        return out

    # -- torch-like --------------------------------------------------------------------------
    @property
    def shape(self) -> torch.Size:
        return self.tensor.shape

    def size(self, *args):
        return self.tensor.size(*args)

    @property
    def device(self):
        return self.tensor.device

    @property
    def dtype(self):
        return self.tensor.dtype

    def to(self, *args, **kwargs) -> GeometricTensor:
        coords = self.coords.to(*args, **kwargs) if self.coords is not None else None
        return GeometricTensor(self.tensor.to(*args, **kwargs), self.type, coords)

    def __repr__(self) -> str:
        return f"GeometricTensor(shape={tuple(self.shape)}, type={self.type!r})"

    # -- group action ------------------------------------------------------------------------
    def transform(self, element: GroupElement) -> GeometricTensor:
        """The field transformed by ``element``: ρ(g) f(g⁻¹x) (points move for point clouds)."""
        if self.coords is not None:
            feats = self._fibers(element)
            return GeometricTensor(feats, self.type, self.type.gspace.transform_points(self.coords, element))
        return GeometricTensor(self.type.transform(self.tensor, element), self.type)

    def transform_fibers(self, element: GroupElement) -> GeometricTensor:
        """ρ(g) applied to each fibre; base space untouched."""
        return GeometricTensor(self._fibers(element), self.type, self.coords)

    def _fibers(self, element):
        if self._ch_axis == 1:
            return self.type.transform_fibers(self.tensor, element)
        m = self.type.fiber_matrix(element, self.tensor)
        return self.tensor @ m.T

    def restrict(self, id: Any) -> GeometricTensor:
        """The same data seen as a field of the subgroup ``id``."""
        return GeometricTensor(self.tensor, self.type.restrict(id), self.coords)

    # -- fields ------------------------------------------------------------------------------
    def split(self, breaks: Sequence[int] | None) -> list[GeometricTensor]:
        """Split at the field indices ``breaks`` (None: one tensor per field)."""
        n = len(self.type)
        if breaks is None:
            breaks = list(range(1, n))
        b = [0] + [int(x) for x in breaks] + [n]
        if any(b[i] >= b[i + 1] for i in range(len(b) - 1)):
            raise ValueError(f"breaks: expected increasing field indices in (0, {n}), got {list(breaks)}")
        return [self._select_fields(list(range(b[i], b[i + 1]))) for i in range(len(b) - 1)]

    def _select_fields(self, fields: list[int]) -> GeometricTensor:
        t = self.type.index_select(fields)
        idx = self.type.channel_indices(fields).to(self.tensor.device)
        return GeometricTensor(self.tensor.index_select(self._ch_axis, idx), t, self.coords)

    def __getitem__(self, key) -> GeometricTensor:
        """Slicing like the tensor, except that the field axis (1 for grids and vectors, -1 for
        point clouds) selects whole fields (int, slice, list of ints or a boolean mask over
        fields). Integer indices keep their axis (length 1); point clouds slice their coords too.
        """
        if not isinstance(key, tuple):
            key = (key,)
        nd = self.tensor.dim()
        if len(key) > nd:  # escnn: TypeError, Ellipsis included in the count
            raise TypeError(f"key: too many indices ({len(key)}) for a GeometricTensor of {nd} dimensions")
        if any(k is Ellipsis for k in key):
            i = next(j for j, k in enumerate(key) if k is Ellipsis)
            key = key[:i] + (slice(None),) * (nd - (len(key) - 1)) + key[i + 1 :]
        ch = self._ch_axis % nd
        for ax, k in enumerate(key):
            if ax != ch and not (
                isinstance(k, (int, slice)) or (isinstance(k, torch.Tensor) and k.dtype in (torch.bool, torch.long))
            ):
                raise TypeError(
                    f"key: axis {ax} of a GeometricTensor takes an int, a slice or a bool/long tensor (as escnn), "
                    f"got {type(k).__name__}; index the field axis ({ch}) with lists of fields"
                )
        sel = self._field_list(key[ch] if len(key) > ch else slice(None))
        out = self._select_fields(sel)
        rest = []
        for ax, k in enumerate(key):
            if ax == ch:
                rest.append(slice(None))
            elif isinstance(k, int):
                rest.append(slice(k, k + 1 if k != -1 else None))
            else:
                rest.append(k)
        coords = self.coords[rest[0]] if self.coords is not None else None
        return GeometricTensor(out.tensor[tuple(rest)], out.type, coords)

    def _field_list(self, fields) -> list[int]:
        n = len(self.type)
        if isinstance(fields, slice):
            return list(range(n))[fields]
        if isinstance(fields, int):
            if not -n <= fields < n:
                raise IndexError(f"key: field {fields} out of range for {n} fields")
            return [fields % n]
        if isinstance(fields, torch.Tensor):
            fields = fields.tolist()
        fields = list(fields)
        if fields and all(isinstance(f, bool) for f in fields):
            if len(fields) != n:
                raise IndexError(f"key: a boolean field mask needs {n} entries, got {len(fields)}")
            return [i for i, f in enumerate(fields) if f]
        out = []
        for f in fields:
            f = int(f)
            if not -n <= f < n:
                raise IndexError(f"key: field {f} out of range for {n} fields")
            out.append(f % n)
        return out

    # -- arithmetic --------------------------------------------------------------------------
    def has_same_coords(self, other: GeometricTensor) -> bool:
        """Whether both tensors live on the same points (both grids, or equal ``coords``)."""
        if not isinstance(other, GeometricTensor):
            raise TypeError(f"other: expected a GeometricTensor, got {type_name(other)}")
        a, b = self.coords, other.coords
        if a is b:
            return True
        if a is None or b is None:
            return False
        return a.shape == b.shape and bool(torch.allclose(a, b))

    def is_compatible(self, other: GeometricTensor) -> bool:
        """Whether ``self`` and ``other`` can be added: same field type and same coords."""
        if not isinstance(other, GeometricTensor):
            raise TypeError(f"other: expected a GeometricTensor, got {type_name(other)}")
        return self.type == other.type and self.has_same_coords(other)

    def _same_type(self, other: GeometricTensor, op: str):
        if not isinstance(other, GeometricTensor):
            raise TypeError(f"other: expected a GeometricTensor for '{op}', got {type_name(other)}")
        if other.type != self.type:
            raise ValueError(f"other: '{op}' needs tensors of the same field type")
        if not self.has_same_coords(other):
            raise ValueError(f"other: '{op}' needs point clouds on the same points (coords)")

    def __add__(self, other):
        self._same_type(other, "+")
        return GeometricTensor(self.tensor + other.tensor, self.type, self.coords)

    def __sub__(self, other):
        self._same_type(other, "-")
        return GeometricTensor(self.tensor - other.tensor, self.type, self.coords)

    def __iadd__(self, other):
        self._same_type(other, "+=")
        self.tensor = self.tensor + other.tensor
        return self

    def __isub__(self, other):
        self._same_type(other, "-=")
        self.tensor = self.tensor - other.tensor
        return self

    def __mul__(self, other):
        if isinstance(other, (int, float)) or (isinstance(other, torch.Tensor) and other.numel() == 1):
            return GeometricTensor(self.tensor * other, self.type, self.coords)
        raise TypeError(
            f"other: a GeometricTensor can be multiplied by scalars only (equivariance), got {type_name(other)}"
        )

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, (int, float)) or (isinstance(other, torch.Tensor) and other.numel() == 1):
            return GeometricTensor(self.tensor / other, self.type, self.coords)
        raise TypeError(f"other: a GeometricTensor can be divided by scalars only, got {type_name(other)}")

    def __rmatmul__(self, element) -> GeometricTensor:
        """``g @ x``: the fibres transformed by ``g`` (escnn's shorthand for transform_fibers)."""
        if isinstance(element, GroupElement):
            return self.transform_fibers(element)
        return NotImplemented

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is torch.cat:
            tensors = args[0] if args else kwargs["tensors"]
            dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
            if all(isinstance(t, GeometricTensor) for t in tensors):
                first = tensors[0]
                axis = dim % first.tensor.dim()
                if axis != first._ch_axis % first.tensor.dim():
                    raise ValueError(
                        f"dim: torch.cat of GeometricTensors is defined along the field axis "
                        f"({first._ch_axis}), got dim={dim}"
                    )
                return tensor_directsum(list(tensors))
        return NotImplemented

    def __reduce__(self):
        return (GeometricTensor, (self.tensor, self.type, self.coords))


def type_name(x) -> str:
    return type(x).__name__


def tensor_directsum(tensors: Sequence[GeometricTensor]) -> GeometricTensor:
    """Concatenate fields: the result's type is the sum of the types.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(4)
    >>> a = nn.FieldType(gs, [gs.trivial_repr])(torch.randn(1, 1, 3, 3))
    >>> nn.tensor_directsum([a, a]).type.size
    2
    """
    tensors = list(tensors)
    if not tensors:
        raise ValueError("tensors: expected at least one GeometricTensor")
    for t in tensors:
        if not isinstance(t, GeometricTensor):
            raise TypeError(f"tensors: expected GeometricTensors, got {type_name(t)}")
    gs = tensors[0].type.gspace
    for t in tensors[1:]:
        if t.type.gspace != gs:
            raise ValueError("tensors: all tensors must live on the same gspace")
    coords = tensors[0].coords
    if coords is not None:
        for t in tensors[1:]:
            if t.coords is None or not torch.equal(t.coords, coords):
                raise ValueError("tensors: point-cloud tensors must share the same coords")
    ftype = FieldType(gs, [r for t in tensors for r in t.type.representations])
    ax = tensors[0]._ch_axis
    return GeometricTensor(torch.cat([t.tensor for t in tensors], dim=ax), ftype, coords)


__all__ = ["GeometricTensor", "tensor_directsum"]
