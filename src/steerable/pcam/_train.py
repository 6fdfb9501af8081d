"""Training and evaluation of the PCam models on the official HDF5 files (or the synthetic set in
their format): in-memory splits, D4 augmentation, the library's :class:`~steerable.training.Trainer`."""

from __future__ import annotations

import os

import numpy as np
import torch

from steerable.data import PCam
from steerable.training import Trainer, accuracy

from ._metrics import binary_metrics, predict_scores

__all__ = ["load_split", "D4Augmented", "train_pcam", "evaluate_pcam"]


def load_split(data_dir: str | os.PathLike, split: str, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """A whole split in memory: images ``(N, 3, 96, 96)`` float32 in [0, 1] and labels ``(N,)``
    (PCam's test split is 32,768 patches: 3.6 GB as float32; pass ``limit`` for less).

    >>> import tempfile
    >>> from steerable.data import make_synthetic_pcam
    >>> from steerable.pcam import load_split
    >>> root = make_synthetic_pcam(tempfile.mkdtemp(), n_train=4, n_valid=2, n_test=2)
    >>> x, y = load_split(root, "valid")
    >>> tuple(x.shape), y.tolist() in ([0, 1], [1, 0])
    ((2, 3, 96, 96), True)
    """
    ds = PCam(data_dir, split, limit=limit)  # checks the files and the arguments
    import h5py  # PCam has imported it successfully

    with h5py.File(ds.files[0], "r") as f:
        x = np.asarray(f["x"][: ds.n])
    images = torch.from_numpy(x).permute(0, 3, 1, 2).float().div_(255.0).contiguous()
    return images, ds.labels.clone()


class D4Augmented(torch.utils.data.Dataset):
    """``(image, label)`` pairs of in-memory tensors, each image moved by a random symmetry of the
    square (``augment=True``; drawn from torch's generator, which the Trainer seeds).

    >>> import torch
    >>> from steerable.pcam import D4Augmented
    >>> ds = D4Augmented(torch.rand(3, 3, 8, 8), torch.tensor([0, 1, 1]))
    >>> x, y = ds[1]
    >>> tuple(x.shape), int(y)
    ((3, 8, 8), 1)
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, augment: bool = True):
        if not isinstance(images, torch.Tensor) or images.dim() != 4:
            raise ValueError(f"images: expected a tensor (N, C, H, W), got {getattr(images, 'shape', images)!r}")
        if len(labels) != len(images):
            raise ValueError(f"labels: expected {len(images)} labels, got {len(labels)}")
        self.images, self.labels, self.augment = images, torch.as_tensor(labels), bool(augment)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        x = self.images[i]
        if self.augment:
            k, flip = torch.randint(4, ()).item(), torch.randint(2, ()).item()
            x = torch.rot90(x, int(k), (1, 2))
            if flip:
                x = torch.flip(x, (2,))
        return x, self.labels[i]


def train_pcam(
    model: torch.nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    valid: tuple[torch.Tensor, torch.Tensor] | None = None,
    *,
    epochs: int = 5,
    batch_size: int = 64,
    lr: float = 1e-2,
    weight_decay: float = 1e-4,
    augment: bool = True,
    seed: int = 0,
    out: str | None = None,
    progress: bool = False,
    **trainer_kwargs,
):
    """Train ``model`` on in-memory ``train`` tensors with cross-entropy, AdamW (peak ``lr``,
    cosine decay) and D4 augmentation; returns the :class:`~steerable.training.FitResult`
    (``valid`` accuracy per epoch in its history as ``test_acc``). ``out``: a run folder
    (checkpoints, logs, resumable), as for ``steerable train``.

    >>> import torch
    >>> from steerable.pcam import build_pcam_model, train_pcam
    >>> _ = torch.manual_seed(0)
    >>> x, y = torch.rand(16, 3, 32, 32), torch.randint(2, (16,))
    >>> result = train_pcam(build_pcam_model('D4', 0.25, input_size=32), (x, y), epochs=1, batch_size=8)
    >>> result.last['epoch']
    1
    """
    data = D4Augmented(*train, augment=augment)
    eval_data = None if valid is None else {"test": valid}
    return Trainer(
        model,
        data,
        loss=torch.nn.functional.cross_entropy,
        metrics={"acc": accuracy},
        eval_data=eval_data,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        seed=seed,
        out=out,
        device=trainer_kwargs.pop("device", "cpu"),
        progress=progress,
        task="pcam",
        **trainer_kwargs,
    ).fit()


def evaluate_pcam(model, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 256) -> dict:
    """Accuracy and AUC of ``model`` (a steerable or plain module, an exported, int8, TorchScript or
    ONNX model: any callable on image batches) on ``images``.

    >>> import torch
    >>> from steerable.pcam import build_pcam_model, evaluate_pcam
    >>> m = build_pcam_model('C4', 0.25, input_size=32)
    >>> r = evaluate_pcam(m, torch.rand(8, 3, 32, 32), torch.tensor([0, 1] * 4))
    >>> sorted(r)
    ['accuracy', 'auc']
    """
    return binary_metrics(predict_scores(model, images, batch_size).float(), labels)
