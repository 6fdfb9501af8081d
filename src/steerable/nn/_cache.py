"""Shared machinery of modules whose forward uses tensors expanded from their parameters."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from ._constants import ExactConstants


def _same(saved: list, params: list) -> bool:
    """Whether ``params`` hold what ``saved`` (detached clones, or None) held: same presence,
    dtype, device, shape and values."""
    if len(saved) != len(params):
        return False
    for a, b in zip(saved, params):
        if a is None or b is None:
            if a is not b:
                return False
        # torch.equal is False for different shapes, but would compare across dtypes (and raise
        # across devices): those are checked first
        elif a.dtype is not b.dtype or a.device != b.device or not torch.equal(a, b):
            return False
    return True


class ExpansionCacheMixin(ExactConstants):
    """Mix into an ``EquivariantModule`` that defines ``expand_parameters()``.

    - ``_expanded()``: the expansion; in eval mode without grad it is cached and reused while the
      parameters named in ``_cache_params`` (``_cache_tensors()``) hold the same values (compared by value, since edits
      through ``.data`` do not bump the parameters' version counters). The cache is never in the state_dict.
    - constants (bases, bias expansions) come from ``ExactConstants.register_constant`` (a
      non-persistent buffer rebuilt from its float64 master whenever the module changes dtype).
    """

    _cache_params: tuple[str, ...] = ("weights", "bias")
    _cache: tuple | None

    if TYPE_CHECKING:  # defined by the module the mixin goes into

        def expand_parameters(self) -> tuple[torch.Tensor, torch.Tensor | None]: ...

    def _expanded(self):
        if self.training or torch.is_grad_enabled() or torch.compiler.is_compiling():
            return self.expand_parameters()
        params = self._cache_tensors()
        c = self.__dict__.get("_cache")
        if c is not None and _same(c[0], params):
            return c[1]
        out = self.expand_parameters()
        self._cache = ([None if p is None else p.detach().clone() for p in params], out)
        return out

    def _cache_tensors(self) -> list:
        """The tensors the cached expansion depends on (compared by value before reuse)."""
        return [getattr(self, n, None) for n in self._cache_params]

    def train(self, mode: bool = True):
        self._cache = None
        return super().train(mode)

    def _apply(self, fn, *args, **kwargs):
        self._cache = None
        return super()._apply(fn, *args, **kwargs)

    def __getstate__(self):
        state = dict(super().__getstate__())
        state["_cache"] = None
        return state
