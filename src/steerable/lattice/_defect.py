"""Orthogonality defect, unimodularity checks and input validation shared by the lattice code.

A basis is a matrix whose *columns* are the basis vectors: ``B`` of shape ``(m, n)`` (m >= n,
rank n), or a batch ``(..., m, n)``. A reduced basis is ``B Q`` with ``Q`` unimodular.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import torch

__all__ = ["is_unimodular", "log_orthogonality_defect", "orthogonality_defect"]


def _check_bases(B: Any, argname: str = "B", min_n: int = 1) -> np.ndarray:
    """``B`` as a float64 array ``(..., m, n)`` of full column rank, or a clear error."""
    if isinstance(B, torch.Tensor):
        B = B.detach().cpu().numpy()
    if not isinstance(B, np.ndarray):
        raise TypeError(f"{argname}: expected a numpy array or torch tensor of bases, got {type(B).__name__}")
    if B.ndim < 2:
        raise ValueError(f"{argname}: expected shape (..., m, n) with basis vectors as columns, got {B.shape}")
    if not (np.issubdtype(B.dtype, np.floating) or np.issubdtype(B.dtype, np.integer)):
        raise TypeError(f"{argname}: expected a real array, got dtype {B.dtype}")
    B = B.astype(np.float64)
    m, n = B.shape[-2:]
    if n < min_n or m < n:
        raise ValueError(f"{argname}: expected m >= n >= {min_n} (m x n, columns are basis vectors), got {m} x {n}")
    if not np.isfinite(B).all():
        raise ValueError(f"{argname}: contains NaN or inf")
    return B


def _log_volume(B: np.ndarray) -> np.ndarray:
    """log sqrt(det(Bᵀ B)) (the lattice's covolume), batched."""
    g = np.swapaxes(B, -1, -2) @ B
    sign, logdet = np.linalg.slogdet(g)
    return 0.5 * np.where(sign > 0, logdet, -np.inf)


def log_orthogonality_defect(B: Any) -> np.ndarray | float:
    """log δ(B) = Σ log‖b_i‖ − log vol(B) >= 0 (0 iff the columns are orthogonal).

    >>> import numpy as np
    >>> from steerable.lattice import log_orthogonality_defect
    >>> round(float(log_orthogonality_defect(np.array([[1.0, 1.0], [0.0, 1.0]]))), 6)
    0.346574
    """
    B = _check_bases(B)
    vol = _log_volume(B)
    if np.isinf(vol).any():
        raise ValueError("B: the columns are linearly dependent (zero volume)")
    out = np.log(np.linalg.norm(B, axis=-2)).sum(-1) - vol
    return float(out) if out.ndim == 0 else out


def orthogonality_defect(B: Any) -> np.ndarray | float:
    """The orthogonality defect δ(B) = Π‖b_i‖ / vol(B) (Hadamard ratio⁻ⁿ), batched.

    >>> import numpy as np
    >>> from steerable.lattice import orthogonality_defect
    >>> orthogonality_defect(np.eye(3))
    1.0
    """
    out = np.exp(log_orthogonality_defect(B))
    return float(out) if np.ndim(out) == 0 else out


def _torch_log_defect(B: torch.Tensor) -> torch.Tensor:
    """Differentiable log orthogonality defect of a batch ``(..., m, n)``."""
    g = B.transpose(-1, -2) @ B
    logdet = torch.linalg.slogdet(g)[1]
    return torch.log(torch.linalg.vector_norm(B, dim=-2)).sum(-1) - 0.5 * logdet


def _bareiss_det(q: list[list[int]]) -> int:
    """Exact integer determinant (fraction-free Gaussian elimination)."""
    a = [[Fraction(int(x)) for x in row] for row in q]
    n = len(a)
    det = Fraction(1)
    for c in range(n):
        p = next((r for r in range(c, n) if a[r][c] != 0), None)
        if p is None:
            return 0
        if p != c:
            a[c], a[p] = a[p], a[c]
            det = -det
        det *= a[c][c]
        for r in range(c + 1, n):
            f = a[r][c] / a[c][c]
            if f:
                a[r] = [x - f * y for x, y in zip(a[r], a[c])]
    return int(det)


def is_unimodular(Q: Any) -> bool:
    """Whether ``Q`` (or every matrix of a batch) is an integer matrix with determinant ±1,
    checked exactly (integer arithmetic, no floating point).

    >>> import numpy as np
    >>> from steerable.lattice import is_unimodular
    >>> is_unimodular(np.array([[1, 3], [0, 1]])), is_unimodular(np.array([[2, 0], [0, 1]]))
    (True, False)
    """
    if isinstance(Q, torch.Tensor):
        Q = Q.detach().cpu().numpy()
    Q = np.asarray(Q)
    if Q.ndim < 2 or Q.shape[-1] != Q.shape[-2]:
        raise ValueError(f"Q: expected square matrices (..., n, n), got shape {Q.shape}")
    if np.issubdtype(Q.dtype, np.floating):
        if not np.all(Q == np.round(Q)):
            return False
        if np.abs(Q).max(initial=0) >= 2**53:
            raise ValueError("Q: float entries beyond 2^53 cannot be checked exactly; pass an integer array")
    elif not np.issubdtype(Q.dtype, np.integer):
        raise TypeError(f"Q: expected an integer or float array, got dtype {Q.dtype}")
    flat = Q.reshape(-1, Q.shape[-2], Q.shape[-1])
    return all(abs(_bareiss_det([[int(x) for x in row] for row in m])) == 1 for m in flat)
