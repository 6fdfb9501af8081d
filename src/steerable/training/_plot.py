"""Figures from run logs (``log.json``) and evaluation reports (``eval.json``), as PNG files.

matplotlib is optional (``pip install 'steerable[examples]'``) and is imported only here, with
the non-interactive Agg backend.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ._checkpoint import atomic_write


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install matplotlib (or 'steerable[examples]')") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise ValueError(f"cannot create {folder} for {path}: {e.strerror or e}") from None
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    atomic_write(path, lambda f: fig.savefig(f, format=fmt, dpi=120, bbox_inches="tight"))


def _metric_names(history: list) -> list[str]:
    """The metrics of a history: ``loss`` first, then every ``SET_NAME`` column's NAME, in order."""
    names: list[str] = []
    for row in history:
        for k in row:
            if "_" in k and k not in ("epoch", "lr", "seconds"):
                m = k.split("_", 1)[1]
                if m not in names and isinstance(row[k], (int, float)):
                    names.append(m)
    return sorted(names, key=lambda m: m != "loss")


def plot_history(
    runs: Sequence[tuple[str, list]], path: str, metrics: Sequence[str] | None = None, title: str | None = None
) -> str:
    """One panel per metric (``loss``, ``acc``, ``cos_err``...) against the epoch: a line per run
    and data set (``train`` dashed, evaluation sets solid), for any task's history.

    ``runs``: ``[(label, history)]`` with ``history`` the list of per-epoch dicts of ``log.json``;
    ``metrics``: the metric names to draw (default: all of the first run's).

    >>> import os, tempfile
    >>> from steerable.training import plot_history
    >>> hist = [{"epoch": e, "train_loss": 1 / e, "test_loss": 1.2 / e, "test_acc": 0.5 + e / 10} for e in (1, 2)]
    >>> p = plot_history([("run", hist)], os.path.join(tempfile.mkdtemp(), "history.png"))
    >>> open(p, "rb").read(4)[1:] == b"PNG"
    True
    """
    if not runs:
        raise ValueError("runs: expected at least one (label, history) pair, got none")
    names = list(metrics) if metrics is not None else _metric_names(runs[0][1])
    if not names:
        raise ValueError("runs: the history has no metric columns (NAME_METRIC keys such as train_loss)")
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(names), figsize=(4.6 * len(names), 3.6), squeeze=False)
    for ax, m in zip(axes[0], names):
        for i, (label, hist) in enumerate(runs):
            cols = [k for k in (hist[0] if hist else {}) if k.endswith("_" + m) and k.split("_", 1)[1] == m]
            for k in cols:
                rows = [r for r in hist if k in r]
                split = k[: -len(m) - 1]
                ax.plot(
                    [r["epoch"] for r in rows],
                    [r[k] for r in rows],
                    "--" if split == "train" else "-o",
                    color=f"C{i}",
                    ms=3,
                    alpha=0.6 if split == "train" else 1.0,
                    label=f"{label} {split}",
                )
        ax.set(xlabel="epoch", ylabel=m, title=m if title is None else f"{title}: {m}")
        if m in ("loss", "mse") or m.endswith("_err"):
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    _save(fig, path)
    plt.close(fig)
    return path


def plot_accuracy(runs: Sequence[tuple[str, list]], path: str) -> str:
    """Train/test accuracy and loss per epoch, one colour per run.

    ``runs``: ``[(label, history)]`` with ``history`` the list of per-epoch dicts of ``log.json``.
    """
    plt = _pyplot()
    fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(10, 3.8))
    for i, (label, hist) in enumerate(runs):
        c = f"C{i}"
        ep = [r["epoch"] for r in hist]
        ax_acc.plot(ep, [100 * r["test_acc"] for r in hist], "-o", color=c, ms=3, label=f"{label} test")
        ax_acc.plot(ep, [100 * r["train_acc"] for r in hist], "--", color=c, alpha=0.6, label=f"{label} train")
        ax_loss.plot(ep, [r["test_loss"] for r in hist], "-o", color=c, ms=3, label=f"{label} test")
        ax_loss.plot(ep, [r["train_loss"] for r in hist], "--", color=c, alpha=0.6, label=f"{label} train")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="rotated MNIST: accuracy")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss", yscale="log")
    for ax in (ax_acc, ax_loss):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    _save(fig, path)
    plt.close(fig)
    return path


def plot_invariance(reports: Sequence[tuple[str, dict]], path: str) -> str:
    """Relative logit change and accuracy against the rotation angle of the input, per model.

    ``reports``: ``[(label, report)]`` with ``report`` what ``steerable evaluate`` writes
    (``eval.json``; needs its ``angles`` rows).
    """
    plt = _pyplot()
    fig, (ax_inv, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8))
    for i, (label, rep) in enumerate(reports):
        rows = rep.get("angles") or []
        if not rows:
            raise ValueError(f"{label}: the evaluation report has no per-angle rows (evaluate with --angle-step > 0)")
        c = f"C{i}"
        deg = [r["degrees"] for r in rows]
        floor = 1e-9  # log axis: the unrotated input (0 change) sits on the floor
        ax_inv.plot(deg, [max(r["mean_rel"], floor) for r in rows], "-o", color=c, ms=3, label=f"{label} mean")
        ax_inv.plot(deg, [max(r["max_rel"], floor) for r in rows], ":", color=c, alpha=0.7, label=f"{label} max")
        resampling = (rep.get("arbitrary") or {}).get("resampling_floor")
        if resampling:
            ax_inv.axhline(resampling, color=c, ls="--", lw=0.8, alpha=0.5)
        ax_acc.plot(deg, [100 * r["accuracy"] for r in rows], "-o", color=c, ms=3, label=label)
    for ax in (ax_inv, ax_acc):
        for a in (90, 180, 270):
            ax.axvline(a, color="0.85", lw=0.8, zorder=0)
        ax.set_xticks(range(0, 361, 45))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    ax_inv.set(
        xlabel="rotation of the input (degrees)",
        ylabel="|f(gx) - f(x)| / |f(x)|",
        title="logit invariance (dashed: resampling alone)",
        yscale="log",
    )
    ax_inv.set_ylim(5e-10, 10)
    ax_acc.set(xlabel="rotation of the input (degrees)", ylabel="test accuracy (%)", title="accuracy vs rotation")
    _save(fig, path)
    plt.close(fig)
    return path
