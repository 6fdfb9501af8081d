"""assert_equivariant, assert_invariant, equivariance_errors: f(g·x) == g·f(x), one way for all."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from typing import Any

import torch

from steerable._validation import check_bool, check_int, check_real, describe, is_int
from steerable.group import GroupElement, Representation
from steerable.gspaces import GSpace
from steerable.nn import FieldType, GeometricTensor

from ._actions import MISSING, act_leaf, check_leaf_spec, is_float_tensor, n_points, permute_leaf
from ._compare import Criterion, ElementError, compare, max_criterion
from ._elements import exact_elements, fibre_elements
from ._inputs import default_spatial, first_field_type, random_inputs
from ._tree import leaves, match_spec, rebuild

# default (rtol, atol) per dtype: float32 checks are exact to rounding on the grid's symmetries
_TOLERANCES = {
    torch.float64: (1e-10, 1e-13),
    torch.complex128: (1e-10, 1e-13),
    torch.float32: (1e-5, 1e-7),
    torch.complex64: (1e-5, 1e-7),
    torch.float16: (1e-2, 1e-4),
    torch.bfloat16: (2e-2, 1e-3),
}


# ------------------------------------------------------------------------------ the engine
def call(f: Callable, inputs: Any) -> Any:
    """``f(*inputs)`` for a tuple of arguments, else ``f(inputs)``."""
    return f(*inputs) if isinstance(inputs, tuple) else f(inputs)


def _act(x: Any, spec: Any, path: str, *, element: Any, fibers_only: bool) -> Any:
    return act_leaf(x, spec, element, fibers_only)


def _relabel(x: Any, spec: Any, path: str, *, perm: torch.Tensor, inverse: torch.Tensor, n: int) -> Any:
    return permute_leaf(x, perm, inverse, n)


def run(
    f: Callable,
    inputs: Any,
    pairs: list[tuple[Any, Any, Any]],
    *,
    in_spec: Any = MISSING,
    out_spec: Any = MISSING,
    in_action: Callable | None = None,
    out_action: Callable | None = None,
    criterion: Criterion | None = None,
    tolerances: tuple[float | None, float | None] = (None, None),
    fibers_only: bool = False,
    permute: bool = False,
    seed: int = 0,
    stop_on_failure: bool = False,
    out_spec_is_default: bool = False,
) -> tuple[list[ElementError], Criterion]:
    """Compare ``f(g_in·x)`` with ``g_out·f(x)`` for each ``(g_in, g_out, reported element)``."""
    in_tree = match_spec(in_spec, inputs, "in_type", "inputs")
    in_leaves = list(
        zip(
            [x for _, x in leaves(inputs, "inputs")],
            [s for _, s in leaves(in_tree, "inputs")],
            [p for p, _ in leaves(inputs, "inputs")],
        )
    )
    if in_action is None:
        for x, s, p in in_leaves:
            check_leaf_spec(s, x, "in_type", p)
    try:
        y = call(f, inputs)
    except RuntimeError as e:
        small = grid_too_small(f, inputs)
        if small:
            raise ValueError(small) from e
        raise
    try:
        out_tree = match_spec(out_spec, y, "out_type", "output")
    except ValueError:
        if not out_spec_is_default:
            raise
        out_tree = match_spec(MISSING, y, "out_type", "output")
    out_specs = dict(zip([p for p, _ in leaves(y, "output")], [s for _, s in leaves(out_tree, "output")]))
    if out_action is None:
        for p, v in leaves(y, "output"):
            check_leaf_spec(out_specs[p], v, "out_type", p)
            if isinstance(v, GeometricTensor) and isinstance(out_specs[p], FieldType) and v.type != out_specs[p]:
                raise AssertionError(f"{p}: f returned a field of type {v.type!r}, but out_type is {out_specs[p]!r}")
    if criterion is None:
        dt = next(
            (v.dtype for _, v in leaves(y, "output") if is_float_tensor(v)),
            next((v.tensor.dtype for _, v in leaves(y, "output") if isinstance(v, GeometricTensor)), torch.float32),
        )
        rtol0, atol0 = _TOLERANCES.get(dt, _TOLERANCES[torch.float32])
        atol = atol0 if tolerances[0] is None else tolerances[0]
        rtol = rtol0 if tolerances[1] is None else tolerances[1]
        criterion = max_criterion(atol, rtol)
    n = n_points(in_leaves) if permute else 0
    results = []
    for k, (g_in, g_out, g) in enumerate(pairs):
        if in_action is not None:
            gx = in_action(inputs, g_in)
        else:
            gx = rebuild(inputs, functools.partial(_act, element=g_in, fibers_only=fibers_only), in_tree, "inputs")
        if out_action is not None:
            gy = out_action(y, g_out)
        else:
            gy = rebuild(y, functools.partial(_act, element=g_out, fibers_only=fibers_only), out_tree, "output")
        if permute:
            perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed + 1 + k))
            inv = torch.empty_like(perm)
            inv[perm] = torch.arange(n)
            relabel = functools.partial(_relabel, perm=perm, inverse=inv, n=n)
            gx = rebuild(gx, relabel, match_spec(None, gx, "", ""), "inputs")
            gy = rebuild(gy, relabel, match_spec(None, gy, "", ""), "output")
        r = compare(g, call(f, gx), gy, lambda p: out_specs.get(p.split(".coords")[0], MISSING), criterion)
        results.append(r)
        if stop_on_failure and not r.passed:
            break
    return results, criterion


# ------------------------------------------------------------------------------ grids
def _module_of(f: Any) -> Any:
    """The EquivariantModule behind ``f`` (the module, or the object of a bound method), else None."""
    m = f if isinstance(f, torch.nn.Module) else getattr(f, "__self__", None)
    return m if isinstance(m, torch.nn.Module) and isinstance(getattr(m, "in_type", None), FieldType) else None


def _grid_input(inputs: Any) -> GeometricTensor | None:
    """The first grid field (a GeometricTensor without coordinates, on R^d with d > 0) among the inputs."""
    for _, x in leaves(inputs, "inputs"):
        if isinstance(x, GeometricTensor) and x.coords is None and x.type.gspace.dimensionality > 0:
            return x
    return None


def grid_too_small(f: Any, inputs: Any) -> str | None:
    """Why the module behind ``f`` cannot run on the inputs' grid (its ``evaluate_output_shape``
    refuses the size), for a clear ValueError in place of torch's; None if it can or we cannot tell."""
    m, x = _module_of(f), _grid_input(inputs)
    if m is None or x is None or not callable(getattr(m, "evaluate_output_shape", None)):
        return None
    try:
        m.evaluate_output_shape(tuple(x.tensor.shape))
    except ValueError as e:
        return (
            f"inputs: a grid of {tuple(x.tensor.shape[2:])} is too small for {type(m).__name__} ({e}); give a larger "
            "spatial= or inputs=, or leave both out to draw a grid on which every layer is exact"
        )
    except Exception:
        return None
    return None


