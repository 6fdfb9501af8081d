"""escnn's ``nn.modules.conv.rd_convolution``: the base class of the grid convolutions."""

from steerable.nn.conv._rdconv import _RdConv

__all__ = ["_RdConv"]
