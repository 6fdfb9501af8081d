"""Fit a module's parameters to a target expansion, through the module's own public expansion.

A steerable layer's dense filter (or matrix) is a linear function of its ``weights``; its bias
a linear function of its ``bias``. Rather than depending on how a layer lays out its weights,
that linear map is probed through the layer's own ``expand_parameters()`` (in float64, on a
copy) and the parameters reproducing a target filter are found by least squares. The map is
block sparse (a weight only reaches one (output field, input field) block): transposed products
tell which block each weight reaches, blocks with the same matrix (tested by a random
combination) form one class, weights of different blocks are expanded together, and each class
is solved once. Nothing is assumed that the final residual check (``relative_residual``) would
not catch.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Protocol, TypeVar

import numpy as np
import torch

_M = TypeVar("_M", bound=torch.nn.Module)


class _Expandable(Protocol):
    """A layer whose dense filter / matrix and bias are ``expand_parameters()``."""

    def expand_parameters(self) -> tuple[torch.Tensor, torch.Tensor | None]: ...


class _Expand(torch.nn.Module):
    def __init__(self, inner: torch.nn.Module, index: int):
        super().__init__()
        self.inner = inner
        self.index = index

    def forward(self):
        return self.inner.expand_parameters()[self.index]


def float64_copy(module: _M) -> _M:
    """A float64 copy of ``module`` on the CPU (the original is left untouched)."""
    return copy.deepcopy(module).to("cpu").double()


class _LinearMap:
    """The linear map ``param -> expand_parameters()[index]`` of a float64 module copy (the
    other parameters at zero): forward products and transposed products (through autograd)."""

    def __init__(self, module64: torch.nn.Module, param: str, index: int):
        self.wrapper = _Expand(module64, index)
        self.param = param
        self.n = getattr(module64, param).numel()
        self.zeros = {f"inner.{k}": torch.zeros_like(p) for k, p in module64.named_parameters() if k != param}
        self._graph: tuple[torch.Tensor, torch.Tensor] | None = None

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return torch.func.functional_call(self.wrapper, {**self.zeros, f"inner.{self.param}": w}, ()).reshape(-1)

    def transposed(self, v: torch.Tensor) -> torch.Tensor:
        if self._graph is None:
            w = torch.zeros(self.n, dtype=torch.float64, requires_grad=True)
            with torch.enable_grad():
                out = torch.func.functional_call(self.wrapper, {**self.zeros, f"inner.{self.param}": w}, ())
            self._graph = (w, out.reshape(-1))
        w, out = self._graph
        (g,) = torch.autograd.grad(out, w, v, retain_graph=True, allow_unused=True)
        return torch.zeros(self.n, dtype=torch.float64) if g is None else g


def _unique_small(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, index of every entry's value) for non-negative integer labels."""
    if lab.size and lab.min() >= 0:
        present = np.flatnonzero(np.bincount(lab))
        where = np.full(int(lab.max()) + 1, -1, dtype=np.int64)
        where[present] = np.arange(present.size)
        return present, where[lab]
    vals, idx = np.unique(lab, return_inverse=True)
    return vals, idx.reshape(-1)


