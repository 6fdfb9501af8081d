"""Amortised cryo-EM pose inference with a D4-equivariant encoder: simulate particles, check that
rotating or flipping an image turns the predicted pose exactly, and train encoder and volume.

    python examples/cryoem_poses.py                   # 2000 particles, 300 steps (~1 min on one core)
    python examples/cryoem_poses.py --particles 200 --steps 10
"""

import argparse

import torch

from steerable import nn
from steerable.cryoem import make_molecule, planar_action, pose_encoder, reconstruct, simulate_particles

p = argparse.ArgumentParser()
p.add_argument("--particles", type=int, default=2000)
p.add_argument("--steps", type=int, default=300)
p.add_argument("--snr", type=float, default=1.0)
p.add_argument("--encoder", default="D4", help="trivial (plain CNN), C4, C8, D4 or D8")
p.add_argument("--symmetric-loss", action="store_true")
args = p.parse_args()

torch.manual_seed(0)
molecule = make_molecule(seed=0, n_atoms=64)
stack = simulate_particles(molecule, args.particles, size=64, snr=args.snr, seed=0)
print(f"{len(stack)} particles of 64x64 px at SNR {args.snr}, noise std {stack.noise_std:.3f}")

encoder = pose_encoder(args.encoder)
if args.encoder != "trivial":
    # the grid's rotations and flips A act on poses as R -> (A ⊕ det A) R, on shifts as t -> A t
    images = stack.images[:4]
    with torch.no_grad():
        rotations, shifts = encoder(images)
    group = encoder.in_type.fibergroup
    rho = group.irrep(1, 1) if args.encoder.startswith("D") else group.irrep(1)
    worst = 0.0
    for g in group.elements:
        a = torch.tensor(rho(g), dtype=torch.float32)
        if abs(float(a[0, 0] * a[0, 1])) > 1e-6:
            continue  # 45° rotations are not symmetries of the pixel grid
        moved = nn.GeometricTensor(images[:, None], encoder.in_type).transform(g).tensor[:, 0]
        with torch.no_grad():
            r2, t2 = encoder(moved)
        worst = max(
            worst, float((r2 - planar_action(a) @ rotations).abs().max()), float((t2 - shifts @ a.T).abs().max())
        )
    print(f"equivariance error of the pose encoder over the grid's symmetries: {worst:.1e}")


def show(row):
    print(
        f"step {row['step']:5d}  loss {row['loss']:.4f}  rotation error {row['rotation_median']:6.1f}° (median)  "
        f"shift error {row['shift_median']:.2f} px"
    )


rec = reconstruct(
    stack,
    encoder,
    steps=args.steps,
    symmetric_loss=args.symmetric_loss,
    eval_every=max(1, args.steps // 10),
    true_volume=molecule.volume(64),
    callback=show,
)
print(
    f"converged at step {rec.converged_step}; resolution {rec.resolution_05:.1f} Å (FSC 0.5), "
    f"{rec.resolution_0143:.1f} Å (FSC 0.143); mirror image: {rec.final.flipped}"
)
