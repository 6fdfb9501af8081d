"""Fourier transforms on groups: round trips on every grid, equivariance of the coefficients."""

from __future__ import annotations

import numpy as np
import pytest

from steerable import group as sg

# (group factory, band limit, grid type, grid args)
CASES = [
    (lambda: sg.cyclic_group(7), None, "regular", ()),
    (lambda: sg.dihedral_group(6), None, "regular", ()),
    (lambda: sg.ico_group(), None, "regular", ()),
    (lambda: sg.full_octa_group(), None, "regular", ()),
    (lambda: sg.tetra_group(), None, "regular", ()),
    (lambda: sg.full_tetra_group(), None, "regular", ()),
    (lambda: sg.so2_group(), 3, "regular", (7,)),
    (lambda: sg.so2_group(), 3, "regular", (16,)),
    (lambda: sg.so2_group(), 3, "rand", (20,)),
    (lambda: sg.o2_group(), 3, "regular", (8,)),
    (lambda: sg.o2_group(), 2, "rand", (30,)),
    (lambda: sg.so3_group(), 1, "ico", ()),
    (lambda: sg.so3_group(), 1, "cube", ()),
    (lambda: sg.so3_group(), 1, "tetra", ()),
    (lambda: sg.so3_group(), 2, "thomson", (60,)),
    (lambda: sg.so3_group(), 2, "thomson_cube", (3,)),
    (lambda: sg.so3_group(), 2, "rand", (80,)),
    (lambda: sg.o3_group(), 1, "ico", ()),
    (lambda: sg.o3_group(), 2, "thomson", (40,)),
    (lambda: sg.cylinder_group(2), 2, "product", ()),
]


@pytest.mark.parametrize("factory,L,gtype,gargs", CASES)
def test_fourier_round_trip(factory, L, gtype, gargs):
    G = factory()
    irreps = G.irreps() if L is None else L
    kwargs = {"G2_type": "regular", "G2_args": (9,)} if gtype == "product" else {}
    grid = G.grid(gtype, *gargs, **kwargs)
    ft = sg.FourierTransform(G, irreps, grid)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, ft.dim))
    f = ft.to_samples(x)
    np.testing.assert_allclose(ft.from_samples(f), x, atol=1e-10)
    # samples of a band-limited function are reproduced from its coefficients
    np.testing.assert_allclose(ft.to_samples(ft.from_samples(f)), f, atol=1e-10)
    # the coefficients transform by the band-limited regular representation: f_{ρ(h)x}(g) = f_x(h⁻¹g)
    rho = ft.representation
    h = G.sample(seed=3)
    a = sg.sampling_matrix(G, irreps, [~h @ g for g in grid])
    np.testing.assert_allclose(ft.to_samples(x @ rho(h).T), x @ a.T, atol=1e-10)


def test_finite_fourier_is_unitary_up_to_scale():
    G = sg.octa_group()
    ft = sg.FourierTransform(G, G.irreps(), G.elements)
    np.testing.assert_allclose(ft.A.T @ ft.A / G.order(), np.eye(G.order()), atol=1e-10)


def test_continuous_fourier_orthonormal_under_quadrature():
    G = sg.so3_group()
    pts, w = G._quadrature(6)
    A = sg.sampling_matrix(G, 3, pts)
    np.testing.assert_allclose(A.T @ (w[:, None] * A), np.eye(A.shape[1]), atol=1e-10)


def test_grid_sizes():
    assert len(sg.so3_group().grid("ico")) == 60
    assert len(sg.so3_group().grid("cube")) == 24
    assert len(sg.so3_group().grid("thomson_cube", 2)) == 48
    assert len(sg.o3_group().grid("thomson", 10)) == 20
    assert len(sg.o2_group().grid("regular", 5)) == 10
    assert len(sg.so2_group().grid(6)) == 6  # escnn's argument order
    assert len(sg.cyclic_group(8).grid("regular", 4)) == 4
    assert len(sg.ico_group().grid()) == 60


def test_grid_symmetry():
    """The cube-symmetric Thomson grid is invariant under the octahedral group."""
    G = sg.so3_group()
    grid = G.grid("thomson_cube", 2)
    O = sg.so3_group().grid("cube")
    for r in O[:5]:
        moved = {tuple(np.round((r @ g).to("Q"), 8)) for g in grid}
        assert moved == {tuple(np.round(g.to("Q"), 8)) for g in grid}


def test_fourier_bad_input():
    G = sg.so3_group()
    with pytest.raises(ValueError, match="grid"):
        sg.FourierTransform(G, 3, G.grid("ico"))  # 60 points < 84 coefficients
    ft = sg.FourierTransform(G, 1, G.grid("ico"))
    with pytest.raises(ValueError, match="coefficients"):
        ft.to_samples(np.zeros(3))
    with pytest.raises(ValueError, match="samples"):
        ft.from_samples(np.zeros(3))
    with pytest.raises(ValueError, match="irreps"):
        sg.FourierTransform(G, [sg.o3_group().irrep(0, 0)], G.grid("ico"))
    with pytest.raises(ValueError, match="N"):
        G.grid("thomson")