def asymmetric_grid_note(f: Any, inputs: Any) -> str:
    """A note for failure messages when the inputs' grid does not place the strided windows of the
    module behind ``f`` symmetrically (so its grid symmetries are not exact there), else ''."""
    m, x = _module_of(f), _grid_input(inputs)
    side = getattr(m, "_grid_output_size", None)
    if x is None or not callable(side) or not isinstance(getattr(m, "in_type", None), FieldType):
        return ""
    grid = tuple(int(v) for v in x.tensor.shape[2:])
    if len(set(grid)) == 1 and side(grid[0]) is not None:
        return ""
    pick = getattr(m, "_exact_spatial_size", None)
    try:
        hint = f"; a side of {int(pick())} does" if callable(pick) else ""
    except ValueError:
        hint = ""
    return (
        f" (note: the grid {grid} does not place the strided windows of every layer of {type(m).__name__} "
        f"symmetrically, so its symmetries are not exact there{hint}; leave spatial= and inputs= out to pick one)"
    )


# ------------------------------------------------------------------------------ arguments
def _check_tolerance(v: Any, argname: str) -> float | None:
    """A tolerance: None, or a finite real number >= 0."""
    if v is None:
        return None
    what = "a finite non-negative number or None"
    x = check_real(v, argname, what=what)
    if x < 0:
        raise ValueError(f"{argname}: expected {what}, got {v!r}")
    return x


def _check_size(v: Any, argname: str, low: int, expected: str = "an int") -> int:
    """An int >= ``low``; a value of the wrong type is reported as not ``expected``."""
    if not is_int(v):
        raise TypeError(f"{argname}: expected {expected}, got {describe(v)}")
    return check_int(v, argname, minimum=low, what=f"an int >= {low}")


def _check_callable(v: Any, argname: str, what: str) -> None:
    if v is not None and not callable(v):
        raise TypeError(f"{argname}: expected None or a callable {what}, got {type(v).__name__}")


def _name(f: Any) -> str:
    if isinstance(f, torch.nn.Module):
        return type(f).__name__
    return getattr(f, "__qualname__", None) or getattr(f, "__name__", None) or type(f).__name__


