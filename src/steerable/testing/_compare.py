"""Compare f(g·x) with g·f(x) leaf by leaf: the worst error, its tolerance, and where it is."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import torch

from steerable.group import Representation
from steerable.nn import FieldType, GeometricTensor

from ._tree import leaves

# tolerance(|a - b|, |b|, max |b|) -> a tensor (or float) broadcastable to |a - b|
Criterion = Callable[[torch.Tensor, torch.Tensor, float], Any]


class ElementError(NamedTuple):
    """The result of one group element of an equivariance check.

    ``error``: the worst relative error over the outputs, ``max |f(g·x) − g·f(x)| / max |g·f(x)|``
    per output; ``abs_error`` and ``scale`` (``max |g·f(x)|``) and ``tolerance`` are those of the
    output named in ``where`` (the failing one when the check fails, else the worst one), with the
    index and field of its largest violation; ``rel_norm``: ``‖f(g·x) − g·f(x)‖ / ‖g·f(x)‖`` over
    all outputs together.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.testing import equivariance_errors
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> r = equivariance_errors(nn.ReLU(t), inputs=t(torch.randn(1, 4, 5, 5)))[1]
    >>> r.passed, r.error < 1e-6, r.where.split(", index")[0]
    (True, True, 'output (shape (1, 4, 5, 5))')
    """

    element: Any
    error: float
    abs_error: float
    scale: float
    tolerance: float
    passed: bool
    where: str
    rel_norm: float


class max_criterion:
    """``|a − b| <= atol + rtol · max|b|``: ``rtol`` relative to the output's largest magnitude."""

    def __init__(self, atol: float, rtol: float):
        self.atol, self.rtol = atol, rtol

    def __call__(self, diff: torch.Tensor, babs: torch.Tensor, scale: float) -> float:
        return self.atol + self.rtol * scale

    def describe(self, scale: float) -> str:
        return f"atol={self.atol:g} + rtol={self.rtol:g} × output scale {scale:.3g}"


class escnn_criterion(max_criterion):
    """``|a − b| <= atol · max(1, max|b|) + rtol · |b|`` (``check_equivariance``'s test)."""

    def __call__(self, diff: torch.Tensor, babs: torch.Tensor, scale: float) -> Any:
        return self.atol * max(1.0, scale) + self.rtol * babs

    def describe(self, scale: float) -> str:
        return f"atol={self.atol:g} × max(1, output scale {scale:.3g}) + rtol={self.rtol:g} × |g·f(x)|"


def _field_note(ftype: Any, index: tuple, axis: int) -> str:
    if not index or not -len(index) <= axis < len(index):
        return ""
    c = int(index[axis])
    if isinstance(ftype, FieldType):
        ends = np.asarray(ftype.fields_end)
        i = int(np.searchsorted(ends, c, side="right"))
        if i >= len(ftype):
            return ""
        start, end = int(ftype.fields_start[i]), int(ends[i])
        return f", channel {c} = field {i} ({ftype.representations[i].name}, channels {start}:{end})"
    if isinstance(ftype, Representation):
        return f", component {c} of {ftype.name}"
    return ""


def _tensor_pairs(a: Any, b: Any, path: str, spec: Any) -> list[tuple[str, Any, Any, Any, int]] | str:
    """``[(path, a_tensor, b_tensor, field_type, channel_axis)]`` or a string saying why the two
    leaves cannot be compared."""
    if isinstance(b, GeometricTensor):
        if not isinstance(a, GeometricTensor):
            return f"{path}: f(g·x) gave a {type(a).__name__}, g·f(x) a GeometricTensor"
        if a.type != b.type:
            return f"{path}: field types differ, {a.type!r} for f(g·x) and {b.type!r} for g·f(x)"
        axis = 1 if b.coords is None and b.tensor.dim() > 1 else b.tensor.dim() - 1
        out: list[tuple[str, Any, Any, Any, int]] = [(path, a.tensor, b.tensor, b.type, axis)]
        if (a.coords is None) != (b.coords is None):
            return f"{path}: coords present in only one of f(g·x) and g·f(x)"
        if b.coords is not None:
            out.append((f"{path}.coords", a.coords, b.coords, None, -1))
        return out
    if isinstance(b, torch.Tensor):
        if isinstance(a, GeometricTensor):
            a = a.tensor
        if not isinstance(a, torch.Tensor):
            return f"{path}: f(g·x) gave a {type(a).__name__}, g·f(x) a tensor"
        return [(path, a, b, spec, 1 if b.dim() > 1 else 0)]
    try:
        same = bool(a == b)
    except Exception:  # values without a truth value: compare their representations
        same = repr(a) == repr(b)
    return [] if same else f"{path}: f(g·x) gave {a!r}, g·f(x) gave {b!r}"


