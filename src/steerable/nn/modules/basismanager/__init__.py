"""escnn's ``nn.modules.basismanager``: the basis managers of the convolutions.

``BlocksBasisExpansion`` is :class:`steerable.nn.BlockBasisExpansion` (grid convolutions),
``BlocksBasisSampler`` the point convolutions' :class:`~steerable.nn.point.PointBasisExpansion`;
:class:`BasisManager` is the abstract interface they implement (``dimension()``,
``get_basis_info()``, ``get_element_info(i)``).

>>> from steerable.nn.modules.basismanager import BasisManager, BlocksBasisExpansion
>>> issubclass(BlocksBasisExpansion, BasisManager)
True
"""

from abc import ABC, abstractmethod

from steerable.nn.conv._expansion import BasisBlock, BlockBasisExpansion
from steerable.nn.conv._rep_expansion import RepBasisExpansion
from steerable.nn.point._point_conv import PointBasisExpansion


class BasisManager(ABC):
    """The interface of the modules that hold a layer's basis (escnn's ``BasisManager``)."""

    @abstractmethod
    def get_element_info(self, idx: int) -> dict:
        """The attributes of basis element ``idx``."""

    @abstractmethod
    def get_basis_info(self):
        """An iterable over the attributes of every element."""

    @abstractmethod
    def dimension(self) -> int:
        """The number of weights."""


for _cls in (BlockBasisExpansion, RepBasisExpansion, PointBasisExpansion):
    BasisManager.register(_cls)

BlocksBasisExpansion = BlockBasisExpansion
BlocksBasisSampler = PointBasisExpansion

__all__ = ["BasisManager", "BlocksBasisExpansion", "BlocksBasisSampler", "RepBasisExpansion", "BasisBlock"]
