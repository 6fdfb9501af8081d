"""Kernel bases: the constraint K(gx) = ρ_out(g) K(x) ρ_in(g)⁻¹ and completeness, for every
gspace factory and every irrep pair up to frequency 3."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from steerable import gspaces
from steerable.group import homomorphism_space
from steerable.kernels import IrrepsPairBasis, SteerableKernelBasis, default_cutoff, harmonic_ids, harmonics
from steerable.testing import assert_equivariant, kernel_action

SPACES = {
    "rot2d_C4": lambda: gspaces.rot2dOnR2(4),
    "rot2d_C5": lambda: gspaces.rot2dOnR2(5),
    "rot2d_C8": lambda: gspaces.rot2dOnR2(8),
    "rot2d_SO2": lambda: gspaces.rot2dOnR2(-1, maximum_frequency=3),
    "fliprot2d_D4": lambda: gspaces.flipRot2dOnR2(4),
    "fliprot2d_D3": lambda: gspaces.flipRot2dOnR2(3),
    "fliprot2d_O2": lambda: gspaces.flipRot2dOnR2(-1, maximum_frequency=3),
    "flip2d": lambda: gspaces.flip2dOnR2(),
    "trivial2d": lambda: gspaces.trivialOnR2(),
    "rot3d": lambda: gspaces.rot3dOnR3(maximum_frequency=3),
    "fliprot3d": lambda: gspaces.flipRot3dOnR3(maximum_frequency=2),
    "ico": lambda: gspaces.icoOnR3(),
    "fullico": lambda: gspaces.fullIcoOnR3(),
    "octa": lambda: gspaces.octaOnR3(),
    "fullocta": lambda: gspaces.fullOctaOnR3(),
    "tetra": lambda: gspaces.tetraOnR3(),
    "rot2d_on_R3_C4": lambda: gspaces.rot2dOnR3(4),
    "rot2d_on_R3_SO2": lambda: gspaces.rot2dOnR3(-1, maximum_frequency=3),
    "dihedral_on_R3": lambda: gspaces.dihedralOnR3(3),
    "conical_on_R3": lambda: gspaces.conicalOnR3(-1, maximum_frequency=2),
    "cylindrical_on_R3": lambda: gspaces.cylindricalOnR3(4),
    "fullcylindrical_on_R3": lambda: gspaces.fullCylindricalOnR3(-1, maximum_frequency=2),
    "mir_on_R3": lambda: gspaces.mirOnR3(),
    "inv_on_R3": lambda: gspaces.invOnR3(),
    "trivial3d": lambda: gspaces.trivialOnR3(),
}

RINGS = [0.0, 1.0, 2.0]
SIGMAS = [0.6, 0.6, 0.6]


def _irreps(G, L=3):
    return G.irreps() if G.order() > 0 else [G.irrep(*i) for i in G.bl_irreps(L)]


def _pairs(gs, L=3):
    irr = _irreps(gs.fibergroup, L)
    pairs = [(a, b) for a in irr for b in irr]
    if len(pairs) > 36:  # keep the biggest groups fast: every irrep still appears on both sides
        rng = np.random.default_rng(0)
        keep = {(a.id, b.id) for a, b in zip(irr, irr[::-1])}
        keep |= {(irr[i].id, irr[j].id) for i, j in rng.integers(0, len(irr), (24, 2))}
        pairs = [(a, b) for a, b in pairs if (a.id, b.id) in keep]
    return pairs


@pytest.mark.parametrize("name", list(SPACES))
def test_kernel_constraint(name):
    gs = SPACES[name]()
    d = gs.dimensionality
    rng = np.random.default_rng(1)
    pts = rng.normal(size=(20, d)) * 1.3
    pts[0] = 0.0  # the origin too
    els = gs.fibergroup.sample(3, seed=2)
    total = 0
    for a, b in _pairs(gs):
        basis = IrrepsPairBasis(gs, a.id, b.id, RINGS, SIGMAS, default_cutoff)
        total += len(basis)
        if not len(basis):
            continue
        # K(g·p) = ρ_out(g) K(p) ρ_in(g)⁻¹ on samples (nb, do, di, N)
        assert_equivariant(
            lambda p, basis=basis: torch.as_tensor(basis.sample(p.numpy())),
            inputs=torch.as_tensor(pts),
            in_type=gs,
            out_action=kernel_action(a, b, in_axis=2, out_axis=1),
            elements=els,
            atol=1e-9,
            rtol=0,
        )
    assert total > 0


def _random_bandlimited(gs, d_out, d_in, rng):
    """A random (non-equivariant) kernel in the span of the harmonics × rings used by the basis."""
    d = gs.dimensionality
    J = default_cutoff(max(RINGS))
    coeffs = {}
    for ri, r in enumerate(RINGS):
        for _hid, j in harmonic_ids(d, default_cutoff(r)):
            dim = 1 if j == 0 else (2 if d == 2 else 2 * j + 1)
            coeffs[(ri, j)] = rng.normal(size=(d_out * d_in, dim))

    def kernel(points):
        ys = harmonics(d, J, points)
        rad = np.linalg.norm(points, axis=1)
        out = np.zeros((d_out * d_in, len(points)))
        for (ri, j), c in coeffs.items():
            prof = np.exp(-((rad - RINGS[ri]) ** 2) / (2 * SIGMAS[ri] ** 2))
            out += (c @ ys[j].T) * prof
        return out.reshape(d_out, d_in, len(points))

    return kernel


@pytest.mark.parametrize(
    "name",
    [
        "rot2d_C5",
        "rot2d_SO2",
        "fliprot2d_D4",
        "fliprot2d_O2",
        "flip2d",
        "rot3d",
        "fliprot3d",
        "octa",
        "tetra",
        "rot2d_on_R3_SO2",
        "cylindrical_on_R3",
        "mir_on_R3",
    ],
)
def test_kernel_completeness(name):
    """Group-averaging a random band-limited kernel lands in the span of the basis."""
    gs = SPACES[name]()
    G = gs.fibergroup
    rng = np.random.default_rng(3)
    pts = rng.normal(size=(60, gs.dimensionality)) * 1.2
    for a, b in _pairs(gs, 2)[:12]:
        basis = IrrepsPairBasis(gs, a.id, b.id, RINGS, SIGMAS, default_cutoff)
        kern = _random_bandlimited(gs, b.size, a.size, rng)
        J = default_cutoff(max(RINGS))
        qpts, w = G._quadrature(J + a.bandlimit + b.bandlimit)
        els = G._elements_of(qpts)
        avg = np.zeros((b.size, a.size, len(pts)))
        mats = gs.basespace_matrices(els)
        for wi, g, m in zip(w, els, mats):
            avg += wi * np.einsum("ap,abn,bq->pqn", b(g), kern(pts @ m.T), a(g))
        if np.abs(avg).max() < 1e-10:  # no equivariant kernel exists: the basis must be empty
            assert len(basis) == 0, (a.id, b.id)
            continue
        B = basis.sample(pts).reshape(len(basis), -1).T
        assert len(basis) > 0, (a.id, b.id)
        sol, *_ = np.linalg.lstsq(B, avg.reshape(-1), rcond=None)
        np.testing.assert_allclose(B @ sol, avg.reshape(-1), atol=1e-8)


@pytest.mark.parametrize("name", list(SPACES))
def test_origin_counts_match_homomorphism_space(name):
    gs = SPACES[name]()
    for a, b in _pairs(gs):
        basis = IrrepsPairBasis(gs, a.id, b.id, [0.0], [0.6], default_cutoff)
        assert len(basis) == homomorphism_space(a, b).shape[0], (a.id, b.id)


def test_general_representations_and_attributes():
    gs = gspaces.flipRot2dOnR2(4)
    rin = gs.regular_repr
    rout = gs.fibergroup.quotient_representation((0, 2)) + gs.irrep(1, 1)
    b = SteerableKernelBasis(gs, rin, rout, rings=RINGS)
    pts = np.random.default_rng(0).normal(size=(15, 2))
    assert_equivariant(
        lambda p: torch.as_tensor(b.sample(p.numpy())),
        inputs=torch.as_tensor(pts),
        in_type=gs,
        out_action=kernel_action(rin, rout, in_axis=2, out_axis=1),
        elements=gs.testing_elements,
        atol=1e-9,
        rtol=0,
    )
    attrs = b.attributes
    assert len(attrs) == len(b)
    assert {"in_irrep", "out_irrep", "radius", "frequency", "harmonic", "inner", "sigma"} <= set(attrs[0])
    # basis_filter removes what it says
    bf = SteerableKernelBasis(gs, rin, rout, rings=RINGS, basis_filter=lambda a: a["frequency"] <= 1)
    assert 0 < len(bf) < len(b)
    assert all(a["frequency"] <= 1 for a in bf.attributes)


def test_bad_input():
    gs = gspaces.rot2dOnR2(4)
    with pytest.raises(ValueError, match="in_repr"):
        SteerableKernelBasis(gs, gspaces.rot2dOnR2(8).regular_repr, gs.regular_repr, rings=RINGS)
    with pytest.raises(ValueError, match="sigma"):
        SteerableKernelBasis(gs, gs.regular_repr, gs.regular_repr, rings=RINGS, sigma=[1.0])
    with pytest.raises(ValueError, match="points"):
        harmonics(2, 2, np.zeros((3, 3)))
    with pytest.raises(TypeError, match="frequencies_cutoff"):
        SteerableKernelBasis(gs, gs.regular_repr, gs.regular_repr, rings=RINGS, frequencies_cutoff="high")
