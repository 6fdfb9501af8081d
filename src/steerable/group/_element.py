"""Group elements: immutable values tied to their group."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ._group import Group


class GroupElement:
    """An element of a :class:`Group`.

    Internally an element is a short float64 vector (its *internal value*, see each group's
    docstring); users see it through a parametrisation (``param``) such as ``'radians'``,
    ``'int'``, ``'Q'`` (unit quaternion, scalar last), ``'MAT'`` (matrix), ``'EV'`` (rotation
    vector) or ``'ZYZ'`` (Euler angles).

    ``a @ b`` is the product (apply ``b`` first), ``~a`` the inverse; elements are hashable and
    compare by value (to 1e-9 for continuous groups).

    >>> from steerable.group import cyclic_group
    >>> G = cyclic_group(8)
    >>> g = G.element(3)
    >>> (g @ g).value, (~g).value
    (6, 5)
    >>> g @ ~g == G.identity
    True
    """

    __slots__ = ("group", "_v", "param")

    def __init__(self, g: Any, group: Group, param: str | None = None):
        """escnn's constructor: the element of ``group`` whose value in ``param`` (default
        ``group.PARAM``) is ``g``; the same as ``group.element(g, param)``."""
        from ._group import Group

        if not isinstance(group, Group):
            raise TypeError(f"group: expected a steerable Group, got {type(group).__name__}")
        param = group.PARAM if param is None else param
        group._check_param(param)
        self._set(group, group._from_param(g, param), param)

    def _set(self, group: Group, internal: np.ndarray, param: str | None) -> None:
        self.group = group
        v = np.asarray(internal, dtype=np.float64).reshape(-1).copy()
        v.setflags(write=False)
        self._v = v
        self.param = param if param is not None else group.PARAM

    @classmethod
    def _from_internal(cls, group: Group, internal: np.ndarray, param: str | None = None) -> GroupElement:
        """The element with internal value ``internal`` (no parametrisation round trip)."""
        out = cls.__new__(cls)
        out._set(group, internal, param)
        return out

    # -- algebra -----------------------------------------------------------------------------
    def __matmul__(self, other: GroupElement) -> GroupElement:
        if not isinstance(other, GroupElement):
            return NotImplemented
        if other.group != self.group:
            raise TypeError(f"cannot combine an element of {self.group.name} with one of {other.group.name}")
        v = self.group._combine(self._v[None], other._v[None])[0]
        return GroupElement._from_internal(self.group, v, self.param)

    def __invert__(self) -> GroupElement:
        return GroupElement._from_internal(self.group, self.group._inverse(self._v[None])[0], self.param)

    def __pow__(self, k: int) -> GroupElement:
        k = int(k)
        base = self if k >= 0 else ~self
        out = self.group.identity
        for _ in range(abs(k)):
            out = out @ base
        return GroupElement._from_internal(self.group, out._v, self.param)

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, GroupElement) or other.group != self.group:
            return False
        return bool(self.group._equal(self._v[None], other._v[None])[0])

    def __hash__(self) -> int:
        return hash((self.group, self.group._hash_key(self._v)))

    # -- parametrisations --------------------------------------------------------------------
    @property
    def value(self) -> Any:
        """The element in its parametrisation ``self.param``."""
        return self.group._to_param(self._v, self.param)

    def to(self, param: str) -> Any:
        """The element's value in another parametrisation."""
        self.group._check_param(param)
        return self.group._to_param(self._v, param)

    def is_identity(self) -> bool:
        return self == self.group.identity

    def __repr__(self) -> str:
        return f"{self.group.name}[{self.param}: {self.value!r}]"

    def __reduce__(self):
        return (_rebuild_element, (self.group, np.asarray(self._v).copy(), self.param))


def _rebuild_element(group, v, param):
    return GroupElement._from_internal(group, v, param)
