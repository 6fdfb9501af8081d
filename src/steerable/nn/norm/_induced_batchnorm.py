"""InducedNormBatchNorm: batch normalisation of induced isometric fields (escnn's)."""

from __future__ import annotations

import numpy as np

from .._field_type import FieldType
from .._validation import check_field_type, require_orthogonal
from ._field_batchnorm import _FieldBatchNorm
from ._fields import _ORTHO_HINT, _ORTHO_WHY, _field_index, _field_matrix

__all__ = ["InducedNormBatchNorm"]


def _induced_block_size(rep) -> int | None:
    """The smallest proper block size d such that every ρ(g) is block-monomial with d×d blocks
    (ρ is then induced: it permutes the d-dim sub-fields up to an orthogonal map), else None."""
    mats = rep.matrices(rep.group.generators)
    n, s = mats.shape[0], rep.size
    for d in range(1, s):
        if s % d:
            continue
        k = s // d
        nz = np.abs(mats.reshape(n, k, d, k, d)).max(axis=(2, 4)) > 1e-8
        if np.all(nz.sum(axis=2) == 1) and np.all(nz.sum(axis=1) == 1):
            return d
    return None


class InducedNormBatchNorm(_FieldBatchNorm):
    """Batch normalisation for induced (block-monomial) isometric fields without trivial irreps.

    ``ρ = Ind_H^G σ`` permutes its ``|G:H|`` sub-fields of size ``dim σ`` (up to σ(h)); as in
    escnn, one variance is shared by all sub-fields of a field::

        σ²_f = mean_{b,x,sub-fields} |x_sub|² / dim σ = mean_{b,x} |x_f|² / dim f
        y_f = x_f · w_f / sqrt(σ²_f + eps)

    (numerically the same map as :class:`NormBatchNorm` on these fields). A field is accepted when
    its matrices are block-monomial for some proper block size (the detected sizes are in
    ``subfield_sizes``), it is orthogonal and it contains no trivial irrep (so its mean is zero).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import InducedNormBatchNorm
    >>> gs = gspaces.flipRot2dOnR2(-1)
    >>> G = gs.fibergroup
    >>> H = G.subgroup((None, -1))[0]
    >>> rho = G.induced_representation((None, -1), H.irrep(1))
    >>> t = nn.FieldType(gs, [rho] * 2)
    >>> bn = InducedNormBatchNorm(t)
    >>> bn.subfield_sizes
    (2, 2)
    >>> bn(t(torch.randn(4, 8, 7, 7))).shape
    torch.Size([4, 8, 7, 7])
    """

    def __init__(self, in_type: FieldType, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True):
        super().__init__()
        check_field_type(in_type, owner="InducedNormBatchNorm")
        G = in_type.gspace.fibergroup
        found: list = []
        sub = []
        for f, rep in enumerate(in_type.representations):
            hit = [d for r, d in found if r == rep]
            if hit:
                sub.append(hit[0])
                continue
            if any(G.irrep(*i).is_trivial() for i in rep.irreps):
                raise ValueError(
                    f"in_type: InducedNormBatchNorm needs fields without trivial irreps (their mean is then "
                    f"zero); field {f} of {in_type!r} is {rep!r} with irreps {rep.irreps}"
                )
            d = _induced_block_size(rep)
            if d is None:
                raise ValueError(
                    f"in_type: InducedNormBatchNorm needs induced representations (block-monomial matrices); "
                    f"field {f} of {in_type!r} ({rep!r}) is not (use NormBatchNorm)"
                )
            found.append((rep, d))
            sub.append(d)
        require_orthogonal(in_type, "InducedNormBatchNorm", why=_ORTHO_WHY, hint=_ORTHO_HINT)
        self.subfield_sizes = tuple(sub)
        fidx, sizes = _field_index(in_type)
        C = in_type.size
        self._setup(
            in_type,
            eps,
            momentum,
            affine,
            True,
            fidx,
            _field_matrix(in_type, True),
            np.zeros((0, C)),
            np.zeros((C, 0)),
            np.ones(len(sizes)),
        )
