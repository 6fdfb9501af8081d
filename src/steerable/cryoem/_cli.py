"""``python -m steerable.cryoem``: simulate a particle data set, or reconstruct a volume and
the poses from one (simulated, or a real RELION 3.1 STAR file with its MRC stacks).

    python -m steerable.cryoem simulate --out data/sim --particles 20000 --snr 0.1
    python -m steerable.cryoem reconstruct data/sim/particles.star --encoder D4 --out runs/d4
    python -m steerable.cryoem reconstruct data/sim/particles.star --encoder trivial --symmetric-loss

``reconstruct`` writes ``reconstruction.mrc``, ``poses.star`` (the predicted poses), ``log.json``
(history and metrics) and, when the true map is known (``--truth``, or the ``truth.mrc`` that
``simulate`` writes beside the STAR file), ``fsc.png`` and ``slices.png``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch

from ._encoders import _GROUPS, pose_encoder
from ._io import load_relion, read_mrc, save_relion, write_mrc
from ._molecules import make_molecule
from ._reconstruct import reconstruct
from ._simulate import ParticleStack, simulate_particles

__all__ = ["main"]


def _positive(kind):
    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if not v > 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
        return v

    return parse


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m steerable.cryoem",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("simulate", help="write a simulated data set: particles.star/.mrcs and truth.mrc")
    s.add_argument("--out", required=True, help="output folder")
    s.add_argument("--particles", type=_positive(int), default=20000, help="number of particles (default 20000)")
    s.add_argument("--size", type=_positive(int), default=64, help="image side in pixels (default 64)")
    s.add_argument("--snr", type=_positive(float), default=0.1, help="signal-to-noise ratio (default 0.1)")
    s.add_argument("--molecule", type=int, default=0, help="seed of the synthetic molecule (default 0)")
    s.add_argument("--atoms", type=_positive(int), default=64, help="atoms of the molecule (default 64)")
    s.add_argument("--symmetry", type=_positive(int), default=1, help="cyclic symmetry C_k of the molecule")
    s.add_argument("--shift-std", type=float, default=3.0, help="std of the particle shifts, pixels (default 3)")
    s.add_argument("--seed", type=int, default=0, help="seed of poses, shifts, defocus and noise")
    r = sub.add_parser("reconstruct", help="train an encoder and a volume on a STAR data set")
    r.add_argument("star", help="particles STAR file (RELION 3.1) whose images are in MRC stacks beside it")
    r.add_argument("--out", required=True, help="output folder")
    r.add_argument("--encoder", choices=_GROUPS, default="D4", help="group of the pose encoder (trivial: plain CNN)")
    r.add_argument(
        "--symmetric-loss", action="store_true", help="cryoAI's symmetric loss (min over the π-rotated image)"
    )
    r.add_argument("--steps", type=_positive(int), default=3000, help="training steps (default 3000)")
    r.add_argument("--batch-size", type=_positive(int), default=32, help="particles per step (default 32)")
    r.add_argument("--lr", type=_positive(float), default=1e-3, help="encoder learning rate (default 1e-3)")
    r.add_argument("--volume-lr", type=_positive(float), default=1e-2, help="volume learning rate (default 1e-2)")
    r.add_argument("--eval-every", type=_positive(int), default=250, help="steps between pose evaluations")
    r.add_argument("--truth", help="the true map (MRC) for the FSC; default: truth.mrc beside the STAR file")
    r.add_argument("--seed", type=int, default=0, help="seed of the initialisation and the batches")
    r.add_argument("--threads", type=_positive(int), default=None, help="torch CPU threads")
    return p


def _simulate(args) -> int:
    mol = make_molecule(args.molecule, args.atoms, symmetry=args.symmetry)
    stack = simulate_particles(
        mol, args.particles, size=args.size, snr=args.snr, shift_std=args.shift_std, seed=args.seed
    )
    out = Path(args.out)
    star = save_relion(stack, out)
    write_mrc(out / "truth.mrc", mol.volume(args.size), pixel_size=stack.ctf_params.pixel_size)
    print(
        f"wrote {len(stack)} particles of {mol.name} ({args.size}x{args.size}, SNR {args.snr}) to {star} "
        f"and the true map to {out / 'truth.mrc'}"
    )
    return 0


def _reconstruct(args) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    star = Path(args.star)
    if not star.is_file():
        raise SystemExit(f"star: no such file: {star}")
    stack: ParticleStack = load_relion(star)
    truth_path = Path(args.truth) if args.truth else star.parent / "truth.mrc"
    truth = read_mrc(truth_path, volume=True)[0].double() if truth_path.is_file() else None
    torch.manual_seed(args.seed)
    enc = pose_encoder(args.encoder, size=stack.size)

    def show(row):
        bits = [f"step {row['step']}", f"loss {row['loss']:.4f}"]
        if "rotation_median" in row:
            bits += [
                f"rotation error {row['rotation_median']:.1f}° (median)",
                f"shift error {row['shift_median']:.2f} px",
            ]
        print(", ".join(bits), flush=True)

    rec = reconstruct(
        stack,
        enc,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        volume_lr=args.volume_lr,
        symmetric_loss=args.symmetric_loss,
        eval_every=args.eval_every,
        true_volume=truth,
        seed=args.seed,
        callback=show,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    vol = rec.aligned_volume if rec.aligned_volume is not None else rec.decoder.volume.detach()
    write_mrc(out / "reconstruction.mrc", vol, pixel_size=stack.ctf_params.pixel_size)
    with torch.no_grad():
        rots, shifts = [], []
        enc.eval()
        scale = float(stack.images.std())
        for s in range(0, len(stack), 256):
            r, t = enc(stack.images[s : s + 256] / scale)
            rots.append(r.double())
            shifts.append(t.double())
    predicted = ParticleStack(stack.images, stack.defocus, stack.ctf_params, torch.cat(rots), torch.cat(shifts))
    save_relion(predicted, out, name="poses")
    report = {
        "encoder": args.encoder,
        "symmetric_loss": args.symmetric_loss,
        "steps": args.steps,
        "converged_step": rec.converged_step,
        "history": rec.history,
    }
    if stack.rotations is not None:
        report.update(
            rotation_median=rec.final.rotation_median,
            rotation_mean=rec.final.rotation_mean,
            shift_median=rec.final.shift_median,
            mirrored=rec.final.flipped,
        )
    if rec.fsc_curve is not None:
        report.update(
            resolution_fsc_0_5=rec.resolution_05,
            resolution_fsc_0_143=rec.resolution_0143,
            fsc=[float(c) for c in rec.fsc_curve],
        )
        _plots(out, rec, truth, stack.ctf_params.pixel_size)
    (out / "log.json").write_text(json.dumps(report, indent=1, default=float), encoding="utf-8")
    res = (
        ""
        if rec.resolution_05 is None
        else (f", resolution {rec.resolution_05:.1f} Å (FSC 0.5), {rec.resolution_0143:.1f} Å (FSC 0.143)")
    )
    err = "" if math.isnan(rec.final.rotation_median) else f": rotation error {rec.final.rotation_median:.1f}° (median)"
    print(f"wrote {out / 'reconstruction.mrc'}, {out / 'poses.star'}, {out / 'log.json'}{err}{res}")
    return 0


def _plots(out: Path, rec, truth, pixel_size: float) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # matplotlib is optional
        return
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    f = rec.fsc_frequencies / pixel_size
    ax.plot(f, rec.fsc_curve, label="reconstruction vs truth")
    for th in (0.5, 0.143):
        ax.axhline(th, ls=":", c="grey")
    ax.set(xlabel="spatial frequency (1/Å)", ylabel="FSC", ylim=(-0.1, 1.05))
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "fsc.png", dpi=120)
    plt.close(fig)
    n = truth.shape[0] // 2
    fig, axes = plt.subplots(2, 3, figsize=(7.5, 5))
    for row, (name, v) in enumerate((("truth", truth), ("reconstruction", rec.aligned_volume))):
        for col, sl in enumerate((v[n], v[:, n], v[:, :, n])):
            axes[row, col].imshow(sl.T.numpy(), cmap="gray", origin="lower")
            axes[row, col].set_axis_off()
            axes[row, col].set_title(f"{name}, slice {'xyz'[col]} = 0", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "slices.png", dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Run the command line (``python -m steerable.cryoem --help``)."""
    args = _parser().parse_args(argv)
    return _simulate(args) if args.command == "simulate" else _reconstruct(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
