"""Fourier nonlinearities: sample band-limited functions on G (or on G/H) on a grid, apply a
pointwise function to the samples, and project back onto band-limited coefficients.

A field of ``FourierPointwise`` holds the Fourier coefficients ``x`` of a band-limited function
on the group, ``f(g) = a(g) · x`` (``steerable.group.sampling_matrix``); the field's
representation is the band-limited regular representation ⊕ψ^{dim ψ/type} over ``irreps`` with
identity change of basis, on which G acts as the left-regular action on functions. The module
computes, per field,

    y = A⁺_out · σ(A · x),        A[n] = a(g_n) (rows normalised when ``normalize``)

for the grid ``g_1..g_N = gspace.fibergroup.grid(*grid_args, **grid_kwargs)``; ``A⁺_out`` is the
least-squares inverse of the output sampling matrix (over ``out_irreps`` together with the input
irreps missing from them, as escnn does, rows for ``out_irreps`` kept; ``out_irreps`` alone when
the grid cannot resolve both). The map is exactly
equivariant to the elements g with g·grid = grid (every element of a finite group with its
regular grid; the cube's rotations with the ``'cube'``/``'thomson_cube'`` grids of SO(3); 90°
rotations with a regular SO(2) grid of 4k points) and approximately equivariant to the others,
the error shrinking as the grid grows.

Memory: the grid-sized samples ``σ(A x)`` (N/D times the input) are not kept for backward. A
custom ``torch.autograd.Function`` saves only the input and recomputes ``A x`` and ``σ'(A x)`` in
backward (one extra matmul and one extra pass of σ' over the samples), so the activation memory a
layer holds between forward and backward is that of its input instead of N/D times it. On CPU
(``benchmarks/fourier.py``) e.g. SO(2), L = 3, N = 32: 3.5 MB kept instead of 16 MB, step peak
39 MB instead of 52 MB, for about 1.2–1.7× the naive step time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from steerable._validation import check_int
from steerable.group import GroupElement, IrreducibleRepresentation, Representation, sampling_matrix
from steerable.group._quotient_fourier import invariant_vectors, quotient_sampling_matrix

from .._constants import ExactConstants
from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule

__all__ = [
    "FourierPointwise",
    "FourierELU",
    "QuotientFourierPointwise",
    "QuotientFourierELU",
    "FourierPointwiseExport",
]

FUNCTIONS = ("p_relu", "p_elu", "p_sigmoid", "p_tanh")


# ------------------------------------------------------------------------------------------
# activation functions and their derivatives (as functions of the pre-activation s)
# ------------------------------------------------------------------------------------------
def _act(name: str, s: torch.Tensor, inplace: bool) -> torch.Tensor:
    if name == "p_relu":
        return torch.relu_(s) if inplace else torch.relu(s)
    if name == "p_elu":
        return F.elu_(s) if inplace else F.elu(s)
    if name == "p_sigmoid":
        return torch.sigmoid_(s) if inplace else torch.sigmoid(s)
    if name == "p_tanh":
        return torch.tanh_(s) if inplace else torch.tanh(s)
    raise ValueError(f"function: unknown function {name!r}")  # pragma: no cover (validated)


def _grad_through(name: str, s: torch.Tensor, g: torch.Tensor, inplace: bool) -> torch.Tensor:
    """``g * σ'(s)``; overwrites ``s`` and ``g`` when ``inplace`` (no double backward then)."""
    if name == "p_relu":
        return g.masked_fill_(s <= 0, 0) if inplace else g * (s > 0).to(g.dtype)
    if name == "p_elu":  # σ'(s) = exp(min(s, 0))
        return g.mul_(s.clamp_(max=0).exp_()) if inplace else g * torch.exp(s.clamp(max=0))
    if name == "p_sigmoid":
        if inplace:
            t = s.sigmoid_()
            return g.mul_(t).mul_(t.neg_().add_(1))
        t = torch.sigmoid(s)
        return g * t * (1 - t)
    if name == "p_tanh":
        if inplace:
            t = s.tanh_()
            return g.mul_(t.mul_(t).neg_().add_(1))
        return g * (1 - torch.tanh(s) ** 2)
    raise ValueError(f"function: unknown function {name!r}")  # pragma: no cover


def _lin(M: torch.Tensor, v: torch.Tensor, rows: bool) -> torch.Tensor:
    """``M`` applied to the vectors of ``v``: its rows (``v`` (K, D), ``rows``) or the columns of
    its last two axes (``v`` (..., D, S))."""
    return torch.matmul(v, M.transpose(0, 1)) if rows else torch.matmul(M, v)