def _module_dtype_device(f: Any) -> tuple[torch.dtype, torch.device]:
    if isinstance(f, torch.nn.Module):
        for t in list(f.parameters()) + list(f.buffers()):
            if t.is_floating_point():
                return t.dtype, t.device
    return torch.get_default_dtype(), torch.device("cpu")


def _default_elements(in_leaves: list[tuple[Any, Any]], fibers_only: bool, seed: int) -> list:
    for x, s in in_leaves:
        if isinstance(x, GeometricTensor):
            gs, points = x.type.gspace, x.coords is not None
        elif isinstance(s, FieldType):
            gs, points = s.gspace, False
        elif isinstance(s, GSpace):
            gs, points = s, True
        elif isinstance(s, Representation):
            return fibre_elements(s.group, seed=seed)
        else:
            continue
        if gs.dimensionality > 0 and not (fibers_only or points):
            return exact_elements(gs)
        return fibre_elements(gs.fibergroup, seed=seed)
    raise ValueError(
        "elements: no GeometricTensor, FieldType, Representation or GSpace among the inputs to take the group "
        "from; pass elements= (any iterable of the elements your actions take)"
    )


def _prepare(
    f,
    in_type,
    out_type,
    in_action,
    out_action,
    inputs,
    elements,
    in_element,
    out_element,
    atol,
    rtol,
    fibers_only,
    permute,
    eval_mode,
    no_grad,
    spatial,
    batch,
    seed,
) -> dict:
    if not callable(f):
        raise TypeError(f"f: expected a module or a callable, got {type(f).__name__}")
    _check_callable(in_action, "in_action", "(inputs, g) -> g·inputs")
    _check_callable(out_action, "out_action", "(output, g) -> g·output")
    _check_callable(in_element, "in_element", "g -> the element acting on the input")
    _check_callable(out_element, "out_element", "g -> the element acting on the output")
    fibers_only, permute = check_bool(fibers_only, "fibers_only"), check_bool(permute, "permute")
    eval_mode, no_grad = check_bool(eval_mode, "eval_mode"), check_bool(no_grad, "no_grad")
    atol, rtol = _check_tolerance(atol, "atol"), _check_tolerance(rtol, "rtol")
    spatial = None if spatial is None else _check_size(spatial, "spatial", 1, "an int or None")
    batch = _check_size(batch, "batch", 1)
    seed = _check_size(seed, "seed", 0)
    module_in = getattr(f, "in_type", None) if isinstance(f, torch.nn.Module) else None
    module_out = getattr(f, "out_type", None) if isinstance(f, torch.nn.Module) else None
    spec_in = in_type if in_type is not None else (module_in if _is_spec_tree(module_in) else MISSING)
    if inputs is None:
        if spec_in is MISSING:
            raise ValueError(
                "inputs: give the inputs, or in_type (FieldTypes / Representations) to draw random ones from"
            )
        ft = first_field_type(spec_in)
        d = ft.gspace.dimensionality if ft is not None else 0
        n = spatial if spatial is not None else (default_spatial(f, d) if d > 0 else 0)
        dtype, device = _module_dtype_device(f)
        inputs = random_inputs(
            spec_in, spatial=n, batch=batch, gen=torch.Generator().manual_seed(seed), dtype=dtype, device=device
        )
    if elements is None:
        if in_element is not None or out_element is not None:
            raise ValueError("elements: pass the elements explicitly when in_element / out_element map them")
        tree = match_spec(spec_in, inputs, "in_type", "inputs")
        elements = _default_elements(
            list(zip([x for _, x in leaves(inputs, "inputs")], [s for _, s in leaves(tree, "inputs")])),
            fibers_only,
            seed,
        )
    else:
        if isinstance(elements, (str, bytes, GroupElement)) or not isinstance(elements, Iterable):
            raise TypeError(f"elements: expected an iterable of group elements, got {type(elements).__name__}")
        elements = list(elements)
        if not elements:
            raise ValueError("elements: expected at least one element, got an empty iterable")
    pairs = [(in_element(g) if in_element else g, out_element(g) if out_element else g, g) for g in elements]
    spec_out = out_type if out_type is not None else (module_out if _is_spec_tree(module_out) else MISSING)
    return dict(
        inputs=inputs,
        pairs=pairs,
        in_spec=spec_in,
        out_spec=spec_out,
        in_action=in_action,
        out_action=out_action,
        tolerances=(atol, rtol),
        fibers_only=fibers_only,
        permute=permute,
        seed=seed,
        out_spec_is_default=out_type is None,
    )


