"""steerable.cryoem: rotations, the simulator's physics, the Fourier-slice decoder, the
equivariance of the pose encoders, metrics, I/O and the reconstruction loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from steerable import nn as enn
from steerable.cryoem import (
    CTFParams,
    ParticleStack,
    VoxelDecoder,
    align_rotations,
    ctf,
    electron_wavelength,
    euler_to_matrix,
    evaluate_poses,
    frequency_grid,
    fsc,
    load_relion,
    make_molecule,
    matrix_to_euler,
    planar_action,
    pose_encoder,
    random_rotations,
    read_star,
    reconstruct,
    resolution,
    rotate_volume,
    rotation_from_6d,
    save_relion,
    simulate_particles,
    write_star,
)
from steerable.group.functional import geodesic_distance

F3 = torch.diag(torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64))
RZ_PI = torch.diag(torch.tensor([-1.0, -1.0, 1.0], dtype=torch.float64))


def _planar_elements(encoder):
    """The group elements of an encoder's group that are exact on the grid, with their 2x2 matrices."""
    group = encoder.in_type.gspace.fibergroup
    rho = group.irrep(1, 1) if encoder.group.startswith("D") else group.irrep(1)
    for el in group.elements:
        a = torch.tensor(rho(el), dtype=torch.float64)
        if abs(float(a[0, 0] * a[0, 1])) < 1e-9:  # multiples of 90°, and flips
            yield el, a.round()


# -- rotations


def test_random_rotations_are_haar_distributed():
    r = random_rotations(20000, torch.Generator().manual_seed(0))
    eye = torch.eye(3, dtype=r.dtype)
    assert torch.allclose(r @ r.transpose(1, 2), eye.expand_as(r), atol=1e-12)
    assert torch.allclose(torch.linalg.det(r), torch.ones(len(r), dtype=r.dtype), atol=1e-12)
    # E[R] = 0 under the Haar measure, and the angle has density (1 - cos θ)/π: median ≈ 2.31 rad
    assert r.mean(0).abs().max() < 0.03
    angle = geodesic_distance(r, eye.expand_as(r))
    assert abs(float(angle.median()) - 2.3099) < 0.03


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_rotation_from_6d_is_equivariant(seed):
    g = torch.Generator().manual_seed(seed)
    q = random_rotations(1, g)[0]
    v = torch.randn(5, 6, generator=g, dtype=torch.float64)
    turned = torch.cat([v[:, :3] @ q.T, v[:, 3:] @ q.T], 1)
    assert torch.allclose(rotation_from_6d(turned), q @ rotation_from_6d(v), atol=1e-10)


def test_alignment_recovers_global_rotation_and_chirality():
    g = torch.Generator().manual_seed(2)
    r, a = random_rotations(200, g), random_rotations(1, g)[0]
    noisy = rotation_from_6d(
        torch.cat([r[:, :, 0], r[:, :, 1]], 1) + 0.01 * torch.randn(200, 6, generator=g, dtype=r.dtype)
    )
    err, fit, flipped = align_rotations(noisy @ a.T, r)
    assert not flipped and torch.allclose(fit, a, atol=0.01) and float(err.median()) < 0.02
    err, fit, flipped = align_rotations(F3 @ r @ F3 @ a.T, r)
    assert flipped and float(err.max()) < 1e-6
    err, _, flipped = align_rotations(F3 @ r @ F3 @ a.T, r, chirality=False)
    assert not flipped and float(err.median()) > 0.5  # without the mirror the fit is poor


# -- the physics of the simulator


@pytest.mark.parametrize("group", ["D4"])
def test_image_symmetries_act_on_poses_as_planar_action(group):
    """Transforming a projection by a symmetry A of the grid gives the projection at pose
    (A ⊕ det A) R, shifted by A t: the action the equivariant encoders are built for."""
    mol = make_molecule(4, n_atoms=24, sigma=1.2)
    g = torch.Generator().manual_seed(0)
    r = random_rotations(3, g)
    t = 2 * torch.randn(3, 2, generator=g, dtype=torch.float64)
    images = mol.project(r, 32, t)
    enc = pose_encoder(group, widths=(8, 8, 8, 8), hidden=8)
    for el, a in _planar_elements(enc):
        moved = enn.GeometricTensor(images[:, None], enc.in_type).transform(el).tensor[:, 0]
        expected = mol.project(planar_action(a) @ r, 32, t @ a.T)
        assert torch.allclose(moved, expected, atol=1e-10), el


