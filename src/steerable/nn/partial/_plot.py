"""Figures of learned densities λ over a group: a polar curve on the circle (SO(2); O(2) with one
curve per coset), axis maps at fixed rotation angles for SO(3)/O(3) (slices of the ball), bars
over the elements otherwise. matplotlib is optional and imported only here (its object API, no
pyplot: nothing global changes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch

from ._density import EquivarianceDensity

__all__ = ["plot_density", "plot_densities"]

_ANGLES = (math.pi / 4, math.pi / 2, 3 * math.pi / 4, math.pi)


def _figure(**kw):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install matplotlib (or 'steerable[examples]')") from None
    return Figure(**kw)


def _kind(G) -> str:
    name = G.name
    if name.startswith("SO(2)") and G.continuous:
        return "so2"
    if name.startswith("O(2)") and G.continuous:
        return "o2"
    if name.startswith(("SO(3)", "O(3)")) and G.continuous:
        return "so3"
    return "bars"


@torch.no_grad()
def _circle(density: EquivarianceDensity, flip: int, n: int = 361) -> tuple[np.ndarray, np.ndarray]:
    theta = np.linspace(0, 2 * np.pi, n)
    batch = np.stack([np.full(n, float(flip)), theta], 1)
    return theta, torch.exp(density._log_at_batch(batch, cache=False)).double().cpu().numpy()


@torch.no_grad()
def _axis_map(density: EquivarianceDensity, angle: float, parity: int, n_lon: int = 48, n_lat: int = 24):
    lon = np.linspace(-np.pi, np.pi, n_lon)
    lat = np.linspace(-np.pi / 2, np.pi / 2, n_lat)
    lo, la = np.meshgrid(lon, lat)
    axis = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], -1).reshape(-1, 3)
    q = np.concatenate([axis * math.sin(angle / 2), np.full((len(axis), 1), math.cos(angle / 2))], 1)
    if density.group.name.startswith("O(3)"):
        q = np.concatenate([np.full((len(q), 1), float(parity)), q], 1)
    vals = torch.exp(density._log_at_batch(q, cache=False)).double().cpu().numpy().reshape(n_lat, n_lon)
    return lon, lat, vals


def _element_labels(density: EquivarianceDensity) -> list[str] | None:
    """``rk`` / ``rkf`` (the element r^k f) for cyclic and dihedral groups of up to 32 elements."""
    G = density.group
    if G.continuous or "int" not in G.PARAMETRIZATIONS or len(density.grid_weights) > 32:
        return None
    labels = []
    for g in density.grid_elements:
        v = g.to("int")
        flip, k = v if isinstance(v, tuple) else (0, v)
        labels.append(f"r{int(k)}" + ("f" if int(flip) else ""))
    return labels


def _draw(fig, spec, density: EquivarianceDensity, title: str, vmax: float | None = None) -> None:
    kind = _kind(density.group)
    if kind in ("so2", "o2"):
        ax = fig.add_subplot(spec, projection="polar")
        flips = (0,) if kind == "so2" else (0, 1)
        for f in flips:
            theta, lam = _circle(density, f)
            ax.plot(theta, lam, label="rotations" if f == 0 else "reflections")
        ax.plot(np.linspace(0, 2 * np.pi, 100), np.ones(100), "k:", lw=0.8, label="uniform")
        if kind == "o2":
            ax.legend(loc="lower left", fontsize=6)
        ax.set_title(title, fontsize=8)
        ax.tick_params(labelsize=6)
        return
    if kind == "so3":
        parities = (0, 1) if density.group.name.startswith("O(3)") else (0,)
        sub = spec.subgridspec(len(parities), len(_ANGLES))
        for i, p in enumerate(parities):
            for j, a in enumerate(_ANGLES):
                ax = fig.add_subplot(sub[i, j])
                lon, lat, vals = _axis_map(density, a, p)
                ax.pcolormesh(lon, lat, vals, shading="auto", vmin=0, vmax=vmax)
                ax.set_xticks([])
                ax.set_yticks([])
                label = f"{'−' if p else ''}rotation {a / math.pi:.2g}π"
                ax.set_title(f"{title}: {label}" if j == 0 and i == 0 else label, fontsize=6)
        return
    ax = fig.add_subplot(spec)
    with torch.no_grad():
        lam = density.values().double().cpu().numpy()
    ax.bar(np.arange(len(lam)), lam)
    ax.axhline(1.0, color="k", ls=":", lw=0.8)
    labels = _element_labels(density)
    if labels is None:
        ax.set_xlabel("grid element", fontsize=7)
    else:
        ax.set_xticks(np.arange(len(labels)), labels, fontsize=6)
        ax.set_xlabel("element (r: rotation by 2π/N, f: the flip)", fontsize=6)
    ax.set_title(title, fontsize=8)


def plot_density(density: EquivarianceDensity, title: str = "λ", path: str | None = None):
    """A matplotlib ``Figure`` of λ (saved to ``path`` when given): polar curve(s) over the
    circle for SO(2) / O(2) (rotations and reflections), the rotation-axis map of λ at the angles
    π/4, π/2, 3π/4 and π for SO(3) (and the inversions for O(3)), bars over the quadrature grid
    for finite and product groups. The dotted line is the uniform density (λ = 1).

    >>> from steerable.group import o2_group
    >>> from steerable.nn import EquivarianceDensity, plot_density
    >>> fig = plot_density(EquivarianceDensity(o2_group(), L=2))
    >>> len(fig.axes)
    1
    """
    if not isinstance(density, EquivarianceDensity):
        raise TypeError(f"density: expected an EquivarianceDensity, got {type(density).__name__}")
    return plot_densities({title: density}, path=path)


def plot_densities(densities: Mapping[str, EquivarianceDensity], path: str | None = None, columns: int = 4):
    """One panel per density (``{title: density}``, e.g. :func:`partial_densities`), in a grid of
    ``columns`` panels per row (one row per density for SO(3)/O(3)); saved to ``path`` if given."""
    if not isinstance(densities, Mapping) or not densities:
        raise ValueError("densities: expected a non-empty mapping {title: EquivarianceDensity}")
    for k, d in densities.items():
        if not isinstance(d, EquivarianceDensity):
            raise TypeError(f"densities: {k!r} is a {type(d).__name__}, expected an EquivarianceDensity")
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise ValueError(f"columns: expected a positive integer, got {columns!r}")
    items = list(densities.items())
    wide = any(_kind(d.group) == "so3" for _, d in items)
    cols = 1 if wide else min(columns, len(items))
    rows = math.ceil(len(items) / cols)
    fig = _figure(figsize=(8.0 if wide else 2.6 * cols, (2.2 if wide else 2.6) * rows), layout="constrained")
    spec = fig.add_gridspec(rows, cols)
    for i, (title, d) in enumerate(items):
        _draw(fig, spec[i // cols, i % cols], d, str(title))
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