def _is_spec_tree(t: Any) -> bool:
    if isinstance(t, (FieldType, Representation, GSpace)):
        return True
    if isinstance(t, dict):
        return bool(t) and all(_is_spec_tree(v) for v in t.values())
    if isinstance(t, (tuple, list)):
        return bool(t) and all(_is_spec_tree(v) for v in t)
    return False


def _evaluate(f, eval_mode: bool, no_grad: bool, stop_on_failure: bool, kw: dict):
    modes = [(m, m.training) for m in f.modules()] if isinstance(f, torch.nn.Module) and eval_mode else []
    if modes:
        f.eval()
    try:
        with torch.no_grad() if no_grad else torch.enable_grad():
            return run(f, stop_on_failure=stop_on_failure, **kw)
    finally:
        for m, mode in modes:
            m.training = mode


def failure_message(name: str, r: ElementError, what: str, criterion: Any, extra: str = "") -> str:
    if math.isinf(r.abs_error) and math.isnan(r.scale):
        return f"{name} is not {what} to {r.element}: {r.where}{extra}"
    tol = f" ({criterion.describe(r.scale)})" if hasattr(criterion, "describe") else ""
    return (
        f"{name} is not {what} to {r.element}: at {r.where}, |f(g·x) − g·f(x)| = {r.abs_error:.3g} > tolerance "
        f"{r.tolerance:.3g}{tol}; worst relative error {r.error:.3g}{extra}"
    )


# ------------------------------------------------------------------------------ public API
_DOC_ARGS = """
    ``f``: an :class:`~steerable.nn.EquivariantModule`, any ``torch.nn.Module`` or callable; a
    tuple of inputs is passed as positional arguments (``f(*inputs)``), anything else as one.

    How elements act (each leaf of nested tuples / lists / dicts of inputs and outputs):
    a GeometricTensor by its own type (``transform``: fibres and grid, or the points of a point
    cloud move; ``transform_fibers`` with ``fibers_only``); a plain tensor by the matching entry
    of ``in_type`` / ``out_type`` (a structure like the data, or one type for every leaf): a
    FieldType (grid or vectors), a Representation (ρ(g) on the channel axis: plain vectors), a
    GSpace (positions (N, d) move, ``fibers_only`` leaves them), None (invariant) or a callable
    ``(x, g) -> g·x``; index tensors (``edge_index``) and non-tensors are left alone.
    ``in_action(inputs, g)`` / ``out_action(output, g)`` replace all of that for anything else;
    ``in_element`` / ``out_element`` map each element before it acts (e.g. a subgroup's inclusion).
    ``permute``: also relabel the points by a random permutation per element (point tensors
    reordered, ``edge_index`` renamed, outputs with N rows reordered).

    Defaults: a module's ``in_type`` / ``out_type``; random inputs (``batch``, a grid of side
    ``spatial``: by default one on which every strided layer of a module is exact) drawn from
    ``seed`` in the module's dtype; elements: the exact grid symmetries of the gspace
    (:func:`exact_elements`) for grid fields, :func:`fibre_elements` for fibre-only checks,
    vectors and point clouds. Modules run in the mode they are in (``eval_mode=True``: in eval
    mode, every submodule's mode restored after), under ``torch.no_grad()`` (``no_grad``).

    Passes where ``|f(g·x) − g·f(x)| <= atol + rtol·max|g·f(x)|`` in every output (``rtol``
    relative to that output's largest magnitude; defaults 1e-5 / 1e-7 in float32, 1e-10 / 1e-13
    in float64)."""


def equivariance_errors(
    f: Callable,
    *,
    in_type: Any = None,
    out_type: Any = None,
    in_action: Callable | None = None,
    out_action: Callable | None = None,
    inputs: Any = None,
    elements: Iterable | None = None,
    in_element: Callable | None = None,
    out_element: Callable | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    fibers_only: bool = False,
    permute: bool = False,
    eval_mode: bool = False,
    no_grad: bool = True,
    spatial: int | None = None,
    batch: int = 2,
    seed: int = 0,
) -> list[ElementError]:
    kw = _prepare(
        f,
        in_type,
        out_type,
        in_action,
        out_action,
        inputs,
        elements,
        in_element,
        out_element,
        atol,
        rtol,
        fibers_only,
        permute,
        eval_mode,
        no_grad,
        spatial,
        batch,
        seed,
    )
    return _evaluate(f, eval_mode, no_grad, False, kw)[0]


