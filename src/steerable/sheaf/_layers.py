"""Layers on sheaves: sheaf convolution and attention (features in the stalks), the Neural Sheaf
Diffusion baseline with learned restriction maps, and a GCN baseline; node-classification models.

Features are ``(n_rows, C)``: one C-vector per stalk coordinate. Linear maps act on the channels
with one weight per row *kind* (e.g. per homological degree), so they commute with any change of
basis inside a kind's block; kinds whose basis is not intrinsic (``canonical`` False) get a norm
gate instead of a ReLU, which commutes with rotations of the block.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ._sheaf import Sheaf

__all__ = [
    "GCN",
    "GCNConv",
    "SheafAttention",
    "SheafConv",
    "SheafDiffusion",
    "SheafNetwork",
    "StalkActivation",
    "invariant_readout",
]


def _pos_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}: expected a positive int, got {value!r}")
    return int(value)


def _check_sheaf(sheaf: object, x: torch.Tensor, channels: int, n_kinds: int | None = None) -> Sheaf:
    if not isinstance(sheaf, Sheaf):
        raise TypeError(f"sheaf: expected a Sheaf, got {type(sheaf).__name__}")
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape != (sheaf.n_rows, channels):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x: expected shape ({sheaf.n_rows}, {channels}) (stalk rows, channels), got {shape}")
    if n_kinds is not None and sheaf.n_kinds != n_kinds:
        raise ValueError(f"sheaf: expected {n_kinds} row kinds (as built), got {sheaf.n_kinds}")
    return sheaf


def _kind_linear(x: torch.Tensor, kind: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    out = x.new_zeros(x.shape[0], weight.shape[2])
    for k in range(weight.shape[0]):
        m = (kind == k).nonzero().squeeze(1)
        if len(m):
            out = out.index_copy(0, m, x[m] @ weight[k])
    return out


def _block_norms(x: torch.Tensor, sheaf: Sheaf) -> tuple[torch.Tensor, torch.Tensor]:
    """Per (node, kind) block and channel: the squared norm (``(n·K, C)``) and each row's group id."""
    g = sheaf.node_of_row * sheaf.n_kinds + sheaf.kind_of_row
    sq = x.new_zeros(sheaf.n_nodes * sheaf.n_kinds, x.shape[1]).index_add(0, g, x * x)
    return sq, g


class StalkActivation(nn.Module):
    """ReLU on rows of canonical kinds; a norm gate x·sigmoid(‖x_block‖ + b) on the others.

    >>> import torch
    >>> from steerable.sheaf import SimplicialComplex, StalkActivation, local_homology_sheaf
    >>> F = local_homology_sheaf(SimplicialComplex([(0, 1, 2), (0, 2, 3), (0, 3, 4), (0, 4, 1)]))
    >>> StalkActivation(4, F.n_kinds)(torch.randn(F.n_rows, 4), F).shape
    torch.Size([1, 4])
    """

    def __init__(self, channels: int, n_kinds: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(_pos_int(n_kinds, "n_kinds"), _pos_int(channels, "channels")))

    def forward(self, x: torch.Tensor, sheaf: Sheaf) -> torch.Tensor:
        _check_sheaf(sheaf, x, self.bias.shape[1], self.bias.shape[0])
        canon = torch.tensor(sheaf.canonical, dtype=torch.bool)[sheaf.kind_of_row].unsqueeze(1)
        sq, g = _block_norms(x, sheaf)
        gate = torch.sigmoid(torch.sqrt(sq + 1e-12)[g] + self.bias[sheaf.kind_of_row])
        return torch.where(canon, torch.relu(x), x * gate)


