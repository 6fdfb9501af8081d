"""The particle simulator: exact projections of a :class:`Molecule` at Haar-random poses,
random shifts, the microscope's CTF and Gaussian noise at a chosen SNR."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ._ctf import CTFParams, ctf, frequency_grid
from ._molecules import Molecule
from ._rotations import random_rotations

__all__ = ["ParticleStack", "simulate_particles"]


@dataclass
class ParticleStack:
    """A stack of particle images with their metadata: ``images`` ``(n, N, N)`` float32,
    ``rotations`` ``(n, 3, 3)``, ``shifts`` ``(n, 2)`` pixels, ``defocus`` ``(n,)`` Å, the optics
    ``ctf_params``; ``noise_std`` is the standard deviation of the added noise. ``rotations`` and
    ``shifts`` are ``None`` for real data (unknown poses) read without them.

    ``len(stack)`` is the number of particles; ``stack[idx]`` selects a subset.

    >>> from steerable.cryoem import make_molecule, simulate_particles
    >>> s = simulate_particles(make_molecule(0, n_atoms=12), 5, size=16, seed=0)
    >>> len(s), s.images.shape, len(s[1:3])
    (5, torch.Size([5, 16, 16]), 2)
    """

    images: torch.Tensor
    defocus: torch.Tensor
    ctf_params: CTFParams = field(default_factory=CTFParams)
    rotations: torch.Tensor | None = None
    shifts: torch.Tensor | None = None
    noise_std: float = 0.0

    def __post_init__(self):
        if (
            not isinstance(self.images, torch.Tensor)
            or self.images.ndim != 3
            or self.images.shape[1] != self.images.shape[2]
        ):
            raise ValueError(f"images: expected a tensor (n, N, N), got {getattr(self.images, 'shape', self.images)}")
        n = len(self.images)
        if tuple(self.defocus.shape) != (n,):
            raise ValueError(f"defocus: expected shape ({n},), got {tuple(self.defocus.shape)}")
        if self.rotations is not None and tuple(self.rotations.shape) != (n, 3, 3):
            raise ValueError(f"rotations: expected shape ({n}, 3, 3), got {tuple(self.rotations.shape)}")
        if self.shifts is not None and tuple(self.shifts.shape) != (n, 2):
            raise ValueError(f"shifts: expected shape ({n}, 2), got {tuple(self.shifts.shape)}")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def size(self) -> int:
        """The side N of the images in pixels."""
        return int(self.images.shape[-1])

    def __getitem__(self, idx) -> ParticleStack:
        if isinstance(idx, int):
            idx = [idx]  # a stack of one
        return ParticleStack(
            self.images[idx],
            self.defocus[idx],
            self.ctf_params,
            None if self.rotations is None else self.rotations[idx],
            None if self.shifts is None else self.shifts[idx],
            self.noise_std,
        )


def simulate_particles(
    molecule: Molecule,
    n: int,
    *,
    size: int = 64,
    snr: float = 0.1,
    shift_std: float = 3.0,
    defocus_range: tuple[float, float] = (10000.0, 25000.0),
    ctf_params: CTFParams | None = None,
    seed: int = 0,
    batch: int = 1024,
) -> ParticleStack:
    """Simulate ``n`` particle images of ``molecule``: poses Haar-random on SO(3), shifts
    Gaussian with ``shift_std`` pixels, underfocus uniform in ``defocus_range`` Å, the CTF of
    ``ctf_params`` (default :class:`CTFParams`), then white Gaussian noise whose variance is the
    mean signal variance over ``snr`` (``snr=float('inf')``: no noise).

    >>> from steerable.cryoem import make_molecule, simulate_particles
    >>> s = simulate_particles(make_molecule(0, n_atoms=12), 64, size=16, snr=1.0, seed=0)
    >>> s.rotations.shape, s.shifts.shape, s.noise_std > 0
    (torch.Size([64, 3, 3]), torch.Size([64, 2]), True)
    """
    if not isinstance(molecule, Molecule):
        raise TypeError(f"molecule: expected a steerable.cryoem.Molecule, got {type(molecule).__name__}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n: expected a positive int, got {n!r}")
    if not snr > 0:
        raise ValueError(f"snr: expected a positive number (or inf for no noise), got {snr!r}")
    if not shift_std >= 0:
        raise ValueError(f"shift_std: expected a non-negative number of pixels, got {shift_std!r}")
    lo, hi = defocus_range
    if not 0 < lo <= hi:
        raise ValueError(f"defocus_range: expected 0 < low <= high (Å), got {defocus_range!r}")
    params = ctf_params or CTFParams()
    g = torch.Generator().manual_seed(seed)
    rotations = random_rotations(n, g)
    shifts = torch.randn(n, 2, generator=g, dtype=torch.float64) * shift_std
    defocus = lo + (hi - lo) * torch.rand(n, generator=g, dtype=torch.float64)
    freqs = frequency_grid(size, centred=False)
    clean = torch.empty(n, size, size, dtype=torch.float64)
    for s in range(0, n, batch):
        proj = molecule.project(rotations[s : s + batch], size, shifts[s : s + batch])
        c = ctf(freqs, defocus[s : s + batch], params)
        clean[s : s + batch] = torch.fft.ifft2(torch.fft.fft2(proj) * c).real
    noise_std = 0.0 if snr == float("inf") else float((clean.var(dim=(1, 2)).mean() / snr).sqrt())
    images = clean + noise_std * torch.randn(clean.shape, generator=g, dtype=torch.float64)
    return ParticleStack(images.float(), defocus, params, rotations, shifts, noise_std)