def test_projection_of_centred_molecule_is_centred():
    mol = make_molecule(1, n_atoms=30)
    img = mol.project(random_rotations(4, torch.Generator().manual_seed(1)), 48)
    axis = torch.arange(48, dtype=torch.float64) - 23.5
    mass = img.sum((1, 2))
    centroid = torch.stack([(img.sum(2) * axis).sum(1), (img.sum(1) * axis).sum(1)], 1) / mass[:, None]
    assert centroid.abs().max() < 1e-6
    assert np.allclose(mol.positions.mean(0) * 0, 0)


def test_symmetric_molecule_is_invariant_under_its_rotations():
    mol = make_molecule(3, n_atoms=40, symmetry=4)
    v = mol.volume(33)
    assert torch.allclose(torch.rot90(v, 1, (0, 1)), v, atol=1e-10)
    with pytest.raises(ValueError, match="n_atoms"):
        make_molecule(0, n_atoms=10, symmetry=4)


def test_ctf_known_values():
    assert electron_wavelength(300.0) == pytest.approx(0.019687, abs=1e-5)
    assert electron_wavelength(200.0) == pytest.approx(0.025079, abs=1e-5)
    p = CTFParams(cs=0.0, amplitude_contrast=0.0, pixel_size=1.0)
    lam, df = electron_wavelength(300.0), 20000.0
    k0 = 1 / math.sqrt(lam * df)  # first zero of -sin(π λ Δf k²)
    f = torch.tensor([[k0, 0.0], [0.5 * k0, 0.0]], dtype=torch.float64)
    c = ctf(f, torch.tensor([df]), p)[0]
    assert abs(float(c[0])) < 1e-9 and float(c[1]) == pytest.approx(-math.sin(math.pi / 4), abs=1e-9)
    assert torch.allclose(
        ctf(frequency_grid(6, centred=False)[:1, :1], torch.tensor([1e4]), CTFParams()),
        torch.tensor([[[-0.1]]], dtype=torch.float64),
    )


def test_simulation_noise_level_and_reproducibility():
    mol = make_molecule(0, n_atoms=16)
    a = simulate_particles(mol, 200, size=32, snr=0.5, seed=3)
    b = simulate_particles(mol, 200, size=32, snr=0.5, seed=3)
    assert torch.equal(a.images, b.images) and torch.equal(a.rotations, b.rotations)
    clean = simulate_particles(mol, 200, size=32, snr=float("inf"), seed=3)
    noise = (a.images - clean.images).double()
    assert float(clean.images.double().var(dim=(1, 2)).mean() / noise.var()) == pytest.approx(0.5, rel=0.05)
    assert float(a.shifts.std()) == pytest.approx(3.0, rel=0.15)
    lo, hi = float(a.defocus.min()), float(a.defocus.max())
    assert 10000 <= lo and hi <= 25000
    with pytest.raises(ValueError, match="snr"):
        simulate_particles(mol, 4, snr=0)
    with pytest.raises(TypeError, match="molecule"):
        simulate_particles("mol", 4)  # type: ignore[arg-type]


# -- decoder


@pytest.mark.parametrize("oversample, tol", [(1, 0.08), (2, 0.025)])
def test_decoder_matches_exact_projections(oversample, tol):
    mol = make_molecule(0, n_atoms=40)
    stack = simulate_particles(mol, 6, size=64, snr=float("inf"), seed=1)
    dec = VoxelDecoder(64, stack.ctf_params, oversample=oversample).double()
    with torch.no_grad():
        dec.volume.copy_(mol.volume(64))
        pred = dec(stack.rotations, stack.shifts, stack.defocus)
    assert float((pred - stack.images.double()).norm() / stack.images.double().norm()) < tol
    # at the identity pose the slice needs no interpolation: what is left is the spectrum outside
    # the sphere |k| < N/2, which the decoder drops (~1e-5 of the norm for atoms of 1.5 px)
    dec.apply_ctf = False
    eye = torch.eye(3, dtype=torch.float64)[None]
    shift = torch.tensor([[1.3, -2.0]], dtype=torch.float64)
    exact = mol.project(eye, 64, shift)
    with torch.no_grad():
        pred = dec(eye, shift, torch.ones(1, dtype=torch.float64))
    assert float((pred - exact).norm() / exact.norm()) < 3e-5


def test_decoder_bad_input():
    with pytest.raises(ValueError, match="oversample"):
        VoxelDecoder(16, oversample=0)
    dec = VoxelDecoder(16)
    with pytest.raises(ValueError, match="shifts"):
        dec(torch.eye(3)[None], torch.zeros(2, 2), torch.ones(1))


