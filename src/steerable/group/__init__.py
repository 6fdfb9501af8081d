"""Groups, elements, irreducible and general representations, Clebsch–Gordan coefficients and
Fourier transforms — pure numpy/scipy, float64.

>>> from steerable.group import so3_group
>>> so3_group().irrep(2).size
5
"""
from ._element import GroupElement
from ._group import Group
from ._irrep import IrreducibleRepresentation
from ._representation import Representation, directsum, change_basis, disentangle
from ._homomorphisms import homomorphism_space
from ._homspace import HomSpace
from ._factory import (
    cyclic_group, dihedral_group, so2_group, o2_group, so3_group, o3_group, ico_group,
    full_ico_group, octa_group, full_octa_group, tetra_group, full_tetra_group, trivial_group,
    direct_product, cylinder_group, full_cylinder_group, cylinder_discrete_group,
    full_cylinder_discrete_group, klein4_group, double_group,
)
from ._fourier import FourierTransform, sampling_matrix
from ._quotient_fourier import QuotientFourierTransform, quotient_sampling_matrix

__all__ = [
    "GroupElement", "Group", "IrreducibleRepresentation", "Representation", "directsum",
    "change_basis", "disentangle", "homomorphism_space", "HomSpace", "cyclic_group", "dihedral_group",
    "so2_group", "o2_group", "so3_group", "o3_group", "ico_group", "full_ico_group", "octa_group",
    "full_octa_group", "tetra_group", "full_tetra_group", "trivial_group", "direct_product",
    "cylinder_group", "full_cylinder_group", "cylinder_discrete_group",
    "full_cylinder_discrete_group", "klein4_group", "double_group", "FourierTransform",
    "sampling_matrix", "QuotientFourierTransform", "quotient_sampling_matrix",
]
