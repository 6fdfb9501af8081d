"""Homogeneous spaces G/H: harmonic bases, Frobenius reciprocity, pickling."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from steerable import group as sg
from steerable.testing import assert_equivariant, matrix_action

CASES = [
    (lambda: sg.so3_group(3), (False, -1)),  # the sphere
    (lambda: sg.so3_group(2), (True, -1)),  # SO(3)/O(2)
    (lambda: sg.o3_group(2), ("cone", -1)),
    (lambda: sg.o2_group(3), (None, -1)),  # O(2)/SO(2)
    (lambda: sg.dihedral_group(6), (None, 3)),
    (lambda: sg.ico_group(), (False, 5)),
    (lambda: sg.octa_group(), (False, 4)),
    (lambda: sg.cyclic_group(8), 2),
]


@pytest.mark.parametrize("factory,sid", CASES)
def test_harmonics_transform_correctly(factory, sid):
    G = factory()
    X = G.homspace(sid)
    H, inclusion, _ = G.subgroup(sid)
    g = G.sample(seed=0)
    hs = H.sample(3, seed=1)
    irr = G.irreps() if G.order() > 0 else [G.irrep(*_i) for _i in G.bl_irreps(2)]
    for rho in irr:
        for psi in H.irreps() if H.order() > 0 else [H.irrep(*_i) for _i in H.bl_irreps(rho.bandlimit)]:
            b = X.basis(g, rho.id, psi.id)  # (dr, m, dp), escnn's layout
            assert b.shape == X.dimension_basis(rho.id, psi.id)
            # Frobenius reciprocity: m · type(ρ) = dim Hom_H(ψ, Res ρ)
            n_psi = rho.restrict(sid).irreps.count(psi.id)
            assert b.shape[1] * rho.sum_of_squares_constituents == n_psi * psi.sum_of_squares_constituents
            f = lambda g_, rho=rho, psi=psi: torch.as_tensor(X.basis(g_, rho.id, psi.id))
            # right action of H: f(g h) = f(g) ψ(h)
            assert_equivariant(
                f,
                inputs=g,
                elements=hs,
                in_action=lambda g_, h: g_ @ inclusion(h),
                out_action=matrix_action(lambda h, psi=psi: np.asarray(psi(h)).T, axis=-1),
                atol=1e-9,
                rtol=0,
            )
            # left action of G: f(g' g) = ρ(g') f(g)
            assert_equivariant(
                f,
                inputs=g,
                elements=[G.sample(seed=5)],
                in_action=lambda g_, g2: g2 @ g_,
                out_action=matrix_action(rho, axis=0),
                atol=1e-9,
                rtol=0,
            )


def test_frobenius_reciprocity_finite():
    G = sg.dihedral_group(6)
    X = G.homspace((None, 3))
    H = X.H
    for psi in H.irreps():
        ind = G.induced_representation((None, 3), psi)
        trunc = X.induced_representation(psi.id, [p.id for p in G.irreps()])
        assert sorted(ind.irreps) == sorted(trunc.irreps)


def test_sphere_harmonics_count_and_pickle():
    G = sg.so3_group(4)
    X = G.homspace((False, -1))
    assert [X.dimension_basis(l, k)[1] for l in range(4) for k in range(3)] == [1, 0, 0, 1, 2, 0, 1, 2, 2, 1, 2, 2]
    assert pickle.loads(pickle.dumps(X)) == X
    assert X.induced_representation(0, [0, 1, 2]).irreps == [(0,), (1,), (2,)]
    with pytest.raises(ValueError, match="subgroup_id"):
        G.homspace("cube")
