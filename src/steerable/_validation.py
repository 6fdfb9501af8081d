"""Argument checks shared by every layer of the library (torch-free: numpy only).

Each check returns the value normalised (``bool``, ``int``, ``float``, tuple of ints) or raises
``TypeError`` (wrong kind of value) / ``ValueError`` (right kind, out of range) with a message
``"<name>: expected <what>, got <value>"`` naming the argument.

>>> check_positive(0.5, "eps")
0.5
>>> check_int_tuple(3, "kernel_size", 2, minimum=1)
(3, 3)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any, Literal, overload

import numpy as np

__all__ = [
    "describe",
    "is_int",
    "is_real",
    "check_bool",
    "check_int",
    "check_real",
    "check_positive",
    "check_unit_interval",
    "check_int_tuple",
]

_REPR_MAX = 80


def describe(value: Any) -> str:
    """``value`` as an error message shows it: its type and a short repr.

    >>> describe("yes")
    "str 'yes'"
    """
    r = repr(value)
    if len(r) > _REPR_MAX:
        r = r[: _REPR_MAX - 3] + "..."
    return f"{type(value).__name__} {r}"


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (Python or numpy), bools excluded.

    >>> is_int(3), is_int(True), is_int(3.0)
    (True, False, False)
    """
    return isinstance(value, (Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_real(value: Any) -> bool:
    """Whether ``value`` is a real number (Python or numpy int/float), bools excluded.

    >>> is_real(0.5), is_real(True), is_real("1")
    (True, False, False)
    """
    return isinstance(value, (Real, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def check_bool(value: Any, name: str) -> bool:
    """``value`` as a bool (Python or numpy bools only).

    >>> check_bool(True, "affine")
    True
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a bool, got {describe(value)}")
    return bool(value)


def check_int(value: Any, name: str, minimum: int | None = None, what: str | None = None) -> int:
    """``value`` as an int, at least ``minimum`` when given; ``what`` overrides the description
    of the expected value in the message.

    >>> check_int(4, "channels", minimum=1)
    4
    """
    expected = what or ("an integer" if minimum is None else f"an integer >= {minimum}")
    if not is_int(value):
        raise TypeError(f"{name}: expected {expected}, got {describe(value)}")
    if minimum is not None and int(value) < minimum:
        raise ValueError(f"{name}: expected {expected}, got {value!r}")
    return int(value)


def check_real(value: Any, name: str, *, finite: bool = True, what: str | None = None) -> float:
    """``value`` as a float (finite unless ``finite=False``).

    >>> check_real(2, "slope")
    2.0
    """
    expected = what or "a real number"
    if not is_real(value):
        raise TypeError(f"{name}: expected {expected}, got {describe(value)}")
    v = float(value)
    if finite and not math.isfinite(v):
        raise ValueError(f"{name}: expected {what or 'a finite real number'}, got {value!r}")
    return v


def check_positive(value: Any, name: str, what: str = "a positive float") -> float:
    """``value`` as a finite float ``> 0``.

    >>> check_positive(1e-5, "eps")
    1e-05
    """
    if not is_real(value):
        raise TypeError(f"{name}: expected {what}, got {describe(value)}")
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name}: expected {what}, got {value!r}")
    return v


@overload
def check_unit_interval(
    value: Any, name: str, *, allow_none: Literal[False] = False, closed_right: bool = True, what: str | None = None
) -> float: ...
@overload
def check_unit_interval(
    value: Any, name: str, *, allow_none: bool, closed_right: bool = True, what: str | None = None
) -> float | None: ...
def check_unit_interval(
    value: Any, name: str, *, allow_none: bool = False, closed_right: bool = True, what: str | None = None
) -> float | None:
    """``value`` as a float in ``[0, 1]`` (``[0, 1)`` when ``closed_right=False``); ``None``
    passes through when ``allow_none``.

    >>> check_unit_interval(0.1, "momentum", allow_none=True), check_unit_interval(None, "momentum", allow_none=True)
    (0.1, None)
    """
    expected = what or (f"a float in [0, 1{']' if closed_right else ')'}" + (" or None" if allow_none else ""))
    if value is None and allow_none:
        return None
    if not is_real(value):
        raise TypeError(f"{name}: expected {expected}, got {describe(value)}")
    v = float(value)
    if not (0.0 <= v <= 1.0) or (not closed_right and v == 1.0):
        raise ValueError(f"{name}: expected {expected}, got {value!r}")
    return v


def check_int_tuple(value: Any, name: str, d: int, minimum: int | None = None) -> tuple[int, ...]:
    """An int (repeated ``d`` times) or a sequence of ``d`` ints, each at least ``minimum``.

    >>> check_int_tuple([1, 2], "stride", 2, minimum=1)
    (1, 2)
    """
    if is_int(value):
        vals = (int(value),) * d
    elif (
        isinstance(value, Sequence) and not isinstance(value, str) and len(value) == d and all(is_int(v) for v in value)
    ):
        vals = tuple(int(v) for v in value)
    else:
        raise TypeError(f"{name}: expected an int or a tuple of {d} ints, got {describe(value)}")
    if minimum is not None and any(v < minimum for v in vals):
        raise ValueError(f"{name}: expected integers >= {minimum}, got {value!r}")
    return vals
