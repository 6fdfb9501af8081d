"""Torch harmonics and the torch kernel-basis sampler against the numpy references: real
spherical harmonics (every normalisation, solid harmonics), circular/spherical harmonics with the
origin rule, ``sample_pair_basis_torch`` = ``IrrepsPairBasis.sample`` (float64, 1e-12) on many
gspaces, gradients, dtypes and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from steerable import gspaces
from steerable.group import directsum, so3_group
from steerable.group._so3_math import real_spherical_harmonics
from steerable.kernels import IrrepsPairBasis, harmonics, make_cutoff
from steerable.kernels._torch_harmonics import (
    harmonic_dims,
    harmonics_torch,
    pair_basis_coefficients,
    radial_harmonic_features,
    sample_pair_basis_torch,
    spherical_harmonics_torch,
)
from steerable.testing import assert_equivariant, kernel_action

DT = torch.float64


def _points(d: int, n: int = 60, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = rng.normal(size=(n, d)) * 1.3
    p[0] = 0.0  # origin
    p[1] = 0.0
    p[1, -1] = 2.0  # on an axis (the pole in 3D)
    p[2] = 0.0
    p[2, -1] = -0.5
    p[3] = 1e-10  # below the origin threshold of the kernel harmonics
    p[4] = 0.0
    p[4, 0] = 3e-9  # just above it
    return p


# ---------------------------------------------------------------------------------------------
# spherical harmonics
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("L", [0, 1, 2, 5, 9])
def test_sh_matches_numpy(L):
    x = _points(3)
    got = spherical_harmonics_torch(L, torch.tensor(x)).numpy()
    ref = real_spherical_harmonics(L, x)
    assert got.shape == ref.shape == (len(x), (L + 1) ** 2)
    np.testing.assert_allclose(got, ref, atol=1e-12, rtol=0)


def test_sh_batch_shapes_and_numpy_input():
    x = np.random.default_rng(1).normal(size=(2, 3, 4, 3))
    got = spherical_harmonics_torch(3, x)
    assert got.dtype == torch.float64 and got.shape == (2, 3, 4, 16)
    np.testing.assert_allclose(got.numpy(), real_spherical_harmonics(3, x), atol=1e-12)


@pytest.mark.parametrize("normalization,expected", [("integral", None), ("component", "2l+1"), ("norm", "1")])
def test_sh_normalisations(normalization, expected):
    L = 4
    x = torch.tensor(_points(3)[5:])
    y = spherical_harmonics_torch(L, x, normalization=normalization)
    ref = torch.tensor(real_spherical_harmonics(L, x.numpy()))
    for l in range(L + 1):
        blk = y[:, l * l : (l + 1) ** 2]
        sq = (blk**2).sum(1)
        if expected == "2l+1":
            torch.testing.assert_close(sq, torch.full_like(sq, 2 * l + 1.0), atol=1e-12, rtol=0)
        elif expected == "1":
            torch.testing.assert_close(sq, torch.ones_like(sq), atol=1e-12, rtol=0)
        else:
            torch.testing.assert_close(sq, torch.full_like(sq, (2 * l + 1) / (4 * math.pi)), atol=1e-12, rtol=0)
        # every normalisation is a per-degree multiple of the reference
        r = ref[:, l * l : (l + 1) ** 2]
        k = (blk * r).sum() / (r * r).sum()
        torch.testing.assert_close(blk, k * r, atol=1e-12, rtol=0)


def test_sh_origin_rule_and_unit_invariance():
    x = torch.tensor(_points(3))
    y = spherical_harmonics_torch(3, x)
    assert torch.all(y[0, 1:] == 0) and y[0, 0] == pytest.approx(1 / math.sqrt(4 * math.pi))
    # scale invariance (evaluated on x / |x|)
    torch.testing.assert_close(spherical_harmonics_torch(3, 7.5 * x[5:]), y[5:], atol=1e-12, rtol=0)


def test_solid_harmonics_are_homogeneous_polynomials():
    L = 5
    x = torch.tensor(_points(3)[5:])
    s = spherical_harmonics_torch(L, x, normalization="norm", normalize=False)
    u = spherical_harmonics_torch(L, x, normalization="norm")
    r = x.norm(dim=1, keepdim=True)
    for l in range(L + 1):
        sl = slice(l * l, (l + 1) ** 2)
        torch.testing.assert_close(s[:, sl], u[:, sl] * r**l, atol=1e-11, rtol=1e-12)
        for lam in (-2.0, 0.5):  # P_l(λx) = λ^l P_l(x), parity included
            torch.testing.assert_close(
                spherical_harmonics_torch(L, lam * x, normalization="norm", normalize=False)[:, sl],
                lam**l * s[:, sl],
                atol=1e-10,
                rtol=1e-12,
            )
    z = spherical_harmonics_torch(L, torch.zeros(1, 3, dtype=DT), normalization="norm", normalize=False)
    assert torch.all(z[0, 1:] == 0)


def test_sh_equivariance_with_so3_irreps():
    G = so3_group(4)
    x = torch.tensor(_points(3)[5:])
    # Y(R x) = D(R) Y(x), degree by degree: the harmonics up to degree 4 form ⊕_l D_l
    out = directsum([G.irrep(l) for l in range(5)])
    assert_equivariant(
        lambda p: spherical_harmonics_torch(4, p),
        inputs=x,
        in_type=G.standard_representation,
        out_type=out,
        elements=G.sample(3, seed=0),
        atol=1e-12,
        rtol=0,
    )


def test_sh_float32_and_gradients():
    x64 = torch.tensor(_points(3, 20)[5:])
    y32 = spherical_harmonics_torch(4, x64.float())
    assert y32.dtype == torch.float32
    torch.testing.assert_close(y32.double(), spherical_harmonics_torch(4, x64), atol=1e-5, rtol=0)
    xg = x64[:6].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: spherical_harmonics_torch(3, t), (xg,))
    assert torch.autograd.gradcheck(lambda t: spherical_harmonics_torch(3, t, "norm", normalize=False), (xg,))
    # finite gradients at the origin
    z = torch.zeros(2, 3, dtype=DT, requires_grad=True)
    spherical_harmonics_torch(3, z).sum().backward()
    assert torch.isfinite(z.grad).all()


# ---------------------------------------------------------------------------------------------
# kernel harmonics
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("J", [0, 1, 4, 7])
def test_harmonics_match_numpy(d, J):
    x = _points(d)
    got = harmonics_torch(d, J, torch.tensor(x))
    ref = harmonics(d, J, x)
    assert len(got) == len(ref) == J + 1
    assert [g.shape[1] for g in got] == harmonic_dims(d, J)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a.numpy(), b, atol=1e-12, rtol=0)
    # the origin rule: only Y_0 at |x| < 1e-9, all of them just above
    for y in got[1:]:
        assert torch.all(y[0] == 0) and torch.all(y[3] == 0) and torch.any(y[4] != 0)


@pytest.mark.parametrize("d", [2, 3])
def test_harmonics_gradients_and_dtype(d):
    x = torch.tensor(_points(d, 12)[5:], requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: torch.cat(harmonics_torch(d, 3, t), 1), (x,))
    z = torch.zeros(1, d, dtype=DT, requires_grad=True)
    torch.cat(harmonics_torch(d, 3, z), 1).sum().backward()
    assert torch.isfinite(z.grad).all()
    y32 = harmonics_torch(d, 3, x.detach().float())
    assert all(y.dtype == torch.float32 for y in y32)


def test_radial_harmonic_features_layout():
    x = torch.tensor(_points(3, 10))
    rings, sig, J = [0.0, 1.0, 2.0], [0.005, 0.6, 0.4], 2
    phi = radial_harmonic_features(3, rings, sig, J, x)
    M = (J + 1) ** 2
    assert phi.shape == (10, len(rings) * M)
    y = torch.cat(harmonics_torch(3, J, x), 1)
    r = x.norm(dim=1)
    for k, (rr, s) in enumerate(zip(rings, sig)):
        prof = torch.exp(-((r - rr) ** 2) / (2 * s * s))
        torch.testing.assert_close(phi[:, k * M : (k + 1) * M], prof[:, None] * y, atol=1e-14, rtol=0)


# ---------------------------------------------------------------------------------------------
# the basis sampler
# ---------------------------------------------------------------------------------------------
SPACES = {
    "C4": lambda: gspaces.rot2dOnR2(4),
    "C8": lambda: gspaces.rot2dOnR2(8),
    "SO2": lambda: gspaces.rot2dOnR2(-1, maximum_frequency=3),
    "D4": lambda: gspaces.flipRot2dOnR2(4),
    "O2": lambda: gspaces.flipRot2dOnR2(-1, maximum_frequency=3),
    "flip2d": lambda: gspaces.flip2dOnR2(),
    "SO3": lambda: gspaces.rot3dOnR3(maximum_frequency=2),
    "O3": lambda: gspaces.flipRot3dOnR3(maximum_frequency=2),
    "ico": lambda: gspaces.icoOnR3(),
    "octa": lambda: gspaces.octaOnR3(),
    "fullocta": lambda: gspaces.fullOctaOnR3(),
    "C4_on_R3": lambda: gspaces.rot2dOnR3(4),
    "conical": lambda: gspaces.conicalOnR3(-1, maximum_frequency=2),
}


def _irreps(G, L=2):
    return G.irreps() if G.order() > 0 else G.bl_irreps(L)


@pytest.mark.parametrize("name", list(SPACES))
def test_sample_pair_basis_matches_numpy(name):
    gs = SPACES[name]()
    irr = _irreps(gs.fibergroup)
    pts = _points(gs.dimensionality, 40)
    rings, sig = [0.0, 1.0, 2.0], [0.005, 0.6, 0.4]
    checked = 0
    for a in irr:
        for b in irr[::-1][:4]:
            pb = IrrepsPairBasis(gs, a.id, b.id, rings, sig, make_cutoff(2.0))
            got = sample_pair_basis_torch(pb, torch.tensor(pts))
            ref = pb.sample(pts)
            assert got.shape == ref.shape and got.dtype == torch.float64
            np.testing.assert_allclose(got.numpy(), ref, atol=1e-12, rtol=0)
            checked += len(pb)
    assert checked > 0


def test_sample_pair_basis_filter_offset_empty_and_J():
    gs = gspaces.rot2dOnR2(8)
    pts = _points(2, 25)
    pb = IrrepsPairBasis(
        gs,
        (1,),
        (2,),
        [0.0, 1.0, 2.0],
        [0.3, 0.6, 0.6],
        make_cutoff(3.0),
        maximum_offset=1,
        basis_filter=lambda a: a["frequency"] != 3,
    )
    np.testing.assert_allclose(sample_pair_basis_torch(pb, pts).numpy(), pb.sample(pts), atol=1e-12)
    # a larger J than needed changes nothing; a smaller one is refused
    a6 = pair_basis_coefficients(pb, 6)
    phi = radial_harmonic_features(2, pb.rings, pb.sigmas, 6, torch.tensor(pts))
    got = (torch.tensor(a6).reshape(-1, a6.shape[-1]) @ phi.T).reshape(len(pb), 1 * 2, 2, -1)
    np.testing.assert_allclose(got.reshape(pb.sample(pts).shape).numpy(), pb.sample(pts), atol=1e-12)
    with pytest.raises(ValueError, match="J"):
        pair_basis_coefficients(pb, 0)
    empty = IrrepsPairBasis(gs, (0,), (1,), [0.0], [0.6], make_cutoff(3.0))
    assert len(empty) == 0
    assert sample_pair_basis_torch(empty, pts).shape == (0, 2, 1, len(pts))


def test_sample_pair_basis_float32_grad_and_equivariance():
    gs = gspaces.rot3dOnR3(maximum_frequency=2)
    G = gs.fibergroup
    pb = IrrepsPairBasis(gs, (1,), (2,), [0.0, 1.0], [0.6, 0.6], make_cutoff(3.0))
    pts = torch.tensor(_points(3, 15)[5:])
    s32 = sample_pair_basis_torch(pb, pts.float())
    assert s32.dtype == torch.float32
    torch.testing.assert_close(s32.double(), torch.tensor(pb.sample(pts.numpy())), atol=1e-5, rtol=0)
    p = pts[:2].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: sample_pair_basis_torch(pb, t), (p,), fast_mode=True)
    # K(g x) = ψ_out(g) K(x) ψ_in(g)^T
    assert_equivariant(
        lambda p: sample_pair_basis_torch(pb, p),
        inputs=pts,
        in_type=gs,
        out_action=kernel_action(G.irrep(1), G.irrep(2), in_axis=2, out_axis=1),
        elements=[G.sample(seed=3)],
        atol=1e-12,
        rtol=0,
    )


def test_bad_input():
    x = torch.randn(5, 3)
    with pytest.raises(ValueError, match="L"):
        spherical_harmonics_torch(-1, x)
    with pytest.raises(ValueError, match="L"):
        spherical_harmonics_torch(1.5, x)
    with pytest.raises(ValueError, match="normalization"):
        spherical_harmonics_torch(2, x, normalization="schmidt")
    with pytest.raises(ValueError, match="xyz"):
        spherical_harmonics_torch(2, torch.randn(5, 2))
    with pytest.raises(TypeError, match="xyz"):
        spherical_harmonics_torch(2, [[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="d"):
        harmonics_torch(4, 2, torch.randn(3, 4))
    with pytest.raises(ValueError, match="points"):
        harmonics_torch(2, 2, torch.randn(3, 3))
    with pytest.raises(ValueError, match="points"):
        harmonics_torch(2, 2, torch.randn(2, 3, 2))
    with pytest.raises(ValueError, match="sigmas"):
        radial_harmonic_features(2, [0.0, 1.0], [0.6], 1, torch.randn(3, 2))
    pb = IrrepsPairBasis(gspaces.rot2dOnR2(4), (0,), (0,), [0.0, 1.0], [0.6, 0.6], make_cutoff(2.0))
    with pytest.raises(ValueError, match="points"):
        sample_pair_basis_torch(pb, torch.randn(3, 3))
    # integer points are promoted to the default dtype
    assert harmonics_torch(2, 1, torch.tensor([[1, 0]]))[1].dtype == torch.get_default_dtype()