# -- encoders


@pytest.mark.parametrize("group", ["C4", "D4", "C8", "D8"])
@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-9), (torch.float32, 1e-4)])
def test_encoder_is_equivariant(group, dtype, tol):
    """Rotations and flips of the image grid turn the predicted pose by (A ⊕ det A) and the shift
    by A (float32: Gram–Schmidt of the small outputs of an untrained net amplifies rounding)."""
    torch.manual_seed(0)
    enc = pose_encoder(group, widths=(16, 16, 16, 16), hidden=16).to(dtype)
    x = torch.randn(3, 64, 64, dtype=dtype)
    with torch.no_grad():
        r, t = enc(x)
        for el, a in _planar_elements(enc):
            r2, t2 = enc(enn.GeometricTensor(x[:, None], enc.in_type).transform(el).tensor[:, 0])
            g = planar_action(a).to(dtype)
            assert torch.allclose(r2, g @ r, atol=tol), el
            assert torch.allclose(t2, t @ a.to(dtype).T, atol=tol * (1 + float(t.abs().max()))), el


def test_plain_encoder_and_bad_input():
    enc = pose_encoder("trivial", widths=(8, 8, 8, 8), hidden=8)
    r, t = enc(torch.randn(2, 64, 64))
    assert torch.allclose(torch.linalg.det(r), torch.ones(2), atol=1e-5) and t.shape == (2, 2)
    with pytest.raises(ValueError, match="group"):
        pose_encoder("SO3")
    with pytest.raises(ValueError, match="size"):
        pose_encoder("D4", size=48)
    with pytest.raises(ValueError, match="images"):
        enc(torch.randn(2, 32, 32))


# -- metrics


def test_fsc_and_resolution():
    g = torch.Generator().manual_seed(0)
    v = make_molecule(2, n_atoms=30).volume(32)
    f, c = fsc(v, v + 1e-3 * torch.randn(v.shape, generator=g, dtype=v.dtype))
    assert float(c[:8].min()) > 0.99
    f, c = fsc(torch.randn(32, 32, 32, generator=g), torch.randn(32, 32, 32, generator=g))
    assert float(c[4:].abs().max()) < 0.2
    assert resolution(torch.tensor([0.0, 0.25, 0.5]), torch.tensor([1.0, 0.9, 0.8]), pixel_size=2.0) == 4.0
    with pytest.raises(ValueError, match="threshold"):
        resolution(f, c, 1.5)


def test_rotate_volume_grid_symmetries_are_exact():
    v = torch.randn(9, 9, 9, dtype=torch.float64)
    rz = torch.tensor([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]], dtype=torch.float64)
    assert torch.allclose(rotate_volume(v, torch.eye(3, dtype=torch.float64)), v, atol=1e-12)
    # V(Rz y): y = (i, j) ↦ Rz y = (-j, i)
    expected = torch.rot90(v, -1, (0, 1))
    assert torch.allclose(rotate_volume(v, rz), expected, atol=1e-12)


# -- I/O


def test_euler_angles_match_relion_convention():
    rot, tilt, psi = torch.tensor([30.0]), torch.tensor([50.0]), torch.tensor([-70.0])

    def passive_z(d):
        c, s = math.cos(math.radians(d)), math.sin(math.radians(d))
        return torch.tensor([[c, s, 0], [-s, c, 0], [0, 0, 1]], dtype=torch.float64)

    def passive_y(d):
        c, s = math.cos(math.radians(d)), math.sin(math.radians(d))
        return torch.tensor([[c, 0, -s], [0, 1, 0], [s, 0, c]], dtype=torch.float64)

    expected = passive_z(-70.0) @ passive_y(50.0) @ passive_z(30.0)
    assert torch.allclose(euler_to_matrix(rot, tilt, psi)[0], expected, atol=1e-12)
    r = random_rotations(100, torch.Generator().manual_seed(0))
    assert torch.allclose(euler_to_matrix(*matrix_to_euler(r)), r, atol=1e-9)


