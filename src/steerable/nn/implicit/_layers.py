"""Convolutions with implicit kernels: ``ImplicitR2Conv``, ``ImplicitR3Conv`` (grids) and
``ImplicitR2PointConv``, ``ImplicitR3PointConv`` (point clouds, optional edge attributes).

Each is the corresponding steerable convolution with ``_analytic_basis = False`` (no basis is
built, ``weights`` is an empty buffer) and an :class:`ImplicitKernelSource` as its kernel source:
the filter is the equivariant MLP of the (normalised) offsets, everything else (padding, stride,
groups, the equivariant bias, ``export()``, the eval-mode cache, pickling) is the convolution's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import torch

from steerable.nn._field_type import FieldType
from steerable.nn._geometric_tensor import GeometricTensor
from steerable.nn.conv._rdconv import R2Conv, R3Conv
from steerable.nn.point._point_conv import R2PointConv, R3PointConv

from ._mlp import ImplicitKernelSource

__all__ = ["ImplicitR2Conv", "ImplicitR3Conv", "ImplicitR2PointConv", "ImplicitR3PointConv"]

_MLP_ARGS = """
    MLP arguments (keyword only; see :class:`~steerable.nn.implicit.ImplicitKernelSource`):
        hidden_channels (int, default 8), n_layers (int, default 2), nonlinearity (str, default
        ``'auto'``: ``'fourier'`` for finite groups, ``'gated'`` for continuous ones; or
        ``'norm'``), max_frequency (int or None), lift_order (int or None), batch_norm (bool,
        default False), sigma (float, default 1.0: the Gaussian envelope's initial width in
        normalised units), learn_sigma (bool, default True), fourier_grid (dict or None).

    The layer has no analytic basis: ``basisexpansion`` is None, ``weights`` an empty buffer
    (it carries dtype and device); the learnable tensors are the MLP's
    (``state_dict`` keys ``_kernel_source.*``) and the bias (trivial output components only).
"""


if TYPE_CHECKING:  # mixins for the convolutions below
    _GridBase = R2Conv
    _PointBase = R2PointConv
else:
    _GridBase = _PointBase = object


class _ImplicitGridMixin(_GridBase):
    """What the implicit grid convolutions add to ``R{2,3}Conv``."""

    _analytic_basis = False

    def __init__(
        self,
        in_type: FieldType,
        out_type: FieldType,
        kernel_size: int,
        padding=0,
        stride=1,
        dilation=1,
        padding_mode: str = "zeros",
        groups: int = 1,
        bias: bool = True,
        *,
        hidden_channels: int = 8,
        n_layers: int = 2,
        nonlinearity: str = "auto",
        max_frequency: int | None = None,
        lift_order: int | None = None,
        batch_norm: bool = False,
        sigma: float = 1.0,
        learn_sigma: bool = True,
        fourier_grid: Mapping | None = None,
    ):
        # R2Conv and R3Conv share their first nine positional arguments
        super().__init__(in_type, out_type, kernel_size, padding, stride, dilation, padding_mode, groups, bias)
        pts = np.asarray(self.kernel_points, dtype=np.float64)
        m = float(np.abs(pts).max()) if pts.size else 0.0
        self.kernel_source = ImplicitKernelSource(
            self._sub_in,
            self._sub_out,
            self.groups,
            offset_scale=1.0 / m if m > 0 else 1.0,
            hidden_channels=hidden_channels,
            n_layers=n_layers,
            nonlinearity=nonlinearity,
            max_frequency=max_frequency,
            lift_order=lift_order,
            batch_norm=batch_norm,
            sigma=sigma,
            learn_sigma=learn_sigma,
            fourier_grid=fourier_grid,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.in_type!r} -> {self.out_type!r}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, groups={self.groups}, implicit"
        )


_GRID_DOC = (
    r"""Steerable convolution on R^{d} whose kernel is an equivariant MLP of the offsets
    (implicit kernel; Zhdanov et al., NeurIPS 2023): ``{base}`` with the filter
    ``k(x) = MLP(x̂) · exp(-½ (‖x̂‖/σ)²) / √c_out`` at the taps, ``x̂`` the offsets scaled into
    [-1, 1]^{d}. It works for every gspace on R^{d}, including those without a closed-form basis,
    and ``k(g x) = ρ_out(g) k(x) ρ_in(g)⁻¹`` holds exactly for every g (continuous groups
    included), so the layer is equivariant under the grid's exact symmetries as ``{base}`` is.

    Args:
        in_type, out_type (FieldType), kernel_size (int), padding, stride, dilation,
        padding_mode, groups, bias: as in ``{base}`` (same defaults).
