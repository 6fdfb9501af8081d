"""Amortised reconstruction (cryoAI): an encoder predicts each particle's pose from its image, a
:class:`VoxelDecoder` renders the image at that pose, and both are trained end to end on the
reconstruction error, optionally with cryoAI's symmetric loss."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from ._decoder import VoxelDecoder, image_spectrum
from ._metrics import fsc, resolution, rotate_volume
from ._rotations import _CHIRAL, align_rotations
from ._simulate import ParticleStack

__all__ = ["PoseEvaluation", "Reconstruction", "aligned_reconstruction", "evaluate_poses", "reconstruct"]

_RZ_PI = torch.diag(torch.tensor([-1.0, -1.0, 1.0], dtype=torch.float64))


def _rot180(images: torch.Tensor) -> torch.Tensor:
    return torch.flip(images, (-2, -1))  # exact π rotation about the image centre


def _spectral_error(pred: torch.Tensor, images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per particle, the masked squared error between predicted spectra and those of ``images``."""
    return ((pred - image_spectrum(images)).abs().pow(2) * mask).sum((-2, -1))


def _mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).pow(2).mean((-2, -1))


@dataclass
class PoseEvaluation:
    """Pose errors of an encoder on a stack with known poses, after global alignment
    (:func:`align_rotations`): errors in degrees and pixels, the global rotation, whether the
    mirror image fitted, and for the symmetric loss the fraction of particles explained by the
    π-rotated image."""

    rotation_median: float
    rotation_mean: float
    shift_median: float
    alignment: torch.Tensor
    flipped: bool
    rotated_fraction: float = 0.0
    errors: torch.Tensor = field(default_factory=lambda: torch.zeros(0), repr=False)


@torch.no_grad()
def evaluate_poses(
    encoder: torch.nn.Module,
    stack: ParticleStack,
    decoder: VoxelDecoder | None = None,
    *,
    symmetric: bool = False,
    batch_size: int = 256,
    scale: float = 1.0,
) -> PoseEvaluation:
    """Predict the poses of ``stack`` (which must carry true ``rotations`` and ``shifts``) and
    score them. With ``symmetric`` (needs ``decoder``), a particle whose π-rotated image the
    decoder explains better gets the π-turned pose, as cryoAI's symmetric loss assigns it.

    >>> from steerable.cryoem import evaluate_poses, make_molecule, pose_encoder, simulate_particles
    >>> s = simulate_particles(make_molecule(0, n_atoms=12), 16, size=64, seed=0)
    >>> ev = evaluate_poses(pose_encoder("D4", widths=(8, 8, 8, 8), hidden=8), s)
    >>> 0 <= ev.rotation_median <= 180
    True
    """
    if stack.rotations is None or stack.shifts is None:
        raise ValueError("stack: evaluating poses needs a stack with true rotations and shifts (simulated data)")
    if symmetric and decoder is None:
        raise ValueError("decoder: the symmetric assignment of poses needs the decoder")
    was_training = encoder.training
    encoder.eval()
    rots, shifts, turned = [], [], []
    for s in range(0, len(stack), batch_size):
        img = stack.images[s : s + batch_size] / scale
        r, t = encoder(img)
        r, t = r.double(), t.double()
        if symmetric and decoder is not None:
            pred = decoder(r.float(), t.float(), stack.defocus[s : s + batch_size].float())
            flip = _mse(pred, _rot180(img)) < _mse(pred, img)
            r = torch.where(flip[:, None, None], _RZ_PI @ r, r)
            t = torch.where(flip[:, None], -t, t)
            turned.append(flip)
        rots.append(r)
        shifts.append(t)
    encoder.train(was_training)
    r, t = torch.cat(rots), torch.cat(shifts)
    err, a, flipped = align_rotations(r, stack.rotations.double())
    shift_err = (t - stack.shifts.double()).norm(dim=1)
    return PoseEvaluation(
        float(err.median()) * 180 / math.pi,
        float(err.mean()) * 180 / math.pi,
        float(shift_err.median()),
        a,
        flipped,
        float(torch.cat(turned).double().mean()) if turned else 0.0,
        err * 180 / math.pi,
    )


@dataclass
class Reconstruction:
    """What :func:`reconstruct` returns: the trained ``encoder`` and ``decoder``, the ``history``
    (one dict per evaluation: step, loss, pose errors, seconds), ``converged_step`` (the first
    evaluation whose median rotation error was under the threshold, or ``None``), the final
    :class:`PoseEvaluation`, and when the true volume was given the FSC curve of the aligned
    reconstruction and its resolution (Å) at FSC = 0.5 and 0.143."""

    encoder: torch.nn.Module
    decoder: VoxelDecoder
    history: list[dict]
    converged_step: int | None
    final: PoseEvaluation
    fsc_frequencies: torch.Tensor | None = None
    fsc_curve: torch.Tensor | None = None
    resolution_05: float | None = None
    resolution_0143: float | None = None
    aligned_volume: torch.Tensor | None = None


def aligned_reconstruction(decoder: VoxelDecoder, evaluation: PoseEvaluation) -> torch.Tensor:
    """The decoder's volume brought into the frame of the truth by the pose alignment."""
    m = evaluation.alignment.double()
    if evaluation.flipped:
        m = m @ _CHIRAL
    return rotate_volume(decoder.volume.detach().double(), m)


