"""Synthetic molecules: densities that are sums of isotropic Gaussian "atoms", seeded, optionally
with a cyclic point symmetry about z, rendered on voxel grids and projected in closed form."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["Molecule", "make_molecule"]


@dataclass(frozen=True)
class Molecule:
    """Atoms at ``positions`` (``(n, 3)``, in pixels, centred at the origin), each an isotropic
    Gaussian of standard deviation ``sigma`` pixels and weight ``weights[i]``; ``symmetry`` is the
    order of the cyclic symmetry about z the atoms were built with (1: none).

    The density is ``V(x) = Σ_i w_i exp(-|x - p_i|² / 2σ²)``; :meth:`volume` samples it on a
    grid, :meth:`project` integrates it along z in closed form.

    >>> from steerable.cryoem import make_molecule
    >>> m = make_molecule(0, n_atoms=20)
    >>> m.positions.shape, m.symmetry
    ((20, 3), 1)
    """

    positions: np.ndarray
    weights: np.ndarray
    sigma: float
    symmetry: int = 1
    name: str = "molecule"

    def volume(self, size: int) -> torch.Tensor:
        """The density sampled on a ``size³`` grid whose origin is voxel ``size // 2`` along each
        axis (the Fourier convention of :class:`VoxelDecoder`); float64 tensor ``(size, size, size)``.

        >>> v = make_molecule(0, n_atoms=10).volume(32)
        >>> v.shape, bool(v.min() >= 0)
        (torch.Size([32, 32, 32]), True)
        """
        if isinstance(size, bool) or not isinstance(size, int) or size < 4:
            raise ValueError(f"size: expected an int >= 4, got {size!r}")
        axis = np.arange(size) - size // 2
        g = np.exp(-((axis[None, :] - self.positions[:, :, None]) ** 2) / (2 * self.sigma**2))  # (n, 3, size)
        v = np.einsum("a,ai,aj,ak->ijk", self.weights, g[:, 0], g[:, 1], g[:, 2], optimize=True)
        return torch.from_numpy(v)

    def project(self, rotations: torch.Tensor, size: int, shifts: torch.Tensor | None = None) -> torch.Tensor:
        """Exact projections along z at poses ``rotations`` (``(n, 3, 3)``), translated by
        ``shifts`` (``(n, 2)`` pixels), on ``size²`` images centred between the middle pixels
        (origin at ``(size - 1) / 2``, where the grid's 90° rotations and flips are exact).
        Shape ``(n, size, size)``, float64.

        >>> m = make_molecule(1, n_atoms=8)
        >>> img = m.project(torch.eye(3, dtype=torch.float64)[None], 24)
        >>> img.shape
        torch.Size([1, 24, 24])
        """
        if isinstance(size, bool) or not isinstance(size, int) or size < 4:
            raise ValueError(f"size: expected an int >= 4, got {size!r}")
        rotations = torch.as_tensor(rotations, dtype=torch.float64)
        if rotations.ndim != 3 or rotations.shape[1:] != (3, 3):
            raise ValueError(f"rotations: expected shape (n, 3, 3), got {tuple(rotations.shape)}")
        p = torch.einsum("nij,aj->nai", rotations, torch.from_numpy(self.positions))[..., :2]
        if shifts is not None:
            shifts = torch.as_tensor(shifts, dtype=torch.float64)
            if shifts.shape != (len(rotations), 2):
                raise ValueError(f"shifts: expected shape ({len(rotations)}, 2), got {tuple(shifts.shape)}")
            p = p + shifts[:, None, :]
        axis = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
        g = torch.exp(-((axis - p[..., None]) ** 2) / (2 * self.sigma**2))  # (n, atoms, 2, size)
        w = torch.from_numpy(self.weights) * math.sqrt(2 * math.pi) * self.sigma
        return torch.einsum("a,nai,naj->nij", w, g[:, :, 0], g[:, :, 1])


def make_molecule(
    seed: int,
    n_atoms: int = 64,
    *,
    radius: float = 12.0,
    sigma: float = 1.5,
    symmetry: int = 1,
) -> Molecule:
    """A seeded synthetic molecule: a random-walk chain of ``n_atoms`` Gaussian atoms (step ~3.8 px,
    as Cα atoms of a backbone), kept within ``radius`` pixels and centred at its centre of mass,
    with random weights in [0.5, 1.5]; ``symmetry = k > 1`` builds one subunit of ``n_atoms // k``
    atoms away from the axis and places k copies rotated about z (a C_k homo-oligomer).

    >>> import numpy as np
    >>> from steerable.cryoem import make_molecule
    >>> a, b = make_molecule(0), make_molecule(0)
    >>> bool(np.array_equal(a.positions, b.positions))
    True
    >>> c4 = make_molecule(3, n_atoms=40, symmetry=4)
    >>> c4.positions.shape, c4.symmetry
    ((40, 3), 4)
    """
    for name, val, low in (("n_atoms", n_atoms, 1), ("symmetry", symmetry, 1)):
        if isinstance(val, bool) or not isinstance(val, int) or val < low:
            raise ValueError(f"{name}: expected an int >= {low}, got {val!r}")
    if n_atoms % symmetry:
        raise ValueError(f"n_atoms: must be a multiple of symmetry={symmetry}, got {n_atoms}")
    if not (radius > 0 and sigma > 0):
        raise ValueError(f"radius, sigma: expected positive numbers, got {radius!r}, {sigma!r}")
    rng = np.random.default_rng(seed)
    n_sub = n_atoms // symmetry
    start = np.array([radius / 2, 0.0, 0.0]) if symmetry > 1 else np.zeros(3)
    pos = [start]
    while len(pos) < n_sub:
        step = rng.normal(size=3)
        step *= 3.8 / np.linalg.norm(step)
        nxt = pos[-1] + step
        if np.linalg.norm(nxt) <= radius and (symmetry == 1 or nxt[:2] @ np.array([1.0, 0.0]) > 1.0):
            pos.append(nxt)
    sub = np.stack(pos)
    weights = rng.uniform(0.5, 1.5, size=n_sub)
    if symmetry > 1:
        angles = 2 * np.pi * np.arange(symmetry) / symmetry
        rots = np.stack([[[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]] for t in angles])
        sub = np.concatenate([sub @ r.T for r in rots])
        weights = np.tile(weights, symmetry)
    sub = sub - (weights[:, None] * sub).sum(0) / weights.sum()
    name = f"seed{seed}" + (f"-C{symmetry}" if symmetry > 1 else "")
    return Molecule(sub, weights, float(sigma), symmetry, name)