"""
    + _MLP_ARGS
)

_GRID_EXAMPLE = """
    Examples:
        >>> import torch
        >>> from steerable import gspaces, nn
        >>> gs = gspaces.{gs}
        >>> t_in, t_out = nn.FieldType(gs, [gs.trivial_repr]), nn.FieldType(gs, {out})
        >>> conv = nn.{cls}(t_in, t_out, kernel_size=3, padding=1)
        >>> conv(t_in(torch.randn({shape}))).shape
        torch.Size({res})
        >>> _ = conv.check_equivariance()
        >>> plain = conv.export()          # a torch.nn.Conv{d}d with the MLP's filter baked in
"""


class ImplicitR2Conv(_ImplicitGridMixin, R2Conv):
    __doc__ = _GRID_DOC.format(d=2, base="R2Conv") + _GRID_EXAMPLE.format(
        gs="rot2dOnR2(8)",
        out="[gs.regular_repr] * 2",
        cls="ImplicitR2Conv",
        shape="1, 1, 9, 9",
        res="[1, 16, 9, 9]",
        d=2,
    )


class ImplicitR3Conv(_ImplicitGridMixin, R3Conv):
    __doc__ = _GRID_DOC.format(d=3, base="R3Conv") + _GRID_EXAMPLE.format(
        gs="rot2dOnR3(4)",
        out="[gs.regular_repr]",
        cls="ImplicitR3Conv",
        shape="1, 1, 5, 5, 5",
        res="[1, 4, 5, 5, 5]",
        d=3,
    )


class _ImplicitPointMixin(_PointBase):
    """What the implicit point convolutions add to ``R{2,3}PointConv``: edge attributes."""

    _analytic_basis = False
    width: float
    edge_type: FieldType | None

    def __init__(
        self,
        in_type: FieldType,
        out_type: FieldType,
        groups: int = 1,
        bias: bool = True,
        *,
        width: float = 1.0,
        edge_type: FieldType | None = None,
        hidden_channels: int = 8,
        n_layers: int = 2,
        nonlinearity: str = "auto",
        max_frequency: int | None = None,
        lift_order: int | None = None,
        batch_norm: bool = False,
        sigma: float = 1.0,
        learn_sigma: bool = True,
        fourier_grid: Mapping | None = None,
    ):
        if not isinstance(width, (int, float, np.floating)) or isinstance(width, bool) or not width > 0:
            raise ValueError(f"width: expected a positive number (the offsets' scale), got {width!r}")
        super().__init__(in_type, out_type, groups, bias, width=float(width))
        self.width = float(width)
        self.edge_type = edge_type
        self.kernel_source = ImplicitKernelSource(
            self._sub_in,
            self._sub_out,
            self.groups,
            edge_type=edge_type,
            offset_scale=1.0 / self.width,
            hidden_channels=hidden_channels,
            n_layers=n_layers,
            nonlinearity=nonlinearity,
            max_frequency=max_frequency,
            lift_order=lift_order,
            batch_norm=batch_norm,
            sigma=sigma,
            learn_sigma=learn_sigma,
            fourier_grid=fourier_grid,
        )

    def forward(
        self,
        x: GeometricTensor,
        edge_index: torch.Tensor,
        edge_delta: torch.Tensor | None = None,
        edge_attr: torch.Tensor | GeometricTensor | None = None,
    ) -> GeometricTensor:
        """As :meth:`R2PointConv.forward`, with ``edge_attr`` (E, edge_type.size) (a tensor or a
        GeometricTensor of ``edge_type``) when the layer was built with an ``edge_type``."""
        n, src, dst, delta = self._edges(x, edge_index, edge_delta)
        source = self.kernel_source
        if not isinstance(source, ImplicitKernelSource):  # a source assigned by the user
            return self._messages(x, source(self, delta, edge_attr), src, dst, n)
        # the filter stays edge-major (E·G, C_out/G, C_in/G); the envelope scales the messages
        rows, weight = source.kernel_rows(source.offsets(self, delta), edge_attr)
        g, cog, cig = source.shape
        e = src.shape[0]
        xj = x.tensor.index_select(0, src).reshape(e * g, cig, 1)
        msg = torch.bmm(rows.reshape(e * g, cog, cig), xj).reshape(e, g * cog) * weight[:, None]
        out = x.tensor.new_zeros(n, g * cog).index_add(0, dst, msg)
        b = self.expand_bias()
        return GeometricTensor(out if b is None else out + b, self.out_type, x.coords)

    def _check_extra_inputs(self, pos: torch.Tensor, edge_index: torch.Tensor, gen: torch.Generator) -> tuple:
        """Random edge attributes of ``edge_type`` (on the edges' midpoints, so they transform with
        the fibres) for ``check_equivariance``; none without an ``edge_type``."""
        if self.edge_type is None:
            return ()
        mid = (pos[edge_index[0]] + pos[edge_index[1]]) / 2
        attr = torch.randn(edge_index.shape[1], self.edge_type.size, generator=gen, dtype=pos.dtype)
        return (None, GeometricTensor(attr, self.edge_type, mid))

    def extra_repr(self) -> str:
        return (
            f"{self.in_type!r} -> {self.out_type!r}, width={self.width}, groups={self.groups}, "
            f"edge_type={self.edge_type!r}, implicit"
        )


_POINT_DOC = (
    r"""Steerable convolution on a geometric graph in R^{d} whose kernel is an equivariant MLP
    of the edge offsets and, optionally, of per-edge attributes with their own field type
    (implicit kernel; Zhdanov et al., NeurIPS 2023): ``out_i = Σ_{{j→i}} k(x_j - x_i, a_ij) f_j
    (+ bias)`` with ``k(δ, a) = MLP(δ/width, a) · exp(-½ (‖δ‖/(width·σ))²) / √c_out``, exactly
    equivariant for every element of G (continuous groups included).

    ``forward(x, edge_index, edge_delta=None, edge_attr=None)``: as ``{base}``, plus
    ``edge_attr`` (E, edge_type.size), a tensor or a GeometricTensor of ``edge_type``.

    Args:
        in_type, out_type (FieldType), groups (int, default 1), bias (bool, default True): as in
            ``{base}``.
        width (float, keyword only, default 1.0): the offsets' scale (the MLP sees ``δ/width``).
        edge_type (FieldType or None, keyword only): the edge attributes' fields (same gspace).
