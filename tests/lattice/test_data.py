"""Random lattice families and the MIMO grid."""

from __future__ import annotations

import numpy as np
import pytest

from steerable.lattice import LATTICE_FAMILIES, log_orthogonality_defect, mimo_lattice_grid, random_lattices


@pytest.mark.parametrize("family", LATTICE_FAMILIES)
def test_families_shapes_and_rank(family):
    B = random_lattices(7, 5, family, seed=0)
    assert B.shape == (7, 5, 5) and B.dtype == np.float64
    assert (np.abs(np.linalg.det(B)) > 0).all()
    np.testing.assert_array_equal(B, random_lattices(7, 5, family, seed=0))


def test_ill_conditioned_spread_and_scrambled_defect():
    B = random_lattices(20, 6, "ill_conditioned", seed=1, cond=4.0)
    s = np.linalg.svd(B, compute_uv=False)
    assert (s[:, 0] / s[:, -1]).min() > 10.0
    assert (s[:, 0] / s[:, -1]).max() <= 1e4 * (1 + 1e-9)
    # scrambling makes a near-orthogonal basis far from orthogonal
    assert log_orthogonality_defect(random_lattices(20, 6, "scrambled", seed=1)).mean() > 1.0
    assert log_orthogonality_defect(random_lattices(20, 6, "scrambled", seed=1, moves=0)).mean() < 0.5


def test_mimo_grid_is_spatially_correlated():
    g = mimo_lattice_grid(4, 4, 8, 8, correlation=2.0, seed=0)
    assert g.shape == (4, 8, 8, 4, 4)
    near = np.corrcoef(g[:, :-1].ravel(), g[:, 1:].ravel())[0, 1]
    far = np.corrcoef(g[:, :4].ravel(), g[:, 4:].ravel())[0, 1]
    assert near > 0.7 and abs(far) < near
    iid = mimo_lattice_grid(4, 4, 8, 8, correlation=0.0, seed=0)
    assert abs(np.corrcoef(iid[:, :-1].ravel(), iid[:, 1:].ravel())[0, 1]) < 0.1


def test_bad_input():
    with pytest.raises(ValueError, match="family"):
        random_lattices(3, 4, "knapsack")
    with pytest.raises(ValueError, match="n:"):
        random_lattices(3, 1)
    with pytest.raises(ValueError, match="count"):
        random_lattices(0, 4)
    with pytest.raises(ValueError, match="cond"):
        random_lattices(3, 4, "ill_conditioned", cond=-1.0)
    with pytest.raises(ValueError, match="correlation"):
        mimo_lattice_grid(1, 4, correlation=-1.0)
    with pytest.raises(ValueError, match="height"):
        mimo_lattice_grid(1, 4, height=0)
