"""Irreps and representations of every group as torch functions of element parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from steerable import group as sg
from steerable.group import functional as F

from .conftest import ALL_GROUPS, FINITE_GROUPS, GROUP_FACTORIES

DT = torch.float64


def _irreps(G):
    return G.irreps() if not G.continuous else [G.irrep(*i) for i in G.bl_irreps(3)]


@pytest.mark.parametrize("name", ALL_GROUPS)
def test_irreps_match_reference_and_are_homomorphisms(name):
    G = GROUP_FACTORIES[name]()
    a, b = G.sample(24, seed=1), G.sample(24, seed=2)
    pa, pb = F.element_params(a), F.element_params(b)
    pab = F.element_params([x @ y for x, y in zip(a, b)])
    for psi in _irreps(G):
        Ma = F.irrep_matrices(psi, pa)
        assert Ma.shape == (24, psi.size, psi.size) and Ma.dtype == DT
        torch.testing.assert_close(Ma.numpy(), psi.matrices(a), atol=1e-10, rtol=0)
        Mb = F.irrep_matrices(psi, pb)
        torch.testing.assert_close(F.irrep_matrices(psi, pab), Ma @ Mb, atol=1e-10, rtol=0)
        eye = torch.eye(psi.size, dtype=DT).expand_as(Ma)
        torch.testing.assert_close(Ma @ Ma.transpose(-1, -2), eye, atol=1e-10, rtol=0)


@pytest.mark.parametrize("name", ALL_GROUPS)
def test_representations_match_reference(name):
    G = GROUP_FACTORIES[name]()
    els = G.sample(10, seed=3)
    p = F.element_params(els).reshape(2, 5, -1)  # leading axes are batch axes
    reps = [G.regular_representation, G.trivial_representation]
    irr = _irreps(G)
    reps.append(sg.directsum([irr[-1], irr[0], irr[-1]]))
    d = reps[-1].size
    Q = np.linalg.qr(np.random.default_rng(4).normal(size=(d, d)))[0] + 0.1 * np.eye(d)  # not orthogonal
    reps.append(sg.change_basis(reps[-1], Q))
    if name not in ("C1", "C2", "C5", "C8", "SO2", "klein4", "double_C3", "SO2xSO2", "C3xtetra"):
        reps.append(G.standard_representation)
    for rho in reps:
        got = F.representation_matrices(rho, p)
        assert got.shape == (2, 5, rho.size, rho.size)
        torch.testing.assert_close(got.reshape(10, rho.size, rho.size).numpy(), rho.matrices(els), atol=1e-10, rtol=0)


def test_planar_irreps_by_angle_and_by_index():
    for N in (5, 6):
        C, D = sg.cyclic_group(N), sg.dihedral_group(N)
        idx = torch.arange(N, dtype=DT)
        angle = 2 * math.pi * idx / N
        for k in range(N // 2 + 1):
            ref = C.irrep(k).matrices(C.elements)
            torch.testing.assert_close(F.so2_irrep(k, angle, N=N).numpy(), ref, atol=1e-12, rtol=0)
            params = torch.stack([torch.zeros_like(idx), idx], -1)
            torch.testing.assert_close(F.irrep_matrices(C.irrep(k), params).numpy(), ref, atol=1e-12, rtol=0)
        els = D.elements
        p = F.element_params(els)
        ang = 2 * math.pi * p[:, 1] / N
        for psi in D.irreps():
            got = F.o2_irrep(psi.id[0], psi.id[1], ang, p[:, 0], N=N)
            torch.testing.assert_close(got.numpy(), psi.matrices(els), atol=1e-12, rtol=0)
    O2 = sg.o2_group(4)
    els = O2.sample(20, seed=5)
    p = F.element_params(els)
    for psi in O2.irreps():
        got = F.o2_irrep(psi.id[0], psi.id[1], p[:, 1], p[:, 0])
        torch.testing.assert_close(got.numpy(), psi.matrices(els), atol=1e-12, rtol=0)
    SO2 = sg.so2_group(4)
    els = SO2.sample(20, seed=6)
    for k in range(5):
        got = F.so2_irrep(k, F.element_params(els)[:, 1])
        torch.testing.assert_close(got.numpy(), SO2.irrep(k).matrices(els), atol=1e-12, rtol=0)


def test_gradients_through_continuous_parameters():
    G = sg.o2_group(3)
    p = F.element_params(G.sample(4, seed=7)).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: F.representation_matrices(G.regular_representation, t), (p,))
    H = sg.direct_product(sg.so2_group(2), sg.so3_group(2))
    ph = F.element_params(H.sample(3, seed=8)).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: F.irrep_matrices(H.irrep((1,), (2,)), t), (ph,))
    # C_N with a fractional index: the SO(2) irrep at the angle 2π·index/N, differentiable
    C = sg.cyclic_group(8)
    pc = torch.tensor([[0.0, 0.3], [0.0, 2.5]], dtype=DT, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: F.irrep_matrices(C.irrep(2), t), (pc,))


@pytest.mark.parametrize("name", ALL_GROUPS)
def test_element_params_round_trip(name):
    G = GROUP_FACTORIES[name]()
    els = G.sample(8, seed=9)
    p = F.element_params(els, dtype=torch.float32)
    assert p.shape == (8, F.param_dim(G)) and p.dtype == torch.float32
    back = F.params_to_elements(G, F.element_params(els))
    assert back == els
    assert F.element_params(els[0]).shape == (F.param_dim(G),)


@pytest.mark.parametrize("name", FINITE_GROUPS)
def test_index_params_round_trip(name):
    G = GROUP_FACTORIES[name]()
    p = F.element_params(G.elements)
    idx = F.element_index(G, p)
    torch.testing.assert_close(idx, torch.arange(G.order()))
    torch.testing.assert_close(F.index_params(G, idx), p, atol=0, rtol=0)
    torch.testing.assert_close(F.index_params(G, idx.reshape(-1, 1))[:, 0], p, atol=0, rtol=0)


@pytest.mark.parametrize("name", ["ico", "octa", "tetra", "fulltetra"])
def test_finite_quaternion_lookup(name):
    G = GROUP_FACTORIES[name]()
    t = F.finite_quaternions(G)
    assert t.shape == (G.order(), 5)
    idx = torch.arange(G.order())
    # elements given as (parity, ±q) come back to their index; for rotation groups plain q too
    sign = torch.where(idx % 2 == 0, 1.0, -1.0).to(DT)[:, None]
    flipped = torch.cat([t[:, :1], t[:, 1:] * sign], -1)
    torch.testing.assert_close(F.index_from_quaternion(G, flipped), idx)
    if name != "fulltetra":
        torch.testing.assert_close(F.index_from_quaternion(G, t[:, 1:]), idx)
    # the standard representation of each indexed element is its O(3) matrix
    R = F.quat_to_matrix(t[:, 1:]) * torch.where(t[:, 0] > 0.5, -1.0, 1.0).to(DT)[:, None, None]
    torch.testing.assert_close(R.numpy(), G.standard_representation.matrices(G.elements), atol=1e-12, rtol=0)
    with pytest.raises(ValueError, match="q"):
        F.index_from_quaternion(G, torch.tensor([[0.0, 0.3, 0.4, 0.1, 0.9]], dtype=DT))


def test_float32_values():
    G = sg.o3_group(2)
    els = G.sample(10, seed=10)
    p = F.element_params(els, dtype=torch.float32)
    got = F.representation_matrices(G.regular_representation, p)
    assert got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), G.regular_representation.matrices(els), atol=1e-5)


def test_errors():
    G = sg.so3_group(2)
    with pytest.raises(ValueError, match="params"):
        F.irrep_matrices(G.irrep(1), torch.zeros(3, 5))
    with pytest.raises(TypeError, match="irrep"):
        F.irrep_matrices(G.standard_representation, torch.zeros(3, 4))
    with pytest.raises(TypeError, match="rep"):
        F.representation_matrices(np.eye(3), torch.zeros(3, 4))
    with pytest.raises(ValueError, match="G"):
        F.element_index(G, torch.zeros(2, 4))
    with pytest.raises(ValueError, match="index"):
        F.index_params(sg.cyclic_group(3), torch.tensor([3]))
    with pytest.raises(TypeError, match="index"):
        F.index_params(sg.cyclic_group(3), torch.tensor([1.0]))
    with pytest.raises(TypeError, match="G"):
        F.finite_quaternions(sg.cyclic_group(3))
    with pytest.raises(ValueError, match="q"):
        F.index_from_quaternion(sg.full_tetra_group(), torch.tensor([0.0, 0.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match="k"):
        F.so2_irrep(3, torch.zeros(2), N=4)
    with pytest.raises(ValueError, match="j"):
        F.o2_irrep(0, 1, torch.zeros(2), torch.zeros(2))
    with pytest.raises(TypeError, match="elements"):
        F.element_params([1, 2])
    with pytest.raises(ValueError, match="elements"):
        F.element_params([])


def test_group_package_does_not_import_functional():
    import subprocess
    import sys

    code = (
        "import sys, steerable.group; "
        "assert 'steerable.group.functional' not in sys.modules and 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_quotient_induced_and_tensor_representations():
    O, S, D = sg.octa_group(), sg.so3_group(2), sg.dihedral_group(6)
    cases = [
        (O, O.cube_faces_representation),
        (O, O.quotient_representation((False, 3))),
        (S, S.bl_sphere_representation(2)),
        (S, S.standard_representation.tensor(S.standard_representation)),
        (D, D.induced_representation((None, 3), sg.cyclic_group(3).irrep(1))),
    ]
    for G, rho in cases:
        els = G.sample(6, seed=11)
        got = F.representation_matrices(rho, F.element_params(els))
        torch.testing.assert_close(got.numpy(), rho.matrices(els), atol=1e-10, rtol=0)
