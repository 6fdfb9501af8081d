"""Accuracy and invariance of a classifier's logits under rotations of its input.

Two kinds of rotation:

- the four 90° rotations (``torch.rot90``): exact permutations of an odd-sized grid, so a
  C4-equivariant network (C8, C16, D16, ...) with invariant pooling gives the same logits up to
  float rounding;
- arbitrary angles (``scipy.ndimage.rotate``, cubic spline by default; ``order=1`` is the
  bilinear resampling that made the rotated-MNIST data): only approximately a symmetry of the
  grid, so even a C8-equivariant network changes its logits at 45°; a plain CNN changes them
  more. Resampling itself blurs the digit: ``resampling_floor`` is the change caused by rotating
  by 45° and back (no net rotation), the part of the number that no network can avoid. Bilinear
  resampling blurs so much that it dominates (about 0.3 for any model); cubic keeps it near 0.02.

The invariance error of an image ``x`` under ``g`` is ``|f(g·x) - f(x)| / |f(x)|`` (2-norm over
the logits), averaged (``mean_rel``) and maximised (``max_rel``) over the images.

>>> import torch
>>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(9, 3))
>>> x, y = torch.randn(5, 1, 3, 3), torch.tensor([0, 1, 2, 0, 1])
>>> r = rot90_invariance(model, x, y)
>>> sorted(r)
['accuracy', 'max_rel', 'mean_rel', 'per_rotation']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch


@torch.no_grad()
def predict_logits(
    model: torch.nn.Module, images: torch.Tensor, batch_size: int = 250, device: torch.device | str | None = None
) -> torch.Tensor:
    """Logits of ``model`` (put in eval mode) for ``images`` (N, C, H, W), on the CPU, float32."""
    model.eval()
    if device is None:
        p = next(iter(model.parameters()), None)
        device = p.device if p is not None else torch.device("cpu")
    outs = []
    for i in range(0, len(images), batch_size):
        xb = images[i : i + batch_size].to(device)
        outs.append(model(xb).float().cpu())
    return torch.cat(outs) if outs else torch.empty(0)


def accuracy_of(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of rows whose arg-max is the label."""
    return float((logits.argmax(1) == labels).float().mean()) if len(labels) else float("nan")


