"""The G-space with no base space (R^0): a group acting on plain feature vectors (equivariant MLPs)."""

from __future__ import annotations

from typing import Any

from steerable.group import Group

from ._gspace import GSpace

__all__ = ["GSpace0D", "no_base_space"]


class GSpace0D(GSpace):
    """The group ``G`` acting on a single point (escnn's constructor).

    >>> from steerable.group import so3_group
    >>> from steerable.gspaces import GSpace0D
    >>> gs = GSpace0D(so3_group(2))
    >>> gs.dimensionality, gs.basespace_action is None
    (0, True)
    """

    def __init__(self, G: Group) -> None:
        if not isinstance(G, Group):
            raise TypeError(f"G: expected a steerable.group.Group, got {type(G).__name__}")
        super().__init__(G, 0, G.name, reduce_args=(no_base_space, (G,)))

    def build_kernel_basis(self, in_repr, out_repr, **kwargs):
        """The basis of the equivariant linear maps ``in_repr`` -> ``out_repr`` (escnn's signature
        on a point: no rings, no sigma)."""
        from steerable.kernels import _gspace_bases

        return _gspace_bases.build_kernel_basis(self, in_repr, out_repr, None, None, **kwargs)

    def restrict(self, id: Any):
        """``(no_base_space(H), inclusion, restriction)`` for the subgroup ``id`` of G.

        >>> from steerable.group import dihedral_group
        >>> sub, _, _ = no_base_space(dihedral_group(4)).restrict((None, 2))
        >>> sub.fibergroup, sub.dimensionality
        (C2, 0)
        """
        H, inclusion, restriction = self.fibergroup.subgroup(id)
        return GSpace0D(H), inclusion, restriction


def no_base_space(G: Group) -> GSpace0D:
    """The G-space of ``G`` acting on a single point (features are plain vectors).

    >>> from steerable.group import cyclic_group
    >>> from steerable.gspaces import no_base_space
    >>> gs = no_base_space(cyclic_group(3))
    >>> gs.fibergroup, gs.dimensionality, len(gs.testing_elements)
    (C3, 0, 3)
    """
    return GSpace0D(G)