class _FourierActFn(torch.autograd.Function):
    """``out = A_inv σ(A x)`` on the vectors of ``x`` (see ``_lin``), saving only ``x``."""

    @staticmethod
    def forward(ctx, x, A, A_inv, fn, rows):
        with torch.no_grad():
            s = _lin(A, x, rows)
            y = _act(fn, s, True) if isinstance(fn, str) else fn(s)
            out = _lin(A_inv, y, rows)
        ctx.fn = fn
        ctx.rows = rows
        ctx.save_for_backward(x, A, A_inv)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, A, A_inv = ctx.saved_tensors
        fn, rows = ctx.fn, ctx.rows
        if not ctx.needs_input_grad[0]:
            return None, None, None, None, None
        gy = _lin(A_inv.transpose(0, 1), grad, rows)
        if isinstance(fn, str):
            create_graph = torch.is_grad_enabled()
            s = _lin(A, x, rows)
            gs = _grad_through(fn, s, gy, inplace=not create_graph)
        else:
            with torch.enable_grad():
                s = _lin(A, x.detach(), rows).requires_grad_(True)
                y = fn(s.clone())  # the clone lets in-place callables work on a non-leaf
                (gs,) = torch.autograd.grad(y, s, gy)
        gx = _lin(A.transpose(0, 1), gs, rows)
        return gx, None, None, None, None


def _fourier_apply(
    t: torch.Tensor, A: torch.Tensor, A_inv: torch.Tensor, channels: int, fn: str | Callable, recompute: bool = True
) -> torch.Tensor:
    """Apply ``A_inv σ(A ·)`` to every field of ``t`` (channel axis 1, or 0 for a 1-d tensor).

    ``recompute=False`` builds the plain autograd graph as escnn does (function applied in place
    on the samples, which the graph then keeps for backward); the reference the benchmark and
    tests compare time and memory against.
    """
    squeeze = t.dim() == 1
    if squeeze:
        t = t.unsqueeze(0)
    b, spatial = t.shape[0], t.shape[2:]
    d_in, d_out = A.shape[1], A_inv.shape[0]
    rows = math.prod(spatial) == 1  # no base space / point clouds: one (B·C, D) @ (D, N) matmul
    x = t.reshape(b * channels, d_in) if rows else t.reshape(b, channels, d_in, -1)
    if torch.is_grad_enabled() and x.requires_grad:
        if recompute:
            out = _FourierActFn.apply(x, A, A_inv, fn, rows)
        else:
            s = _lin(A, x, rows)
            out = _lin(A_inv, _act(fn, s, True) if isinstance(fn, str) else fn(s), rows)
    else:
        s = _lin(A, x, rows)
        out = _lin(A_inv, _act(fn, s, True) if isinstance(fn, str) else fn(s), rows)
    out = out.reshape(b, channels * d_out, *spatial)
    return out.squeeze(0) if squeeze else out


# ------------------------------------------------------------------------------------------
# construction helpers
# ------------------------------------------------------------------------------------------
def _check_function(function: Any) -> str | Callable:
    if isinstance(function, str):
        if function not in FUNCTIONS:
            raise ValueError(f"function: unknown function {function!r}; expected one of {FUNCTIONS} or a callable")
        return function
    if callable(function):
        return function
    raise TypeError(f"function: expected one of {FUNCTIONS} or a callable, got {type(function).__name__}")


def _irrep_ids(G, irreps: Any, argname: str) -> list[tuple]:
    """Validated irrep ids from an int L (``G.bl_irreps(L)``) or a list of ids/irreps."""
    if isinstance(irreps, (int, np.integer)) and not isinstance(irreps, bool):
        if int(irreps) < 0:
            raise ValueError(f"{argname}: expected a non-negative band limit, got {irreps}")
        return [(p if isinstance(p, IrreducibleRepresentation) else G.irrep(*p)).id for p in G.bl_irreps(int(irreps))]
    if isinstance(irreps, (str, bytes)) or not hasattr(irreps, "__iter__"):
        raise TypeError(f"{argname}: expected a list of irrep ids of {G.name}, got {type(irreps).__name__}")
    ids = []
    for i in irreps:
        if isinstance(i, IrreducibleRepresentation):
            if i.group != G:
                raise ValueError(f"{argname}: {i!r} is an irrep of {i.group.name}, not of {G.name}")
            ids.append(i.id)
            continue
        try:
            ids.append(G.irrep(*(i if isinstance(i, tuple) else (i,))).id)
        except (ValueError, TypeError) as e:
            raise ValueError(f"{argname}: {i!r} is not an irrep id of {G.name} ({e})") from None
    if not ids:
        raise ValueError(f"{argname}: expected at least one irrep, got none")
    if len(set(ids)) != len(ids):
        raise ValueError(f"{argname}: duplicate irreps in {ids}")
    return ids


