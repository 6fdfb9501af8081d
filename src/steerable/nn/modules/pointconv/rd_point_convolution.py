"""escnn's ``nn.modules.pointconv.rd_point_convolution``: the base class of the point convolutions."""

from steerable.nn.point._point_conv import _RdPointConv

__all__ = ["_RdPointConv"]
