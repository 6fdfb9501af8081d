"""The plain-torch export of the adaptive Fourier nonlinearities (``AdaptiveFourierPointwise.export()``).

The exported module works on bare tensors ``(B, C, *spatial)`` (or ``(N, C)``, ``(C,)``): the
frame heads are dense matrices, the rotations plain ``einsum`` s per irrep block and the fixed
grid's ``A``/``A⁺`` buffers (a learned grid is frozen at export time), so it scripts, traces and
compiles without the library's field types.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._fourier import _fourier_apply

__all__ = ["AdaptiveFourierExport"]


def _apply_head(W: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``W`` (O, I) on the channel axis 1 of ``t`` (B, I, S)."""
    return torch.einsum("oi,bis->bos", W, t)


class AdaptiveFourierExport(torch.nn.Module):
    """Plain counterpart of an adaptive Fourier layer (see the module docstring).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> act = nn.AdaptiveFourierELU(gspaces.rot2dOnR2(-1, maximum_frequency=2), 2, 2, 'regular', 4)
    >>> x = torch.randn(3, act.in_type.size, 5, 5)
    >>> bool(torch.allclose(act.export()(x), act(act.in_type(x)).tensor, atol=1e-6))
    True
    """

    head_cols: torch.Tensor | None
    W: torch.Tensor
    W2: torch.Tensor
    A: torch.Tensor
    A_inv: torch.Tensor

    def __init__(self, layer) -> None:
        super().__init__()
        from .._linear import Linear

        def matrix(lin: Linear) -> torch.Tensor:
            with torch.no_grad():
                return lin.expand_parameters()[0].detach().clone()

        self.group = layer.space.fibergroup
        self.kind, self.pseudo, self.eps = layer.kind, layer.pseudo, layer.eps
        self.frame_parts = list(getattr(layer, "_frame_parts", []))
        self.factor_kinds = list(layer._factor_kinds)
        self.n_frames, self.frame_size, self.channels = layer.n_frames, layer._frame_size, layer.channels
        self.ids = list(layer._mat_ids)
        self.blocks_in = [(i, a) for i, a in zip(layer._blocks_in.ids, layer._blocks_in.starts)]
        self.blocks_out = [(i, a) for i, a in zip(layer._blocks_out.ids, layer._blocks_out.starts)]
        self.size_in, self.size_out = layer._blocks_in.size, layer._blocks_out.size
        self.trivial = self.group.trivial_irrep_id
        self.function: str | Callable = layer.core.function
        self.register_buffer("head_cols", None if layer._head_cols is None else layer._head_cols.clone())
        self.register_buffer("W", matrix(layer.head))
        self.quadratic = None
        if layer.quadratic is not None:
            self.quadratic = layer.quadratic.export()
            self.register_buffer("W2", matrix(layer.quadratic_head))
        with torch.no_grad():
            if layer.learn_grid:
                A, A_inv = layer._learned_matrices(layer.grid_params.dtype)
            else:
                A, A_inv = layer.core.A, layer.core.A_inv
        self.register_buffer("A", A.detach().clone())
        self.register_buffer("A_inv", A_inv.detach().clone())

    def _frames(self, t: torch.Tensor) -> torch.Tensor:
        from ._adaptive_fourier import frame_params

        b = t.shape[0]
        sub = t if self.head_cols is None else t.index_select(1, self.head_cols)
        flat = sub.reshape(b, sub.shape[1], -1)
        h = _apply_head(self.W.to(t.dtype), flat)
        if self.quadratic is not None:
            q = self.quadratic(sub)
            h = h + _apply_head(self.W2.to(t.dtype), q.reshape(b, q.shape[1], -1))
        h = h.transpose(1, 2).reshape(b, flat.shape[2], self.n_frames, self.frame_size)
        if self.kind != "product":
            return frame_params(self.kind, h, self.pseudo, self.eps)
        parts, a = {}, 0
        for pos, kind, pseudo, size in self.frame_parts:
            parts[pos] = frame_params(kind, h[..., a : a + size], pseudo, self.eps)
            a += size
        out = []
        for pos, (F, kind) in enumerate(self.factor_kinds):
            if kind is None:
                e = torch.as_tensor(F._identity_value(), dtype=h.dtype, device=h.device)
                out.append(e.expand(*h.shape[:-1], e.shape[0]))
            else:
                out.append(parts[pos])
        return torch.cat(out, -1)

    def _rotate(self, x: torch.Tensor, mats: dict, blocks: list, transpose: bool) -> torch.Tensor:
        pieces = []
        for i, a in blocks:
            if i == self.trivial:
                pieces.append(x[:, :, a : a + 1])
                continue
            R = mats[i]
            d = R.shape[-1]
            eq = "bsji,bcjs->bcis" if transpose else "bsij,bcjs->bcis"
            pieces.append(torch.einsum(eq, R, x[:, :, a : a + d]))
        return torch.cat(pieces, 2)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        from steerable.group.functional import irrep_matrices

        squeeze = t.dim() == 1
        if squeeze:
            t = t.unsqueeze(0)
        b, spatial = t.shape[0], t.shape[2:]
        c = self.channels
        xt = t.reshape(b, c, self.size_in, -1)
        params = self._frames(t)
        A, A_inv = self.A.to(t.dtype), self.A_inv.to(t.dtype)
        out = None
        for f in range(self.n_frames):
            mats = {i: irrep_matrices(self.group.irrep(*i), params[:, :, f]).to(t.dtype) for i in self.ids}
            xc = self._rotate(xt, mats, self.blocks_in, transpose=True)
            yc = _fourier_apply(xc.reshape(b, -1, *spatial), A, A_inv, c, self.function, False)
            y = self._rotate(yc.reshape(b, c, self.size_out, -1), mats, self.blocks_out, transpose=False)
            out = y if out is None else out + y
        assert out is not None
        if self.n_frames > 1:
            out = out / self.n_frames
        out = out.reshape(b, -1, *spatial)
        return out.squeeze(0) if squeeze else out
