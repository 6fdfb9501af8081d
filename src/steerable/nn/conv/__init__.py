from ._expansion import BasisBlock, BlockBasisExpansion
from ._kernel_basis import AnalyticKernelBasis
from ._rdconv import (
    R2Conv,
    R2ConvTransposed,
    R3Conv,
    R3ConvTransposed,
    R3IcoConv,
    R3IcoConvTransposed,
    _RdConv,
    kernel_points,
)
from ._rep_expansion import RepBasisExpansion
from ._source import BasisKernelSource, BlockReweightedKernelSource, KernelSource

__all__ = [
    "BasisBlock",
    "BlockBasisExpansion",
    "RepBasisExpansion",
    "AnalyticKernelBasis",
    "KernelSource",
    "BasisKernelSource",
    "BlockReweightedKernelSource",
    "R2Conv",
    "R3Conv",
    "R3IcoConv",
    "R3IcoConvTransposed",
    "R2ConvTransposed",
    "R3ConvTransposed",
    "kernel_points",
]
