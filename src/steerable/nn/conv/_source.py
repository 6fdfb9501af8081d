"""Kernel sources: the one public hook for what a convolution uses as its filter.

Every convolution (``R2Conv``, ``R3Conv``, their transposes, ``R3IcoConv``, ``R2PointConv``,
``R3PointConv``) takes ``kernel_source=`` (keyword) and exposes the same object as the assignable
attribute ``conv.kernel_source``; ``None`` means the default :class:`BasisKernelSource`, the
analytic steerable basis expanded with ``conv.weights``. A source is a ``torch.nn.Module``
(:class:`KernelSource`): its parameters and buffers become the layer's (``state_dict`` keys
``_kernel_source.*``, the same in train and eval), and it is called as

- ``source(conv)`` by grid convolutions: the filter at the kernel taps ``conv.kernel_points``
  (S, d) (torch's flattened kernel order; negated for transposed convolutions), shape
  ``(groups, C_out/groups, C_in/groups, S)``;
- ``source(conv, offsets)`` by point convolutions: the filter at the edge offsets (E, d), shape
  ``(groups, C_out/groups, C_in/groups, E)``.

What a source may read on ``conv``: ``weights`` (``groups × dim``), ``groups``, ``in_type``,
``out_type``, ``kernel_points`` and ``basisexpansion`` (``forward(weights (G, dim)[, offsets])``
and its per-weight :class:`steerable.kernels.BasisStructure`, ``basisexpansion.structure``).
Sources that only re-weight the basis also define :meth:`KernelSource.effective_weights`, so point
convolutions keep their per-edge fast path and their ``export()``. ``conv.export()`` of a grid
convolution bakes whatever the source returns into a plain ``torch.nn.Conv{2,3}d``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

__all__ = ["KernelSource", "BasisKernelSource", "BlockReweightedKernelSource", "KernelSourceMixin"]


class KernelSource(torch.nn.Module):
    """Base class of the modules producing a convolution's filter (see the module docstring):
    subclasses define ``forward(conv, points=None)``. :meth:`offsets` gives the points as a
    tensor in the layer's dtype.

    An implicit kernel (an MLP on the offsets) and the default basis expansion, doubled:

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> class Doubled(nn.KernelSource):
    ...     def forward(self, conv, points=None):
    ...         return 2 * nn.BasisKernelSource()(conv, points)
    >>> class MLP(nn.KernelSource):
    ...     def __init__(self, c_out, c_in):
    ...         super().__init__()
    ...         self.c = (c_out, c_in)
    ...         self.mlp = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, c_out * c_in))
    ...     def forward(self, conv, points=None):
    ...         x = self.offsets(conv, points)                   # (S, 2)
    ...         return self.mlp(x).T.reshape(1, *self.c, -1)     # (1, C_out, C_in, S)
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> conv = nn.R2Conv(t, t, 3)
    >>> f = conv.filter
    >>> conv.kernel_source = Doubled()
    >>> bool(torch.allclose(conv.filter, 2 * f))
    True
    >>> conv = nn.R2Conv(t, t, 3, kernel_source=MLP(4, 4))
    >>> conv(t(torch.randn(1, 4, 5, 5))).shape, sorted(conv.state_dict())[0]
    (torch.Size([1, 4, 3, 3]), '_kernel_source.mlp.0.bias')
    """

    def forward(self, conv, points: torch.Tensor | None = None) -> torch.Tensor:
        raise TypeError(f"{type(self).__name__}: a KernelSource subclass must define forward(conv, points=None)")

    @staticmethod
    def offsets(conv, points: torch.Tensor | None = None) -> torch.Tensor:
        """``points`` if given, else the layer's kernel taps ``conv.kernel_points``, as a tensor (S, d)
        in the dtype and on the device of ``conv.weights``."""
        w = conv.weights
        if points is None:
            points = torch.as_tensor(np.asarray(conv.kernel_points), dtype=w.dtype, device=w.device)
        return points.to(dtype=w.dtype, device=w.device)

    def effective_weights(self, conv) -> torch.Tensor | None:
        """Weights (groups, dim) such that the layer's basis expansion of them *is* this source's
        filter; the base class returns None: the source is not a re-weighting of the basis.
        Point convolutions use the fast path and can export exactly when a subclass overrides it."""
        return None


class BasisKernelSource(KernelSource):
    """The default source: ``conv.basisexpansion`` applied to ``conv.weights`` (one row per group).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> conv = nn.R2Conv(t, t, 3)
    >>> isinstance(conv.kernel_source, nn.BasisKernelSource), tuple(nn.BasisKernelSource()(conv).shape)
    (True, (1, 4, 4, 9))
    """

    def forward(self, conv, points: torch.Tensor | None = None) -> torch.Tensor:
        w = self.effective_weights(conv)
        if hasattr(conv, "_matrix_of"):  # Linear: the matrix as (1, C_out, C_in, 1)
            return conv._matrix_of(w[0])[None, :, :, None]
        return conv.basisexpansion(w) if points is None else conv.basisexpansion(w, points)

    def effective_weights(self, conv) -> torch.Tensor:
        return conv.weights.reshape(getattr(conv, "groups", 1), -1)


_DEFAULT_BY = ("in_irrep", "out_irrep", "frequency")


class BlockReweightedKernelSource(BasisKernelSource):
    """The basis expansion with one learnable factor per group of weights, multiplying the
    layer's weights: ``w_k ↦ exp(a_{group(k)}) w_k``. Groups are the distinct values of the
    :class:`steerable.kernels.BasisStructure` fields named in ``by`` (default: irreps pair ×
    harmonic frequency, the Wigner–Eckart blocks; e.g. ``by=('frequency',)`` for one factor per
    frequency, ``('block',)`` per irrep block). With every ``a = 0`` it is the default source;
    re-weighting whole groups of the same kind keeps the layer equivariant.

    ``basis``: the layer's ``basisexpansion`` (anything with a ``structure``), the layer itself,
    or a :class:`~steerable.kernels.BasisStructure`. ``block_keys[g]`` describes group ``g``
    (irrep ids, harmonic ids, numbers); ``block_index`` maps each weight to its group.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(8)
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> conv = nn.R2Conv(t, t, 5)
    >>> f = conv.filter
    >>> conv.kernel_source = nn.BlockReweightedKernelSource(conv.basisexpansion)
    >>> bool(torch.allclose(conv.filter, f, atol=1e-6)), conv.kernel_source.log_scales.numel() > 0
    (True, True)
    >>> src = nn.BlockReweightedKernelSource(conv, by=("frequency",))
    >>> [k[0] for k in src.block_keys] == sorted(set(conv.basisexpansion.structure.frequency.tolist()))
    True
    """

    block_index: torch.Tensor
    log_scales: torch.nn.Parameter

    def __init__(self, basis, by: Sequence[str] = _DEFAULT_BY):
        super().__init__()
        s = _structure_of(basis)
        if isinstance(by, str) or not isinstance(by, (tuple, list)) or not by:
            raise TypeError(f"by: expected a non-empty tuple of BasisStructure field names, got {by!r}")
        fields = [
            f
            for f in s.__dataclass_fields__
            if isinstance(getattr(s, f), torch.Tensor) and not f.startswith("block_") and getattr(s, f).dim() == 1
        ]
        for f in by:
            if f not in fields:
                raise ValueError(f"by: expected names among {fields}, got {f!r}")
        self.by = tuple(by)
        cols = (
            np.stack([getattr(s, f).numpy().astype(np.float64) for f in self.by], 1)
            if len(s)
            else np.zeros((0, len(self.by)))
        )
        if len(cols):
            uniq, first, inverse = np.unique(cols, axis=0, return_index=True, return_inverse=True)
            order = np.argsort(first, kind="stable")  # groups in order of their first weight
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            index, keys = rank[inverse.reshape(-1)], uniq[order]
        else:
            index, keys = np.zeros(0, dtype=np.int64), np.zeros((0, len(self.by)))
        self.block_keys = [tuple(_decode(s, f, v) for f, v in zip(self.by, row)) for row in keys]
        self.register_buffer("block_index", torch.as_tensor(index, dtype=torch.long), persistent=False)
        self.log_scales = torch.nn.Parameter(torch.zeros(len(self.block_keys)))

    def effective_weights(self, conv) -> torch.Tensor:
        w = conv.weights.reshape(conv.groups, -1)
        if w.shape[1] != self.block_index.shape[0]:
            raise ValueError(
                f"conv: this source was built for {self.block_index.shape[0]} weights per group, the "
                f"layer has {w.shape[1]}"
            )
        scale = torch.exp(self.log_scales).index_select(0, self.block_index).to(w.dtype)
        return w * scale


def _structure_of(basis):
    from steerable.kernels._structure import _is_structure

    if _is_structure(basis):
        return basis
    for obj in (basis, getattr(basis, "basisexpansion", None)):
        s = getattr(obj, "structure", None) if obj is not None else None
        if s is not None and _is_structure(s):
            return s
    raise TypeError(
        f"basis: expected a basis expansion (with a .structure), a convolution or a BasisStructure, "
        f"got {type(basis).__name__}"
    )


def _decode(s, field: str, v: float):
    if field in ("in_irrep", "out_irrep"):
        return s.irreps[int(v)] if v >= 0 else None
    if field == "harmonic":
        return s.harmonics[int(v)] if v >= 0 else None
    if field in ("radius", "sigma"):
        return float(v)
    return int(v)


if TYPE_CHECKING:  # a mixin for torch.nn.Module subclasses
    _MixinBase = torch.nn.Module
else:
    _MixinBase = object


class KernelSourceMixin(_MixinBase):
    """The ``kernel_source`` attribute of convolutions (mixed into the grid and point
    convolutions): a property backed by the submodule ``_kernel_source`` (None: the default
    :class:`BasisKernelSource`), whose tensors join the eval-mode cache key."""

    _cache: tuple | None
    _cache_params: tuple[str, ...]

    @property
    def kernel_source(self) -> KernelSource:
        """The module producing the filter (default: :class:`BasisKernelSource`); assignable
        (``None`` restores the default)."""
        src = self._modules.get("_kernel_source")
        return src if isinstance(src, KernelSource) else _DEFAULT_SOURCE  # the setter admits KernelSource or None

    @kernel_source.setter
    def kernel_source(self, source) -> None:
        if source is not None and not isinstance(source, KernelSource):
            raise TypeError(f"kernel_source: expected a KernelSource module (or None), got {type(source).__name__}")
        self._modules["_kernel_source"] = source
        self._cache = None

    def __setattr__(self, name, value):
        if name == "kernel_source":  # torch would register a Module under the name, bypassing the property
            KernelSourceMixin.kernel_source.fset(self, value)
        else:
            super().__setattr__(name, value)

    def _cache_tensors(self) -> list:
        src = self._modules.get("_kernel_source")
        extra = [] if src is None else list(src.parameters()) + list(src.buffers())
        return [getattr(self, n, None) for n in self._cache_params] + extra


_DEFAULT_SOURCE = BasisKernelSource()
