"""Field types, geometric tensors and equivariant modules (escnn's ``nn`` surface).

Modules load on first use (``from steerable.nn import ReLU`` imports only the nonlinearities).

>>> from steerable import gspaces, nn
>>> gs = gspaces.rot2dOnR2(4)
>>> nn.FieldType(gs, [gs.regular_repr]).size
4
"""

from __future__ import annotations

import importlib

from . import init
from ._field_type import FieldType
from ._geometric_tensor import GeometricTensor, tensor_directsum
from ._module import EquivariantModule
from .conv import (
    BlockBasisExpansion,
    R2Conv,
    R2ConvTransposed,
    R3Conv,
    R3ConvTransposed,
    R3IcoConv,
    R3IcoConvTransposed,
)

_LAZY = {
    ".nonlinear._pointwise": ["PointwiseNonLinearity", "ReLU", "ELU", "LeakyReLU"],
    ".nonlinear._norm": ["NormNonLinearity", "InducedNormNonLinearity"],
    ".nonlinear._gated": [
        "GatedNonLinearity1",
        "GatedNonLinearity2",
        "GatedNonLinearityUniform",
        "InducedGatedNonLinearity1",
    ],
    ".nonlinear._concatenated": ["ConcatenatedNonLinearity"],
    ".nonlinear._vectorfield": ["VectorFieldNonLinearity"],
    ".nonlinear._tensor_product": ["TensorProductModule"],
    ".nonlinear._fourier": ["FourierPointwise", "FourierELU", "QuotientFourierPointwise", "QuotientFourierELU"],
    ".nonlinear._adaptive_fourier": [
        "AdaptiveFourierPointwise",
        "AdaptiveFourierELU",
        "AdaptiveQuotientFourierPointwise",
        "AdaptiveQuotientFourierELU",
    ],
    ".pooling._max": ["PointwiseMaxPool", "PointwiseMaxPool2D", "PointwiseMaxPool3D"],
    ".pooling._avg": ["PointwiseAvgPool", "PointwiseAvgPool2D", "PointwiseAvgPool3D"],
    ".pooling._adaptive": [
        "PointwiseAdaptiveAvgPool",
        "PointwiseAdaptiveAvgPool2D",
        "PointwiseAdaptiveAvgPool3D",
        "PointwiseAdaptiveMaxPool",
        "PointwiseAdaptiveMaxPool2D",
        "PointwiseAdaptiveMaxPool3D",
    ],
    ".pooling._antialiased_max": [
        "PointwiseMaxPoolAntialiased",
        "PointwiseMaxPoolAntialiased2D",
        "PointwiseMaxPoolAntialiased3D",
    ],
    ".pooling._antialiased_avg": [
        "PointwiseAvgPoolAntialiased",
        "PointwiseAvgPoolAntialiased2D",
        "PointwiseAvgPoolAntialiased3D",
    ],
    ".pooling._norm": ["NormMaxPool", "NormPool", "InducedNormPool"],
    ".pooling._group": ["GroupPooling", "MaxPoolChannels"],
    ".norm._inner_batchnorm": ["InnerBatchNorm"],
    ".norm._norm_batchnorm": ["NormBatchNorm"],
    ".norm._induced_batchnorm": ["InducedNormBatchNorm"],
    ".norm._gnorm_batchnorm": ["GNormBatchNorm"],
    ".norm._iid_batchnorm": ["IIDBatchNorm1d", "IIDBatchNorm2d", "IIDBatchNorm3d"],
    ".norm._fieldnorm": ["FieldNorm"],
    ".norm._layernorm": ["LayerNorm", "InstanceNorm"],
    "._linear": ["Linear"],
    ".conv._source": ["KernelSource", "BasisKernelSource", "BlockReweightedKernelSource"],
    "._structure": [
        "SequentialModule",
        "MultipleModule",
        "BranchingModule",
        "MergeModule",
        "ReshuffleModule",
        "RestrictionModule",
        "DisentangleModule",
        "IdentityModule",
        "MaskModule",
    ],
    "._dropout": ["FieldDropout", "PointwiseDropout"],
    "._upsampling": ["R2Upsampling", "R3Upsampling"],
    ".point._point_conv": ["R2PointConv", "R3PointConv"],
    ".implicit._layers": ["ImplicitR2Conv", "ImplicitR3Conv", "ImplicitR2PointConv", "ImplicitR3PointConv"],
    ".implicit._mlp": ["ImplicitKernelSource"],
    ".partial": [
        "EquivarianceDensity",
        "PartialEquivarianceSource",
        "make_partially_equivariant",
        "partial_densities",
        "partial_equivariance_loss",
        "plot_density",
        "plot_densities",
        "supports_partial_equivariance",
    ],
    "._harmonic_polynomial": ["HarmonicPolynomialR3"],
    "._escnn_checkpoint": ["load_escnn_state_dict"],
}
_WHERE = {name: mod for mod, names in _LAZY.items() for name in names}

__all__ = [
    "FieldType",
    "GeometricTensor",
    "tensor_directsum",
    "EquivariantModule",
    "BlockBasisExpansion",
    "R2Conv",
    "R3Conv",
    "R3IcoConv",
    "R3IcoConvTransposed",
    "R2ConvTransposed",
    "R3ConvTransposed",
    "init",
] + sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'steerable.nn' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_WHERE))
