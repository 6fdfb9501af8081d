"""Binary-classification metrics of the PCam pipeline: accuracy and ROC AUC."""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import rankdata

__all__ = ["roc_auc", "binary_metrics", "predict_scores"]


def roc_auc(scores, labels) -> float:
    """Area under the ROC curve: the probability that a random positive scores above a random
    negative (ties count one half), by the Mann–Whitney rank sum.

    >>> from steerable.pcam import roc_auc
    >>> roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    0.75
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    y = np.asarray(labels).reshape(-1)
    if s.shape != y.shape:
        raise ValueError(f"labels: expected {s.shape[0]} labels for {s.shape[0]} scores, got {y.shape[0]}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels: expected 0/1 labels")
    pos = int(y.sum())
    neg = len(y) - pos
    if pos == 0 or neg == 0:
        raise ValueError("labels: the AUC needs both classes")
    r = rankdata(s)
    return float((r[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


@torch.no_grad()
def predict_scores(model, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Logits of ``model`` (a module in eval mode, or any callable on tensors) on ``images``, batched."""
    if hasattr(model, "eval"):
        model.eval()
    return torch.cat([model(images[i : i + batch_size]) for i in range(0, len(images), batch_size)])


def binary_metrics(logits: torch.Tensor, labels: torch.Tensor) -> dict:
    """``{'accuracy', 'auc'}`` of two-class ``logits`` (B, 2) against 0/1 ``labels``.

    >>> import torch
    >>> from steerable.pcam import binary_metrics
    >>> binary_metrics(torch.tensor([[2., 0.], [0., 1.], [0., 3.]]), torch.tensor([0, 1, 0]))
    {'accuracy': 0.6666666666666666, 'auc': 0.5}
    """
    if logits.dim() != 2 or logits.shape[1] != 2:
        raise ValueError(f"logits: expected (B, 2), got {tuple(logits.shape)}")
    labels = torch.as_tensor(labels).reshape(-1)
    acc = float((logits.argmax(1) == labels).double().mean())
    score = (logits[:, 1] - logits[:, 0]).double().numpy()
    return {"accuracy": acc, "auc": roc_auc(score, labels.numpy())}
