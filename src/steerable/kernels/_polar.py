"""Polar steerable filter bases: Gaussian rings × circular harmonics (R^2) or × spherical
harmonics (R^3).

``CircularShellsBasis(L, radial)`` is the O(2)-steerable basis ``φ_r(|x|) Y_j(x̂)`` for every ring
``r`` of ``radial`` and every circular harmonic ``j = 0..L`` (``Y_0 = 1``,
``Y_j = (cos jθ, sin jθ)``, θ the angle from the mirror axis ``axis``); ``SphericalShellsBasis``
the O(3)-steerable one with the real spherical harmonics ``Y_l`` (``Σ_m Y_lm² = 1`` on the
sphere). Elements are ordered by harmonic, then ring, then coordinate ``m`` (escnn's order);
``filter`` drops whole (harmonic, ring) subspaces. At the origin only ``Y_0`` is non-zero; there
the harmonics are evaluated as the harmonic polynomials ``|x|^j Y_j(x̂)`` so that the sampled basis
keeps a gradient in the points (as the polynomials do) instead of a constant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch

from steerable.group import change_basis, o2_group, o3_group

from ._filters_basis import SteerableFiltersBasis, _prefixed_attributes, _standard_representation
from ._harmonic_generator import HarmonicPolynomialR3Generator
from ._kernel_basis import KernelBasis, _as_points, _write_out
from ._torch_harmonics import harmonics_torch, spherical_harmonics_torch

__all__ = ["GaussianRadialProfile", "CircularShellsBasis", "SphericalShellsBasis"]

_ORIGIN = 1e-9


def _radii(points: torch.Tensor) -> torch.Tensor:
    """|x| with a zero (not NaN) gradient at the origin."""
    sq = (points * points).sum(-1)
    zero = sq == 0
    r = torch.sqrt(torch.where(zero, torch.ones_like(sq), sq))
    return torch.where(zero, torch.zeros_like(r), r)


class GaussianRadialProfile(KernelBasis):
    """Gaussian rings ``b_i(r) = exp(-(r - r_i)² / (2 σ_i²))`` on the half-line r ≥ 0.

    ``radii``: the ring centres; ``sigma``: one width or one per ring. ``sample(radii)`` takes
    radii ``(N, 1)`` and returns ``(N, len(radii), 1, 1)``.

    >>> import torch
    >>> from steerable.kernels import GaussianRadialProfile
    >>> p = GaussianRadialProfile([0., 1.], 0.5)
    >>> p.sample(torch.tensor([[1.]])).flatten().tolist()[1], p[1]
    (1.0, {'radius': 1.0, 'sigma': 0.5, 'idx': 1})
    """

    radii: torch.Tensor  # buffers (1, n_rings, 1, 1), float64
    sigma: torch.Tensor

    def __init__(self, radii: list[float], sigma: list[float] | float):
        try:
            radii = [float(r) for r in radii]
        except TypeError:
            raise TypeError(f"radii: expected a list of non-negative numbers, got {type(radii).__name__}") from None
        if isinstance(sigma, bool):
            raise TypeError(f"sigma: expected a positive width or a list of them, got {sigma!r}")
        if isinstance(sigma, (int, float, np.integer, np.floating)):
            sigma = [float(sigma)] * len(radii)
        else:
            sigma = [float(s) for s in sigma]
        if len(sigma) != len(radii):
            raise ValueError(f"sigma: expected one width or one per radius ({len(radii)}), got {len(sigma)}")
        if any(r < 0 or not np.isfinite(r) for r in radii):
            raise ValueError(f"radii: expected non-negative finite radii, got {radii}")
        if any(s <= 0 or not np.isfinite(s) for s in sigma):
            raise ValueError(f"sigma: expected positive widths, got {sigma}")
        super().__init__(len(radii), (1, 1))
        self._radii = tuple(radii)
        self._sigma = tuple(sigma)
        self.register_buffer("radii", torch.tensor(radii, dtype=torch.float64).reshape(1, -1, 1, 1), persistent=False)
        self.register_buffer("sigma", torch.tensor(sigma, dtype=torch.float64).reshape(1, -1, 1, 1), persistent=False)

    def sample(self, radii: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        radii = _as_points(radii, 1, "radii")
        if torch.isnan(radii).any():
            raise ValueError("radii: got NaN values")
        r = radii.reshape(-1, 1, 1, 1)
        c = self.radii.to(device=r.device, dtype=r.dtype)
        s = self.sigma.to(device=r.device, dtype=r.dtype)
        return _write_out(torch.exp(-0.5 * (c - r) ** 2 / s**2), out)

    def __getitem__(self, r):
        r = self._check_idx(r)
        return {"radius": self._radii[r], "sigma": self._sigma[r], "idx": r}

    def __eq__(self, other):
        return isinstance(other, GaussianRadialProfile) and self._radii == other._radii and self._sigma == other._sigma

    def __hash__(self):
        return hash((self._radii, self._sigma))


class _ShellsBasis(SteerableFiltersBasis):
    """Common machinery: harmonics ``js_all = [(id, size)]`` times the rings of ``radial``."""

    def _setup(self, G, action, L: int, radial: GaussianRadialProfile, filter, ids: list[tuple]):
        if isinstance(L, bool) or not isinstance(L, (int, np.integer)) or L < 0:
            raise ValueError(f"L: expected a non-negative integer, got {L!r}")
        if not isinstance(radial, GaussianRadialProfile):
            raise TypeError(f"radial: expected a GaussianRadialProfile, got {type(radial).__name__}")
        if filter is not None and not callable(filter):
            raise TypeError(f"filter: expected a callable or None, got {type(filter).__name__}")
        self.L = int(L)
        self._ids = ids
        radial_attrs = list(radial)
        keep: dict = {}
        for jid in ids:
            a2 = _prefixed_attributes(G, jid)
            a2["j"] = jid
            rs = []
            for a1 in radial_attrs:
                attr = dict(a1)
                attr.update(a2)
                if filter is None or filter(attr):
                    rs.append(a1["idx"])
            keep[jid] = rs
        self._keep = keep
        self._filtered = filter is not None
        js = [(jid, len(keep[jid])) for jid in ids]
        SteerableFiltersBasis.__init__(self, G, action, js)
        self.radial = radial
        self._num_inv_spaces = sum(m for _, m in js)
        # element -> (j id, kept-ring position, ring index, m) tables for __getitem__
        self._elements = []
        for jid in ids:
            size = G.irrep(*jid).size
            for r in keep[jid]:
                for m in range(size):
                    self._elements.append((jid, r, m))

    # -- sampling -------------------------------------------------------------------------
    def _harmonics(self, points: torch.Tensor) -> list[torch.Tensor]:
        raise TypeError(f"{type(self).__name__}: subclasses of the shells basis define _harmonics(points)")

    def sample(self, points: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        points = _as_points(points, self.dimensionality)
        if torch.isnan(points).any():
            raise ValueError("points: got NaN values")
        S = points.shape[0]
        prof = self.radial.sample(_radii(points).reshape(-1, 1))[:, :, 0, 0]  # (S, R)
        ys = self._harmonics(points)
        blocks = []
        for jid, y in zip(self._ids, ys):
            rs = self._keep[jid]
            if not rs:
                continue
            p = prof if not self._filtered else prof[:, rs]
            blocks.append((p[:, :, None] * y[:, None, :]).reshape(S, -1))
        res = torch.cat(blocks, dim=1).reshape(S, self.dim, 1, 1)
        return _write_out(res, out)

    # -- attributes -----------------------------------------------------------------------
    def _j_attr(self, jid, r, idx) -> dict:
        attr = _prefixed_attributes(self.group, jid)
        attr.update(self.radial[r])
        attr["idx"] = idx
        attr["radial_idx"] = r
        attr["j"] = jid
        attr["shape"] = (1, 1)
        return attr

    def _steerable_offset(self, jid) -> int:
        p = 0
        for j in self._ids:
            if j == jid:
                return p
            p += len(self._keep[j])
        raise KeyError(jid)

    def steerable_attrs_j_iter(self, j: tuple) -> Iterable:
        if j not in self._keep:
            return
        idx = self._steerable_offset(j)
        for r in self._keep[j]:
            yield self._j_attr(j, r, idx)
            idx += 1

    def steerable_attrs_j(self, j: tuple, idx) -> dict | None:
        if j not in self._keep:
            return None
        if not 0 <= idx < len(self._keep[j]):
            raise IndexError(f"idx: the irrep {j} has {len(self._keep[j])} copies, got {idx}")
        return self._j_attr(j, self._keep[j][idx], self._steerable_offset(j) + idx)

    def steerable_attrs_iter(self):
        for j in self._ids:
            yield from self.steerable_attrs_j_iter(j)

    def __getitem__(self, idx):
        idx = self._check_idx(idx)
        jid, r, m = self._elements[idx]
        attr = self._j_attr(jid, r, idx)
        attr["m"] = m
        return attr

    def __iter__(self):
        for idx in range(self.dim):
            yield self[idx]

    def _key(self):
        return (
            type(self).__name__,
            self.L,
            self.radial,
            tuple((j, tuple(v)) for j, v in self._keep.items()),
            getattr(self, "axis", None),
        )

    def __eq__(self, other):
        return isinstance(other, _ShellsBasis) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())


class CircularShellsBasis(_ShellsBasis):
    """O(2)-steerable filters on R^2: Gaussian rings × circular harmonics of frequency 0..L.

    The O(2) action on R^2 has its mirror across the line at angle ``axis`` (default π/2: the
    vertical axis, x → -x); the harmonics are ``(cos jθ, sin jθ)`` with θ measured from ``axis``.
    Elements: for each frequency j (O(2) irrep ``(int(j>0), j)``), each ring, each coordinate.

    >>> import torch
    >>> from steerable.kernels import CircularShellsBasis, GaussianRadialProfile
    >>> b = CircularShellsBasis(1, GaussianRadialProfile([0., 1.], 0.6), filter=lambda a: a['radius'] > 0 or a['j'][1] == 0)
    >>> b.js, len(b), tuple(b.sample(torch.randn(4, 2)).shape)
    ([((0, 0), 2), ((1, 1), 1)], 4, (4, 4, 1, 1))
    """

    def __init__(
        self,
        L: int,
        radial: GaussianRadialProfile,
        filter: Callable[[dict], bool] | None = None,
        axis: float = np.pi / 2,
    ):
        if isinstance(axis, bool) or not isinstance(axis, (int, float, np.integer, np.floating)):
            raise TypeError(f"axis: expected an angle in radians, got {type(axis).__name__}")
        self.axis = float(axis)
        G = o2_group(max(int(L) if isinstance(L, (int, np.integer)) else 0, 1))
        std = _standard_representation(G)
        action = change_basis(
            std, np.asarray(std(G.element((0, self.axis), "radians"))), f"StandardAction|axis=[{self.axis}]"
        )
        ids = [(int(j > 0), j) for j in range(int(L) + 1)] if isinstance(L, (int, np.integer)) and L >= 0 else []
        self._setup(G, action, L, radial, filter, ids)
        c, s = np.cos(self.axis), np.sin(self.axis)
        # rotation by -axis: angles are measured from the mirror axis
        self.register_buffer("_unrotate", torch.tensor([[c, s], [-s, c]], dtype=torch.float64), persistent=False)

    def _harmonics(self, points):
        pts = points @ self._unrotate.to(device=points.device, dtype=points.dtype).T
        ys = harmonics_torch(2, self.L, pts)
        if self.L == 0:
            return ys
        # harmonic polynomials |x|^j (cos jθ, sin jθ) at the origin (value 0, a gradient for j = 1)
        at0 = ((points * points).sum(-1) < _ORIGIN**2)[:, None]
        x, y = pts[:, 0], pts[:, 1]
        c, s = x, y
        out = [ys[0]]
        for j in range(1, self.L + 1):
            if j > 1:
                c, s = c * x - s * y, s * x + c * y
            out.append(torch.where(at0, torch.stack([c, s], -1), ys[j]))
        return out


class SphericalShellsBasis(_ShellsBasis):
    """O(3)-steerable filters on R^3: Gaussian shells × real spherical harmonics of degree 0..L
    (``Y_l(R x) = D^l(R) Y_l(x)``, parity ``(-1)^l``: O(3) irrep ``(l % 2, l)``).

    >>> import torch
    >>> from steerable.kernels import SphericalShellsBasis, GaussianRadialProfile
    >>> b = SphericalShellsBasis(2, GaussianRadialProfile([0., 1., 2.], 0.6))
    >>> b.js, len(b), b[3]['j'], b[3]['m']
    ([((0, 0), 3), ((1, 1), 3), ((0, 2), 3)], 27, (1, 1), 0)
    """

    def __init__(self, L: int, radial: GaussianRadialProfile, filter: Callable[[dict], bool] | None = None):
        G = o3_group(max(int(L) if isinstance(L, (int, np.integer)) else 0, 1))
        ids = [(j % 2, j) for j in range(int(L) + 1)] if isinstance(L, (int, np.integer)) and L >= 0 else []
        self._setup(G, _standard_representation(G), L, radial, filter, ids)
        self.harmonics_generator = HarmonicPolynomialR3Generator(self.L)

    def _harmonics(self, points):
        ys = harmonics_torch(3, self.L, points)
        if self.L == 0:
            return ys
        at0 = ((points * points).sum(-1) < _ORIGIN**2)[:, None]
        if not bool(at0.any()):
            return ys
        poly = spherical_harmonics_torch(self.L, points, normalization="norm", normalize=False)
        out = [ys[0]]
        for l in range(1, self.L + 1):
            out.append(torch.where(at0, poly[:, l * l : (l + 1) ** 2], ys[l]))
        return out