def reconstruct(
    stack: ParticleStack,
    encoder: torch.nn.Module,
    *,
    steps: int = 3000,
    batch_size: int = 32,
    lr: float = 1e-3,
    volume_lr: float = 1e-2,
    symmetric_loss: bool = False,
    frequency_marching: bool = True,
    oversample: int = 1,
    eval_every: int = 250,
    eval_size: int = 512,
    converged_degrees: float = 10.0,
    true_volume: torch.Tensor | None = None,
    seed: int = 0,
    callback: Callable[[dict], None] | None = None,
) -> Reconstruction:
    """Train ``encoder`` (images → poses) and a :class:`VoxelDecoder` jointly on ``stack``
    by Adam on the mean squared reconstruction error (images scaled to unit variance), for
    ``steps`` batches of ``batch_size``. ``symmetric_loss``: cryoAI's loss, the smaller of the
    errors against the image and against its π-rotated copy. The error is computed in Fourier
    space (equal to the real-space one by Parseval); with ``frequency_marching`` it only counts
    frequencies ``|k| < k_max``, with ``k_max`` growing linearly from N/8 to N/2 over the first
    half of training (coarse poses first: a smoother landscape).

    Every ``eval_every`` steps the poses of the first ``eval_size`` particles are scored
    (:func:`evaluate_poses`, needs simulated poses) and passed to ``callback``; the run counts
    as converged at the first evaluation with median rotation error below
    ``converged_degrees``. With ``true_volume`` the final reconstruction is aligned and scored
    by FSC.

    >>> from steerable.cryoem import make_molecule, pose_encoder, reconstruct, simulate_particles
    >>> s = simulate_particles(make_molecule(0, n_atoms=12), 64, size=64, seed=0)
    >>> rec = reconstruct(s, pose_encoder("D4", widths=(8, 8, 8, 8), hidden=8), steps=4, eval_every=2)
    >>> [h["step"] for h in rec.history], rec.decoder.volume.shape
    ([2, 4], torch.Size([64, 64, 64]))
    """
    if not isinstance(stack, ParticleStack):
        raise TypeError(f"stack: expected a steerable.cryoem.ParticleStack, got {type(stack).__name__}")
    if not isinstance(encoder, torch.nn.Module):
        raise TypeError(f"encoder: expected a torch.nn.Module, got {type(encoder).__name__}")
    for name, val in (
        ("steps", steps),
        ("batch_size", batch_size),
        ("eval_every", eval_every),
        ("eval_size", eval_size),
    ):
        if isinstance(val, bool) or not isinstance(val, int) or val < 1:
            raise ValueError(f"{name}: expected a positive int, got {val!r}")
    if not (lr > 0 and volume_lr > 0):
        raise ValueError(f"lr, volume_lr: expected positive numbers, got {lr!r}, {volume_lr!r}")
    known = stack.rotations is not None and stack.shifts is not None
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    decoder = VoxelDecoder(stack.size, stack.ctf_params, oversample=oversample)
    scale = float(stack.images.std())
    opt = torch.optim.Adam(
        [{"params": encoder.parameters(), "lr": lr}, {"params": decoder.parameters(), "lr": volume_lr}]
    )
    history: list[dict] = []
    converged = None
    ev = None
    eval_stack = stack[: min(eval_size, len(stack))]
    start, running = time.perf_counter(), []
    n = stack.size
    radius = decoder.freqs.mul(n).pow(2).sum(-1).sqrt()  # |k| in cycles per image
    encoder.train()
    for step in range(1, steps + 1):
        idx = torch.randint(len(stack), (batch_size,), generator=g)
        img = stack.images[idx] / scale
        r, t = encoder(img)
        pred = decoder.spectrum(r, t, stack.defocus[idx].float())
        k_max = n / 2 * (0.25 + 0.75 * min(1.0, 2 * step / steps)) if frequency_marching else n
        mask = (radius < k_max).to(pred.real.dtype) / n**4  # Parseval: the mean squared error per pixel
        err = _spectral_error(pred, img, mask)
        if symmetric_loss:
            err = torch.minimum(err, _spectral_error(pred, _rot180(img), mask))
        loss = err.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        running.append(loss.item())
        if step % eval_every == 0 or step == steps:
            rec = {"step": step, "loss": sum(running) / len(running), "seconds": time.perf_counter() - start}
            running = []
            if known:
                ev = evaluate_poses(encoder, eval_stack, decoder, symmetric=symmetric_loss, scale=scale)
                rec.update(
                    rotation_median=ev.rotation_median, rotation_mean=ev.rotation_mean, shift_median=ev.shift_median
                )
                if converged is None and ev.rotation_median < converged_degrees:
                    converged = step
            history.append(rec)
            if callback is not None:
                callback(rec)
    if ev is None:
        ev = PoseEvaluation(float("nan"), float("nan"), float("nan"), torch.eye(3, dtype=torch.float64), False)
    out = Reconstruction(encoder, decoder, history, converged, ev)
    if true_volume is not None and known:
        vol = aligned_reconstruction(decoder, ev)
        f, c = fsc(vol, true_volume.double())
        out.fsc_frequencies, out.fsc_curve, out.aligned_volume = f, c, vol
        out.resolution_05 = resolution(f, c, 0.5, stack.ctf_params.pixel_size)
        out.resolution_0143 = resolution(f, c, 0.143, stack.ctf_params.pixel_size)
    return out