class SheafConv(nn.Module):
    """Sheaf convolution (Hansen & Gebhart 2020): a diffusion step followed by learnable per-kind
    channel maps, ``y = (x − L̃ x) W[kind] + b[kind]``, L̃ the normalised sheaf Laplacian (the bias
    only on canonical kinds). On the constant sheaf this is exactly a GCN layer,
    ``D̃^{-1/2}(A + I)D̃^{-1/2} x W + b``. With ``self_weight`` the node's own stalk gets a separate
    map: ``y = x W_self[kind] − L̃ x W[kind] + b[kind]``.

    >>> import torch
    >>> from steerable.sheaf import SheafConv, constant_sheaf
    >>> F = constant_sheaf(torch.tensor([[0, 1], [1, 2]]), 3)
    >>> SheafConv(2, 5, n_kinds=1)(torch.randn(3, 2), F).shape
    torch.Size([3, 5])
    """

    def __init__(
        self, in_channels: int, out_channels: int, n_kinds: int = 1, normalized: bool = True, self_weight: bool = False
    ):
        super().__init__()
        ci, co = _pos_int(in_channels, "in_channels"), _pos_int(out_channels, "out_channels")
        k = _pos_int(n_kinds, "n_kinds")
        self.in_channels, self.out_channels, self.normalized = ci, co, bool(normalized)
        self.weight = nn.Parameter(torch.randn(k, ci, co) / math.sqrt(ci))
        self.self_weight = nn.Parameter(torch.randn(k, ci, co) / math.sqrt(ci)) if self_weight else None
        self.bias = nn.Parameter(torch.zeros(k, co))

    def _out(self, x: torch.Tensor, lx: torch.Tensor, sheaf: Sheaf) -> torch.Tensor:
        canon = torch.tensor(sheaf.canonical, dtype=x.dtype)[sheaf.kind_of_row].unsqueeze(1)
        kind = sheaf.kind_of_row
        if self.self_weight is None:
            y = _kind_linear(x - lx, kind, self.weight)
        else:
            y = _kind_linear(x, kind, self.self_weight) - _kind_linear(lx, kind, self.weight)
        return y + canon * self.bias[kind]

    def forward(self, x: torch.Tensor, sheaf: Sheaf) -> torch.Tensor:
        _check_sheaf(sheaf, x, self.in_channels, self.weight.shape[0])
        return self._out(x, sheaf.laplacian(x, normalized=self.normalized), sheaf)


def invariant_readout(x: torch.Tensor, sheaf: Sheaf) -> torch.Tensor:
    """Node features ``(n_nodes, n_kinds·C)`` that do not depend on the stalk bases: per kind, the
    sum of the rows (canonical kinds) or their norm (the others).

    >>> import torch
    >>> from steerable.sheaf import constant_sheaf, invariant_readout
    >>> invariant_readout(torch.ones(3, 2), constant_sheaf(torch.tensor([[0, 1], [1, 2]]), 3)).shape
    torch.Size([3, 2])
    """
    sq, g = _block_norms(x, sheaf)
    sm = x.new_zeros(sq.shape).index_add(0, g, x)
    canon = torch.tensor(sheaf.canonical, dtype=torch.bool).repeat(sheaf.n_nodes).unsqueeze(1)
    out = torch.where(canon, sm, torch.sqrt(sq + 1e-12))
    return out.reshape(sheaf.n_nodes, sheaf.n_kinds * x.shape[1])


class SheafAttention(nn.Module):
    """Sheaf attention: :class:`SheafConv` with each message weighted per directed edge by a softmax
    (over the node's edges, times its degree) of scores from basis-independent node features,
    ``y_u = (x_u − Σ_{e=(u,w)} α_uw F(u≤e)ᵀ(F(u≤e)x_u − F(w≤e)x_w) / s_u) W + b`` (normalised).

    >>> import torch
    >>> from steerable.sheaf import SheafAttention, constant_sheaf
    >>> F = constant_sheaf(torch.tensor([[0, 1], [1, 2]]), 3)
    >>> SheafAttention(2, 5, n_kinds=1)(torch.randn(3, 2), F).shape
    torch.Size([3, 5])
    """

    def __init__(self, in_channels: int, out_channels: int, n_kinds: int = 1, self_weight: bool = False):
        super().__init__()
        self.conv = SheafConv(in_channels, out_channels, n_kinds, self_weight=self_weight)
        self.score = nn.Linear(2 * n_kinds * in_channels, 1)

    def forward(self, x: torch.Tensor, sheaf: Sheaf) -> torch.Tensor:
        c = self.conv
        _check_sheaf(sheaf, x, c.in_channels, c.weight.shape[0])
        phi = invariant_readout(x, sheaf)
        ei = sheaf.edge_index
        m = ei.shape[1]
        recv, send = torch.cat([ei[0], ei[1]]), torch.cat([ei[1], ei[0]])
        s = nn.functional.leaky_relu(self.score(torch.cat([phi[recv], phi[send]], 1)).squeeze(1), 0.2)
        smax = s.new_full((sheaf.n_nodes,), -torch.inf).scatter_reduce(0, recv, s, "amax")
        ex = torch.exp(s - smax[recv])
        deg = torch.bincount(recv, minlength=sheaf.n_nodes).to(ex.dtype)
        alpha = deg[recv] * ex / ex.new_zeros(sheaf.n_nodes).index_add(0, recv, ex)[recv]
        e_of_t = sheaf.edge_of_row[sheaf.rows]
        directed = torch.where(sheaf.triplet_node == ei[0, e_of_t], e_of_t, e_of_t + m)
        scale = sheaf.degree_scale().to(x.dtype).rsqrt().unsqueeze(1)
        lx = scale * sheaf.coboundary_adjoint(sheaf.coboundary(scale * x), weight=alpha[directed].to(x.dtype))
        return c._out(x, lx, sheaf)


