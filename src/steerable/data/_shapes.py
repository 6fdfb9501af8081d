"""Parametric 3-D shapes as point clouds, in random poses: a classification benchmark for SO(3),
O(3) and SO(2)-about-z invariant models.

Ten classes (:data:`SHAPE_CLASSES`), each a family of shapes with random parameters, sampled as
``n_points`` points on the surface (or, for the helix, along the curve):

========== ===============================================================================
sphere     the unit sphere (uniform on the surface)
cube       a box with sides in [0.85, 1.15] (nearly a cube; uniform on the six faces)
cylinder   radius 1, height in [1.5, 4] (side and both caps, uniform by area)
cone       base radius 1, height in [1.2, 2.5] (slanted side and base, uniform by area)
torus      radii 1 and r in [0.25, 0.5] (uniform by area)
helix      a *right-handed* helix: radius 1, 1.5 to 3 turns, height in [1.5, 4] (uniform in arc length)
disk       a flat annulus: outer radius 1, inner radius in [0, 0.4] (uniform by area)
ellipsoid  semi-axes 1, b in [0.55, 0.8], c in [0.25, 0.45] (three distinct axes; the image of a
           uniform sample of the sphere)
pyramid    square base of side 2, height in [0.8, 1.6] (base and four triangles, uniform by area)
dumbbell   two spheres of radii in [0.3, 0.5] whose centres are 1.6 to 2.4 apart, joined by a thin
           rod (radius 0.05) (uniform by area)
========== ===============================================================================

Every canonical shape has its axis (if any) along z. The clean cloud is centred (its mean is the
origin) and scaled to unit RMS radius (``mean |x|² = 1``), then turned by its pose, then perturbed
by isotropic Gaussian noise of standard deviation ``noise`` (in those units, so the normalised
cloud plus noise has RMS radius about ``sqrt(1 + 3 noise²)``).

``poses``: ``"none"`` (the canonical pose), ``"so3"`` (uniformly random rotations, Haar measure),
``"o3"`` (random rotations followed, with probability 1/2, by the mirror ``z ↦ -z``: uniformly
random elements of O(3)) or ``"so2z"`` (uniformly random rotations about the z axis).

The helix is the one chiral class: its canonical shapes are all right-handed. Under ``"o3"`` poses
half of the helices are mirrored into *left*-handed ones and keep the label ``helix`` (a left helix
and its mirror image are the same class there), so an O(3)-invariant model, which cannot tell
the two handednesses apart, loses nothing, whereas under ``"so3"`` poses every helix is
right-handed.

The shapes, the poses and the noise are drawn from three independent streams of ``seed``: data
sets with the same ``seed`` and ``n`` hold the same clean shapes whatever their ``poses`` and
``noise``.

>>> ds = PointShapes(20, n_points=32, seed=0)
>>> x, y = ds[0]
>>> tuple(x.shape), x.dtype, y.dtype, len(ds)
((32, 3), torch.float32, torch.int64, 20)
>>> SHAPE_CLASSES[int(y)] in SHAPE_CLASSES
True
>>> clean = PointShapes(4, noise=0.0, poses="so3")
>>> bool(torch.allclose(clean.points.mean(1), torch.zeros(4, 3), atol=1e-5))
True
>>> bool(torch.allclose(clean.points.pow(2).sum(-1).mean(1), torch.ones(4), atol=1e-5))
True
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ._dipoles import random_rotations

SHAPE_CLASSES: tuple[str, ...] = (
    "sphere",
    "cube",
    "cylinder",
    "cone",
    "torus",
    "helix",
    "disk",
    "ellipsoid",
    "pyramid",
    "dumbbell",
)

POSES = ("none", "so3", "o3", "so2z")


# ----------------------------------------------------------------------------------------------
# sampling helpers: every function draws m clouds of n points at once, arrays (m, n, 3)
# ----------------------------------------------------------------------------------------------
def _unit_vectors(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    v = rng.normal(size=(*shape, 3))
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _uniform(rng: np.random.Generator, lo: float, hi: float, m: int) -> np.ndarray:
    """m parameters uniform in [lo, hi], shaped (m, 1) to broadcast over the points."""
    return rng.uniform(lo, hi, size=(m, 1))


def _choose_parts(rng: np.random.Generator, areas: np.ndarray, n: int) -> np.ndarray:
    """For each of m clouds with part areas (m, P): the part (m, n) of each point, ∝ area."""
    cum = np.cumsum(areas / areas.sum(1, keepdims=True), axis=1)
    u = rng.uniform(size=(areas.shape[0], n, 1))
    return np.minimum((u > cum[:, None, :]).sum(-1), areas.shape[1] - 1)


def _pick(parts: list[np.ndarray], which: np.ndarray) -> np.ndarray:
    """Point k of cloud i from part ``which[i, k]`` of the candidates ``parts`` (each (m, n, 3))."""
    stack = np.stack(parts, axis=2)  # (m, n, P, 3)
    return np.take_along_axis(stack, which[..., None, None], axis=2)[:, :, 0]


def _disk(rng: np.random.Generator, m: int, n: int, radius, inner=0.0, z=0.0) -> np.ndarray:
    """Uniform on the annulus ``inner ≤ ρ ≤ radius`` of the plane at height z."""
    rho = np.sqrt(rng.uniform(size=(m, n)) * (radius**2 - inner**2) + inner**2)
    phi = rng.uniform(0, 2 * np.pi, size=(m, n))
    return np.stack([rho * np.cos(phi), rho * np.sin(phi), np.broadcast_to(z, (m, n))], -1)


def _sphere(rng, m, n):
    return _unit_vectors(rng, (m, n))


def _cube(rng, m, n):
    sides = rng.uniform(0.85, 1.15, size=(m, 3))
    faces = np.stack([sides[:, 1] * sides[:, 2], sides[:, 0] * sides[:, 2], sides[:, 0] * sides[:, 1]], 1)
    face = _choose_parts(rng, np.repeat(faces, 2, axis=1), n)  # (m, n) in 0..5: axis face // 2, sign face % 2
    p = rng.uniform(-0.5, 0.5, size=(m, n, 3))
    axis = face // 2
    p[np.arange(m)[:, None], np.arange(n)[None, :], axis] = np.where(face % 2 == 0, -0.5, 0.5)
    return p * sides[:, None, :]


def _cylinder(rng, m, n):
    h = _uniform(rng, 1.5, 4.0, m)
    phi = rng.uniform(0, 2 * np.pi, size=(m, n))
    side = np.stack([np.cos(phi), np.sin(phi), (rng.uniform(size=(m, n)) - 0.5) * h], -1)
    caps = [_disk(rng, m, n, 1.0, z=s * h / 2) for s in (-1.0, 1.0)]
    areas = np.concatenate([2 * np.pi * h, np.full((m, 2), np.pi)], 1)
    return _pick([side, *caps], _choose_parts(rng, areas, n))


def _cone(rng, m, n):
    h = _uniform(rng, 1.2, 2.5, m)
    s = np.sqrt(rng.uniform(size=(m, n)))  # distance from the apex, as a fraction of the slant height
    phi = rng.uniform(0, 2 * np.pi, size=(m, n))
    side = np.stack([s * np.cos(phi), s * np.sin(phi), h * (1 - s)], -1)
    base = _disk(rng, m, n, 1.0)
    areas = np.concatenate([np.pi * np.sqrt(1 + h**2), np.full((m, 1), np.pi)], 1)
    return _pick([side, base], _choose_parts(rng, areas, n))


def _torus(rng, m, n):
    r = _uniform(rng, 0.25, 0.5, m)
    pool = 4 * n  # candidates; accepted with probability ∝ the area element 1 + r cos v (≥ 1/3 of them)
    u = rng.uniform(0, 2 * np.pi, size=(m, pool))
    v = rng.uniform(0, 2 * np.pi, size=(m, pool))
    accept = rng.uniform(size=(m, pool)) * (1 + r) < 1 + r * np.cos(v)
    key = np.where(accept, 0.0, 1.0) + rng.uniform(size=(m, pool))  # accepted candidates first, in random order
    keep = np.argsort(key, axis=1)[:, :n]
    u, v = np.take_along_axis(u, keep, 1), np.take_along_axis(v, keep, 1)
    rho = 1 + r * np.cos(v)
    return np.stack([rho * np.cos(u), rho * np.sin(u), r * np.sin(v)], -1)


def _helix(rng, m, n):
    turns = _uniform(rng, 1.5, 3.0, m)
    h = _uniform(rng, 1.5, 4.0, m)
    t = rng.uniform(size=(m, n))
    a = 2 * np.pi * turns * t  # z grows with the angle: right-handed
    return np.stack([np.cos(a), np.sin(a), h * t], -1)


def _disk_shape(rng, m, n):
    return _disk(rng, m, n, 1.0, inner=_uniform(rng, 0.0, 0.4, m))


def _ellipsoid(rng, m, n):
    axes = np.concatenate([np.ones((m, 1)), _uniform(rng, 0.55, 0.8, m), _uniform(rng, 0.25, 0.45, m)], 1)
    return _unit_vectors(rng, (m, n)) * axes[:, None, :]


def _triangle(rng, m, n, a, b, c):
    """Uniform on the triangles (a, b, c), vertices (m, 3)."""
    u, v = rng.uniform(size=(m, n, 1)), rng.uniform(size=(m, n, 1))
    flip = u + v > 1
    u, v = np.where(flip, 1 - u, u), np.where(flip, 1 - v, v)
    return a[:, None] + u * (b - a)[:, None] + v * (c - a)[:, None]


def _pyramid(rng, m, n):
    h = _uniform(rng, 0.8, 1.6, m)
    apex = np.concatenate([np.zeros((m, 2)), h], 1)
    corners = [np.tile(np.array(c, float), (m, 1)) for c in ((1, 1, 0), (-1, 1, 0), (-1, -1, 0), (1, -1, 0))]
    base = np.concatenate([rng.uniform(-1, 1, size=(m, n, 2)), np.zeros((m, n, 1))], -1)
    sides = [_triangle(rng, m, n, corners[k], corners[(k + 1) % 4], apex) for k in range(4)]
    areas = np.concatenate([np.full((m, 1), 4.0), np.repeat(np.sqrt(1 + h**2), 4, axis=1)], 1)
    return _pick([base, *sides], _choose_parts(rng, areas, n))


def _dumbbell(rng, m, n):
    r1, r2 = _uniform(rng, 0.3, 0.5, m), _uniform(rng, 0.3, 0.5, m)
    d = _uniform(rng, 0.8, 1.2, m)  # the centres are (0, 0, ∓d)
    zero = np.zeros_like(d)
    ball1 = _unit_vectors(rng, (m, n)) * r1[..., None] + np.stack([zero, zero, -d], -1)
    ball2 = _unit_vectors(rng, (m, n)) * r2[..., None] + np.stack([zero, zero, d], -1)
    phi = rng.uniform(0, 2 * np.pi, size=(m, n))
    lo, hi = r1 - d, d - r2
    rod_z = lo + rng.uniform(size=(m, n)) * (hi - lo)
    rod = np.stack([0.05 * np.cos(phi), 0.05 * np.sin(phi), rod_z], -1)
    areas = np.concatenate([4 * np.pi * r1**2, 4 * np.pi * r2**2, 2 * np.pi * 0.05 * (hi - lo)], 1)
    return _pick([ball1, ball2, rod], _choose_parts(rng, areas, n))


_SAMPLERS = (
    _sphere,
    _cube,
    _cylinder,
    _cone,
    _torus,
    _helix,
    _disk_shape,
    _ellipsoid,
    _pyramid,
    _dumbbell,
)


def _normalise(p: np.ndarray) -> np.ndarray:
    """Centre each cloud (m, n, 3) at the origin and scale it to unit RMS radius."""
    p = p - p.mean(1, keepdims=True)
    rms = np.sqrt((p * p).sum(-1).mean(1))
    return p / np.maximum(rms, 1e-12)[:, None, None]


def _z_rotations(angles: np.ndarray) -> np.ndarray:
    c, s = np.cos(angles), np.sin(angles)
    r = np.zeros((len(angles), 3, 3))
    r[:, 0, 0], r[:, 0, 1], r[:, 1, 0], r[:, 1, 1], r[:, 2, 2] = c, -s, s, c, 1.0
    return r


def random_poses(n: int, poses: str = "so3", seed: int = 0) -> np.ndarray:
    """``n`` orthogonal matrices (n, 3, 3) drawn uniformly from the group named by ``poses``:
    ``"none"`` (identities), ``"so3"``, ``"o3"`` (a rotation, then with probability 1/2 the mirror
    ``z ↦ -z``) or ``"so2z"`` (rotations about z).

    >>> import numpy as np
    >>> from steerable.data import random_poses
    >>> r = random_poses(200, "o3")
    >>> bool(np.allclose(r @ r.transpose(0, 2, 1), np.eye(3))), sorted(set(np.round(np.linalg.det(r)).tolist()))
    (True, [-1.0, 1.0])
    >>> bool(np.allclose(random_poses(5, "so2z")[:, 2], [0, 0, 1]))
    True
    """
    _check_count("n", n)
    _check_poses(poses)
    rng = np.random.default_rng(seed)
    if poses == "none":
        return np.tile(np.eye(3), (n, 1, 1))
    if poses == "so2z":
        return _z_rotations(rng.uniform(0, 2 * np.pi, size=n))
    r = random_rotations(n, seed=int(rng.integers(2**62)))
    if poses == "o3":
        mirror = rng.uniform(size=n) < 0.5
        r[mirror] = r[mirror] @ np.diag([1.0, 1.0, -1.0])
    return r


def _check_count(name: str, v, least: int = 1) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
        raise ValueError(f"{name}: expected an integer >= {least}, got {v!r}")


def _check_poses(poses) -> None:
    if not isinstance(poses, str) or poses not in POSES:
        raise ValueError(f"poses: expected one of {', '.join(repr(p) for p in POSES)}, got {poses!r}")


class PointShapes(torch.utils.data.Dataset):
    """``n`` point clouds ``(n_points, 3)`` (float32) of the :data:`SHAPE_CLASSES` with their labels
    (int64), balanced (class counts differ by at most one) and in random order; see the module.

    ``poses`` in ``("none", "so3", "o3", "so2z")``, ``noise`` the standard deviation of the
    Gaussian noise per coordinate, ``seed`` any integer ≥ 0. The arrays are ``points`` (n,
    n_points, 3), ``labels`` (n,) and ``rotations`` (n, 3, 3), the pose of each cloud:
    ``points[i] = normalised_shape_i @ rotations[i].T + noise``.

    >>> import torch
    >>> from steerable.data import PointShapes
    >>> ds = PointShapes(100, n_points=16, poses="o3", seed=3)
    >>> torch.bincount(ds.labels).tolist()
    [10, 10, 10, 10, 10, 10, 10, 10, 10, 10]
    >>> bool((torch.linalg.det(ds.rotations) < 0).any())
    True
    >>> bool(torch.equal(PointShapes(8, seed=1).points, PointShapes(8, seed=1).points))
    True
    """

    classes = SHAPE_CLASSES

    def __init__(self, n: int, n_points: int = 64, poses: str = "so3", noise: float = 0.02, seed: int = 0):
        _check_count("n", n)
        _check_count("n_points", n_points, least=4)
        _check_poses(poses)
        if (
            isinstance(noise, bool)
            or not isinstance(noise, (int, float, np.integer, np.floating))
            or not math.isfinite(float(noise))
            or noise < 0
        ):
            raise ValueError(f"noise: expected a finite number >= 0, got {noise!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed: expected an integer >= 0, got {seed!r}")
        n, n_points = int(n), int(n_points)
        shape_seq, pose_seq, noise_seq = np.random.SeedSequence(int(seed)).spawn(3)
        rng = np.random.default_rng(shape_seq)
        labels = rng.permutation(np.arange(n) % len(SHAPE_CLASSES))
        pts = np.empty((n, n_points, 3))
        for c, sampler in enumerate(_SAMPLERS):
            idx = np.flatnonzero(labels == c)
            if idx.size:
                pts[idx] = _normalise(sampler(rng, idx.size, n_points))
        rot = random_poses(n, poses, seed=int(np.random.default_rng(pose_seq).integers(2**62)))
        pts = np.einsum("nij,npj->npi", rot, pts)
        if noise > 0:
            pts = pts + float(noise) * np.random.default_rng(noise_seq).normal(size=pts.shape)
        self.points = torch.from_numpy(pts.astype(np.float32))
        self.labels = torch.from_numpy(labels.astype(np.int64))
        self.rotations = torch.from_numpy(rot.astype(np.float32))
        self.n_points, self.poses, self.noise, self.seed = n_points, poses, float(noise), int(seed)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return self.points[i], self.labels[i]

    def __repr__(self) -> str:
        return (
            f"PointShapes(n={len(self)}, n_points={self.n_points}, poses={self.poses!r}, "
            f"noise={self.noise}, seed={self.seed})"
        )