def assert_equivariant(
    f: Callable,
    *,
    in_type: Any = None,
    out_type: Any = None,
    in_action: Callable | None = None,
    out_action: Callable | None = None,
    inputs: Any = None,
    elements: Iterable | None = None,
    in_element: Callable | None = None,
    out_element: Callable | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    fibers_only: bool = False,
    permute: bool = False,
    eval_mode: bool = False,
    no_grad: bool = True,
    spatial: int | None = None,
    batch: int = 2,
    seed: int = 0,
) -> list[ElementError]:
    kw = _prepare(
        f,
        in_type,
        out_type,
        in_action,
        out_action,
        inputs,
        elements,
        in_element,
        out_element,
        atol,
        rtol,
        fibers_only,
        permute,
        eval_mode,
        no_grad,
        spatial,
        batch,
        seed,
    )
    results, criterion = _evaluate(f, eval_mode, no_grad, True, kw)
    _raise_on_failure(f, results, "equivariant", criterion, fibers_only, permute, kw["inputs"])
    return results


def assert_invariant(
    f: Callable,
    *,
    in_type: Any = None,
    in_action: Callable | None = None,
    inputs: Any = None,
    elements: Iterable | None = None,
    in_element: Callable | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    fibers_only: bool = False,
    permute: bool = False,
    eval_mode: bool = False,
    no_grad: bool = True,
    spatial: int | None = None,
    batch: int = 2,
    seed: int = 0,
) -> list[ElementError]:
    kw = _prepare(
        f,
        in_type,
        None,
        in_action,
        lambda y, g: y,
        inputs,
        elements,
        in_element,
        None,
        atol,
        rtol,
        fibers_only,
        permute,
        eval_mode,
        no_grad,
        spatial,
        batch,
        seed,
    )
    results, criterion = _evaluate(f, eval_mode, no_grad, True, kw)
    _raise_on_failure(f, results, "invariant", criterion, fibers_only, permute, kw["inputs"])
    return results


def _raise_on_failure(f, results, what, criterion, fibers_only, permute, inputs) -> None:
    for r in results:
        if not r.passed:
            extra = (" (fibres only)" if fibers_only else "") + (" (points permuted)" if permute else "")
            if not fibers_only:
                extra += asymmetric_grid_note(f, inputs)
            raise AssertionError(failure_message(_name(f), r, what, criterion, extra))


equivariance_errors.__doc__ = (
    """``[ElementError]`` for every element: how far ``f(g·x)`` is from
    ``g·f(x)``, without raising (see :func:`assert_equivariant` for the arguments).
"""
    + _DOC_ARGS
    + """

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.testing import equivariance_errors
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> errs = equivariance_errors(lambda x: t(x.tensor.flip(-1)), inputs=t(torch.randn(1, 4, 5, 5)))
    >>> [r.passed for r in errs]        # a mirror commutes with the identity and the 180° rotation only
    [True, False, True, False]
    """
)

assert_equivariant.__doc__ = (
    """Check ``f(g·x) == g·f(x)`` for every element ``g``; raise an
    AssertionError naming the element, the worst error, the tolerance and where it failed (which
    output, index and field). Returns the :class:`ElementError` of every element.
"""
    + _DOC_ARGS
    + """

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.testing import assert_equivariant
    >>> gs = gspaces.flipRot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr] * 2)
    >>> errs = assert_equivariant(nn.R2Conv(t, t, 3, padding=1))   # the 8 exact symmetries
    >>> len(errs), max(e.error for e in errs) < 1e-5
    (8, True)
    >>> _ = assert_equivariant(nn.ReLU(t), fibers_only=True)      # fibres only: any element
    >>> v = nn.FieldType(gspaces.no_base_space(gs.fibergroup), [gs.fibergroup.irrep(1, 1)])
    >>> assert_equivariant(lambda x: x, inputs=torch.randn(3, 2), in_type=v.representation,
    ...                    out_type=v.representation)[0].passed     # plain vectors
    True
    """
)

assert_invariant.__doc__ = """Check ``f(g·x) == f(x)`` for every element ``g`` (arguments as
    :func:`assert_equivariant`; no output action).

    >>> import torch
    >>> from steerable import gspaces
    >>> from steerable.testing import assert_invariant
    >>> gs = gspaces.rot3dOnR3()
    >>> pos = torch.randn(10, 3)
    >>> _ = assert_invariant(lambda p: torch.cdist(p, p), inputs=pos, in_type=gs)   # distances
    >>> _ = assert_invariant(lambda p: p.sum(0), inputs=pos, in_type=gs, permute=True, elements=[gs.fibergroup.identity])
    """
