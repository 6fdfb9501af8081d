"""Gram-matrix features and B_n-equivariant layers on the basis vectors of a lattice.

The hyperoctahedral group B_n acts on a basis by signed permutations of its vectors,
``B ↦ B M`` (``M`` a signed permutation matrix; b'_i = s_i b_π(i)), hence on the Gram matrix by
``G ↦ Mᵀ G M`` (G'_ij = s_i s_j G_π(i)π(j)). The features here are

* *node* features per basis vector (invariant to its sign, permuted with it),
* *edge* features per ordered pair (i, j) (invariant to both signs, permuted as pairs),
* *odd* edge features that pick up s_i s_j — the candidate Gauss-move coefficients.

All are functions of the normalised Gram matrix, hence invariant to isometries and scaling of
the ambient space. :class:`BnGramLayer` is message passing between nodes and edges with mean and
max aggregation over the other vectors, so it commutes with every permutation; since its inputs
are sign invariant, it commutes with all of B_n.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["EDGE_FEATURES", "NODE_FEATURES", "BnGramLayer", "gram_features"]

NODE_FEATURES = 2
"""Node features of :func:`gram_features`: log of the relative squared norm, log(‖b_i‖² ‖b_i^*‖²)."""
EDGE_FEATURES = 6
"""Edge features of :func:`gram_features` (all invariant to the signs)."""


def gram_features(B: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(node ``(..., n, 2)``, edge ``(..., n, n, 6)``, odd ``(..., n, n, 2)``) features of bases
    ``B`` of shape ``(..., m, n)`` (columns are basis vectors).

    With G = BᵀB and H = G⁻¹ (the dual Gram matrix): node features log(G_ii / geometric mean) and
    log(G_ii H_ii) (0 iff b_i is orthogonal to the others); edge features the cosines |G_ij|/√(G_ii
    G_jj), the same for H, their product, log(1 + |T1|), log(1 + |T2|) and T1·T2; odd features
    T1_ij = G_ij / G_jj (the coefficient of b_j in the projection of b_i, size reduction) and
    T2_ij = H_ij / H_ii (its dual, Seysen's). ``b_i ← b_i − round(T1_ij) b_j`` is a Lagrange step.

    >>> import torch
    >>> from steerable.lattice import gram_features
    >>> node, edge, odd = gram_features(torch.eye(3, dtype=torch.float64)[None])
    >>> node.shape, edge.shape, odd.shape
    (torch.Size([1, 3, 2]), torch.Size([1, 3, 3, 6]), torch.Size([1, 3, 3, 2]))
    """
    if not isinstance(B, torch.Tensor):
        raise TypeError(f"B: expected a torch.Tensor, got {type(B).__name__}")
    if B.ndim < 2 or B.shape[-2] < B.shape[-1]:
        raise ValueError(f"B: expected shape (..., m, n) with m >= n, got {tuple(B.shape)}")
    G = B.transpose(-1, -2) @ B
    d = torch.diagonal(G, dim1=-2, dim2=-1)
    H = torch.linalg.inv(G)
    h = torch.diagonal(H, dim1=-2, dim2=-1)
    logd = torch.log(d)
    node = torch.stack([logd - logd.mean(-1, keepdim=True), torch.log((d * h).clamp_min(1.0))], -1)
    gn = G / torch.sqrt(d[..., :, None] * d[..., None, :])
    hn = H / torch.sqrt(h[..., :, None] * h[..., None, :])
    t1 = G / d[..., None, :]
    t2 = H / h[..., :, None]
    edge = torch.stack(
        [gn.abs(), hn.abs(), gn * hn, torch.log1p(t1.abs()), torch.log1p(t2.abs()), torch.tanh(t1 * t2)], -1
    )
    odd = torch.stack([t1, t2], -1)
    return node, edge, odd


def _mlp(d_in: int, d_hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.SiLU(), nn.Linear(d_hidden, d_out))


class BnGramLayer(nn.Module):
    """One B_n-equivariant message-passing layer on node features ``(..., n, C)`` and edge
    features ``(..., n, n, C)`` (residual updates; the diagonal i = j is ignored by the
    aggregations):

    h_i ← h_i + MLP(h_i, mean_j e_ij, mean_j e_ji, max_j e_ij, mean_k h_k),
    e_ij ← e_ij + W σ(A e_ij + A' e_ji + U h_i + V h_j + Z mean_k h_k).

    >>> import torch
    >>> from steerable.lattice import BnGramLayer
    >>> layer = BnGramLayer(8)
    >>> h, e = layer(torch.randn(2, 5, 8), torch.randn(2, 5, 5, 8))
    >>> h.shape, e.shape
    (torch.Size([2, 5, 8]), torch.Size([2, 5, 5, 8]))
    """

    def __init__(self, channels: int, hidden: int | None = None) -> None:
        super().__init__()
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ValueError(f"channels: expected a positive integer, got {channels!r}")
        hidden = channels if hidden is None else hidden
        self.channels = channels
        self.node_mlp = _mlp(5 * channels, hidden, channels)
        self.edge_pair = nn.Linear(2 * channels, hidden)
        self.edge_nodes = nn.Linear(channels, 3 * hidden, bias=False)
        self.edge_out = nn.Linear(hidden, channels)
        self.hidden = hidden

    def forward(self, h: torch.Tensor, e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = h.shape[-2]
        if e.shape[-3:] != (n, n, self.channels) or h.shape[-1] != self.channels:
            raise ValueError(
                f"h, e: expected (..., n, {self.channels}) and (..., n, n, {self.channels}), "
                f"got {tuple(h.shape)} and {tuple(e.shape)}"
            )
        off = ~torch.eye(n, dtype=torch.bool, device=h.device)
        offf = off[..., None].to(e.dtype)
        k = max(n - 1, 1)
        out_mean = (e * offf).sum(-2) / k
        in_mean = (e * offf).sum(-3) / k
        neg = torch.finfo(e.dtype).min
        out_max = e.masked_fill(~off[..., None], neg).amax(-2) if n > 1 else torch.zeros_like(h)
        glob = h.mean(-2, keepdim=True).expand_as(h)
        h = h + self.node_mlp(torch.cat([h, out_mean, in_mean, out_max, glob], -1))
        u, v, z = self.edge_nodes(h).split(self.hidden, -1)
        pre = self.edge_pair(torch.cat([e, e.transpose(-2, -3)], -1))
        pre = pre + u[..., :, None, :] + v[..., None, :, :] + z.mean(-2, keepdim=True)[..., None, :]
        e = e + self.edge_out(torch.nn.functional.silu(pre))
        return h, e
