"""``build_kernel_basis`` / ``build_fiber_intertwiner_basis`` (escnn's ``GSpace`` methods as
functions): dimensions pinned against escnn 1.0.11's ``GSpace.build_kernel_basis`` and the kernel
constraint with the gspace's own action on the base space, restricted gspaces included."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from steerable import group as G
from steerable import gspaces
from steerable.kernels import EmptyBasisException, SteerableKernelBasis
from steerable.kernels._gspace_bases import build_fiber_intertwiner_basis, build_kernel_basis

R = [0.0, 1.0, 2.0]

# name: (gspace, (in, out) representations, maximum_frequency, dimension measured with escnn 1.0.11's
# gspace.build_kernel_basis(in, out, 0.6, [0, 1, 2], maximum_frequency=...); None where escnn needs
# maximum_frequency and fails without it (our default: the sum of the largest frequencies))
CASES = {
    "rot2d4_reg": (lambda: gspaces.rot2dOnR2(4), lambda gs: (gs.regular_repr, gs.regular_repr), 3, 84),
    "rot2d8_irr": (lambda: gspaces.rot2dOnR2(8), lambda gs: (gs.irrep(1), gs.irrep(3)), 5, 18),
    "fliprot2d4_reg": (lambda: gspaces.flipRot2dOnR2(4), lambda gs: (gs.regular_repr, gs.regular_repr), 3, 168),
    "fliprot2d3_axis0": (
        lambda: gspaces.flipRot2dOnR2(3, axis=0.0),
        lambda gs: (gs.regular_repr, gs.irrep(1, 1)),
        4,
        54,
    ),
    "so2_irr": (lambda: gspaces.rot2dOnR2(-1, 6), lambda gs: (gs.irrep(1), gs.irrep(2)), None, 12),
    "o2_irr": (lambda: gspaces.flipRot2dOnR2(-1, 6), lambda gs: (gs.irrep(1, 1), gs.irrep(1, 2)), None, 6),
    "o2_irr_mf5": (lambda: gspaces.flipRot2dOnR2(-1, 6), lambda gs: (gs.irrep(1, 1), gs.irrep(0, 0)), 5, 3),
    "flip2d": (lambda: gspaces.flip2dOnR2(), lambda gs: (gs.regular_repr, gs.regular_repr), 3, 42),
    "trivial2d": (lambda: gspaces.trivialOnR2(), lambda gs: (gs.trivial_repr, gs.trivial_repr), 3, 21),
    "rot3d": (lambda: gspaces.rot3dOnR3(3), lambda gs: (gs.irrep(1), gs.irrep(2)), 3, 9),
    "fliprot3d": (lambda: gspaces.flipRot3dOnR3(3), lambda gs: (gs.irrep(1, 1), gs.irrep(0, 1)), 2, 3),
    "ico": (lambda: gspaces.icoOnR3(), lambda gs: (gs.irrep(1), gs.irrep(2)), 4, 18),
    "octa_reg": (lambda: gspaces.octaOnR3(), lambda gs: (gs.regular_repr, gs.trivial_repr), 3, 48),
    "rot2dOnR3_4": (lambda: gspaces.rot2dOnR3(4), lambda gs: (gs.regular_repr, gs.regular_repr), 3, 192),
    "conical4": (lambda: gspaces.conicalOnR3(4), lambda gs: (gs.regular_repr, gs.trivial_repr), 3, 48),
    "dihedral3": (lambda: gspaces.dihedralOnR3(3), lambda gs: (gs.regular_repr, gs.trivial_repr), 3, 48),
    "inv": (lambda: gspaces.invOnR3(), lambda gs: (gs.regular_repr, gs.regular_repr), 3, 96),
    "mir": (lambda: gspaces.mirOnR3(), lambda gs: (gs.regular_repr, gs.regular_repr), 3, 96),
    "fullcyl4": (lambda: gspaces.fullCylindricalOnR3(4), lambda gs: (gs.regular_repr, gs.trivial_repr), 3, 48),
    "trivial3d": (lambda: gspaces.trivialOnR3(), lambda gs: (gs.trivial_repr, gs.trivial_repr), 2, 27),
    "restricted_d8_c4": (
        lambda: gspaces.flipRot2dOnR2(8).restrict((None, 4))[0],
        lambda gs: (gs.regular_repr, gs.regular_repr),
        3,
        84,
    ),
    "fullocta_std": (lambda: gspaces.fullOctaOnR3(), lambda gs: (gs.basespace_action, gs.trivial_repr), 3, None),
    "restricted_o3_so3": (
        lambda: gspaces.flipRot3dOnR3(3).restrict("so3")[0],
        lambda gs: (gs.irrep(1), gs.irrep(1)),
        2,
        None,
    ),
}


def _elements(gs, n=4):
    grp = gs.fibergroup
    if grp.order() > 0:
        els = list(grp.elements)
        idx = np.random.default_rng(0).choice(len(els), size=min(n, len(els)), replace=False)
        return [els[i] for i in idx]
    return list(grp.sample(n, seed=5))


@pytest.mark.parametrize("name", list(CASES))
def test_gspace_basis_dimension_and_constraint(name):
    mk, reps, mf, dim = CASES[name]
    gs = mk()
    rin, rout = reps(gs)
    kw = {} if mf is None else {"maximum_frequency": mf}
    basis = build_kernel_basis(gs, rin, rout, 0.6, R, **kw)
    if dim is not None:
        assert len(basis) == dim
    d = gs.dimensionality
    pts = torch.randn(10, d, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 1.5
    pts[0] = 0.0
    k = basis.sample(pts)
    assert k.shape == (10, len(basis), rout.size, rin.size)
    for g in _elements(gs):
        a = torch.as_tensor(gs.basespace_matrix(g), dtype=torch.float64)
        ro = torch.as_tensor(np.asarray(rout(g)), dtype=torch.float64)
        ri = torch.as_tensor(np.linalg.inv(np.asarray(rin(g))), dtype=torch.float64)
        err = (basis.sample(pts @ a.T) - torch.einsum("po,nkoi,iq->nkpq", ro, k, ri)).abs().max().item()
        assert err < 1e-10, (g, err)


def test_gspace_filter_and_offset():
    gs = gspaces.rot2dOnR2(4)
    full = build_kernel_basis(gs, gs.regular_repr, gs.regular_repr, 0.6, R, maximum_frequency=4)
    filt = build_kernel_basis(
        gs,
        gs.regular_repr,
        gs.regular_repr,
        0.6,
        R,
        maximum_frequency=4,
        filter=lambda a: a["irrep:frequency"] <= 2 * a["radius"],
    )
    off = build_kernel_basis(gs, gs.regular_repr, gs.regular_repr, 0.6, R, maximum_frequency=4, maximum_offset=0)
    assert 0 < len(filt) < len(full) and 0 < len(off) < len(full)
    assert all(a["irrep:frequency"] <= 2 * a["radius"] for a in filt)
    with pytest.raises(TypeError, match="unexpected"):
        build_kernel_basis(gs, gs.regular_repr, gs.regular_repr, 0.6, R, frequencies_cutoff=2)
    with pytest.raises(ValueError, match="fibre group"):
        build_kernel_basis(gs, gspaces.rot2dOnR2(8).regular_repr, gspaces.rot2dOnR2(8).regular_repr, 0.6, R)


def test_fiber_intertwiner_basis():
    gs = gspaces.no_base_space(G.cyclic_group(4))
    b = build_fiber_intertwiner_basis(gs, gs.regular_repr, gs.regular_repr)
    assert isinstance(b, SteerableKernelBasis) and len(b) == 4
    h = b.sample(torch.zeros(1, 1, dtype=torch.float64))[0]  # (4, 4, 4)
    rho = gs.regular_repr
    for g in gs.fibergroup.elements:
        m = torch.as_tensor(np.asarray(rho(g)), dtype=torch.float64)
        assert torch.allclose(h @ m, m @ h, atol=1e-12)
    assert build_kernel_basis(gs, gs.regular_repr, gs.regular_repr, 0.6, R).dim == 4
    so2 = gspaces.no_base_space(G.so2_group(4))
    with pytest.raises(EmptyBasisException):
        build_fiber_intertwiner_basis(so2, so2.irrep(1), so2.irrep(2))
