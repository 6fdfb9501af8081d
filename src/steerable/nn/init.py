"""Weight initialisation for steerable layers, in closed form (no per-weight Python loop)."""
from __future__ import annotations

import numpy as np
import torch


def _type_slices(expansion):
    p = 0
    for name, n_o, n_i, nb, do, di in expansion._types:
        n = n_o * n_i * nb
        yield name, p, n, n_o, n_i, nb, do, di
        p += n


def generalized_he_init(weights: torch.Tensor, basisexpansion, cache: bool = False) -> None:
    """He initialisation for a steerable filter, in place.

    Each weight multiplies one basis element; all weights feeding the same output irrep get the
    variance σ² = 2 / Σ_types n_in(type) · ⟨‖B_type[p]‖²⟩_p, so that every output channel of the
    expanded filter has total variance 2 over its inputs (the fan-in of He et al.), whatever the
    basis norms and multiplicities. ``weights`` may hold several groups (a multiple of
    ``basisexpansion.dimension``).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr] * 4)
    >>> conv = nn.R2Conv(t, t, 3, initialize=False)
    >>> nn.init.generalized_he_init(conv.weights.data, conv.basisexpansion)
    >>> bool(conv.weights.abs().sum() > 0)
    True
    """
    dim = basisexpansion.dimension
    if dim == 0:
        return
    if weights.numel() % dim:
        raise ValueError(f"weights: expected a multiple of {dim} entries, got {weights.numel()}")
    w = weights.view(-1, dim)
    out_id_of = {}
    fan: dict = {}
    pair_of_type = {}
    # per type: the out irrep and the mean squared norm of a basis row
    for k, (name, p, n, n_o, n_i, nb, do, di) in enumerate(_type_slices(basisexpansion)):
        b = basisexpansion.basis_tensor(name).detach().double()
        per_row = (b ** 2).sum(dim=(0, 2, 3)).mean().item()  # Σ_b Σ_q,n B[b,p,q,n]², averaged over p
        oid = _type_out_id(basisexpansion, k)
        out_id_of[name] = oid
        pair_of_type[name] = (p, n)
        fan[oid] = fan.get(oid, 0.0) + n_i * per_row
    with torch.no_grad():
        for name, (p, n) in pair_of_type.items():
            total = fan[out_id_of[name]]
            if total <= 0:
                w[:, p : p + n].zero_()
                continue
            w[:, p : p + n].normal_(0.0, float(np.sqrt(2.0 / total)))


def _type_out_id(expansion, k: int):
    return expansion._type_ids[k][1]


def deltaorthonormal_init(weights: torch.Tensor, basisexpansion) -> None:
    """Delta-orthogonal initialisation (Xiao et al. 2018), in place: only radius-0 basis
    elements are used and, per irrep ψ, the weights between the ψ-slots of the output and the
    input form a random (semi-)orthogonal matrix, so the filter's centre tap is an orthogonal map
    in the irrep basis and the rest of the kernel is zero up to the radial profile's tail.
    """
    dim = basisexpansion.dimension
    if dim == 0:
        return
    w = weights.view(-1, dim)
    with torch.no_grad():
        w.zero_()
        pts = basisexpansion._points
        centre = np.flatnonzero(np.linalg.norm(pts, axis=1) < 1e-9)
        if centre.size == 0:
            raise ValueError("basisexpansion: delta-orthogonal initialisation needs a kernel with a centre tap (odd size)")
        c = int(centre[0])
        for k, (name, p, n, n_o, n_i, nb, do, di) in enumerate(_type_slices(basisexpansion)):
            iid, oid = basisexpansion._type_ids[k]
            if iid != oid:
                continue
            radii = basisexpansion._type_radii[k]
            mask = np.abs(np.asarray(radii)) < 1e-9
            if not mask.any():
                continue
            b = basisexpansion.basis_tensor(name).detach().double()[:, :, :, c]  # (nb, do, di)
            sel = torch.as_tensor(np.flatnonzero(mask))
            a = b[sel].reshape(len(sel), -1).T  # (do*di, nsel)
            coef = torch.linalg.lstsq(a, torch.eye(do, dtype=a.dtype).reshape(-1, 1)).solution[:, 0]
            for gi in range(w.shape[0]):
                q = torch.linalg.qr(torch.randn(max(n_o, n_i), max(n_o, n_i), dtype=torch.float64))[0][:n_o, :n_i]
                block = torch.zeros(n_o, n_i, nb, dtype=torch.float64)
                block[:, :, sel] = q[:, :, None] * coef[None, None, :]
                w[gi, p : p + n] = block.reshape(-1).to(w.dtype)
