"""Sheaves and layers: the persistent sheaf's gradients (gradcheck, float64), its independence of
the vertex numbering, permutation equivariance of every layer, shapes, bad input."""

import numpy as np
import pytest
import torch

from steerable.sheaf import (
    GCN,
    Sheaf,
    SheafAttention,
    SheafConv,
    SheafDiffusion,
    SheafNetwork,
    StalkActivation,
    constant_sheaf,
    direct_sum,
    local_homology_sheaf,
    persistent_local_homology_sheaf,
    rips_complex,
)


def cloud(n=18, seed=0):
    p = np.random.default_rng(seed).uniform(size=(n, 2))
    X = rips_complex(p, 0.5, max_dim=3)
    w = torch.as_tensor(np.linalg.norm(p[X.edges[:, 0]] - p[X.edges[:, 1]], axis=1))
    return p, X, w


def test_laplacian_is_coboundary_square_and_psd():
    _, X, w = cloud()
    for F in (local_homology_sheaf(X), persistent_local_homology_sheaf(X, w), constant_sheaf(X)):
        d = F.coboundary(torch.eye(F.n_rows, dtype=torch.float64))
        L = F.dense_laplacian()
        assert torch.allclose(L, d.T @ d, atol=1e-12)
        assert torch.linalg.eigvalsh(L).min() > -1e-10
        Ln = F.dense_laplacian(normalized=True)
        assert torch.allclose(Ln, Ln.T, atol=1e-12)


def test_constant_sheaf_is_graph_laplacian():
    _, X, _ = cloud()
    A = torch.zeros(X.n_vertices, X.n_vertices, dtype=torch.float64)
    e = torch.as_tensor(X.edges)
    A[e[:, 0], e[:, 1]] = A[e[:, 1], e[:, 0]] = 1
    assert torch.allclose(constant_sheaf(X).dense_laplacian(), torch.diag(A.sum(1)) - A)


def test_persistent_gradcheck():
    _, X, w = cloud(9, seed=3)
    w = w.clone().requires_grad_(True)
    probe = torch.randn(persistent_local_homology_sheaf(X, w).n_rows, 3, dtype=torch.float64)

    def f(w):
        F = persistent_local_homology_sheaf(X, w, horizon=3.0)
        return F.laplacian(probe), F.row_weight

    assert torch.autograd.gradcheck(f, (w,), eps=1e-7, atol=1e-6)
    assert torch.autograd.gradcheck(lambda w: persistent_local_homology_sheaf(X, w).values, (w,), eps=1e-7)


def test_persistent_sheaf_does_not_depend_on_numbering():
    p, X, w = cloud(20, seed=4)
    perm = np.random.default_rng(5).permutation(20)  # new id of vertex v is perm[v]
    q = np.empty_like(p)
    q[perm] = p
    Y = rips_complex(q, 0.5, max_dim=3)
    wy = torch.as_tensor(np.linalg.norm(q[Y.edges[:, 0]] - q[Y.edges[:, 1]], axis=1))
    F, G = persistent_local_homology_sheaf(X, w), persistent_local_homology_sheaf(Y, wy)
    Fp, idx = F.relabel(perm)
    assert torch.equal(Fp.stalk_dims, G.stalk_dims) and G.n_rows == F.n_rows
    assert torch.allclose(F.dense_laplacian()[idx][:, idx], G.dense_laplacian(), atol=1e-10)
    assert torch.allclose(F.row_weight[idx], G.row_weight)
    torch.manual_seed(0)
    net = SheafNetwork(G.n_kinds, 3, 8, 2, layers=2, attention=True).double()
    h = torch.randn(20, 3, dtype=torch.float64)
    hq = torch.empty_like(h)
    hq[perm] = h
    assert torch.allclose(net(h, F)[torch.as_tensor(np.argsort(perm))], net(hq, G), atol=1e-10)


def test_harmonic_sheaf_spectrum_does_not_depend_on_numbering():
    p, X, _ = cloud(16, seed=6)
    perm = np.random.default_rng(7).permutation(16)
    q = np.empty_like(p)
    q[perm] = p
    a = torch.linalg.eigvalsh(local_homology_sheaf(X).dense_laplacian())
    b = torch.linalg.eigvalsh(local_homology_sheaf(rips_complex(q, 0.5, max_dim=3)).dense_laplacian())
    assert torch.allclose(a, b, atol=1e-9)


