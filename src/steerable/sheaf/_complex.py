"""Finite simplicial complexes: explicit, clique (flag) complexes of graphs, Vietoris–Rips and k-NN
complexes of point clouds; oriented boundary matrices over the reals."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

__all__ = ["SimplicialComplex", "clique_complex", "delaunay_complex", "knn_complex", "rips_complex"]


def _int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value}")
    return int(value)


def _as_numpy(x: Any, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    try:
        return np.asarray(x)
    except Exception as err:  # pragma: no cover - exotic inputs
        raise TypeError(f"{name}: expected an array, got {type(x).__name__}") from err


class SimplicialComplex:
    """A finite abstract simplicial complex on the vertices ``0 … n_vertices-1``.

    ``simplices[k]`` is an ``(m_k, k+1)`` int array of the k-simplices, each row sorted
    increasingly (that order is the simplex's orientation), rows sorted lexicographically.
    The closure of the given simplices is taken (every face is added). ``truncated`` marks a
    complex cut at its top dimension (clique/Rips complexes built up to ``max_dim``): its local
    homology is then exact only below the top degree (see :attr:`exact_degrees`).

    >>> from steerable.sheaf import SimplicialComplex
    >>> X = SimplicialComplex([(0, 1, 2), (2, 3)])
    >>> X.counts
    (4, 4, 1)
    >>> X.boundary(1).toarray().astype(int).tolist()[0]
    [-1, -1, 0, 0]
    """

    def __init__(self, simplices: Iterable[Sequence[int]], n_vertices: int | None = None, truncated: bool = False):
        faces: set[tuple[int, ...]] = set()
        top = -1
        for s in simplices:
            try:
                t = tuple(sorted(int(v) for v in s))
            except TypeError as err:
                raise TypeError(f"simplices: expected sequences of vertex ids, got {s!r}") from err
            if not t:
                raise ValueError("simplices: expected non-empty simplices, got an empty one")
            if len(set(t)) != len(t):
                raise ValueError(f"simplices: a simplex repeats a vertex: {t}")
            if t[0] < 0:
                raise ValueError(f"simplices: expected vertex ids >= 0, got {t}")
            top = max(top, len(t) - 1)
            for k in range(1, len(t) + 1):
                faces.update(itertools.combinations(t, k))
        nv = 1 + max((s[-1] for s in faces), default=-1)
        if n_vertices is not None:
            n_vertices = _int(n_vertices, "n_vertices", 0)
            if n_vertices < nv:
                raise ValueError(f"n_vertices: expected >= {nv} (largest vertex id + 1), got {n_vertices}")
            nv = n_vertices
        faces.update((v,) for v in range(nv))
        self.n_vertices = nv
        self.truncated = bool(truncated)
        dim = max((len(s) - 1 for s in faces), default=-1)
        self.simplices: list[np.ndarray] = []
        for k in range(dim + 1):
            rows = sorted(s for s in faces if len(s) == k + 1)
            self.simplices.append(np.asarray(rows, dtype=np.int64).reshape(len(rows), k + 1))
        self._index = [{tuple(r): i for i, r in enumerate(a.tolist())} for a in self.simplices]
        self._star: list[list[np.ndarray]] | None = None

    @property
    def dim(self) -> int:
        """The largest dimension of a simplex (−1 for the empty complex)."""
        return len(self.simplices) - 1

    @property
    def counts(self) -> tuple[int, ...]:
        """The number of simplices in each dimension."""
        return tuple(len(a) for a in self.simplices)

    @property
    def edges(self) -> np.ndarray:
        """The ``(m, 2)`` array of edges (u < w)."""
        return self.simplices[1] if self.dim >= 1 else np.zeros((0, 2), dtype=np.int64)

    @property
    def exact_degrees(self) -> int:
        """Local homology is exact in degrees ``0 … exact_degrees-1`` (``dim`` for a truncated complex)."""
        return self.dim if self.truncated else self.dim + 1

    def index(self, simplex: Sequence[int]) -> int:
        """The row of ``simplex`` in ``simplices[len(simplex) - 1]``."""
        t = tuple(sorted(int(v) for v in simplex))
        k = len(t) - 1
        if k < 0 or k > self.dim or t not in self._index[k]:
            raise ValueError(f"simplex: {t} is not a simplex of this complex")
        return self._index[k][t]

    def boundary(self, k: int) -> sp.csr_matrix:
        """The oriented boundary matrix ∂_k: C_k → C_{k-1} (``(m_{k-1}, m_k)``, entries ±1; k ≥ 1).

        >>> SimplicialComplex([(0, 1, 2)]).boundary(2).toarray().ravel().tolist()
        [1.0, -1.0, 1.0]
        """
        k = _int(k, "k", 1)
        if k > self.dim:
            m = self.counts[k - 1] if k - 1 <= self.dim else 0
            return sp.csr_matrix((m, 0))
        s = self.simplices[k]
        rows, cols, vals = [], [], []
        for i in range(k + 1):
            face = np.delete(s, i, axis=1)
            idx = [self._index[k - 1][tuple(r)] for r in face.tolist()]
            rows.append(idx)
            cols.append(np.arange(len(s)))
            vals.append(np.full(len(s), (-1.0) ** i))
        return sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(self.counts[k - 1], len(s))
        )

    def star(self, simplex: Sequence[int]) -> list[np.ndarray]:
        """The open star: for each dimension k, the rows of the k-simplices that contain ``simplex``.

        >>> [s.tolist() for s in SimplicialComplex([(0, 1, 2), (2, 3)]).star([2])]
        [[2], [1, 2, 3], [0]]
        """
        t = tuple(sorted(int(v) for v in simplex))
        self.index(t)
        if self._star is None:
            self._star = []
            for a in self.simplices:
                order = np.argsort(a.ravel(), kind="stable")
                rows = order // a.shape[1]
                bounds = np.searchsorted(a.ravel()[order], np.arange(self.n_vertices + 1))
                self._star.append([np.sort(rows[bounds[v] : bounds[v + 1]]) for v in range(self.n_vertices)])
        out = []
        for k in range(self.dim + 1):
            if k < len(t) - 1:
                out.append(np.zeros(0, dtype=np.int64))
                continue
            cur = self._star[k][t[0]]
            for v in t[1:]:
                cur = np.intersect1d(cur, self._star[k][v], assume_unique=True)
            out.append(cur)
        return out

    def __repr__(self) -> str:
        return f"SimplicialComplex(counts={self.counts}, truncated={self.truncated})"


def _edges_from(edge_index: Any, n: int | None, name: str) -> tuple[np.ndarray, int]:
    e = _as_numpy(edge_index, name)
    if e.ndim != 2 or (e.shape[0] != 2 and e.shape[1] != 2):
        raise ValueError(f"{name}: expected a (2, m) or (m, 2) array of vertex pairs, got shape {tuple(e.shape)}")
    if e.shape[0] == 2 and e.shape[1] != 2:
        e = e.T
    elif e.shape == (2, 2):
        e = e.T  # (2, m) convention wins for a 2×2 array
    if e.size and not np.issubdtype(e.dtype, np.integer):
        raise TypeError(f"{name}: expected integer vertex ids, got dtype {e.dtype}")
    e = e.astype(np.int64)
    if e.size and e.min() < 0:
        raise ValueError(f"{name}: expected vertex ids >= 0, got {e.min()}")
    nv = int(e.max()) + 1 if e.size else 0
    if n is not None:
        n = _int(n, "n_vertices", 0)
        if n < nv:
            raise ValueError(f"n_vertices: expected >= {nv} (largest vertex id + 1), got {n}")
        nv = n
    e = e[e[:, 0] != e[:, 1]]
    e = np.unique(np.sort(e, axis=1), axis=0)
    return e, nv


def clique_complex(edge_index: Any, n_vertices: int | None = None, max_dim: int = 2) -> SimplicialComplex:
    """The clique (flag) complex of a graph up to dimension ``max_dim``: every (k+1)-clique is a k-simplex.

    ``edge_index`` is a ``(2, m)`` (or ``(m, 2)``) array of vertex pairs (either direction; loops
    and repeats are dropped); a ``networkx`` graph with integer nodes is accepted too.

    >>> from steerable.sheaf import clique_complex
    >>> clique_complex([[0, 1, 2, 0], [1, 2, 0, 3]], max_dim=3).counts
    (4, 4, 1)
    """
    if hasattr(edge_index, "edges") and hasattr(edge_index, "nodes"):
        g = edge_index
        nodes = sorted(g.nodes)
        if nodes != list(range(len(nodes))):
            raise ValueError("edge_index: a networkx graph needs the nodes 0 … n-1")
        n_vertices = len(nodes) if n_vertices is None else n_vertices
        edge_index = np.asarray(list(g.edges), dtype=np.int64).reshape(-1, 2)
    max_dim = _int(max_dim, "max_dim", 0)
    e, nv = _edges_from(edge_index, n_vertices, "edge_index")
    nbr: list[set[int]] = [set() for _ in range(nv)]
    for u, w in e.tolist():
        nbr[u].add(w)
        nbr[w].add(u)
    simplices: list[tuple[int, ...]] = [(v,) for v in range(nv)]
    if max_dim >= 1:
        layer = [tuple(r) for r in e.tolist()]
        simplices += layer
        for _ in range(2, max_dim + 1):
            nxt = []
            for s in layer:
                common = set.intersection(*(nbr[v] for v in s))
                nxt += [(*s, w) for w in sorted(common) if w > s[-1]]
            if not nxt:
                break
            simplices += nxt
            layer = nxt
    return SimplicialComplex(simplices, n_vertices=nv, truncated=True)


def _points(points: Any) -> np.ndarray:
    p = _as_numpy(points, "points").astype(np.float64)
    if p.ndim != 2 or p.shape[0] < 1:
        raise ValueError(f"points: expected an (n, d) array of coordinates, got shape {tuple(p.shape)}")
    if not np.isfinite(p).all():
        raise ValueError("points: expected finite coordinates, got nan or inf")
    return p


def rips_complex(points: Any, radius: float, max_dim: int = 2) -> SimplicialComplex:
    """The Vietoris–Rips complex of a point cloud: the clique complex of the graph joining points at
    distance ≤ ``radius``, up to dimension ``max_dim``.

    >>> import numpy as np
    >>> from steerable.sheaf import rips_complex
    >>> rips_complex(np.array([[0.0, 0], [1, 0], [0, 1], [5, 5]]), radius=1.5).counts
    (4, 3, 1)
    """
    p = _points(points)
    if isinstance(radius, bool) or not isinstance(radius, (int, float, np.floating, np.integer)) or radius <= 0:
        raise ValueError(f"radius: expected a positive number, got {radius!r}")
    d = np.linalg.norm(p[:, None] - p[None], axis=-1)
    iu = np.triu_indices(len(p), 1)
    keep = d[iu] <= radius
    return clique_complex(np.stack([iu[0][keep], iu[1][keep]]), n_vertices=len(p), max_dim=max_dim)


def knn_complex(points: Any, k: int, max_dim: int = 2) -> SimplicialComplex:
    """The clique complex of the symmetrised k-nearest-neighbour graph of a point cloud.

    >>> import numpy as np
    >>> from steerable.sheaf import knn_complex
    >>> knn_complex(np.array([[0.0, 0], [1, 0], [0, 1.1], [5, 5]]), k=1).counts
    (4, 3)
    """
    p = _points(points)
    k = _int(k, "k", 1)
    if k >= len(p):
        raise ValueError(f"k: expected fewer neighbours than points ({len(p)}), got {k}")
    d = np.linalg.norm(p[:, None] - p[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    nn = np.argsort(d, axis=1, kind="stable")[:, :k]
    src = np.repeat(np.arange(len(p)), k)
    return clique_complex(np.stack([src, nn.ravel()]), n_vertices=len(p), max_dim=max_dim)


def delaunay_complex(points: Any) -> SimplicialComplex:
    """The Delaunay triangulation of a planar (or 3-d) point cloud as a simplicial complex (its
    simplices and all their faces; scipy's Qhull). A triangulated disk: a point's local homology
    tells hull-boundary points from interior ones.

    >>> import numpy as np
    >>> from steerable.sheaf import delaunay_complex
    >>> delaunay_complex(np.array([[0.0, 0], [1, 0], [0, 1], [1, 1.1]])).counts
    (4, 5, 2)
    """
    from scipy.spatial import Delaunay

    p = _points(points)
    if p.shape[1] not in (2, 3) or len(p) <= p.shape[1]:
        raise ValueError(f"points: expected more than d points in d = 2 or 3 dimensions, got shape {tuple(p.shape)}")
    tri = Delaunay(p)
    return SimplicialComplex([tuple(s) for s in tri.simplices.tolist()], n_vertices=len(p))
