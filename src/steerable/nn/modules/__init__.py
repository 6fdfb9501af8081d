"""escnn's import paths for the convolution machinery research code subclasses
(``escnn.nn.modules.basismanager``, ``escnn.nn.modules.conv``, ``escnn.nn.modules.pointconv``):
the same objects as in :mod:`steerable.nn.conv` and :mod:`steerable.nn.point`.

>>> from steerable.nn.modules.basismanager import BlocksBasisExpansion
>>> from steerable.nn.modules.conv.rd_convolution import _RdConv
>>> from steerable import nn
>>> BlocksBasisExpansion is nn.BlockBasisExpansion and issubclass(nn.R2Conv, _RdConv)
True
"""
