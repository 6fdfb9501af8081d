"""Equivariant pooling."""

from steerable.nn.pooling._adaptive import (
    PointwiseAdaptiveAvgPool,
    PointwiseAdaptiveAvgPool2D,
    PointwiseAdaptiveAvgPool3D,
    PointwiseAdaptiveMaxPool,
    PointwiseAdaptiveMaxPool2D,
    PointwiseAdaptiveMaxPool3D,
)
from steerable.nn.pooling._antialiased_avg import (
    PointwiseAvgPoolAntialiased,
    PointwiseAvgPoolAntialiased2D,
    PointwiseAvgPoolAntialiased3D,
)
from steerable.nn.pooling._antialiased_max import (
    PointwiseMaxPoolAntialiased,
    PointwiseMaxPoolAntialiased2D,
    PointwiseMaxPoolAntialiased3D,
)
from steerable.nn.pooling._avg import PointwiseAvgPool, PointwiseAvgPool2D, PointwiseAvgPool3D
from steerable.nn.pooling._group import GroupPooling, MaxPoolChannels
from steerable.nn.pooling._max import PointwiseMaxPool, PointwiseMaxPool2D, PointwiseMaxPool3D
from steerable.nn.pooling._norm import InducedNormPool, NormMaxPool, NormPool

__all__ = [
    "PointwiseAdaptiveAvgPool",
    "PointwiseAdaptiveAvgPool2D",
    "PointwiseAdaptiveAvgPool3D",
    "PointwiseAdaptiveMaxPool",
    "PointwiseAdaptiveMaxPool2D",
    "PointwiseAdaptiveMaxPool3D",
    "PointwiseAvgPool",
    "PointwiseAvgPool2D",
    "PointwiseAvgPool3D",
    "PointwiseAvgPoolAntialiased",
    "PointwiseAvgPoolAntialiased2D",
    "PointwiseAvgPoolAntialiased3D",
    "PointwiseMaxPool",
    "PointwiseMaxPool2D",
    "PointwiseMaxPool3D",
    "PointwiseMaxPoolAntialiased",
    "PointwiseMaxPoolAntialiased2D",
    "PointwiseMaxPoolAntialiased3D",
    "InducedNormPool",
    "NormMaxPool",
    "NormPool",
    "GroupPooling",
    "MaxPoolChannels",
]