class SheafNetwork(nn.Module):
    """A node classifier on a sheaf: lift node features into the stalks (one linear map per kind,
    scaled by the sheaf's ``row_weight``), ``layers`` × (:class:`SheafConv` or
    :class:`SheafAttention`, :class:`StalkActivation`; ``self_weight`` as there), then a
    basis-independent readout and a linear classifier. The sheaf is an argument of ``forward``, so it may be rebuilt (e.g. from
    learned weights) at every step.

    >>> import torch
    >>> from steerable.sheaf import SheafNetwork, constant_sheaf
    >>> F = constant_sheaf(torch.tensor([[0, 1], [1, 2]]), 3)
    >>> SheafNetwork(F.n_kinds, in_features=4, hidden=8, n_classes=2)(torch.randn(3, 4), F).shape
    torch.Size([3, 2])
    """

    def __init__(
        self,
        n_kinds: int,
        in_features: int,
        hidden: int,
        n_classes: int,
        layers: int = 2,
        attention: bool = False,
        dropout: float = 0.0,
        self_weight: bool = False,
    ):
        super().__init__()
        k, h = _pos_int(n_kinds, "n_kinds"), _pos_int(hidden, "hidden")
        self.in_features = _pos_int(in_features, "in_features")
        self.lift = nn.Parameter(torch.randn(k, self.in_features, h) / math.sqrt(self.in_features))
        layer = SheafAttention if attention else SheafConv
        self.convs = nn.ModuleList([layer(h, h, k, self_weight=self_weight) for _ in range(_pos_int(layers, "layers"))])
        self.acts = nn.ModuleList([StalkActivation(h, k) for _ in range(layers)])
        self.dropout = float(dropout)
        self.head = nn.Linear(k * h, _pos_int(n_classes, "n_classes"))

    def forward(self, features: torch.Tensor, sheaf: Sheaf) -> torch.Tensor:
        if not isinstance(sheaf, Sheaf):
            raise TypeError(f"sheaf: expected a Sheaf, got {type(sheaf).__name__}")
        if features.dim() != 2 or features.shape != (sheaf.n_nodes, self.in_features):
            raise ValueError(
                f"features: expected shape ({sheaf.n_nodes}, {self.in_features}), got {tuple(features.shape)}"
            )
        x = _kind_linear(features[sheaf.node_of_row], sheaf.kind_of_row, self.lift)
        if sheaf.row_weight is not None:
            x = x * sheaf.row_weight.to(x.dtype).unsqueeze(1)
        for conv, act in zip(self.convs, self.acts):
            x = act(conv(nn.functional.dropout(x, self.dropout, self.training), sheaf), sheaf)
        return self.head(invariant_readout(x, sheaf))


