"""escnn's ``nn.modules.pointconv`` (point convolutions, pure torch here)."""

from steerable.nn.point._point_conv import R2PointConv, R3PointConv, _RdPointConv

__all__ = ["R2PointConv", "R3PointConv"]
