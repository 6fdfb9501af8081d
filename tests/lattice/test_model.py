"""The Gauss-move reducers: Q integer-exact with det ±1, invariance to isometries and scaling of
the ambient space, equivariance to signed permutations of the basis (B_n), the equivariant
layers, the convolutional grid variant, training, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from steerable.group import hyperoctahedral_group
from steerable.lattice import (
    BnGramLayer,
    ConvGaussMoveReducer,
    GaussMoveReducer,
    apply_signed_permutation,
    gram_features,
    is_unimodular,
    log_orthogonality_defect,
    mimo_lattice_grid,
    random_lattices,
    signed_permutation_matrices,
    size_reduce,
    train_reducer,
)

torch.set_num_threads(1)


def _model(cls=GaussMoveReducer, seed=0):
    torch.manual_seed(seed)
    m = cls(channels=8)
    with torch.no_grad():  # move away from the initialisation so the network part matters
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return m.eval()


def _orthogonal(m, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(m, m)))
    return q


@pytest.mark.parametrize("family", ["gaussian", "ill_conditioned", "scrambled"])
def test_q_is_exactly_unimodular_and_gives_the_basis(family):
    B = random_lattices(16, 6, family, seed=1)
    model = _model()
    red, Q = model.reduce(B, steps=12)
    assert Q.dtype == np.int64 and is_unimodular(Q)
    np.testing.assert_allclose(red, B @ Q.astype(float), rtol=0, atol=1e-9 * np.abs(red).max())
    # keep_best: never worse than the input
    assert (log_orthogonality_defect(red) <= log_orthogonality_defect(B) + 1e-12).all()
    # the trajectory of the forward pass in training mode stays exactly unimodular too
    model.train()
    out = model(torch.from_numpy(B), steps=5)
    assert out.Q.dtype == torch.int64 and is_unimodular(out.Q)
    torch.testing.assert_close(out.basis, torch.from_numpy(B) @ out.Q.double(), rtol=1e-9, atol=1e-9)


def test_untrained_model_reduces_like_the_heuristics_it_starts_from():
    B = random_lattices(32, 8, seed=2)
    red, _ = GaussMoveReducer().reduce(B)
    ours = log_orthogonality_defect(red).mean()
    assert ours < log_orthogonality_defect(size_reduce(B)[0]).mean()
    assert ours < 0.4 * log_orthogonality_defect(B).mean()


def test_invariance_to_isometries_and_scaling():
    model = _model(seed=1)
    B = random_lattices(12, 5, seed=3)
    _, Q = model.reduce(B, steps=10)
    # rotations / reflections of the ambient space and scaling
    for k, scale in enumerate([1.0, 3.7, 1e-3]):
        R = _orthogonal(5, k)
        _, Q2 = model.reduce(scale * (R @ B), steps=10)
        np.testing.assert_array_equal(Q2, Q)
    # a lattice embedded in a larger ambient space (m = 7 > n = 5), then rotated there
    emb = np.concatenate([B, np.zeros((12, 2, 5))], axis=1)
    _, Q3 = model.reduce(_orthogonal(7, 5) @ emb, steps=10)
    np.testing.assert_array_equal(Q3, Q)


def test_equivariance_to_signed_permutations():
    model = _model(seed=2)
    n = 6
    B = random_lattices(10, n, seed=4)
    red, Q = model.reduce(B, steps=12)
    G = hyperoctahedral_group(n)
    for g in G.sample(4, seed=5):
        M = G.standard_representation(g)
        Bg = apply_signed_permutation(B, g)
        red_g, Q_g = model.reduce(Bg, steps=12)
        Mi = M.astype(np.int64)
        np.testing.assert_array_equal(Q_g, Mi.T @ Q @ Mi)  # Q(BM) = Mᵀ Q(B) M
        np.testing.assert_allclose(red_g, red @ M, atol=1e-9)
    # a model that ignored the symmetry would fail this: the move order depends on the basis
    assert not np.array_equal(Q, np.repeat(np.eye(n, dtype=np.int64)[None], len(Q), 0))


def test_gram_features_transform_as_claimed():
    n = 5
    B = torch.from_numpy(random_lattices(3, n, seed=6))
    node, edge, odd = gram_features(B)
    for M in signed_permutation_matrices(n, 3, seed=7):
        p = np.argmax(np.abs(M), axis=0)  # b'_i = s_i b_p(i)
        s = torch.from_numpy(M[p, np.arange(n)])
        node2, edge2, odd2 = gram_features(B @ torch.from_numpy(M))
        torch.testing.assert_close(node2, node[:, p])
        torch.testing.assert_close(edge2, edge[:, p][:, :, p])
        torch.testing.assert_close(odd2, odd[:, p][:, :, p] * (s[:, None] * s[None, :])[None, :, :, None])
    # invariance to isometries and scaling
    R = torch.from_numpy(_orthogonal(n, 1))
    for a, b in zip(gram_features(2.5 * R @ B), (node, edge, odd)):
        torch.testing.assert_close(a, b)


def test_bn_layer_is_permutation_equivariant():
    torch.manual_seed(0)
    layer = BnGramLayer(6).double()
    h, e = torch.randn(2, 7, 6, dtype=torch.float64), torch.randn(2, 7, 7, 6, dtype=torch.float64)
    p = torch.randperm(7)
    h1, e1 = layer(h, e)
    h2, e2 = layer(h[:, p], e[:, p][:, :, p])
    torch.testing.assert_close(h2, h1[:, p])
    torch.testing.assert_close(e2, e1[:, p][:, :, p])
    # the diagonal is ignored by the aggregations, so the node update does not read e_ii
    e3 = e.clone()
    e3[:, torch.arange(7), torch.arange(7)] += 10.0
    torch.testing.assert_close(layer(h, e3)[0], h1)


def test_conv_variant_equivariance_and_coupling():
    model = _model(ConvGaussMoveReducer, seed=3)
    grid = mimo_lattice_grid(2, 4, 3, 4, seed=8)
    red, Q = model.reduce(grid, steps=6)
    assert Q.shape == (2, 3, 4, 4, 4) and is_unimodular(Q)
    G = hyperoctahedral_group(4)
    g = G.sample(seed=9)
    M = G.standard_representation(g)
    _, Q_g = model.reduce(grid @ M, steps=6)  # the same signed permutation on the whole grid
    Mi = M.astype(np.int64)
    np.testing.assert_array_equal(Q_g, Mi.T @ Q @ Mi)
    # rotating each lattice of the grid by its own isometry changes nothing
    R = np.stack([_orthogonal(4, k) for k in range(12)]).reshape(1, 3, 4, 4, 4)
    np.testing.assert_array_equal(model.reduce(R @ grid, steps=6)[1], Q)
    # neighbouring lattices talk: changing one lattice changes a neighbour's scores
    x = torch.from_numpy(grid)
    y = x.clone()
    y[:, 0, 0] = torch.from_numpy(random_lattices(2, 4, seed=10))
    with torch.no_grad():
        s1 = model._scores(x.reshape(-1, 4, 4), (3, 4))[0].reshape(2, 3, 4, 2, 4)
        s2 = model._scores(y.reshape(-1, 4, 4), (3, 4))[0].reshape(2, 3, 4, 2, 4)
    assert not torch.allclose(s1[:, 0, 1], s2[:, 0, 1])
    torch.testing.assert_close(s1[:, 2, 3], s2[:, 2, 3])  # beyond the receptive field (2 layers of 3x3)


def test_training_runs_updates_parameters_and_keeps_q_exact():
    torch.manual_seed(0)
    model = GaussMoveReducer(channels=8)
    before = [p.detach().clone() for p in model.parameters()]
    losses = train_reducer(model, n=5, iterations=4, batch_size=16, steps=6)
    assert len(losses) == 4 and np.isfinite(losses).all()
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert not model.training
    _, Q = model.reduce(random_lattices(8, 5, seed=11))
    assert is_unimodular(Q)
    conv = ConvGaussMoveReducer(channels=8)
    losses = train_reducer(
        conv,
        n=4,
        iterations=2,
        batch_size=2,
        steps=3,
        sampler=lambda b, r: mimo_lattice_grid(b, 4, 3, 3, seed=int(r.integers(1000))),
    )
    assert np.isfinite(losses).all()


def test_bad_input():
    model = GaussMoveReducer(channels=4)
    with pytest.raises(TypeError, match="B:"):
        model(np.eye(3)[None])
    with pytest.raises(ValueError, match="B:"):
        model(torch.randn(3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="B:"):
        model(torch.randn(2, 2, 3, dtype=torch.float64))
    with pytest.raises(TypeError, match="B:"):
        model(torch.ones(2, 3, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="B:"):
        model(torch.full((1, 3, 3), float("nan")))
    with pytest.raises(ValueError, match="steps"):
        model(torch.randn(1, 3, 3), steps=-1)
    with pytest.raises(ValueError, match="channels"):
        GaussMoveReducer(channels=0)
    with pytest.raises(ValueError, match="B:"):
        ConvGaussMoveReducer(channels=4).reduce(np.random.default_rng(0).normal(size=(2, 3, 3)))
    with pytest.raises(ValueError, match="sampler"):
        train_reducer(ConvGaussMoveReducer(channels=4), n=3, iterations=1)
    with pytest.raises(TypeError, match="model"):
        train_reducer("model", n=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="family"):
        train_reducer(model, n=3, family="nope")
    with pytest.raises(ValueError, match="g:"):
        apply_signed_permutation(np.eye(3), hyperoctahedral_group(4).identity)
