"""G-spaces: how a fibre group acts on the base space R^0, R^2 or R^3, the factories users call,
and transforms of signals on pixel/voxel grids and of point coordinates.

The API is escnn's ``escnn.gspaces`` (factories, ``GSpace0D/2D/3D(sg_id, maximum_frequency)``,
``featurefield_action``, ``testing_elements``, ``restrict``, names such as ``'C8_on_R2[(None, 8)]'``),
with escnn's conventions for reflections (the flip of ``flipRot2dOnR2`` maps x -> -x) and for the
``axis`` arguments. e2cnn's class-style spaces (``Rot2dOnR2``, ``FlipRot2dOnR2``, ``Flip2dOnR2``,
``TrivialOnR2``, ``GeneralOnR2``) are a thin layer over :class:`GSpace2D` (see ``_e2cnn``).
``exact_testing_elements`` lists the elements that are exact symmetries of the grid.

>>> from steerable import gspaces
>>> gs = gspaces.flipRot2dOnR2(N=8)
>>> gs.fibergroup.order(), gs.dimensionality
(16, 2)
"""

from ._e2cnn import Flip2dOnR2, FlipRot2dOnR2, GeneralOnR2, Rot2dOnR2, TrivialOnR2
from ._gspace import GSpace
from ._r0 import GSpace0D, no_base_space
from ._r2 import GSpace2D, flip2dOnR2, flipRot2dOnR2, rot2dOnR2, trivialOnR2
from ._r3 import (
    GSpace3D,
    conicalOnR3,
    cylindricalOnR3,
    dihedralOnR3,
    flipRot3dOnR3,
    fullCylindricalOnR3,
    fullIcoOnR3,
    fullOctaOnR3,
    icoOnR3,
    invOnR3,
    mirOnR3,
    octaOnR3,
    rot2dOnR3,
    rot3dOnR3,
    tetraOnR3,
    trivialOnR3,
)
from ._transform import grid_coordinates, is_signed_permutation, transform_grid

__all__ = [
    "GSpace",
    "GSpace0D",
    "GSpace2D",
    "GSpace3D",
    "grid_coordinates",
    "transform_grid",
    "is_signed_permutation",
    "no_base_space",
    "rot2dOnR2",
    "flipRot2dOnR2",
    "flip2dOnR2",
    "trivialOnR2",
    "rot3dOnR3",
    "flipRot3dOnR3",
    "icoOnR3",
    "fullIcoOnR3",
    "octaOnR3",
    "fullOctaOnR3",
    "tetraOnR3",
    "rot2dOnR3",
    "dihedralOnR3",
    "conicalOnR3",
    "fullCylindricalOnR3",
    "cylindricalOnR3",
    "mirOnR3",
    "invOnR3",
    "trivialOnR3",
    "GeneralOnR2",
    "Rot2dOnR2",
    "FlipRot2dOnR2",
    "Flip2dOnR2",
    "TrivialOnR2",
]
