"""G-spaces on the plane R^2: subgroups of O(2) acting on images ``(B, C, H, W)``.

A point is ``(x, y)`` (x to the right, y up); pixel ``(i, j)`` of an ``H×W`` image sits at
``(j - (W-1)/2, -(i - (H-1)/2))`` (see :mod:`steerable.gspaces._transform`). The fibre group is
the subgroup ``sg_id`` of ``o2_group(maximum_frequency)`` (ids in ``steerable.group._planar``):
``(None, N)`` rotations (C_N, SO(2) for N = -1) and ``(θ, N)`` those with the mirror across the
line at angle θ/2 (D_N, O(2), or the C_2 of one mirror for N = 1).

Reflections follow escnn: the flip ``f`` of the fibre group D_N (or O(2), C_2) acts on the plane
as the mirror ``r_θ·diag(1, -1)``, which for the default ``axis = π/2`` (θ = π) is
``diag(-1, 1)``: x -> -x, it reverses the image's columns; the element ``(f, k)`` acts as
``r_{2πk/N + fθ}·diag(1, -1)^f``. The fibre irreps keep their own frame (the irrep (1, 1) of
D_N is ``diag(1, -1)`` at ``f``), so for θ ≠ 0 :attr:`GSpace.basespace_action` is that irrep
up to a change of basis (a rotation by θ/2) -- exactly as in escnn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from steerable.group import o2_group

from ._gspace import GSpace

__all__ = ["GSpace2D", "rot2dOnR2", "flipRot2dOnR2", "flip2dOnR2", "trivialOnR2"]


class GSpace2D(GSpace):
    """The G-space of the subgroup ``sg_id`` of O(2) acting on R^2 (escnn's constructor).

    >>> import numpy as np
    >>> from steerable.gspaces import GSpace2D
    >>> gs = GSpace2D((np.pi, 4))          # = flipRot2dOnR2(4)
    >>> gs.fibergroup, gs.rotations_order, gs.flips_order
    (D4, 4, 1)
    """

    _ambient: Any  # O(2)
    _sg_id: tuple | None  # (axis, M) of the subgroup; None for spaces made by restriction

    def __init__(self, sg_id: Any, maximum_frequency: int = 6) -> None:
        o2 = o2_group(maximum_frequency)
        H, incl, restr, key = o2._subgroup_data(sg_id)
        axis, M = sg_id
        if axis is not None:
            axis = float(axis)
        if axis is not None and M > 1:
            incl, restr = _dihedral_maps(o2, axis, int(M))
        super().__init__(
            H,
            2,
            f"{H.name}_on_R2[{sg_id}]",
            ambient=o2,
            incl=incl,
            reduce_args=(GSpace2D, (sg_id, maximum_frequency)),
            restr=restr,
        )
        self._sg_id = (axis, int(M))

    def _post_restrict(self, parent, key) -> None:
        self._sg_id = None

    def _canonical_restricted(self, id: Any):
        if self._sg_id is None:
            return None
        axis, M = self._sg_id
        if axis is None:  # rotations: the subgroup C_M' (or SO(2))
            combined = (None, id)
        elif M == 1:  # one mirror: id 2 keeps it, id 1 is the trivial group
            combined = (axis if id == 2 else None, 1)
        elif id[0] is None:
            combined = (None, id[1])
        else:  # the flip r^k f of the fibre group sits at angle axis + (angle of r^k)
            rot = 2.0 * np.pi * id[0] / M if M > 0 else float(id[0])
            combined = (axis + rot, id[1])
        return GSpace2D(combined, self._ambient.maximum_frequency)

    def _grid_symmetries(self) -> np.ndarray:
        # rotations by multiples of 90°, with and without the flip diag(1, -1)
        return np.array([[f, k * np.pi / 2] for f in (0.0, 1.0) for k in range(4)])

    @property
    def rotations_order(self) -> int:
        """Number of rotations in the fibre group (-1 for continuous rotations)."""
        G = self.fibergroup
        if G.continuous:
            return -1
        dets = np.linalg.det(self._basespace_batch(G._all_batch()))
        return int(np.sum(dets > 0))

    @property
    def flips_order(self) -> int:
        """1 when the fibre group contains a reflection, else 0."""
        G = self.fibergroup
        if G.continuous:
            batch = np.concatenate([G._test_batch(), G._sample_batch(16, np.random.default_rng(0))])
        else:
            batch = G._all_batch()
        return int(np.any(np.linalg.det(self._basespace_batch(batch)) < 0))


def _dihedral_maps(o2, axis: float, M: int):
    """escnn's inclusion of D_M into O(2) for the subgroup id (axis, M): (f, k) -> r_{2πk/M + f·axis}
    f^f (the group layer reduces the axis modulo 2π/M, which relabels the elements), and its
    inverse on the image."""
    step = 2.0 * np.pi / M

    def incl(b: np.ndarray) -> np.ndarray:
        return np.stack([b[:, 0], np.mod(b[:, 1] * step + b[:, 0] * axis, 2.0 * np.pi)], 1)

    def restr(b: np.ndarray):
        k = (b[:, 1] - b[:, 0] * axis) / step
        kr = np.round(k)
        ok = np.abs(k - kr) < 1e-9
        return np.stack([b[:, 0], np.mod(kr, M)], 1), ok

    return incl, restr


def _check_N(N: Any, argname: str = "N") -> int:
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or not (int(N) == -1 or int(N) > 0):
        raise ValueError(f"{argname}: expected a positive integer or -1 (continuous), got {N!r}")
    return int(N)


def _check_axis(axis: Any) -> float:
    if isinstance(axis, bool) or not isinstance(axis, (int, float, np.integer, np.floating)):
        raise TypeError(f"axis: expected an angle in radians (a real number), got {type(axis).__name__}")
    if not np.isfinite(float(axis)):
        raise ValueError(f"axis: expected a finite angle, got {axis!r}")
    return float(axis)


def rot2dOnR2(N: int = -1, maximum_frequency: int = 6) -> GSpace2D:
    """Rotations of the plane: C_N (``N > 0``) or SO(2) (``N = -1``, irreps up to
    ``maximum_frequency``).

    >>> from steerable.gspaces import rot2dOnR2
    >>> rot2dOnR2(8).fibergroup, rot2dOnR2().fibergroup
    (C8, SO(2))
    """
    return GSpace2D((None, _check_N(N)), maximum_frequency)


def flipRot2dOnR2(N: int = -1, maximum_frequency: int = 6, axis: float = np.pi / 2) -> GSpace2D:
    """Rotations and reflections of the plane: D_N (``N > 0``) or O(2) (``N = -1``); the mirror
    of the flip element is the line at angle ``axis`` to the x axis (default the vertical axis:
    x -> -x, the image's columns reversed, as in escnn).

    >>> from steerable.gspaces import flipRot2dOnR2
    >>> gs = flipRot2dOnR2(4)
    >>> gs.fibergroup, len(gs.testing_elements)
    (D4, 8)
    >>> gs.basespace_matrix(gs.fibergroup.element((1, 0))).round(12).tolist()
    [[-1.0, 0.0], [0.0, 1.0]]
    """
    return GSpace2D((2 * _check_axis(axis), _check_N(N)), maximum_frequency)


def flip2dOnR2(axis: float = np.pi / 2) -> GSpace2D:
    """The reflection across the line at angle ``axis`` (default vertical: x -> -x); fibre group C_2.

    >>> from steerable.gspaces import flip2dOnR2
    >>> gs = flip2dOnR2()
    >>> gs.basespace_matrices(gs.fibergroup.element(1)).round(12)[0].tolist()
    [[-1.0, 0.0], [0.0, 1.0]]
    """
    return GSpace2D((2 * _check_axis(axis), 1), 1)


def trivialOnR2() -> GSpace2D:
    """The plane with the trivial fibre group (ordinary CNNs).

    >>> from steerable.gspaces import trivialOnR2
    >>> trivialOnR2().fibergroup.order()
    1
    """
    return GSpace2D((None, 1), 1)
