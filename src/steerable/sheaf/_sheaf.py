"""Cellular sheaves on the graph of a complex (vertices and edges): stalks, restriction maps, the
coboundary δ and the sheaf Laplacian L = δᵀδ; the local homology sheaf and its persistent version.

A :class:`Sheaf` stores δ as triplets (edge-stalk row, vertex-stalk row, value): δ x and δᵀ y are
an ``index_add`` each, so everything is plain, differentiable torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ._complex import SimplicialComplex
from ._homology import _edge_values, _harmonic, _Local, _local, _reduce, flag_filtration

__all__ = ["Sheaf", "constant_sheaf", "direct_sum", "local_homology_sheaf", "persistent_local_homology_sheaf"]


def _long(x: Any, name: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise TypeError(f"{name}: expected integer indices, got dtype {t.dtype}")
    return t.long()


class Sheaf:
    """A cellular sheaf on a graph: vertex stalks ℝ^{d_v}, edge stalks ℝ^{d_e}, restriction maps
    F(v ≤ e) stored as the triplets of the coboundary δ (δx)_e = F(w ≤ e) x_w − F(u ≤ e) x_u.

    Stalk coordinates ("rows") are grouped by node: the rows of node v are contiguous and nodes
    come in order. Each row has a ``kind`` (e.g. its homological degree) so that layers can use a
    separate weight per kind; ``canonical[kind]`` says whether that kind's basis is intrinsic
    (sign included), which decides the nonlinearity the layers use on it. ``row_weight`` is an
    optional per-row scalar (the persistence of a bar) that networks use to lift node features.

    >>> import torch
    >>> from steerable.sheaf import constant_sheaf
    >>> F = constant_sheaf(torch.tensor([[0, 1], [1, 2]]), 3)
    >>> F.dense_laplacian().tolist()
    [[1.0, -1.0, 0.0], [-1.0, 2.0, -1.0], [0.0, -1.0, 1.0]]
    """

    def __init__(
        self,
        n_nodes: int,
        node_of_row: Any,
        kind_of_row: Any,
        edge_index: Any,
        edge_of_row: Any,
        triplets: tuple[Any, Any, torch.Tensor],
        canonical: tuple[bool, ...],
        row_weight: torch.Tensor | None = None,
    ):
        if isinstance(n_nodes, bool) or not isinstance(n_nodes, (int, np.integer)) or n_nodes < 1:
            raise ValueError(f"n_nodes: expected a positive int, got {n_nodes!r}")
        node = _long(node_of_row, "node_of_row")
        kind = _long(kind_of_row, "kind_of_row")
        ei = _long(edge_index, "edge_index").reshape(2, -1)
        eor = _long(edge_of_row, "edge_of_row")
        r, c, v = triplets
        r, c = _long(r, "triplets"), _long(c, "triplets")
        if not isinstance(v, torch.Tensor):
            v = torch.as_tensor(np.asarray(v, dtype=np.float64))
        if node.shape != kind.shape or node.dim() != 1:
            raise ValueError("kind_of_row: expected one kind per row (same shape as node_of_row)")
        if len(node) and (node.min() < 0 or node.max() >= n_nodes):
            raise ValueError(f"node_of_row: expected node ids in [0, {n_nodes}), got {node.min()}…{node.max()}")
        if ei.numel() and (ei.min() < 0 or ei.max() >= n_nodes):
            raise ValueError(f"edge_index: expected node ids in [0, {n_nodes})")
        if not (r.shape == c.shape == v.shape):
            raise ValueError("triplets: expected rows, cols and values of the same length")
        if len(eor) and (eor.min() < 0 or eor.max() >= ei.shape[1]):
            raise ValueError("edge_of_row: expected edge ids in [0, number of edges)")
        if len(r) and (r.min() < 0 or r.max() >= len(eor) or c.min() < 0 or c.max() >= len(node)):
            raise ValueError("triplets: row or column index out of range")
        if row_weight is not None and (not isinstance(row_weight, torch.Tensor) or row_weight.shape != node.shape):
            raise ValueError(f"row_weight: expected a tensor of shape ({len(node)},), one per row")
        if len(kind) and kind.max() >= len(canonical):
            raise ValueError(f"canonical: expected a flag per kind ({int(kind.max()) + 1}), got {len(canonical)}")
        # rows sorted by (node, kind), stable
        order = torch.as_tensor(np.lexsort((np.arange(len(node)), kind.numpy(), node.numpy())), dtype=torch.long)
        inv = torch.empty_like(order)
        inv[order] = torch.arange(len(order))
        self.n_nodes = int(n_nodes)
        self.node_of_row = node[order]
        self.kind_of_row = kind[order]
        self.edge_index = ei
        self.edge_of_row = eor
        self.rows, self.cols, self.values = r, inv[c] if len(c) else c, v
        self.canonical = tuple(bool(b) for b in canonical)
        self.row_weight = None if row_weight is None else row_weight[order]
        self.stalk_dims = torch.bincount(self.node_of_row, minlength=self.n_nodes)
        # node (side) of each triplet: which endpoint's map it is
        self.triplet_node = self.node_of_row[self.cols] if len(self.cols) else self.cols

    @property
    def n_kinds(self) -> int:
        """The number of row kinds (weights per kind in the layers)."""
        return len(self.canonical)

    @property
    def n_rows(self) -> int:
        """The total vertex-stalk dimension Σ_v d_v."""
        return len(self.node_of_row)

    @property
    def n_edge_rows(self) -> int:
        """The total edge-stalk dimension Σ_e d_e."""
        return len(self.edge_of_row)

    def coboundary(self, x: torch.Tensor) -> torch.Tensor:
        """δx: ``(n_rows, C)`` vertex-stalk features → ``(n_edge_rows, C)`` edge-stalk features."""
        v = self.values.to(x.dtype)
        out = x.new_zeros(self.n_edge_rows, *x.shape[1:])
        return out.index_add(0, self.rows, v.view(-1, *[1] * (x.dim() - 1)) * x[self.cols])

    def coboundary_adjoint(self, y: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        """δᵀy (each triplet optionally scaled by ``weight``, e.g. attention on directed edges)."""
        v = self.values.to(y.dtype)
        if weight is not None:
            v = v * weight
        out = y.new_zeros(self.n_rows, *y.shape[1:])
        return out.index_add(0, self.cols, v.view(-1, *[1] * (y.dim() - 1)) * y[self.rows])

    def degree_scale(self) -> torch.Tensor:
        """Per row: 1 + tr(D_v)/d_v of its node, D_v = Σ_e F(v≤e)ᵀF(v≤e) (invariant under stalk rotations)."""
        tr = torch.zeros(self.n_nodes, dtype=self.values.dtype).index_add(0, self.triplet_node, self.values**2)
        d = self.stalk_dims.clamp(min=1).to(tr.dtype)
        return (1.0 + tr / d)[self.node_of_row]

    def laplacian(self, x: torch.Tensor, normalized: bool = True) -> torch.Tensor:
        """L x = δᵀδ x, or with ``normalized`` S^{-1/2} L S^{-1/2} x, S from :meth:`degree_scale`."""
        if x.shape[0] != self.n_rows:
            raise ValueError(f"x: expected {self.n_rows} rows (the vertex stalks), got shape {tuple(x.shape)}")
        if not normalized:
            return self.coboundary_adjoint(self.coboundary(x))
        s = self.degree_scale().to(x.dtype).rsqrt().view(-1, *[1] * (x.dim() - 1))
        return s * self.coboundary_adjoint(self.coboundary(s * x))

    def dense_laplacian(self, normalized: bool = False) -> torch.Tensor:
        """The ``(n_rows, n_rows)`` matrix of :meth:`laplacian` (for tests and small complexes)."""
        eye = torch.eye(self.n_rows, dtype=self.values.dtype if self.values.is_floating_point() else torch.float64)
        return self.laplacian(eye, normalized=normalized)

    def relabel(self, perm: Any) -> tuple[Sheaf, torch.Tensor]:
        """The same sheaf with node v renamed ``perm[v]``, and the row index ``idx`` with
        ``x_new = x[idx]`` for vertex-stalk features ``x``."""
        p = _long(perm, "perm")
        if sorted(p.tolist()) != list(range(self.n_nodes)):
            raise ValueError(f"perm: expected a permutation of 0 … {self.n_nodes - 1}")
        new = Sheaf(
            self.n_nodes,
            p[self.node_of_row],
            self.kind_of_row,
            p[self.edge_index],
            self.edge_of_row,
            (self.rows, self.cols, self.values),
            self.canonical,
            self.row_weight,
        )
        order = np.lexsort((np.arange(self.n_rows), self.kind_of_row.numpy(), p[self.node_of_row].numpy()))
        return new, torch.as_tensor(order, dtype=torch.long)

    def __repr__(self) -> str:
        return (
            f"Sheaf(nodes={self.n_nodes}, edges={self.edge_index.shape[1]}, rows={self.n_rows}, "
            f"edge_rows={self.n_edge_rows}, kinds={self.n_kinds})"
        )


def _graph(graph: Any, n_nodes: int | None) -> tuple[np.ndarray, int]:
    if isinstance(graph, SimplicialComplex):
        return graph.edges, graph.n_vertices
    from ._complex import _edges_from

    e, n = _edges_from(graph, n_nodes, "graph")
    return e, n


def constant_sheaf(graph: Any, n_nodes: int | None = None) -> Sheaf:
    """The constant sheaf ℝ on a graph (a complex's edges or a ``(2, m)`` edge array): its
    Laplacian is the graph Laplacian.

    >>> import torch
    >>> from steerable.sheaf import constant_sheaf
    >>> constant_sheaf(torch.tensor([[0, 1], [1, 2]]), 3).stalk_dims.tolist()
    [1, 1, 1]
    """
    e, n = _graph(graph, n_nodes)
    m = len(e)
    rows = np.repeat(np.arange(m), 2)
    cols = e.reshape(-1)
    vals = np.tile([-1.0, 1.0], m)
    return Sheaf(
        n,
        np.arange(n),
        np.zeros(n, dtype=np.int64),
        e.T.copy(),
        np.arange(m),
        (rows, cols, torch.as_tensor(vals)),
        (True,),
    )


def direct_sum(a: Sheaf, b: Sheaf) -> Sheaf:
    """The direct sum F ⊕ G of two sheaves on the same nodes (stalks stacked; L is block diagonal).

    >>> import torch
    >>> from steerable.sheaf import constant_sheaf, direct_sum
    >>> F = constant_sheaf(torch.tensor([[0], [1]]), 2)
    >>> direct_sum(F, F).stalk_dims.tolist(), direct_sum(F, F).n_kinds
    ([2, 2], 2)
    """
    if not isinstance(a, Sheaf) or not isinstance(b, Sheaf):
        raise TypeError(f"a, b: expected two Sheaf objects, got {type(a).__name__}, {type(b).__name__}")
    if a.n_nodes != b.n_nodes:
        raise ValueError(f"b: expected a sheaf on {a.n_nodes} nodes, got {b.n_nodes}")
    dt = torch.promote_types(a.values.dtype, b.values.dtype)
    rw = None
    if a.row_weight is not None or b.row_weight is not None:
        wa = a.row_weight if a.row_weight is not None else torch.ones(a.n_rows, dtype=dt)
        wb = b.row_weight if b.row_weight is not None else torch.ones(b.n_rows, dtype=dt)
        rw = torch.cat([wa.to(dt), wb.to(dt)])
    return Sheaf(
        a.n_nodes,
        torch.cat([a.node_of_row, b.node_of_row]),
        torch.cat([a.kind_of_row, b.kind_of_row + a.n_kinds]),
        torch.cat([a.edge_index, b.edge_index], 1),
        torch.cat([a.edge_of_row, b.edge_of_row + a.edge_index.shape[1]]),
        (
            torch.cat([a.rows, b.rows + a.n_edge_rows]),
            torch.cat([a.cols, b.cols + a.n_rows]),
            torch.cat([a.values.to(dt), b.values.to(dt)]),
        ),
        a.canonical + b.canonical,
        rw,
    )


def _degrees(complex: SimplicialComplex, degrees: Any) -> tuple[int, ...]:
    if not isinstance(complex, SimplicialComplex):
        raise TypeError(f"complex: expected a SimplicialComplex, got {type(complex).__name__}")
    if complex.dim < 1:
        raise ValueError("complex: expected a complex with edges (a sheaf lives on its graph)")
    top = complex.exact_degrees
    if degrees is None:
        return tuple(range(top))
    try:
        ds = tuple(sorted({int(d) for d in degrees}))
    except TypeError as err:
        raise TypeError(f"degrees: expected an iterable of ints, got {degrees!r}") from err
    if not ds or ds[0] < 0 or ds[-1] >= top:
        raise ValueError(f"degrees: expected degrees in 0 … {top - 1} (exact for this complex), got {ds}")
    return ds


def _projection(lv: _Local, le: _Local, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The chain map C_k(St v) → C_k(St e) (drop simplices without e) as a matrix on local cells."""
    ce = np.flatnonzero(le.dims == k)
    P = np.zeros((len(ce), len(lv.dims)))
    for a, j in enumerate(ce.tolist()):
        i = lv.pos[(k, int(le.rows[j]))]
        P[a, i] = lv.sign[i] * le.sign[j]
    return P, ce


def local_homology_sheaf(complex: SimplicialComplex, degrees: Any = None) -> Sheaf:
    """The local homology sheaf on the graph of ``complex``: F(σ) = ⊕_k H_k(X, X∖σ) for vertices and
    edges (harmonic representatives, orthonormal bases), F(v ≤ e) induced by the chain map that
    drops the simplices not containing e. Rows of degree k have kind ``degrees.index(k)``.

    The bases are orthonormal but otherwise arbitrary (a stalk rotation changes L to QᵀLQ);
    :func:`persistent_local_homology_sheaf` fixes them.

    >>> from steerable.sheaf import SimplicialComplex, local_homology_sheaf
    >>> X = SimplicialComplex([(0, 1, 2), (0, 2, 3), (0, 3, 4), (0, 4, 1)])
    >>> local_homology_sheaf(X).stalk_dims.tolist()
    [1, 0, 0, 0, 0]
    """
    ds = _degrees(complex, degrees)
    locs_v = [_local(complex, (v,), None, None) for v in range(complex.n_vertices)]
    H_v = [{k: _harmonic(lv, k) for k in ds} for lv in locs_v]
    node: list[int] = []
    kind: list[int] = []
    offs: list[int] = []
    for v in range(complex.n_vertices):
        offs.append(len(node))
        for k in ds:
            node += [v] * H_v[v][k].shape[1]
            kind += [ds.index(k)] * H_v[v][k].shape[1]
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    eor: list[int] = []
    for ei, (u, w) in enumerate(complex.edges.tolist()):
        le = _local(complex, (u, w), None, None)
        for k in ds:
            if k < 1:
                continue
            He = _harmonic(le, k)
            if He.shape[1] == 0:
                continue
            base = len(eor)
            eor += [ei] * He.shape[1]
            for v, sgn in ((u, -1.0), (w, 1.0)):
                Hv = H_v[v][k]
                if Hv.shape[1] == 0:
                    continue
                P, ce = _projection(locs_v[v], le, k)
                Rm = He[ce].T @ (P @ Hv)
                off = offs[v] + sum(H_v[v][q].shape[1] for q in ds if q < k)
                a, b = np.nonzero(np.abs(Rm) > 1e-12)
                rows += (base + a).tolist()
                cols += (off + b).tolist()
                vals += (sgn * Rm[a, b]).tolist()
    return Sheaf(
        complex.n_vertices,
        np.array(node, dtype=np.int64),
        np.array(kind, dtype=np.int64),
        complex.edges.T.copy(),
        np.array(eor, dtype=np.int64),
        (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), torch.tensor(vals, dtype=torch.float64)),
        (False,) * len(ds),
    )


