"""Classical baselines: our LLL is LLL-reduced (size and Lovász conditions, checked from an
independent QR), Q is exactly unimodular, it matches fpylll when installed; Seysen and size
reduction; orthogonality defect; bad input."""

from __future__ import annotations

import numpy as np
import pytest

from steerable.lattice import (
    fpylll_lll,
    is_lll_reduced,
    is_unimodular,
    lll_reduce,
    log_orthogonality_defect,
    orthogonality_defect,
    random_lattices,
    seysen_reduce,
    size_reduce,
)


def _gso(B):
    """Gram–Schmidt coefficients μ (μ[i, j] for j < i) and squared norms, by plain recursion."""
    n = B.shape[1]
    bs = np.zeros_like(B)
    mu = np.eye(n)
    for i in range(n):
        v = B[:, i].copy()
        for j in range(i):
            mu[i, j] = B[:, i] @ bs[:, j] / (bs[:, j] @ bs[:, j])
            v -= mu[i, j] * bs[:, j]
        bs[:, i] = v
    return mu, (bs**2).sum(0)


@pytest.mark.parametrize("family", ["gaussian", "ill_conditioned", "scrambled"])
@pytest.mark.parametrize("delta", [0.75, 0.99])
def test_lll_output_is_reduced_and_unimodular(family, delta):
    B = random_lattices(6, 8, family, seed=1)
    red, Q = lll_reduce(B, delta)
    assert Q.dtype == np.int64 and is_unimodular(Q)
    np.testing.assert_allclose(red, B @ Q, rtol=0, atol=1e-9 * np.abs(red).max())
    for b in red:
        mu, nb = _gso(b)
        assert np.all(np.abs(np.tril(mu, -1)) <= 0.5 + 1e-6)  # size condition
        for k in range(1, 8):  # Lovász condition
            assert nb[k] >= (delta - mu[k, k - 1] ** 2) * nb[k - 1] * (1 - 1e-6)
    assert is_lll_reduced(red, delta)
    assert (log_orthogonality_defect(red) <= log_orthogonality_defect(B) + 1e-9).all()


def test_is_lll_reduced_detects_violations():
    assert not is_lll_reduced(np.array([[1.0, 0.7], [0.0, 1.0]]))  # size condition
    assert not is_lll_reduced(np.array([[1.0, 0.0], [0.0, 0.1]]))  # Lovász condition
    assert is_lll_reduced(np.array([[1.0, 0.0], [0.0, 0.1]]), delta=0.26) is False
    assert is_lll_reduced(np.array([[0.1, 0.0], [0.0, 1.0]]))


def test_larger_delta_gives_no_worse_first_vector_on_average():
    B = random_lattices(30, 12, seed=2)
    a = np.linalg.norm(lll_reduce(B, 0.75)[0][:, :, 0], axis=-1)
    b = np.linalg.norm(lll_reduce(B, 0.99)[0][:, :, 0], axis=-1)
    assert b.mean() <= a.mean() + 1e-12
    assert (
        log_orthogonality_defect(lll_reduce(B, 0.99)[0]).mean()
        < log_orthogonality_defect(lll_reduce(B, 0.75)[0]).mean()
    )


def test_lll_recovers_scrambled_cubic_lattice():
    rng = np.random.default_rng(0)
    U = np.eye(6, dtype=np.int64)
    for _ in range(30):
        i, j = rng.choice(6, 2, replace=False)
        U[:, i] += rng.choice([-1, 1]) * U[:, j]
    red, Q = lll_reduce(U.astype(float), 0.99)
    np.testing.assert_allclose(orthogonality_defect(red), 1.0, atol=1e-9)
    assert is_unimodular(Q)


