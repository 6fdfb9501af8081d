"""Constant buffers with float64 masters: the one mechanism every module uses for its bases,
sampling matrices, changes of basis and other precomputed tensors.

A constant is a non-persistent buffer (never in the ``state_dict``) whose exact value is known in
float64 at construction. Casting the buffer itself loses that value: a layer built in float32 and
converted with ``.double()`` would hold float32 numbers widened to float64. ``ExactConstants``
keeps the float64 *master* of each constant (or a function recomputing it, for large constants
not worth keeping twice) and, whenever ``Module._apply`` (``.to``, ``.float``, ``.double``,
``.half``, ``.cuda``, ...) changes a constant's dtype, rebuilds the buffer from the master at the
new dtype on the buffer's device. A move that keeps the dtype keeps the moved buffer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import torch

__all__ = ["ExactConstants"]

Source = np.ndarray | Callable[[], Any]  # a kept master: a float64 array, or a function recomputing it
SourceLike = npt.ArrayLike | torch.Tensor | Callable[[], Any]  # what register_constant accepts


def _float64(value: Any, name: str) -> np.ndarray:
    """``value`` (array-like or tensor) as a float64 numpy array."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().double().numpy()
    arr = np.asarray(value)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_
    ):
        raise TypeError(f"source: the constant {name!r} needs real numbers, got an array of dtype {arr.dtype}")
    return np.array(arr, dtype=np.float64)


if TYPE_CHECKING:  # a mixin for torch.nn.Module subclasses
    _MixinBase = torch.nn.Module
else:
    _MixinBase = object


class ExactConstants(_MixinBase):
    """Mixin for a ``torch.nn.Module`` (put it before the module class in the bases) whose
    constant float buffers keep float64 masters.

    - ``register_constant(name, source, dtype=None)`` registers a non-persistent buffer ``name``
      with the value ``source`` (an array-like, kept as a private float64 copy, or a zero-argument
      callable returning it, called again whenever the buffer is rebuilt) at ``dtype`` (default:
      torch's default dtype).
    - After every ``_apply`` that changes a constant's dtype, the buffer is rebuilt from its master
      at the new dtype and device, so ``.float().double()`` gives the float64 values exactly.
    - ``constant_master(name)`` returns the float64 master (a numpy array).

    >>> import torch
    >>> class Scale(ExactConstants, torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.register_constant("third", [1 / 3])
    >>> m = Scale().float().double()
    >>> m.third.item() == 1 / 3, list(m.state_dict())
    (True, [])
    """

    def register_constant(self, name: str, source: SourceLike, dtype: torch.dtype | None = None) -> None:
        """Register the non-persistent buffer ``name`` = ``source`` (see the class)."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"name: expected a non-empty str, got {name!r}")
        dtype = torch.get_default_dtype() if dtype is None else dtype
        if not isinstance(dtype, torch.dtype) or not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError(f"dtype: expected a floating torch.dtype, got {dtype!r}")
        if callable(source) and not isinstance(source, (np.ndarray, torch.Tensor)):
            master: Source = source
            value = _float64(source(), name)
        else:
            master = value = _float64(source, name)
        self.__dict__.setdefault("_constant_masters", {})[name] = master
        self.register_buffer(name, torch.as_tensor(value, dtype=dtype), persistent=False)

    def constant_master(self, name: str) -> np.ndarray:
        """The float64 master of the constant ``name`` (a numpy array; do not modify it)."""
        masters = self.__dict__.get("_constant_masters", {})
        if name not in masters:
            raise KeyError(f"name: {type(self).__name__} has no constant {name!r}; it has {sorted(masters)}")
        master = masters[name]
        return _float64(master(), name) if callable(master) else master

    def _apply(self, fn, *args, **kwargs):
        before = {n: b.dtype for n, b in self._buffers.items() if b is not None}
        out = super()._apply(fn, *args, **kwargs)
        for name in self.__dict__.get("_constant_masters", {}):
            buf = self._buffers.get(name)
            if buf is None or not (buf.is_floating_point() or buf.is_complex()) or buf.dtype == before.get(name):
                continue
            self._buffers[name] = torch.as_tensor(self.constant_master(name), dtype=buf.dtype, device=buf.device)
        return out
