"""G-spaces on R^3: subgroups of O(3) acting on volumes ``(B, C, D, H, W)``.

A point is ``(x, y, z)``; voxel ``(i, j, k)`` of a ``D×H×W`` volume sits at
``(k - (W-1)/2, -(j - (H-1)/2), -(i - (D-1)/2))`` (see :mod:`steerable.gspaces._transform`). The
fibre group is the subgroup ``sg_id`` of ``o3_group(maximum_frequency)`` (ids in
``steerable.group._rot3d``; a trailing O(3) element ``adjoint`` conjugates the subgroup).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from steerable.group import GroupElement, o3_group, so3_group

from ._gspace import GSpace
from ._r2 import _check_axis, _check_N

__all__ = [
    "GSpace3D",
    "rot3dOnR3",
    "flipRot3dOnR3",
    "icoOnR3",
    "fullIcoOnR3",
    "octaOnR3",
    "fullOctaOnR3",
    "tetraOnR3",
    "rot2dOnR3",
    "dihedralOnR3",
    "conicalOnR3",
    "fullCylindricalOnR3",
    "cylindricalOnR3",
    "mirOnR3",
    "invOnR3",
    "trivialOnR3",
]


def _signed_permutations(d: int) -> np.ndarray:
    mats = []
    for perm in itertools.permutations(range(d)):
        for signs in itertools.product((1.0, -1.0), repeat=d):
            m = np.zeros((d, d))
            m[np.arange(d), perm] = signs
            mats.append(m)
    return np.stack(mats)


class GSpace3D(GSpace):
    """The G-space of the subgroup ``sg_id`` of O(3) acting on R^3 (escnn's constructor).

    >>> from steerable.gspaces import GSpace3D
    >>> gs = GSpace3D((False, 'octa'))     # = octaOnR3()
    >>> gs.fibergroup.order(), len(gs.testing_elements)
    (24, 24)
    """

    _ambient: Any  # O(3)

    def __init__(self, sg_id: Any, maximum_frequency: int = 2) -> None:
        o3 = o3_group(maximum_frequency)
        H, incl, restr, key = o3._subgroup_data(_escnn_cone_id(o3, sg_id))
        super().__init__(
            H,
            3,
            f"{H.name}_on_R3[{sg_id}]",
            ambient=o3,
            incl=incl,
            reduce_args=(GSpace3D, (sg_id, maximum_frequency)),
            restr=restr,
        )
        self._sg_id = key

    def _post_restrict(self, parent, key) -> None:
        self._sg_id = None

    def _canonical_restricted(self, id: Any):
        if self._sg_id is None:
            return None
        mf = self._ambient.maximum_frequency
        G = self.fibergroup
        if G == o3_group():  # ids of O(3) subgroups are GSpace3D ids
            return GSpace3D(id, mf)
        if G == so3_group():  # an SO(3) subgroup id: the same subgroup without the inversion
            rest, adj = (
                (id[:-1], id[-1:]) if isinstance(id, tuple) and id and isinstance(id[-1], GroupElement) else (id, ())
            )
            if isinstance(rest, tuple) and len(rest) == 1:
                rest = rest[0]
            if isinstance(rest, str):
                return GSpace3D((False, rest) + tuple(adj), mf)
            if isinstance(rest, tuple) and len(rest) == 2:
                return GSpace3D((False,) + rest + tuple(adj), mf)
        return None

    def _grid_symmetries(self) -> np.ndarray:
        o3 = self._ambient
        return np.stack([o3._from_param(m, "MAT") for m in _signed_permutations(3)])


def _escnn_cone_id(o3, sg_id: Any) -> Any:
    """escnn's ``('cone', θ, N[, adjoint])``: the mirror of the flip element is the plane through z
    and the direction at angle -θ/2 in the xy plane (its matrix restricted to xy is
    ``[[cos θ, -sin θ], [-sin θ, -cos θ]]``). Returns the id of the group layer that has this
    mirror (checked numerically, so it holds whichever convention the group layer uses)."""
    if not (
        isinstance(sg_id, tuple)
        and len(sg_id) >= 3
        and sg_id[0] == "cone"
        and isinstance(sg_id[1], (int, float, np.integer, np.floating))
        and not isinstance(sg_id[1], bool)
        and isinstance(sg_id[2], (int, np.integer))
        and not isinstance(sg_id[2], bool)
    ):
        return sg_id
    theta, N = float(sg_id[1]), int(sg_id[2])
    c, s = np.cos(theta), np.sin(theta)
    expected = np.array([[c, -s, 0.0], [-s, -c, 0.0], [0.0, 0.0, 1.0]])
    for t in (theta, float(np.mod(-theta, 2 * np.pi))):
        try:
            H, incl, _, _ = o3._subgroup_data(("cone", t, N))
        except ValueError:
            return sg_id
        flip = H.element(1) if N == 1 else H.element((1, 0) if N > 1 else (1, 0.0))
        m = o3._standard_matrices(incl(flip._v[None]))[0]
        if np.allclose(m, expected, atol=1e-9):
            return ("cone", t) + tuple(sg_id[2:])
    return sg_id  # pragma: no cover - neither convention: leave it to the group layer


def _with_adjoint(sg_id: tuple, adjoint: Any) -> tuple:
    if adjoint is None:
        return sg_id
    if not isinstance(adjoint, GroupElement):
        raise TypeError(f"adjoint: expected None or an element of O(3), got {type(adjoint).__name__}")
    if adjoint.group != o3_group():
        raise ValueError(f"adjoint: expected an element of O(3), got one of {adjoint.group.name}")
    return sg_id + (adjoint,)


def rot3dOnR3(maximum_frequency: int = 2) -> GSpace3D:
    """All rotations SO(3) of R^3.

    >>> from steerable.gspaces import rot3dOnR3
    >>> rot3dOnR3().fibergroup
    SO(3)
    """
    return GSpace3D("so3", maximum_frequency)


def flipRot3dOnR3(maximum_frequency: int = 2) -> GSpace3D:
    """All rotations and reflections O(3) of R^3.

    >>> from steerable.gspaces import flipRot3dOnR3
    >>> len(flipRot3dOnR3().testing_elements), len(flipRot3dOnR3().exact_testing_elements)
    (120, 48)
    """
    return GSpace3D("o3", maximum_frequency)


def icoOnR3() -> GSpace3D:
    """The rotations of the icosahedron (order 60).

    >>> from steerable.gspaces import icoOnR3
    >>> icoOnR3().fibergroup.order()
    60
    """
    return GSpace3D((False, "ico"), 4)


def fullIcoOnR3() -> GSpace3D:
    """The icosahedral group with the inversion (order 120).

    >>> from steerable.gspaces import fullIcoOnR3
    >>> fullIcoOnR3().fibergroup.order()
    120
    """
    return GSpace3D((True, "ico"), 4)


def octaOnR3() -> GSpace3D:
    """The rotations of the cube (order 24).

    >>> from steerable.gspaces import octaOnR3
    >>> octaOnR3().fibergroup.order()
    24
    """
    return GSpace3D((False, "octa"), 3)


def fullOctaOnR3() -> GSpace3D:
    """All symmetries of the cube (order 48).

    >>> from steerable.gspaces import fullOctaOnR3
    >>> fullOctaOnR3().fibergroup.order()
    48
    """
    return GSpace3D((True, "octa"), 3)


def tetraOnR3() -> GSpace3D:
    """The rotations of the tetrahedron (order 12).

    >>> from steerable.gspaces import tetraOnR3
    >>> tetraOnR3().fibergroup.order()
    12
    """
    return GSpace3D((False, "tetra"), 3)


def rot2dOnR3(n: int = -1, adjoint: GroupElement | None = None, maximum_frequency: int = 2) -> GSpace3D:
    """Rotations about the z axis: C_n (``n > 0``) or SO(2) (``n = -1``); ``adjoint`` (an O(3)
    element A) moves the axis to A⁻¹ z.

    >>> from steerable.gspaces import rot2dOnR3
    >>> rot2dOnR3(4).fibergroup
    C4
    """
    return GSpace3D(_with_adjoint((False, False, _check_N(n, "n")), adjoint), maximum_frequency)


def dihedralOnR3(
    n: int = -1, axis: float = np.pi / 2, adjoint: GroupElement | None = None, maximum_frequency: int = 2
) -> GSpace3D:
    """Rotations about z and the π-rotation about the axis in the xy plane at angle ``axis``:
    D_n (``n > 0``) or O(2) (``n = -1``).

    >>> from steerable.gspaces import dihedralOnR3
    >>> dihedralOnR3(4).fibergroup
    D4
    """
    return GSpace3D(_with_adjoint((False, 2 * _check_axis(axis), _check_N(n, "n")), adjoint), maximum_frequency)


def conicalOnR3(
    n: int = -1, axis: float = np.pi / 2, adjoint: GroupElement | None = None, maximum_frequency: int = 2
) -> GSpace3D:
    """The symmetries of a cone about z: rotations about z and the mirrors across planes that
    contain z; as in escnn, the flip element's plane contains the xy-plane direction at angle
    ``-axis`` (default π/2: the mirror x -> -x); D_n (``n > 0``) or O(2) (``n = -1``).

    >>> from steerable.gspaces import conicalOnR3
    >>> conicalOnR3(4).fibergroup
    D4
    """
    return GSpace3D(_with_adjoint(("cone", 2 * _check_axis(axis), _check_N(n, "n")), adjoint), maximum_frequency)


def fullCylindricalOnR3(
    n: int = -1, axis: float = np.pi / 2, adjoint: GroupElement | None = None, maximum_frequency: int = 2
) -> GSpace3D:
    """:func:`dihedralOnR3` times the inversion {±I} (the symmetries of a cylinder).

    As in escnn, ``axis`` enters the subgroup id as it is (``(True, axis, n)``, where
    :func:`dihedralOnR3` puts ``2·axis``): the flip rotates by π about the xy-plane direction at
    angle ``axis / 2`` (π/4 by default).

    >>> from steerable.gspaces import fullCylindricalOnR3
    >>> fullCylindricalOnR3(4).fibergroup.order()
    16
    """
    return GSpace3D(_with_adjoint((True, _check_axis(axis), _check_N(n, "n")), adjoint), maximum_frequency)


def cylindricalOnR3(n: int = -1, adjoint: GroupElement | None = None, maximum_frequency: int = 2) -> GSpace3D:
    """:func:`rot2dOnR3` times the inversion {±I}.

    >>> from steerable.gspaces import cylindricalOnR3
    >>> cylindricalOnR3(4).fibergroup.order()
    8
    """
    return GSpace3D(_with_adjoint((True, False, _check_N(n, "n")), adjoint), maximum_frequency)


def mirOnR3(axis: float = np.pi / 2, adjoint: GroupElement | None = None) -> GSpace3D:
    """The mirror across the plane containing z and the xy-plane direction at angle ``-axis``
    (escnn's convention; default π/2: x -> -x); fibre group C_2.

    >>> from steerable.gspaces import mirOnR3
    >>> gs = mirOnR3()
    >>> gs.basespace_matrices(gs.fibergroup.element(1)).round(12)[0].diagonal().tolist()
    [-1.0, 1.0, 1.0]
    """
    return GSpace3D(_with_adjoint(("cone", 2 * _check_axis(axis), 1), adjoint), 1)


def invOnR3() -> GSpace3D:
    """The inversion x -> -x of R^3; fibre group C_2.

    >>> from steerable.gspaces import invOnR3
    >>> gs = invOnR3()
    >>> gs.basespace_matrices(gs.fibergroup.element(1)).round(12)[0].diagonal().tolist()
    [-1.0, -1.0, -1.0]
    """
    return GSpace3D((True, False, 1), 1)


def trivialOnR3() -> GSpace3D:
    """R^3 with the trivial fibre group (ordinary 3D CNNs).

    >>> from steerable.gspaces import trivialOnR3
    >>> trivialOnR3().fibergroup.order()
    1
    """
    return GSpace3D((False, False, 1), 1)
