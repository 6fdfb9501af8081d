"""G-spaces: how a fibre group acts on the base space R^0, R^2 or R^3, the factories users call,
and transforms of signals on pixel/voxel grids and of point coordinates.

>>> from steerable import gspaces
>>> gs = gspaces.flipRot2dOnR2(N=8)
>>> gs.fibergroup.order(), gs.dimensionality
(16, 2)
"""
from ._gspace import GSpace
from ._transform import grid_coordinates, transform_grid, is_signed_permutation
from ._r0 import GSpace0D, no_base_space
from ._r2 import GSpace2D, rot2dOnR2, flipRot2dOnR2, flip2dOnR2, trivialOnR2
from ._r3 import (
    GSpace3D, rot3dOnR3, flipRot3dOnR3, icoOnR3, fullIcoOnR3, octaOnR3, fullOctaOnR3, tetraOnR3,
    rot2dOnR3, dihedralOnR3, conicalOnR3, fullCylindricalOnR3, cylindricalOnR3, mirOnR3, invOnR3,
    trivialOnR3,
)

__all__ = [
    "GSpace", "GSpace0D", "GSpace2D", "GSpace3D", "grid_coordinates", "transform_grid",
    "is_signed_permutation", "no_base_space", "rot2dOnR2", "flipRot2dOnR2", "flip2dOnR2",
    "trivialOnR2", "rot3dOnR3", "flipRot3dOnR3", "icoOnR3", "fullIcoOnR3", "octaOnR3",
    "fullOctaOnR3", "tetraOnR3", "rot2dOnR3", "dihedralOnR3", "conicalOnR3",
    "fullCylindricalOnR3", "cylindricalOnR3", "mirOnR3", "invOnR3", "trivialOnR3",
]
