"""Implicit steerable kernels: convolutions whose filters are G-equivariant MLPs of the offsets
(Zhdanov, Hoffmann & Cesa, NeurIPS 2023), on grids and point clouds.

>>> import torch
>>> from steerable import gspaces, nn
>>> gs = gspaces.rot2dOnR3()                       # SO(2) about the z axis, acting on R^3
>>> t = nn.FieldType(gs, [gs.irrep(0), gs.irrep(1)])
>>> conv = nn.ImplicitR3Conv(t, t, kernel_size=3, padding=1)
>>> conv(t(torch.randn(2, 3, 5, 5, 5))).shape
torch.Size([2, 3, 5, 5, 5])
"""

from ._layers import ImplicitR2Conv, ImplicitR2PointConv, ImplicitR3Conv, ImplicitR3PointConv
from ._mlp import ImplicitKernelSource, irrep_frequency

__all__ = [
    "ImplicitKernelSource",
    "ImplicitR2Conv",
    "ImplicitR3Conv",
    "ImplicitR2PointConv",
    "ImplicitR3PointConv",
    "irrep_frequency",
]
