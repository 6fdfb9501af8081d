from ._expansion import BlockBasisExpansion
from ._rdconv import R2Conv, R3Conv, R3IcoConv, R2ConvTransposed, R3ConvTransposed, kernel_points

__all__ = ["BlockBasisExpansion", "R2Conv", "R3Conv", "R3IcoConv", "R2ConvTransposed", "R3ConvTransposed", "kernel_points"]
