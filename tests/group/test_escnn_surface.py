"""escnn 1.0.11's ``escnn.group`` surface: class names, members, orders, bases and id forms."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from steerable import group as sg
from steerable.group import (
    O2,
    O3,
    SO2,
    SO3,
    CyclicGroup,
    DihedralGroup,
    DirectProductGroup,
    DoubleGroup,
    FullTetrahedral,
    Group,
    Icosahedral,
    IrreducibleRepresentation,
    Octahedral,
    Representation,
    Tetrahedral,
)

CLASSES = [
    (lambda: CyclicGroup(8), lambda: sg.cyclic_group(8), CyclicGroup),
    (lambda: DihedralGroup(5), lambda: sg.dihedral_group(5), DihedralGroup),
    (lambda: SO2(4), lambda: sg.so2_group(4), SO2),
    (lambda: O2(maximum_frequency=4), lambda: sg.o2_group(4), O2),
    (lambda: SO3(2), lambda: sg.so3_group(2), SO3),
    (lambda: O3(2), lambda: sg.o3_group(2), O3),
    (lambda: Icosahedral(), sg.ico_group, Icosahedral),
    (lambda: Octahedral(), sg.octa_group, Octahedral),
    (lambda: Tetrahedral(), sg.tetra_group, Tetrahedral),
    (lambda: FullTetrahedral(), sg.full_tetra_group, FullTetrahedral),
    (
        lambda: DirectProductGroup(sg.cyclic_group(2), sg.cyclic_group(3)),
        lambda: sg.direct_product(sg.cyclic_group(2), sg.cyclic_group(3)),
        DirectProductGroup,
    ),
    (lambda: DoubleGroup(sg.cyclic_group(3)), lambda: sg.double_group(sg.cyclic_group(3)), DoubleGroup),
]


@pytest.mark.parametrize("ctor,factory,cls", CLASSES)
def test_class_constructors_are_the_factories(ctor, factory, cls):
    G = ctor()
    assert G is factory() and G is ctor()
    assert isinstance(G, cls) and isinstance(G, Group)
    assert pickle.loads(pickle.dumps(G)) is G


def test_frequencies_are_part_of_the_cache_key():
    assert SO2(3).maximum_frequency == 3 and SO2(5).maximum_frequency == 5
    assert sg.cylinder_group(2).maximum_frequency == 2 and sg.cylinder_group(4).maximum_frequency == 4
    assert sg.so2_group().maximum_frequency == 3  # escnn's defaults
    with pytest.raises(ValueError, match="N"):
        CyclicGroup(0)
    with pytest.raises(TypeError, match="G1"):
        DirectProductGroup(3, sg.cyclic_group(2))


def test_testing_elements_are_escnns():
    counts = {
        sg.so2_group(2): 52,
        sg.o2_group(2): 104,
        sg.so3_group(1): 60,
        sg.o3_group(1): 120,
        sg.dihedral_group(5): 10,
        sg.ico_group(): 60,
    }
    for G, n in counts.items():
        els = list(G.testing_elements())
        assert len(els) == n and len(set(els)) == n
    prod = sg.direct_product(sg.cyclic_group(3), sg.so2_group(2))
    assert len(list(prod.testing_elements())) == 3 * 52


@pytest.mark.parametrize(
    "G",
    [
        sg.cyclic_group(6),
        sg.dihedral_group(6),
        sg.so2_group(2),
        sg.o2_group(2),
        sg.so3_group(1),
        sg.o3_group(1),
        sg.ico_group(),
        sg.octa_group(),
        sg.cylinder_discrete_group(3),
    ],
    ids=lambda G: G.name,
)
def test_self_and_trivial_subgroup_ids(G):
    H, incl, restr = G.subgroup(G.subgroup_self_id)
    assert H == G
    T, _, _ = G.subgroup(G.subgroup_trivial_id)
    assert T.order() == 1
    assert G._process_subgroup_id(G._process_subgroup_id(G.subgroup_self_id)) == G._process_subgroup_id(
        G.subgroup_self_id
    )


def test_parametrizations_round_trip():
    G = sg.so3_group(1)
    assert G.PARAMETRIZATIONS[:3] == ["Q", "MAT", "EV"] and "zyz" in G.PARAMETRIZATIONS
    g = G.sample(seed=3)
    for p in G.PARAMETRIZATIONS:
        assert G.element(g.to(p), p) == g
    P = sg.full_cylinder_discrete_group(4)
    assert "[int | MAT]" in P.PARAMETRIZATIONS
    h = P.sample(seed=1)
    for p in P.PARAMETRIZATIONS:
        assert P.element(h.to(p), p) == h
    I = sg.ico_group()
    e = I.elements[7]
    assert I.element(e.to("xyz"), "xyz") == e
    np.testing.assert_allclose(I.change_param(e.to("Q"), "Q", "MAT"), e.to("MAT"))


def test_bl_irreps_returns_ids():
    G = sg.o2_group(4)
    ids = G.bl_irreps(2)
    assert ids == [(0, 0), (1, 0), (1, 1), (1, 2)] and all(type(i) is not IrreducibleRepresentation for i in ids)
    assert [G.irrep(*i).size for i in ids] == [1, 1, 2, 2]
    assert [i.id for i in ids] == ids  # old code reading .id keeps working
    assert sg.cyclic_group(8).bl_irreps(2) == [(0,), (1,), (2,)]
    assert sg.ico_group().bl_irreps(1) == [(0,), (1,)]
    assert sg.o3_group(3).bl_irreps(1) == [(0, 0), (1, 0), (0, 1), (1, 1)]
    with pytest.raises(ValueError, match="L"):
        G.bl_irreps(-1)


def test_irreps_order_is_escnns():
    assert [p.id for p in sg.dihedral_group(4).irreps()] == [(0, 0), (1, 0), (1, 1), (1, 2), (0, 2)]
    assert [p.id for p in sg.dihedral_group(5).irreps()] == [(0, 0), (1, 0), (1, 1), (1, 2)]
    assert sg.dihedral_group(4).regular_representation.irreps == [(0, 0), (1, 0), (1, 1), (1, 1), (1, 2), (0, 2)]
    assert [p.id for p in sg.o2_group(2).irreps()] == [(0, 0), (1, 0), (1, 1), (1, 2)]
    assert [p.id for p in sg.o3_group(1).irreps()] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [p.id for p in sg.octa_group().irreps()] == [(0,), (1,), (-1,), (2,), (3,)]
    assert sg.octa_group().regular_representation.irreps == [(0,)] + [(1,)] * 3 + [(-1,)] * 3 + [(2,)] * 2 + [(3,)]


@pytest.mark.parametrize(
    "G",
    [
        sg.cyclic_group(5),
        sg.dihedral_group(4),
        sg.dihedral_group(3),
        sg.octa_group(),
        sg.full_cylinder_discrete_group(2),
    ],
    ids=lambda G: G.name,
)
def test_regular_basis_is_escnns(G):
    rr = G.regular_representation
    els = G.elements
    n = len(els)
    q = rr.change_of_basis
    np.testing.assert_allclose(q @ q.T, np.eye(n), atol=1e-12)
    # the column of the k-th copy of ψ at the row of g is sqrt(d/|G|) ψ(g)[:, k]
    col, seen = 0, {}
    for i in rr.irreps:
        psi = G.irrep(*i)
        k = seen.get(i, 0)
        seen[i] = k + 1
        expected = np.stack([psi(g)[:, k] for g in els]) * np.sqrt(psi.size / n)
        np.testing.assert_allclose(q[:, col : col + psi.size], expected, atol=1e-12)
        col += psi.size
    # and it is the permutation e_h -> e_{gh}
    for g in els[:4]:
        perm = np.zeros((n, n))
        for a, h in enumerate(els):
            perm[els.index(g @ h), a] = 1
        np.testing.assert_allclose(rr(g), perm, atol=1e-10)


def test_standard_representation_method_and_property():
    for G in (sg.so2_group(2), sg.o3_group(1), sg.ico_group()):
        assert G.standard_representation() is G.standard_representation
    g = sg.so3_group(1).sample(seed=0)
    np.testing.assert_allclose(sg.so3_group(1).standard_representation()(g), g.to("MAT"), atol=1e-12)


def test_dihedral_subgroup_id_forms():
    D = sg.dihedral_group(8)
    for a, b in [((False, 4), (0, 4)), ((True, 4), (1, 4)), ((0.0, 4), (0, 4)), ((1.0, 4), (1, 4))]:
        Ha, ia, _ = D.subgroup(a)
        Hb, ib, _ = D.subgroup(b)
        assert Ha == Hb and [ia(h) for h in Ha.elements] == [ib(h) for h in Hb.elements]
    H, incl, _ = D.subgroup((True, 4))
    assert incl(H.reflection) == D.element((1, 1))
    with pytest.raises(ValueError, match="subgroup_id"):
        D.subgroup((0.5, 4))


def test_group_constants():
    D = sg.dihedral_group(6)
    assert D.rotation_order == 6 and D.N == 6 and not D.abelian and not D.continuous
    assert D.reflection == D.element((1, 0)) and sg.o2_group(2).reflection.to("radians") == (1, 0.0)
    assert sg.cyclic_group(5).abelian and sg.so2_group(2).continuous and sg.so2_group(2).rotation_order == -1
    p, R = sg.o3_group(1).inversion.to("MAT")  # escnn: (parity, rotation matrix)
    assert p == 1 and np.allclose(R, np.eye(3))
    assert sg.o3_group(1).element((1, np.eye(3)), "MAT") == sg.o3_group(1).element(-np.eye(3), "MAT")
    with pytest.raises(AttributeError):
        sg.cyclic_group(4).reflection


def test_representation_members():
    G = sg.dihedral_group(4)
    rr = G.regular_representation
    assert rr.multiplicity((1, 1)) == 2 and rr.multiplicity(G.irrep(0, 2)) == 1
    assert rr.contains_trivial() and not rr.irreducible and G.irrep(1, 1).irreducible
    assert rr.representation(G.element((1, 2))).shape == (8, 8)
    assert G.irrep(1, 2).attributes == {"frequency": 2, "flip_frequency": 1}
    assert sg.so2_group(2).irrep(2).attributes == {"frequency": 2}
    assert sg.o3_group(2).irrep(1, 2).attributes == {"frequency": 2, "inv_frequency": 1}
    assert G.get_irrep_id(G.irrep(1, 1)) == (1, 1)
    assert G.get_irrep_id("irrep_1,1") == (1, 1) and sg.so3_group(2).get_irrep_id(2) == (2,)
    # escnn's constructor signature (representation / character only restate Q ⊕ψ Q⁻¹; kwargs are attributes)
    r = Representation(
        G, "mine", [(1, 1)], np.eye(2), ["norm"], representation=G.irrep(1, 1), character=G.irrep(1, 1).character, tag=3
    )
    assert r.attributes == {"tag": 3} and "norm" in r.supported_nonlinearities
    with pytest.raises(ValueError, match="representation"):
        Representation(G, "bad", [(1, 1)], np.eye(2), representation=lambda g: np.eye(2) * 2)


def test_custom_irreducible_representation():
    G = sg.cyclic_group(4)
    psi = IrreducibleRepresentation(
        G, (9,), "sign", lambda g: np.array([[(-1.0) ** g.value]]), 1, "R", ["pointwise"], foo=1
    )
    assert psi(G.element(3)).tolist() == [[-1.0]] and psi.attributes == {"foo": 1}
    with pytest.raises(ValueError, match="endomorphisms"):
        IrreducibleRepresentation(G, (9,), "c", lambda g: np.eye(2), 2, "C", [])
    with pytest.raises(ValueError, match="size"):
        IrreducibleRepresentation(G, (9,), "c", lambda g: np.eye(2), 0, "R", [])


def test_nonlinearities_follow_escnn():
    assert "concatenated" in sg.dihedral_group(4).irrep(1, 0).supported_nonlinearities
    assert "concatenated" in sg.cyclic_group(6).irrep(3).supported_nonlinearities
    assert "concatenated" not in sg.cyclic_group(6).irrep(1).supported_nonlinearities
    G = sg.cyclic_group(8)
    ind = G.induced_representation(4, G.subgroup(4)[0].irrep(1))
    assert {"induced_norm_2", "induced_gated_2"} <= ind.supported_nonlinearities
    assert "induced_gate" in G.quotient_representation(4).supported_nonlinearities


def test_homspace_escnn_api():
    G = sg.so3_group(3)
    X = G.homspace((False, -1))
    assert X.dimension_basis(2, 1) == (5, 2, 2)
    g = G.sample(seed=1)
    b = X.basis(g, 2, 1)
    assert b.shape == (5, 2, 2)
    cb = X.complete_basis(g, 0, [0, 1, 2])
    assert cb.shape == (9,) == (X.induced_representation(0, [0, 1, 2]).size,)
    # the scalar harmonics of SO(3)/SO(2) are constant on cosets
    H, incl, _ = G.subgroup((False, -1))
    h = H.sample(seed=2)
    np.testing.assert_allclose(X.complete_basis(g @ incl(h), 0, [0, 1, 2]), cb, atol=1e-10)
    assert X.same_coset(g, g @ incl(h)) and not X.same_coset(g, G.sample(seed=9))
    assert X.induced_representation(1, [0]) is None  # ψ = frequency 1 does not occur in degree 0
    D = sg.dihedral_group(4).homspace((None, 2))
    assert D.dimension_basis((1, 1), (1,)) == (2, 2, 1)  # Res_{C2} (1,1) = 2 × sign


def test_spectral_and_band_limited_representations():
    G = sg.so3_group(3)
    assert G.spectral_regular_representation(*G.bl_irreps(1)).irreps == [(0,), (1,), (1,), (1,)]
    assert G.bl_sphere_representation(2).irreps == [(0,), (1,), (2,)]
    assert G.bl_quotient_representation(2, (True, -1)).irreps == [(0,), (2,)]
    H = G.subgroup((False, -1))[0]
    assert G.bl_induced_representation(2, H.irrep(1), (False, -1)).irreps == [(1,), (1,), (2,), (2,)]
    assert sg.o3_group(2).bl_sphere_representation(2).irreps == [(0, 0), (1, 1), (0, 2)]
    O = sg.o2_group(3)
    assert O.spectral_quotient_representation((None, -1), (0, 0), (1, 0), (1, 1)).irreps == [(0, 0), (1, 0)]


def test_sphere_grids_and_subgroup_grids():
    G = sg.so3_group(1)
    z = np.array([0.0, 0.0, 1.0])
    for type, args, n in (
        ("ico", (), 30),
        ("cube", (), 6),
        ("fibonacci", (20,), 20),
        ("rand", (7, 0), 7),
        ("longlat", (4, 3), 12),
        ("thomson", (10,), 10),
        ("thomson_cube", (2,), 48),
    ):
        pts = np.array([g.to("MAT") @ z for g in G.sphere_grid(type, *args)])
        assert pts.shape == (n, 3)
        assert np.min(np.linalg.norm(pts[:, None] - pts[None] + 3 * np.eye(n)[..., None], axis=-1)) > 1e-6
    cube = np.array([g.to("MAT") @ z for g in G.sphere_grid("cube")])
    np.testing.assert_allclose(np.sort(np.abs(cube).sum(1)), np.ones(6), atol=1e-12)
    O3 = sg.o3_group(1)
    assert len(O3.sphere_grid("cube")) == 6 and len(O3.grid_so3("ico")) == 60
    assert [g.to("radians") for g in sg.o2_group(2).grid_so2(4)] == [
        (0, 0.0),
        (0, np.pi / 2),
        (0, np.pi),
        (0, 1.5 * np.pi),
    ]
    with pytest.raises(ValueError, match="type"):
        G.sphere_grid("healpix", 10)


def test_polyhedra_representations():
    I, O = sg.ico_group(), sg.octa_group()
    for rep, n in (
        (I.ico_vertices_representation, 12),
        (I.ico_faces_representation, 20),
        (I.ico_edges_representation, 30),
        (O.cube_vertices_representation, 8),
        (O.cube_faces_representation, 6),
        (O.cube_edges_representation, 12),
    ):
        assert rep.size == n and "pointwise" in rep.supported_nonlinearities
    assert I.ico_vertices_representation is I.ico_vertices_representation
    assert I.ico_vertices_representation.name == "ico_vertices"


def test_direct_product_members():
    G = sg.direct_product(sg.cyclic_group(3), sg.dihedral_group(2))
    a, b = sg.cyclic_group(3).element(1), sg.dihedral_group(2).element((1, 1))
    g = G.pair_elements(a, b)
    assert G.split_element(g) == (a, b)
    assert G.inclusion1(a) @ G.inclusion2(b) == g == G.inclusion2(b) @ G.inclusion1(a)
    assert G.subgroup(G.subgroup1_id)[0] == sg.cyclic_group(3) and G.subgroup(G.subgroup2_id)[0] == sg.dihedral_group(2)
    assert G.irrep((1,), (1, 1), 0) is G.irrep((1,), (1, 1)) and G.irrep((1,), (1, 1)).attributes["id1"] == (1,)
    assert sg.double_group(sg.cyclic_group(3)).subgroup_diagonal_id == "diagonal"


def test_helpers_and_exceptions():
    np.testing.assert_allclose(sg.psi(0.5, k=2, gamma=0.1), sg.psichi(0.5, 0, k=2, gamma=0.1))
    np.testing.assert_allclose(sg.psichi(0.5, 1) @ sg.psichi(0.5, 1), np.eye(2), atol=1e-12)
    with pytest.raises(ValueError, match="s"):
        sg.chi(2)
    assert isinstance(sg.__cache_path__, str)
    with pytest.raises(sg.InsufficientIrrepsException, match="SO"):
        raise sg.InsufficientIrrepsException(sg.so2_group(1), "more irreps needed")
    e = sg.UnderconstrainedCGSystem(sg.so3_group(), (1,), (1,), (2,), 1)
    assert e.S == 1 and "CG" in str(e)


def test_private_aliases_escnn_code_uses():
    G = sg.so3_group(2)
    np.testing.assert_allclose(G._clebsh_gordan_coeff(1, 1, 2), G.clebsch_gordan(1, 1, 2))
    assert G._tensor_product_irreps(1, 1) == [((0,), 1), ((1,), 1), ((2,), 1)]
    sid = G._process_subgroup_id((True, 4))
    assert G._process_subgroup_id(sid) == sid
    C = sg.cyclic_group(6)
    with pytest.raises(ValueError, match="subgroup_id"):
        C.subgroup(True)  # True == 1, but it is not an id of C6


def test_finite_subgroups_with_adjoint():
    G = sg.octa_group()
    adj = G.elements[5]
    H, incl, restr = G.subgroup((False, 4, adj))
    H0, incl0, _ = G.subgroup((False, 4))
    assert H == H0
    for h in H.elements:
        assert incl(h) == ~adj @ incl0(h) @ adj and restr(incl(h)) == h
    assert G._process_subgroup_id((False, 4, G.identity)) == G._process_subgroup_id((False, 4))
    # escnn's 5-fold axis of the icosahedral group: the vertex (φ, 0, 1)
    I = sg.ico_group()
    C5, inc5, _ = I.subgroup((False, 5))
    q = inc5(C5.element(1)).to("Q")
    phi = (1 + 5**0.5) / 2
    np.testing.assert_allclose(
        q[:3] / np.linalg.norm(q[:3]), np.array([phi, 0, 1]) / np.linalg.norm([phi, 0, 1]), atol=1e-12
    )


def test_combine_subgroups():
    G = sg.o2_group(2)
    sid = G._combine_subgroups((0.0, 4), (None, 2))  # C2 inside D4 inside O(2)
    H, incl, restr = G.subgroup(sid)
    D4, i1, _ = G.subgroup((0.0, 4))
    C2, i2, _ = D4.subgroup((None, 2))
    assert H is C2
    for h in H.elements:
        assert incl(h) == i1(i2(h)) and restr(incl(h)) == h
    assert restr(G.element((1, 0.0))) is None
    R = G.restrict_representation(sid, G.irrep(1, 1))
    assert R.group == C2 and np.allclose(R(C2.element(1)), -np.eye(2))
    D = sg.dihedral_group(6)
    q = D.quotient_representation(D._combine_subgroups((0, 3), (None, 3)))
    assert q.size == 4 and q == D.quotient_representation((None, 3))


def test_mat_parametrisation_is_escnns():
    O = sg.o2_group(2)
    f, R = O.element((1, 0.3)).to("MAT")
    assert f == 1 and np.allclose(R, sg.psi(0.3))
    assert O.element((1, sg.psi(0.3)), "MAT") == O.element((1, 0.3))
    assert O.element(sg.psichi(0.3, 1), "MAT") == O.element((1, 0.3))  # a full 2x2 matrix works too
    assert np.allclose(sg.so2_group(2).element(0.3).to("MAT"), sg.psi(0.3))
    assert sg.dihedral_group(4).element((1, 1)).to("MAT")[0] == 1


def test_group_element_escnn_constructor():
    """``GroupElement(g, group, param)`` as escnn builds elements: equal to ``group.element``."""
    import pickle

    from steerable.group import GroupElement, cyclic_group, so3_group

    G = cyclic_group(8)
    g = GroupElement(3, G)
    assert g == G.element(3) and g.value == 3
    assert pickle.loads(pickle.dumps(g)) == g
    S = so3_group()
    q = [0.0, 0.0, np.sin(0.35), np.cos(0.35)]
    h = GroupElement(q, S, "Q")
    assert h == S.element(q, "Q") and h != S.identity
    with pytest.raises(TypeError, match="group"):
        GroupElement(3, "C8")
    with pytest.raises(ValueError):
        GroupElement(3, G, "no-such-param")
