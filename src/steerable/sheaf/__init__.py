"""Sheaf neural networks on the (persistent) local homology sheaf (Cesa & Behboodi, NeurReps 2023).

Simplicial complexes (clique complexes of graphs, Vietoris–Rips and k-NN complexes of point
clouds), the local homology H_•(X, X∖σ) of their simplices, the local homology sheaf on the graph
with its coboundary and Laplacian, the persistent (weighted, differentiable) version, and layers:
sheaf convolution and attention, the learned-restriction Neural Sheaf Diffusion baseline, a GCN
baseline; a node-classification driver for the experiment.

Imports only the public library; nothing in the core imports it.
"""

from ._complex import SimplicialComplex, clique_complex, delaunay_complex, knn_complex, rips_complex
from ._homology import flag_filtration, local_betti, persistent_local_homology
from ._layers import (
    GCN,
    GCNConv,
    SheafAttention,
    SheafConv,
    SheafDiffusion,
    SheafNetwork,
    StalkActivation,
    invariant_readout,
)
from ._sheaf import Sheaf, constant_sheaf, direct_sum, local_homology_sheaf, persistent_local_homology_sheaf
from ._task import MODELS, NodeDataset, NodeResult, holey_disk, karate_club, node_classification

__all__ = [
    "MODELS",
    "NodeDataset",
    "NodeResult",
    "GCN",
    "GCNConv",
    "Sheaf",
    "SheafAttention",
    "SheafConv",
    "SheafDiffusion",
    "SheafNetwork",
    "SimplicialComplex",
    "StalkActivation",
    "clique_complex",
    "constant_sheaf",
    "delaunay_complex",
    "direct_sum",
    "flag_filtration",
    "holey_disk",
    "invariant_readout",
    "karate_club",
    "knn_complex",
    "local_betti",
    "local_homology_sheaf",
    "node_classification",
    "persistent_local_homology",
    "persistent_local_homology_sheaf",
    "rips_complex",
]
