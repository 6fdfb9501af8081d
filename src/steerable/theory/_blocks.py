"""Irrep blocks of an equivariant linear map: the Fourier-domain view of a layer.

An equivariant map W: ρ_in → ρ_out is, in orthonormal irrep bases of the two field types,
block diagonal over the irreps ψ: its ψ-isotypic block is Ŵ(ψ) ⊗ (endomorphisms of ψ), with
Ŵ(ψ) an m_out(ψ) × m_in(ψ) matrix of multiplicity coefficients (real for real-type irreps,
complex for complex-type ones). Hence ``‖W‖₂ = max_ψ ‖Ŵ(ψ)‖₂`` and
``‖W‖_F² = Σ_ψ d_ψ ‖Ŵ(ψ)‖_F²``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import torch

from steerable import nn

__all__ = ["IrrepBlock", "irrep_blocks", "orthonormal_irrep_basis"]


@dataclass(frozen=True)
class IrrepBlock:
    """One irrep's block Ŵ(ψ) of an equivariant linear map.

    ``matrix`` is the multiplicity matrix (m_out × m_in; complex for complex-type irreps),
    ``spectral_norm`` = ‖Ŵ(ψ)‖₂, ``frobenius_norm`` = ‖Ŵ(ψ)‖_F (so the isotypic block of the
    dense map has Frobenius norm √d_ψ · ‖Ŵ(ψ)‖_F).
    """

    irrep: tuple
    type: str
    dim: int
    m_out: int
    m_in: int
    matrix: np.ndarray
    spectral_norm: float
    frobenius_norm: float


def orthonormal_irrep_basis(ftype: nn.FieldType) -> tuple[np.ndarray, list[tuple[tuple, int]]]:
    """An orthogonal matrix U with ``U.T ρ(g) U = ⊕ ψ_i(g)`` (the irreps of ``ftype.irreps``, in
    order) and the list of (irrep id, channel offset) of each irrep copy.

    The field type's own change of basis Q need not be orthogonal; its polar factor is, and
    decomposes ρ into the same irreps (Q = U P with P in the commutant of ⊕ψ).

    >>> import numpy as np
    >>> from steerable import gspaces, nn
    >>> from steerable.theory import orthonormal_irrep_basis
    >>> gs = gspaces.rot2dOnR2(4)
    >>> U, copies = orthonormal_irrep_basis(nn.FieldType(gs, [gs.regular_repr]))
    >>> bool(np.allclose(U.T @ U, np.eye(4))), [c[0] for c in copies]
    (True, [(0,), (1,), (2,)])
    """
    if not isinstance(ftype, nn.FieldType):
        raise TypeError(f"ftype: expected a FieldType, got {type(ftype).__name__}")
    blocks = [np.asarray(r.change_of_basis, dtype=np.float64) for r in ftype.representations]
    q = scipy.linalg.block_diag(*blocks)
    u, _ = scipy.linalg.polar(q)
    group = ftype.fibergroup
    copies, off = [], 0
    for r in ftype.representations:
        for i in r.irreps:
            copies.append((tuple(i), off))
            off += group.irrep(*i).size
    return u, copies


def _complex_structure(psi) -> np.ndarray | None:
    """The second endomorphism J of a complex-type irrep when it is orthogonal with J² = -1."""
    e = np.asarray(psi.endomorphism_basis(), dtype=np.float64)
    if e.shape[0] != 2:
        return None
    j = e[1] / np.sqrt(np.sum(e[1] ** 2) / e.shape[1])
    eye = np.eye(e.shape[1])
    if np.allclose(j @ j, -eye, atol=1e-8) and np.allclose(j.T @ j, eye, atol=1e-8):
        return j
    return None


def irrep_blocks(layer, atol: float = 1e-6) -> list[IrrepBlock]:
    """The irrep blocks Ŵ(ψ) of an equivariant linear map.

    ``layer`` is a ``steerable.nn.Linear``, or an ``R2Conv``/``R3Conv`` (whose blocks are those
    of its zero-frequency response Σ_x K(x), the map it applies to constant fields). Raises
    ``ValueError`` when the map is not equivariant (e.g. a partially equivariant layer).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.group import so3_group
    >>> from steerable.theory import irrep_blocks
    >>> gs = gspaces.no_base_space(so3_group(2))
    >>> t = nn.FieldType(gs, [gs.irrep(0), gs.irrep(1), gs.irrep(1)])
    >>> lin = nn.Linear(t, t, bias=False)
    >>> blocks = irrep_blocks(lin)
    >>> [(b.irrep, b.m_out, b.m_in) for b in blocks]
    [((0,), 1, 1), ((1,), 2, 2)]
    >>> W = lin.expand_parameters()[0].double()
    >>> abs(max(b.spectral_norm for b in blocks) - torch.linalg.matrix_norm(W, 2).item()) < 1e-6
    True
    """
    if isinstance(layer, nn.Linear):
        with torch.no_grad():
            w = layer.expand_parameters()[0].detach().double().cpu().numpy()
    elif isinstance(layer, (nn.R2Conv, nn.R3Conv)) and not layer._transposed and layer.groups == 1:
        with torch.no_grad():
            f = layer.expand_parameters()[0].detach().double().cpu()
        w = f.reshape(f.shape[0], f.shape[1], -1).sum(-1).numpy()
    else:
        raise TypeError(
            f"layer: expected a steerable Linear, R2Conv or R3Conv (groups=1, not transposed), got {type(layer).__name__}"
        )
    return matrix_irrep_blocks(w, layer.in_type, layer.out_type, atol=atol)


def matrix_irrep_blocks(w: np.ndarray, in_type: nn.FieldType, out_type: nn.FieldType, atol: float = 1e-6):
    """The irrep blocks of a dense equivariant matrix ``w`` (C_out × C_in) between field types."""
    u_in, c_in = orthonormal_irrep_basis(in_type)
    u_out, c_out = orthonormal_irrep_basis(out_type)
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (out_type.size, in_type.size):
        raise ValueError(f"w: expected shape {(out_type.size, in_type.size)}, got {w.shape}")
    wh = u_out.T @ w @ u_in
    explained = np.zeros_like(wh)
    group = in_type.fibergroup
    out: list[IrrepBlock] = []
    ids = []
    for i, _ in c_out:
        if i not in ids and any(j == i for j, _ in c_in):
            ids.append(i)
    for i in ids:
        psi = group.irrep(*i)
        d = psi.size
        ro = [o for j, o in c_out if j == i]
        ri = [o for j, o in c_in if j == i]
        rows = np.concatenate([np.arange(o, o + d) for o in ro])
        cols = np.concatenate([np.arange(o, o + d) for o in ri])
        block = wh[np.ix_(rows, cols)]
        e = np.asarray(psi.endomorphism_basis(), dtype=np.float64)
        # project each d×d sub-block onto End(ψ) (Schur): the equivariant part of the map
        sub = block.reshape(len(ro), d, len(ri), d).transpose(0, 2, 1, 3)
        gram = np.einsum("kab,lab->kl", e, e)
        coef = np.linalg.solve(gram, np.einsum("kab,xyab->kxy", e, sub).reshape(len(e), -1)).reshape(
            len(e), len(ro), len(ri)
        )
        proj = np.einsum("kxy,kab->xayb", coef, e).reshape(block.shape)
        explained[np.ix_(rows, cols)] = proj
        j = _complex_structure(psi) if psi.type == "C" else None
        if psi.type == "R":
            scale = np.sqrt(np.sum(e[0] ** 2) / d)
            mat = coef[0] * scale
            spec = float(np.linalg.norm(mat, 2)) if mat.size else 0.0
        elif j is not None:
            # proj = A⊗E0 + B⊗E1; rescale to A⊗I + B⊗J, whose norm is that of A + iB
            s0 = np.sqrt(np.sum(e[0] ** 2) / d)
            s1 = np.sqrt(np.sum(e[1] ** 2) / d)
            mat = coef[0] * s0 + 1j * coef[1] * s1
            spec = float(np.linalg.norm(mat, 2)) if mat.size else 0.0
        else:  # quaternionic (or an unusual basis): the norm of the real isotypic block
            mat = coef
            spec = float(np.linalg.norm(proj, 2)) if proj.size else 0.0
        frob = float(np.linalg.norm(proj) / np.sqrt(d))
        out.append(IrrepBlock(i, psi.type, d, len(ro), len(ri), mat, spec, frob))
    resid = float(np.linalg.norm(wh - explained))
    scale = max(float(np.linalg.norm(wh)), 1e-300)
    if resid > atol * max(scale, 1.0):
        raise ValueError(
            f"layer: the map is not equivariant (relative residual {resid / scale:.2e} outside the irrep blocks); "
            "use perturbation='dense' for non-equivariant layers"
        )
    return out
