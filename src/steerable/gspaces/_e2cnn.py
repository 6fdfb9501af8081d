"""e2cnn's class-style G-spaces on the plane, as a thin layer over :class:`GSpace2D`.

e2cnn (escnn's predecessor) builds planar G-spaces with classes instead of factories:
``Rot2dOnR2(N, maximum_frequency, fibergroup)``, ``FlipRot2dOnR2(N, maximum_frequency, axis,
fibergroup)``, ``Flip2dOnR2(axis, fibergroup)``, ``TrivialOnR2(fibergroup)``, all subclasses of
``GeneralOnR2``. Here each class builds the :class:`GSpace2D` of the same subgroup of O(2) (the
flip of ``FlipRot2dOnR2``/``Flip2dOnR2`` is the mirror across the line at angle ``axis``, exactly
as for :func:`flipRot2dOnR2`), so an instance has every attribute of a G-space
(``fibergroup``, ``trivial_repr``, ``regular_repr``, ``irrep``, ``type``, ``restrict``,
``testing_elements``, ``basespace_action``, ``build_kernel_basis``, ``rotations_order``,
``flips_order``, ...) plus e2cnn's ``axis`` for the flipping ones, and e2cnn's names
(``'8-Rotations'``, ``'Flip_4-Rotations(f=1.57080)'``, ``'Flips'``, ``'Trivial'``).

``isinstance`` goes by what a space *is*: ``isinstance(rot2dOnR2(8), Rot2dOnR2)`` holds, as does
``isinstance(flip2dOnR2(), Flip2dOnR2)`` and ``isinstance(any planar space, GeneralOnR2)``. A class
instance equals the factory's space with the same action (``Rot2dOnR2(8) == rot2dOnR2(8)``);
unlike e2cnn, two flipping spaces whose flip acts differently (another ``axis``) are not equal.

``fibergroup`` may replace ``N``/``maximum_frequency`` (an existing C_N / SO(2), D_N / O(2),
C_2 or C_1), as in e2cnn.

>>> from steerable import gspaces
>>> gs = gspaces.Rot2dOnR2(N=8)
>>> gs.name, gs == gspaces.rot2dOnR2(8), isinstance(gspaces.rot2dOnR2(8), gspaces.Rot2dOnR2)
('8-Rotations', True, True)
>>> gspaces.FlipRot2dOnR2(4).name, gspaces.FlipRot2dOnR2(4) == gspaces.flipRot2dOnR2(4)
('Flip_4-Rotations(f=1.57080)', True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from steerable.group import Group

from ._r2 import GSpace2D, _check_axis, _check_N

__all__ = ["GeneralOnR2", "Rot2dOnR2", "FlipRot2dOnR2", "Flip2dOnR2", "TrivialOnR2"]


def _kind(obj: Any) -> str | None:
    """'rot' (C_N, N > 1, or SO(2)), 'fliprot' (D_N, N > 1, or O(2)), 'flip' (one mirror),
    'trivial', for a planar G-space; None for anything else."""
    if not isinstance(obj, GSpace2D):
        return None
    G = obj.fibergroup
    rot, flips = obj.rotations_order, obj.flips_order
    if not G.continuous and G.order() == 1:
        return "trivial"
    if flips:
        return "flip" if rot == 1 else "fliprot"
    return "rot"


class _E2Meta(type):
    """``isinstance`` by structure: a planar G-space is an instance of the e2cnn class that would
    describe its symmetries."""

    _e2_kinds: tuple = ()

    def __instancecheck__(cls, obj: Any) -> bool:
        if type.__instancecheck__(cls, obj):
            return True
        k = _kind(obj)
        return k is not None and (not cls._e2_kinds or k in cls._e2_kinds)

    def __subclasscheck__(cls, sub: type) -> bool:
        return type.__subclasscheck__(cls, sub)


def _rebuild(cls, kwargs):
    return cls(**kwargs)


def _from_fibergroup(fibergroup: Any, maximum_frequency: Any, allowed: tuple, clsname: str):
    """(N, maximum_frequency) of an existing fibre group."""
    if not isinstance(fibergroup, Group):
        raise TypeError(f"fibergroup: expected a steerable.group.Group, got {type(fibergroup).__name__}")
    if maximum_frequency is not None:
        raise ValueError("maximum_frequency: cannot be set when fibergroup is given")
    name = type(fibergroup).__name__
    if name not in allowed:
        raise ValueError(f"fibergroup: {clsname} needs one of {list(allowed)}, got {fibergroup.name}")
    if fibergroup.continuous:
        return -1, fibergroup.maximum_frequency
    n = fibergroup.order()
    return (n // 2 if name == "DihedralGroup" else n), None


class GeneralOnR2(GSpace2D, metaclass=_E2Meta):
    """e2cnn's base class of the planar G-spaces: every :class:`GSpace2D` is an instance.

    >>> from steerable import gspaces
    >>> isinstance(gspaces.flipRot2dOnR2(3), gspaces.GeneralOnR2)
    True
    """

    _e2_kinds: tuple = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if type(self) is GeneralOnR2:
            raise TypeError("GeneralOnR2 is abstract: build Rot2dOnR2, FlipRot2dOnR2, Flip2dOnR2 or TrivialOnR2")
        super().__init__(*args, **kwargs)

    def _e2_init(self, sg_id: tuple, maximum_frequency: int | None, name: str, kwargs: dict) -> None:
        GSpace2D.__init__(self, sg_id, 6 if maximum_frequency is None else maximum_frequency)
        self.name = name
        self._reduce_args = (_rebuild, (type(self), kwargs))


class Rot2dOnR2(GeneralOnR2):
    """Rotations of the plane (e2cnn): C_N (``N > 1``) or SO(2) (``N = -1``).

    >>> from steerable.gspaces import Rot2dOnR2
    >>> Rot2dOnR2(4).fibergroup, Rot2dOnR2(-1, maximum_frequency=3).name
    (C4, 'Continuous-Rotations')
    """

    _e2_kinds = ("rot",)

    def __init__(self, N: int | None = None, maximum_frequency: int | None = None, fibergroup: Group | None = None):
        kwargs = {"N": N, "maximum_frequency": maximum_frequency, "fibergroup": fibergroup}
        if fibergroup is not None:
            N, maximum_frequency = _from_fibergroup(fibergroup, maximum_frequency, ("CyclicGroup", "SO2"), "Rot2dOnR2")
        if N is None:
            raise ValueError("N: expected the number of rotations (or -1), or pass fibergroup")
        N = _check_N(N)
        if N == 1:
            raise ValueError("N: expected an integer > 1 or -1 (use TrivialOnR2 for no symmetry), got 1")
        if N > 1 and maximum_frequency is not None and fibergroup is None:
            raise ValueError("maximum_frequency: cannot be set for a finite cyclic group")
        name = f"{N}-Rotations" if N > 1 else "Continuous-Rotations"
        self._e2_init((None, N), maximum_frequency, name, kwargs)


class FlipRot2dOnR2(GeneralOnR2):
    """Rotations and the mirror across the line at angle ``axis`` (e2cnn): D_N (``N > 1``) or
    O(2) (``N = -1``).

    >>> from steerable.gspaces import FlipRot2dOnR2
    >>> gs = FlipRot2dOnR2(8)
    >>> gs.fibergroup, gs.axis, gs.rotations_order, gs.flips_order
    (D8, 1.5707963267948966, 8, 1)
    """

    _e2_kinds = ("fliprot",)

    def __init__(
        self,
        N: int | None = None,
        maximum_frequency: int | None = None,
        axis: float = np.pi / 2,
        fibergroup: Group | None = None,
    ):
        kwargs = {"N": N, "maximum_frequency": maximum_frequency, "axis": axis, "fibergroup": fibergroup}
        if fibergroup is not None:
            N, maximum_frequency = _from_fibergroup(
                fibergroup, maximum_frequency, ("DihedralGroup", "O2"), "FlipRot2dOnR2"
            )
        if N is None:
            raise ValueError("N: expected the number of rotations (or -1), or pass fibergroup")
        N = _check_N(N)
        if N == 1:
            raise ValueError("N: expected an integer > 1 or -1 (use Flip2dOnR2 for one mirror), got 1")
        if N > 1 and maximum_frequency is not None and fibergroup is None:
            raise ValueError("maximum_frequency: cannot be set for a finite dihedral group")
        self.axis = _check_axis(axis)
        name = f"Flip_{N}-Rotations(f={self.axis:.5f})" if N > 1 else f"Flip_Continuous-Rotations(f={self.axis:.5f})"
        self._e2_init((2 * self.axis, N), maximum_frequency, name, kwargs)


class Flip2dOnR2(GeneralOnR2):
    """The mirror across the line at angle ``axis`` (e2cnn; default vertical: x -> -x).

    >>> from steerable.gspaces import Flip2dOnR2, flip2dOnR2
    >>> Flip2dOnR2() == flip2dOnR2(), Flip2dOnR2(axis=0.0) == flip2dOnR2()
    (True, False)
    """

    _e2_kinds = ("flip",)

    def __init__(self, axis: float = np.pi / 2, fibergroup: Group | None = None):
        kwargs = {"axis": axis, "fibergroup": fibergroup}
        if fibergroup is not None:
            N, _ = _from_fibergroup(fibergroup, None, ("CyclicGroup",), "Flip2dOnR2")
            if N != 2:
                raise ValueError(f"fibergroup: Flip2dOnR2 needs C2, got {fibergroup.name}")
        self.axis = _check_axis(axis)
        self._e2_init((2 * self.axis, 1), 1, "Flips", kwargs)


class TrivialOnR2(GeneralOnR2):
    """The plane with no symmetry but the identity (e2cnn).

    >>> from steerable.gspaces import TrivialOnR2
    >>> TrivialOnR2().fibergroup.order()
    1
    """

    _e2_kinds = ("trivial",)

    def __init__(self, fibergroup: Group | None = None):
        kwargs = {"fibergroup": fibergroup}
        if fibergroup is not None:
            N, _ = _from_fibergroup(fibergroup, None, ("CyclicGroup",), "TrivialOnR2")
            if N != 1:
                raise ValueError(f"fibergroup: TrivialOnR2 needs C1, got {fibergroup.name}")
        self._e2_init((None, 1), 1, "Trivial", kwargs)
