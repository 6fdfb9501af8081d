"""escnn's kernel-basis building blocks: KernelBasis protocol, radial profile, circular/spherical
shells, Wigner–Eckart solvers, union/adjoint, point and sparse-orbit bases, the harmonic
polynomial generator; layout, attributes, dtype, ``out=`` and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from steerable import group as G
from steerable import gspaces
from steerable import kernels as K
from steerable.kernels import _basis


def _pts(n, d, seed=0, dtype=torch.float64):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=dtype) * 1.5


def test_kernel_basis_protocol():
    class Const(K.KernelBasis):
        def sample(self, points, out=None):
            return torch.ones(points.shape[0], self.dim, *self.shape, dtype=points.dtype)

        def __getitem__(self, idx):
            return {"idx": self._check_idx(idx)}

    b = Const(3, (2, 1))
    assert len(b) == 3 and [a["idx"] for a in b] == [0, 1, 2]
    assert b(torch.zeros(4, 2)).shape == (4, 3, 2, 1)  # forward = sample
    with pytest.raises(K.EmptyBasisException):
        Const(0, (1, 1))
    with pytest.raises(TypeError, match="dim"):
        Const(1.5, (1, 1))
    with pytest.raises(IndexError):
        b[3]
    with pytest.raises(TypeError):
        K.KernelBasis(1, (1, 1))  # abstract


def test_gaussian_radial_profile():
    p = K.GaussianRadialProfile([0.0, 1.0, 2.5], [0.5, 1.0, 2.0])
    r = torch.tensor([[0.3], [2.0]], dtype=torch.float64)
    v = p.sample(r)
    assert v.shape == (2, 3, 1, 1)
    expected = torch.exp(-0.5 * (torch.tensor([0.0, 1.0, 2.5]) - r) ** 2 / torch.tensor([0.5, 1.0, 2.0]) ** 2)
    assert torch.allclose(v[..., 0, 0], expected.double(), atol=1e-14)
    assert p[2] == {"radius": 2.5, "sigma": 2.0, "idx": 2}
    assert K.GaussianRadialProfile([0.0, 1.0], 0.5) == K.GaussianRadialProfile([0.0, 1.0], [0.5, 0.5])
    for bad in [([-1.0], 0.5), ([1.0], 0.0), ([1.0, 2.0], [0.5])]:
        with pytest.raises(ValueError):
            K.GaussianRadialProfile(*bad)


@pytest.mark.parametrize("axis", [0.0, np.pi / 2, 0.7])
def test_circular_shells_layout_and_equivariance(axis):
    radial = K.GaussianRadialProfile([0.0, 1.0, 2.0], 0.6)
    b = K.CircularShellsBasis(3, radial, axis=axis)
    assert b.js == [((0, 0), 3), ((1, 1), 3), ((1, 2), 3), ((1, 3), 3)] and b.dim == 21
    x = _pts(7, 2)
    s = b.sample(x)[:, :, 0, 0]
    rad = x.norm(dim=1)
    theta = torch.atan2(x[:, 1], x[:, 0]) - axis
    prof = torch.exp(-0.5 * (rad[:, None] - torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)) ** 2 / 0.36)
    # escnn's order: harmonic, then ring, then (cos, sin)
    assert torch.allclose(s[:, :3], prof, atol=1e-13)
    j2 = s[:, 3 + 6 : 3 + 12].reshape(7, 3, 2)
    assert torch.allclose(j2[..., 0], prof * torch.cos(2 * theta)[:, None], atol=1e-12)
    assert torch.allclose(j2[..., 1], prof * torch.sin(2 * theta)[:, None], atol=1e-12)
    b.check_equivariance()
    d = b.sample_as_dict(x)
    assert torch.allclose(d[(1, 2)].reshape(7, -1), s[:, 9:15])
    assert b[10] == {
        "irrep:frequency": 2,
        "irrep:flip_frequency": 1,
        "radius": 0.0,
        "sigma": 0.6,
        "idx": 10,
        "radial_idx": 0,
        "j": (1, 2),
        "m": 1,
        "shape": (1, 1),
    }


def test_spherical_shells_and_filter():
    radial = K.GaussianRadialProfile([0.0, 1.0, 2.0], 0.6)
    b = K.SphericalShellsBasis(3, radial, filter=lambda a: a["irrep:frequency"] <= 2 * a["radius"])
    # ring 0 keeps only l = 0, ring 1 l <= 2, ring 2 everything
    assert b.js == [((0, 0), 3), ((1, 1), 2), ((0, 2), 2), ((1, 3), 1)]
    assert b.dim == 3 + 2 * 3 + 2 * 5 + 7
    b.check_equivariance()
    attrs = list(b)
    assert [a["idx"] for a in attrs] == list(range(b.dim)) and all(b[i] == a for i, a in enumerate(attrs))
    assert {a["radius"] for a in attrs if a["j"] == (1, 3)} == {2.0}
    with pytest.raises(K.EmptyBasisException):
        K.SphericalShellsBasis(2, radial, filter=lambda a: False)


def test_dtype_out_and_gradients():
    so2 = G.so2_group(4)
    b = K.kernels_SO2_act_R2(so2.irrep(1), so2.irrep(2), [0.0, 1.0, 2.0], 0.6)
    x32 = _pts(5, 2, dtype=torch.float32)
    assert b.sample(x32).dtype == torch.float32
    x64 = x32.double()
    assert torch.allclose(b.sample(x32).double(), b.sample(x64), atol=1e-5)
    out = torch.empty(5, b.dim, 2, 2, dtype=torch.float64)
    assert b.sample(x64, out=out) is out and torch.allclose(out, b.sample(x64))
    x = _pts(6, 2).requires_grad_(True)
    with torch.no_grad():
        x[0] = 0.0
    k = b.sample(x)
    (k * torch.randn(k.shape, generator=torch.Generator().manual_seed(2), dtype=k.dtype)).sum().backward()
    assert torch.isfinite(x.grad).all() and (x.grad.norm(dim=1) > 0).all()
    assert torch.autograd.gradcheck(lambda p: b.sample(p), (_pts(3, 2).requires_grad_(True),))
    so3 = G.so3_group(2)
    b3 = K.kernels_SO3_act_R3(so3.irrep(1), so3.irrep(1), [0.0, 1.0], 0.6)
    x = torch.zeros(2, 3, dtype=torch.float64)
    x[1] = 0.7
    x.requires_grad_(True)
    k = b3.sample(x)
    (k * torch.randn(k.shape, generator=torch.Generator().manual_seed(2), dtype=k.dtype)).sum().backward()
    assert torch.isfinite(x.grad).all() and (x.grad.norm(dim=1) > 0).all()  # the origin has a gradient too
    assert list(b3.state_dict()) == []  # precomputed tensors are non-persistent buffers


@pytest.mark.parametrize("G_in", ["o3", "o2"])
def test_wigner_eckart_direct(G_in):
    if G_in == "o3":
        X = K.SphericalShellsBasis(3, K.GaussianRadialProfile([0.0, 1.0], 0.6))
        pairs = [((1, 1), (0, 2)), ((0, 1), (1, 1)), ((1, 2), (1, 2))]
    else:
        X = K.CircularShellsBasis(4, K.GaussianRadialProfile([0.0, 1.0], 0.6), axis=0.4)
        pairs = [((1, 1), (1, 2)), ((0, 0), (1, 3)), ((1, 0), (1, 1))]
    grp = X.group
    x = _pts(8, X.dimensionality)
    for a, c in pairs:
        psi_in, psi_out = grp.irrep(*a), grp.irrep(*c)
        b = K.WignerEckartBasis(X, psi_in, psi_out)
        k = b.sample(x)
        harm = b.sample_harmonics(X.sample_as_dict(x))
        assert torch.allclose(torch.cat([harm[j] for j in b.js], 1), k)
        for g in grp.sample(3, seed=1):
            A = torch.as_tensor(np.asarray(X.action(g)), dtype=torch.float64)
            lhs = b.sample(x @ A.T)
            rhs = torch.einsum(
                "po,nkoi,qi->nkpq", torch.as_tensor(np.asarray(psi_out(g))), k, torch.as_tensor(np.asarray(psi_in(g)))
            )
            assert (lhs - rhs).abs().max() < 1e-10


def test_restricted_wigner_eckart_direct():
    X = K.SphericalShellsBasis(4, K.GaussianRadialProfile([0.0, 1.0, 2.0], 0.6))
    o3 = X.group
    for sg_id in [(False, "octa"), ("cone", 3), (True, False, -1)]:
        H, incl, _ = o3.subgroup(sg_id)
        irr = (
            H.irreps()
            if H.order() > 0
            else [i if isinstance(i, G.IrreducibleRepresentation) else H.irrep(*i) for i in H.bl_irreps(2)]
        )
        x = _pts(6, 3)
        for a in irr[:3]:
            for c in irr[:3]:
                try:
                    b = K.RestrictedWignerEckartBasis(X, sg_id, a, c)
                except K.EmptyBasisException:
                    continue
                k = b.sample(x)
                assert all(set(at) >= {"_j", "t", "s", "k", "i", "radius", "j"} for at in b)
                for g in H.sample(2, seed=2) if H.order() < 0 else list(H.elements)[:3]:
                    A = torch.as_tensor(np.asarray(X.action(incl(g))), dtype=torch.float64)
                    rhs = torch.einsum(
                        "po,nkoi,qi->nkpq", torch.as_tensor(np.asarray(c(g))), k, torch.as_tensor(np.asarray(a(g)))
                    )
                    assert (b.sample(x @ A.T) - rhs).abs().max() < 1e-10


def test_union_and_adjoint():
    c4 = G.cyclic_group(4)
    b1 = K.kernels_CN_act_R2(c4.irrep(1), c4.irrep(1), [0.0], 0.6, maximum_frequency=2)
    b2 = K.kernels_CN_act_R2(c4.irrep(1), c4.irrep(1), [1.0, 2.0], 0.6, maximum_frequency=2)
    u = K.UnionBasis([b1, b2])
    x = _pts(5, 2)
    assert torch.allclose(u.sample(x), torch.cat([b1.sample(x), b2.sample(x)], 1))
    attrs = list(u)
    assert attrs[len(b1)]["basis_id"] == 1 and attrs[len(b1)]["basis_idx"] == 0 and u[len(b1)] == attrs[len(b1)]
    with pytest.raises(ValueError, match="shape"):
        K.UnionBasis([b1, K.kernels_CN_act_R2(c4.irrep(0), c4.irrep(1), [0.0], 0.6, maximum_frequency=2)])
    with pytest.raises(K.EmptyBasisException):
        K.UnionBasis([])
    R = np.array([[0.6, -0.8], [0.8, 0.6]])
    a = K.AdjointBasis(b2, R)
    assert torch.allclose(a.sample(x), b2.sample(x @ torch.as_tensor(R).T)) and a[3] == b2[3]
    with pytest.raises(ValueError, match="orthogonal"):
        K.AdjointBasis(b2, 2 * np.eye(2))


def test_point_basis_and_kernels_on_point():
    d3 = G.dihedral_group(3)
    p = K.PointBasis(d3)
    assert p.dim == 1 and p.js == [((0, 0), 1)] and p.sample(torch.zeros(3, 1)).eq(1).all()
    b = K.kernels_on_point(d3.regular_representation, d3.regular_representation)
    assert len(b) == 6  # 1² + 1² + 2²: the multiplicities of D3's irreps in the regular representation
    h = b.sample(torch.zeros(1, 1, dtype=torch.float64))[0]
    for g in d3.elements:
        m = torch.as_tensor(np.asarray(d3.regular_representation(g)), dtype=torch.float64)
        assert torch.allclose(h @ m, m @ h, atol=1e-12)
    assert torch.linalg.matrix_rank(h.reshape(len(b), -1)) == len(b)


def test_harmonic_polynomial_generator():
    hp = K.HarmonicPolynomialR3Generator(4)
    hp.check_equivariance()
    x = _pts(5, 3)
    y = hp(x)
    assert y.shape == (5, 25)
    for l in range(5):
        assert torch.allclose(y[:, l * l : (l + 1) ** 2].norm(dim=1), x.norm(dim=1) ** l, atol=1e-10)
    assert torch.allclose(y[0, 1:4], torch.stack([x[0, 1], x[0, 2], x[0, 0]]), atol=1e-12)  # Y_1 ∝ (y, z, x)


@pytest.mark.parametrize("N, n_points", [(2, 30), (3, 20), (5, 12)])
def test_sparse_orbit_basis(N, n_points):
    ico = G.ico_group()
    b = K.SparseOrbitBasisWithIcosahedralSymmetry(
        ico.homspace((False, N)), sigma=0.6, attributes={"radius": 1.0}, change_of_basis=np.eye(3)
    )
    assert b.points.shape == (n_points, 3) and b.dim == n_points
    assert torch.allclose(b.points.norm(dim=1), torch.ones(n_points, dtype=torch.float64))
    b.check_equivariance()
    assert all(a["radius"] == 1.0 for a in b)


def test_old_gspace_signature_still_builds_the_numpy_basis():
    gs = gspaces.rot2dOnR2(4)
    old = K.SteerableKernelBasis(gs, gs.regular_repr, gs.regular_repr, rings=[0.0, 1.0])
    assert isinstance(old, _basis.SteerableKernelBasis)
    assert old.sample(np.zeros((2, 2))).shape[1:] == (4, 4, 2)


def test_blockwise_sampling_matches_dense(monkeypatch):
    from steerable.kernels import _steerable_kernel

    d3 = G.dihedral_group(3)
    args = (d3.regular_representation, d3.irrep(1, 1) + d3.irrep(0, 0), [0.0, 1.0, 2.0], 0.6)
    dense = K.kernels_DN_act_R2(*args, maximum_frequency=4)
    monkeypatch.setattr(_steerable_kernel, "_DENSE_LIMIT", 0)
    blockwise = K.kernels_DN_act_R2(*args, maximum_frequency=4)
    assert dense._dense and not blockwise._dense
    x = _pts(9, 2)
    assert torch.allclose(dense.sample(x), blockwise.sample(x), atol=1e-12)
