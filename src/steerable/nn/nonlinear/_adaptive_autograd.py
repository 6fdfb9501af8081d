"""Fused, memory-light autograd for the adaptive Fourier layers.

The adaptive layers compute ``ρ(h) · A⁺ σ(A · ρ(h)ᵀ x)`` per location, with ``ρ(h)`` block diagonal
(one block ψ(h) per irrep occurrence, identity change of basis) and ``h`` the predicted frame.
:class:`_AdaptiveFourierFn` computes it under ``no_grad`` and keeps only ``x``, the grid matrices and
the blocks ψ(h) for backward, which recomputes the chain one stage at a time and frees each
intermediate as soon as its gradient is formed; :class:`_BlockRotate` is the rotation alone (used
by the plain-graph path). Both are first-order only (``once_differentiable``).

Layouts: a list of ``(start, k)`` per irrep occurrence of the representation, ``start`` the offset
on the D axis and ``k`` the index of its block in ``mats`` (``-1``: the trivial irrep, ψ(h) = 1).
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from ._fourier import _act, _grad_through


def _rotate_blocks(x: torch.Tensor, mats: list, starts: list, y: torch.Tensor) -> None:
    """``y[:, :, block] = R · x[:, :, block]`` for every block: x, y (B, C, D, S), each R (B, d, d, S)
    (one per irrep occurrence at the D-offsets ``starts``; a 0-d marker for the trivial irrep);
    d multiply-adds per block, no copies."""
    for R, a in zip(mats, starts):
        if R.dim() == 0:  # the trivial irrep: ψ(h) = 1
            y[:, :, a : a + 1] = x[:, :, a : a + 1]
            continue
        d = R.shape[1]
        xv, yv = x[:, :, a : a + d], y[:, :, a : a + d]
        torch.mul(R[:, None, :, 0], xv[:, :, 0:1], out=yv)
        for j in range(1, d):
            yv.addcmul_(R[:, None, :, j], xv[:, :, j : j + 1])


def _outer(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``Σ_c u[b, c, i, s] v[b, c, j, s]`` as (B, d, d, S): d products of one block each, summed
    over the channels (an einsum would permute both blocks into copies first)."""
    return torch.stack([(u * v[:, :, j : j + 1]).sum(1) for j in range(v.shape[2])], 2)


def _rotate(x: torch.Tensor, mats: tuple, layout: list, transpose: bool) -> torch.Tensor:
    """ρ(h) x (or ρ(h)ᵀ x) for the blocks ``mats`` placed by ``layout``."""
    one = x.new_ones(())
    blocks = [one if k < 0 else (mats[k].transpose(1, 2) if transpose else mats[k]) for _, k in layout]
    y = torch.empty_like(x, memory_format=torch.contiguous_format)
    _rotate_blocks(x, blocks, [a for a, _ in layout], y)
    return y


def _rotate_(x: torch.Tensor, mats: tuple, layout: list, transpose: bool) -> torch.Tensor:
    """In place ``x ← ρ(h) x`` (or ρ(h)ᵀ x); temporaries of one block's size only."""
    for a, k in layout:
        if k < 0:
            continue
        R = mats[k].transpose(1, 2) if transpose else mats[k]
        d = R.shape[1]
        xv = x[:, :, a : a + d]
        tmp = torch.empty_like(xv, memory_format=torch.contiguous_format)
        _rotate_blocks(xv, [R], [0], tmp)
        xv.copy_(tmp)
    return x


def _accumulate(grads: list, u: torch.Tensor, v: torch.Tensor, mats: tuple, layout: list) -> None:
    """``grads[k] += Σ_c u_blockᵢ v_blockⱼ`` over the occurrences of each block."""
    for a, k in layout:
        if k < 0:
            continue
        d = mats[k].shape[1]
        g = _outer(u[:, :, a : a + d], v[:, :, a : a + d])
        grads[k] = g if grads[k] is None else grads[k] + g


class _BlockRotate(torch.autograd.Function):
    """y = ρ(h) x per location for block-diagonal ρ = ⊕ψ (identity change of basis): x (B, C, D, S),
    the blocks ``mats[k]`` (B, d, d, S) at the offsets ``starts``. Fused and memory-light: saves x
    and the blocks only, and its backward is two more passes of the same kind."""

    @staticmethod
    def forward(ctx, x, starts, *mats):
        ctx.starts = starts
        ctx.save_for_backward(x, *mats)
        y = torch.empty_like(x, memory_format=torch.contiguous_format)
        _rotate_blocks(x, list(mats), starts, y)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, gy):
        x, *mats = ctx.saved_tensors
        gy = gy.contiguous()
        gx = None
        if ctx.needs_input_grad[0]:
            gx = torch.empty_like(x, memory_format=torch.contiguous_format)
            _rotate_blocks(gy, [R if R.dim() == 0 else R.transpose(1, 2) for R in mats], ctx.starts, gx)
        gmats = []
        for k, (R, a) in enumerate(zip(mats, ctx.starts)):
            if not ctx.needs_input_grad[2 + k] or R.dim() == 0:
                gmats.append(None)
                continue
            d = R.shape[1]
            # dL/dR[b, i, j, s] = Σ_c gy[b, c, i, s] x[b, c, j, s]
            gmats.append(_outer(gy[:, :, a : a + d], x[:, :, a : a + d]))
        return (gx, None, *gmats)


class _AdaptiveFourierFn(torch.autograd.Function):
    """``out = ρ_out(h) A⁺ σ(A ρ_in(h)ᵀ x)``: x (B, C, D, S), A (N, D), A⁺ (D_out, N), ``fn`` a
    named activation, ``layout_in``/``layout_out`` the block layouts of ρ_in/ρ_out, ``mats`` the
    blocks ψ(h) (B, d, d, S). Saves x, A, A⁺ and the blocks; A and A⁺ get no gradient."""

    @staticmethod
    def forward(ctx, x, A, A_inv, fn, layout_in, layout_out, *mats):
        with torch.no_grad():
            s = torch.matmul(A, _rotate(x, mats, layout_in, True))
            y = torch.matmul(A_inv, _act(fn, s, True))
            del s
            out = _rotate_(y, mats, layout_out, False)
        ctx.fn, ctx.layout_in, ctx.layout_out = fn, layout_in, layout_out
        ctx.save_for_backward(x, A, A_inv, *mats)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        x, A, A_inv, *mats = ctx.saved_tensors
        fn, lay_in, lay_out = ctx.fn, ctx.layout_in, ctx.layout_out
        g = g.contiguous()
        need_mats = any(ctx.needs_input_grad[6:])
        gm: list = [None] * len(mats)
        s = torch.matmul(A, _rotate(x, mats, lay_in, True))
        if need_mats:  # out = ρ_out(h) yc: dL/dψ += g ⊗ yc
            yc = torch.matmul(A_inv, _act(fn, s, False))
            _accumulate(gm, g, yc, mats, lay_out)
            del yc
        gy = torch.matmul(A_inv.transpose(0, 1), _rotate(g, mats, lay_out, True))
        gs = _grad_through(fn, s, gy, inplace=True)
        del s, gy
        gxc = torch.matmul(A.transpose(0, 1), gs)
        del gs
        if need_mats:  # xc = ρ_in(h)ᵀ x: dL/dψ[p, q] += x_p gxc_q
            _accumulate(gm, x, gxc, mats, lay_in)
        gx = _rotate_(gxc, mats, lay_in, False) if ctx.needs_input_grad[0] else None
        return (gx, None, None, None, None, None, *gm)
