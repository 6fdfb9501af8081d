"""The hyperoctahedral group B_n: axioms, parametrisations, irreps (bipartitions), characters,
regular and standard representations, subgroups, bad input."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steerable import group as sg


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 9), seed=st.integers(0, 10_000))
def test_group_axioms(n, seed):
    G = sg.hyperoctahedral_group(n)
    a, b, c = G.sample(3, seed=seed)
    e = G.identity
    assert (a @ b) @ c == a @ (b @ c)
    assert a @ e == a and e @ a == a
    assert a @ ~a == e and ~a @ a == e
    assert a**2 == a @ a and a**-1 == ~a


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 12), seed=st.integers(0, 10_000))
def test_matrix_parametrisation_is_a_homomorphism(n, seed):
    G = sg.hyperoctahedral_group(n)
    a, b = G.sample(2, seed=seed)
    A, B = a.to("MAT"), b.to("MAT")
    np.testing.assert_array_equal((a @ b).to("MAT"), A @ B)
    np.testing.assert_array_equal((~a).to("MAT"), A.T)
    np.testing.assert_array_equal(G.standard_representation(a), A)
    assert G.element(A, "MAT") == a
    assert G.element(a.value) == a
    # e_i -> sign(v_i) e_{|v_i|}
    v = a.value
    for i in range(n):
        col = np.zeros(n)
        col[abs(v[i]) - 1] = np.sign(v[i])
        np.testing.assert_array_equal(A[:, i], col)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_irreps_complete_orthogonal_and_homomorphic(n):
    G = sg.hyperoctahedral_group(n)
    irreps = G.irreps()
    # number of irreps = number of bipartitions; sum of squared dims = |G|
    assert sum(p.size**2 for p in irreps) == G.order() == 2**n * math.factorial(n)
    allv = G._all_batch()
    chis = np.stack([np.trace(p._matrices(allv), axis1=1, axis2=2) for p in irreps])
    np.testing.assert_allclose(chis @ chis.T / G.order(), np.eye(len(irreps)), atol=1e-10)
    a, b = G.sample(2, seed=n)
    for p in irreps:
        A = p(a)
        np.testing.assert_allclose(p(a @ b), A @ p(b), atol=1e-10)
        np.testing.assert_allclose(A.T @ A, np.eye(p.size), atol=1e-10)
        np.testing.assert_allclose(p(G.identity), np.eye(p.size), atol=1e-12)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_irreps_of_b6_are_homomorphisms(seed):
    G = sg.hyperoctahedral_group(6)
    a, b = G.sample(2, seed=seed)
    for id in [((3, 1), (2,)), ((2, 1), (1, 1, 1)), ((), (3, 2, 1)), ((4, 2), ())]:
        p = G.irrep(*id)
        np.testing.assert_allclose(p(a @ b), p(a) @ p(b), atol=1e-10)


def test_one_dimensional_irreps():
    G = sg.hyperoctahedral_group(4)
    for g in G.sample(20, seed=3):
        M = g.to("MAT")
        perm_sign = np.linalg.det(np.abs(M))
        signs = np.prod(M.sum(0))
        assert G.irrep((4,), ())(g)[0, 0] == 1.0
        np.testing.assert_allclose(G.irrep((), (4,))(g)[0, 0], signs)
        np.testing.assert_allclose(G.irrep((1, 1, 1, 1), ())(g)[0, 0], perm_sign)
        np.testing.assert_allclose(G.irrep((), (1, 1, 1, 1))(g)[0, 0], np.linalg.det(M))


def test_regular_representation_and_decomposition():
    G = sg.hyperoctahedral_group(3)
    reg = G.regular_representation
    assert reg.size == 48
    a, b = G.sample(2, seed=0)
    np.testing.assert_allclose(reg(a @ b), reg(a) @ reg(b), atol=1e-10)
    # the regular representation is a permutation representation
    R = reg(a)
    assert np.allclose(np.sort(R, axis=1)[:, -1], 1.0) and np.allclose(np.abs(R).sum(1), 1.0)
    # std ⊗ std = Gram-matrix features: trivial + 2-dim + two 3-dim pieces (for n = 3)
    std = G.standard_representation
    t = std.tensor(std)
    np.testing.assert_allclose(t(a), np.kron(std(a), std(a)), atol=1e-10)
    assert sorted(t.irreps) == sorted([((3,), ()), ((2, 1), ()), ((1,), (2,)), ((1,), (1, 1))])


def test_b2_and_b3_orders_match_dihedral_and_full_octahedral():
    assert sg.hyperoctahedral_group(2).order() == sg.dihedral_group(4).order()
    assert sg.hyperoctahedral_group(3).order() == sg.full_octa_group().order()
    # the character table sizes (numbers of irreps) agree as well
    assert len(sg.hyperoctahedral_group(2).irreps()) == len(sg.dihedral_group(4).irreps())
    assert len(sg.hyperoctahedral_group(3).irreps()) == len(sg.full_octa_group().irreps())


def test_value_semantics_and_pickle():
    G = sg.hyperoctahedral_group(5)
    assert G is sg.hyperoctahedral_group(5) is sg.HyperoctahedralGroup(5)
    assert pickle.loads(pickle.dumps(G)) is G
    g = G.sample(seed=1)
    assert pickle.loads(pickle.dumps(g)) == g
    assert len({g, G.element(g.value)}) == 1
    assert G.irrep((4,), (1,)) is G.standard_representation.group.irrep((4,), (1,))


def test_elements_and_int_parametrisation():
    G = sg.hyperoctahedral_group(3)
    els = G.elements
    assert len(els) == 48 and els[0] == G.identity and len(set(els)) == 48
    assert G.element(7, "int") == els[7] and els[7].to("int") == 7
    assert len(G.generators) == 3


def test_subgroups():
    G = sg.hyperoctahedral_group(4)
    H, incl, restr = G.subgroup(2)
    assert H == sg.hyperoctahedral_group(2)
    h = H.element((-2, 1))
    g = incl(h)
    assert g.value == (-2, 1, 3, 4) and restr(g) == h
    assert restr(G.element((1, 2, 4, 3))) is None
    r = G.restrict_representation(2, G.standard_representation)
    assert r.size == 4
    np.testing.assert_allclose(r(h), G.standard_representation(g), atol=1e-10)
    T, _, restr0 = G.subgroup("trivial")
    assert T.order() == 1 and restr0(G.identity) == T.identity


def test_bad_input():
    with pytest.raises(ValueError, match="n:"):
        sg.hyperoctahedral_group(0)
    with pytest.raises(ValueError, match="n:"):
        sg.hyperoctahedral_group(2.5)  # type: ignore[arg-type]
    G = sg.hyperoctahedral_group(3)
    with pytest.raises(ValueError, match="value:"):
        G.element((1, 1, 2))
    with pytest.raises(ValueError, match="value:"):
        G.element((1, 2))
    with pytest.raises(ValueError, match="value:"):
        G.element(np.eye(3) * 2, "MAT")
    with pytest.raises(ValueError, match="id"):
        G.irrep((2,), (2,))
    with pytest.raises(ValueError, match="subgroup_id"):
        G.subgroup(5)
    with pytest.raises(ValueError, match="elements"):
        _ = sg.hyperoctahedral_group(9).elements
