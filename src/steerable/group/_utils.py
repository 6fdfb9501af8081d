"""escnn's small planar helpers: rotation and reflection matrices."""

from __future__ import annotations

import numpy as np


def psi(theta: float, k: int = 1, gamma: float = 0.0) -> np.ndarray:
    """The 2×2 rotation by ``k θ + γ``.

    >>> import numpy as np
    >>> from steerable.group import psi
    >>> psi(np.pi / 2).round(12).tolist()
    [[0.0, -1.0], [1.0, 0.0]]
    """
    x = k * theta + gamma
    c, s = np.cos(x), np.sin(x)
    return np.array([[c, -s], [s, c]])


def chi(s: int) -> np.ndarray:
    """diag(1, -1) (the reflection y → -y) for ``s = 1``, the identity for ``s = 0``.

    >>> from steerable.group import chi
    >>> chi(1).tolist()
    [[1, 0], [0, -1]]
    """
    if s not in (0, 1):
        raise ValueError(f"s: expected 0 or 1, got {s!r}")
    return np.array([[1, 0], [0, -1 if s else 1]])


def psichi(theta: float, s: int, k: int = 1, gamma: float = 0.0) -> np.ndarray:
    """``psi(theta, k, gamma) @ chi(s)``: the rotation, or for ``s = 1`` the reflection across
    the line at angle ``(k θ + γ) / 2``.

    >>> import numpy as np
    >>> from steerable.group import chi, psi, psichi
    >>> bool(np.allclose(psichi(0.3, 1), psi(0.3) @ chi(1)))
    True
    """
    return psi(theta, k, gamma) @ chi(s)
