"""How a convolution chooses its kernel basis: ring radii, ring widths and the per-ring maximum
harmonic frequency, from ``kernel_size``, ``dilation`` and the user's ``rings`` / ``sigma`` /
``frequencies_cutoff`` — escnn 1.0.11's defaults (``basis='escnn'``) or steerable's richer
complete basis (``basis='complete'``).

escnn's rules (the facts reproduced here):

- rings: ``ceil(k / 2)`` radii evenly spaced on ``[0, (k - 1) // 2]``, times ``dilation``; the
  kernel is sampled on the dilated grid (tap spacing ``dilation``);
- sigma: 0.6 on every ring, 0.4 on the last, 0.005 on a ring of radius 0 (a delta at the centre);
  a number is used for every ring;
- frequencies_cutoff: a harmonic of order j is kept on the ring of radius r when
  ``j <= fco(r)``; a float ``f >= 0`` means ``fco(r) = f·r``; a callable is used as is; the
  default is a hand-made policy of ``R = kernel_size // 2`` (R^2: ``0`` at r = 0, else
  ``min(2r, 2 if r == R else 2r - (r + 1) mod 2)``, also chosen by ``-1.``; ``-2.``/``-3.`` are
  the two other policies; R^3: ``min(2r, R - r + 2)``, also ``'default1'``, with
  ``'default2'``/``'default3'``); harmonics stop at ``int(max_r fco(r))``;
- elements whose samples on the grid are all ~0 are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from steerable.kernels._basis import _as_sigmas

BASIS_CHOICES = ("escnn", "complete")


class _Policy:
    """escnn's hand-made cut-off policies of ``R = kernel_size // 2`` (picklable)."""

    def __init__(self, kind: str, R: float):
        self.kind, self.R = kind, R

    def __call__(self, r: float) -> float:
        R = self.R
        if self.kind == "r3_1":
            return min(2 * r, R - r + 2)
        if r == 0.0:
            return 0.0
        if self.kind == "3":
            return 1 if r == R else 2
        top = 2 if self.kind == "r2_1" else 1
        return min(2 * r, top if r == R else 2 * r - (r + 1) % 2)


class _Proportional:
    def __init__(self, f: float):
        self.f = f

    def __call__(self, r: float) -> float:
        return self.f * r


def _policy1_r2(R):
    return _Policy("r2_1", R)


def _policy2_r2(R):
    return _Policy("r2_2", R)


def _policy3(R):
    return _Policy("3", R)


def _policy1_r3(R):
    return _Policy("r3_1", R)


def _frequency_policy(frequencies_cutoff, kernel_size: int, d: int) -> Callable[[float], float]:
    """escnn's meaning of ``frequencies_cutoff``: a function radius ↦ highest frequency (float)."""
    R = kernel_size // 2
    if frequencies_cutoff is None:
        frequencies_cutoff = -1.0 if d == 2 else "default1"
    if callable(frequencies_cutoff):
        return frequencies_cutoff
    if isinstance(frequencies_cutoff, str):
        table = {
            "default1": _policy1_r2(R) if d == 2 else _policy1_r3(R),
            "default2": _policy2_r2(R),
            "default3": _policy3(R),
        }
        if frequencies_cutoff not in table:
            raise ValueError(
                f"frequencies_cutoff: expected a float, a callable or one of {sorted(table)}, "
                f"got {frequencies_cutoff!r}"
            )
        return table[frequencies_cutoff]
    if isinstance(frequencies_cutoff, bool) or not isinstance(
        frequencies_cutoff, (int, float, np.integer, np.floating)
    ):
        raise TypeError(
            f"frequencies_cutoff: expected None, a float or a callable, got {type(frequencies_cutoff).__name__}"
        )
    f = float(frequencies_cutoff)
    if f >= 0:
        return _Proportional(f)
    if d == 2 and f in (-1.0, -2.0, -3.0):
        return {-1.0: _policy1_r2(R), -2.0: _policy2_r2(R), -3.0: _policy3(R)}[f]
    raise ValueError(
        f"frequencies_cutoff: expected a non-negative factor, a callable, "
        f"{'-1., -2., -3.' if d == 2 else repr('default1')}, got {frequencies_cutoff!r}"
    )


class EscnnCutoff:
    """The per-ring highest harmonic order: ``min(floor(fco(r)), int(max fco over rings))``, with
    ``fco`` evaluated at the radius rounded to float32 (as escnn stores it); -1 means none."""

    def __init__(self, fco: Callable[[float], float], rings: Sequence[float]):
        self.fco = fco
        self.top = int(max(fco(r) for r in rings))

    def __call__(self, r: float) -> int:
        v = self.fco(float(np.float32(r)))
        if not math.isfinite(v):
            return self.top
        return min(int(math.floor(v)), self.top) if v >= 0 else -1


def escnn_cutoff(fco: Callable[[float], float], rings: Sequence[float]) -> EscnnCutoff:
    return EscnnCutoff(fco, rings)


