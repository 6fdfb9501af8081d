"""Field-type structure shared by the normalisation layers (numpy, float64): which field each
channel belongs to, per-field averaging matrices, and the trivial components of each field."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .._field_type import FieldType

# normalising by field norms needs orthogonal representations (the text of the error)
_ORTHO_WHY = "it normalises by field norms, which are invariant only for orthogonal representations"
_ORTHO_HINT = " (use GNormBatchNorm, or a representation with an orthogonal change of basis)"


def _field_index(in_type: FieldType) -> tuple[np.ndarray, np.ndarray]:
    """(field of each channel (C,), field sizes (F,))."""
    sizes = np.array([r.size for r in in_type.representations], dtype=np.int64)
    return np.repeat(np.arange(len(sizes)), sizes), sizes


def _field_matrix(in_type: FieldType, average: bool) -> np.ndarray:
    """(F, C): sums (or averages, ``average``) the channels of each field."""
    fidx, sizes = _field_index(in_type)
    m = np.zeros((len(sizes), in_type.size))
    m[fidx, np.arange(in_type.size)] = 1.0 / sizes[fidx] if average else 1.0
    return m


def _trivial_maps(in_type: FieldType, fields: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trivial components of the fields ``fields`` (default all).

    Returns ``(T_in (K, C), T_out (C, K), field (K,))``: row k of ``T_in`` reads the coefficient
    of the k-th trivial irrep (a row of the field's ``Q⁻¹``), column k of ``T_out`` embeds it (the
    matching column of ``Q``). ``T_out T_in`` is the projector onto the invariant subspace along
    the non-trivial isotypic components; it commutes with ρ(g).
    """
    G = in_type.gspace.fibergroup
    C = in_type.size
    rows, cols, owner = [], [], []
    wanted = range(len(in_type)) if fields is None else fields
    for f in wanted:
        rep = in_type.representations[f]
        q, qi = np.asarray(rep.change_of_basis), np.asarray(rep.change_of_basis_inv)
        a, p = int(in_type.fields_start[f]), 0
        for i in rep.irreps:
            psi = G.irrep(*i)
            if psi.is_trivial():
                r = np.zeros(C)
                c = np.zeros(C)
                r[a : a + rep.size] = qi[p]
                c[a : a + rep.size] = q[:, p]
                rows.append(r)
                cols.append(c)
                owner.append(f)
            p += psi.size
    if not rows:
        return np.zeros((0, C)), np.zeros((C, 0)), np.zeros(0, dtype=np.int64)
    return np.stack(rows), np.stack(cols, 1), np.array(owner, dtype=np.int64)


def _bview(vec: torch.Tensor, ndim: int) -> torch.Tensor:
    """(C,) -> (1, C, 1, ...) for a tensor of ``ndim`` dimensions."""
    return vec.reshape(1, -1, *(1,) * (ndim - 2))
