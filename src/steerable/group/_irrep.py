"""Irreducible real representations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._representation import Representation, _readonly

if TYPE_CHECKING:  # pragma: no cover
    from ._group import Group

_SUM_OF_SQUARES = {"R": 1, "C": 2, "H": 4}


class IrreducibleRepresentation(Representation):
    """A real irreducible representation ψ of a group, identified by ``(group, id)``.

    ``type`` is ``'R'`` (real type: End(ψ) = R), ``'C'`` (complex type: End(ψ) ≅ C) or ``'H'``
    (quaternionic: End(ψ) ≅ H); ``sum_of_squares_constituents`` is 1, 2 or 4 accordingly, and
    ``endomorphism_basis()`` returns that many orthogonal matrices commuting with ψ.

    >>> from steerable.group import so2_group
    >>> psi = so2_group(4).irrep(2)
    >>> psi.id, psi.size, psi.type, psi.sum_of_squares_constituents
    ((2,), 2, 'C', 2)
    """

    def __init__(
        self,
        group: Group,
        id: tuple,
        name: str,
        representation: Any = None,
        size: int | None = None,
        type: str = "R",
        supported_nonlinearities: Any = None,
        character: Any = None,
        *,
        endomorphisms: np.ndarray | None = None,
        bandlimit: int = 0,
        **kwargs: Any,
    ):
        # escnn's signature: (group, id, name, representation, size, type,
        # supported_nonlinearities, character, **attributes). The groups build their irreps
        # with ``representation=None`` (matrices come from the group, in closed form) and pass
        # ``endomorphisms``; a user may pass a callable (or a dict element -> matrix) instead.
        if type not in _SUM_OF_SQUARES:
            raise ValueError(f"type: expected one of 'R', 'C', 'H', got {type!r}")
        if size is None or isinstance(size, bool) or int(size) != size or int(size) <= 0:
            raise ValueError(f"size: expected a positive integer, got {size!r}")
        if representation is not None and not (callable(representation) or isinstance(representation, dict)):
            raise TypeError(
                f"representation: expected a callable or a dict element -> matrix, got {representation!r:.60}"
            )
        self.group = group
        self.id = tuple(id)
        self.name = name
        self.irreps = [self.id]
        self.size = int(size)
        self.type = type
        self.sum_of_squares_constituents = _SUM_OF_SQUARES[type]
        self.bandlimit_ = int(bandlimit)
        self._custom = representation
        self._custom_character = character
        if endomorphisms is None:
            if type != "R":
                raise ValueError(
                    f"endomorphisms: an irrep of type {type!r} needs its "
                    f"{self.sum_of_squares_constituents} endomorphism matrices"
                )
            endomorphisms = np.eye(self.size)[None]
        e = _readonly(endomorphisms)
        if e.shape != (self.sum_of_squares_constituents, self.size, self.size):
            raise ValueError(
                f"endomorphisms: expected shape {(self.sum_of_squares_constituents, self.size, self.size)}, "
                f"got {e.shape}"
            )
        self._endomorphisms = e
        eye = _readonly(np.eye(self.size))
        self.change_of_basis = eye
        self.change_of_basis_inv = eye
        self._identity_basis = True
        self._declared_nonlinearities = (
            frozenset(supported_nonlinearities) if supported_nonlinearities is not None else None
        )
        hook = getattr(group, "_irrep_attributes", None)
        base = hook(self.id) if (hook is not None and representation is None) else {}
        self.attributes = {**base, **kwargs}

    def _matrices(self, batch: np.ndarray) -> np.ndarray:
        if self._custom is None:
            return self.group._irrep_matrices(self.id, batch)
        out = np.empty((len(batch), self.size, self.size))
        for n, v in enumerate(batch):
            g = self.group._element(v)
            out[n] = self._custom[g] if isinstance(self._custom, dict) else self._custom(g)
        return out

    def character(self, element) -> float:
        """χ(g) = tr ψ(g)."""
        if self._custom_character is not None:
            c = self._custom_character
            return float(c[element] if isinstance(c, dict) else c(element))
        return super().character(element)

    @property
    def irreducible(self) -> bool:
        return True

    @property
    def bandlimit(self) -> int:
        """The irrep's frequency (SO(2)/O(2) k, SO(3)/O(3) l); 0 for finite groups."""
        return self.bandlimit_

    def endomorphism_basis(self) -> np.ndarray:
        return self._endomorphisms

    def is_trivial(self) -> bool:
        return self.id == self.group.trivial_irrep_id

    def __eq__(self, other) -> bool:
        if isinstance(other, IrreducibleRepresentation):
            return self.group == other.group and self.id == other.id
        return Representation.__eq__(self, other)

    def __hash__(self) -> int:
        return Representation.__hash__(self)

    def __repr__(self) -> str:
        return f"{self.group.name}|irrep{self.id}:{self.size}"

    def __reduce__(self):
        return (_rebuild_irrep, (self.group, self.id))


def _rebuild_irrep(group, id):
    return group.irrep(*id)
