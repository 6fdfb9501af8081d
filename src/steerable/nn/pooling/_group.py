"""Group pooling: the max over the channels of each permutation-representation field
(``GroupPooling``), and escnn's plain-torch ``MaxPoolChannels``."""

from __future__ import annotations

import numpy as np
import torch
import torch.fx

from .._field_type import FieldType
from .._module import _ignored_kwargs
from .._validation import check_field_type
from ._norm import _FieldReduction, _FieldwisePool

__all__ = ["GroupPooling", "MaxPoolChannels"]


class GroupPooling(_FieldwisePool):
    """Group pooling: every field is replaced by the max over its channels, an invariant (one
    trivial field per field).

    Needs permutation representations (every field supports ``'pointwise'``: regular, quotient
    or trivial representations; on a trivial field this is the identity), else ``ValueError``.
    Works on any gspace (grids, ``no_base_space``, point clouds — coords are kept).

    The max is ``torch.amax``: where several channels of a field tie for the max, its gradient
    is shared evenly among them (``max(dim).values`` would give it all to one). An in-place
    non-linearity after the pooling (``ReLU(inplace=True)``) is safe.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import GroupPooling
    >>> gs = gspaces.rot2dOnR2(8)
    >>> t = nn.FieldType(gs, [gs.regular_repr] * 3)
    >>> pool = GroupPooling(t)
    >>> y = pool(t(torch.randn(2, 24, 7, 7)))
    >>> y.shape, y.type.representations[0].is_trivial()
    (torch.Size([2, 3, 7, 7]), True)
    >>> _ = pool.check_equivariance()
    """

    def __init__(self, in_type: FieldType, **kwargs):
        super().__init__()
        check_field_type(in_type, owner="GroupPooling")
        _ignored_kwargs("GroupPooling", kwargs)
        seen: dict = {}
        for i, r in enumerate(in_type.representations):
            ok = seen.get(r)
            if ok is None:
                ok = seen[r] = "pointwise" in r.supported_nonlinearities
            if not ok:
                raise ValueError(
                    f"in_type: GroupPooling takes the max over the channels of each field, which is invariant "
                    f"only for permutation representations ('pointwise' support); field {i} of {in_type!r} has "
                    f"{r!r}, which does not support it (use NormPool instead)"
                )
        by_size: dict[int, list[int]] = {}
        for f, r in enumerate(in_type.representations):
            by_size.setdefault(r.size, []).append(f)
        groups = [(in_type.channel_indices(fields).numpy(), len(fields), 1, s) for s, fields in by_size.items()]
        order = np.argsort(np.concatenate([np.asarray(fields) for fields in by_size.values()]))
        self._finish(in_type, _ChannelMax(groups, order, "max"))

    def export(self) -> torch.nn.Module:
        """``MaxPoolChannels(size)`` when all fields have the same size (as escnn), else a plain
        module doing the per-size maxima."""
        sizes = {r.size for r in self.in_type.representations}
        if len(sizes) == 1:
            return MaxPoolChannels(sizes.pop())
        return super().export()


class _ChannelMax(_FieldReduction):
    """Plain torch: the max over the channels of every field (fields grouped by size, as
    ``_FieldReduction`` with ``mode='max'``), by ``amax``, which unlike ``max(dim).values``
    computes no indices (on CPU, at (32, 128, 8, 8) with fields of size 8: 0.04 ms instead of 1 ms).

    ``amax``'s backward reads its output: when the pooled tensor is ``amax``'s own output and
    autograd records, it is cloned, so an in-place op on it leaves the backward intact."""

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        squeeze = t.dim() == 1
        if squeeze:
            t = t.unsqueeze(0)
        b, sp = t.shape[0], t.shape[2:]
        outs = []
        for i, (start, n, nf, k, s) in enumerate(self._specs):
            x = t.narrow(1, start, n) if start >= 0 else t.index_select(1, getattr(self, f"index_{i}"))
            outs.append(x.reshape(b, nf, k * s, *sp).amax(dim=2))
        y = outs[0] if len(outs) == 1 else torch.cat(outs, dim=1)
        if self.order is not None:
            y = y.index_select(1, self.order)
        elif len(outs) == 1 and torch.is_grad_enabled() and y.requires_grad:
            y = y.clone()
        return y.squeeze(0) if squeeze else y


class MaxPoolChannels(torch.nn.Module):
    """The max over each group of ``kernel_size`` consecutive channels (axis 1), a plain
    ``torch.nn.Module`` on tensors, as in escnn (what ``GroupPooling`` exports to). The number of
    channels must be a multiple of ``kernel_size``.

    >>> import torch
    >>> from steerable.nn import MaxPoolChannels
    >>> x = torch.arange(8.).reshape(1, 8, 1, 1)
    >>> MaxPoolChannels(4)(x).flatten().tolist()
    [3.0, 7.0]
    """

    def __init__(self, kernel_size: int):
        super().__init__()
        if isinstance(kernel_size, FieldType):
            raise TypeError(
                "kernel_size: MaxPoolChannels(kernel_size) is a plain module on tensors (as in escnn); "
                "for a FieldType use GroupPooling(in_type)"
            )
        if isinstance(kernel_size, bool) or not isinstance(kernel_size, (int, np.integer)):
            raise TypeError(f"kernel_size: expected a positive integer, got {kernel_size!r}")
        if kernel_size < 1:
            raise ValueError(f"kernel_size: expected a positive integer, got {kernel_size!r}")
        self.kernel_size = int(kernel_size)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if not isinstance(input, torch.fx.Proxy):  # checks only on real tensors: stays FX-traceable
            if not isinstance(input, torch.Tensor):
                raise TypeError(f"input: MaxPoolChannels expects a torch.Tensor, got {type(input).__name__}")
            if input.dim() < 2 or input.shape[1] % self.kernel_size:
                raise ValueError(
                    f"input: the number of channels (axis 1 of shape {tuple(input.shape)}) must be a multiple of "
                    f"kernel_size={self.kernel_size}"
                )
        return input.unflatten(1, (-1, self.kernel_size)).amax(dim=2)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}"
