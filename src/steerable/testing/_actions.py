"""How a group element acts on one leaf of an input or output: field types (grids, vectors,
point clouds), representations (plain vectors), gspaces (point positions), user callables; and the
relabelling of points by a permutation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from steerable.group import Representation
from steerable.gspaces import GSpace
from steerable.nn import FieldType, GeometricTensor

MISSING = type("MissingType", (), {"__repr__": lambda self: "MISSING"})()
"""No type given for a leaf: a GeometricTensor uses its own, index tensors and non-tensors are
left alone, a floating-point tensor is an error."""

_KINDS = "a FieldType, a Representation, a GSpace (point positions), None (invariant) or a callable (x, g) -> g·x"


def is_float_tensor(x: Any) -> bool:
    return isinstance(x, torch.Tensor) and (x.is_floating_point() or x.is_complex())


def check_leaf_spec(spec: Any, leaf: Any, argname: str, path: str) -> None:
    """Raise TypeError when ``spec`` cannot act on ``leaf``."""
    if spec is MISSING:
        if is_float_tensor(leaf):
            raise TypeError(
                f"{argname}: the plain tensor at {path} (shape {tuple(leaf.shape)}) needs a type to be acted on: "
                f"give {argname} ({_KINDS}) or an action; wrap fields in GeometricTensors to use their own types"
            )
        return
    if spec is None or isinstance(spec, (FieldType, Representation, GSpace)):
        return
    if not callable(spec):
        raise TypeError(f"{argname}: expected {_KINDS} at {path}, got {type(spec).__name__}")


def _channel_axis(x: torch.Tensor) -> int:
    return 1 if x.dim() > 1 else 0


def _apply_matrix(x: torch.Tensor, m: Any, axis: int | None, argname: str) -> torch.Tensor:
    mt = torch.as_tensor(np.asarray(m.detach().cpu() if isinstance(m, torch.Tensor) else m))
    ax = _channel_axis(x) if axis is None else axis
    if mt.dim() != 2 or mt.shape[0] != mt.shape[1] or not -x.dim() <= ax < x.dim() or mt.shape[1] != x.shape[ax]:
        raise ValueError(
            f"{argname}: a square matrix acting on axis {ax} of a tensor of shape {tuple(x.shape)} is needed, "
            f"got a matrix of shape {tuple(mt.shape)}"
        )
    mt = mt.to(device=x.device, dtype=x.dtype)
    return torch.movedim(torch.movedim(x, ax, -1) @ mt.T, -1, ax)


def matrix_action(
    rho: Representation | Callable[[Any], Any] | None = None, axis: int | None = None
) -> Callable[[Any, Any], Any]:
    """An action ``(x, g) -> ρ(g)·x`` on the channel axis of tensors (axis 1, or axis 0 of a 1-D
    tensor; ``axis`` to choose another), for ``in_action`` / ``out_action`` / as a type.

    ``rho``: a :class:`~steerable.group.Representation`, any callable returning the matrix of an
    element (numpy array or tensor), or None when the elements themselves are the matrices.
    GeometricTensors are acted on along their channel axis and keep their type.

    >>> import torch
    >>> from steerable.testing import assert_equivariant, matrix_action
    >>> R = torch.tensor([[0.0, -1.0], [1.0, 0.0]])                  # a 90° rotation
    >>> _ = assert_equivariant(lambda v: 2 * v, inputs=torch.randn(5, 2), elements=[R, R @ R],
    ...                        in_action=matrix_action(), out_action=matrix_action())
    """
    if rho is not None and not callable(rho):
        raise TypeError(f"rho: expected a Representation, a callable g -> matrix or None, got {type(rho).__name__}")
    if axis is not None and (isinstance(axis, bool) or not isinstance(axis, int)):
        raise TypeError(f"axis: expected an int or None, got {type(axis).__name__}")

    def act(x: Any, g: Any) -> Any:
        m = g if rho is None else rho(g)
        if isinstance(x, GeometricTensor):
            ax = (1 if x.coords is None and x.tensor.dim() > 1 else -1) if axis is None else axis
            return GeometricTensor(_apply_matrix(x.tensor, m, ax, "rho"), x.type, x.coords)
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x: matrix_action acts on tensors, got {type(x).__name__}")
        return _apply_matrix(x, m, axis, "rho")

    return act


def kernel_action(
    in_repr: Representation | Callable[[Any], Any],
    out_repr: Representation | Callable[[Any], Any],
    in_axis: int = -1,
    out_axis: int = -2,
) -> Callable[[Any, Any], Any]:
    """The action on kernels (or any linear maps) ``K -> ρ_out(g) K ρ_in(g)⁻¹``, with the output
    index of ``K`` on ``out_axis`` and the input index on ``in_axis``: a steerable kernel basis
    satisfies ``K(g·p) = ρ_out(g) K(p) ρ_in(g)⁻¹``.

    >>> import torch
    >>> from steerable import gspaces
    >>> from steerable.kernels import SteerableKernelBasis
    >>> from steerable.testing import assert_equivariant, kernel_action
    >>> gs = gspaces.rot2dOnR2(8)
    >>> basis = SteerableKernelBasis(gs, gs.irrep(1), gs.regular_repr, rings=[0.0, 1.0])
    >>> pts = torch.randn(6, 2, dtype=torch.float64)
    >>> _ = assert_equivariant(lambda p: torch.as_tensor(basis.sample(p.numpy())), inputs=pts, in_type=gs,
    ...                        out_action=kernel_action(gs.irrep(1), gs.regular_repr, in_axis=2, out_axis=1))
    """
    for r, name in ((in_repr, "in_repr"), (out_repr, "out_repr")):
        if not callable(r):
            raise TypeError(f"{name}: expected a Representation or a callable g -> matrix, got {type(r).__name__}")
    for a, name in ((in_axis, "in_axis"), (out_axis, "out_axis")):
        if isinstance(a, bool) or not isinstance(a, int):
            raise TypeError(f"{name}: expected an int, got {type(a).__name__}")
    inverse_transposed = lambda g: np.linalg.inv(np.asarray(in_repr(g), dtype=np.float64)).T
    act_in, act_out = matrix_action(inverse_transposed, in_axis), matrix_action(out_repr, out_axis)
    return lambda k, g: act_out(act_in(k, g), g)


def act_leaf(x: Any, spec: Any, g: Any, fibers_only: bool) -> Any:
    """``g·x`` for one leaf (``spec`` validated by :func:`check_leaf_spec`)."""
    if isinstance(x, GeometricTensor) and (spec is MISSING or isinstance(spec, (FieldType, Representation, GSpace))):
        return x.transform_fibers(g) if fibers_only else x.transform(g)
    if spec is MISSING or spec is None:
        return x
    if isinstance(spec, (FieldType, Representation, GSpace)) and not is_float_tensor(x):
        return x  # indices (edge_index), masks and non-tensors are invariant
    if isinstance(spec, FieldType):
        if fibers_only or spec.gspace.dimensionality == 0:
            return spec.transform_fibers(x, g)
        return spec.transform(x, g)
    if isinstance(spec, Representation):
        return _apply_matrix(x, spec(g), None, "in_type")
    if isinstance(spec, GSpace):
        return x if fibers_only else spec.transform_points(x, g)
    return spec(x, g)


# ------------------------------------------------------------------------------ points
def _is_points(x: Any, spec: Any) -> bool:
    return (isinstance(x, GeometricTensor) and x.coords is not None) or (
        isinstance(spec, GSpace) and isinstance(x, torch.Tensor) and x.dim() == 2
    )


def n_points(pairs: list[tuple[Any, Any, str]]) -> int:
    """The number of points of a point cloud / graph input: the rows of its GeometricTensors with
    coords and of its position tensors (they must agree)."""
    sizes = {p: int(x.shape[0]) for x, s, p in pairs if _is_points(x, s)}
    if not sizes:
        raise ValueError(
            "permute: no point cloud among the inputs (a GeometricTensor with coords, or positions "
            "typed by a GSpace) whose points could be permuted"
        )
    if len(set(sizes.values())) != 1:
        raise ValueError(f"permute: the point clouds among the inputs have different numbers of points {sizes}")
    return next(iter(sizes.values()))


def permute_leaf(x: Any, perm: torch.Tensor, inverse: torch.Tensor, n: int) -> Any:
    """Relabel the points of a leaf: point tensors (first axis of length ``n``) are reordered,
    index tensors of shape (2, E) (edge_index) have their node labels renamed."""
    if isinstance(x, GeometricTensor):
        if x.coords is None or x.tensor.shape[0] != n:
            return x
        p = perm.to(x.tensor.device)
        return GeometricTensor(x.tensor[p], x.type, x.coords[p])
    if not isinstance(x, torch.Tensor) or x.dim() == 0:
        return x
    if not (x.is_floating_point() or x.is_complex()) and x.dim() == 2 and x.shape[0] == 2 and x.dtype != torch.bool:
        return inverse.to(x.device)[x]
    if x.shape[0] == n:
        return x[perm.to(x.device)]
    return x
