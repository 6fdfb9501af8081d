"""Group axioms, elements, parametrisations, irreps and characters for every group."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steerable import group as sg

from .conftest import ALL_GROUPS, GROUP_FACTORIES


def _elements(G, n, seed):
    return G.sample(n, seed=seed)


# ------------------------------------------------------------------------------ axioms
@settings(max_examples=15, deadline=None)
@given(name=st.sampled_from(ALL_GROUPS), seed=st.integers(0, 10_000))
def test_group_axioms(name, seed):
    G = GROUP_FACTORIES[name]()
    a, b, c = _elements(G, 3, seed)
    e = G.identity
    assert (a @ b) @ c == a @ (b @ c)
    assert a @ e == a and e @ a == a
    assert a @ ~a == e and ~a @ a == e
    assert ~~a == a
    assert (a @ b) ** 1 == a @ b
    assert a**2 == a @ a and a**-1 == ~a


@settings(max_examples=15, deadline=None)
@given(name=st.sampled_from(ALL_GROUPS), seed=st.integers(0, 10_000))
def test_irreps_are_orthogonal_homomorphisms(name, seed):
    G = GROUP_FACTORIES[name]()
    a, b = _elements(G, 2, seed)
    for psi in G.irreps():
        A, B, AB = psi(a), psi(b), psi(a @ b)
        np.testing.assert_allclose(AB, A @ B, atol=1e-10)
        np.testing.assert_allclose(A.T @ A, np.eye(psi.size), atol=1e-10)
        np.testing.assert_allclose(psi(G.identity), np.eye(psi.size), atol=1e-10)
        for E in psi.endomorphism_basis():
            np.testing.assert_allclose(E @ A, A @ E, atol=1e-10)


def test_endomorphism_dimension_matches_type(any_group):
    for psi in any_group.irreps():
        ends = psi.endomorphism_basis()
        assert ends.shape[0] == psi.sum_of_squares_constituents == {"R": 1, "C": 2, "H": 4}[psi.type]
        flat = ends.reshape(len(ends), -1)
        assert np.linalg.matrix_rank(flat) == len(ends)
        # the endomorphism space is exactly that: no more commuting matrices
        tb = any_group._test_batch()
        from steerable.group._linalg import intertwiner_basis

        m = psi._matrices(tb)
        assert intertwiner_basis(m, m).shape[0] == len(ends)


def test_irreps_are_irreducible_and_distinct(any_group):
    """Schur orthogonality of characters (exact sums / exact quadrature)."""
    G = any_group
    irr = G.irreps()
    L = max(p.bandlimit for p in irr)
    pts, w = G._quadrature(2 * L)
    chars = np.stack([np.trace(p._matrices(pts), axis1=1, axis2=2) for p in irr])
    gram = (chars * w) @ chars.T
    expected = np.diag([p.sum_of_squares_constituents for p in irr]).astype(float)
    np.testing.assert_allclose(gram, expected, atol=1e-10)


def test_finite_irreps_complete(finite_group):
    G = finite_group
    total = sum(p.size**2 / p.sum_of_squares_constituents for p in G.irreps())
    assert total == pytest.approx(G.order())
    assert len(G.elements) == G.order()
    assert len(set(G.elements)) == G.order()


def test_regular_representation_multiplicities(finite_group):
    G = finite_group
    reg = G.regular_representation
    assert reg.size == G.order()
    mult = reg.irreps_multiplicities()
    for psi in G.irreps():
        assert mult[psi.id] == psi.size // psi.sum_of_squares_constituents
    for g in G.sample(4, seed=3):
        m = reg(g)
        np.testing.assert_allclose(m, np.round(m), atol=1e-10)  # a permutation matrix
        np.testing.assert_allclose(m.sum(0), 1.0, atol=1e-10)
    assert "pointwise" in reg.supported_nonlinearities


def test_regular_is_left_multiplication(finite_group):
    G = finite_group
    reg = G.regular_representation
    els = G.elements
    idx = {e: i for i, e in enumerate(els)}
    g = G.sample(seed=11)
    m = reg(g)
    for j, h in enumerate(els):
        assert m[idx[g @ h], j] == pytest.approx(1.0)


def test_bl_regular_continuous(continuous_group):
    G = continuous_group
    r = G.bl_regular_representation(2)
    assert r.size == sum(p.size**2 // p.sum_of_squares_constituents for p in [G.irrep(*_i) for _i in G.bl_irreps(2)])
    a, b = G.sample(2, seed=0)
    np.testing.assert_allclose(r(a @ b), r(a) @ r(b), atol=1e-10)


# ------------------------------------------------------------------------------ elements
PARAM_CASES = [
    (lambda: sg.cyclic_group(8), 3, "int"),
    (lambda: sg.cyclic_group(8), 3 * np.pi / 4, "radians"),
    (lambda: sg.dihedral_group(6), (1, 4), "int"),
    (lambda: sg.dihedral_group(6), (1, 4 * np.pi / 3), "radians"),
    (lambda: sg.so2_group(), 1.234, "radians"),
    (lambda: sg.o2_group(), (1, 0.5), "radians"),
    (lambda: sg.so3_group(), np.array([0.1, 0.2, 0.3, np.sqrt(1 - 0.14)]), "Q"),
    (lambda: sg.so3_group(), np.array([0.3, -0.2, 1.1]), "EV"),
    (lambda: sg.so3_group(), np.array([0.3, 1.2, -0.4]), "ZYZ"),
    (lambda: sg.o3_group(), (1, np.array([0.0, 0.6, 0.0, 0.8])), "Q"),
    (lambda: sg.ico_group(), 7, "int"),
    (lambda: sg.full_tetra_group(), 20, "int"),
]


@pytest.mark.parametrize("factory,value,param", PARAM_CASES)
def test_parametrisations_round_trip(factory, value, param):
    G = factory()
    g = G.element(value, param)
    for p in G.PARAMS:
        v = g.to(p)
        h = G.element(v, p)
        assert h == g, (p, v)
    if "MAT" in G.PARAMS:
        # MAT is the standard action when there is one
        try:
            std = G.standard_representation
        except ValueError:
            return
        mat = g.to("MAT")
        if isinstance(mat, tuple):  # escnn's (flip/parity, rotation matrix) for O(2), D_N, O(3)
            f, rot = mat
            mat = rot @ np.diag([1.0, -1.0 if f else 1.0]) if rot.shape == (2, 2) else (-1) ** f * rot
        np.testing.assert_allclose(std(g), mat, atol=1e-10)


def test_product_and_matrix_agree_so3():
    G = sg.so3_group()
    a, b = G.sample(2, seed=4)
    np.testing.assert_allclose((a @ b).to("MAT"), a.to("MAT") @ b.to("MAT"), atol=1e-12)


def test_element_hash_and_equality(any_group):
    G = any_group
    a = G.sample(seed=5)
    b = G.element(a.value, a.param)
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1
    assert (a == 3) is False


def test_dihedral_product_rule():
    G = sg.dihedral_group(5)
    f, r = G.element((1, 0)), G.element((0, 1))
    assert f @ r @ f == ~r
    assert (r @ f).value == (1, 1)


# ------------------------------------------------------------------------------ values
@pytest.mark.parametrize("name", ALL_GROUPS)
def test_pickle_round_trips(name):
    G = GROUP_FACTORIES[name]()
    assert pickle.loads(pickle.dumps(G)) == G
    g = G.sample(seed=1)
    assert pickle.loads(pickle.dumps(g)) == g
    psi = G.irreps()[-1]
    psi2 = pickle.loads(pickle.dumps(psi))
    assert psi2 == psi and hash(psi2) == hash(psi)
    rep = sg.directsum([psi, G.trivial_representation])
    rep2 = pickle.loads(pickle.dumps(rep))
    assert rep2 == rep
    np.testing.assert_allclose(rep2(g), rep(g))


def test_groups_equal_by_content():
    from steerable.group._planar import CyclicGroup

    assert CyclicGroup(6) == sg.cyclic_group(6) and hash(CyclicGroup(6)) == hash(sg.cyclic_group(6))
    assert sg.cyclic_group(6) != sg.cyclic_group(7)
    assert sg.so2_group(3) == sg.so2_group(5)  # the band limit is a default, not the group
    assert CyclicGroup(6).irrep(1) == sg.cyclic_group(6).irrep(1)
    assert sg.direct_product(sg.cyclic_group(2), sg.cyclic_group(2)) == sg.klein4_group()


def test_representations_immutable():
    rep = sg.cyclic_group(4).regular_representation
    with pytest.raises(ValueError):
        rep.change_of_basis[0, 0] = 3.0


def test_import_is_lazy():
    """``import steerable`` loads no subpackage and neither torch nor scipy (timed in the benchmark)."""
    import subprocess
    import sys

    code = "import sys, steerable; print(sorted(m for m in ('steerable.group', 'torch', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
