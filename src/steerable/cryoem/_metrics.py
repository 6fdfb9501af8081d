"""Reconstruction metrics: Fourier shell correlation and the resolution where it crosses a
threshold, resampling a volume by a rotation (to align a reconstruction to the truth) and the
pose errors of an encoder after global alignment."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["fsc", "resolution", "rotate_volume"]


def _check_cube(name: str, v: torch.Tensor) -> None:
    if not isinstance(v, torch.Tensor) or v.ndim != 3 or len(set(v.shape)) != 1:
        raise ValueError(f"{name}: expected a cubic volume (N, N, N), got {getattr(v, 'shape', type(v).__name__)}")


def fsc(v1: torch.Tensor, v2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Fourier shell correlation of two ``(N, N, N)`` volumes: ``(frequencies, curve)`` with one
    value per shell ``|k| ∈ [s - 1/2, s + 1/2)``, ``s = 0 … N/2`` (frequencies in cycles per voxel).

    ``FSC(s) = Re Σ V̂₁ V̂₂* / √(Σ |V̂₁|² Σ |V̂₂|²)`` over the shell.

    >>> import torch
    >>> from steerable.cryoem import fsc
    >>> v = torch.randn(16, 16, 16, dtype=torch.float64)
    >>> f, c = fsc(v, 3 * v)
    >>> len(f), bool(torch.allclose(c, torch.ones_like(c)))
    (9, True)
    """
    _check_cube("v1", v1)
    _check_cube("v2", v2)
    if v1.shape != v2.shape:
        raise ValueError(f"v1, v2: expected equal shapes, got {tuple(v1.shape)} and {tuple(v2.shape)}")
    n = v1.shape[0]
    a, b = torch.fft.fftn(v1.double()), torch.fft.fftn(v2.double())
    k = torch.fft.fftfreq(n, d=1.0 / n, dtype=torch.float64)
    r = torch.sqrt(k[:, None, None] ** 2 + k[None, :, None] ** 2 + k[None, None, :] ** 2)
    shell = torch.round(r).long().flatten()
    keep = shell <= n // 2
    shell = shell[keep]
    cross = torch.zeros(n // 2 + 1, dtype=torch.float64).index_add_(0, shell, (a * b.conj()).real.flatten()[keep])
    pa = torch.zeros(n // 2 + 1, dtype=torch.float64).index_add_(0, shell, a.abs().pow(2).flatten()[keep])
    pb = torch.zeros(n // 2 + 1, dtype=torch.float64).index_add_(0, shell, b.abs().pow(2).flatten()[keep])
    curve = cross / torch.sqrt(pa * pb).clamp_min(1e-300)
    return torch.arange(n // 2 + 1, dtype=torch.float64) / n, curve


def resolution(
    frequencies: torch.Tensor, curve: torch.Tensor, threshold: float = 0.143, pixel_size: float = 1.0
) -> float:
    """The resolution (Å, or voxels with ``pixel_size=1``) where the FSC ``curve`` first falls
    below ``threshold`` (linear interpolation between shells); the Nyquist resolution
    ``2 · pixel_size`` if it never does.

    >>> import torch
    >>> from steerable.cryoem import resolution
    >>> f = torch.tensor([0.0, 0.1, 0.2, 0.3]); c = torch.tensor([1.0, 0.9, 0.3, 0.1])
    >>> round(resolution(f, c, 0.5, pixel_size=2.0), 3)  # crosses 0.5 at 0.1667 cycles/px
    12.0
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold: expected a number in (0, 1), got {threshold!r}")
    if not pixel_size > 0:
        raise ValueError(f"pixel_size: expected a positive number (Å), got {pixel_size!r}")
    if frequencies.shape != curve.shape or frequencies.ndim != 1:
        raise ValueError(
            f"frequencies, curve: expected equal 1-D shapes, got {tuple(frequencies.shape)}, {tuple(curve.shape)}"
        )
    below = (curve < threshold).nonzero()
    if len(below) == 0:
        return 2.0 * pixel_size
    i = int(below[0])
    if i == 0:
        return float("inf")
    f0, f1, c0, c1 = (float(x) for x in (frequencies[i - 1], frequencies[i], curve[i - 1], curve[i]))
    f = f0 + (c0 - threshold) / (c0 - c1) * (f1 - f0)
    return pixel_size / f


def rotate_volume(volume: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """The volume ``y ↦ V(M y)`` (trilinear, zero outside), coordinates about voxel ``N // 2``.
    ``M`` may be any 3x3 matrix (a rotation, or a rotation times a mirror).

    >>> import torch
    >>> from steerable.cryoem import rotate_volume
    >>> v = torch.zeros(9, 9, 9); v[6, 4, 4] = 1.0
    >>> rz = torch.tensor([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])
    >>> (rotate_volume(v, rz) > 0.5).nonzero().tolist()  # V(Rz y) is V moved by Rzᵀ
    [[4, 2, 4]]
    """
    _check_cube("volume", volume)
    matrix = torch.as_tensor(matrix, dtype=volume.dtype)
    if matrix.shape != (3, 3):
        raise ValueError(f"matrix: expected a 3x3 matrix, got {tuple(matrix.shape)}")
    n = volume.shape[0]
    k = torch.arange(n, dtype=volume.dtype) - n // 2
    y = torch.stack(torch.meshgrid(k, k, k, indexing="ij"), -1)
    x = y @ matrix.T + n // 2
    grid = (x * (2.0 / (n - 1)) - 1).flip(-1)
    return F.grid_sample(volume[None, None], grid[None], mode="bilinear", align_corners=True)[0, 0]
