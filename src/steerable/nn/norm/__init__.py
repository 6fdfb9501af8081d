"""Equivariant normalisation layers."""
from steerable.nn.norm._batchnorm import (
    GNormBatchNorm, IIDBatchNorm1d, IIDBatchNorm2d, IIDBatchNorm3d, InducedNormBatchNorm, InnerBatchNorm,
    NormBatchNorm,
)
from steerable.nn.norm._fieldnorm import FieldNorm
from steerable.nn.norm._layernorm import InstanceNorm, LayerNorm

__all__ = [
    "GNormBatchNorm", "IIDBatchNorm1d", "IIDBatchNorm2d", "IIDBatchNorm3d", "InducedNormBatchNorm",
    "InnerBatchNorm", "NormBatchNorm", "FieldNorm", "InstanceNorm", "LayerNorm",
]
