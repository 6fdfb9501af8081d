"""Grids on the sphere S² = SO(3)/SO(2), as rotations taking the north pole z to each point
(escnn's ``sphere_grid``)."""

from __future__ import annotations

import numpy as np

from . import _so3_math as sm

SPHERE_GRID_TYPES = ["rand", "fibonacci", "longlat", "thomson", "thomson_cube", "ico", "cube", "tetra"]


def _need(args, kwargs, name, i=0):
    v = args[i] if len(args) > i else kwargs.get(name)
    if v is None or isinstance(v, bool) or int(v) != v or int(v) <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {v!r}")
    return int(v)


def _orbit_of_z(quats: np.ndarray) -> np.ndarray:
    pts = sm.quat_to_matrix(quats)[:, :, 2]
    keep: list = []
    for p in pts:
        if not any(np.linalg.norm(p - k) < 1e-8 for k in keep):
            keep.append(p)
    return np.array(keep)


def _thomson_points(n: int, steps: int = 200) -> np.ndarray:
    """n points on S² spreading out under a 1/r repulsion (projected gradient descent)."""
    p = sm._fibonacci_sphere(n)
    if n < 2:
        return p
    lr = 0.5 / n
    for _ in range(steps):
        d = p[:, None, :] - p[None, :, :]
        r = np.linalg.norm(d, axis=-1) + np.eye(n)
        f = (d / r[..., None] ** 3).sum(1)
        f -= (f * p).sum(1, keepdims=True) * p
        p = p + lr * f
        p /= np.linalg.norm(p, axis=1, keepdims=True)
    return p


def sphere_points(type: str, *args, **kwargs) -> np.ndarray:
    """(n, 3) unit vectors of the sphere grid ``type`` (see :data:`SPHERE_GRID_TYPES`)."""
    if type == "rand":
        n = _need(args, kwargs, "N")
        seed = args[1] if len(args) > 1 else kwargs.get("seed", None)
        rng = seed if isinstance(seed, np.random.RandomState) else np.random.default_rng(seed)
        p = rng.normal(size=(n, 3))
        return p / np.linalg.norm(p, axis=1, keepdims=True)
    if type == "fibonacci":
        return sm._fibonacci_sphere(_need(args, kwargs, "N"))
    if type == "longlat":
        n, m = _need(args, kwargs, "N"), _need(args, kwargs, "M", 1)
        lon = 2 * np.pi * np.arange(n) / n
        lat = np.pi * (np.arange(m) + 0.5) / m
        lon, lat = np.meshgrid(lon, lat, indexing="ij")
        return np.stack([np.sin(lat) * np.cos(lon), np.sin(lat) * np.sin(lon), np.cos(lat)], -1).reshape(-1, 3)
    if type == "thomson":
        return _thomson_points(_need(args, kwargs, "N"))
    if type == "thomson_cube":
        n = _need(args, kwargs, "N")
        base = _thomson_points(n) @ np.diag([1.0, 0.97, 0.93]) + 0.05  # generic: no point on an axis
        base /= np.linalg.norm(base, axis=1, keepdims=True)
        mats = sm.quat_to_matrix(np.array(sm.octahedral_quaternions()))
        return np.einsum("gij,nj->gni", mats, base).reshape(-1, 3)
    if type in ("ico", "cube", "tetra"):
        q = {"ico": sm.icosahedral_quaternions, "cube": sm.octahedral_quaternions, "tetra": sm.tetrahedral_quaternions}[
            type
        ]()
        return _orbit_of_z(np.array(q))
    raise ValueError(f"type: sphere grids are {SPHERE_GRID_TYPES}, got {type!r}")


def points_to_quaternions(p: np.ndarray) -> np.ndarray:
    """Rotations R_z(φ) R_y(θ) taking (0, 0, 1) to each point (θ, φ its spherical angles)."""
    theta = np.arccos(np.clip(p[:, 2], -1.0, 1.0))
    phi = np.arctan2(p[:, 1], p[:, 0])
    return sm.quat_canonical(sm.euler_zyz_to_quat(np.stack([phi, theta, np.zeros_like(phi)], 1)))
