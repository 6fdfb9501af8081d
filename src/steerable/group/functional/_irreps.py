"""Irreps and representations of every ``steerable.group`` group as torch functions of element
parameters (the groups' internal layout, see the package docstring)."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import torch

from .._finite3d import FiniteO3Group
from .._irrep import IrreducibleRepresentation
from .._planar import PlanarGroup
from .._product import DirectProductGroup
from .._representation import Representation
from .._rot3d import O3, SO3
from ._checks import as_float_tensor, constant, degree, integer
from ._elements import _check_params, element_index
from ._planar import _rot2
from ._wigner import _as_matrices, _wigner_blocks


def o3_irrep(j: int, l: int, rotation, parity) -> torch.Tensor:
    """The O(3) irrep ``(j, l)``: ``(-1)^(j·parity) D^l(R)`` at the elements ``(parity, R)``
    (``parity`` (...,) 0/1, read as ``parity > 0.5``: 1 is the map ``x ↦ -R x``); ``rotation``:
    quaternions (..., 4) or matrices (..., 3, 3).

    >>> import torch
    >>> from steerable.group.functional import o3_irrep
    >>> o3_irrep(1, 1, torch.eye(3), torch.tensor(1.0)).diagonal().round(decimals=6).tolist()
    [-1.0, -1.0, -1.0]
    """
    j = integer(j, "j")
    if j not in (0, 1):
        raise ValueError(f"j: expected 0 or 1, got {j}")
    l = degree(l, "l")
    R = _as_matrices(rotation)
    D = _wigner_blocks(l, R, [l])[0]
    if j == 0:
        return D
    parity = as_float_tensor(parity, "parity").to(D.dtype)
    sign = torch.where(parity > 0.5, -torch.ones_like(parity), torch.ones_like(parity))
    return D * sign[..., None, None]


@cache
def _table(psi: IrreducibleRepresentation) -> np.ndarray:
    """ψ at every element of a finite group, in the order of ``G._all_batch()``."""
    G = psi.group
    t = np.ascontiguousarray(psi._matrices(G._all_batch()), dtype=np.float64)
    t.setflags(write=False)
    return t


def _lookup(psi: IrreducibleRepresentation, params: torch.Tensor) -> torch.Tensor:
    idx = element_index(psi.group, params)
    t = constant(_table(psi), params)
    return t[idx]


def _kron(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m = torch.einsum("...ij,...kl->...ikjl", a, b)
    s = m.shape
    return m.reshape(s[:-4] + (s[-4] * s[-3], s[-2] * s[-1]))


def _planar(G: PlanarGroup, id: tuple, params: torch.Tensor) -> torch.Tensor:
    flip, rot = params[..., 0], params[..., 1]
    angle = rot if G.continuous else rot * (2.0 * math.pi / G.N)
    k = G._freq(id)
    if G._is_1d(k):
        v = torch.cos(k * angle) if k else torch.ones_like(angle)
        if G.flips and id[0] == 1:
            v = torch.where(flip > 0.5, -v, v)
        return v[..., None, None]
    m = _rot2(k * angle)
    if G.flips:
        sign = torch.where(flip > 0.5, -torch.ones_like(flip), torch.ones_like(flip))
        m = m * torch.stack([torch.ones_like(sign), sign], -1)[..., None, :]
    return m


def _irrep(psi: IrreducibleRepresentation, params: torch.Tensor) -> torch.Tensor:
    G = psi.group
    if psi._custom is not None:
        if G.continuous:
            raise TypeError(
                f"irrep: {psi!r} is given by a Python callable on a continuous group; "
                "only the groups' own irreps have torch versions"
            )
        return _lookup(psi, params)
    if isinstance(G, PlanarGroup):
        return _planar(G, psi.id, params)
    if isinstance(G, SO3):
        return _wigner_blocks(psi.id[0], _as_matrices(params, "params"), [psi.id[0]])[0]
    if isinstance(G, O3):
        D = _wigner_blocks(psi.id[1], _as_matrices(params[..., 1:], "params"), [psi.id[1]])[0]
        if psi.id[0] == 1:
            D = torch.where((params[..., 0] > 0.5)[..., None, None], -D, D)
        return D
    if isinstance(G, FiniteO3Group):
        return _lookup(psi, params)
    if isinstance(G, DirectProductGroup):
        p1, p2, v = G._constituent(psi.id)
        k1 = G._k1
        m = _kron(_irrep(p1, params[..., :k1]), _irrep(p2, params[..., k1:]))
        if v is None:
            return m
        vt = constant(v, params)
        return vt.T @ m @ vt
    if not G.continuous:
        return _lookup(psi, params)
    raise TypeError(f"irrep: no torch version of the irreps of {G.name} ({type(G).__name__})")


def irrep_matrices(irrep: IrreducibleRepresentation, params) -> torch.Tensor:
    """The matrices ψ(g) (..., d, d) of an irrep of any ``steerable.group`` group at element
    parameters ``params`` (..., k) in the group's layout (:func:`param_dim`,
    :func:`element_params`); differentiable in the continuous parameters, equal to the numpy
    ``irrep(g)`` to rounding.

    >>> import torch
    >>> from steerable.group import so3_group
    >>> from steerable.group.functional import element_params, irrep_matrices
    >>> G = so3_group(2)
    >>> g = G.sample(seed=0)
    >>> D = irrep_matrices(G.irrep(2), element_params(g))
    >>> bool(torch.allclose(D, torch.tensor(G.irrep(2)(g))))
    True
    """
    if not isinstance(irrep, IrreducibleRepresentation):
        raise TypeError(f"irrep: expected an IrreducibleRepresentation, got {type(irrep).__name__}")
    params = _check_params(irrep.group, params)
    return _irrep(irrep, params)


def _block_diagonal(blocks: list[torch.Tensor]) -> torch.Tensor:
    if len(blocks) == 1:
        return blocks[0]
    total = sum(b.shape[-1] for b in blocks)
    rows, start = [], 0
    for b in blocks:
        d = b.shape[-1]
        rows.append(torch.nn.functional.pad(b, (start, total - start - d)))
        start += d
    return torch.cat(rows, -2)


def representation_matrices(rep: Representation, params) -> torch.Tensor:
    """The matrices ρ(g) = Q (⊕ᵢ ψᵢ(g)) Q⁻¹ (..., size, size) of any ``steerable.group``
    representation at element parameters ``params`` (..., k) (see :func:`irrep_matrices`).

    >>> import torch
    >>> from steerable.group import cyclic_group
    >>> from steerable.group.functional import element_params, representation_matrices
    >>> G = cyclic_group(4)
    >>> rho = G.regular_representation
    >>> g = G.element(1)
    >>> bool(torch.allclose(representation_matrices(rho, element_params(g)), torch.tensor(rho(g))))
    True
    """
    if isinstance(rep, IrreducibleRepresentation):
        return irrep_matrices(rep, params)
    if not isinstance(rep, Representation):
        raise TypeError(f"rep: expected a steerable.group.Representation, got {type(rep).__name__}")
    G = rep.group
    params = _check_params(G, params)
    cache: dict = {}
    blocks = []
    for i in rep.irreps:
        if i not in cache:
            cache[i] = _irrep(G.irrep(*i), params)
        blocks.append(cache[i])
    b = _block_diagonal(blocks)
    if rep._identity_basis:
        return b
    q = constant(rep.change_of_basis, b)
    qi = constant(rep.change_of_basis_inv, b)
    return q @ b @ qi