"""
    + _MLP_ARGS
)

_POINT_EXAMPLE = """
    Examples:
        >>> import torch
        >>> from steerable import gspaces, nn
        >>> gs = gspaces.{gs}
        >>> t_in, t_out = nn.FieldType(gs, {ins}), nn.FieldType(gs, {outs})
        >>> e = nn.FieldType(gs, [gs.trivial_repr])
        >>> conv = nn.{cls}(t_in, t_out, width=1.5, edge_type=e)
        >>> pos = torch.randn(12, {d})
        >>> edge_index = (torch.cdist(pos, pos) < 1.5).nonzero().T
        >>> attr = torch.randn(edge_index.shape[1], 1)
        >>> conv(t_in(torch.randn(12, t_in.size), coords=pos), edge_index, edge_attr=attr).shape[1] == t_out.size
        True
        >>> _ = conv.check_equivariance()
"""


class ImplicitR2PointConv(_ImplicitPointMixin, R2PointConv):
    __doc__ = _POINT_DOC.format(d=2, base="R2PointConv") + _POINT_EXAMPLE.format(
        gs="rot2dOnR2(-1, maximum_frequency=2)",
        ins="[gs.irrep(0), gs.irrep(1)]",
        outs="[gs.irrep(1), gs.irrep(2)]",
        cls="ImplicitR2PointConv",
        d=2,
    )


class ImplicitR3PointConv(_ImplicitPointMixin, R3PointConv):
    __doc__ = _POINT_DOC.format(d=3, base="R3PointConv") + _POINT_EXAMPLE.format(
        gs="rot3dOnR3()",
        ins="[gs.irrep(0), gs.irrep(1)]",
        outs="[gs.irrep(1), gs.irrep(2)]",
        cls="ImplicitR3PointConv",
        d=3,
    )
