"""Input validation shared by the torch group functions (tensor conversion, shapes, degrees)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def as_float_tensor(x: Any, name: str) -> torch.Tensor:
    """``x`` as a floating tensor: numpy arrays become float64, integer tensors the default dtype."""
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.array(x, dtype=np.float64))
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor (or numpy array), got {type(x).__name__}")
    if not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    return x


def last_dim(x: Any, d: int, name: str) -> torch.Tensor:
    """A floating tensor of shape (..., d)."""
    x = as_float_tensor(x, name)
    if x.dim() < 1 or x.shape[-1] != d:
        raise ValueError(f"{name}: expected shape (..., {d}), got {tuple(x.shape)}")
    return x


def matrices(x: Any, d: int, name: str) -> torch.Tensor:
    """A floating tensor of shape (..., d, d)."""
    x = as_float_tensor(x, name)
    if x.dim() < 2 or tuple(x.shape[-2:]) != (d, d):
        raise ValueError(f"{name}: expected shape (..., {d}, {d}), got {tuple(x.shape)}")
    return x


def degree(l: Any, name: str = "l") -> int:
    """A non-negative Python int."""
    if isinstance(l, bool) or not isinstance(l, (int, np.integer)) or int(l) < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {l!r}")
    return int(l)


def integer(x: Any, name: str) -> int:
    """A Python int (any sign)."""
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise ValueError(f"{name}: expected an integer, got {x!r}")
    return int(x)


def rotation_input(x: Any, name: str) -> tuple[torch.Tensor, bool]:
    """(tensor, is_quaternion) of rotations given as quaternions (..., 4) or matrices (..., 3, 3)."""
    x = as_float_tensor(x, name)
    if x.dim() >= 1 and x.shape[-1] == 4:
        return x, True
    if x.dim() >= 2 and tuple(x.shape[-2:]) == (3, 3):
        return x, False
    raise ValueError(
        f"{name}: expected quaternions (..., 4) or rotation matrices (..., 3, 3), got shape {tuple(x.shape)}"
    )


def tiny(dtype: torch.dtype) -> float:
    """A small positive threshold for ``dtype`` (≈ sqrt of its machine epsilon)."""
    return float(torch.finfo(dtype).eps) ** 0.5


def constant(a: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """A copy of the numpy constant ``a`` in the dtype and on the device of ``like``."""
    return torch.tensor(np.asarray(a), dtype=like.dtype, device=like.device)
