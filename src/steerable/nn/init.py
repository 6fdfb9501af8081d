"""Weight initialisation for steerable layers, in closed form (no per-weight Python loop).

Both functions take what escnn passes: the weights tensor (``conv.weights.data``) and the
layer's basis manager (``conv.basisexpansion``; ``conv.basissampler`` for point convolutions,
``linear.basisexpansion`` for :class:`~steerable.nn.Linear`).
"""

from __future__ import annotations

import warnings
import weakref

import numpy as np
import torch

__all__ = ["generalized_he_init", "deltaorthonormal_init"]

_HE_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _type_slices(expansion):
    p = 0
    for name, n_o, n_i, nb, do, di in expansion._types:
        n = n_o * n_i * nb
        yield name, p, n, n_o, n_i, nb, do, di
        p += n


def _dimension(basismanager) -> int:
    d = basismanager.dimension
    return int(d() if callable(d) else d)


def _he_std(basismanager) -> torch.Tensor:
    """Per-weight standard deviations (float64): every weight feeding an output irrep of type ψ
    gets σ² = 2 / Σ_types n_in(type) · ⟨‖B_type[p]‖²⟩_p (the fan-in of He et al., whatever the
    basis norms and multiplicities)."""
    if hasattr(basismanager, "_he_std"):
        return torch.as_tensor(basismanager._he_std(), dtype=torch.float64)
    std = torch.zeros(_dimension(basismanager), dtype=torch.float64)
    fan: dict = {}
    rows = []
    for k, (name, p, n, _n_o, n_i, _nb, _do, _di) in enumerate(_type_slices(basismanager)):
        b = basismanager.basis_tensor(name).detach().double()
        per_row = (b**2).sum(dim=(0, 2, 3)).mean().item()  # Σ_b Σ_q,n B[b,p,q,n]², averaged over p
        oid = basismanager._type_ids[k][1]
        fan[oid] = fan.get(oid, 0.0) + n_i * per_row
        rows.append((oid, p, n))
    for oid, p, n in rows:
        total = fan[oid]
        std[p : p + n] = float(np.sqrt(2.0 / total)) if total > 0 else 0.0
    return std


def generalized_he_init(tensor: torch.Tensor, basismanager, cache: bool = False) -> None:
    """He initialisation for a steerable filter, in place (escnn's signature).

    Every output channel of the expanded filter gets total variance 2 over its inputs (the fan-in
    rule of He et al.), whatever the basis norms and multiplicities. ``tensor`` may hold several
    groups (a multiple of ``basismanager.dimension()`` entries). ``cache=True`` keeps the per-weight
    variances of this basis manager for later calls (for the lifetime of the manager).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr] * 4)
    >>> conv = nn.R2Conv(t, t, 3, initialize=False)
    >>> nn.init.generalized_he_init(conv.weights.data, conv.basisexpansion)
    >>> bool(conv.weights.abs().sum() > 0)
    True
    """
    dim = _dimension(basismanager)
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor: expected a torch.Tensor, got {type(tensor).__name__}")
    if dim == 0:
        return
    if tensor.numel() % dim:
        raise ValueError(f"tensor: expected a multiple of {dim} entries, got {tensor.numel()}")
    key = (tensor.dtype, tensor.device)
    stds = _HE_CACHE.get(basismanager) if cache else None
    std = None if stds is None else stds.get(key)
    if std is None:
        std = _he_std(basismanager).to(device=tensor.device, dtype=tensor.dtype)
        if cache:
            _HE_CACHE.setdefault(basismanager, {})[key] = std
    with torch.no_grad():
        w = tensor.view(-1, dim)
        w.normal_().mul_(std)  # in place: no temporary


def deltaorthonormal_init(tensor: torch.Tensor, basismanager) -> None:
    """Delta-orthogonal initialisation (Xiao et al. 2018), in place (escnn's semantics): only the
    basis elements supported at the origin (radius 0) get weights; per irrep ψ the weights between
    the ψ-slots of the output and of the input form a random (semi-)orthogonal matrix times the
    identity of ψ. With the default rings (width 0.005 at radius 0) the filter's off-centre taps
    are exactly zero and its centre tap is an orthonormal map (orthonormal columns when the
    output has at least as many copies of each irrep as the input). For ``Linear`` the matrix
    itself is (semi-)orthogonal.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(8)
    >>> t = nn.FieldType(gs, [gs.regular_repr] * 2)
    >>> conv = nn.R2Conv(t, t, 7, frequencies_cutoff=3.)
    >>> nn.init.deltaorthonormal_init(conv.weights.data, conv.basisexpansion)
    >>> f = conv.filter.clone()
    >>> c = f[:, :, 3, 3].clone()
    >>> f[:, :, 3, 3] = 0
    >>> bool(torch.allclose(c.T @ c, torch.eye(16), atol=1e-5)), float(f.abs().max())
    (True, 0.0)
    """
    dim = _dimension(basismanager)
    if dim == 0:
        return
    if tensor.numel() % dim:
        raise ValueError(f"tensor: expected a multiple of {dim} entries, got {tensor.numel()}")
    w = tensor.view(-1, dim)
    if hasattr(basismanager, "_delta_orthonormal"):
        with torch.no_grad():
            for gi in range(w.shape[0]):
                w[gi] = basismanager._delta_orthonormal().to(w.dtype)
        return
    with torch.no_grad():
        w.zero_()
        pts = basismanager._points
        centre = np.flatnonzero(np.linalg.norm(pts, axis=1) < 1e-9)
        if centre.size == 0:
            raise ValueError(
                "basismanager: delta-orthogonal initialisation needs a kernel with a centre tap (odd size)"
            )
        c = int(centre[0])
        leak = 0.0
        for k, (name, p, n, n_o, n_i, nb, do, di) in enumerate(_type_slices(basismanager)):
            iid, oid = basismanager._type_ids[k]
            if iid != oid:
                continue
            radii = basismanager._type_radii[k]
            mask = np.abs(np.asarray(radii)) < 1e-9
            if not mask.any():
                continue
            full = basismanager.basis_tensor(name).detach().double()
            sel = torch.as_tensor(np.flatnonzero(mask))
            b = full[:, :, :, c]  # (nb, do, di)
            tot = full[sel].pow(2).sum().item()
            leak = max(leak, (tot - b[sel].pow(2).sum().item()) / max(tot, 1e-300))
            a = b[sel].reshape(len(sel), -1).T  # (do*di, nsel)
            coef = torch.linalg.lstsq(a, torch.eye(do, di, dtype=a.dtype).reshape(-1, 1)).solution[:, 0]
            for gi in range(w.shape[0]):
                m = max(n_o, n_i)
                q = torch.linalg.qr(torch.randn(m, m, dtype=torch.float64))[0][:n_o, :n_i]
                block = torch.zeros(n_o, n_i, nb, dtype=torch.float64)
                block[:, :, sel] = q[:, :, None] * coef[None, None, :]
                w[gi, p : p + n] = block.reshape(-1).to(w.dtype)
        if leak > 1e-9:
            warnings.warn(
                f"deltaorthonormal_init: the radius-0 basis elements are not supported on the centre tap "
                f"alone ({leak:.1%} of their energy is off-centre: a wide sigma at radius 0); the "
                "off-centre taps are not zero",
                stacklevel=2,
            )
