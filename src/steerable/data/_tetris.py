"""3-D "tetris": eight shapes of four voxels (the benchmark of tensor field networks), as voxel grids.

Each sample is one piece, translated at random inside a ``size``³ grid (odd, so that the 24
rotations of the cube about the centre voxel are exact permutations of the grid). With
``rotate=True`` each piece is also turned by a random rotation of the cube. Two of the pieces
are mirror images of each other (``chiral_left``, ``chiral_right``): they are told apart by
rotations only, not by a group with reflections.

>>> ds = VoxelTetris(16, seed=0)
>>> x, y = ds[0]
>>> tuple(x.shape), float(x.sum()), len(TETRIS_PIECES)
((1, 7, 7, 7), 4.0, 8)
"""

from __future__ import annotations

import itertools

import numpy as np
import torch

TETRIS_PIECES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "chiral_left": ((0, 0, 0), (0, 0, 1), (1, 0, 0), (1, 1, 0)),
    "chiral_right": ((0, 0, 0), (0, 0, 1), (1, 0, 0), (1, -1, 0)),
    "square": ((0, 0, 0), (1, 0, 0), (0, 1, 0), (1, 1, 0)),
    "line": ((0, 0, 0), (0, 0, 1), (0, 0, 2), (0, 0, 3)),
    "corner": ((0, 0, 0), (0, 0, 1), (0, 1, 0), (1, 0, 0)),
    "L": ((0, 0, 0), (0, 0, 1), (0, 0, 2), (0, 1, 0)),
    "T": ((0, 0, 0), (0, 0, 1), (0, 0, 2), (0, 1, 1)),
    "zigzag": ((0, 0, 0), (1, 0, 0), (1, 1, 0), (2, 1, 0)),
}


def cube_rotations() -> np.ndarray:
    """The 24 rotations of the cube: signed permutation matrices of determinant +1, (24, 3, 3) int.

    >>> import numpy as np
    >>> from steerable.data import cube_rotations
    >>> r = cube_rotations()
    >>> r.shape, bool((np.round(np.linalg.det(r)) == 1).all()), bool((r[0] == np.eye(3)).all())
    ((24, 3, 3), True, True)
    """
    mats = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            m = np.zeros((3, 3), dtype=np.int64)
            m[np.arange(3), perm] = signs
            if round(np.linalg.det(m)) == 1:
                mats.append(m)
    return np.stack(mats)


def rotate_voxels(x: torch.Tensor, rotation: np.ndarray) -> torch.Tensor:
    """Turn voxel grids ``x`` (..., n, n, n) with ``n`` odd by a signed permutation matrix
    ``rotation`` (3, 3) about the centre voxel: ``out[R·p] = x[p]`` (an exact permutation).

    >>> import torch
    >>> from steerable.data import cube_rotations, rotate_voxels
    >>> x = torch.zeros(3, 3, 3); x[2, 1, 1] = 1
    >>> r = cube_rotations()[5]
    >>> bool(torch.equal(rotate_voxels(rotate_voxels(x, r), r.T), x))
    True
    """
    n = x.shape[-1]
    if x.dim() < 3 or x.shape[-3:] != (n, n, n) or n % 2 == 0:
        raise ValueError(f"x: expected voxel grids (..., n, n, n) with n odd, got shape {tuple(x.shape)}")
    r = np.asarray(rotation)
    if r.shape != (3, 3) or not np.array_equal(np.abs(r).sum(0), np.ones(3)) or not np.isin(r, (-1, 0, 1)).all():
        raise ValueError(f"rotation: expected a 3x3 signed permutation matrix, got {r.tolist()}")
    c = (n - 1) // 2
    idx = np.stack(np.meshgrid(*[np.arange(n)] * 3, indexing="ij"), -1).reshape(-1, 3) - c
    src = idx @ r + c  # out[q] = x[R^T q]; row vectors: q R = (R^T q^T)^T
    flat = src[:, 0] * n * n + src[:, 1] * n + src[:, 2]
    lead = x.shape[:-3]
    return x.reshape(*lead, n**3)[..., torch.as_tensor(flat)].reshape(*lead, n, n, n)


def _centred(piece) -> np.ndarray:
    p = np.asarray(piece, dtype=np.int64)
    return p - np.floor(p.mean(0) + 0.5).astype(np.int64)


class VoxelTetris(torch.utils.data.Dataset):
    """``n`` tetris pieces as occupancy grids ``(1, size, size, size)`` with labels 0..7.

    The labels cycle through the eight pieces (balanced) in an order shuffled by ``seed``; each
    piece is shifted by a random offset that keeps it inside the grid, and with ``rotate=True``
    turned by a random rotation of the cube first (``self.rotations`` holds the index into
    :func:`cube_rotations`, 0 is the identity).

    >>> import torch
    >>> from steerable.data import VoxelTetris
    >>> a, b = VoxelTetris(8, seed=1), VoxelTetris(8, rotate=True, seed=1)
    >>> sorted(a.labels.tolist()) == list(range(8)), bool(torch.equal(a.labels, b.labels))
    (True, True)
    """

    def __init__(self, n: int, size: int = 7, rotate: bool = False, seed: int = 0):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n: expected an integer > 0, got {n!r}")
        if isinstance(size, bool) or not isinstance(size, int) or size < 7 or size % 2 == 0:
            raise ValueError(f"size: expected an odd integer >= 7, got {size!r}")
        if not isinstance(rotate, bool):
            raise TypeError(f"rotate: expected a bool, got {type(rotate).__name__}")
        rng = np.random.default_rng(seed)
        names = list(TETRIS_PIECES)
        labels = rng.permutation(np.arange(n) % len(names))
        rots = cube_rotations()
        which = rng.integers(0, len(rots), n) if rotate else np.zeros(n, dtype=np.int64)
        grids = np.zeros((n, size, size, size), dtype=np.float32)
        c = (size - 1) // 2
        for i, (lab, k) in enumerate(zip(labels, which)):
            p = _centred(TETRIS_PIECES[names[lab]]) @ rots[k].T  # rotate about the origin
            lo, hi = p.min(0), p.max(0)
            shift = np.array([rng.integers(-c - lo[a], c - hi[a] + 1) for a in range(3)])
            q = p + shift + c
            grids[i, q[:, 0], q[:, 1], q[:, 2]] = 1.0
        self.voxels = torch.from_numpy(grids)[:, None]
        self.labels = torch.from_numpy(labels.astype(np.int64))
        self.rotations = torch.from_numpy(which.astype(np.int64))
        self.size, self.rotate, self.seed = size, rotate, seed

    @property
    def names(self) -> list[str]:
        """The piece names, in label order."""
        return list(TETRIS_PIECES)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return self.voxels[i], self.labels[i]
