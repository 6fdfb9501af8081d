"""Representations: sums, changes of basis, tensor products / Clebsch–Gordan, intertwiners."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steerable import group as sg

from .conftest import GROUP_FACTORIES

FINITE_FOR_CG = [
    "C5",
    "C8",
    "D4",
    "D5",
    "ico",
    "fullico",
    "octa",
    "fullocta",
    "tetra",
    "fulltetra",
    "klein4",
    "cyl4",
    "fullcyl3",
    "C3xtetra",
]


def _irrep_pairs(G, L=None):
    irr = G.irreps() if L is None else [G.irrep(*_i) for _i in G.bl_irreps(L)]
    return [(a, b) for a in irr for b in irr]


def _check_tensor(G, a, b, elements):
    c = G.clebsch_gordan  # noqa: F841  (public API exercised below)
    ids, C = G._tensor_irreps(a.id, b.id)
    d = a.size * b.size
    assert C.shape == (d, d)
    np.testing.assert_allclose(C.T @ C, np.eye(d), atol=1e-10)
    t = a.tensor(b)
    for g in elements:
        np.testing.assert_allclose(t(g), np.kron(a(g), b(g)), atol=1e-10)
    # per-irrep CG blocks intertwine
    for J, m in G.tensor_product_decomposition(a.id, b.id):
        cg = G.clebsch_gordan(a.id, b.id, J)
        psiJ = G.irrep(*J)
        assert cg.shape == (a.size, b.size, m, psiJ.size)
        for s in range(m):
            X = cg[:, :, s, :].reshape(d, psiJ.size)
            for g in elements[:2]:
                np.testing.assert_allclose(np.kron(a(g), b(g)) @ X, X @ psiJ(g), atol=1e-10)


@pytest.mark.parametrize("name", FINITE_FOR_CG)
def test_tensor_products_finite_all_pairs(name):
    G = GROUP_FACTORIES[name]()
    els = G.sample(3, seed=2)
    for a, b in _irrep_pairs(G):
        _check_tensor(G, a, b, els)


@pytest.mark.parametrize(
    "name,L", [("SO3", 4), ("O3", 4), ("SO2", 4), ("O2", 4), ("cyl", 2), ("fullcyl", 2), ("SO2xSO2", 2)]
)
def test_tensor_products_continuous(name, L):
    G = GROUP_FACTORIES[name]()
    els = G.sample(3, seed=5)
    for a, b in _irrep_pairs(G, L):
        _check_tensor(G, a, b, els)


def test_tensor_product_multiplicities_match_characters():
    G = sg.ico_group()
    for a, b in _irrep_pairs(G):
        dec = dict(G.tensor_product_decomposition(a.id, b.id))
        for psi in G.irreps():
            m = sum(a.character(g) * b.character(g) * psi.character(g) for g in G.elements) / G.order()
            assert dec.get(psi.id, 0) == round(m / psi.sum_of_squares_constituents)


def test_so3_selection_rules():
    G = sg.so3_group(4)
    assert [j for j, _ in G.tensor_product_decomposition(2, 3)] == [(l,) for l in range(1, 6)]
    assert G.clebsch_gordan(1, 1, 3).shape == (3, 3, 0, 7)
    O = sg.o3_group(2)
    assert O.tensor_product_decomposition((1, 1), (1, 1)) == [((0, 0), 1), ((0, 1), 1), ((0, 2), 1)]


def test_so2_closed_form_cg():
    G = sg.so2_group(5)
    assert G.tensor_product_decomposition(2, 2) == [((0,), 2), ((4,), 1)]
    assert G.tensor_product_decomposition(3, 1) == [((2,), 1), ((4,), 1)]
    C = sg.cyclic_group(6)
    assert C.tensor_product_decomposition(2, 2) == [((2,), 1), ((0,), 2)] or C.tensor_product_decomposition(2, 2) == [
        ((0,), 2),
        ((2,), 1),
    ]
    D = sg.dihedral_group(4)
    assert dict(D.tensor_product_decomposition((1, 1), (1, 1))) == {(0, 0): 1, (1, 0): 1, (0, 2): 1, (1, 2): 1}


def test_cg_deterministic_across_processes():
    """The same coefficients, signs included, in a fresh process."""
    code = (
        "import numpy as np; from steerable import group as sg;"
        "cs = [sg.ico_group().clebsch_gordan(3, 4, 4), sg.so3_group().clebsch_gordan(2, 3, 3),"
        "      sg.dihedral_group(6).clebsch_gordan((1, 1), (1, 2), (1, 1)), sg.octa_group().irrep(2)(sg.octa_group().elements[5]),"
        "      sg.tetra_group().clebsch_gordan(2, 2, 2)];"
        "print(repr([np.round(c, 10).tolist() for c in cs]))"
    )
    out = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    ]
    assert out[0] == out[1]
    G = sg.ico_group()
    local = [np.round(c, 10).tolist() for c in [G.clebsch_gordan(3, 4, 4)]]
    assert repr(local)[1:-1] in out[0]


# ------------------------------------------------------------------------------ intertwiners
@settings(max_examples=20, deadline=None)
@given(
    name=st.sampled_from(["C8", "D5", "SO2", "O2", "SO3", "O3", "ico", "tetra", "cyl", "C3xtetra"]),
    seed=st.integers(0, 1000),
)
def test_homomorphism_space(name, seed):
    G = GROUP_FACTORIES[name]()
    rng = np.random.default_rng(seed)
    irr = [G.irrep(*_i) for _i in G.bl_irreps(2)] if G.order() < 0 else G.irreps()
    pick = lambda k: sg.directsum([irr[i] for i in rng.integers(0, len(irr), k)])
    rin, rout = pick(3), pick(2)
    if G.order() > 0:
        rin = rin + G.regular_representation
    rin = sg.change_basis(rin, np.linalg.qr(rng.normal(size=(rin.size, rin.size)))[0] + 2 * np.eye(rin.size))
    basis = sg.homomorphism_space(rin, rout)
    g = G.sample(seed=seed)
    for H in basis:
        np.testing.assert_allclose(H @ rin(g), rout(g) @ H, atol=1e-9)
    expected = sum(G.irrep(*a).sum_of_squares_constituents for a in rout.irreps for b in rin.irreps if a == b)
    assert basis.shape == (expected, rout.size, rin.size)
    if expected:
        assert np.linalg.matrix_rank(basis.reshape(expected, -1)) == expected
    # completeness against a numerical solve
    from steerable.group._linalg import intertwiner_basis

    tb = G._test_batch()
    assert intertwiner_basis(rout._matrices(tb), rin._matrices(tb)).shape[0] == expected


def test_directsum_change_basis_disentangle():
    G = sg.dihedral_group(3)
    reg = G.regular_representation
    r = sg.directsum([reg, G.irrep(1, 1)], name="mix")
    assert r.size == 8 and r.name == "mix"
    g = G.sample(seed=1)
    m = r(g)
    np.testing.assert_allclose(m[:6, :6], reg(g))
    np.testing.assert_allclose(m[6:, 6:], G.irrep(1, 1)(g))
    Q, parts = sg.disentangle(r)
    assert [p.size for p in parts] == [6, 2]
    blk = np.zeros((8, 8))
    blk[:6, :6], blk[6:, 6:] = parts[0](g), parts[1](g)
    np.testing.assert_allclose(Q.T @ blk @ Q, m, atol=1e-12)  # escnn's convention
    P = np.eye(8)[::-1]
    rc = sg.change_basis(r, P, name="flipped")
    np.testing.assert_allclose(rc(g), P @ m @ P.T)
    assert r + G.trivial_representation == sg.directsum([r, G.trivial_representation])


def test_supported_nonlinearities():
    C = sg.cyclic_group(8)
    assert {
        "pointwise",
        "norm",
        "gated",
        "concatenated",
        "vectorfield",
    } <= C.regular_representation.supported_nonlinearities
    assert "pointwise" not in C.irrep(1).supported_nonlinearities
    assert {"gate", "pointwise"} <= C.trivial_representation.supported_nonlinearities
    q = C.quotient_representation(2)
    assert "pointwise" in q.supported_nonlinearities
    assert "pointwise" in sg.so3_group().trivial_representation.supported_nonlinearities
    assert "pointwise" not in sg.so3_group().irrep(1).supported_nonlinearities


# ------------------------------------------------------------------------------ bad input
def test_bad_input_errors():
    G = sg.so3_group()
    with pytest.raises(ValueError, match="id"):
        G.irrep(-1)
    with pytest.raises(ValueError, match="id"):
        sg.cyclic_group(4).irrep(3)
    with pytest.raises(ValueError, match="id"):
        sg.dihedral_group(5).irrep(0, 1)
    with pytest.raises(ValueError, match="subgroup_id"):
        G.subgroup("cube")
    with pytest.raises(ValueError, match="subgroup_id"):
        sg.cyclic_group(6).subgroup(4)
    with pytest.raises(ValueError, match="reprs"):
        sg.directsum([G.irrep(1), sg.o3_group().irrep(0, 1)])
    with pytest.raises(ValueError, match="change_of_basis"):
        sg.change_basis(G.irrep(1), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="change_of_basis"):
        sg.change_basis(G.irrep(1), np.eye(2))
    with pytest.raises(ValueError, match="type"):
        G.grid("hexagonal")
    with pytest.raises(ValueError, match="type"):
        sg.so2_group().grid("thomson", 5)
    with pytest.raises(ValueError, match="rho2"):
        sg.homomorphism_space(G.irrep(1), sg.o3_group().irrep(1, 1))
    with pytest.raises(TypeError, match="element"):
        G.irrep(1)(3)
    with pytest.raises(ValueError, match="element"):
        G.irrep(1)(sg.o3_group().identity)
    with pytest.raises(TypeError):
        G.identity @ sg.o3_group().identity
    with pytest.raises(ValueError, match="value"):
        sg.cyclic_group(8).element(0.3, "radians")
    with pytest.raises(ValueError, match="param"):
        sg.cyclic_group(8).element(1, "Q")
    with pytest.raises(ValueError, match="N"):
        sg.cyclic_group(0)
    with pytest.raises(ValueError, match="maximum_frequency"):
        sg.so3_group(-2)
    with pytest.raises(ValueError, match="repr"):
        sg.so3_group().restrict_representation((False, 4), sg.o3_group().irrep(0, 1))
    with pytest.raises(TypeError, match="G1"):
        sg.direct_product(3, G)
