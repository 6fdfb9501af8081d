"""Steerable kernel bases on R^2 and R^3: escnn's ``escnn.kernels`` interface (torch modules that
sample on points) on top of steerable's exact numpy machinery.

>>> from steerable.kernels import harmonic_ids
>>> harmonic_ids(2, 2)
[((0, 0), 0), ((1, 1), 1), ((1, 2), 2)]
"""

from ._basis import (
    BasisElement,
    IrrepsPairBasis,
    default_cutoff,
    default_rings,
    harmonic_intertwiners,
    make_cutoff,
    restricted_harmonic,
)
from ._families_r2 import (
    kernels_CN_act_R2,
    kernels_DN_act_R2,
    kernels_Flip_act_R2,
    kernels_O2_act_R2,
    kernels_O2_subgroup_act_R2,
    kernels_on_point,
    kernels_SO2_act_R2,
    kernels_SO2_subgroup_act_R2,
    kernels_Trivial_act_R2,
)
from ._families_r3 import (
    kernels_CN_act_R3,
    kernels_cylinder_act_R3,
    kernels_cylinder_discrete_act_R3,
    kernels_DN_conical_act_R3,
    kernels_DN_dihedral_act_R3,
    kernels_full_cylinder_act_R3,
    kernels_full_cylinder_discrete_act_R3,
    kernels_FullIco_act_R3,
    kernels_FullOcta_act_R3,
    kernels_FullTetra_act_R3,
    kernels_Ico_act_R3,
    kernels_Inv_act_R3,
    kernels_O2_conical_act_R3,
    kernels_O2_dihedral_act_R3,
    kernels_O3_act_R3,
    kernels_O3_subgroup_act_R3,
    kernels_Octa_act_R3,
    kernels_Pyrito_act_R3,
    kernels_SO2_act_R3,
    kernels_SO3_act_R3,
    kernels_SO3_subgroup_act_R3,
    kernels_Tetra_act_R3,
    kernels_Trivial_act_R3,
)
from ._filters_basis import PointBasis, SteerableFiltersBasis
from ._harmonic_generator import HarmonicPolynomialR3Generator
from ._harmonics import harmonic_ids, harmonics
from ._kernel_basis import AdjointBasis, EmptyBasisException, KernelBasis, UnionBasis
from ._polar import CircularShellsBasis, GaussianRadialProfile, SphericalShellsBasis
from ._sparse import (
    SparseOrbitBasis,
    SparseOrbitBasisWithIcosahedralSymmetry,
    kernels_aliased_Ico_act_R3_dodecahedron,
    kernels_aliased_Ico_act_R3_icosahedron,
    kernels_aliased_Ico_act_R3_icosidodecahedron,
)
from ._steerable_kernel import IrrepBasis, SteerableKernelBasis
from ._structure import BasisStructure
from ._torch_harmonics import harmonics_torch, sample_pair_basis_torch, spherical_harmonics_torch
from ._wigner_eckart import RestrictedWignerEckartBasis, WignerEckartBasis

__all__ = [
    # steerable's own (numpy) bases and harmonics
    "harmonics_torch",
    "sample_pair_basis_torch",
    "spherical_harmonics_torch",
    "harmonic_ids",
    "harmonics",
    "BasisElement",
    "IrrepsPairBasis",
    "BasisStructure",
    "default_cutoff",
    "default_rings",
    "harmonic_intertwiners",
    "make_cutoff",
    "restricted_harmonic",
    # escnn's interface
    "EmptyBasisException",
    "KernelBasis",
    "AdjointBasis",
    "UnionBasis",
    "SteerableKernelBasis",
    "IrrepBasis",
    "WignerEckartBasis",
    "RestrictedWignerEckartBasis",
    "SteerableFiltersBasis",
    "PointBasis",
    "SphericalShellsBasis",
    "CircularShellsBasis",
    "GaussianRadialProfile",
    "SparseOrbitBasis",
    "SparseOrbitBasisWithIcosahedralSymmetry",
    "HarmonicPolynomialR3Generator",
    "kernels_on_point",
    "kernels_Flip_act_R2",
    "kernels_DN_act_R2",
    "kernels_O2_act_R2",
    "kernels_Trivial_act_R2",
    "kernels_CN_act_R2",
    "kernels_SO2_act_R2",
    "kernels_SO2_subgroup_act_R2",
    "kernels_O2_subgroup_act_R2",
    "kernels_O3_act_R3",
    "kernels_SO3_act_R3",
    "kernels_SO3_subgroup_act_R3",
    "kernels_O3_subgroup_act_R3",
    "kernels_Ico_act_R3",
    "kernels_Octa_act_R3",
    "kernels_Tetra_act_R3",
    "kernels_FullIco_act_R3",
    "kernels_FullOcta_act_R3",
    "kernels_FullTetra_act_R3",
    "kernels_Pyrito_act_R3",
    "kernels_SO2_act_R3",
    "kernels_CN_act_R3",
    "kernels_O2_conical_act_R3",
    "kernels_DN_conical_act_R3",
    "kernels_O2_dihedral_act_R3",
    "kernels_DN_dihedral_act_R3",
    "kernels_Inv_act_R3",
    "kernels_Trivial_act_R3",
    "kernels_aliased_Ico_act_R3_dodecahedron",
    "kernels_aliased_Ico_act_R3_icosidodecahedron",
    "kernels_aliased_Ico_act_R3_icosahedron",
]