def _make_grid(G, grid_args: tuple, grid_kwargs: dict) -> list[GroupElement]:
    grid_kwargs = dict(grid_kwargs)
    grid = grid_kwargs.pop("grid", None)
    if grid is not None:
        if grid_args or grid_kwargs:
            raise ValueError("grid: pass either an explicit grid or grid arguments, not both")
        grid = list(grid)
        for g in grid:
            if not isinstance(g, GroupElement) or g.group != G:
                raise ValueError(f"grid: expected elements of {G.name}, got {g!r}")
    else:
        grid = G.grid(*grid_args, **grid_kwargs)
    if not grid:
        raise ValueError("grid: expected at least one group element, got none")
    return grid


def _full_rank(A: np.ndarray) -> int:
    return int(np.linalg.matrix_rank(A, tol=1e-9 * max(1.0, float(np.abs(A).max()))))


def _build_matrices(
    sample: Callable[[list, list], np.ndarray],
    G,
    in_ids: list,
    out_ids: list,
    grid: list,
    normalize: bool,
    what: str,
    strict: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """(A (N, D_in), A_inv (D_out, N)) for sampling functions ``sample(ids, elements)``.
    ``strict=False`` (the adaptive layers) admits grids too small to resolve the coefficients:
    ``A_inv`` is then the minimum-norm pseudo-inverse."""
    A = sample(in_ids, grid)
    if strict and _full_rank(A) < A.shape[1]:
        raise ValueError(
            f"grid: {len(grid)} points resolve only {_full_rank(A)} of the {A.shape[1]} coefficients of "
            f"the input {what} over irreps {in_ids}; use a larger grid"
        )
    ext_ids = list(out_ids) + [i for i in in_ids if i not in out_ids]
    A_out = sample(ext_ids, grid)
    if _full_rank(A_out) < A_out.shape[1]:  # the grid cannot fit the input irreps as well
        ext_ids = list(out_ids)
        A_out = sample(ext_ids, grid)
        if strict and _full_rank(A_out) < A_out.shape[1]:
            raise ValueError(
                f"grid: {len(grid)} points resolve only {_full_rank(A_out)} of the {A_out.shape[1]} "
                f"coefficients of the output {what} over out_irreps {out_ids}; use a larger grid"
            )
    if normalize:  # escnn: unit-norm rows of the sampling matrices (all rows have equal norm)
        A = A / np.linalg.norm(sample(in_ids, [G.identity]))
        A_out = A_out / np.linalg.norm(sample(ext_ids, [G.identity]))
    d_out = sample(out_ids, [G.identity]).shape[1]
    A_inv = np.linalg.pinv(A_out)[:d_out]
    return np.ascontiguousarray(A), np.ascontiguousarray(A_inv)


# ------------------------------------------------------------------------------------------
# modules
# ------------------------------------------------------------------------------------------
class _FourierBase(ExactConstants, EquivariantModule):
    """Shared machinery: ``A``/``A_inv`` as constants (non-persistent buffers rebuilt from their
    float64 masters on every dtype change), the forward pass and export."""

    A: torch.Tensor
    A_inv: torch.Tensor
    function: str | Callable

    def _setup(
        self,
        gspace,
        channels: int,
        rho_in: Representation,
        rho_out: Representation,
        A: np.ndarray,
        A_inv: np.ndarray,
        function,
        inplace: bool,
        grid: list,
    ) -> None:
        self.space = gspace
        self.channels = channels
        self.rho = rho_in
        self.rho_out = rho_out
        self.in_type = FieldType(gspace, [rho_in] * channels)
        self.out_type = FieldType(gspace, [rho_out] * channels)
        self.function = function
        self.inplace = bool(inplace)
        self.grid = list(grid)
        self.register_constant("A", A)
        self.register_constant("A_inv", A_inv)

    @property
    def _A_np(self) -> np.ndarray:
        """The float64 master of ``A``."""
        return self.constant_master("A")

    @property
    def _A_inv_np(self) -> np.ndarray:
        """The float64 master of ``A_inv``."""
        return self.constant_master("A_inv")

    @property
    def Ainv(self) -> torch.Tensor:
        """escnn's name for ``A_inv`` (samples on the grid → Fourier coefficients)."""
        return self.A_inv

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        """Sample each field on the grid, apply the function, project back (see the class)."""
        self._check_input(x)
        t = x.tensor
        A, A_inv = self.A, self.A_inv
        if A.dtype != t.dtype:  # e.g. float64 input to a float32 module: rebuild from float64
            A = torch.as_tensor(self.constant_master("A"), dtype=t.dtype, device=t.device)
            A_inv = torch.as_tensor(self.constant_master("A_inv"), dtype=t.dtype, device=t.device)
        out = _fourier_apply(t, A, A_inv, self.channels, self.function)
        return GeometricTensor(out, self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape: Sequence[int]) -> tuple:
        shape = tuple(input_shape)
        if len(shape) == 1:
            if shape[0] != self.in_type.size:
                raise ValueError(f"input_shape: expected ({self.in_type.size},), got {shape}")
            return (self.out_type.size,)
        if len(shape) < 2 or shape[1] != self.in_type.size:
            raise ValueError(f"input_shape: expected (B, {self.in_type.size}, ...), got {shape}")
        return (shape[0], self.out_type.size, *shape[2:])

    def export(self) -> torch.nn.Module:
        """A plain module storing ``A`` and ``A_inv`` that computes the same function."""
        return FourierPointwiseExport(
            self.A.detach().clone(), self.A_inv.detach().clone(), self.channels, self.function
        ).train(self.training)

    def extra_repr(self) -> str:
        fn = self.function if isinstance(self.function, str) else getattr(self.function, "__name__", "callable")
        return (
            f"{self.space.fibergroup.name}: {self.channels} fields, irreps {self.rho.size}->{self.rho_out.size}, "
            f"grid {len(self.grid)} points, function={fn}"
        )


class FourierPointwise(_FourierBase):
    """A pointwise function applied to band-limited functions on the group, through their samples.

    Each of the ``channels`` fields holds the Fourier coefficients (over ``irreps``: a list of irrep
    ids, or an int L for ``G.bl_irreps(L)``) of a function on G = ``gspace.fibergroup``. The
    module samples it on ``G.grid(*grid_args, **grid_kwargs)`` (or ``grid=[elements]``), applies
    ``function`` (``'p_relu'``, ``'p_elu'``, ``'p_sigmoid'``, ``'p_tanh'`` or a callable) and
    projects back by least squares onto ``out_irreps`` (default ``irreps``). ``normalize``
    (escnn's default) scales the sampling matrices to unit-norm rows; ``inplace`` is accepted for
    escnn compatibility (the samples are a private buffer, so the function always runs in place
    on them and never on the input). Exactly equivariant to the elements that map the grid to
    itself, approximately to the others. Backward recomputes the samples instead of storing them.

    >>> import torch
    >>> from steerable import gspaces
    >>> from steerable.nn import FourierPointwise
    >>> gs = gspaces.rot2dOnR2(-1, maximum_frequency=3)
    >>> act = FourierPointwise(gs, 4, [(0,), (1,), (2,)], 'regular', 12, function='p_elu')
    >>> act.in_type.size
    20
    >>> y = act(act.in_type(torch.randn(2, 20, 9, 9)))
    >>> y.shape
    torch.Size([2, 20, 9, 9])
    >>> _ = act.check_equivariance()  # the 90° rotations map the 12-point grid to itself
    """

    def __init__(
        self,
        gspace,
        channels: int,
        irreps,
        *grid_args: Any,
        function: str | Callable = "p_relu",
        inplace: bool = True,
        out_irreps=None,
        normalize: bool = True,
        **grid_kwargs: Any,
    ):
        super().__init__()
        from steerable.gspaces import GSpace

        strict = bool(grid_kwargs.pop("_strict", True))  # the adaptive layers admit small grids
        if not isinstance(gspace, GSpace):
            raise TypeError(f"gspace: expected a steerable GSpace, got {type(gspace).__name__}")
        channels = check_int(channels, "channels", minimum=1, what="a positive integer")
        function = _check_function(function)
        G = gspace.fibergroup
        in_ids = _irrep_ids(G, irreps, "irreps")
        out_ids = in_ids if out_irreps is None else _irrep_ids(G, out_irreps, "out_irreps")
        grid = _make_grid(G, grid_args, grid_kwargs)

        def sample(ids, elements):
            return sampling_matrix(G, ids, elements)

        A, A_inv = _build_matrices(sample, G, in_ids, out_ids, grid, bool(normalize), "functions", strict)
        rho_in = _regular_bl(G, in_ids)
        rho_out = rho_in if out_irreps is None else _regular_bl(G, out_ids)
        self.irreps = in_ids
        self.out_irreps = out_ids
        self._setup(gspace, channels, rho_in, rho_out, A, A_inv, function, inplace, grid)


def _regular_bl(G, ids: list) -> Representation:
    """⊕ψ^{dim ψ/type} over ``ids`` with identity basis (``FourierTransform.representation``)."""
    out = []
    for i in ids:
        p = G.irrep(*i)
        out += [i] * (p.size // p.sum_of_squares_constituents)
    return Representation(G, "fourier", out, None)


class FourierELU(FourierPointwise):
    """``FourierPointwise`` with ELU (see there).

    >>> import torch
    >>> from steerable import gspaces
    >>> from steerable.nn import FourierELU
    >>> gs = gspaces.rot3dOnR3(maximum_frequency=1)
    >>> act = FourierELU(gs, 2, [(0,), (1,)], 'cube')
    >>> act(act.in_type(torch.randn(1, 20, 5, 5, 5))).shape
    torch.Size([1, 20, 5, 5, 5])
    >>> _ = act.check_equivariance(spatial=5)  # the cube grid is closed under the voxel symmetries
    """

    def __init__(
        self,
        gspace,
        channels: int,
        irreps,
        *grid_args: Any,
        inplace: bool = True,
        out_irreps=None,
        normalize: bool = True,
        **grid_kwargs: Any,
    ):
        if "function" in grid_kwargs:
            raise TypeError("function: FourierELU always applies ELU; use FourierPointwise for other functions")
        super().__init__(
            gspace,
            channels,
            irreps,
            *grid_args,
            function="p_elu",
            inplace=inplace,
            out_irreps=out_irreps,
            normalize=normalize,
            **grid_kwargs,
        )


class QuotientFourierPointwise(_FourierBase):
    """A pointwise function applied to band-limited functions on the quotient G/H.

    ``subgroup_id`` names H (e.g. ``(False, -1)``: SO(2) in SO(3), so G/H is the sphere). Each
    field holds coefficients in ⊕_ψ ψ^{dim(ψ^H)/type} over ``irreps`` (irreps without H-invariant
    vectors drop out), i.e. a function with f(gh) = f(g) (see
    ``steerable.group._quotient_fourier``). The function is sampled on a grid of G
    (``G.grid(*grid_args, **grid_kwargs)``), the same as for ``FourierPointwise``.

    >>> import torch
    >>> from steerable import gspaces
    >>> from steerable.nn import QuotientFourierPointwise
    >>> gs = gspaces.rot3dOnR3(maximum_frequency=2)
    >>> act = QuotientFourierPointwise(gs, (False, -1), 3, 2, 'thomson', 40, function='p_elu')
    >>> act.in_type.size  # 3 spherical signals with l <= 2
    27
    >>> act(act.in_type(torch.randn(2, 27, 5, 5, 5))).shape
    torch.Size([2, 27, 5, 5, 5])
    """

    def __init__(
        self,
        gspace,
        subgroup_id: Any,
        channels: int,
        irreps,
        *grid_args: Any,
        grid: list | None = None,
        function: str | Callable = "p_relu",
        inplace: bool = True,
        out_irreps=None,
        normalize: bool = True,
        **grid_kwargs: Any,
    ):
        super().__init__()
        strict = bool(grid_kwargs.pop("_strict", True))  # the adaptive layers admit small grids
        if grid is not None:
            grid_kwargs = dict(grid_kwargs, grid=grid)
        from steerable.gspaces import GSpace

        if not isinstance(gspace, GSpace):
            raise TypeError(f"gspace: expected a steerable GSpace, got {type(gspace).__name__}")
        channels = check_int(channels, "channels", minimum=1, what="a positive integer")
        function = _check_function(function)
        G = gspace.fibergroup
        G._subgroup_data(subgroup_id)  # ValueError naming subgroup_id
        in_ids = _quotient_ids(G, subgroup_id, _irrep_ids(G, irreps, "irreps"), "irreps")
        out_ids = (
            in_ids
            if out_irreps is None
            else _quotient_ids(G, subgroup_id, _irrep_ids(G, out_irreps, "out_irreps"), "out_irreps")
        )
        grid = _make_grid(G, grid_args, grid_kwargs)

        def sample(ids, elements):
            return quotient_sampling_matrix(G, subgroup_id, ids, elements)

        A, A_inv = _build_matrices(sample, G, in_ids, out_ids, grid, bool(normalize), "quotient functions", strict)
        rho_in = _quotient_bl(G, subgroup_id, in_ids)
        rho_out = rho_in if out_irreps is None else _quotient_bl(G, subgroup_id, out_ids)
        self.subgroup_id = subgroup_id
        self.irreps = in_ids
        self.out_irreps = out_ids
        self._setup(gspace, channels, rho_in, rho_out, A, A_inv, function, inplace, grid)


def _quotient_ids(G, subgroup_id, ids: list, argname: str) -> list:
    """The irreps of ``ids`` that have H-invariant vectors (ValueError if none has)."""
    keep = [i for i in ids if invariant_vectors(G, subgroup_id, G.irrep(*i)).shape[1] > 0]
    if not keep:
        raise ValueError(
            f"{argname}: none of the irreps {ids} has vectors invariant under the subgroup {subgroup_id!r}, "
            "so they carry no function on the quotient"
        )
    return keep


def _quotient_bl(G, subgroup_id, ids: list) -> Representation:
    out = []
    for i in ids:
        out += [i] * invariant_vectors(G, subgroup_id, G.irrep(*i)).shape[1]
    return Representation(G, f"quotient_fourier[{subgroup_id}]", out, None)


class QuotientFourierELU(QuotientFourierPointwise):
    """``QuotientFourierPointwise`` with ELU (see there).

    >>> import torch
    >>> from steerable import gspaces
    >>> from steerable.nn import QuotientFourierELU
    >>> gs = gspaces.flipRot2dOnR2(-1, maximum_frequency=2)
    >>> act = QuotientFourierELU(gs, (None, -1), 3, 2, 'regular', 1)  # O(2)/SO(2): two points
    >>> act.in_type.size, len(act.grid)
    (6, 2)
    """

    def __init__(
        self,
        gspace,
        subgroup_id: Any,
        channels: int,
        irreps,
        *grid_args: Any,
        grid: list | None = None,
        inplace: bool = True,
        out_irreps=None,
        normalize: bool = True,
        **grid_kwargs: Any,
    ):
        if "function" in grid_kwargs:
            raise TypeError("function: QuotientFourierELU always applies ELU; use QuotientFourierPointwise")
        super().__init__(
            gspace,
            subgroup_id,
            channels,
            irreps,
            *grid_args,
            grid=grid,
            function="p_elu",
            inplace=inplace,
            out_irreps=out_irreps,
            normalize=normalize,
            **grid_kwargs,
        )


class FourierPointwiseExport(torch.nn.Module):
    """The exported form of the Fourier nonlinearities: plain tensors and torch ops only.

    ``forward(t)``: ``t`` of shape (B, channels·D, *spatial) (or (channels·D,)); per field,
    ``A_inv @ σ(A @ x)``.

    >>> import torch
    >>> m = FourierPointwiseExport(torch.eye(3), torch.eye(3), 2, 'p_relu')
    >>> m(torch.tensor([[1., -1., 2., -3., 0., 4.]]))
    tensor([[1., 0., 2., 0., 0., 4.]])
    """

    A: torch.Tensor
    A_inv: torch.Tensor
    function: str | Callable

    def __init__(self, A: torch.Tensor, A_inv: torch.Tensor, channels: int, function: str | Callable):
        super().__init__()
        self.register_buffer("A", A)
        self.register_buffer("A_inv", A_inv)
        self.channels = int(channels)
        self.function = _check_function(function)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        squeeze = t.dim() == 1
        if squeeze:
            t = t.unsqueeze(0)
        b, spatial = t.shape[0], t.shape[2:]
        c, d_in, d_out = self.channels, self.A.shape[1], self.A_inv.shape[0]
        if math.prod(spatial) == 1:
            s = t.reshape(b * c, d_in) @ self.A.transpose(0, 1)
            y = _act(self.function, s, False) if isinstance(self.function, str) else self.function(s)
            out = y @ self.A_inv.transpose(0, 1)
        else:
            s = torch.matmul(self.A, t.reshape(b, c, d_in, -1))
            y = _act(self.function, s, False) if isinstance(self.function, str) else self.function(s)
            out = torch.matmul(self.A_inv, y)
        out = out.reshape(b, c * d_out, *spatial)
        return out.squeeze(0) if squeeze else out