def compare(
    element: Any, a_tree: Any, b_tree: Any, spec_of: Callable[[str], Any], criterion: Criterion
) -> ElementError:
    """Compare the outputs ``a_tree`` (f(g·x)) and ``b_tree`` (g·f(x))."""
    la, lb = leaves(a_tree, "output"), leaves(b_tree, "output")
    if [p for p, _ in la] != [p for p, _ in lb]:
        return ElementError(
            element,
            math.inf,
            math.inf,
            math.nan,
            math.nan,
            False,
            f"the outputs have different structures: {[p for p, _ in la]} for f(g·x), {[p for p, _ in lb]} for g·f(x)",
            math.inf,
        )
    worst_rel, fail_ratio = 0.0, -1.0
    report: tuple[float, float, float, float, str] | None = None
    fail: tuple[float, float, float, float, str] | None = None
    num, den = 0.0, 0.0
    for (path, a), (_, b) in zip(la, lb):
        pairs = _tensor_pairs(a, b, path, spec_of(path))
        if isinstance(pairs, str):
            return ElementError(element, math.inf, math.inf, math.nan, math.nan, False, pairs, math.inf)
        for p, ta, tb, ftype, axis in pairs:
            if ta.shape != tb.shape:
                return ElementError(
                    element,
                    math.inf,
                    math.inf,
                    math.nan,
                    math.nan,
                    False,
                    f"{p}: shapes differ, {tuple(ta.shape)} for f(g·x) and {tuple(tb.shape)} for g·f(x)",
                    math.inf,
                )
            if tb.numel() == 0:
                continue
            if not (tb.is_floating_point() or tb.is_complex()):
                ta, tb = ta.to(torch.float64), tb.to(torch.float64)
            diff = (ta - tb.to(ta.dtype)).abs()
            babs = tb.abs()
            scale = float(babs.max())
            err = float(diff.max()) if not torch.isnan(diff).any() else math.nan
            tol = torch.as_tensor(criterion(diff, babs, scale), dtype=diff.dtype, device=diff.device)
            tol = tol.expand_as(diff) if tol.dim() == 0 else tol
            ok = bool((diff <= tol).all())
            excess = torch.where(torch.isnan(diff), torch.full_like(diff, math.inf), diff - tol)
            flat = int(torch.argmax(excess))
            index = tuple(int(i) for i in np.unravel_index(flat, tuple(diff.shape)))
            tol_at = float(tol.reshape(-1)[flat])
            rel = err / max(scale, 1e-12) if not math.isnan(err) else math.inf
            num += float((diff.to(torch.float64) ** 2).sum()) if not math.isnan(err) else math.inf
            den += float((babs.to(torch.float64) ** 2).sum())
            where = f"{p} (shape {tuple(tb.shape)}), index {index}{_field_note(ftype, index, axis)}"
            entry = (rel, err, scale, tol_at, where)
            if rel >= worst_rel or report is None:
                worst_rel = max(worst_rel, rel)
                if fail is None:
                    report = entry
            if not ok:
                at = float(diff.reshape(-1)[flat])
                ratio = at / tol_at if tol_at > 0 else math.inf
                if math.isnan(ratio) or ratio > fail_ratio:
                    fail_ratio = math.inf if math.isnan(ratio) else ratio
                    fail = entry
    chosen = fail if fail is not None else report
    if chosen is None:
        return ElementError(element, 0.0, 0.0, 0.0, 0.0, True, "no tensor outputs (or all empty)", 0.0)
    rel_norm = math.sqrt(num) / max(math.sqrt(den), 1e-300) if den > 0 else (0.0 if num == 0 else math.inf)
    rel, err, scale, tol_at, where = chosen
    return ElementError(element, worst_rel, err, scale, tol_at, fail is None, where, rel_norm)
