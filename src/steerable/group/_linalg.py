"""Numerical linear algebra shared by every group: intertwiner spaces, isotypic projections and
the decomposition of a representation into irreducibles.

Everything here works on stacks of matrices sampled at group elements (``(n, d, d)`` arrays), so
it is oblivious to which group produced them. All computations are float64 and deterministic:
no random numbers, no eigenvector sign choices; bases come from Gram–Schmidt on projector columns
taken in a fixed order.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import null_space

TOL = 1e-8


def intertwiner_basis(a: np.ndarray, b: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Basis of ``{X : a[i] X = X b[i] for all i}``.

    ``a``: (n, do, do), ``b``: (n, di, di). Returns (k, do, di), orthonormal in the Frobenius
    inner product. For the matrices of two representations at generators (finite groups) or at a
    few generic elements (connected groups), this is the space of intertwiners.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    n, do, _ = a.shape
    di = b.shape[1]
    eye_i = np.eye(di)
    eye_o = np.eye(do)
    # vec row-major: vec(A X) = (A kron I) vec(X), vec(X B) = (I kron B^T) vec(X)
    rows = np.einsum("nab,cd->nacbd", a, eye_i).reshape(n, do * di, do * di) - np.einsum(
        "ab,ndc->nacbd", eye_o, b
    ).reshape(n, do * di, do * di)
    rows = rows.reshape(n * do * di, do * di)
    ns = null_space(rows, rcond=tol)
    basis = ns.T.reshape(-1, do, di)
    return _canonical_signs(basis)


def _canonical_signs(basis: np.ndarray) -> np.ndarray:
    """Flip each matrix so that its first entry larger than 1e-6 in magnitude is positive."""
    out = basis.copy()
    for k in range(out.shape[0]):
        flat = out[k].reshape(-1)
        idx = np.flatnonzero(np.abs(flat) > 1e-6)
        if idx.size and flat[idx[0]] < 0:
            out[k] = -out[k]
    return out


def gram_schmidt_columns(m: np.ndarray, rank: int | None = None, tol: float = TOL) -> np.ndarray:
    """Orthonormal basis of the column space of ``m`` by Gram–Schmidt on its columns, in order.

    Deterministic (no pivoting, no SVD signs): the same input gives the same basis, the first
    non-negligible column fixing the first basis vector, and so on.
    """
    vecs: list[np.ndarray] = []
    scale = max(np.abs(m).max(initial=0.0), 1.0)
    for j in range(m.shape[1]):
        v = m[:, j].copy()
        for _ in range(2):  # re-orthogonalise once for stability
            for u in vecs:
                v -= (u @ v) * u
        nv = np.linalg.norm(v)
        if nv > tol * scale:
            vecs.append(v / nv)
            if rank is not None and len(vecs) == rank:
                break
    if not vecs:
        return np.zeros((m.shape[0], 0))
    return np.stack(vecs, axis=1)


def isotypic_intertwiners(
    rho: np.ndarray,
    psi: np.ndarray,
    weights: np.ndarray,
    endomorphisms: np.ndarray,
    multiplicity: int | None = None,
    tol: float = 1e-7,
) -> list[np.ndarray]:
    """Orthonormal intertwiners ``X_s`` (d × d_psi) with ``rho(g) X_s = X_s psi(g)``.

    ``rho``: (n, d, d) and ``psi``: (n, dp, dp) sampled on a quadrature (``weights`` sum to 1)
    exact for the product of their entries. ``endomorphisms``: (s, dp, dp) basis of End(psi).

    The images of the returned X_s are mutually orthogonal and span the psi-isotypic component;
    each satisfies ``X_s^T X_s = I``. The construction uses the matrix-coefficient projectors
    ``T_k = dp * sum_g w_g psi(g)[k, 0] rho(g)``: for any vector v, ``[T_0 v, ..., T_{dp-1} v]`` is
    an intertwiner, so the candidates ``v = e_0, e_1, ...`` are taken in order and orthonormalised
    modulo End(psi) (Gram–Schmidt against ``X E`` for every chosen X and every E).
    """
    d = rho.shape[1]
    dp = psi.shape[1]
    t = dp * np.einsum("n,nk,nij->kij", weights, psi[:, :, 0], rho)  # (dp, d, d)
    # candidate i: column i of every T_k  ->  (d, dp)
    candidates = np.transpose(t, (2, 1, 0))  # [i, row, k]
    ends = [e / np.linalg.norm(e) * np.sqrt(dp) for e in endomorphisms]
    chosen: list[np.ndarray] = []
    basis_mats: list[np.ndarray] = []  # X E, Frobenius-orthonormal
    for i in range(d):
        y = candidates[i].copy()
        if np.abs(y).max() < tol:
            continue
        for _ in range(2):
            for bm in basis_mats:
                y -= np.sum(bm * y) * bm
        gram = y.T @ y
        nrm = gram[0, 0]
        if nrm < tol:
            continue
        x = y / np.sqrt(nrm)
        chosen.append(x)
        for e in ends:
            xe = x @ e
            for bm in basis_mats:
                xe -= np.sum(bm * xe) * bm
            n_xe = np.linalg.norm(xe)
            if n_xe > tol:
                basis_mats.append(xe / n_xe)
        if multiplicity is not None and len(chosen) == multiplicity:
            break
    return chosen


def block_diagonal(blocks: list[np.ndarray]) -> np.ndarray:
    """Batched block-diagonal assembly: blocks of shape (n, di, di) -> (n, D, D)."""
    n = blocks[0].shape[0]
    total = sum(b.shape[-1] for b in blocks)
    out = np.zeros((n, total, total))
    p = 0
    for b in blocks:
        k = b.shape[-1]
        out[:, p : p + k, p : p + k] = b
        p += k
    return out


def is_orthogonal(q: np.ndarray, atol: float = 1e-9) -> bool:
    return bool(np.allclose(q.T @ q, np.eye(q.shape[1]), atol=atol))