def relative_change(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-row ``|a - b| / |b|`` (float64)."""
    a, b = a.double(), b.double()
    return (a - b).norm(dim=1) / b.norm(dim=1).clamp_min(1e-12)


def _progress_bar(total: int, enabled: bool, desc: str):
    """A tqdm bar of ``total`` passes (None when disabled or without tqdm, which is optional)."""
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="pass", dynamic_ncols=True, leave=False)


def _tick(bar) -> None:
    if bar is not None:
        bar.update(1)


def rot90_invariance(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int = 250,
    base: torch.Tensor | None = None,
    _bar=None,
) -> dict:
    """Logit change and accuracy under the rotations by 90°, 180°, 270° (exact, ``torch.rot90``)."""
    if base is None:
        base = predict_logits(model, images, batch_size)
    per = []
    worst_mean, worst_max = 0.0, 0.0
    accs = []
    for k in (1, 2, 3):
        logits = predict_logits(model, torch.rot90(images, k, dims=(-2, -1)), batch_size)
        _tick(_bar)
        rel = relative_change(logits, base)
        acc = accuracy_of(logits, labels)
        per.append({"degrees": 90 * k, "accuracy": acc, "mean_rel": float(rel.mean()), "max_rel": float(rel.max())})
        worst_mean = max(worst_mean, float(rel.mean()))
        worst_max = max(worst_max, float(rel.max()))
        accs.append(acc)
    return {
        "mean_rel": float(np.mean([p["mean_rel"] for p in per])),
        "max_rel": worst_max,
        "accuracy": float(np.mean(accs)),
        "per_rotation": per,
    }


def rotate_batch(images: torch.Tensor, degrees: float, order: int = 3) -> torch.Tensor:
    """Rotate (N, C, H, W) images by ``degrees`` (counter-clockwise) about the centre pixel.

    Multiples of 90° use ``torch.rot90`` (exact); other angles ``scipy.ndimage.rotate`` with a
    spline of ``order`` (1: bilinear, 3: cubic), zeros outside, clipped to the input's range.

    >>> import torch
    >>> from steerable.training import rotate_batch
    >>> x = torch.rand(2, 1, 5, 5)
    >>> torch.equal(rotate_batch(x, 90), torch.rot90(x, 1, dims=(-2, -1)))
    True
    """
    from scipy import ndimage

    d = float(degrees) % 360.0
    if abs(d - round(d / 90.0) * 90.0) < 1e-9:
        return torch.rot90(images, int(round(d / 90.0)) % 4, dims=(-2, -1))
    arr = images.detach().cpu().numpy()
    out = ndimage.rotate(arr, d, axes=(-1, -2), reshape=False, order=order, mode="constant", cval=0.0)
    out = np.clip(out, float(arr.min()), float(arr.max())) if arr.size else out
    return torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))


def angle_invariance(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    angles: Iterable[float] = range(0, 360, 15),
    batch_size: int = 250,
    base: torch.Tensor | None = None,
    order: int = 3,
    _bar=None,
) -> list[dict]:
    """For each angle: accuracy, mean and max relative logit change against the unrotated input."""
    if base is None:
        base = predict_logits(model, images, batch_size)
    rows = []
    for a in angles:
        logits = predict_logits(model, rotate_batch(images, a, order), batch_size)
        _tick(_bar)
        rel = relative_change(logits, base)
        rows.append(
            {
                "degrees": float(a),
                "accuracy": accuracy_of(logits, labels),
                "mean_rel": float(rel.mean()),
                "max_rel": float(rel.max()),
            }
        )
    return rows


def evaluate_model(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    angles: Sequence[float] = tuple(range(0, 360, 15)),
    batch_size: int = 250,
    order: int = 3,
    progress: bool = False,
) -> dict:
    """Test accuracy, 90° invariance and invariance vs angle, as one JSON-able report.

    ``progress``: show a tqdm bar (on stderr) of the passes over the images, one per rotation
    (when tqdm is installed).
    """
    angles = list(angles)
    bar = _progress_bar(1 + 3 + (len(angles) + 1 if angles else 0), progress, "evaluate")
    try:
        base = predict_logits(model, images, batch_size)
        _tick(bar)
        report = {
            "n_images": int(len(labels)),
            "accuracy": accuracy_of(base, labels),
            "rot90": rot90_invariance(model, images, labels, batch_size, base=base, _bar=bar),
        }
        if angles:
            _angle_report(report, model, images, labels, angles, batch_size, base, order, bar)
    finally:
        if bar is not None:
            bar.close()
    return report


def _angle_report(report: dict, model, images, labels, angles, batch_size, base, order, bar) -> None:
    """Add the per-angle rows and their summary (``arbitrary``) to ``report``."""
    rows = angle_invariance(model, images, labels, angles, batch_size, base=base, order=order, _bar=bar)
    there_and_back = rotate_batch(rotate_batch(images, 45.0, order), -45.0, order)
    floor = relative_change(predict_logits(model, there_and_back, batch_size), base)
    _tick(bar)
    off = [r for r in rows if abs(r["degrees"] / 90.0 - round(r["degrees"] / 90.0)) > 1e-9]
    report["angles"] = rows
    report["arbitrary"] = {
        # None (JSON null) when every tested angle is a multiple of 90°: nothing to summarise
        "mean_rel": float(np.mean([r["mean_rel"] for r in off])) if off else None,
        "max_rel": float(max(r["max_rel"] for r in off)) if off else None,
        "accuracy": float(np.mean([r["accuracy"] for r in off])) if off else None,
        "worst_accuracy": float(min(r["accuracy"] for r in rows)),
        "resampling_floor": float(floor.mean()),
        "interpolation_order": int(order),
    }
