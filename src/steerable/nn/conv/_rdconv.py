"""Steerable convolutions on R^2 and R^3 (and their transposes)."""
from __future__ import annotations

import warnings
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from steerable.kernels import default_rings, make_cutoff
from steerable.kernels._basis import _as_sigmas

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._cache import ExpansionCacheMixin
from .._module import EquivariantModule
from ._expansion import BlockBasisExpansion

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(x, d: int, name: str) -> tuple:
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return (int(x),) * d
    t = tuple(int(v) for v in x)
    if len(t) != d:
        raise ValueError(f"{name}: expected an int or {d} ints, got {x!r}")
    return t


def kernel_points(kernel_size: int, d: int) -> np.ndarray:
    """Offsets (k^d, d) of the kernel taps in base-space coordinates (the gspaces' convention:
    pixel (i, j) ↦ (x, y) = (j - c, c - i)); dilation is applied by the convolution itself."""
    from steerable.gspaces import grid_coordinates

    return grid_coordinates((kernel_size,) * d).reshape(-1, d)


class _RdConv(ExpansionCacheMixin, EquivariantModule):
    _d = 2
    _transposed = False

    def __init__(self, in_type: FieldType, out_type: FieldType, kernel_size: int, padding=0, stride=1,
                 dilation=1, padding_mode: str = "zeros", groups: int = 1, bias: bool = True,
                 sigma: float | Sequence[float] | None = None, frequencies_cutoff: float | Callable | None = None,
                 rings: Sequence[float] | None = None, maximum_offset: int | None = None, recompute: bool = False,
                 basis_filter: Callable[[dict], bool] | None = None, initialize: bool = True,
                 output_padding=0):
        super().__init__()
        d = self._d
        for arg, t in (("in_type", in_type), ("out_type", out_type)):
            if not isinstance(t, FieldType):
                raise TypeError(f"{arg}: expected a FieldType, got {type(t).__name__}")
            if t.gspace.dimensionality != d:
                raise ValueError(f"{arg}: {type(self).__name__} needs a field type on R^{d}, got one on R^{t.gspace.dimensionality}")
        if in_type.gspace != out_type.gspace:
            raise ValueError("out_type: in_type and out_type must live on the same gspace")
        if isinstance(kernel_size, bool) or not isinstance(kernel_size, (int, np.integer)) or kernel_size < 1:
            raise ValueError(f"kernel_size: expected a positive integer, got {kernel_size!r}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode: expected one of {_PADDING_MODES}, got {padding_mode!r}")
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(f"groups: expected a positive integer, got {groups!r}")
        if len(in_type) % groups or len(out_type) % groups:
            raise ValueError(f"groups: {groups} must divide the number of input ({len(in_type)}) and output ({len(out_type)}) fields")
        gin, gout = len(in_type) // groups, len(out_type) // groups
        sub_in, sub_out = in_type.index_select(range(gin)), out_type.index_select(range(gout))
        for k in range(1, groups):
            if in_type.index_select(range(k * gin, (k + 1) * gin)) != sub_in or out_type.index_select(range(k * gout, (k + 1) * gout)) != sub_out:
                raise ValueError(f"groups: in_type and out_type must be {groups} repetitions of the same field types")
        self.in_type, self.out_type = in_type, out_type
        self.kernel_size = int(kernel_size)
        self.stride = _tuple(stride, d, "stride")
        self.dilation = _tuple(dilation, d, "dilation")
        self.padding = _tuple(padding, d, "padding")
        self.output_padding = _tuple(output_padding, d, "output_padding")
        self.padding_mode = padding_mode
        self.groups = groups
        self.recompute = bool(recompute)
        if kernel_size % 2 == 0:
            warnings.warn(
                f"kernel_size={kernel_size} is even: the kernel grid has no centre tap, so 90° rotations "
                "move the output grid by half a pixel and the basis is degraded; prefer odd sizes",
                stacklevel=2,
            )
        self.rings = [float(r) for r in (rings if rings is not None else default_rings(kernel_size))]
        if not self.rings:
            raise ValueError("rings: expected at least one ring radius")
        if any(r < 0 for r in self.rings):
            raise ValueError(f"rings: expected non-negative radii, got {self.rings}")
        self.sigmas = _as_sigmas(0.6 if sigma is None else sigma, len(self.rings))
        cutoff = make_cutoff(frequencies_cutoff)
        if maximum_offset is not None and (isinstance(maximum_offset, bool) or int(maximum_offset) < 0):
            raise ValueError(f"maximum_offset: expected a non-negative integer, got {maximum_offset!r}")
        if basis_filter is not None and not callable(basis_filter):
            raise TypeError(f"basis_filter: expected a callable on basis attributes, got {type(basis_filter).__name__}")
        pts = kernel_points(kernel_size, d)
        if self._transposed:
            pts = -pts  # W(u) = K(-u)^T: the adjoint of a correlation with kernel K
        self._sub_in, self._sub_out = sub_in, sub_out
        self.basisexpansion = BlockBasisExpansion(sub_in, sub_out, pts, self.rings, self.sigmas, cutoff,
                                                  maximum_offset, basis_filter, recompute=self.recompute)
        _setup_parameters(self, sub_in, sub_out, out_type, groups, bias, stacklevel=3)
        self._cache: tuple | None = None
        if initialize:
            from ..init import generalized_he_init

            generalized_he_init(self.weights.data, self.basisexpansion)

    # -- filter ------------------------------------------------------------------------------
    def expand_parameters(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The dense filter (in torch's layout) and bias built from the current weights."""
        g = self.groups
        k = self.kernel_size
        d = self._d
        f = self.basisexpansion(self.weights.reshape(g, -1))  # (G, Cout_g, Cin_g, N)
        cog, cig = f.shape[1], f.shape[2]
        if self._transposed:
            f = f.transpose(1, 2).reshape(g * cig, cog, *(k,) * d)
        else:
            f = f.reshape(g * cog, cig, *(k,) * d)
        b = self.bias_expansion @ self.bias if self.bias is not None else None
        return f, b

    def _filter(self):
        return self._expanded()

    # -- forward -----------------------------------------------------------------------------
    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        f, b = self._filter()
        return GeometricTensor(self._conv(x.tensor, f, b), self.out_type)

    def _conv(self, t: torch.Tensor, f: torch.Tensor, b):
        d = self._d
        if self._transposed:
            fn = F.conv_transpose2d if d == 2 else F.conv_transpose3d
            return fn(t, f, b, self.stride, self.padding, self.output_padding, self.groups, self.dilation)
        fn = F.conv2d if d == 2 else F.conv3d
        if self.padding_mode != "zeros":
            pad = [p for p in reversed(self.padding) for _ in range(2)]
            t = F.pad(t, pad, mode=self.padding_mode)
            return fn(t, f, b, self.stride, 0, self.dilation, self.groups)
        return fn(t, f, b, self.stride, self.padding, self.dilation, self.groups)

    def evaluate_output_shape(self, input_shape):
        if len(input_shape) != 2 + self._d or input_shape[1] != self.in_type.size:
            raise ValueError(f"input_shape: expected (B, {self.in_type.size}, *{self._d} spatial), got {tuple(input_shape)}")
        k = self.kernel_size
        out = []
        for i, n in enumerate(input_shape[2:]):
            s, p, dl = self.stride[i], self.padding[i], self.dilation[i]
            if self._transposed:
                out.append((n - 1) * s - 2 * p + dl * (k - 1) + self.output_padding[i] + 1)
            else:
                out.append((n + 2 * p - dl * (k - 1) - 1) // s + 1)
        return (input_shape[0], self.out_type.size, *out)

    def export(self) -> torch.nn.Module:
        """The equivalent ``torch.nn.Conv{2,3}d`` / ``ConvTranspose{2,3}d`` (weights copied)."""
        with torch.no_grad():
            f, b = self.expand_parameters()
        d = self._d
        kw = dict(kernel_size=self.kernel_size, stride=self.stride, padding=self.padding, dilation=self.dilation,
                  groups=self.groups, bias=b is not None, dtype=f.dtype, device=f.device)
        if self._transposed:
            cls = torch.nn.ConvTranspose2d if d == 2 else torch.nn.ConvTranspose3d
            m = cls(self.in_type.size, self.out_type.size, output_padding=self.output_padding, **kw)
        else:
            cls = torch.nn.Conv2d if d == 2 else torch.nn.Conv3d
            m = cls(self.in_type.size, self.out_type.size, padding_mode=self.padding_mode, **kw)
        with torch.no_grad():
            m.weight.copy_(f)
            if b is not None:
                m.bias.copy_(b)
        return m.train(self.training)

    def extra_repr(self) -> str:
        return (f"{self.in_type!r} -> {self.out_type!r}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, groups={self.groups}, basis={self.basisexpansion.dimension}")


def _setup_parameters(module, sub_in: FieldType, sub_out: FieldType, out_type: FieldType, groups: int,
                      bias: bool, stacklevel: int) -> None:
    """Shared by grid and point convolutions: warn when the basis is empty, create ``weights``
    (``groups`` × the expansion's dimension) and the bias on trivial output components only."""
    dim = module.basisexpansion.dimension
    if dim == 0:
        warnings.warn(
            f"{type(module).__name__}: no equivariant kernel maps {sub_in!r} to {sub_out!r} with these "
            "rings/frequencies: the layer's filter is identically zero", stacklevel=stacklevel + 1,
        )
    module.weights = torch.nn.Parameter(torch.zeros(groups * dim))
    bias_cols = _trivial_bias_basis(out_type)
    if bias and bias_cols.shape[1] > 0:
        module.register_exact_buffer("bias_expansion", bias_cols, torch.get_default_dtype())
        module.bias = torch.nn.Parameter(torch.zeros(bias_cols.shape[1]))
    else:
        module.bias = None


def _trivial_bias_basis(out_type: FieldType) -> np.ndarray:
    """(C_out, n_trivial): column t is the invariant vector of the t-th trivial irrep."""
    G = out_type.gspace.fibergroup
    cols = []
    for f, rep in enumerate(out_type.representations):
        q = np.asarray(rep.change_of_basis)
        c = 0
        for i in rep.irreps:
            size = G.irrep(*i).size
            if i == G.trivial_irrep_id:
                v = np.zeros(out_type.size)
                v[out_type.fields_start[f] : out_type.fields_end[f]] = q[:, c]
                cols.append(v / np.linalg.norm(v))
            c += size
    if not cols:
        return np.zeros((out_type.size, 0))
    return np.stack(cols, 1)


class R2Conv(_RdConv):
    """Steerable convolution on R^2 (escnn's arguments; see ``_RdConv``).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(8)
    >>> t_in = nn.FieldType(gs, [gs.trivial_repr])
    >>> t_out = nn.FieldType(gs, [gs.regular_repr] * 2)
    >>> conv = nn.R2Conv(t_in, t_out, kernel_size=5, padding=2)
    >>> conv(t_in(torch.randn(1, 1, 9, 9))).shape
    torch.Size([1, 16, 9, 9])
    >>> _ = conv.check_equivariance()
    """

    _d = 2

    def __init__(self, in_type, out_type, kernel_size, padding=0, stride=1, dilation=1, padding_mode="zeros",
                 groups=1, bias=True, sigma=None, frequencies_cutoff=None, rings=None, maximum_offset=None,
                 recompute=False, basis_filter=None, initialize=True):
        super().__init__(in_type, out_type, kernel_size, padding, stride, dilation, padding_mode, groups, bias,
                         sigma, frequencies_cutoff, rings, maximum_offset, recompute, basis_filter, initialize)


class R3Conv(_RdConv):
    """Steerable convolution on R^3.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.octaOnR3()
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> conv = nn.R3Conv(t, t, kernel_size=3, padding=1)
    >>> conv(t(torch.randn(1, 24, 5, 5, 5))).shape
    torch.Size([1, 24, 5, 5, 5])
    """

    _d = 3

    def __init__(self, in_type, out_type, kernel_size, padding=0, stride=1, dilation=1, padding_mode="zeros",
                 groups=1, bias=True, sigma=None, frequencies_cutoff=None, rings=None, maximum_offset=None,
                 recompute=False, basis_filter=None, initialize=True):
        super().__init__(in_type, out_type, kernel_size, padding, stride, dilation, padding_mode, groups, bias,
                         sigma, frequencies_cutoff, rings, maximum_offset, recompute, basis_filter, initialize)


class R2ConvTransposed(_RdConv):
    """Transposed steerable convolution on R^2 (``output_padding`` as in torch)."""

    _d = 2
    _transposed = True

    def __init__(self, in_type, out_type, kernel_size, padding=0, output_padding=0, stride=1, dilation=1,
                 groups=1, bias=True, sigma=None, frequencies_cutoff=None, rings=None, maximum_offset=None,
                 recompute=False, basis_filter=None, initialize=True):
        super().__init__(in_type, out_type, kernel_size, padding, stride, dilation, "zeros", groups, bias,
                         sigma, frequencies_cutoff, rings, maximum_offset, recompute, basis_filter, initialize,
                         output_padding)


class R3ConvTransposed(_RdConv):
    """Transposed steerable convolution on R^3."""

    _d = 3
    _transposed = True

    def __init__(self, in_type, out_type, kernel_size, padding=0, output_padding=0, stride=1, dilation=1,
                 groups=1, bias=True, sigma=None, frequencies_cutoff=None, rings=None, maximum_offset=None,
                 recompute=False, basis_filter=None, initialize=True):
        super().__init__(in_type, out_type, kernel_size, padding, stride, dilation, "zeros", groups, bias,
                         sigma, frequencies_cutoff, rings, maximum_offset, recompute, basis_filter, initialize,
                         output_padding)



class R3IcoConv(R3Conv):
    """R3Conv for fields of the icosahedral groups (``icoOnR3()``, ``fullIcoOnR3()``).

    escnn builds this layer from kernels on icosahedral orbits of points; here the kernel basis
    is the same exact and complete spherical-shell basis every R3Conv uses, restricted to I (or
    I_h), so the layer is the R3Conv of these groups under escnn's name.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.icoOnR3()
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> nn.R3IcoConv(t, t, kernel_size=3, padding=1)(t(torch.randn(1, 60, 5, 5, 5))).shape
    torch.Size([1, 60, 5, 5, 5])
    """

    def __init__(self, in_type, out_type, kernel_size, padding=0, stride=1, dilation=1, padding_mode="zeros",
                 groups=1, bias=True, sigma=None, frequencies_cutoff=None, rings=None, maximum_offset=None,
                 recompute=False, basis_filter=None, initialize=True):
        from steerable.group import full_ico_group, ico_group

        if isinstance(in_type, FieldType) and in_type.gspace.fibergroup not in (ico_group(), full_ico_group()):
            raise ValueError(
                f"in_type: R3IcoConv needs fields of the icosahedral group (icoOnR3/fullIcoOnR3), got "
                f"{in_type.gspace.fibergroup.name}; use R3Conv for other groups"
            )
        super().__init__(in_type, out_type, kernel_size, padding, stride, dilation, padding_mode, groups, bias,
                         sigma, frequencies_cutoff, rings, maximum_offset, recompute, basis_filter, initialize)
