"""Steerable kernel bases on R^2 and R^3 (numpy, float64); they return arrays and know nothing
of modules.

>>> from steerable.kernels import harmonic_ids
>>> harmonic_ids(2, 2)
[((0, 0), 0), ((1, 1), 1), ((1, 2), 2)]
"""
from ._harmonics import harmonic_ids, harmonics
from ._basis import (
    BasisElement, IrrepsPairBasis, SteerableKernelBasis, default_cutoff, default_rings,
    harmonic_intertwiners, make_cutoff, restricted_harmonic,
)

from ._torch_harmonics import harmonics_torch, sample_pair_basis_torch, spherical_harmonics_torch

__all__ = [
    "harmonics_torch", "sample_pair_basis_torch", "spherical_harmonics_torch",
    "harmonic_ids", "harmonics", "BasisElement", "IrrepsPairBasis", "SteerableKernelBasis",
    "default_cutoff", "default_rings", "harmonic_intertwiners", "make_cutoff", "restricted_harmonic",
]
