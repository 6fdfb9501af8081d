"""Charged particles in free space: the N-body regression benchmark of EGNN (Satorras et al., 2021).

Each system holds ``n_particles`` point particles of unit mass and charge ``q = ±1`` that interact
by the Coulomb force (the charged-particles simulation of Kipf et al.'s NRI, without a box)

    F_i = Σ_{j≠i} q_i q_j (x_i - x_j) / max(‖x_i - x_j‖², r2_min)^{3/2},   r2_min = 1e-2

(like charges repel; the squared distance is clipped below at ``r2_min``, so no pair force
exceeds ``1 / r2_min = 100``, NRI's force cap, and close encounters cannot blow up). Initial
positions and velocities are i.i.d. ``N(0, 0.5²)`` per coordinate (no speed normalisation), charges
i.i.d. uniform on ``{-1, +1}``: a rotation- and translation-invariant distribution. The equations
are integrated with velocity Verlet (kick-drift-kick leapfrog, symplectic and time reversible; it
conserves the total momentum exactly, up to rounding) for ``steps`` steps of ``dt``, vectorised
over all systems at once in float64. The task is to predict the final positions (after the time
``steps · dt``, 1 at the defaults) from the initial positions, velocities and charges.

Rotating (or translating) the initial state by ``R`` (or ``t``) turns the final positions into
``R x + t``: the map is E(3)-equivariant, which ``rotate=True`` of :class:`ChargedNBody` exploits.

>>> x0, v0, q, x1 = simulate_charged_nbody(3, n_particles=4, steps=20)
>>> x0.shape, v0.shape, q.shape, x1.shape
((3, 4, 3), (3, 4, 3), (3, 4), (3, 4, 3))
>>> ds = ChargedNBody(2, steps=20)
>>> x, y = ds[0]
>>> tuple(x.shape), tuple(y.shape), x.dtype
((5, 7), (5, 3), torch.float32)
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ._dipoles import random_rotations

__all__ = ["ChargedNBody", "charged_nbody_energy", "integrate_charged_nbody", "simulate_charged_nbody"]

R2_MIN = 1e-2  # squared distances are clipped below at this value (the force law's softening)
POSITION_STD = 0.5
VELOCITY_STD = 0.5


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_dt(dt) -> float:
    if isinstance(dt, bool) or not isinstance(dt, (int, float, np.floating)):
        raise TypeError(f"dt: expected a number, got {type(dt).__name__}")
    if not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt: expected a finite number > 0, got {dt!r}")
    return float(dt)


def _pair_incidence(p: int) -> np.ndarray:
    """The (M, p) matrix of the M = p(p-1)/2 pairs i < j: +1 at i, -1 at j (so ``B @ x`` = x_i - x_j)."""
    i, j = np.triu_indices(p, 1)
    b = np.zeros((len(i), p))
    b[np.arange(len(i)), i] = 1.0
    b[np.arange(len(i)), j] = -1.0
    return b


def simulate_charged_nbody(
    n: int,
    n_particles: int = 5,
    steps: int = 1000,
    dt: float = 0.001,
    seed: int = 0,
    *,
    return_velocities: bool = False,
):
    """``n`` charged N-body systems, drawn and integrated as the module docstring describes.

    Returns float64 arrays ``(positions (n, P, 3), velocities (n, P, 3), charges (n, P),
    final positions (n, P, 3))``, plus the final velocities (n, P, 3) if ``return_velocities``.
    The draws come from ``numpy.random.default_rng(seed)`` in this order: positions, velocities,
    charges; the same arguments give the same arrays, and the first systems of a larger ``n``
    do not equal a smaller ``n``'s (each array is drawn whole).

    >>> import numpy as np
    >>> from steerable.data import simulate_charged_nbody
    >>> x0, v0, q, x1, v1 = simulate_charged_nbody(8, steps=100, seed=3, return_velocities=True)
    >>> sorted(set(q.ravel().tolist()))
    [-1.0, 1.0]
    >>> bool(np.allclose(v0.sum(1), v1.sum(1)))  # equal masses: the total momentum is conserved
    True
    >>> bool(np.array_equal(x1, simulate_charged_nbody(8, steps=100, seed=3)[3]))
    True
    """
    n = _check_int("n", n, 1)
    p = _check_int("n_particles", n_particles, 2)
    steps = _check_int("steps", steps, 0)
    dt = _check_dt(dt)
    seed = _check_int("seed", seed, 0)
    if not isinstance(return_velocities, bool):
        raise TypeError(f"return_velocities: expected a bool, got {type(return_velocities).__name__}")
    rng = np.random.default_rng(seed)
    pos0 = rng.normal(0.0, POSITION_STD, size=(n, p, 3))
    vel0 = rng.normal(0.0, VELOCITY_STD, size=(n, p, 3))
    charges = rng.choice(np.array([-1.0, 1.0]), size=(n, p))
    pos1, vel1 = integrate_charged_nbody(pos0, vel0, charges, steps, dt)
    return (pos0, vel0, charges, pos1, vel1) if return_velocities else (pos0, vel0, charges, pos1)


def integrate_charged_nbody(positions, velocities, charges, steps: int = 1000, dt: float = 0.001):
    """Integrate given systems: ``(final positions, final velocities)`` (float64, shapes of the inputs)
    after ``steps`` velocity-Verlet steps of ``dt`` under the clipped Coulomb force of the module
    docstring; ``positions``, ``velocities`` ``(n, P, 3)``, ``charges`` ``(n, P)`` (any real charges).

    >>> import numpy as np
    >>> from steerable.data import integrate_charged_nbody
    >>> x, v = integrate_charged_nbody([[[0.0, 0, 0], [1, 0, 0]]], np.zeros((1, 2, 3)), [[1.0, 1.0]], 10)
    >>> bool(x[0, 1, 0] > 1 > 0 > x[0, 0, 0])  # like charges repel
    True
    """
    x0, v0, q = (np.asarray(a, dtype=np.float64) for a in (positions, velocities, charges))
    if x0.ndim != 3 or x0.shape[2] != 3 or x0.shape[1] < 2 or v0.shape != x0.shape or q.shape != x0.shape[:2]:
        raise ValueError(
            "positions, velocities, charges: expected shapes (n, P, 3), (n, P, 3), (n, P) with P >= 2, "
            f"got {x0.shape}, {v0.shape}, {q.shape}"
        )
    steps = _check_int("steps", steps, 0)
    dt = _check_dt(dt)
    p = x0.shape[1]
    # Layout (3, P, n): the n systems on the last (contiguous) axis, so every step is a few large
    # elementwise operations and two matrix products with the small pair-incidence matrix.
    b = _pair_incidence(p)
    bt = np.ascontiguousarray(b.T)
    i, j = np.triu_indices(p, 1)
    qq = np.ascontiguousarray((q[:, i] * q[:, j]).T)  # (M, n): q_i q_j of each pair
    x = np.ascontiguousarray(x0.transpose(2, 1, 0))
    v = np.ascontiguousarray(v0.transpose(2, 1, 0))

    def accelerations(x: np.ndarray) -> np.ndarray:
        d = b @ x  # (3, M, n): x_i - x_j
        r2 = np.maximum(np.einsum("kmn,kmn->mn", d, d), R2_MIN)
        d *= qq / (r2 * np.sqrt(r2))
        return bt @ d  # +F on i, -F on j (Newton's third law, exactly)

    a = accelerations(x)
    half = 0.5 * dt
    for _ in range(steps):
        v += half * a
        x += dt * v
        a = accelerations(x)
        v += half * a
    return np.ascontiguousarray(x.transpose(2, 1, 0)), np.ascontiguousarray(v.transpose(2, 1, 0))


def charged_nbody_energy(positions, velocities, charges) -> np.ndarray:
    """The total energy per system ``Σ_i ½‖v_i‖² + Σ_{i<j} q_i q_j / r_ij`` (unit masses; the
    unclipped Coulomb potential, whose force the simulation follows wherever ``r_ij² ≥ 1e-2``).

    Arrays ``(..., P, 3)``, ``(..., P, 3)``, ``(..., P)``; returns ``(...)``.

    >>> import numpy as np
    >>> from steerable.data import charged_nbody_energy, simulate_charged_nbody
    >>> x0, v0, q, x1, v1 = simulate_charged_nbody(4, steps=200, return_velocities=True)
    >>> e0, e1 = charged_nbody_energy(x0, v0, q), charged_nbody_energy(x1, v1, q)
    >>> bool(np.all(np.abs(e1 - e0) < 1e-3 * (1 + np.abs(e0))))
    True
    """
    x, v, q = np.asarray(positions, float), np.asarray(velocities, float), np.asarray(charges, float)
    if x.ndim < 2 or x.shape[-1] != 3 or v.shape != x.shape or q.shape != x.shape[:-1]:
        raise ValueError(
            "positions, velocities, charges: expected shapes (..., P, 3), (..., P, 3), (..., P), "
            f"got {x.shape}, {v.shape}, {q.shape}"
        )
    i, j = np.triu_indices(x.shape[-2], 1)
    r = np.linalg.norm(x[..., i, :] - x[..., j, :], axis=-1)
    return 0.5 * (v * v).sum((-1, -2)) + (q[..., i] * q[..., j] / r).sum(-1)


class ChargedNBody(torch.utils.data.Dataset):
    """``n`` charged N-body systems (see :func:`simulate_charged_nbody`): item ``i`` is ``(x, y)``,
    ``x`` float32 ``(P, 7)`` of rows ``(position (3), velocity (3), charge)`` at time 0 and ``y``
    float32 ``(P, 3)`` the positions after ``steps · dt``.

    ``rotate=True`` turns every system by its own uniformly random rotation ``R`` and shifts it by
    a random translation ``t ~ N(0, 1)³`` (positions ``R x + t``, velocities ``R v``, targets
    ``R y + t``), drawn from ``seed``: by the physics' symmetry the same as simulating the moved
    systems, so E(3)-equivariant models score the same on both.

    >>> import torch
    >>> from steerable.data import ChargedNBody
    >>> a, b = ChargedNBody(4, steps=30, seed=1), ChargedNBody(4, steps=30, seed=1, rotate=True)
    >>> bool(torch.allclose(a.inputs[..., 6], b.inputs[..., 6]))  # charges do not move
    True
    >>> d = lambda z: torch.cdist(z[..., :3], z[..., :3])  # nor do distances
    >>> bool(torch.allclose(d(a.targets), d(b.targets), atol=1e-5))
    True
    >>> len(a), ChargedNBody(4, steps=30, seed=1)[2][0].equal(a[2][0])
    (4, True)
    """

    def __init__(
        self,
        n: int,
        n_particles: int = 5,
        steps: int = 1000,
        dt: float = 0.001,
        seed: int = 0,
        *,
        rotate: bool = False,
    ):
        if not isinstance(rotate, bool):
            raise TypeError(f"rotate: expected a bool, got {type(rotate).__name__}")
        pos, vel, q, final = simulate_charged_nbody(n, n_particles, steps, dt, seed)
        if rotate:
            r = random_rotations(len(pos), seed=seed + 7919)
            t = np.random.default_rng(seed + 104729).normal(size=(len(pos), 1, 3))
            pos = np.einsum("nij,npj->npi", r, pos) + t
            vel = np.einsum("nij,npj->npi", r, vel)
            final = np.einsum("nij,npj->npi", r, final) + t
        self.inputs = torch.from_numpy(np.concatenate([pos, vel, q[..., None]], -1).astype(np.float32))
        self.targets = torch.from_numpy(final.astype(np.float32))
        self.n_particles, self.steps, self.dt, self.seed, self.rotate = int(n_particles), int(steps), dt, seed, rotate

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i):
        return self.inputs[i], self.targets[i]