@pytest.mark.parametrize("which", ["conv", "attention", "activation"])
def test_layers_permutation_equivariant_and_basis_rotation(which):
    _, X, w = cloud(16, seed=8)
    F = direct_sum(constant_sheaf(X), local_homology_sheaf(X))
    torch.manual_seed(1)
    layer = {"conv": SheafConv(4, 5, F.n_kinds), "attention": SheafAttention(4, 5, F.n_kinds)}.get(
        which, StalkActivation(4, F.n_kinds)
    ).double()
    x = torch.randn(F.n_rows, 4, dtype=torch.float64)
    perm = torch.randperm(16)
    Fp, idx = F.relabel(perm)
    y = layer(x, F)
    assert y.shape == (F.n_rows, 4 if which == "activation" else 5)
    assert torch.allclose(layer(x[idx], Fp), y[idx], atol=1e-10)
    # rotate every non-canonical stalk block by a random orthogonal matrix: outputs rotate alike
    Q = torch.eye(F.n_rows, dtype=torch.float64)
    for v in range(16):
        for k in range(1, F.n_kinds):
            r = ((F.node_of_row == v) & (F.kind_of_row == k)).nonzero().squeeze(1)
            if len(r) > 1:
                Q[r[:, None], r] = torch.linalg.qr(torch.randn(len(r), len(r), dtype=torch.float64))[0]
            elif len(r) == 1:
                Q[r, r] = -1.0
    d = F.coboundary(torch.eye(F.n_rows, dtype=torch.float64)) @ Q
    rr, cc = d.nonzero(as_tuple=True)
    FQ = Sheaf(16, F.node_of_row, F.kind_of_row, F.edge_index, F.edge_of_row, (rr, cc, d[rr, cc]), F.canonical)
    assert torch.allclose(layer(Q.T @ x, FQ), Q.T @ y, atol=1e-10)


def test_baselines_permutation_equivariant():
    _, X, _ = cloud(16, seed=9)
    ei = torch.as_tensor(X.edges.T.copy())
    torch.manual_seed(2)
    perm = torch.randperm(16)
    inv = torch.argsort(perm)
    h = torch.randn(16, 3, dtype=torch.float64)
    for net in (GCN(3, 8, 2).double(), SheafDiffusion(3, 4, 2, stalk_dim=2).double()):
        y = net(h, ei)
        assert y.shape == (16, 2)
        assert torch.allclose(net(h[inv], perm[ei]), y[inv], atol=1e-10)


def test_network_trains_and_gradients_reach_weights():
    _, X, w = cloud(16, seed=10)
    w = w.clone().requires_grad_(True)
    F = persistent_local_homology_sheaf(X, w)
    net = SheafNetwork(F.n_kinds, 2, 8, 3).double()
    loss = net(torch.randn(16, 2, dtype=torch.float64), F).logsumexp(1).sum()
    loss.backward()
    assert w.grad is not None and w.grad.abs().sum() > 0


def test_bad_input():
    _, X, w = cloud(10, seed=11)
    F = constant_sheaf(X)
    with pytest.raises(ValueError, match="x:"):
        SheafConv(3, 4)(torch.randn(F.n_rows + 1, 3), F)
    with pytest.raises(TypeError, match="sheaf"):
        SheafConv(3, 4)(torch.randn(F.n_rows, 3), "sheaf")
    with pytest.raises(ValueError, match="sheaf"):
        SheafConv(3, 4, n_kinds=2)(torch.randn(F.n_rows, 3), F)
    with pytest.raises(ValueError, match="in_channels"):
        SheafConv(0, 4)
    with pytest.raises(ValueError, match="features"):
        SheafNetwork(1, 3, 4, 2)(torch.randn(10, 2), F)
    with pytest.raises(ValueError, match="horizon"):
        persistent_local_homology_sheaf(X, w, horizon=0.0)
    with pytest.raises(ValueError, match="edge_weights"):
        persistent_local_homology_sheaf(X, w[:-1])
    with pytest.raises(ValueError, match="perm"):
        F.relabel([0] * 10)
    with pytest.raises(ValueError, match="edge_index"):
        GCN(3, 4, 2)(torch.randn(5, 3), torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="b:"):
        direct_sum(F, constant_sheaf(torch.tensor([[0], [1]]), 2))
