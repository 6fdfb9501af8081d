"""Neural lattice reduction (Marchetti, Cesa, Pratik & Behboodi 2023): a self-supervised,
B_n-equivariant network that reduces lattice bases by integer Gauss moves, with the classical
baselines (LLL with parameter δ, Seysen's and size reduction; fpylll's LLL when installed),
random lattice families and the spatially correlated MIMO grid with its convolutional variant.

Imports only the public library; nothing in the core imports it.

>>> import numpy as np
>>> from steerable.lattice import lll_reduce, log_orthogonality_defect, random_lattices
>>> B = random_lattices(8, 6, seed=0)
>>> red, Q = lll_reduce(B, delta=0.99)
>>> bool((log_orthogonality_defect(red) <= log_orthogonality_defect(B) + 1e-12).all())
True
"""

from ._classical import fpylll_lll, is_lll_reduced, lll_reduce, seysen_reduce, size_reduce
from ._data import LATTICE_FAMILIES, mimo_lattice_grid, random_lattices
from ._defect import is_unimodular, log_orthogonality_defect, orthogonality_defect
from ._layers import EDGE_FEATURES, NODE_FEATURES, BnGramLayer, gram_features
from ._model import ConvGaussMoveReducer, GaussMoveReducer, Reduction
from ._symmetry import apply_signed_permutation, signed_permutation_matrices
from ._train import train_reducer

__all__ = [
    "EDGE_FEATURES",
    "LATTICE_FAMILIES",
    "NODE_FEATURES",
    "BnGramLayer",
    "ConvGaussMoveReducer",
    "GaussMoveReducer",
    "Reduction",
    "apply_signed_permutation",
    "fpylll_lll",
    "gram_features",
    "is_lll_reduced",
    "is_unimodular",
    "lll_reduce",
    "log_orthogonality_defect",
    "mimo_lattice_grid",
    "orthogonality_defect",
    "random_lattices",
    "seysen_reduce",
    "signed_permutation_matrices",
    "size_reduce",
    "train_reducer",
]
