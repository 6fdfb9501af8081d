"""Equivariant pooling."""
from steerable.nn.pooling._pointwise import (
    PointwiseAdaptiveAvgPool, PointwiseAdaptiveAvgPool2D, PointwiseAdaptiveAvgPool3D, PointwiseAdaptiveMaxPool,
    PointwiseAdaptiveMaxPool2D, PointwiseAdaptiveMaxPool3D, PointwiseAvgPool, PointwiseAvgPool2D, PointwiseAvgPool3D,
    PointwiseAvgPoolAntialiased, PointwiseAvgPoolAntialiased2D, PointwiseAvgPoolAntialiased3D, PointwiseMaxPool,
    PointwiseMaxPool2D, PointwiseMaxPool3D, PointwiseMaxPoolAntialiased, PointwiseMaxPoolAntialiased2D,
    PointwiseMaxPoolAntialiased3D,
)
from steerable.nn.pooling._norm import InducedNormPool, NormMaxPool, NormPool
from steerable.nn.pooling._group import GroupPooling, MaxPoolChannels

__all__ = [
    "PointwiseAdaptiveAvgPool", "PointwiseAdaptiveAvgPool2D", "PointwiseAdaptiveAvgPool3D", "PointwiseAdaptiveMaxPool",
    "PointwiseAdaptiveMaxPool2D", "PointwiseAdaptiveMaxPool3D", "PointwiseAvgPool", "PointwiseAvgPool2D",
    "PointwiseAvgPool3D", "PointwiseAvgPoolAntialiased", "PointwiseAvgPoolAntialiased2D",
    "PointwiseAvgPoolAntialiased3D", "PointwiseMaxPool", "PointwiseMaxPool2D", "PointwiseMaxPool3D",
    "PointwiseMaxPoolAntialiased", "PointwiseMaxPoolAntialiased2D", "PointwiseMaxPoolAntialiased3D",
    "InducedNormPool", "NormMaxPool", "NormPool", "GroupPooling", "MaxPoolChannels",
]
