"""Errors that name the arguments they are about, in the caller's own words.

A training error is about an argument: ``epochs``, ``out``, ``resume``... From Python the message
names the keyword (``epochs: expected an integer > 0, got 0``); the ``steerable`` command names its
option instead (``--epochs: expected ...``). The library never writes command-line wording: an error
holds its message as *parts*, plain strings and :class:`Arg` references, and :meth:`ArgumentError.render`
spells each reference the way the reader calls it (``str(error)`` is the Python spelling).

>>> e = ConfigError(Arg("epochs"), ": expected an integer > 0, got 0")
>>> str(e)
'epochs: expected an integer > 0, got 0'
>>> e.render(lambda name: "--" + name.replace("_", "-"))
'--epochs: expected an integer > 0, got 0'
>>> str(ConfigError("pass ", Arg("resume", True), " or ", Arg("out", "runs/a")))
"pass resume=True or out='runs/a'"
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

_NO_VALUE = object()


class Arg:
    """A reference to the argument ``name`` (optionally with the ``value`` it has) inside a message.

    >>> from steerable.training import Arg
    >>> Arg("lr", 0.5).python()
    'lr=0.5'
    >>> Arg("lr", 0.5).option("--lr"), Arg("resume", True).option("--resume")
    ('--lr 0.5', '--resume')
    """

    def __init__(self, name: str, value: Any = _NO_VALUE):
        if not isinstance(name, str) or not name:
            raise TypeError(f"name: expected a non-empty str, got {name!r}")
        self.name, self.value = name, value

    def python(self) -> str:
        """``name`` or ``name=value`` (the value as ``repr``)."""
        return self.name if self.value is _NO_VALUE else f"{self.name}={self.value!r}"

    def option(self, flag: str) -> str:
        """``flag``, ``flag value``; a boolean ``True`` is the bare flag (a switch)."""
        if self.value is _NO_VALUE or self.value is True:
            return flag
        return f"{flag} {self.value}"

    def __reduce__(self):
        return (Arg, (self.name,) if self.value is _NO_VALUE else (self.name, self.value))

    def __repr__(self) -> str:
        return f"Arg({self.python()})"


def render_parts(parts: tuple, flag_of: Callable[[str], str] | None = None) -> str:
    """Join message parts; :class:`Arg` parts in Python spelling, or as ``flag_of(name)`` options."""
    out = []
    for p in parts:
        if isinstance(p, Arg):
            out.append(p.python() if flag_of is None else p.option(flag_of(p.name)))
        else:
            out.append(str(p))
    return "".join(out)


class ArgumentError:
    """Mixin of the exceptions below: the message as parts, rendered for Python or for a command line."""

    parts: tuple = ()

    def _set_parts(self, parts: tuple) -> str:
        self.parts = tuple(parts)
        return render_parts(self.parts)

    def render(self, flag_of: Callable[[str], str] | None = None) -> str:
        """The message with every argument named by ``flag_of(name)`` (Python names if ``None``)."""
        return render_parts(self.parts, flag_of)

    @property
    def arguments(self) -> list[str]:
        """The names of the arguments the message refers to, in order."""
        return [p.name for p in self.parts if isinstance(p, Arg)]

    def __reduce__(self):  # pickled with its parts (errors travel between ranks)
        return (type(self), self.parts)


class ConfigError(ArgumentError, ValueError):
    """A bad argument value or a contradictory combination of arguments (a ``ValueError``).

    >>> from steerable.training import Arg, ConfigError
    >>> ConfigError(Arg("lr"), ": expected a number > 0, got 0").arguments
    ['lr']
    """

    def __init__(self, *parts):
        super().__init__(self._set_parts(parts))


class NoCheckpointError(ArgumentError, FileNotFoundError):
    """``resume=True`` where there is no checkpoint to continue (a ``FileNotFoundError``).

    >>> from steerable.training import Arg, NoCheckpointError
    >>> isinstance(NoCheckpointError(Arg("resume", True), ": no checkpoint"), FileNotFoundError)
    True
    """

    def __init__(self, *parts):
        super().__init__(self._set_parts(parts))


def check_number(name: str, value: Any, *, integer: bool = False, minimum: float = 0.0, strict: bool = True) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a finite number (an ``int`` if ``integer``)
    ``> minimum`` (``>= minimum`` when not ``strict``).

    >>> check_number("epochs", 3, integer=True)
    >>> check_number("epochs", 0, integer=True)
    Traceback (most recent call last):
    ...
    steerable.training._errors.ConfigError: epochs: expected an integer > 0, got 0
    """
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and integer:
        ok = isinstance(value, int)
    if ok:
        ok = math.isfinite(value) and (value > minimum if strict else value >= minimum)
    if not ok:
        bound = f"{'>' if strict else '>='} {minimum:g}"
        raise ConfigError(Arg(name), f": expected {'an integer' if integer else 'a number'} {bound}, got {value!r}")
