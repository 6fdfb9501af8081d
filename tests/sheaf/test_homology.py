"""Complexes and local homology against hand-computed cases: a triangulated disk (interior vs
boundary), a wedge of circles, a 2-sphere, the projective plane; persistence against gudhi."""

import numpy as np
import pytest
import torch

from steerable.sheaf import (
    SimplicialComplex,
    clique_complex,
    flag_filtration,
    knn_complex,
    local_betti,
    local_homology_sheaf,
    persistent_local_homology,
    rips_complex,
)


def grid_disk(n=4):
    """An n×n lattice of vertices, every square cut along a diagonal: a triangulated disk."""
    vid = lambda i, j: i * n + j
    tris = []
    for i in range(n - 1):
        for j in range(n - 1):
            tris += [(vid(i, j), vid(i + 1, j), vid(i + 1, j + 1)), (vid(i, j), vid(i, j + 1), vid(i + 1, j + 1))]
    interior = [vid(i, j) for i in range(1, n - 1) for j in range(1, n - 1)]
    return SimplicialComplex(tris), interior


OCTAHEDRON = [(a, b, c) for a in (0, 1) for b in (2, 3) for c in (4, 5)]  # the 2-sphere
RP2 = [(0, 1, 3), (0, 1, 5), (0, 2, 4), (0, 2, 5), (0, 3, 4), (1, 2, 3), (1, 2, 4), (1, 4, 5), (2, 3, 5), (3, 4, 5)]


def test_complex_counts_and_boundary():
    X, _ = grid_disk(4)
    assert X.counts == (16, 33, 18) and X.exact_degrees == 3
    for k in (1, 2):
        assert X.boundary(k).shape == (X.counts[k - 1], X.counts[k])
    assert abs(X.boundary(1) @ X.boundary(2)).sum() == 0  # ∂∂ = 0
    C = clique_complex(np.array([[0, 1, 2, 0, 2], [1, 2, 0, 3, 3]]), max_dim=3)
    assert C.counts == (4, 5, 2) and C.truncated and C.exact_degrees == 2


def test_rips_and_knn():
    rng = np.random.default_rng(0)
    p = rng.normal(size=(30, 2))
    d = np.linalg.norm(p[:, None] - p[None], axis=-1)
    X = rips_complex(p, 0.8, max_dim=2)
    assert X.counts[1] == int((d[np.triu_indices(30, 1)] <= 0.8).sum())
    K = knn_complex(p, 3, max_dim=2)
    assert K.counts[1] >= 30 * 3 // 2 and K.n_vertices == 30


def test_disk_interior_vs_boundary():
    X, interior = grid_disk(5)
    b = local_betti(X)
    for v in range(X.n_vertices):
        assert b[v].tolist() == ([0, 0, 1] if v in interior else [0, 0, 0]), v
    # edges: interior edges have H_2 = R, boundary edges nothing
    for e in X.edges.tolist():
        n_tri = len(X.star(e)[2])
        assert local_betti(X, e).tolist() == [0, 0, int(n_tri == 2)]


def test_wedge_of_circles():
    X = SimplicialComplex([(0, 1), (1, 2), (2, 0), (0, 3), (3, 4), (4, 0), (0, 5), (5, 6), (6, 0)])
    b = local_betti(X)
    assert b[0].tolist() == [0, 5]  # link: 6 points, reduced H_0 = 5
    assert all(b[v].tolist() == [0, 1] for v in range(1, 7))
    assert local_betti(X, (0, 1)).tolist() == [0, 1]


def test_sphere_and_projective_plane_sections():
    """The degree-2 local homology sheaf of a closed surface is its orientation sheaf: one global
    section on the sphere, none on the projective plane."""
    for tris, sections in ((OCTAHEDRON, 1), (RP2, 0)):
        X = SimplicialComplex(tris)
        assert (local_betti(X) == [0, 0, 1]).all()
        F = local_homology_sheaf(X, degrees=[2])
        ev = torch.linalg.eigvalsh(F.dense_laplacian())
        assert int((ev < 1e-9).sum()) == sections
    X, interior = grid_disk(5)
    F = local_homology_sheaf(X)
    assert F.stalk_dims.tolist() == [int(v in interior) for v in range(25)]
    assert torch.linalg.eigvalsh(F.dense_laplacian()).min() > 1e-6  # sections vanish at the boundary


