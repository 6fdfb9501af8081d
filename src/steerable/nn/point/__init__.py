"""Point-cloud convolutions (pure torch: edge offsets, batched matmuls, scatter_add)."""

from steerable.nn.point._point_conv import R2PointConv, R3PointConv

__all__ = ["R2PointConv", "R3PointConv"]
