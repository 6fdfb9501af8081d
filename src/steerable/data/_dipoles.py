"""Point charges and their dipole moment: a regression target that rotates with the input.

Each sample is a set of ``n_points`` points drawn uniformly in the unit ball, half of charge +1
and half -1 (a neutral set, so the dipole ``d = Σ q_i r_i`` does not depend on the origin). A
sample is a tensor ``(n_points, 4)`` of rows ``(x, y, z, q)``; its target is ``d`` (3,). Rotating
the positions by ``R`` turns the target into ``R d``: an SO(3)-covariant vector.

``hemisphere=True`` keeps every dipole in the upper half space (``d_z >= 0``, by flipping the
charges of the others), a training distribution that has seen only "upward" dipoles;
``rotate=True`` turns each set (and its dipole) by a random rotation.

>>> ds = PointDipoles(4, n_points=6, seed=0)
>>> x, d = ds[0]
>>> tuple(x.shape), tuple(d.shape), float(x[:, 3].sum())
((6, 4), (3,), 0.0)
>>> bool(torch.allclose(d, (x[:, 3:] * x[:, :3]).sum(0)))
True
"""

from __future__ import annotations

import numpy as np
import torch


def random_rotations(n: int, seed: int = 0) -> np.ndarray:
    """``n`` rotation matrices (n, 3, 3) drawn from the uniform (Haar) distribution on SO(3).

    >>> import numpy as np
    >>> from steerable.data import random_rotations
    >>> r = random_rotations(5)
    >>> bool(np.allclose(r @ r.transpose(0, 2, 1), np.eye(3))), bool(np.allclose(np.linalg.det(r), 1))
    (True, True)
    """
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
        ],
        1,
    )


class PointDipoles(torch.utils.data.Dataset):
    """``n`` neutral sets of point charges ``(n_points, 4)`` and their dipole moments ``(3,)``.

    >>> from steerable.data import PointDipoles
    >>> up = PointDipoles(32, hemisphere=True, seed=1)
    >>> bool((up.targets[:, 2] >= 0).all())
    True
    """

    def __init__(self, n: int, n_points: int = 8, hemisphere: bool = False, rotate: bool = False, seed: int = 0):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n: expected an integer > 0, got {n!r}")
        if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 2 or n_points % 2:
            raise ValueError(f"n_points: expected an even integer >= 2, got {n_points!r}")
        for name, v in (("hemisphere", hemisphere), ("rotate", rotate)):
            if not isinstance(v, bool):
                raise TypeError(f"{name}: expected a bool, got {type(v).__name__}")
        rng = np.random.default_rng(seed)
        direction = rng.normal(size=(n, n_points, 3))
        direction /= np.linalg.norm(direction, axis=2, keepdims=True)
        pos = direction * rng.uniform(size=(n, n_points, 1)) ** (1.0 / 3.0)  # uniform in the ball
        q = np.tile(np.repeat([1.0, -1.0], n_points // 2), (n, 1))
        q = np.take_along_axis(q, np.argsort(rng.uniform(size=(n, n_points)), axis=1), axis=1)
        if hemisphere:
            flip = (q[..., None] * pos).sum(1)[:, 2] < 0
            q[flip] *= -1.0
        if rotate:
            r = random_rotations(n, seed=seed + 7919)
            pos = np.einsum("nij,npj->npi", r, pos)
        d = (q[..., None] * pos).sum(1)
        self.points = torch.from_numpy(np.concatenate([pos, q[..., None]], -1).astype(np.float32))
        self.targets = torch.from_numpy(d.astype(np.float32))
        self.n_points, self.hemisphere, self.rotate, self.seed = n_points, hemisphere, rotate, seed

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i):
        return self.points[i], self.targets[i]
