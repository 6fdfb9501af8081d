"""escnn's ``nn.modules.conv`` (the grid convolutions and their base class ``_RdConv``)."""

from steerable.nn.conv import (
    R2Conv,
    R2ConvTransposed,
    R3Conv,
    R3ConvTransposed,
    R3IcoConv,
    R3IcoConvTransposed,
    _RdConv,
)

__all__ = ["R2Conv", "R3Conv", "R2ConvTransposed", "R3ConvTransposed", "R3IcoConv", "R3IcoConvTransposed"]