def _norm_adjacency(edge_index: torch.Tensor, n: int, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
    loops = torch.arange(n)
    src = torch.cat([edge_index[0], edge_index[1], loops])
    dst = torch.cat([edge_index[1], edge_index[0], loops])
    deg = torch.zeros(n, dtype=dtype).index_add(0, dst, torch.ones(len(dst), dtype=dtype))
    return src, dst, deg.rsqrt()[src] * deg.rsqrt()[dst]


class GCNConv(nn.Module):
    """A graph convolution (Kipf & Welling 2017): ``D^{-1/2}(A + I)D^{-1/2} x W + b``.

    >>> import torch
    >>> from steerable.sheaf import GCNConv
    >>> GCNConv(3, 4)(torch.randn(5, 3), torch.tensor([[0, 1, 2], [1, 2, 3]])).shape
    torch.Size([5, 4])
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.lin = nn.Linear(_pos_int(in_channels, "in_channels"), _pos_int(out_channels, "out_channels"))

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        ei = torch.as_tensor(edge_index).long()
        if ei.dim() != 2 or ei.shape[0] != 2:
            raise ValueError(f"edge_index: expected shape (2, m), got {tuple(ei.shape)}")
        if ei.numel() and (ei.min() < 0 or ei.max() >= x.shape[0]):
            raise ValueError(f"edge_index: expected node ids in [0, {x.shape[0]})")
        src, dst, w = _norm_adjacency(ei, x.shape[0], x.dtype)
        h = self.lin(x)
        return h.new_zeros(h.shape).index_add(0, dst, w.unsqueeze(1) * h[src])


class GCN(nn.Module):
    """The GCN baseline: ``layers`` graph convolutions with ReLU and dropout, then a linear head.

    >>> import torch
    >>> from steerable.sheaf import GCN
    >>> GCN(3, 8, 2)(torch.randn(5, 3), torch.tensor([[0, 1, 2], [1, 2, 3]])).shape
    torch.Size([5, 2])
    """

    def __init__(self, in_features: int, hidden: int, n_classes: int, layers: int = 2, dropout: float = 0.0):
        super().__init__()
        dims = [_pos_int(in_features, "in_features")] + [_pos_int(hidden, "hidden")] * _pos_int(layers, "layers")
        self.convs = nn.ModuleList([GCNConv(a, b) for a, b in zip(dims[:-1], dims[1:])])
        self.head = nn.Linear(hidden, _pos_int(n_classes, "n_classes"))
        self.dropout = float(dropout)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = torch.relu(conv(nn.functional.dropout(x, self.dropout, self.training), edge_index))
        return self.head(x)


class SheafDiffusion(nn.Module):
    """The Neural Sheaf Diffusion baseline (Bodnar et al. 2022): stalks ℝ^d on every node,
    restriction maps learned from the features of an edge's endpoints (``tanh`` of a linear map,
    d×d), ``x ← x − σ(L̃_F (I ⊗ W₁) x W₂)`` per layer, then a linear head on the flattened stalks.

    >>> import torch
    >>> from steerable.sheaf import SheafDiffusion
    >>> SheafDiffusion(3, 8, 2, stalk_dim=2)(torch.randn(5, 3), torch.tensor([[0, 1, 2], [1, 2, 3]])).shape
    torch.Size([5, 2])
    """

    def __init__(
        self, in_features: int, hidden: int, n_classes: int, stalk_dim: int = 2, layers: int = 2, dropout: float = 0.0
    ):
        super().__init__()
        self.d, self.h = _pos_int(stalk_dim, "stalk_dim"), _pos_int(hidden, "hidden")
        self.lift = nn.Linear(_pos_int(in_features, "in_features"), self.d * self.h)
        L = _pos_int(layers, "layers")
        self.maps = nn.ModuleList([nn.Linear(2 * self.d * self.h, self.d * self.d) for _ in range(L)])
        self.w1 = nn.ParameterList([nn.Parameter(torch.eye(self.d)) for _ in range(L)])
        self.w2 = nn.ModuleList([nn.Linear(self.h, self.h, bias=False) for _ in range(L)])
        self.head = nn.Linear(self.d * self.h, _pos_int(n_classes, "n_classes"))
        self.dropout = float(dropout)

    def sheaf(self, x: torch.Tensor, edge_index: torch.Tensor, layer: int = 0) -> Sheaf:
        """The learned sheaf of ``layer`` for stalk features ``x`` (``(n, d, hidden)``)."""
        n, d = x.shape[0], self.d
        u, w = edge_index
        flat = x.reshape(n, -1)
        m = edge_index.shape[1]
        Ru = torch.tanh(self.maps[layer](torch.cat([flat[u], flat[w]], 1))).view(m, d, d)
        Rw = torch.tanh(self.maps[layer](torch.cat([flat[w], flat[u]], 1))).view(m, d, d)
        a, b = torch.meshgrid(torch.arange(d), torch.arange(d), indexing="ij")
        rows = (torch.arange(m).view(m, 1, 1) * d + a).reshape(-1)
        cu = (u.view(m, 1, 1) * d + b).reshape(-1)
        cw = (w.view(m, 1, 1) * d + b).reshape(-1)
        return Sheaf(
            n,
            torch.arange(n).repeat_interleave(d),
            torch.zeros(n * d, dtype=torch.long),
            edge_index,
            torch.arange(m).repeat_interleave(d),
            (torch.cat([rows, rows]), torch.cat([cu, cw]), torch.cat([-Ru.reshape(-1), Rw.reshape(-1)])),
            (True,),
        )

    def forward(self, features: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        ei = torch.as_tensor(edge_index).long()
        if ei.dim() != 2 or ei.shape[0] != 2:
            raise ValueError(f"edge_index: expected shape (2, m), got {tuple(ei.shape)}")
        n = features.shape[0]
        x = self.lift(nn.functional.dropout(features, self.dropout, self.training)).view(n, self.d, self.h)
        for i in range(len(self.maps)):
            F = self.sheaf(x, ei, i)
            y = torch.einsum("ij,njc->nic", self.w1[i], x)
            y = self.w2[i](y).reshape(n * self.d, self.h)
            x = x - torch.nn.functional.elu(F.laplacian(y)).view(n, self.d, self.h)
            x = nn.functional.dropout(x, self.dropout, self.training)
        return self.head(x.reshape(n, -1))
