"""Factories: cached group instances (a cache, not a registry: equality is by content)."""

from __future__ import annotations

from functools import cache

from ._group import Group


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return value


@cache
def cyclic_group(N: int):
    """The cyclic group C_N.

    >>> cyclic_group(4).order()
    4
    """
    from ._planar import CyclicGroup

    return CyclicGroup(_check_int("N", N, 1))


@cache
def dihedral_group(N: int):
    """The dihedral group D_N of order 2N.

    >>> dihedral_group(4).order()
    8
    """
    from ._planar import DihedralGroup

    return DihedralGroup(_check_int("N", N, 1))


@cache
def so2_group(maximum_frequency: int = 3):
    """SO(2); ``maximum_frequency`` bounds ``irreps()``/``regular_representation``."""
    from ._planar import SO2

    return SO2(_check_int("maximum_frequency", maximum_frequency, 0))


@cache
def o2_group(maximum_frequency: int = 3):
    """O(2); ``maximum_frequency`` bounds ``irreps()``/``regular_representation``."""
    from ._planar import O2

    return O2(_check_int("maximum_frequency", maximum_frequency, 0))


@cache
def so3_group(maximum_frequency: int = 2):
    """SO(3); ``maximum_frequency`` bounds ``irreps()``/``regular_representation``."""
    from ._rot3d import SO3

    return SO3(_check_int("maximum_frequency", maximum_frequency, 0))


@cache
def o3_group(maximum_frequency: int = 2):
    """O(3); ``maximum_frequency`` bounds ``irreps()``/``regular_representation``."""
    from ._rot3d import O3

    return O3(_check_int("maximum_frequency", maximum_frequency, 0))


@cache
def ico_group():
    """The icosahedral rotation group I (order 60)."""
    from ._finite3d import Icosahedral

    return Icosahedral()


@cache
def octa_group():
    """The octahedral (cube) rotation group O (order 24)."""
    from ._finite3d import Octahedral

    return Octahedral()


@cache
def tetra_group():
    """The tetrahedral rotation group T (order 12)."""
    from ._finite3d import Tetrahedral

    return Tetrahedral()


@cache
def full_tetra_group():
    """The full tetrahedral group T_d (order 24, the symmetries of a regular tetrahedron,
    reflections included). The pyritohedral group T × {±I} is ``o3_group().subgroup((True, 'tetra'))``."""
    from ._finite3d import FullTetrahedral

    return FullTetrahedral()


def _cached_inversion_product(H: Group):
    from ._product import _make_inversion_product

    return _make_inversion_product(H)  # InversionProduct instances are cached by (H, its frequency)


def full_ico_group():
    """I_h = {±I} × I (order 120); irreps ``((j,), (l,))`` with j the parity."""
    from ._product import inversion_product

    return inversion_product(ico_group())


def full_octa_group():
    """O_h = {±I} × O (order 48); irreps ``((j,), (l,))`` with j the parity."""
    from ._product import inversion_product

    return inversion_product(octa_group())


def cylinder_group(maximum_frequency: int = 3):
    """{±I} × SO(2): rotations about z and the inversion."""
    from ._product import inversion_product

    return inversion_product(so2_group(maximum_frequency))


def full_cylinder_group(maximum_frequency: int = 3):
    """{±I} × O(2): rotations about z, π-rotations about axes in the xy plane, the inversion."""
    from ._product import inversion_product

    return inversion_product(o2_group(maximum_frequency))


def cylinder_discrete_group(n: int):
    """{±I} × C_n."""
    from ._product import inversion_product

    return inversion_product(cyclic_group(n))


def full_cylinder_discrete_group(n: int):
    """{±I} × D_n."""
    from ._product import inversion_product

    return inversion_product(dihedral_group(n))


@cache
def klein4_group():
    """The Klein four-group C_2 × C_2."""
    return direct_product(cyclic_group(2), cyclic_group(2))


@cache
def trivial_group():
    """The trivial group (C_1)."""
    return cyclic_group(1)


def direct_product(G1: Group, G2: Group, name: str | None = None):
    """G1 × G2 (cached: the same factors and name give the same instance).

    >>> from steerable.group import cyclic_group, direct_product, so2_group
    >>> direct_product(cyclic_group(2), so2_group(3)).order()
    -1
    """
    from ._product import DirectProductGroup

    return DirectProductGroup(G1, G2, name)


def double_group(G: Group, name: str | None = None):
    """G × G with the subgroup ``'diagonal'``."""
    from ._product import DoubleGroup

    if not isinstance(G, Group):
        raise TypeError(f"G: expected a Group, got {type(G).__name__}")
    return DoubleGroup(G, name)
