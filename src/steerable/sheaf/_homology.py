"""Local homology H_•(X, X∖σ) of a simplex σ, plain and persistent, over the reals.

The relative chain complex C_•(X, X∖St σ) is spanned by the simplices that contain σ (the open
star), with the boundary of X with the faces outside the star dropped; its homology is the local
homology of X at σ (≅ the reduced homology of the link of σ, shifted up by dim σ + 1).

* Plain: the harmonic space ker ∂_k ∩ ker ∂_{k+1}ᵀ of the local complex, an orthonormal basis of
  representatives (Hodge), one per class.
* Persistent: the local complex filtered by a flag filtration (a value per simplex, the largest
  edge weight in it), reduced column by column over the reals; each bar [birth, death) carries a
  cycle representative, and the representatives of the bars alive at any time t form a basis of
  H_•(X_t, X_t∖σ). Simplices are ordered and oriented *intrinsically* (by filtration values, not
  by vertex ids), so the bars and their representatives do not depend on how vertices are
  numbered (for generic weights).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import torch

from ._complex import SimplicialComplex

__all__ = ["flag_filtration", "local_betti", "persistent_local_homology"]

_TOL = 1e-9


def flag_filtration(
    complex: SimplicialComplex, edge_weights: Any, vertex_weights: Any | None = None
) -> list[torch.Tensor]:
    """The flag filtration: a value per simplex, the largest weight of its edges (vertices get
    ``vertex_weights``, zero by default). Differentiable in the weights (a max of them).

    >>> import torch
    >>> from steerable.sheaf import SimplicialComplex, flag_filtration
    >>> X = SimplicialComplex([(0, 1, 2)])
    >>> [f.tolist() for f in flag_filtration(X, torch.tensor([1.0, 3.0, 2.0]))]
    [[0.0, 0.0, 0.0], [1.0, 3.0, 2.0], [3.0]]
    """
    if not isinstance(complex, SimplicialComplex):
        raise TypeError(f"complex: expected a SimplicialComplex, got {type(complex).__name__}")
    w = edge_weights if isinstance(edge_weights, torch.Tensor) else torch.as_tensor(np.asarray(edge_weights))
    if not w.is_floating_point():
        w = w.double()
    m = complex.counts[1] if complex.dim >= 1 else 0
    if w.shape != (m,):
        raise ValueError(f"edge_weights: expected shape ({m},) (one per edge), got {tuple(w.shape)}")
    if not bool(torch.isfinite(w).all()):
        raise ValueError("edge_weights: expected finite weights, got nan or inf")
    if vertex_weights is None:
        f0 = torch.zeros(complex.n_vertices, dtype=w.dtype, device=w.device)
    else:
        f0 = vertex_weights if isinstance(vertex_weights, torch.Tensor) else torch.as_tensor(np.asarray(vertex_weights))
        f0 = f0.to(w.dtype)
        if f0.shape != (complex.n_vertices,):
            raise ValueError(f"vertex_weights: expected shape ({complex.n_vertices},), got {tuple(f0.shape)}")
    out = [f0]
    if complex.dim < 1:
        return out
    e = complex.edges
    if m and vertex_weights is not None:
        lo = torch.maximum(f0[torch.as_tensor(e[:, 0])], f0[torch.as_tensor(e[:, 1])])
        if bool((w < lo).any()):
            raise ValueError("edge_weights: an edge weighs less than one of its vertices (not a filtration)")
    out.append(w)
    eidx = {tuple(r): i for i, r in enumerate(e.tolist())}
    for k in range(2, complex.dim + 1):
        s = complex.simplices[k]
        pairs = [(a, b) for a in range(k + 1) for b in range(a + 1, k + 1)]
        idx = np.array([[eidx[(r[a], r[b])] for a, b in pairs] for r in s.tolist()], dtype=np.int64)
        out.append(w[torch.as_tensor(idx)].amax(dim=1))
    return out


@dataclass
class _Local:
    """The local chain complex at a simplex: its cells (dim, global row) in filtration order,
    orientation signs (local orientation = global · sign), values, the local boundary matrix."""

    dims: np.ndarray
    rows: np.ndarray
    sign: np.ndarray
    f: np.ndarray
    D: np.ndarray
    pos: dict = field(default_factory=dict)
    bars: list = field(default_factory=list)  # (degree, birth pos, death pos or -1, representative)
    killers: dict = field(default_factory=dict)  # death pos -> reduced column (a boundary)


def _boundaries(complex: SimplicialComplex) -> list[sp.csc_matrix]:
    cache = getattr(complex, "_sheaf_boundaries", None)
    if cache is None:
        cache = [sp.csc_matrix((0, 0))] + [complex.boundary(k).tocsc() for k in range(1, complex.dim + 1)]
        complex._sheaf_boundaries = cache  # type: ignore[attr-defined]
    return cache


def _perm_sign(p: list[int]) -> float:
    p = list(p)
    s = 1.0
    for i in range(len(p)):
        while p[i] != i:
            j = p[i]
            p[i], p[j] = p[j], p[i]
            s = -s
    return s


def _local(
    complex: SimplicialComplex,
    simplex: tuple[int, ...],
    values: list[np.ndarray] | None,
    edge_value: dict | None,
) -> _Local:
    star = complex.star(simplex)
    base = set(simplex)
    cells: list[tuple[Any, int, int, float]] = []
    signs = []
    for k, rows in enumerate(star):
        for r in rows.tolist():
            verts = complex.simplices[k][r].tolist()
            extra = [x for x in verts if x not in base]
            if edge_value is not None:
                keys = {x: tuple(sorted(edge_value[(min(s, x), max(s, x))] for s in simplex)) for x in extra}
                extra_sorted = sorted(extra, key=lambda x: (keys[x], x))
                tie = tuple(keys[x] for x in extra_sorted)
            else:
                extra_sorted = sorted(extra)
                tie = tuple(extra_sorted)
            order = list(simplex) + extra_sorted
            signs.append(_perm_sign([verts.index(x) for x in order]))
            fv = float(values[k][r]) if values is not None else 0.0
            cells.append(((fv, k, tie), k, r, fv))
    idx = sorted(range(len(cells)), key=lambda i: cells[i][0])
    dims = np.array([cells[i][1] for i in idx], dtype=np.int64)
    rows_ = np.array([cells[i][2] for i in idx], dtype=np.int64)
    sign = np.array([signs[i] for i in idx])
    f = np.array([cells[i][3] for i in idx])
    n = len(idx)
    pos = {(int(dims[i]), int(rows_[i])): i for i in range(n)}
    D = np.zeros((n, n))
    bnd = _boundaries(complex)
    for j in range(n):
        k = int(dims[j])
        if k == 0:
            continue
        col = bnd[k][:, int(rows_[j])]
        for r, v in zip(col.indices.tolist(), col.data.tolist()):
            i = pos.get((k - 1, r))
            if i is not None:
                D[i, j] = v * sign[i] * sign[j]
    return _Local(dims, rows_, sign, f, D, pos)


def _harmonic(loc: _Local, k: int) -> np.ndarray:
    """An orthonormal basis (columns, over all local cells) of the local harmonic k-chains."""
    n = len(loc.dims)
    ck = np.flatnonzero(loc.dims == k)
    if len(ck) == 0:
        return np.zeros((n, 0))
    blocks = []
    lo, hi = np.flatnonzero(loc.dims == k - 1), np.flatnonzero(loc.dims == k + 1)
    if len(lo):
        blocks.append(loc.D[np.ix_(lo, ck)])
    if len(hi):
        blocks.append(loc.D[np.ix_(ck, hi)].T)
    if blocks:
        h = sla.null_space(np.vstack(blocks), rcond=1e-10)
    else:
        h = np.eye(len(ck))
    # a deterministic sign: the first clearly non-zero entry of each column is positive
    for c in range(h.shape[1]):
        nz = np.flatnonzero(np.abs(h[:, c]) > 1e-8)
        if len(nz) and h[nz[0], c] < 0:
            h[:, c] *= -1
    out = np.zeros((n, h.shape[1]))
    out[ck] = h
    return out


def _reduce(loc: _Local) -> None:
    """Column reduction of the filtered local boundary matrix: bars and their representatives."""
    n = len(loc.dims)
    R = loc.D.copy()
    V = np.eye(n)
    pivot: dict[int, int] = {}
    low = np.full(n, -1)
    for j in range(n):
        while True:
            nz = np.flatnonzero(np.abs(R[:, j]) > _TOL)
            if len(nz) == 0:
                break
            lj = int(nz[-1])
            if lj not in pivot:
                pivot[lj] = j
                low[j] = lj
                break
            p = pivot[lj]
            a = R[lj, j] / R[lj, p]
            R[:, j] -= a * R[:, p]
            V[:, j] -= a * V[:, p]
        R[np.abs(R[:, j]) <= _TOL, j] = 0.0
    killed = {int(low[j]): j for j in range(n) if low[j] >= 0}
    for i in range(n):
        if low[i] >= 0:
            continue  # column i kills a class: not a birth
        if i in killed:
            j = killed[i]
            loc.bars.append((int(loc.dims[i]), i, j, R[:, j] / R[i, j]))
            loc.killers[j] = R[:, j] / R[i, j]
        else:
            loc.bars.append((int(loc.dims[i]), i, -1, V[:, i] / V[i, i]))


def local_betti(complex: SimplicialComplex, simplex: Any | None = None) -> np.ndarray:
    """Betti numbers of the local homology H_k(X, X∖σ), k = 0 … ``complex.exact_degrees``-1.

    With ``simplex=None``: an ``(n_vertices, exact_degrees)`` array, one row per vertex.
    Interior vertices of a triangulated surface have (0, 0, 1), boundary vertices (0, 0, 0).

    >>> from steerable.sheaf import SimplicialComplex, local_betti
    >>> disk = SimplicialComplex([(0, 1, 2), (0, 2, 3), (0, 3, 4), (0, 4, 1)])  # a fan: 0 is interior
    >>> local_betti(disk).tolist()
    [[0, 0, 1], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]
    """
    if not isinstance(complex, SimplicialComplex):
        raise TypeError(f"complex: expected a SimplicialComplex, got {type(complex).__name__}")
    nd = max(complex.exact_degrees, 0)
    if simplex is None:
        return np.stack([local_betti(complex, (v,)) for v in range(complex.n_vertices)]).reshape(-1, nd)
    if isinstance(simplex, (int, np.integer)):
        simplex = (int(simplex),)
    s = tuple(sorted(int(v) for v in simplex))
    complex.index(s)
    loc = _local(complex, s, None, None)
    return np.array([_harmonic(loc, k).shape[1] for k in range(nd)], dtype=np.int64)


def persistent_local_homology(
    complex: SimplicialComplex, simplex: Any, filtration: list[torch.Tensor] | None = None, *, edge_weights: Any = None
) -> list[tuple[int, float, float]]:
    """The barcode of the persistent local homology at ``simplex``: ``(degree, birth, death)``
    triples (``death = inf`` for classes that never die), zero-length bars left out, degrees
    below ``complex.exact_degrees``. Pass a ``filtration`` (from :func:`flag_filtration`) or ``edge_weights``.

    >>> from steerable.sheaf import SimplicialComplex, persistent_local_homology
    >>> X = SimplicialComplex([(0, 1, 2)])
    >>> persistent_local_homology(X, 0, edge_weights=[1.0, 2.0, 3.0])
    [(0, 0.0, 1.0), (1, 2.0, 3.0)]
    """
    if filtration is None:
        if edge_weights is None:
            raise ValueError("filtration: expected a filtration or edge_weights, got neither")
        filtration = flag_filtration(complex, edge_weights)
    if isinstance(simplex, (int, np.integer)):
        simplex = (int(simplex),)
    s = tuple(sorted(int(v) for v in simplex))
    complex.index(s)
    vals = [f.detach().cpu().double().numpy() for f in filtration]
    loc = _local(complex, s, vals, _edge_values(complex, vals))
    _reduce(loc)
    out = []
    for k, b, d, _ in loc.bars:
        if k >= complex.exact_degrees:
            continue
        death = float(loc.f[d]) if d >= 0 else float("inf")
        if death > loc.f[b]:
            out.append((k, float(loc.f[b]), death))
    return sorted(out)


def _edge_values(complex: SimplicialComplex, vals: list[np.ndarray]) -> dict:
    if complex.dim < 1:
        return {}
    return {tuple(r): float(v) for r, v in zip(complex.edges.tolist(), vals[1].tolist())}