def persistent_local_homology_sheaf(
    complex: SimplicialComplex,
    edge_weights: Any,
    vertex_weights: Any | None = None,
    degrees: Any = None,
    horizon: Any | None = None,
) -> Sheaf:
    """The persistent local homology sheaf of a weighted complex (flag filtration of ``edge_weights``).

    Each stalk F(σ) has one coordinate per bar [b, d) of the persistent local homology at σ
    (zero-length bars dropped, classes that never die end at ``horizon``; default
    ``2·max f − min f``). A bar is the function 1_[b,d) · z / √(d−b) of the filtration time t
    (z its cycle representative), so F(σ) sits isometrically in L²([0, horizon]; H_•(X_t, X_t∖σ))
    and F(v ≤ e) is the time integral of the induced maps:

        F(v ≤ e)_{ji} = Σ_segments c_ji(t) · |segment| / √(|I_i| |I_j|),

    c_ji(t) the coefficient of bar j of e in the image of bar i of v at time t (piecewise
    constant). Bars and representatives are computed with simplices ordered and oriented by
    filtration values, so the sheaf does not depend on the vertex numbering (for weights without
    ties), and every value is a differentiable function of the weights (smooth between the
    weight configurations where the order of two filtration values changes). ``row_weight`` holds each vertex
    bar's persistence (d − b) / (horizon − min f).

    >>> import torch
    >>> from steerable.sheaf import SimplicialComplex, persistent_local_homology_sheaf
    >>> X = SimplicialComplex([(0, 1, 2), (0, 2, 3), (0, 3, 4), (0, 4, 1)])
    >>> w = torch.linspace(1.0, 2.0, X.counts[1], dtype=torch.float64, requires_grad=True)
    >>> F = persistent_local_homology_sheaf(X, w)
    >>> F.stalk_dims.tolist()
    [5, 1, 1, 1, 1]
    >>> F.dense_laplacian().sum().backward(); w.grad.shape
    torch.Size([8])
    """
    ds = _degrees(complex, degrees)
    filt = flag_filtration(complex, edge_weights, vertex_weights)
    dtype = filt[0].dtype if filt[0].is_floating_point() else torch.float64
    flat = torch.cat([f.to(dtype).reshape(-1) for f in filt])
    if horizon is None:
        hi, lo = flat.max(), flat.min()
        horizon_t = torch.where(hi > lo, 2 * hi - lo, hi + 1)
    else:
        horizon_t = (
            horizon.to(dtype) if isinstance(horizon, torch.Tensor) else torch.tensor(float(horizon), dtype=dtype)
        )
        if not bool(horizon_t > flat.max()):
            raise ValueError(
                f"horizon: expected a value above every filtration value ({float(flat.max())}), got {horizon}"
            )
    lo = flat.min()
    allf = torch.cat([flat, horizon_t.reshape(1)])
    H = len(flat)
    offset = np.cumsum([0] + [len(f) for f in filt])
    vals_np = [f.detach().cpu().double().numpy() for f in filt]
    hnum = float(horizon_t.detach())
    ev = _edge_values(complex, vals_np)

    def analyse(s: tuple[int, ...]) -> tuple[_Local, list]:
        loc = _local(complex, s, vals_np, ev)
        _reduce(loc)
        bars = []  # (degree, birth ref, death ref, birth time, death time, representative)
        for k, b, d, z in loc.bars:
            if k not in ds:
                continue
            tb = float(loc.f[b])
            td = float(loc.f[d]) if d >= 0 else hnum
            if td <= tb:
                continue
            rb = int(offset[loc.dims[b]] + loc.rows[b])
            rd = int(offset[loc.dims[d]] + loc.rows[d]) if d >= 0 else H
            bars.append((k, rb, rd, tb, td, z))
        return loc, bars

    vert = [analyse((v,)) for v in range(complex.n_vertices)]
    node: list[int] = []
    kind: list[int] = []
    vb: list[int] = []
    vd: list[int] = []
    offs: list[int] = []
    for v, (_, bars) in enumerate(vert):
        offs.append(len(node))
        bars.sort(key=lambda t: (t[0], -(t[4] - t[3]), t[3]))  # by degree, longest first
        for k, rb, rd, _, _, _ in bars:
            node.append(v)
            kind.append(ds.index(k))
            vb.append(rb)
            vd.append(rd)
    tr_row, tr_col, tr_c, tr_s, tr_e, tr_jb, tr_jd = [], [], [], [], [], [], []
    eor: list[int] = []
    for ei, (u, w) in enumerate(complex.edges.tolist()):
        le, ebars = analyse((u, w))
        ebars.sort(key=lambda t: (t[0], -(t[4] - t[3]), t[3]))
        ebase = len(eor)
        eor += [ei] * len(ebars)
        for k in ds:
            jidx = [j for j, b in enumerate(ebars) if b[0] == k]
            if not jidx:
                continue
            ce = np.flatnonzero(le.dims == k)
            kill = [(float(le.f[j]), z[ce]) for j, z in le.killers.items() if le.dims[j] == k + 1]
            for v, sgn in ((u, -1.0), (w, 1.0)):
                lv, vbars = vert[v]
                iidx = [i for i, b in enumerate(vbars) if b[0] == k]
                if not iidx:
                    continue
                P, _ = _projection(lv, le, k)
                times = sorted(
                    {(vbars[i][3], vbars[i][1]) for i in iidx}
                    | {(vbars[i][4], vbars[i][2]) for i in iidx}
                    | {(ebars[j][3], ebars[j][1]) for j in jidx}
                    | {(ebars[j][4], ebars[j][2]) for j in jidx}
                )
                for (ta, ra), (tb, rb) in zip(times[:-1], times[1:]):
                    if tb <= ta:
                        continue
                    ai = [i for i in iidx if vbars[i][3] <= ta < vbars[i][4]]
                    aj = [j for j in jidx if ebars[j][3] <= ta < ebars[j][4]]
                    if not ai or not aj:
                        continue
                    Z = np.stack([ebars[j][5][ce] for j in aj], 1)
                    Bd = [z for t, z in kill if t <= ta]
                    A = np.concatenate([Z, np.stack(Bd, 1)], 1) if Bd else Z
                    Y = P @ np.stack([vbars[i][5] for i in ai], 1)
                    C = np.linalg.lstsq(A, Y, rcond=None)[0][: len(aj)]
                    for a, j in enumerate(aj):
                        for b, i in enumerate(ai):
                            if abs(C[a, b]) > 1e-12:
                                tr_row.append(ebase + j)
                                tr_col.append(offs[v] + i)
                                tr_c.append(sgn * C[a, b])
                                tr_s.append(ra)
                                tr_e.append(rb)
                                tr_jb.append(ebars[j][1])
                                tr_jd.append(ebars[j][2])
    vb_t, vd_t = torch.tensor(vb, dtype=torch.long), torch.tensor(vd, dtype=torch.long)
    len_v = allf[vd_t] - allf[vb_t]
    if tr_row:
        col = torch.tensor(tr_col, dtype=torch.long)
        seg = allf[torch.tensor(tr_e)] - allf[torch.tensor(tr_s)]
        len_j = allf[torch.tensor(tr_jd)] - allf[torch.tensor(tr_jb)]
        val = torch.tensor(tr_c, dtype=dtype) * seg / torch.sqrt(len_v[col] * len_j)
        # merge the segments of one (row, col) pair
        key = torch.tensor(tr_row, dtype=torch.long) * max(len(node), 1) + col
        uniq, inv = torch.unique(key, return_inverse=True)
        values = torch.zeros(len(uniq), dtype=dtype).index_add(0, inv, val)
        rows_t, cols_t = uniq // max(len(node), 1), uniq % max(len(node), 1)
    else:
        values = torch.zeros(0, dtype=dtype)
        rows_t = cols_t = torch.zeros(0, dtype=torch.long)
    return Sheaf(
        complex.n_vertices,
        np.array(node, dtype=np.int64),
        np.array(kind, dtype=np.int64),
        complex.edges.T.copy(),
        np.array(eor, dtype=np.int64),
        (rows_t, cols_t, values),
        (True,) * len(ds),
        row_weight=len_v / (horizon_t - lo),
    )
