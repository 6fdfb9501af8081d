"""Patch Camelyon (PCam, Veeling et al. 2018): 96×96 RGB patches of lymph-node sections, labelled 1
when the central 32×32 region holds tumour tissue. Rotations and flips of a patch are exact
symmetries of the label.

:class:`PCam` reads the official HDF5 files (``camelyonpatch_level_2_split_{train,valid,test}_{x,y}.h5``:
``x`` is ``(N, 96, 96, 3)`` uint8, ``y`` is ``(N, 1, 1, 1)`` uint8) through ``h5py`` (optional:
``pip install "steerable[pcam]"``). No data set can be downloaded here, so
:func:`make_synthetic_pcam` writes files in the same format with synthetic, tissue-like patches
(stroma texture, nuclei, and for positives a cluster of large, dense, irregular nuclei in the
centre), on which the same pipeline runs; point ``data_dir`` at the real (gunzipped) files to use
PCam itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

__all__ = ["PCAM_SPLITS", "PCam", "make_synthetic_pcam", "pcam_files"]

PCAM_SPLITS = ("train", "valid", "test")
_AUGMENT = ("none", "d4")


def _h5py():
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("reading PCam's HDF5 files needs h5py: pip install 'steerable[pcam]'") from e
    return h5py


def pcam_files(data_dir: str | os.PathLike, split: str) -> tuple[Path, Path]:
    """The official file names of a split: ``(…_x.h5, …_y.h5)`` in ``data_dir``.

    >>> from steerable.data import pcam_files
    >>> [p.name for p in pcam_files("data", "valid")]
    ['camelyonpatch_level_2_split_valid_x.h5', 'camelyonpatch_level_2_split_valid_y.h5']
    """
    if split not in PCAM_SPLITS:
        raise ValueError(f"split: expected one of {PCAM_SPLITS}, got {split!r}")
    d = Path(data_dir)
    return tuple(d / f"camelyonpatch_level_2_split_{split}_{k}.h5" for k in ("x", "y"))  # type: ignore[return-value]


class PCam(torch.utils.data.Dataset):
    """One split of PCam from its HDF5 files in ``data_dir``: items are ``(image, label)`` with
    ``image`` a float32 ``(3, 96, 96)`` tensor in [0, 1] and ``label`` an int (1: tumour).

    ``augment="d4"`` applies a random symmetry of the square (a rotation by a multiple of 90° and
    an optional flip: exact on the pixel grid) to each training item; ``limit`` keeps the first
    ``limit`` patches. Files are opened lazily, once per process (safe with DataLoader workers).

    >>> import tempfile
    >>> from steerable.data import PCam, make_synthetic_pcam
    >>> root = make_synthetic_pcam(tempfile.mkdtemp(), n_train=8, n_valid=4, n_test=4, seed=0)
    >>> ds = PCam(root, "train")
    >>> x, y = ds[0]
    >>> len(ds), tuple(x.shape), x.dtype, y in (0, 1)
    (8, (3, 96, 96), torch.float32, True)
    """

    def __init__(
        self,
        data_dir: str | os.PathLike,
        split: str = "train",
        *,
        augment: str = "none",
        limit: int | None = None,
        seed: int = 0,
    ):
        fx, fy = pcam_files(data_dir, split)
        missing = [p.name for p in (fx, fy) if not p.is_file()]
        if missing:
            gz = [n for n in missing if (Path(data_dir) / (n + ".gz")).is_file()]
            hint = f" (found {gz[0]}.gz: gunzip it first)" if gz else ""
            raise FileNotFoundError(f"data_dir: {os.fspath(data_dir)!r} lacks {', '.join(missing)}{hint}")
        if augment not in _AUGMENT:
            raise ValueError(f"augment: expected one of {_AUGMENT}, got {augment!r}")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ValueError(f"limit: expected a positive int or None, got {limit!r}")
        h5 = _h5py()
        with h5.File(fx, "r") as f, h5.File(fy, "r") as g:
            n = len(f["x"])
            if len(g["y"]) != n or tuple(f["x"].shape[1:]) != (96, 96, 3):
                raise ValueError(
                    f"data_dir: {fx.name} holds {tuple(f['x'].shape)} images and {fy.name} {len(g['y'])} labels; "
                    "expected (N, 96, 96, 3) and N"
                )
            self.labels = torch.from_numpy(np.asarray(g["y"][:], dtype=np.int64).reshape(-1))
        self.files = (fx, fy)
        self.split, self.augment = split, augment
        self.n = n if limit is None else min(limit, n)
        self.labels = self.labels[: self.n]
        self._rng = np.random.default_rng(seed)
        self._x: Any = None  # the open HDF5 dataset, per process

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        if not -self.n <= i < self.n:
            raise IndexError(f"index {i} out of range for {self.n} patches")
        if self._x is None:
            self._x = _h5py().File(self.files[0], "r")["x"]
        img = torch.from_numpy(np.asarray(self._x[i % self.n])).permute(2, 0, 1).float() / 255.0
        if self.augment == "d4":
            k, flip = int(self._rng.integers(4)), bool(self._rng.integers(2))
            img = torch.rot90(img, k, (1, 2))
            if flip:
                img = torch.flip(img, (2,))
        return img, int(self.labels[i])

    def __getstate__(self):  # the open HDF5 handle does not pickle: reopen in the worker
        state = dict(self.__dict__)
        state["_x"] = None
        return state


def _nuclei(rng, canvas: np.ndarray, centres: np.ndarray, radius: tuple[float, float], darkness: float) -> None:
    """Stamp elliptical, randomly oriented nuclei (haematoxylin-like purple) onto ``canvas``."""
    size = canvas.shape[0]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    for cy, cx in centres:
        a = rng.uniform(*radius)
        b = a * rng.uniform(0.55, 1.0)
        t = rng.uniform(0, np.pi)
        dy, dx = yy - cy, xx - cx
        u, v = dx * np.cos(t) + dy * np.sin(t), -dx * np.sin(t) + dy * np.cos(t)
        mask = np.clip(1.5 - np.sqrt((u / a) ** 2 + (v / b) ** 2), 0, 1)
        colour = np.array([0.35, 0.18, 0.45]) * rng.uniform(0.8, 1.1)
        canvas -= darkness * mask[..., None] * (1 - colour)


def _patch(rng, tumour: bool, size: int = 96, difficulty: str = "easy") -> np.ndarray:
    """One synthetic H&E-like patch, float in [0, 1], (size, size, 3).

    ``easy``: positives carry a cluster of 8–17 large, dark nuclei near the centre. ``hard``: the
    cluster has 4–8 nuclei whose sizes overlap the background's, and half of all patches (of
    either class) carry a like cluster away from the centre, so that the label depends on where a
    cluster lies (within the central region: tumour), as in PCam, not on whether there is one."""
    texture = gaussian_filter(rng.normal(size=(size, size)), 3.0)
    texture = (texture - texture.mean()) / (texture.std() + 1e-9)
    pink = np.array([0.93, 0.72, 0.82])
    img = pink[None, None, :] - 0.05 * texture[..., None] * np.array([0.2, 1.0, 0.5])
    n_bg = rng.integers(15, 40)
    _nuclei(rng, img, rng.uniform(0, size, size=(n_bg, 2)), (1.8, 3.4), 0.8)
    hard = difficulty == "hard"
    count, radius, spread = ((4, 9), (2.6, 4.2), 6.0) if hard else ((8, 18), (3.0, 4.8), 10.0)
    if hard and rng.random() < 0.5:  # a distractor cluster 34–44 pixels from the centre
        a, r = rng.uniform(0, 2 * np.pi), rng.uniform(34, 44)
        c = size / 2 + r * np.array([np.cos(a), np.sin(a)])
        _nuclei(rng, img, c + rng.normal(scale=spread, size=(rng.integers(*count), 2)), radius, 0.9)
    if tumour:  # a cluster of large, irregular nuclei overlapping the central 32×32 region
        c = size / 2 + rng.uniform(-10, 10, size=2)
        _nuclei(rng, img, c + rng.normal(scale=spread, size=(rng.integers(*count), 2)), radius, 0.9)
    img += 0.03 * rng.normal(size=img.shape)
    return np.clip(img, 0, 1)


def make_synthetic_pcam(
    data_dir: str | os.PathLike,
    n_train: int = 2048,
    n_valid: int = 256,
    n_test: int = 512,
    *,
    seed: int = 0,
    difficulty: str = "easy",
) -> Path:
    """Write a PCam-format data set of synthetic patches to ``data_dir`` (the six official file
    names; labels balanced at random). The label is invariant to rotations and flips by
    construction. ``difficulty``: ``'easy'`` (a tumour cluster is large and obvious) or
    ``'hard'`` (smaller clusters, and off-centre distractor clusters in both classes: the model
    must tell where a cluster lies). Returns ``data_dir`` as a Path.

    >>> import tempfile
    >>> from steerable.data import PCam, make_synthetic_pcam
    >>> root = make_synthetic_pcam(tempfile.mkdtemp(), n_train=4, n_valid=2, n_test=2, seed=1)
    >>> sorted(p.name for p in root.iterdir())[0]
    'camelyonpatch_level_2_split_test_x.h5'
    """
    for name, n in (("n_train", n_train), ("n_valid", n_valid), ("n_test", n_test)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"{name}: expected a positive int, got {n!r}")
    if difficulty not in ("easy", "hard"):
        raise ValueError(f"difficulty: expected 'easy' or 'hard', got {difficulty!r}")
    h5 = _h5py()
    root = Path(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    for k, (split, n) in enumerate(zip(PCAM_SPLITS, (n_train, n_valid, n_test), strict=True)):
        rng = np.random.default_rng([seed, k])
        labels = rng.permutation(np.arange(n) % 2).astype(np.uint8)
        x = np.stack([(_patch(rng, bool(t), difficulty=difficulty) * 255).round().astype(np.uint8) for t in labels])
        fx, fy = pcam_files(root, split)
        with h5.File(fx, "w") as f:
            f.create_dataset("x", data=x, chunks=(1, 96, 96, 3), compression="gzip")
        with h5.File(fy, "w") as f:
            f.create_dataset("y", data=labels.reshape(-1, 1, 1, 1))
    return root
