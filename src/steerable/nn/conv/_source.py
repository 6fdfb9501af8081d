"""Kernel sources: the object a convolution asks for its filter.

A :class:`KernelSource` is a ``torch.nn.Module`` whose ``forward(conv)`` returns the layer's
filter sampled on its kernel offsets, shape ``(groups, C_out/groups, C_in/groups, S)`` (``S`` the
number of taps, ``conv.kernel_points`` their coordinates, in the order of torch's flattened
kernel). The default, :class:`BasisKernelSource`, expands the layer's ``weights`` in its
steerable basis. Replacing it (``conv.kernel_source = MySource(...)``) lets research code
generate kernels with an MLP on the offsets (implicit kernels) or re-weight the basis blocks
(learned partial equivariance); the source's parameters become the layer's.
"""
from __future__ import annotations

import torch

__all__ = ["KernelSource", "BasisKernelSource", "BlockReweightedKernelSource"]


class KernelSource(torch.nn.Module):
    """Base class of the modules producing a convolution's filter (see the module docstring).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn.conv import KernelSource
    >>> class Doubled(KernelSource):
    ...     def forward(self, conv):
    ...         return 2 * conv.basisexpansion(conv.weights.reshape(conv.groups, -1))
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> conv = nn.R2Conv(t, t, 3)
    >>> f = conv.filter
    >>> conv.kernel_source = Doubled()
    >>> bool(torch.allclose(conv.filter, 2 * f))
    True
    """

    def forward(self, conv) -> torch.Tensor:  # pragma: no cover - overridden by every source
        raise TypeError(f"{type(self).__name__}: a KernelSource subclass must define forward(conv)")


class BasisKernelSource(KernelSource):
    """The default source: ``conv.basisexpansion`` applied to ``conv.weights`` (one row per group)."""

    def forward(self, conv) -> torch.Tensor:
        return conv.basisexpansion(conv.weights.reshape(conv.groups, -1))


class BlockReweightedKernelSource(KernelSource):
    """The basis expansion with one learnable factor per basis block (irreps pair × harmonic
    frequency), multiplying the layer's weights: ``w_k ↦ exp(a_{block(k)}) w_k``. With every
    ``a = 0`` it is the default source; the factors are the hook for learning how much of each
    Wigner–Eckart block to use (e.g. damping high frequencies).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn.conv import BlockReweightedKernelSource
    >>> gs = gspaces.rot2dOnR2(8)
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> conv = nn.R2Conv(t, t, 5)
    >>> f = conv.filter
    >>> conv.kernel_source = BlockReweightedKernelSource(conv.basisexpansion)
    >>> bool(torch.allclose(conv.filter, f, atol=1e-6)), conv.kernel_source.log_scales.numel() > 0
    (True, True)
    """

    def __init__(self, basisexpansion):
        super().__init__()
        keys, index = {}, []
        for a in basisexpansion.get_basis_info():
            key = (a.get("in_irrep"), a.get("out_irrep"), a.get("irrep:frequency"))
            index.append(keys.setdefault(key, len(keys)))
        self.block_keys = list(keys)
        self.register_buffer("block_index", torch.as_tensor(index, dtype=torch.long), persistent=False)
        self.log_scales = torch.nn.Parameter(torch.zeros(len(keys)))

    def forward(self, conv) -> torch.Tensor:
        scale = torch.exp(self.log_scales).index_select(0, self.block_index).to(conv.weights.dtype)
        w = conv.weights.reshape(conv.groups, -1) * scale
        return conv.basisexpansion(w)
