"""Generalisation theory for equivariant networks: margin PAC-Bayes bounds computed in the
Fourier domain of each layer (Behboodi, Cesa & Cohen 2022), the classic bound of Neyshabur,
Bhojanapalli & Srebro (2018) on the same network, irrep-block norms and margins.

Imports only the public library; nothing in the core imports it.
"""

from ._blocks import IrrepBlock, irrep_blocks, matrix_irrep_blocks, orthonormal_irrep_basis
from ._bound import PacBayesBound, margins, nbs18_bound, pac_bayes_bound
from ._layers import AffineLayer, FixedMap, conv_operator_norm

__all__ = [
    "AffineLayer",
    "FixedMap",
    "IrrepBlock",
    "PacBayesBound",
    "conv_operator_norm",
    "irrep_blocks",
    "margins",
    "matrix_irrep_blocks",
    "nbs18_bound",
    "orthonormal_irrep_basis",
    "pac_bayes_bound",
]