def test_star_round_trip(tmp_path):
    rows = [
        {"rlnImageName": "000001@x.mrcs", "rlnAngleTilt": 12.25},
        {"rlnImageName": "000002@x.mrcs", "rlnAngleTilt": -3.5},
    ]
    write_star(tmp_path / "a.star", {"particles": rows})
    back = read_star(tmp_path / "a.star")["particles"]
    assert [r["rlnImageName"] for r in back] == ["000001@x.mrcs", "000002@x.mrcs"]
    assert [float(r["rlnAngleTilt"]) for r in back] == [12.25, -3.5]
    (tmp_path / "bad.star").write_text("data_particles\nloop_\n_rlnA #1\n_rlnB #2\n1 2 3\n")
    with pytest.raises(ValueError, match="3 values for 2 labels"):
        read_star(tmp_path / "bad.star")


def test_relion_round_trip(tmp_path):
    pytest.importorskip("mrcfile")
    s = simulate_particles(make_molecule(0, n_atoms=8), 5, size=16, seed=4)
    back = load_relion(save_relion(s, tmp_path))
    assert torch.equal(back.images, s.images)
    assert torch.allclose(back.rotations, s.rotations, atol=1e-6)
    assert torch.allclose(back.shifts, s.shifts, atol=1e-6)
    assert torch.allclose(back.defocus, s.defocus, atol=1e-3)
    assert back.ctf_params == s.ctf_params
    assert (tmp_path / "particles.star").read_text().count("data_optics") == 1


# -- reconstruction


class _Oracle(torch.nn.Module):
    """An 'encoder' that returns the known poses of the stack's images (found by correlation)."""

    def __init__(self, stack: ParticleStack, turn: bool = False):
        super().__init__()
        flat = stack.images.flatten(1)
        self.images = flat / flat.norm(dim=1, keepdim=True)
        self.r, self.t = stack.rotations.float(), stack.shifts.float()
        self.turn = turn
        self.dummy = torch.nn.Parameter(torch.zeros(()))

    def forward(self, images):
        idx = (images.flatten(1) @ self.images.T).argmax(1)
        r, t = self.r[idx], self.t[idx]
        if self.turn:  # turn the poses of the even particles by π about the viewing axis
            even = (idx % 2 == 0)[:, None]
            r, t = torch.where(even[..., None], RZ_PI.float() @ r, r), torch.where(even, -t, t)
        return r + 0 * self.dummy, t


def test_decoder_learns_the_volume_from_known_poses():
    mol = make_molecule(0, n_atoms=30)
    stack = simulate_particles(mol, 256, size=32, snr=float("inf"), seed=0)
    oracle = _Oracle(stack)
    rec = reconstruct(
        stack, oracle, steps=120, batch_size=16, volume_lr=0.05, eval_every=60, true_volume=mol.volume(32), eval_size=64
    )
    assert rec.history[-1]["loss"] < 0.5 * rec.history[0]["loss"]
    assert rec.final.rotation_median < 1e-3 and rec.converged_step == 60
    assert rec.resolution_05 is not None and rec.resolution_05 < 10.0  # Å, pixel 2 Å: Nyquist 4 Å
    assert float(rec.fsc_curve[1:5].min()) > 0.8


def test_symmetric_assignment_turns_poses_by_pi():
    """cryoAI's symmetric loss lets a particle's pose be off by π in plane; the evaluation then
    assigns it the turned pose when the π-rotated image explains it better."""
    mol = make_molecule(0, n_atoms=30)
    stack = simulate_particles(mol, 32, size=64, snr=float("inf"), seed=0)
    dec = VoxelDecoder(64, stack.ctf_params)
    with torch.no_grad():
        dec.volume.copy_(mol.volume(64))
    turned = _Oracle(stack, turn=True)
    plain = evaluate_poses(turned, stack, dec, symmetric=False)
    sym = evaluate_poses(turned, stack, dec, symmetric=True)
    # half the poses turned by π: no global alignment (nor the mirror) fits them all
    assert plain.rotation_mean > 45 and plain.rotated_fraction == 0.0
    assert sym.rotation_median < 1e-3 and sym.rotated_fraction == 0.5 and sym.shift_median < 1e-4


def test_reconstruct_bad_input():
    stack = simulate_particles(make_molecule(0, n_atoms=8), 8, size=64, seed=0)
    enc = pose_encoder("D4", widths=(8, 8, 8, 8), hidden=8)
    with pytest.raises(ValueError, match="steps"):
        reconstruct(stack, enc, steps=0)
    with pytest.raises(TypeError, match="stack"):
        reconstruct(stack.images, enc)  # type: ignore[arg-type]
    unknown = ParticleStack(stack.images, stack.defocus)
    with pytest.raises(ValueError, match="true rotations"):
        evaluate_poses(enc, unknown)
