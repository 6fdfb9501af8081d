"""GNormBatchNorm: batch normalisation in the irrep basis, one statistic per irrep block."""

from __future__ import annotations

import numpy as np
import torch

from .._field_type import FieldType
from .._validation import check_field_type
from ._field_batchnorm import _FieldBatchNorm

__all__ = ["GNormBatchNorm"]


class GNormBatchNorm(_FieldBatchNorm):
    """Batch normalisation in the irrep basis, one statistic per irrep block (escnn's).

    Each field is mapped to its irrep basis ``z = Q⁻¹ x``; every irrep block ``z_i`` of every field
    gets its own statistics over the batch and the grid::

        μ_i = mean_{b,x} z_i  (trivial blocks only; 0 otherwise)
        σ²_i = mean_{b,x} |z_i - μ_i|² / dim ψ_i
        z_i ← (z_i - μ_i) · w_i / sqrt(σ²_i + eps) + b_i (b_i on trivial blocks only)

    and the result is mapped back with ``Q``. Equivariant because ``ψ_i`` is orthogonal (|z_i| and
    the trivial coefficients are invariant) and a scalar per irrep block commutes with ``⊕ ψ_i``;
    works for any representation, orthogonal or not. ``weight``/``running_var`` have one entry per
    (field, irrep) in field order, ``bias``/``running_mean`` one per trivial irrep.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import GNormBatchNorm
    >>> gs = gspaces.rot2dOnR2(8)
    >>> t = nn.FieldType(gs, [gs.regular_repr, gs.irrep(1)])
    >>> bn = GNormBatchNorm(t)
    >>> tuple(bn.weight.shape), tuple(bn.bias.shape)
    ((6,), (1,))
    >>> bn(t(torch.randn(4, 10, 7, 7))).shape
    torch.Size([4, 10, 7, 7])
    """

    _cob_keep: torch.Tensor
    _cob_unperm: torch.Tensor

    def __init__(self, in_type: FieldType, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True):
        super().__init__()
        check_field_type(in_type, owner="GNormBatchNorm")
        G = in_type.gspace.fibergroup
        C = in_type.size
        bidx = np.zeros(C, dtype=np.int64)
        bsizes: list[int] = []
        triv_pos: list[int] = []
        c = 0
        for rep in in_type.representations:
            for i in rep.irreps:
                psi = G.irrep(*i)
                bidx[c : c + psi.size] = len(bsizes)
                if psi.is_trivial():
                    triv_pos.append(c)
                bsizes.append(psi.size)
                c += psi.size
        R, K = len(bsizes), len(triv_pos)
        avg = np.zeros((R, C))
        avg[bidx, np.arange(C)] = 1.0 / np.asarray(bsizes, dtype=float)[bidx]
        t_in = np.zeros((K, C))
        t_in[np.arange(K), triv_pos] = 1.0
        self._setup(in_type, eps, momentum, affine, True, bidx, avg, t_in, t_in.T.copy(), np.ones(R))
        # fields with a non-identity change of basis, grouped by representation (first appearance)
        types: list = []
        for f, rep in enumerate(in_type.representations):
            if np.allclose(rep.change_of_basis, np.eye(rep.size), atol=1e-12):
                continue
            for entry in types:
                if entry[0] == rep:
                    entry[1].append(f)
                    break
            else:
                types.append((rep, [f]))
        self._cob_types: list[tuple[int, int]] = []
        if types:
            moved = []
            for k, (rep, fields) in enumerate(types):
                idx = in_type.channel_indices(fields)
                moved.append(idx)
                self.register_buffer(f"_cob_idx_{k}", idx, persistent=False)
                self.register_constant(f"_cob_q_{k}", rep.change_of_basis)
                self.register_constant(f"_cob_qinv_{k}", rep.change_of_basis_inv)
                self._cob_types.append((len(fields), rep.size))
            moved_all = torch.cat(moved)
            keep = np.setdiff1d(np.arange(C), moved_all.numpy())
            self.register_buffer("_cob_keep", torch.as_tensor(keep, dtype=torch.long), persistent=False)
            order = torch.cat([self._cob_keep, moved_all])
            self.register_buffer("_cob_unperm", torch.argsort(order), persistent=False)

    def _change(self, t: torch.Tensor, inverse: bool) -> torch.Tensor:
        if not self._cob_types:
            return t
        B, sp = t.shape[0], t.shape[2:]
        parts = [t.index_select(1, self._cob_keep)]
        for k, (n, s) in enumerate(self._cob_types):
            m = getattr(self, f"_cob_qinv_{k}" if inverse else f"_cob_q_{k}")
            xk = t.index_select(1, getattr(self, f"_cob_idx_{k}")).reshape(B, n, s, *sp)
            parts.append(torch.einsum("ij,bnj...->bni...", m, xk).reshape(B, n * s, *sp))
        return torch.cat(parts, 1).index_select(1, self._cob_unperm)

    def _to_basis(self, t):
        return self._change(t, inverse=True)

    def _from_basis(self, t):
        return self._change(t, inverse=False)

    def export(self) -> torch.nn.Module:
        """The eval-mode function in plain torch: ``torch.nn.BatchNorm{1,2,3}d`` when every field
        is in its irrep basis already (``Q = I``), else the block-diagonal channel map
        ``x ↦ Q D Q⁻¹ x + c`` as a 1×1 ``Conv{2,3}d`` (``Linear`` on ``no_base_space``, for inputs
        of shape (B, C)). Equal to this module in eval mode (running statistics)."""
        if not self._cob_types:
            return super().export()
        with torch.no_grad():
            mean_c, var_c, weight_c, bias_c = self._eval_affine()
            a = weight_c * torch.rsqrt(var_c + self.eps)
            shift = bias_c - a * mean_c
            qb = np.zeros((self.in_type.size,) * 2)
            qbi = np.zeros_like(qb)
            for f, rep in enumerate(self.in_type.representations):
                s, e = int(self.in_type.fields_start[f]), int(self.in_type.fields_end[f])
                qb[s:e, s:e] = rep.change_of_basis
                qbi[s:e, s:e] = rep.change_of_basis_inv
            q = torch.as_tensor(qb, dtype=torch.float64)
            matrix = (q * a.double()[None, :]) @ torch.as_tensor(qbi)
            offset = q @ shift.double()
            return _channel_affine(self.in_type.gspace.dimensionality, matrix.to(a), offset.to(a))


def _channel_affine(d: int, matrix: torch.Tensor, offset: torch.Tensor) -> torch.nn.Module:
    """``x ↦ M x + c`` on the channel axis: ``Linear`` (d = 0) or a 1×1 ``Conv{2,3}d``."""
    C = matrix.shape[0]
    m: torch.nn.Module
    if d == 0:
        m = torch.nn.Linear(C, C, device=matrix.device, dtype=matrix.dtype)
    else:
        cls = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[d]
        m = cls(C, C, 1, device=matrix.device, dtype=matrix.dtype)
    m.load_state_dict({"weight": matrix.reshape(C, C, *(1,) * d), "bias": offset})  # copies, no autograd
    return m.eval()
