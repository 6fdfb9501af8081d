"""escnn's ``nn.modules.conv.rd_transposed_convolution``: in steerable the transposed
convolutions share the base class :class:`_RdConv` (``_RdConvTransposed`` is that class)."""

from steerable.nn.conv._rdconv import _RdConv

_RdConvTransposed = _RdConv

__all__ = ["_RdConvTransposed"]
