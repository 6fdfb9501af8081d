"""Equivariant normalisation layers."""

from steerable.nn.norm._fieldnorm import FieldNorm
from steerable.nn.norm._gnorm_batchnorm import GNormBatchNorm
from steerable.nn.norm._iid_batchnorm import IIDBatchNorm1d, IIDBatchNorm2d, IIDBatchNorm3d
from steerable.nn.norm._induced_batchnorm import InducedNormBatchNorm
from steerable.nn.norm._inner_batchnorm import InnerBatchNorm
from steerable.nn.norm._layernorm import InstanceNorm, LayerNorm
from steerable.nn.norm._norm_batchnorm import NormBatchNorm

__all__ = [
    "GNormBatchNorm",
    "IIDBatchNorm1d",
    "IIDBatchNorm2d",
    "IIDBatchNorm3d",
    "InducedNormBatchNorm",
    "InnerBatchNorm",
    "NormBatchNorm",
    "FieldNorm",
    "InstanceNorm",
    "LayerNorm",
]
