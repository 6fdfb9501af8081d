"""Irreducible real representations."""
from __future__ import annotations

from typing import TYPE_CHECKING

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
        group: "Group",
        id: tuple,
        name: str,
        size: int,
        type: str,
        endomorphisms: np.ndarray,
        bandlimit: int = 0,
    ):
        if type not in _SUM_OF_SQUARES:
            raise ValueError(f"type: expected one of 'R', 'C', 'H', got {type!r}")
        self.group = group
        self.id = tuple(id)
        self.name = name
        self.irreps = [self.id]
        self.size = int(size)
        self.type = type
        self.sum_of_squares_constituents = _SUM_OF_SQUARES[type]
        self.bandlimit_ = int(bandlimit)
        e = _readonly(endomorphisms)
        if e.shape != (self.sum_of_squares_constituents, size, size):
            raise ValueError(
                f"endomorphisms: expected shape {(self.sum_of_squares_constituents, size, size)}, "
                f"got {e.shape}"
            )
        self._endomorphisms = e
        eye = _readonly(np.eye(self.size))
        self.change_of_basis = eye
        self.change_of_basis_inv = eye
        self._identity_basis = True
        self._declared_nonlinearities = None

    def _matrices(self, batch: np.ndarray) -> np.ndarray:
        return self.group._irrep_matrices(self.id, batch)

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
