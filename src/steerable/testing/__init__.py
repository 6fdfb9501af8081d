"""Equivariance testing: the one way the library and its tests check ``f(g·x) == g·f(x)``.

:func:`assert_equivariant` (and :func:`assert_invariant`, :func:`equivariance_errors`) take a
module or any callable and act on grid fields, fibres only, plain vectors, point clouds and
graphs (positions, features, ``edge_index``; optionally permuting the points), or through user
actions, on nested inputs and outputs. :func:`exact_elements`, :func:`random_elements` and
:func:`fibre_elements` pick the group elements; :func:`matrix_action` acts by matrices,
:func:`kernel_action` on kernels.

>>> import torch
>>> from steerable import gspaces, nn
>>> from steerable.testing import assert_equivariant
>>> gs = gspaces.rot2dOnR2(8)
>>> t = nn.FieldType(gs, [gs.regular_repr])
>>> _ = assert_equivariant(nn.R2Conv(t, t, 3, padding=1))    # the 4 exact rotations of the grid
"""

from ._actions import kernel_action, matrix_action
from ._check import assert_equivariant, assert_invariant, equivariance_errors
from ._compare import ElementError
from ._elements import exact_elements, fibre_elements, random_elements

__all__ = [
    "assert_equivariant",
    "assert_invariant",
    "equivariance_errors",
    "ElementError",
    "exact_elements",
    "random_elements",
    "fibre_elements",
    "matrix_action",
    "kernel_action",
]