def _reached_values(lin: _LinearMap, lab: np.ndarray, gen) -> tuple[np.ndarray, np.ndarray]:
    """(label values, (n, values) bool: which values each parameter entry reaches).

    Binary search first: with one random positive weighting u of the entries, one transposed
    product on all of them and one per bit of the value's index on the entries whose index has
    the bit set (those without it follow by difference); when every parameter entry reaches one
    value this decodes it in 1 + log2(values) products. Otherwise one product per value."""
    vals, idx = _unique_small(lab)
    n_bits = max(1, int(np.ceil(np.log2(max(vals.size, 2)))))
    u = gen.uniform(0.5, 1.5, lab.size)

    def touched(mask):
        return np.abs(lin.transposed(torch.as_tensor(np.where(mask, u, 0.0))).numpy())

    total = lin.transposed(torch.as_tensor(u)).numpy()
    ons = np.stack(
        [lin.transposed(torch.as_tensor(np.where((idx >> b) & 1 == 1, u, 0.0))).numpy() for b in range(n_bits)], 1
    )
    offs = total[:, None] - ons
    ons, offs = np.abs(ons), np.abs(offs)
    scale = np.maximum(np.abs(total), (ons + offs).max(axis=1))[:, None]
    scale = np.maximum(scale, 1e-300)
    on, off = ons > 1e-10 * scale, offs > 1e-10 * scale
    reached_any = (on | off).any(axis=1)
    if not np.any(on & off) and np.all((on ^ off)[reached_any]):
        code = (on.astype(np.int64) << np.arange(n_bits)).sum(axis=1)
        hit = np.zeros((lin.n, vals.size), dtype=bool)
        ok = reached_any & (code < vals.size)
        hit[np.flatnonzero(ok), code[ok]] = True
        return vals, hit
    hit = np.zeros((lin.n, vals.size), dtype=bool)
    for c in range(vals.size):
        hit[:, c] = touched(idx == c) > 1e-10 * scale[:, 0]
    return vals, hit


