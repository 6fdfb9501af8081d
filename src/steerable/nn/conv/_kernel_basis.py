"""The analytic kernel basis of a pair of field representations as an escnn-style
:class:`steerable.kernels.KernelBasis` (what ``_RdConv._build_kernel_basis`` returns)."""

from __future__ import annotations

import numpy as np
import torch

from steerable.kernels._basis import SteerableKernelBasis as _NumpyBasis
from steerable.kernels._basis import escnn_attributes
from steerable.kernels._kernel_basis import KernelBasis, _as_points

__all__ = ["AnalyticKernelBasis"]


class AnalyticKernelBasis(KernelBasis):
    """The steerable kernels ``in_repr → out_repr`` on the gspace's base space (rings × harmonics,
    solved by Wigner–Eckart), in escnn's sampling layout: ``sample(points (S, d)) → (S, dim,
    out_repr.size, in_repr.size)``. Iterating gives each element's attributes.

    >>> import torch
    >>> from steerable import gspaces
    >>> from steerable.nn.conv import AnalyticKernelBasis
    >>> gs = gspaces.rot2dOnR2(4)
    >>> b = AnalyticKernelBasis(gs, gs.regular_repr, gs.regular_repr, [0.0, 1.0], [0.005, 0.6], lambda r: 2 * int(r))
    >>> len(b), tuple(b.sample(torch.randn(7, 2)).shape), b[0]['radius']
    (24, (7, 24, 4, 4), 0.0)
    """

    _numpy_basis: _NumpyBasis

    def __init__(self, gspace, in_repr, out_repr, rings, sigmas, cutoff, maximum_offset=None, basis_filter=None):
        basis = _NumpyBasis(gspace, in_repr, out_repr, rings, list(sigmas), cutoff, maximum_offset, basis_filter)
        super().__init__(len(basis), (out_repr.size, in_repr.size))
        object.__setattr__(self, "_numpy_basis", basis)
        d = gspace.dimensionality
        attrs = []
        for a, b, pb in basis.blocks:
            for e in pb.elements:
                ri = next((k for k, r in enumerate(pb.rings) if r == e.radius), 0)
                attrs.append(dict(escnn_attributes(e, pb.d_out, pb.d_in, ri, d), out_offset=int(a), in_offset=int(b)))
        self._attrs = attrs
        self.gspace, self.in_repr, self.out_repr = gspace, in_repr, out_repr

    def sample(self, points: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        pts = _as_points(points, self.gspace.dimensionality)
        s = self._numpy_basis.sample(pts.detach().cpu().double().numpy())  # (dim, o, i, S)
        res = torch.as_tensor(np.ascontiguousarray(s.transpose(3, 0, 1, 2)), dtype=pts.dtype, device=pts.device)
        if out is not None:
            out.copy_(res)
            return out
        return res

    def __getitem__(self, idx: int) -> dict:
        return dict(self._attrs[self._check_idx(idx)], idx=int(idx))

    @property
    def structure(self):
        """The elements as tensors (the analytic basis' own :class:`steerable.kernels.BasisStructure`)."""
        return self._numpy_basis.structure
