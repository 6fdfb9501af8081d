"""Classical lattice reduction baselines: LLL (a floating-point numpy implementation with
parameter δ, and fpylll's when installed), size reduction and Seysen's greedy reduction.

Every function takes a basis (columns are basis vectors) ``(m, n)`` or a batch ``(b, m, n)`` and
returns ``(B Q, Q)`` with ``Q`` an int64 unimodular matrix (batched like the input).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._defect import _check_bases

__all__ = ["fpylll_lll", "is_lll_reduced", "lll_reduce", "seysen_reduce", "size_reduce"]


def _batched(fn, B: np.ndarray, *args: Any) -> tuple[np.ndarray, np.ndarray]:
    if B.ndim == 2:
        return fn(B, *args)
    flat = B.reshape(-1, *B.shape[-2:])
    outs = [fn(b, *args) for b in flat]
    red = np.stack([o[0] for o in outs]).reshape(B.shape)
    qs = np.stack([o[1] for o in outs]).reshape(*B.shape[:-2], B.shape[-1], B.shape[-1])
    return red, qs


def _check_delta(delta: Any) -> float:
    if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not 0.25 < float(delta) <= 1.0:
        raise ValueError(f"delta: expected a number in (0.25, 1], got {delta!r}")
    return float(delta)


def _gso_row(b: np.ndarray, bstar: np.ndarray, bnorm: np.ndarray, mu: np.ndarray, k: int) -> None:
    """Recompute row k of the Gram–Schmidt data (modified Gram–Schmidt against b*_0..b*_{k-1})."""
    v = b[:, k].copy()
    for j in range(k):
        mu[k, j] = (v @ bstar[:, j]) / bnorm[j]
        v -= mu[k, j] * bstar[:, j]
    bstar[:, k] = v
    bnorm[k] = v @ v
    mu[k, k] = 1.0


def _size_reduce_vector(b: np.ndarray, q: np.ndarray, bstar, bnorm, mu, k: int) -> None:
    """Make |μ_kj| <= 1/2 for all j < k (repeated while floating point leaves a large μ)."""
    for _ in range(20):
        changed = False
        for j in range(k - 1, -1, -1):
            c = np.rint(mu[k, j])
            if c != 0:
                b[:, k] -= c * b[:, j]
                q[:, k] -= int(c) * q[:, j]
                mu[k, :j] -= c * mu[j, :j]
                mu[k, j] -= c
                changed = True
        if not changed:
            return
        _gso_row(b, bstar, bnorm, mu, k)  # fresh μ after a change: guards against cancellation
        if np.all(np.abs(mu[k, :k]) <= 0.5 + 1e-9):
            return


def _lll_single(B: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    m, n = B.shape
    b = B.copy()
    q = np.eye(n, dtype=np.int64)
    bstar = np.zeros((m, n))
    bnorm = np.zeros(n)
    mu = np.zeros((n, n))
    _gso_row(b, bstar, bnorm, mu, 0)
    if n == 1:
        return b, q
    _gso_row(b, bstar, bnorm, mu, 1)
    k = 1
    iters = 0
    while k < n:
        iters += 1
        if iters > 100_000 * n:  # pragma: no cover - LLL terminates; a guard against float loops
            raise RuntimeError("internal: LLL did not terminate (basis too ill-conditioned for float64)")
        _size_reduce_vector(b, q, bstar, bnorm, mu, k)
        if bnorm[k] >= (delta - mu[k, k - 1] ** 2) * bnorm[k - 1]:
            k += 1
            if k < n:
                _gso_row(b, bstar, bnorm, mu, k)
        else:
            b[:, [k - 1, k]] = b[:, [k, k - 1]]
            q[:, [k - 1, k]] = q[:, [k, k - 1]]
            k = max(k - 1, 1)
            for r in range(k - 1, k + 1):
                _gso_row(b, bstar, bnorm, mu, r)
    return B @ q, q


def lll_reduce(B: Any, delta: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
    """LLL reduction (Lenstra–Lenstra–Lovász) with Lovász parameter ``delta`` in (1/4, 1].

    The output basis ``B Q`` is size reduced (|μ_ij| <= 1/2) and satisfies the Lovász condition
    ‖b*_k‖² >= (δ − μ_{k,k-1}²) ‖b*_{k-1}‖². Floating point (float64) Gram–Schmidt, recomputed
    per visited vector, with the integer transformation kept exactly.

    >>> import numpy as np
    >>> from steerable.lattice import lll_reduce
    >>> red, Q = lll_reduce(np.array([[1.0, 5.0], [0.0, 1.0]]))
    >>> Q.tolist(), red.tolist()
    ([[1, -5], [0, 1]], [[1.0, 0.0], [0.0, 1.0]])
    """
    delta = _check_delta(delta)
    return _batched(_lll_single, _check_bases(B), delta)


def is_lll_reduced(B: Any, delta: float = 0.75, eta: float = 0.5, tol: float = 1e-7) -> bool:
    """Whether the basis ``B`` is (δ, η)-LLL reduced (within a relative tolerance ``tol``),
    checked from an independent QR decomposition.

    >>> import numpy as np
    >>> from steerable.lattice import is_lll_reduced
    >>> is_lll_reduced(np.eye(3)), is_lll_reduced(np.array([[1.0, 3.0], [0.0, 1.0]]))
    (True, False)
    """
    delta = _check_delta(delta)
    B = _check_bases(B)
    if B.ndim > 2:
        return all(is_lll_reduced(b, delta, eta, tol) for b in B.reshape(-1, *B.shape[-2:]))
    r = np.linalg.qr(B, mode="r")
    d = np.diag(r)
    mu = r / d[:, None]  # mu[j, i] = <b_i, b*_j> / |b*_j|^2
    n = B.shape[1]
    for i in range(n):
        if np.any(np.abs(mu[:i, i]) > eta + tol):
            return False
    for k in range(1, n):  # Lovász condition, with a tolerance relative to ‖b*_{k-1}‖²
        if d[k] ** 2 < (delta - mu[k - 1, k] ** 2 - tol) * d[k - 1] ** 2:
            return False
    return True


def _size_reduce_single(B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m, n = B.shape
    b = B.copy()
    q = np.eye(n, dtype=np.int64)
    bstar, bnorm, mu = np.zeros((m, n)), np.zeros(n), np.zeros((n, n))
    for k in range(n):
        _gso_row(b, bstar, bnorm, mu, k)
        _size_reduce_vector(b, q, bstar, bnorm, mu, k)
    return B @ q, q


def size_reduce(B: Any) -> tuple[np.ndarray, np.ndarray]:
    """Size reduction: make |μ_ij| <= 1/2 for the Gram–Schmidt coefficients of the basis in its
    given order (LLL without swaps; it does not change the Gram–Schmidt vectors).

    >>> import numpy as np
    >>> from steerable.lattice import size_reduce
    >>> size_reduce(np.array([[1.0, 2.6], [0.0, 1.0]]))[1].tolist()
    [[1, -3], [0, 1]]
    """
    return _batched(_size_reduce_single, _check_bases(B))


def _seysen_single(B: np.ndarray, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    n = B.shape[1]
    q = np.eye(n, dtype=np.int64)
    for _ in range(max_iter):
        b = B @ q
        a = b.T @ b
        h = np.linalg.inv(a)
        da, dh = np.diag(a), np.diag(h)
        # move b_j <- b_j + λ b_i: optimal real λ = ½ (H_ij / H_jj − A_ij / A_ii)
        lam = np.rint(0.5 * (h / dh[None, :] - a / da[:, None]))
        np.fill_diagonal(lam, 0.0)
        # change of S = Σ_k A_kk H_kk for each (i, j)
        gain = dh[None, :] * (2 * lam * a + lam**2 * da[:, None]) + da[:, None] * (-2 * lam * h + lam**2 * dh[None, :])
        i, j = np.unravel_index(np.argmin(gain), gain.shape)
        if gain[i, j] >= -1e-12 * float(da @ dh):
            break
        q[:, j] += int(lam[i, j]) * q[:, i]
    return B @ q, q


def seysen_reduce(B: Any, max_iter: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Seysen's reduction, greedy: repeatedly apply the integer move b_j ← b_j + λ b_i that most
    decreases S(B) = Σ_k ‖b_k‖² ‖b_k^*‖² (b^* the dual basis), until no move decreases it.

    >>> import numpy as np
    >>> from steerable.lattice import seysen_reduce
    >>> red, Q = seysen_reduce(np.array([[1.0, 7.0], [0.0, 1.0]]))
    >>> Q.tolist()
    [[1, -7], [0, 1]]
    """
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"max_iter: expected a positive integer, got {max_iter!r}")
    return _batched(_seysen_single, _check_bases(B), max_iter)


