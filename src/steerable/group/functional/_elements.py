"""Element parameters as tensors: ``GroupElement`` ↔ torch, element index ↔ parameters."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .._element import GroupElement
from .._finite3d import FiniteO3Group
from .._group import Group
from .._planar import PlanarGroup
from .._product import DirectProductGroup
from ._checks import as_float_tensor, last_dim


def _check_group(G, name: str = "G") -> Group:
    if not isinstance(G, Group):
        raise TypeError(f"{name}: expected a steerable.group.Group, got {type(G).__name__}")
    return G


def param_dim(G: Group) -> int:
    """The length k of an element's parameter vector (..., k) for ``G`` (the internal layout:
    C_N/D_N/SO(2)/O(2) 2, SO(3) 4, O(3) 5, finite 3-D groups 1, products the sum).

    >>> from steerable.group import o3_group, direct_product, so2_group
    >>> from steerable.group.functional import param_dim
    >>> param_dim(o3_group()), param_dim(direct_product(so2_group(), so2_group()))
    (5, 4)
    """
    return int(_check_group(G)._identity_value().shape[0])


def _check_params(G: Group, params, name: str = "params") -> torch.Tensor:
    return last_dim(params, param_dim(_check_group(G)), name)


def element_params(
    elements: GroupElement | Sequence[GroupElement],
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """The parameters of group elements as a tensor: (k,) for one element, (n, k) for a
    sequence (all of one group). Inverse: :func:`params_to_elements`.

    >>> from steerable.group import dihedral_group
    >>> from steerable.group.functional import element_params
    >>> G = dihedral_group(4)
    >>> element_params([G.element((1, 3)), G.identity]).tolist()
    [[1.0, 3.0], [0.0, 0.0]]
    """
    if not dtype.is_floating_point:
        raise ValueError(f"dtype: expected a floating dtype, got {dtype}")
    if isinstance(elements, GroupElement):
        return torch.as_tensor(np.array(elements._v), dtype=dtype, device=device)
    elements = list(elements)
    if not elements:
        raise ValueError("elements: expected at least one GroupElement, got none")
    if not isinstance(elements[0], GroupElement):
        raise TypeError(f"elements: expected GroupElements, got {type(elements[0]).__name__}")
    batch = elements[0].group._batch(elements, "elements")
    return torch.as_tensor(batch, dtype=dtype, device=device)


def params_to_elements(G: Group, params) -> list[GroupElement]:
    """The ``GroupElement``s of parameters (..., k) (flattened over the leading axes), normalised
    by the group (angles wrapped, quaternions canonical, indices rounded).

    >>> import torch
    >>> from steerable.group import so2_group
    >>> from steerable.group.functional import params_to_elements
    >>> params_to_elements(so2_group(), torch.tensor([[0.0, 7.0]]))[0].value
    0.7168146928204138
    """
    p = _check_params(G, params)
    b = p.detach().to("cpu", torch.float64).reshape(-1, p.shape[-1]).numpy()
    if len(b) == 0:
        return []
    e = np.repeat(G._identity_value()[None], len(b), 0)
    return G._elements_of(G._combine(e, b))


def _finite_index(G: Group, p: torch.Tensor) -> torch.Tensor:
    if isinstance(G, PlanarGroup):
        f = torch.round(p[..., 0]).long().remainder(2)
        r = torch.round(p[..., 1]).long().remainder(G.N)
        return (f * G.N + r) if G.flips else r
    if isinstance(G, FiniteO3Group):
        return torch.round(p[..., 0]).long().remainder(G.order())
    if isinstance(G, DirectProductGroup):
        k1 = G._k1
        return _finite_index(G.G1, p[..., :k1]) * G.G2.order() + _finite_index(G.G2, p[..., k1:])
    raise TypeError(f"G: no element index for the parameters of {G.name} ({type(G).__name__})")


def element_index(G: Group, params) -> torch.Tensor:
    """The index (long tensor (...,)) of the elements with parameters (..., k) of a finite group,
    in the order of ``G.elements``. Inverse: :func:`index_params`.

    >>> import torch
    >>> from steerable.group import dihedral_group
    >>> from steerable.group.functional import element_index
    >>> element_index(dihedral_group(4), torch.tensor([[1.0, 3.0], [0.0, 2.0]])).tolist()
    [7, 2]
    """
    _check_group(G)
    if G.continuous:
        raise ValueError(f"G: expected a finite group, got the continuous group {G.name}")
    return _finite_index(G, _check_params(G, params))


def index_params(
    G: Group, index, dtype: torch.dtype = torch.float64, device: torch.device | str | None = None
) -> torch.Tensor:
    """The parameters (..., k) of the elements of a finite group with indices ``index`` (...,)
    (the order of ``G.elements``).

    >>> import torch
    >>> from steerable.group import dihedral_group
    >>> from steerable.group.functional import index_params
    >>> index_params(dihedral_group(4), torch.tensor([7, 2])).tolist()
    [[1.0, 3.0], [0.0, 2.0]]
    """
    _check_group(G)
    if G.continuous:
        raise ValueError(f"G: expected a finite group, got the continuous group {G.name}")
    if not isinstance(index, torch.Tensor):
        index = torch.as_tensor(index)
    if index.is_floating_point() or index.dtype == torch.bool:
        raise TypeError(f"index: expected an integer tensor, got dtype {index.dtype}")
    table = torch.as_tensor(G._all_batch(), dtype=dtype, device=device if device is not None else index.device)
    n = table.shape[0]
    if index.numel() and (int(index.min()) < 0 or int(index.max()) >= n):
        raise ValueError(f"index: expected indices in [0, {n}), got values in [{int(index.min())}, {int(index.max())}]")
    return table[index.to(table.device)]


def finite_quaternions(
    G: Group, dtype: torch.dtype = torch.float64, device: torch.device | str | None = None
) -> torch.Tensor:
    """The elements of a finite 3-D group (ico, octa, tetra, full tetra) as O(3) parameters
    ``(parity, qx, qy, qz, qw)`` (n, 5), in index order (parity 1: ``x ↦ -R x``).

    >>> from steerable.group import octa_group
    >>> from steerable.group.functional import finite_quaternions
    >>> finite_quaternions(octa_group()).shape
    torch.Size([24, 5])
    """
    if not isinstance(G, FiniteO3Group):
        raise TypeError(f"G: expected a finite subgroup of O(3) (ico, octa, tetra, full tetra), got {G!r}")
    return torch.as_tensor(np.array(G._table_o3), dtype=dtype, device=device)


def index_from_quaternion(G: Group, q, tol: float = 1e-6) -> torch.Tensor:
    """The index (long (...,)) of the element of a finite 3-D group given by a unit quaternion
    (..., 4) (a rotation, any sign) or by O(3) parameters ``(parity, q)`` (..., 5); raises
    ``ValueError`` when some input is not within ``tol`` of an element. Not differentiable.

    >>> import torch
    >>> from steerable.group import octa_group
    >>> from steerable.group.functional import index_from_quaternion
    >>> index_from_quaternion(octa_group(), torch.tensor([0.0, 0.0, 0.0, -1.0])).tolist()
    0
    """
    table = finite_quaternions(G)
    has_parity = bool(G._has_parity)  # type: ignore[attr-defined]  # G is a FiniteO3Group here
    q = as_float_tensor(q, "q")
    if q.dim() < 1 or q.shape[-1] not in (4, 5):
        raise ValueError(f"q: expected quaternions (..., 4) or (parity, quaternion) (..., 5), got {tuple(q.shape)}")
    table = table.to(dtype=q.dtype, device=q.device)
    if q.shape[-1] == 4:
        if has_parity:
            raise ValueError(f"q: {G.name} contains improper elements: pass (parity, quaternion) (..., 5)")
        par, rot = torch.zeros_like(q[..., 0]), q
    else:
        par, rot = q[..., 0], q[..., 1:]
    rot = rot / torch.linalg.vector_norm(rot, dim=-1, keepdim=True)
    same = (par[..., None] > 0.5) == (table[:, 0] > 0.5)
    dots = (rot @ table[:, 1:].T).abs() * same
    best, idx = dots.max(-1)
    if best.numel() and bool((best < 1 - tol).any()):
        raise ValueError(f"q: some quaternions are not elements of {G.name} (within tol={tol})")
    return idx
