"""The group elements an equivariance check uses: exact grid symmetries, seeded random ones."""

from __future__ import annotations

from typing import Any

from steerable._validation import check_int
from steerable.group import Group, GroupElement
from steerable.gspaces import GSpace
from steerable.nn import FieldType


def _as_gspace(space: Any, argname: str) -> GSpace:
    if isinstance(space, FieldType):
        return space.gspace
    if isinstance(space, GSpace):
        return space
    raise TypeError(f"{argname}: expected a GSpace or a FieldType, got {type(space).__name__}")


def _as_group(group: Any, argname: str) -> Group:
    if isinstance(group, Group):
        return group
    if isinstance(group, (GSpace, FieldType)):
        return _as_gspace(group, argname).fibergroup
    raise TypeError(f"{argname}: expected a Group (or a GSpace / FieldType), got {type(group).__name__}")


def _check_count(n: Any, argname: str) -> int:
    return check_int(n, argname, minimum=0, what="a non-negative int")


def exact_elements(space: GSpace | FieldType) -> list[GroupElement]:
    """The elements of ``space``'s fibre group that are exact symmetries of the pixel / voxel grid
    (90° rotations, flips, the cube's symmetries; identity first): on them a float32 check of a
    grid module is exact to rounding. On R^0 (no grid): every element of a finite group, a few
    fixed ones of a continuous group.

    >>> from steerable import gspaces
    >>> from steerable.testing import exact_elements
    >>> len(exact_elements(gspaces.rot2dOnR2(8))), len(exact_elements(gspaces.flipRot3dOnR3()))
    (4, 48)
    """
    return list(_as_gspace(space, "space").exact_testing_elements)


def random_elements(group: Group | GSpace | FieldType, n: int, seed: int = 0) -> list[GroupElement]:
    """``n`` Haar-random elements of ``group`` (or of a gspace's / field type's fibre group),
    reproducible from ``seed``.

    >>> from steerable import group
    >>> from steerable.testing import random_elements
    >>> a = random_elements(group.so3_group(), 3, seed=1)
    >>> len(a), a == random_elements(group.so3_group(), 3, seed=1)
    (3, True)
    """
    G = _as_group(group, "group")
    n = _check_count(n, "n")
    seed = check_int(seed, "seed", what="an int")
    return list(G.sample(n, seed=seed))


def fibre_elements(group: Group | GSpace | FieldType, n: int = 4, seed: int = 0) -> list[GroupElement]:
    """Elements for checks that do not move the grid (fibre-only checks, vectors, point clouds):
    every element of a finite group; for a continuous group the identity, its fixed generic
    elements (:attr:`Group.generators`) and ``n`` random ones (from ``seed``).

    >>> from steerable import group
    >>> from steerable.testing import fibre_elements
    >>> len(fibre_elements(group.dihedral_group(4))), len(fibre_elements(group.so2_group(), n=3))
    (8, 6)
    """
    G = _as_group(group, "group")
    n = _check_count(n, "n")
    if not G.continuous:
        return list(G.elements)
    return [G.identity] + list(G.generators) + random_elements(G, n, seed)