def fit_parameter(
    module64: torch.nn.Module, param: str, index: int, target: np.ndarray, labels: list[np.ndarray] | None = None
) -> np.ndarray:
    """The value of ``param`` whose expansion (output ``index`` of ``expand_parameters()``)
    best matches ``target`` (least squares; the other parameters' contributions are zero).

    ``labels`` tag each entry of the flattened expansion with its coordinates in a block grid
    (e.g. output field and input field); a block is a tuple of labels. Which blocks each
    parameter entry reaches is found with a few transposed products; groups of blocks joined by
    a parameter entry ("components") are solved apart. Components whose matrices coincide (one
    forward product of a random combination tells them apart) share one matrix and one
    least-squares solve; the matrix's columns are read off different members of the class in the
    same forward product, so a layer takes a handful of products however wide it is.
    Returns the parameter (float64).
    """
    lin = _LinearMap(module64, param, index)
    n = lin.n
    target = np.asarray(target, dtype=np.float64).reshape(-1)
    if labels is None:
        labels = [np.zeros(target.size, dtype=np.int64)]
    labels = [np.asarray(lab, dtype=np.int64).reshape(-1) for lab in labels]
    for lab in labels:
        if lab.size != target.size:
            raise ValueError(f"labels: {lab.size} labels for an expansion of {target.size} entries")
    if n == 0:
        return np.zeros(0)
    gen = np.random.default_rng(0)
    reach = [_reached_values(lin, lab, gen) for lab in labels]
    # block id of every entry (dense over the label grid) and the entries of every block
    idx = [_unique_small(lab)[1] for lab in labels]
    dims = tuple(len(vals) for vals, _ in reach)
    entry_block = np.ravel_multi_index(idx, dims)
    order = np.argsort(entry_block, kind="stable")
    starts = np.searchsorted(entry_block[order], np.arange(int(np.prod(dims)) + 1))
    # components: blocks joined by the parameter entries reaching them
    single = all((hit.sum(axis=1) <= 1).all() for _, hit in reach)
    reached = np.all([hit.any(axis=1) for _, hit in reach], axis=0)
    if single:
        codes = [hit.argmax(axis=1) for _, hit in reach]
        col_block = np.where(reached, np.ravel_multi_index(codes, dims), -1)
        comp_of_block = {}
        comps: list[tuple[list, np.ndarray]] = []
        cols_sorted = np.argsort(col_block, kind="stable")
        bounds = np.searchsorted(col_block[cols_sorted], np.arange(-1, int(np.prod(dims)) + 1))
        for b in range(int(np.prod(dims))):
            cols = cols_sorted[bounds[b + 1] : bounds[b + 2]]
            if cols.size:
                comp_of_block[b] = len(comps)
                comps.append(([b], cols))
    else:
        comps = _components(reach, dims, n)
    rows = [np.concatenate([order[starts[b] : starts[b + 1]] for b in blocks]) for blocks, _ in comps]
    # classes of identical matrices: a fingerprint (the matrix times a random vector) per component
    r = gen.standard_normal(max((len(c) for _, c in comps), default=0))
    w = torch.zeros(n, dtype=torch.float64)
    for _, cols in comps:
        w[torch.as_tensor(cols)] = torch.as_tensor(r[: len(cols)])
    probe = lin(w).numpy()
    classes: dict[tuple, list] = {}
    for c, (_, cols) in enumerate(comps):
        fp = probe[rows[c]]
        scale = max(float(np.abs(fp).max()), 1e-300)
        key = (len(cols), rows[c].size, hashlib.sha1(np.round(fp / scale, 9).tobytes()).hexdigest())
        classes.setdefault(key, []).append(c)
    # one matrix per class; its column k is read off member k mod P (P members), so a class of
    # P members with C columns takes ceil(C / P) forward products, all classes at once
    mats = {key: np.zeros((rows[m[0]].size, len(comps[m[0]][1]))) for key, m in classes.items()}
    rounds = max((-(-len(comps[m[0]][1]) // len(m)) for m in classes.values()), default=0)
    for t in range(rounds):
        w = torch.zeros(n, dtype=torch.float64)
        reads = []
        for key, members in classes.items():
            P = len(members)
            for k in range(t * P, min((t + 1) * P, len(comps[members[0]][1]))):
                carrier = members[k % P]
                w[int(comps[carrier][1][k])] = 1.0
                reads.append((key, k, carrier))
        out = lin(w).numpy()
        for key, k, carrier in reads:
            mats[key][:, k] = out[rows[carrier]]
    solution = np.zeros(n)
    for key, members in classes.items():
        mat = mats[key]
        rhs = np.stack([target[rows[c]] for c in members], axis=1)
        sol = np.linalg.lstsq(mat, rhs, rcond=None)[0]
        for k, c in enumerate(members):
            solution[comps[c][1]] = sol[:, k]
    return solution


def _components(reach, dims, n) -> list[tuple[list, np.ndarray]]:
    """Blocks joined by parameter entries reaching several of them (union-find)."""
    col_blocks: list[list[int]] = []
    for j in range(n):
        sets = [np.flatnonzero(hit[j]) for _, hit in reach]
        if not all(len(x) for x in sets):
            col_blocks.append([])
            continue
        grid = np.stack(np.meshgrid(*sets, indexing="ij"), -1).reshape(-1, len(dims))
        col_blocks.append(sorted(np.asarray(np.ravel_multi_index(grid.T, dims)).tolist()))
    parent: dict[int, int] = {}

    def find(a):
        parent.setdefault(a, a)
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for bl in col_blocks:
        for b in bl:
            find(b)
        for b in bl[1:]:
            ra, rb = find(bl[0]), find(b)
            if ra != rb:
                parent[rb] = ra
    comps: dict[int, tuple[list, list]] = {}
    for j, bl in enumerate(col_blocks):
        if bl:
            comps.setdefault(find(bl[0]), ([], []))[1].append(j)
    for b in list(parent):
        if find(b) in comps:
            comps[find(b)][0].append(b)
    return [(sorted(blocks), np.asarray(cols)) for blocks, cols in comps.values()]


def relative_residual(module64: _Expandable, index: int, target: np.ndarray) -> float:
    """||expansion - target|| / ||target|| with the module's current parameters (0 when both vanish)."""
    with torch.no_grad():
        got = module64.expand_parameters()[index]
    got = np.zeros(0) if got is None else got.detach().numpy().reshape(-1)
    target = np.asarray(target, dtype=np.float64).reshape(-1)
    num = float(np.linalg.norm(got - target)) if got.size == target.size else float("inf")
    den = float(np.linalg.norm(target))
    if den == 0.0:
        return 0.0 if num == 0.0 else float("inf")
    return num / den
