"""The iterative Gauss-move reducer: a B_n-equivariant network that composes an exactly
unimodular integer matrix Q out of extended Gauss moves, and its convolutional variant for grids
of correlated lattices.

One step reads the normalised Gram matrix of the current basis and applies one of 2n extended
Gauss moves: a *source* move with pivot j, ``b_i ← b_i + c_ij b_j`` for all i ≠ j, or a *target*
move with pivot i, ``b_i ← b_i + Σ_j c_ij b_j``. The integer coefficients are
``c_ij = round(α_ij T1_ij + β_ij T2_ij)`` with T1_ij = G_ij / G_jj, T2_ij = (G⁻¹)_ij / (G⁻¹)_ii
(which pick up the signs s_i s_j) and α, β invariant outputs of the network, initialised at size
reduction against the pivot (α = -1, β = 0) and at Babai rounding of the pivot against all the
others (α = 0, β = 1). The move is the argmax of invariant logits: a learned score plus a learned
multiple of the exact decrease of the log defect the move would give, among the moves that are
not zero. A step's matrix ``I + e_j cᵀ`` or ``I + c e_iᵀ`` (c with a zero at the pivot) has
determinant 1, so Q stays an integer matrix with det Q = 1.

Training is self-supervised (:func:`train_reducer`): the loss is the log orthogonality defect
along the trajectory, with straight-through rounding for the coefficients and a straight-through
Gumbel-softmax for the pivot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._defect import _check_bases, _torch_log_defect
from ._layers import EDGE_FEATURES, NODE_FEATURES, BnGramLayer, _mlp, gram_features

__all__ = ["ConvGaussMoveReducer", "GaussMoveReducer", "Reduction"]


@dataclass
class Reduction:
    """Output of a reducer: the reduced bases ``B Q``, the int64 unimodular ``Q`` and the log
    orthogonality defect after each step ``(..., steps + 1)`` (entry 0: the input).

    >>> import torch
    >>> from steerable.lattice import GaussMoveReducer
    >>> out = GaussMoveReducer(channels=4).eval()(torch.tensor([[[1.0, 3.0], [0.0, 1.0]]]), steps=2)
    >>> out.Q.tolist(), [round(x, 4) for x in out.log_defects[0].tolist()]
    ([[[1, -3], [0, 1]]], [1.1513, 0.0, 0.0])
    """

    basis: torch.Tensor
    Q: torch.Tensor
    log_defects: torch.Tensor


class GaussMoveReducer(nn.Module):
    """Iterative, B_n-equivariant lattice reduction by extended Gauss moves.

    Input bases ``(batch, m, n)`` (float64, columns are basis vectors); any n >= 2 (the weights do
    not depend on n). ``prior=False`` drops the exact-gain term from the logits and starts the
    coefficients at random (learning from scratch); the network runs in ``dtype``, the bases,
    Gram matrices and coefficients in float64. ``forward`` returns a :class:`Reduction`; ``reduce`` is the numpy
    interface of the classical baselines (``(B Q, Q)``), keeping the best basis of the trajectory.

    >>> import torch
    >>> from steerable.lattice import GaussMoveReducer, is_unimodular
    >>> torch.manual_seed(0) and None
    >>> model = GaussMoveReducer(channels=8)
    >>> out = model(torch.randn(4, 5, 5, dtype=torch.float64), steps=6)
    >>> out.Q.dtype, is_unimodular(out.Q), tuple(out.log_defects.shape)
    (torch.int64, True, (4, 7))
    """

    def __init__(
        self, channels: int = 16, layers: int = 2, dtype: torch.dtype = torch.float32, prior: bool = True
    ) -> None:
        super().__init__()
        if not isinstance(prior, bool):
            raise TypeError(f"prior: expected a bool, got {type(prior).__name__}")
        self.prior = prior
        for name, v in (("channels", channels), ("layers", layers)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: expected a positive integer, got {v!r}")
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype: expected torch.float32 or torch.float64, got {dtype}")
        self.channels, self.n_layers = channels, layers
        self.node_in = _mlp(NODE_FEATURES, channels, channels)
        self.edge_in = _mlp(EDGE_FEATURES + 2 * NODE_FEATURES, channels, channels)
        self.layers = nn.ModuleList([BnGramLayer(channels) for _ in range(layers)])
        self.pivot = _mlp(2 * channels, channels, 2)
        self.coeff = nn.Linear(channels, 4)
        self.head_norm = nn.LayerNorm(channels)
        # log of the weight of the exact one-step defect decrease in the pivot logits
        self.gain_scale = nn.Parameter(torch.tensor(3.0))
        with torch.no_grad():
            # source moves start as size reduction against the pivot (c_ij = -T1_ij), target moves
            # as Babai rounding of the pivot against all others (c_ij = T2_ij)
            if prior:
                self.coeff.weight.mul_(0.01)
                self.coeff.bias.copy_(torch.tensor([-1.0, 0.0, 0.0, 1.0]))
                last = self.pivot[-1]
                if isinstance(last, nn.Linear):
                    last.weight.mul_(0.01)
                    last.bias.zero_()
        self.to(dtype)

    # ------------------------------------------------------------------ one step
    def _mix(
        self, h: torch.Tensor, e: torch.Tensor, grid: tuple[int, ...], i: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Hook of the convolutional variant: mix features across the grid after layer i."""
        return h, e

    def _scores(self, B: torch.Tensor, grid: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Learned logits ``(N, 2, n)`` of the 2n moves (source pivot j / target pivot i), their
        real coefficients ``(N, 2, n, n)`` (entry [., i, j]: add c_ij b_j to b_i) and the Gram
        matrix of ``B`` (float64)."""
        node, edge, odd = gram_features(B)
        n = B.shape[-1]
        dt = self.coeff.weight.dtype
        node_n, edge_n = node.to(dt), edge.to(dt)
        h = self.node_in(node_n)
        e_in = torch.cat(
            [edge_n, node_n[..., :, None, :].expand(-1, -1, n, -1), node_n[..., None, :, :].expand(-1, n, -1, -1)], -1
        )
        e = self.edge_in(e_in)
        for i, layer in enumerate(self.layers):
            h, e = layer(h, e)
            h, e = self._mix(h, e, grid, i)
        off = (~torch.eye(n, dtype=torch.bool, device=B.device)).to(e.dtype)
        into = (e * off[..., None]).sum(-3) / max(n - 1, 1)  # what vector j offers the others
        logits = self.pivot(torch.cat([h, into], -1)).to(B.dtype)
        ab = self.coeff(self.head_norm(e)).to(B.dtype).unflatten(-1, (2, 2))  # (N, n, n, move, basis)
        c = (ab * odd[..., None, :]).sum(-1) * off.to(B.dtype)[..., None]
        return logits.transpose(-1, -2), c.permute(0, 3, 1, 2), B.transpose(-1, -2) @ B

    def forward(
        self, B: torch.Tensor, steps: int | None = None, tau: float = 1.0, noise: float = 1.0, keep_best: bool = False
    ) -> Reduction:
        """Reduce a batch of bases ``(batch, m, n)`` with ``steps`` moves (default 2n).

        In training mode the trajectory is differentiable (straight-through rounding and pivot
        selection: softmax of temperature ``tau`` with Gumbel noise scaled by ``noise``); in eval mode it is deterministic, and
        ``keep_best`` returns the basis of least defect along the trajectory instead of the last.
        """
        B = self._check_input(B)
        return self._run(B, steps, tau, (), keep_best, noise)

    def _check_input(self, B: Any, grid_dims: int = 0) -> torch.Tensor:
        if not isinstance(B, torch.Tensor):
            raise TypeError(f"B: expected a torch.Tensor of bases, got {type(B).__name__}")
        want = 3 + grid_dims
        if B.ndim != want or B.shape[-2] < B.shape[-1] or B.shape[-1] < 2:
            shape = "(batch, " + "H, W, " * (grid_dims // 2) + "m, n)"
            raise ValueError(f"B: expected shape {shape} with m >= n >= 2, got {tuple(B.shape)}")
        if not torch.is_floating_point(B):
            raise TypeError(f"B: expected a floating point tensor, got {B.dtype}")
        if not torch.isfinite(B).all():
            raise ValueError("B: contains NaN or inf")
        return B.to(torch.float64)

    def _run(
        self,
        B: torch.Tensor,
        steps: int | None,
        tau: float,
        grid: tuple[int, ...],
        keep_best: bool = False,
        noise: float = 1.0,
    ) -> Reduction:
        lead, (m, n) = B.shape[:-2], B.shape[-2:]
        B = B.reshape(-1, m, n)
        N = B.shape[0]
        steps = 2 * n if steps is None else steps
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps: expected a non-negative integer, got {steps!r}")
        # Q holds integers in float64 (exact below 2^53, checked), so its products use BLAS
        eye = torch.eye(n, dtype=torch.float64, device=B.device)
        Q = eye.expand(N, n, n).clone()
        B0 = B
        cur = B
        log_vol = 0.5 * torch.linalg.slogdet(B.transpose(-1, -2) @ B)[1]  # unchanged by unimodular moves

        def log_defect(x: torch.Tensor) -> torch.Tensor:
            return torch.log(torch.linalg.vector_norm(x, dim=-2)).sum(-1) - log_vol

        defects = [_torch_log_defect(B)]
        keep_best = keep_best and not self.training
        best_q, best_d = Q.clone(), defects[0].clone()
        for _ in range(steps):
            logits, c, G = self._scores(cur, grid)
            c = torch.nan_to_num(c, nan=0.0, posinf=0.0, neginf=0.0).clamp(-(2.0**20), 2.0**20)
            c_int = torch.round(c)
            c_st = c + (c_int - c).detach()
            # exact decrease of the log defect of each move (the volume is unchanged)
            d = torch.diagonal(G, dim1=-2, dim2=-1)
            cs, ct = c_st[:, 0], c_st[:, 1]
            new_s = d[:, :, None] + 2 * cs * G + cs**2 * d[:, None, :]  # b_i + c_ij b_j, pivot j
            new_t = d + 2 * (ct * G).sum(-1) + torch.einsum("nij,njk,nik->ni", ct, G, ct)  # b_i + Σ_j c_ij b_j
            gain_s = 0.5 * (torch.log(d[:, :, None]) - torch.log(new_s.clamp_min(1e-300))).sum(-2)
            gain_t = 0.5 * (torch.log(d) - torch.log(new_t.clamp_min(1e-300)))
            gain = torch.stack([gain_s, gain_t], 1)  # (N, 2, n)
            if self.prior:
                logits = logits + torch.exp(self.gain_scale).to(logits.dtype) * gain
            logits = logits.reshape(N, 2 * n)
            active = torch.stack([(c_int[:, 0] != 0).any(-2), (c_int[:, 1] != 0).any(-1)], 1).reshape(N, 2 * n)
            none = ~active.any(-1)
            masked = logits.masked_fill(~active, float("-inf"))
            masked = torch.where(none[:, None], logits, masked)
            if self.training:
                g = -torch.log(-torch.log(torch.rand_like(logits).clamp(1e-12, 1 - 1e-12)))
                soft = torch.softmax((masked + noise * g) / tau, -1)
            else:
                soft = torch.softmax(masked, -1)
            hard = F.one_hot(soft.argmax(-1), 2 * n).to(soft.dtype) * (~none)[:, None].to(soft.dtype)
            w = (hard + soft - soft.detach() if self.training else hard).reshape(N, 2, n)
            hard_i = hard.detach().reshape(N, 2, n)
            ci = c_int.detach()
            # E[j, i]: coefficient of b_j added to b_i; source pivot j fills row j, target i column i
            E = w[:, 0, :, None] * cs.transpose(-1, -2) + w[:, 1, None, :] * ct.transpose(-1, -2)
            E_int = hard_i[:, 0, :, None] * ci[:, 0].transpose(-1, -2) + hard_i[:, 1, None, :] * ci[:, 1].transpose(
                -1, -2
            )
            Q = Q @ (eye + E_int)
            if Q.abs().max() >= 2.0**52:
                raise RuntimeError("the transformation's entries exceed 2^52; reduce with fewer steps")
            if self.training:
                cur = cur + cur @ E
            else:
                cur = B0 @ Q.to(B0.dtype)
            defects.append(log_defect(cur))
            if keep_best:
                better = defects[-1] < best_d - 1e-12
                best_q = torch.where(better[:, None, None], Q, best_q)
                best_d = torch.where(better, defects[-1], best_d)
        log_defects = torch.stack(defects, -1)
        if keep_best:
            Q, cur = best_q, B0 @ best_q.to(B0.dtype)
        Qi = Q.to(torch.int64).reshape(*lead, n, n)
        return Reduction(cur.reshape(*lead, m, n), Qi, log_defects.reshape(*lead, steps + 1))

    # ------------------------------------------------------------------ numpy interface
    def _best(self, B0: torch.Tensor, steps: int | None, grid_dims: int) -> tuple[np.ndarray, np.ndarray]:
        was = self.training
        self.eval()
        try:
            with torch.no_grad():
                x = self._check_input(B0, grid_dims)
                out = self._run(x, steps, 1.0, tuple(x.shape[1:3]) if grid_dims else (), keep_best=True)
        finally:
            self.train(was)
        return out.basis.numpy(), out.Q.numpy()

    def reduce(self, B: Any, steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Reduce numpy bases ``(m, n)`` or ``(batch, m, n)``; returns ``(B Q, Q)`` (Q int64).

        >>> import numpy as np
        >>> red, Q = GaussMoveReducer(channels=8).reduce(np.array([[1.0, 7.0], [0.0, 1.0]]))
        >>> Q.tolist()
        [[1, -7], [0, 1]]
        """
        arr = _check_bases(B, min_n=2)
        single = arr.ndim == 2
        x = torch.from_numpy(arr[None] if single else arr.reshape(-1, *arr.shape[-2:]))
        red, Q = self._best(x, steps, 0)
        if single:
            return red[0], Q[0]
        return red.reshape(arr.shape), Q.reshape(*arr.shape[:-2], arr.shape[-1], arr.shape[-1])


class ConvGaussMoveReducer(GaussMoveReducer):
    """The convolutional variant for grids of correlated lattices (e.g. MIMO channels over a
    time-frequency grid): input ``(batch, H, W, m, n)``; after every equivariant layer, the node
    and edge features of each lattice are mixed with those of its neighbours by a 3 x 3
    convolution over the grid (the same for every vector / pair, so B_n-equivariance holds for a
    signed permutation applied to the whole grid).

    >>> import torch
    >>> from steerable.lattice import ConvGaussMoveReducer
    >>> model = ConvGaussMoveReducer(channels=8)
    >>> out = model(torch.randn(2, 3, 3, 4, 4, dtype=torch.float64), steps=3)
    >>> tuple(out.Q.shape), tuple(out.log_defects.shape)
    ((2, 3, 3, 4, 4), (2, 3, 3, 4))
    """

    def __init__(
        self, channels: int = 16, layers: int = 2, dtype: torch.dtype = torch.float32, prior: bool = True
    ) -> None:
        super().__init__(channels, layers, dtype, prior)
        self.conv_h = nn.ModuleList([nn.Conv2d(channels, channels, 3, padding=1) for _ in range(layers)])
        self.conv_e = nn.ModuleList([nn.Conv2d(channels, channels, 3, padding=1) for _ in range(layers)])
        with torch.no_grad():
            for conv in [*self.conv_h, *self.conv_e]:
                conv.weight.mul_(0.1)
                conv.bias.zero_()
        self.to(dtype)

    def _mix(
        self, h: torch.Tensor, e: torch.Tensor, grid: tuple[int, ...], i: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        H, W = grid
        C = self.channels

        def conv(x: torch.Tensor, layer: nn.Module) -> torch.Tensor:
            shape = x.shape  # (b*H*W, *sites, C)
            y = x.reshape(-1, H, W, int(np.prod(shape[1:-1])), C).permute(0, 3, 4, 1, 2)
            b, s = y.shape[:2]
            z = layer(y.reshape(b * s, C, H, W)).reshape(b, s, C, H, W).permute(0, 3, 4, 1, 2)
            return x + z.reshape(shape)

        return conv(h, self.conv_h[i]), conv(e, self.conv_e[i])

    def forward(
        self, B: torch.Tensor, steps: int | None = None, tau: float = 1.0, noise: float = 1.0, keep_best: bool = False
    ) -> Reduction:
        """Reduce a batch of grids of bases ``(batch, H, W, m, n)`` (see :meth:`GaussMoveReducer.forward`)."""
        B = self._check_input(B, 2)
        return self._run(B, steps, tau, tuple(B.shape[1:3]), keep_best, noise)

    def reduce(self, B: Any, steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Reduce numpy grids ``(batch, H, W, m, n)``; returns ``(B Q, Q)``.

        >>> import numpy as np
        >>> red, Q = ConvGaussMoveReducer(channels=8).reduce(np.random.default_rng(0).normal(size=(1, 2, 2, 3, 3)))
        >>> Q.shape
        (1, 2, 2, 3, 3)
        """
        arr = _check_bases(B, min_n=2)
        if arr.ndim != 5:
            raise ValueError(f"B: expected a grid of bases (batch, H, W, m, n), got shape {arr.shape}")
        return self._best(torch.from_numpy(arr), steps, 2)