def _fpylll_single(B: np.ndarray, delta: float, bits: int) -> tuple[np.ndarray, np.ndarray]:
    from fpylll import LLL, IntegerMatrix

    n = B.shape[1]
    scale = 2.0 ** (bits - np.ceil(np.log2(np.abs(B).max())))
    rows = np.rint(B.T * scale)
    A = IntegerMatrix.from_matrix([[int(x) for x in row] for row in rows])
    U = IntegerMatrix.identity(n)
    LLL.reduction(A, U, delta=delta)
    u = np.array([[U[i, j] for j in range(n)] for i in range(n)], dtype=np.int64)
    q = u.T  # fpylll's rows are basis vectors: A' = U A, so B' = B Uᵀ
    return B @ q, q


def fpylll_lll(B: Any, delta: float = 0.75, bits: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """LLL from fpylll (compiled fplll; optional extra ``lattice``): the real basis is scaled to
    ``bits`` bits and rounded to integers, reduced by fplll, and its transformation applied to the
    original basis.

    >>> import numpy as np
    >>> red, Q = fpylll_lll(np.array([[1.0, 5.0], [0.0, 1.0]]))  # doctest: +SKIP
    >>> Q.tolist()  # doctest: +SKIP
    [[1, -5], [0, 1]]
    """
    try:
        import fpylll  # noqa: F401
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("fpylll_lll needs fpylll: pip install 'steerable[lattice]' (or pip install fpylll)") from e
    delta = _check_delta(delta)
    if isinstance(bits, bool) or not isinstance(bits, int) or not 8 <= bits <= 200:
        raise ValueError(f"bits: expected an integer in [8, 200], got {bits!r}")
    return _batched(_fpylll_single, _check_bases(B), delta, bits)
