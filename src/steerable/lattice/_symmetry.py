"""The hyperoctahedral group B_n acting on lattice bases: b_i ↦ s_i b_π(i), i.e. ``B ↦ B M(g)``
with ``M(g)`` the signed permutation matrix of ``g`` (the standard representation of
:func:`steerable.group.hyperoctahedral_group`). A reducer is B_n-equivariant when
``Q(B M) = Mᵀ Q(B) M``: the reduced basis of the permuted basis is the permuted reduced basis."""

from __future__ import annotations

from typing import Any

import numpy as np

from steerable.group import GroupElement, hyperoctahedral_group

from ._defect import _check_bases

__all__ = ["apply_signed_permutation", "signed_permutation_matrices"]


def signed_permutation_matrices(n: int, count: int, seed: int | None = None) -> np.ndarray:
    """``count`` uniformly random elements of B_n as signed permutation matrices ``(count, n, n)``.

    >>> import numpy as np
    >>> from steerable.lattice import signed_permutation_matrices
    >>> M = signed_permutation_matrices(4, 3, seed=0)
    >>> M.shape, bool((np.abs(M).sum(1) == 1).all())
    ((3, 4, 4), True)
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count: expected a non-negative integer, got {count!r}")
    G = hyperoctahedral_group(n)
    rho = G.standard_representation
    return np.stack([rho(g) for g in G.sample(count, seed=seed)]) if count else np.zeros((0, n, n))


def apply_signed_permutation(B: Any, g: GroupElement) -> np.ndarray:
    """The basis ``B M(g)`` (columns ``s_i b_π(i)``) for an element ``g`` of B_n, n = B.shape[-1].

    >>> import numpy as np
    >>> from steerable.group import hyperoctahedral_group
    >>> from steerable.lattice import apply_signed_permutation
    >>> g = hyperoctahedral_group(2).element((-2, 1))
    >>> apply_signed_permutation(np.array([[1.0, 2.0], [3.0, 4.0]]), g).tolist()
    [[-2.0, 1.0], [-4.0, 3.0]]
    """
    arr = _check_bases(B)
    n = arr.shape[-1]
    if not isinstance(g, GroupElement):
        raise TypeError(f"g: expected an element of hyperoctahedral_group({n}), got {type(g).__name__}")
    if g.group != hyperoctahedral_group(n):
        raise ValueError(f"g: expected an element of B{n} (the basis has {n} vectors), got one of {g.group.name}")
    return arr @ g.group.standard_representation(g)
