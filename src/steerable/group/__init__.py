"""Groups, elements, irreducible and general representations, Clebsch–Gordan coefficients and
Fourier transforms — pure numpy/scipy, float64.

>>> from steerable.group import so3_group
>>> so3_group().irrep(2).size
5
"""

import os as _os

from ._element import GroupElement
from ._exceptions import InsufficientIrrepsException, UnderconstrainedCGSystem
from ._factory import (
    cyclic_group,
    cylinder_discrete_group,
    cylinder_group,
    dihedral_group,
    direct_product,
    double_group,
    full_cylinder_discrete_group,
    full_cylinder_group,
    full_ico_group,
    full_octa_group,
    full_tetra_group,
    ico_group,
    klein4_group,
    o2_group,
    o3_group,
    octa_group,
    so2_group,
    so3_group,
    tetra_group,
    trivial_group,
)
from ._finite3d import FullTetrahedral, Icosahedral, Octahedral, Tetrahedral
from ._fourier import FourierTransform, sampling_matrix
from ._group import Group
from ._homomorphisms import homomorphism_space
from ._homspace import HomSpace
from ._hyperoctahedral import HyperoctahedralGroup, hyperoctahedral_group
from ._irrep import IrreducibleRepresentation
from ._planar import O2, SO2, CyclicGroup, DihedralGroup
from ._product import DirectProductGroup, DoubleGroup
from ._quotient_fourier import QuotientFourierTransform, quotient_sampling_matrix
from ._representation import Representation, change_basis, directsum, disentangle
from ._rot3d import O3, SO3
from ._utils import chi, psi, psichi

__cache_path__ = _os.path.join(_os.path.expanduser("~"), ".cache", "steerable")
"""Where an opt-in on-disk cache would live (escnn's name; steerable needs no cache)."""

__all__ = [
    "CyclicGroup",
    "DihedralGroup",
    "SO2",
    "O2",
    "SO3",
    "O3",
    "Icosahedral",
    "Octahedral",
    "Tetrahedral",
    "FullTetrahedral",
    "DirectProductGroup",
    "DoubleGroup",
    "InsufficientIrrepsException",
    "UnderconstrainedCGSystem",
    "chi",
    "psi",
    "psichi",
    "__cache_path__",
    "GroupElement",
    "Group",
    "IrreducibleRepresentation",
    "Representation",
    "directsum",
    "change_basis",
    "disentangle",
    "homomorphism_space",
    "HomSpace",
    "cyclic_group",
    "dihedral_group",
    "so2_group",
    "o2_group",
    "so3_group",
    "o3_group",
    "ico_group",
    "full_ico_group",
    "octa_group",
    "full_octa_group",
    "tetra_group",
    "full_tetra_group",
    "trivial_group",
    "direct_product",
    "cylinder_group",
    "full_cylinder_group",
    "cylinder_discrete_group",
    "full_cylinder_discrete_group",
    "klein4_group",
    "double_group",
    "FourierTransform",
    "sampling_matrix",
    "QuotientFourierTransform",
    "quotient_sampling_matrix",
    "HyperoctahedralGroup",
    "hyperoctahedral_group",
]
