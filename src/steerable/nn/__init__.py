"""Field types, geometric tensors and equivariant modules (escnn's ``nn`` surface).

>>> from steerable import gspaces, nn
>>> gs = gspaces.rot2dOnR2(4)
>>> nn.FieldType(gs, [gs.regular_repr]).size
4
"""
from ._field_type import FieldType
from ._geometric_tensor import GeometricTensor, tensor_directsum
from ._module import EquivariantModule
from .conv import BlockBasisExpansion, R2Conv, R3Conv, R3IcoConv, R2ConvTransposed, R3ConvTransposed
from . import init

__all__ = [
    "FieldType", "GeometricTensor", "tensor_directsum", "EquivariantModule", "BlockBasisExpansion",
    "R2Conv", "R3Conv", "R3IcoConv", "R2ConvTransposed", "R3ConvTransposed", "init",
]