def test_size_reduction_and_seysen():
    B = random_lattices(10, 6, "scrambled", seed=3)
    red, Q = size_reduce(B)
    assert is_unimodular(Q)
    for b in red:
        mu, _ = _gso(b)
        assert np.all(np.abs(np.tril(mu, -1)) <= 0.5 + 1e-6)
    red_s, Qs = seysen_reduce(B)
    assert is_unimodular(Qs)
    assert (log_orthogonality_defect(red_s) < log_orthogonality_defect(B)).all()

    def seysen_measure(x):
        g = np.swapaxes(x, -1, -2) @ x
        return (np.diagonal(g, axis1=-2, axis2=-1) * np.diagonal(np.linalg.inv(g), axis1=-2, axis2=-1)).sum(-1)

    assert (seysen_measure(red_s) <= seysen_measure(B) + 1e-9).all()


def test_single_basis_and_defect_values():
    B = np.array([[2.0, 1.0], [0.0, 1.0]])
    red, Q = lll_reduce(B)
    assert red.shape == (2, 2) and Q.shape == (2, 2)
    np.testing.assert_allclose(orthogonality_defect(B), np.sqrt(2.0))
    # invariance of the defect to isometries and scaling, and to signed permutations
    R = np.linalg.qr(np.random.default_rng(0).normal(size=(2, 2)))[0]
    np.testing.assert_allclose(orthogonality_defect(3.0 * R @ B), orthogonality_defect(B))
    np.testing.assert_allclose(orthogonality_defect(B[:, ::-1] * [1, -1]), orthogonality_defect(B))


def test_is_unimodular_exact():
    assert is_unimodular(np.array([[2, 3], [1, 2]]))
    assert not is_unimodular(np.array([[2, 3], [1, 1.5]]))
    assert not is_unimodular(np.array([[2, 0], [0, 1]]))
    big = np.array([[1, 2**40], [0, 1]], dtype=np.int64)
    assert is_unimodular(big)


def test_matches_fpylll():
    pytest.importorskip("fpylll")
    from fpylll import LLL, IntegerMatrix

    rng = np.random.default_rng(4)
    for delta in (0.75, 0.99):
        Bs = rng.integers(-50, 51, size=(8, 10, 10)).astype(float)
        ours, Q = lll_reduce(Bs, delta)
        theirs, Qf = fpylll_lll(Bs, delta)
        assert is_unimodular(Qf)
        assert is_lll_reduced(theirs, delta, eta=0.51)
        for b in ours:  # fpylll accepts our output as LLL reduced
            A = IntegerMatrix.from_matrix([[int(round(x)) for x in row] for row in b.T])
            assert LLL.is_reduced(A, delta=delta, eta=0.51)
        # same lattice: the change of basis between the two reduced bases is unimodular
        for a, t in zip(ours, theirs):
            assert is_unimodular(np.rint(np.linalg.solve(a, t)).astype(np.int64))
            np.testing.assert_allclose(a @ np.rint(np.linalg.solve(a, t)), t, atol=1e-8)
        la, lt = log_orthogonality_defect(ours).mean(), log_orthogonality_defect(theirs).mean()
        assert abs(la - lt) <= 0.1 * lt + 0.05


def test_bad_input():
    with pytest.raises(ValueError, match="delta"):
        lll_reduce(np.eye(3), delta=0.2)
    with pytest.raises(ValueError, match="delta"):
        lll_reduce(np.eye(3), delta=1.5)
    with pytest.raises(ValueError, match="B:"):
        lll_reduce(np.ones(3))
    with pytest.raises(ValueError, match="B:"):
        lll_reduce(np.ones((2, 3)))  # more vectors than dimensions
    with pytest.raises(ValueError, match="B:"):
        lll_reduce(np.array([[np.nan, 0.0], [0.0, 1.0]]))
    with pytest.raises(TypeError, match="B:"):
        lll_reduce([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="linearly dependent"):
        log_orthogonality_defect(np.ones((2, 2)))
    with pytest.raises(ValueError, match="max_iter"):
        seysen_reduce(np.eye(2), max_iter=0)
    with pytest.raises(ValueError, match="Q:"):
        is_unimodular(np.ones((2, 3)))