def test_isolated_vertex_and_degree_zero():
    X = SimplicialComplex([(0, 1)], n_vertices=3)
    assert local_betti(X, 2).tolist() == [1, 0]
    assert local_betti(X, 0).tolist() == [0, 0]


def test_persistent_matches_final_homology():
    """The bars that never die are the local homology of the whole complex."""
    X, interior = grid_disk(4)
    w = np.random.default_rng(1).uniform(1, 2, X.counts[1])
    for v in range(X.n_vertices):
        bars = persistent_local_homology(X, v, edge_weights=w)
        inf = [k for k, _, d in bars if d == np.inf]
        assert np.bincount(inf, minlength=3).tolist() == local_betti(X, v).tolist()
        assert all(d > b for _, b, d in bars)


def test_persistence_against_gudhi():
    gudhi = pytest.importorskip("gudhi")
    rng = np.random.default_rng(2)
    p = rng.uniform(size=(25, 2))
    X = rips_complex(p, 0.45, max_dim=3)
    filt = flag_filtration(X, torch.as_tensor(np.linalg.norm(p[X.edges[:, 0]] - p[X.edges[:, 1]], axis=1)))
    vals = [f.numpy() for f in filt]
    for v in range(0, 25, 3):
        ours = sorted((k, round(b, 9), round(d, 9)) for k, b, d in persistent_local_homology(X, v, filt))
        # local homology at v = reduced homology of the link (filtered by f(v ∪ τ)), up one degree
        st = gudhi.SimplexTree()
        for k in range(1, X.dim + 1):
            for r, s in enumerate(X.simplices[k].tolist()):
                if v in s:
                    st.insert([x for x in s if x != v], float(vals[k][r]))
        ref = []
        if st.num_vertices():
            st.compute_persistence(homology_coeff_field=11, persistence_dim_max=True)
            pers = st.persistence()
            first = min(b for k, (b, d) in pers if k == 0)
            ref.append((0, 0.0, first))
            dropped = False
            for k, (b, d) in pers:
                if k == 0 and d == np.inf and b == first and not dropped:
                    dropped = True
                    continue
                if k + 1 < X.exact_degrees and d > b:
                    ref.append((k + 1, b, d))
        else:
            ref.append((0, 0.0, np.inf))
        ref = sorted((k, round(b, 9), round(d, 9)) for k, b, d in ref if d > b)
        assert ours == ref, v


def test_bad_input():
    with pytest.raises(ValueError, match="simplices"):
        SimplicialComplex([(0, 0, 1)])
    with pytest.raises(TypeError, match="simplices"):
        SimplicialComplex([0, 1])
    with pytest.raises(ValueError, match="edge_index"):
        clique_complex(np.zeros((3, 3), dtype=int))
    with pytest.raises(TypeError, match="edge_index"):
        clique_complex(np.array([[0.5, 1.0], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="max_dim"):
        clique_complex([[0], [1]], max_dim=-1)
    with pytest.raises(ValueError, match="radius"):
        rips_complex(np.zeros((3, 2)), -1.0)
    with pytest.raises(ValueError, match="k:"):
        knn_complex(np.zeros((3, 2)), 3)
    with pytest.raises(ValueError, match="points"):
        knn_complex(np.full((3, 2), np.nan), 1)
    X = SimplicialComplex([(0, 1, 2)])
    with pytest.raises(ValueError, match="edge_weights"):
        flag_filtration(X, torch.ones(2))
    with pytest.raises(ValueError, match="simplex"):
        local_betti(X, (0, 5))
    with pytest.raises(TypeError, match="complex"):
        local_betti("not a complex")
    with pytest.raises(ValueError, match="degrees"):
        local_homology_sheaf(X, degrees=[5])