def default_grid_rings(kernel_size: int, dilation: int) -> list[float]:
    """escnn's rings: ``ceil(k/2)`` radii evenly spaced on ``[0, (k-1)//2]``, times ``dilation``."""
    import torch

    n = math.ceil(kernel_size / 2)
    return (torch.linspace(0, (kernel_size - 1) // 2, n, dtype=torch.float32) * dilation).tolist()


def escnn_sigmas(rings: Sequence[float], sigma) -> list[float]:
    """escnn's ring widths: ``sigma`` per ring, by default 0.6, 0.4 on the last ring and 0.005 on a
    ring of radius 0."""
    if sigma is None:
        s = [0.6] * (len(rings) - 1) + [0.4]
        return [0.005 if r == 0.0 else v for r, v in zip(rings, s)]
    return _as_sigmas(sigma, len(rings))


def check_rings(rings, name: str = "rings") -> list[float]:
    try:
        rr = [float(r) for r in rings]
    except TypeError:
        raise TypeError(f"{name}: expected a sequence of radii, got {type(rings).__name__}") from None
    if not rr:
        raise ValueError(f"{name}: expected at least one ring radius")
    if any(not math.isfinite(r) or r < 0 for r in rr):
        raise ValueError(f"{name}: expected finite non-negative radii, got {rr}")
    return rr


def grid_basis_params(
    kernel_size: int, dilation: int, d: int, frequencies_cutoff=None, rings=None, sigma=None, basis: str = "escnn"
):
    """``(rings, sigmas, cutoff, scale, drop)`` for a grid convolution: ``cutoff(r)`` the highest
    harmonic order on the ring of radius r (-1: none), ``scale`` the tap spacing of the sampling
    grid (``dilation`` for escnn's basis, 1 for the complete one), ``drop`` whether elements that
    vanish on the grid are removed.

    >>> r, s, c, scale, drop = grid_basis_params(5, 1, 2)
    >>> r, s, [c(x) for x in r], scale, drop
    ([0.0, 1.0, 2.0], [0.005, 0.6, 0.4], [0, 2, 2], 1, True)
    >>> r, s, c, scale, drop = grid_basis_params(5, 1, 2, basis='complete')
    >>> r, s, [c(x) for x in r], scale, drop
    ([0.0, 1.0, 2.0], [0.6, 0.6, 0.6], [0, 2, 4], 1, False)
    """
    from steerable.kernels import default_rings, make_cutoff

    if basis not in BASIS_CHOICES:
        raise ValueError(f"basis: expected one of {BASIS_CHOICES}, got {basis!r}")
    if basis == "complete":
        rr = check_rings(rings) if rings is not None else default_rings(kernel_size)
        return rr, _as_sigmas(0.6 if sigma is None else sigma, len(rr)), make_cutoff(frequencies_cutoff), 1, False
    rr = check_rings(rings) if rings is not None else default_grid_rings(kernel_size, dilation)
    max_radius = dilation * (kernel_size - 1) / 2 * math.sqrt(d)
    if any(r > max_radius + 1e-9 for r in rr):
        raise ValueError(
            f"rings: every radius must lie within the kernel's support (<= {max_radius:.4g} for "
            f"kernel_size={kernel_size}, dilation={dilation}), got {rr}"
        )
    sig = escnn_sigmas(rr, sigma)
    fco = _frequency_policy(frequencies_cutoff, kernel_size, d)
    return rr, sig, escnn_cutoff(fco, rr), dilation, True


def point_basis_params(width=None, n_rings=None, rings=None, sigma=None, frequencies_cutoff=None):
    """``(rings, sigmas, cutoff)`` of escnn's point convolutions: ``rings`` or
    ``linspace(0, width, n_rings)``; widths as for grids; ``frequencies_cutoff`` a factor (default
    3.) or a callable radius ↦ highest frequency.

    >>> r, s, c = point_basis_params(width=2.0, n_rings=3)
    >>> r, s, [c(x) for x in r]
    ([0.0, 1.0, 2.0], [0.005, 0.6, 0.4], [0, 3, 6])
    """
    if rings is not None:
        if width is not None or n_rings is not None:
            raise ValueError("rings: pass either rings or width and n_rings, not both")
        rr = check_rings(rings)
    else:
        if width is None:
            raise ValueError(
                "width: a point convolution needs either rings=[radii] or width=<largest radius> (with n_rings)"
            )
        if (
            isinstance(width, bool)
            or not isinstance(width, (int, float, np.integer, np.floating))
            or not math.isfinite(float(width))
            or float(width) <= 0
        ):
            raise ValueError(f"width: expected a positive number, got {width!r}")
        if n_rings is None:
            n_rings = int(math.ceil(float(width) - 1e-9)) + 1
        if isinstance(n_rings, bool) or not isinstance(n_rings, (int, np.integer)) or int(n_rings) < 1:
            raise ValueError(f"n_rings: expected a positive integer, got {n_rings!r}")
        import torch

        rr = torch.linspace(0.0, float(width), int(n_rings), dtype=torch.float32).tolist()
    sig = escnn_sigmas(rr, sigma)
    if frequencies_cutoff is None:
        frequencies_cutoff = 3.0
    if callable(frequencies_cutoff):
        fco = frequencies_cutoff
    elif isinstance(frequencies_cutoff, (int, float, np.integer, np.floating)) and not isinstance(
        frequencies_cutoff, bool
    ):
        if float(frequencies_cutoff) < 0:
            raise ValueError(f"frequencies_cutoff: expected a non-negative factor, got {frequencies_cutoff!r}")
        fco = _Proportional(float(frequencies_cutoff))
    else:
        raise TypeError(
            f"frequencies_cutoff: expected None, a float or a callable, got {type(frequencies_cutoff).__name__}"
        )
    return rr, sig, escnn_cutoff(fco, rr)
