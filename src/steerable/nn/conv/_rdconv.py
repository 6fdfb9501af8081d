"""Steerable convolutions on R^2 and R^3 (and their transposes)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Literal, cast

import numpy as np
import torch
import torch.nn.functional as F

from .._cache import ExpansionCacheMixin
from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule
from ._expansion import BlockBasisExpansion
from ._params import grid_basis_params
from ._rep_expansion import RepBasisExpansion
from ._source import KernelSource, KernelSourceMixin

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
_PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]


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


class _RdConv(KernelSourceMixin, ExpansionCacheMixin, EquivariantModule):
    r"""The grid convolutions' shared machinery (escnn's ``_RdConv``): a convolution on R^d
    (d = 2, 3) whose filter is an equivariant kernel ``K(g x) = ρ_out(g) K(x) ρ_in(g)⁻¹`` between
    two field types, built from learnable weights in a steerable basis and applied with
    ``torch.nn.functional.conv{d}d`` (``conv_transpose{d}d`` for the transposes). Use the public
    subclasses :class:`R2Conv`, :class:`R3Conv`, :class:`R2ConvTransposed`,
    :class:`R3ConvTransposed`, :class:`R3IcoConv`, :class:`R3IcoConvTransposed`.

    Args:
        in_type (FieldType): the input fields, on a gspace of R^d.
        out_type (FieldType): the output fields, on the same gspace.
        kernel_size (int): side of the (cubic) kernel grid; odd sizes keep exact symmetries of
            the grid (an even size warns).
        padding (int or tuple, default 0): implicit padding on every side of each spatial axis
            (``padding_mode`` for plain convolutions; zeros, and torch's meaning, for transposes).
        stride (int or tuple, default 1): the convolution's stride.
        dilation (int or tuple, default 1): spacing of the kernel taps (the same along every axis).
            escnn's basis (``basis='escnn'``) scales the rings with it.
        padding_mode (str, default ``'zeros'``): ``'zeros'``, ``'reflect'``, ``'replicate'`` or
            ``'circular'`` (plain convolutions only).
        groups (int, default 1): split the fields into ``groups`` equal groups convolved
            separately; ``in_type``/``out_type`` must be ``groups`` repetitions of the same fields.
        bias (bool, default True): a learnable bias on the trivial irreps of the output fields
            (the only equivariant bias).
        sigma (float, list of float or None, default None): widths of the Gaussian ring profiles,
            one number or one per ring; None: escnn's (0.6, 0.4 on the last ring, 0.005 at
            radius 0).
        frequencies_cutoff (float, callable or None, default None): the highest harmonic order on
            each ring: a float ``f`` means ``f·r``, a callable ``r ↦ order``; None: escnn's policy
            (see :mod:`steerable.nn.conv._params`).
        rings (list of float or None, default None): ring radii (in taps); None: ``0, 1, …,
            (kernel_size - 1)//2`` (times ``dilation``).
        maximum_offset (int or None, default None): also caps the harmonic order at
            ``bandlimit(ψ_in) + bandlimit(ψ_out) + maximum_offset``.
        recompute (bool, default False): sample the basis at every forward instead of keeping it
            in memory.
        basis_filter (callable or None, default None): keeps the basis elements whose attribute
            dict (escnn's keys, see ``basisexpansion.get_basis_info()``) it accepts.
        initialize (bool, default True): generalised He initialisation of ``weights``
            (:func:`steerable.nn.init.generalized_he_init`); else zeros.
        output_padding (int or tuple, default 0): transposed convolutions only: extra size added
            to one side of each output axis (as torch's).
        basis (str, default ``'escnn'``): ``'escnn'`` (escnn 1.0.11's basis: same weights, same
            count) or ``'complete'`` (steerable's richer basis; see the subclasses' notes).
        pair_basis (callable or None, default None): internal: a factory ``(in irrep id, out irrep
            id) → irreps-pair basis`` replacing the harmonic one (the icosahedral convolutions'
            sparse orbit bases).
        kernel_source (KernelSource or None, default None): what produces the filter: None for
            the analytic basis expansion of ``weights`` (:class:`~steerable.nn.BasisKernelSource`);
            any :class:`~steerable.nn.KernelSource` (e.g. an MLP on the offsets, or
            :class:`~steerable.nn.BlockReweightedKernelSource`). Also the assignable attribute
            ``kernel_source``.

    Shape:
        - Input: a :class:`GeometricTensor` of ``in_type``, tensor ``(B, C_in, *D_in)``,
          ``C_in = in_type.size``, ``D_in`` the d spatial sizes.
        - Output: ``(B, C_out, *D_out)`` with, along each axis (``k = kernel_size``),

          .. math::
              D_{out} = \left\lfloor \frac{D_{in} + 2 \cdot padding - dilation \cdot (k - 1) - 1}
              {stride} \right\rfloor + 1

          and for the transposed convolutions
          ``D_out = (D_in - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1``
          (``evaluate_output_shape`` computes both).

    Attributes:
        weights (Parameter): ``groups × basisexpansion.dimension`` learnable coefficients.
        bias (Parameter or None): one per trivial irrep of the output fields;
            ``bias_expansion`` (buffer, ``(C_out, n_trivial)``) maps it to the channels.
        basisexpansion: the basis manager (a :class:`BlockBasisExpansion`, or a
            :class:`RepBasisExpansion` when ``_build_kernel_basis`` is overridden): escnn's
            ``dimension()``, ``get_basis_info()``, ``get_element_info(i)``, ``forward(weights)``,
            and ``structure``, the per-weight :class:`steerable.kernels.BasisStructure`.
        kernel_source (KernelSource): the module producing the filter (see the argument).
        kernel_points (ndarray): the kernel taps' offsets ``(k^d, d)`` in torch's flattened
            kernel order (negated for transposes: the kernel of the adjoint correlation).
        filter (Tensor): the expanded filter ``(C_out, C_in/groups, *[k]*d)`` (transposes:
            ``(C_in, C_out/groups, …)``), cached in eval mode; ``expanded_bias`` likewise.
        rings, sigmas (list of float): the basis' ring radii and widths.
        in_type, out_type, space, kernel_size, stride, padding, dilation, output_padding,
            padding_mode, groups, basis: the arguments (``space``: the gspace).

    Extension points (public, tested): ``kernel_source`` (above), and escnn's hook
    ``_build_kernel_basis(in_repr, out_repr)``: a subclass overriding it returns, for every pair
    of field representations, a kernel basis (any object with ``sample(points (S, d)) -> (S, dim,
    out, in)`` and ``len()``, e.g. a :class:`steerable.kernels.KernelBasis`); the layer samples
    *that* basis on its grid instead of the analytic one. The base implementation returns the
    layer's analytic basis of the pair.

    Examples:
        >>> import torch
        >>> from steerable import gspaces, nn
        >>> gs = gspaces.rot2dOnR2(4)
        >>> t = nn.FieldType(gs, [gs.regular_repr] * 2)
        >>> conv = nn.R2Conv(t, t, kernel_size=3, padding=1, stride=2)
        >>> isinstance(conv, nn.conv._RdConv), conv.evaluate_output_shape((1, 8, 9, 9))
        (True, (1, 8, 5, 5))
        >>> conv(t(torch.randn(1, 8, 9, 9))).shape
        torch.Size([1, 8, 5, 5])
    """

    weights: torch.nn.Parameter
    bias: torch.nn.Parameter | None
    bias_expansion: torch.Tensor
    _basisexpansion: BlockBasisExpansion | RepBasisExpansion

    _d = 2
    _transposed = False
    _analytic_basis = True
    """False in subclasses whose filter comes only from their kernel source (the implicit
    convolutions): no basis is built, ``basisexpansion`` is None and ``weights`` an empty buffer."""

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
        sigma: float | Sequence[float] | None = None,
        frequencies_cutoff: float | Callable | None = None,
        rings: Sequence[float] | None = None,
        maximum_offset: int | None = None,
        recompute: bool = False,
        basis_filter: Callable[[dict], bool] | None = None,
        initialize: bool = True,
        output_padding=0,
        basis: str = "escnn",
        pair_basis=None,
        kernel_source: KernelSource | None = None,
    ):
        super().__init__()
        d = self._d
        for arg, t in (("in_type", in_type), ("out_type", out_type)):
            if not isinstance(t, FieldType):
                raise TypeError(f"{arg}: expected a FieldType, got {type(t).__name__}")
            if t.gspace.dimensionality != d:
                raise ValueError(
                    f"{arg}: {type(self).__name__} needs a field type on R^{d}, got one on R^{t.gspace.dimensionality}"
                )
        if in_type.gspace != out_type.gspace:
            raise ValueError("out_type: in_type and out_type must live on the same gspace")
        if isinstance(kernel_size, bool) or not isinstance(kernel_size, (int, np.integer)) or kernel_size < 1:
            raise ValueError(f"kernel_size: expected a positive integer, got {kernel_size!r}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode: expected one of {_PADDING_MODES}, got {padding_mode!r}")
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(f"groups: expected a positive integer, got {groups!r}")
        if len(in_type) % groups or len(out_type) % groups:
            raise ValueError(
                f"groups: {groups} must divide the number of input ({len(in_type)}) and output ({len(out_type)}) fields"
            )
        gin, gout = len(in_type) // groups, len(out_type) // groups
        sub_in, sub_out = in_type.index_select(range(gin)), out_type.index_select(range(gout))
        for k in range(1, groups):
            if (
                in_type.index_select(range(k * gin, (k + 1) * gin)) != sub_in
                or out_type.index_select(range(k * gout, (k + 1) * gout)) != sub_out
            ):
                raise ValueError(f"groups: in_type and out_type must be {groups} repetitions of the same field types")
        self.in_type, self.out_type = in_type, out_type
        self.space = in_type.gspace
        self.d = d
        self.kernel_size = int(kernel_size)
        self._stride = _tuple(stride, d, "stride")
        self._dilation = _tuple(dilation, d, "dilation")
        self._padding = _tuple(padding, d, "padding")
        self._output_padding = _tuple(output_padding, d, "output_padding")
        # escnn keeps the arguments as given (ints stay ints)
        self.stride, self.dilation, self.padding, self.output_padding = stride, dilation, padding, output_padding
        self.padding_mode = padding_mode
        self.groups = groups
        self.recompute = bool(recompute)
        if kernel_size % 2 == 0:
            warnings.warn(
                f"kernel_size={kernel_size} is even: the kernel grid has no centre tap, so 90° rotations "
                "move the output grid by half a pixel and the basis is degraded; prefer odd sizes",
                stacklevel=3,
            )
        if maximum_offset is not None and (isinstance(maximum_offset, bool) or int(maximum_offset) < 0):
            raise ValueError(f"maximum_offset: expected a non-negative integer, got {maximum_offset!r}")
        if basis_filter is not None and not callable(basis_filter):
            raise TypeError(f"basis_filter: expected a callable on basis attributes, got {type(basis_filter).__name__}")
        dil = self._dilation[0]
        if any(x != dil for x in self._dilation):
            raise ValueError(f"dilation: steerable kernels need the same dilation along every axis, got {dilation!r}")
        self.basis = basis
        self.rings, self.sigmas, cutoff, scale, drop = grid_basis_params(
            self.kernel_size, dil, d, frequencies_cutoff, rings, sigma, basis
        )
        # escnn's names, read by subclasses overriding _build_kernel_basis
        self._rings, self._sigma = self.rings, self.sigmas
        self._maximum_frequency = max((cutoff(r) for r in self.rings), default=0)
        self._cutoff, self._maximum_offset, self._basis_filter = cutoff, maximum_offset, basis_filter
        pts = kernel_points(self.kernel_size, d) * scale
        if self._transposed:
            pts = -pts  # W(u) = K(-u)^T: the adjoint of a correlation with kernel K
        self.kernel_points = pts
        self._sub_in, self._sub_out = sub_in, sub_out
        if not self._analytic_basis:
            pass  # the filter comes only from the kernel source (implicit kernels): no basis, no weights
        elif type(self)._build_kernel_basis is not _RdConv._build_kernel_basis:
            self._basisexpansion = RepBasisExpansion(
                sub_in,
                sub_out,
                self._build_kernel_basis,
                pts,
                basis_filter,
                drop_vanishing=drop,
                recompute=self.recompute,
            )
        else:
            self._basisexpansion = BlockBasisExpansion(
                sub_in,
                sub_out,
                pts,
                self.rings,
                self.sigmas,
                cutoff,
                maximum_offset,
                basis_filter,
                recompute=self.recompute,
                drop_vanishing=drop,
                pair_basis=pair_basis,
            )
        _setup_parameters(self, sub_in, sub_out, out_type, groups, bias, stacklevel=3)
        self._cache = None
        if initialize and self.basisexpansion is not None:
            from ..init import generalized_he_init

            generalized_he_init(self.weights.data, self.basisexpansion)
        self.kernel_source = kernel_source

    # -- extension points ----------------------------------------------------------------------
    def _build_kernel_basis(self, in_repr, out_repr):
        """The kernel basis between two field representations (escnn's hook; see the class doc).
        This implementation returns the layer's analytic basis for the pair, as a
        :class:`steerable.kernels.KernelBasis` sampled by ``sample(points (S, d))``."""
        from ._kernel_basis import AnalyticKernelBasis

        return AnalyticKernelBasis(
            self.space,
            in_repr,
            out_repr,
            self._rings,
            self._sigma,
            self._cutoff,
            self._maximum_offset,
            self._basis_filter,
        )

    @property
    def basisexpansion(self):
        """The basis manager (a :class:`BlockBasisExpansion`, or a :class:`RepBasisExpansion` when
        ``_build_kernel_basis`` is overridden): escnn's ``dimension()``, ``get_basis_info()``,
        ``get_element_info(i)``, ``forward(weights)``, plus the per-block structure ``blocks``."""
        return self._modules.get("_basisexpansion")

    @property
    def filter(self) -> torch.Tensor:
        """The expanded filter in torch's layout (cached in eval mode, as escnn's ``filter``)."""
        return self._expanded()[0]

    @property
    def expanded_bias(self) -> torch.Tensor | None:
        """The expanded bias on the output channels (None without bias)."""
        return self._expanded()[1]

    # -- filter ------------------------------------------------------------------------------
    def expand_parameters(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The dense filter (in torch's layout) and bias built from the current weights."""
        g = self.groups
        k = self.kernel_size
        d = self._d
        f = self.kernel_source(self)  # (G, Cout_g, Cin_g, N)
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
        # the convolution's output has out_type.size channels and d spatial axes by construction
        return GeometricTensor._trusted(self._conv(x.tensor, f, b), self.out_type)

    def _conv(self, t: torch.Tensor, f: torch.Tensor, b):
        d = self._d
        if self._transposed:
            fn = F.conv_transpose2d if d == 2 else F.conv_transpose3d
            return fn(t, f, b, self._stride, self._padding, self._output_padding, self.groups, self._dilation)
        fn = F.conv2d if d == 2 else F.conv3d
        if self.padding_mode != "zeros":
            pad = [p for p in reversed(self._padding) for _ in range(2)]
            t = F.pad(t, pad, mode=self.padding_mode)
            return fn(t, f, b, self._stride, 0, self._dilation, self.groups)
        return fn(t, f, b, self._stride, self._padding, self._dilation, self.groups)

    def evaluate_output_shape(self, input_shape):
        if len(input_shape) != 2 + self._d or input_shape[1] != self.in_type.size:
            raise ValueError(
                f"input_shape: expected (B, {self.in_type.size}, *{self._d} spatial), got {tuple(input_shape)}"
            )
        k = self.kernel_size
        out = []
        for i, n in enumerate(input_shape[2:]):
            s, p, dl = self._stride[i], self._padding[i], self._dilation[i]
            if self._transposed:
                out.append((n - 1) * s - 2 * p + dl * (k - 1) + self._output_padding[i] + 1)
            else:
                out.append((n + 2 * p - dl * (k - 1) - 1) // s + 1)
        return (input_shape[0], self.out_type.size, *out)

    def export(self) -> torch.nn.Module:
        """The equivalent ``torch.nn.Conv{2,3}d`` / ``ConvTranspose{2,3}d`` (weights copied), in
        eval mode; as escnn's ``export()``, the layer itself is set to eval mode too."""
        with torch.no_grad():
            f, b = self.expand_parameters()
        d = self._d
        m: torch.nn.modules.conv._ConvNd
        if self._transposed:
            tcls = torch.nn.ConvTranspose2d if d == 2 else torch.nn.ConvTranspose3d
            m = tcls(
                self.in_type.size,
                self.out_type.size,
                self.kernel_size,
                stride=self._stride,
                padding=self._padding,
                output_padding=self._output_padding,
                groups=self.groups,
                bias=b is not None,
                dilation=self._dilation,
                dtype=f.dtype,
                device=f.device,
            )
        else:
            ccls = torch.nn.Conv2d if d == 2 else torch.nn.Conv3d
            # padding_mode was checked against _PADDING_MODES in __init__
            m = ccls(
                self.in_type.size,
                self.out_type.size,
                self.kernel_size,
                stride=self._stride,
                padding=self._padding,
                dilation=self._dilation,
                groups=self.groups,
                bias=b is not None,
                padding_mode=cast(_PaddingMode, self.padding_mode),
                dtype=f.dtype,
                device=f.device,
            )
        with torch.no_grad():
            m.weight.copy_(f)
            if b is not None and m.bias is not None:
                m.bias.copy_(b)
        self.eval()  # as escnn: exporting sets the layer to eval mode (its filter is then cached)
        return m.eval()

    def extra_repr(self) -> str:
        return (
            f"{self.in_type!r} -> {self.out_type!r}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, groups={self.groups}, basis={int(self.basisexpansion.dimension)}"
        )


def _setup_parameters(
    module, sub_in: FieldType, sub_out: FieldType, out_type: FieldType, groups: int, bias: bool, stacklevel: int
) -> None:
    """Shared by grid and point convolutions: warn when the basis is empty, create ``weights``
    (``groups`` × the expansion's dimension) and the bias on trivial output components only.
    Without a basis (``basisexpansion`` None: implicit kernels) ``weights`` is an empty
    non-persistent buffer (it still carries the layer's dtype and device)."""
    if module.basisexpansion is None:
        module.register_buffer("weights", torch.zeros(0), persistent=False)
        dim = None
    else:
        dim = module.basisexpansion.dimension
    if dim == 0:
        warnings.warn(
            f"{type(module).__name__}: the kernel basis is empty, so the layer's filter is identically zero "
            f"(no equivariant kernel maps {sub_in!r} to {sub_out!r}): {_empty_basis_reason(module, sub_in, sub_out)}",
            stacklevel=stacklevel + 1,
        )
    if dim is not None:
        module.weights = torch.nn.Parameter(torch.zeros(groups * dim))
    bias_cols = _trivial_bias_basis(out_type)
    if bias and bias_cols.shape[1] > 0:
        module.register_constant("bias_expansion", bias_cols, torch.get_default_dtype())
        module.bias = torch.nn.Parameter(torch.zeros(bias_cols.shape[1]))
    else:
        module.bias = None


def _lowest_harmonic_order(gspace, in_id: tuple, out_id: tuple, top: int) -> int | None:
    """The lowest order j <= ``top`` of a harmonic on the base space that carries an equivariant
    kernel from irrep ``in_id`` to irrep ``out_id`` (None if none up to ``top``)."""
    from steerable.kernels import harmonic_ids
    from steerable.kernels._basis import harmonic_intertwiners

    for harmonic_id, j in harmonic_ids(gspace.dimensionality, top):
        if harmonic_intertwiners(gspace, in_id, out_id, harmonic_id).shape[0] > 0:
            return j
    return None


def _empty_basis_reason(module, sub_in: FieldType, sub_out: FieldType) -> str:
    """Why a convolution's kernel basis is empty, for its warning: for each irrep pair (a few),
    the lowest harmonic order that would map it, against the orders the layer's rings carry."""
    try:
        gs = sub_in.gspace
        G = gs.fibergroup
        cutoff, rings = getattr(module, "_cutoff", None), list(getattr(module, "rings", None) or [])
        orders = [int(cutoff(r)) for r in rings] if callable(cutoff) else []
        f_max = max(orders, default=0)
        top = f_max + (24 if gs.dimensionality == 2 else 10)
        ids_in = sorted({i for r in sub_in.representations for i in r.irreps}, key=str)
        ids_out = sorted({o for r in sub_out.representations for o in r.irreps}, key=str)
        pairs = [(i, o) for o in ids_out for i in ids_in]
        lowest = {p: _lowest_harmonic_order(gs, p[0], p[1], top) for p in pairs[:12]}
    except Exception:  # the explanation must never stop the layer from being built
        return "no harmonic of the basis' rings and frequencies has an equivariant component"
    carried = ", ".join(f"{o} at radius {r:g}" for r, o in zip(rings, orders))
    where = f"its rings carry harmonics up to order {carried}" if rings else "its basis has no rings"
    short = {p: j for p, j in lowest.items() if j is None or j > f_max}
    parts = [where]
    for (i, o), j in list(short.items())[:4]:
        pair = f"{G.irrep(*i).name} → {G.irrep(*o).name}"
        parts.append(f"{pair} needs order {j}" if j is not None else f"no harmonic of order <= {top} maps {pair}")
    if len(short) > 4:
        parts.append(f"and {len(short) - 4} more pairs")
    reachable = [j for j in short.values() if j is not None]
    if reachable:
        parts.append(
            f"a larger kernel_size (a ring of radius r carries orders up to ⌊2r⌋ by default) or a larger "
            f"frequencies_cutoff admits order {min(reachable)}"
        )
    if len(short) < len(lowest):
        parts.append(
            ("the other irrep pairs have" if short else "every irrep pair has")
            + " harmonics of the orders the rings carry, but all of them were removed: by basis_filter, by "
            "maximum_offset, or because they vanish on the sampled grid (an even kernel_size has no centre tap)"
        )
    elif not reachable:
        parts.append("these irreps are not connected by any harmonic on this base space")
    return "; ".join(parts)


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


_BASIS_DOC = """
    Kernel basis (escnn 1.0.11's defaults, ``basis='escnn'``): rings at radii
    ``0, 1, …, (kernel_size-1)//2`` times ``dilation``, widths ``sigma`` (default 0.6, 0.4 on the
    last ring, 0.005 at radius 0: a delta on the centre tap), harmonics of order
    ``j <= frequencies_cutoff(r)`` on each ring (a float ``f`` means ``f·r``; the default is escnn's
    policy, see :mod:`steerable.nn.conv._params`), sampled on the dilated grid; elements that vanish
    on the grid are dropped, so the number of weights is escnn's. ``basis='complete'`` (keyword
    only) gives steerable's richer basis instead: ``sigma=0.6`` on every ring and order
    ``<= floor(2r)`` (or ``floor(f·r)``), on the undilated grid, nothing dropped.
    ``maximum_offset`` (an int) additionally caps the harmonic order at
    ``bandlimit(ψ_in) + bandlimit(ψ_out) + maximum_offset`` (escnn accepts and ignores it).
"""


_SHARED_ARGS = """
    Args:
        in_type (FieldType), out_type (FieldType), kernel_size (int), padding, stride, dilation,
        groups, bias, sigma, frequencies_cutoff, rings, recompute, basis_filter, initialize: as
            in :class:`_RdConv` (same defaults: ``padding=0``, ``stride=1``, ``dilation=1``,
            ``groups=1``, ``bias=True``, ``sigma=None``, ``frequencies_cutoff=None``,
            ``rings=None``, ``recompute=False``, ``basis_filter=None``, ``initialize=True``).
"""


class R2Conv(_RdConv):
    __doc__ = (
        r"""Steerable convolution on R^2: ``torch.nn.Conv2d`` whose filter is an equivariant kernel
    between the field types of a gspace on the plane (escnn's arguments, in escnn's order).
    """
        + _SHARED_ARGS
        + """        padding_mode (str, default ``'zeros'``): ``'zeros'``, ``'reflect'``, ``'replicate'`` or
            ``'circular'``.
        maximum_offset (int or None, default None): caps the harmonic order (see
            :class:`_RdConv`).
        basis (str, keyword only, default ``'escnn'``): ``'escnn'`` or ``'complete'`` (below).
        kernel_source (KernelSource or None, keyword only, default None): the filter's source
            (None: the basis expansion of ``weights``); see :class:`~steerable.nn.KernelSource`.

    Shape:
        Input ``(B, C_in, H_in, W_in)``, output ``(B, C_out, H_out, W_out)`` with
        ``H_out = ⌊(H_in + 2·padding[0] - dilation·(kernel_size - 1) - 1) / stride[0]⌋ + 1`` and
        likewise ``W_out``.

    Attributes: those of :class:`_RdConv` (``weights``, ``bias``, ``basisexpansion`` with its
    ``structure``, ``kernel_source``, ``kernel_points``, ``filter``, ...).

    Examples:
        >>> import torch
        >>> from steerable import gspaces, nn
        >>> gs = gspaces.rot2dOnR2(8)
        >>> t_in = nn.FieldType(gs, [gs.trivial_repr])
        >>> t_out = nn.FieldType(gs, [gs.regular_repr] * 2)
        >>> conv = nn.R2Conv(t_in, t_out, kernel_size=5, padding=2)
        >>> conv(t_in(torch.randn(1, 1, 9, 9))).shape
        torch.Size([1, 16, 9, 9])
        >>> conv.weights.numel(), nn.R2Conv(t_in, t_out, 5, basis='complete').weights.numel()
        (22, 30)
        >>> _ = conv.check_equivariance()
    """
    )

    _d = 2

    def __init__(
        self,
        in_type,
        out_type,
        kernel_size,
        padding=0,
        stride=1,
        dilation=1,
        padding_mode="zeros",
        groups=1,
        bias=True,
        sigma=None,
        frequencies_cutoff=None,
        rings=None,
        maximum_offset=None,
        recompute=False,
        basis_filter=None,
        initialize=True,
        *,
        basis="escnn",
        kernel_source: KernelSource | None = None,
    ):
        super().__init__(
            in_type,
            out_type,
            kernel_size,
            padding,
            stride,
            dilation,
            padding_mode,
            groups,
            bias,
            sigma,
            frequencies_cutoff,
            rings,
            maximum_offset,
            recompute,
            basis_filter,
            initialize,
            basis=basis,
            kernel_source=kernel_source,
        )


class R3Conv(_RdConv):
    __doc__ = (
        r"""Steerable convolution on R^3: ``torch.nn.Conv3d`` whose filter is an equivariant kernel
    between the field types of a gspace on space (escnn's arguments, in escnn's order;
    ``maximum_offset`` keyword only).
    """
        + _SHARED_ARGS
        + """        padding_mode (str, default ``'zeros'``): as for :class:`R2Conv`.
        maximum_offset (int or None, keyword only, default None): caps the harmonic order.
        basis (str, keyword only, default ``'escnn'``): ``'escnn'`` or ``'complete'`` (below).
        kernel_source (KernelSource or None, keyword only, default None): the filter's source.

    Shape:
        Input ``(B, C_in, D_in, H_in, W_in)``, output ``(B, C_out, D_out, H_out, W_out)``, each
        axis ``⌊(N_in + 2·padding - dilation·(kernel_size - 1) - 1) / stride⌋ + 1``.

    Attributes: those of :class:`_RdConv`.

    Examples:
        >>> import torch
        >>> from steerable import gspaces, nn
        >>> gs = gspaces.octaOnR3()
        >>> t = nn.FieldType(gs, [gs.regular_repr])
        >>> conv = nn.R3Conv(t, t, kernel_size=3, padding=1)
        >>> conv(t(torch.randn(1, 24, 5, 5, 5))).shape
        torch.Size([1, 24, 5, 5, 5])
    """
    )

    _d = 3

    def __init__(
        self,
        in_type,
        out_type,
        kernel_size,
        padding=0,
        stride=1,
        dilation=1,
        padding_mode="zeros",
        groups=1,
        bias=True,
        sigma=None,
        frequencies_cutoff=None,
        rings=None,
        recompute=False,
        basis_filter=None,
        initialize=True,
        *,
        maximum_offset=None,
        basis="escnn",
        _pair_basis=None,
        kernel_source: KernelSource | None = None,
    ):
        super().__init__(
            in_type,
            out_type,
            kernel_size,
            padding,
            stride,
            dilation,
            padding_mode,
            groups,
            bias,
            sigma,
            frequencies_cutoff,
            rings,
            maximum_offset,
            recompute,
            basis_filter,
            initialize,
            basis=basis,
            pair_basis=_pair_basis,
            kernel_source=kernel_source,
        )


_TRANSPOSED_ARGS = """        output_padding (int or tuple, default 0): extra size on one side of each output axis (as
            torch's; smaller than ``stride`` or ``dilation``).
        maximum_offset (int or None, default None): caps the harmonic order.
        basis (str, keyword only, default ``'escnn'``): ``'escnn'`` or ``'complete'`` (below).
        kernel_source (KernelSource or None, keyword only, default None): the filter's source
            (it returns ``K`` at ``kernel_points``, already negated: the layer transposes it).

    Padding is always zeros (as torch's transposed convolutions). The layer is the adjoint of the
    correlation with the kernel ``K(-x)ᵀ``, so it is equivariant for the same field types.
"""


class R2ConvTransposed(_RdConv):
    __doc__ = (
        r"""Transposed steerable convolution on R^2: ``torch.nn.ConvTranspose2d`` with an
    equivariant filter (upsampling by ``stride``).
    """
        + _SHARED_ARGS
        + _TRANSPOSED_ARGS
        + """
    Shape:
        Input ``(B, C_in, H_in, W_in)``, output ``(B, C_out, H_out, W_out)`` with
        ``H_out = (H_in - 1)·stride - 2·padding + dilation·(kernel_size - 1) + output_padding + 1``.

    Attributes: those of :class:`_RdConv` (``filter`` in torch's transposed layout
    ``(C_in, C_out/groups, k, k)``).

    Examples:
        >>> import torch
        >>> from steerable import gspaces, nn
        >>> gs = gspaces.rot2dOnR2(4)
        >>> t = nn.FieldType(gs, [gs.regular_repr])
        >>> nn.R2ConvTransposed(t, t, 3, stride=2)(t(torch.randn(1, 4, 5, 5))).shape
        torch.Size([1, 4, 11, 11])
    """
    )

    _d = 2
    _transposed = True

    def __init__(
        self,
        in_type,
        out_type,
        kernel_size,
        padding=0,
        output_padding=0,
        stride=1,
        dilation=1,
        groups=1,
        bias=True,
        sigma=None,
        frequencies_cutoff=None,
        rings=None,
        maximum_offset=None,
        recompute=False,
        basis_filter=None,
        initialize=True,
        *,
        basis="escnn",
        kernel_source: KernelSource | None = None,
    ):
        super().__init__(
            in_type,
            out_type,
            kernel_size,
            padding,
            stride,
            dilation,
            "zeros",
            groups,
            bias,
            sigma,
            frequencies_cutoff,
            rings,
            maximum_offset,
            recompute,
            basis_filter,
            initialize,
            output_padding,
            basis=basis,
            kernel_source=kernel_source,
        )


class R3ConvTransposed(_RdConv):
    __doc__ = (
        r"""Transposed steerable convolution on R^3: ``torch.nn.ConvTranspose3d`` with an
    equivariant filter (``check_equivariance_`` is escnn's alias of ``check_equivariance``).
    """
        + _SHARED_ARGS
        + _TRANSPOSED_ARGS
        + """
    Shape:
        Input ``(B, C_in, D_in, H_in, W_in)``, output ``(B, C_out, D_out, H_out, W_out)``, each
        axis ``(N_in - 1)·stride - 2·padding + dilation·(kernel_size - 1) + output_padding + 1``.

    Attributes: those of :class:`_RdConv`.

    Examples:
        >>> import torch
        >>> from steerable import gspaces, nn
        >>> gs = gspaces.rot3dOnR3()
        >>> t = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(1)])
        >>> nn.R3ConvTransposed(t, t, 3, stride=2)(t(torch.randn(1, 4, 3, 3, 3))).shape
        torch.Size([1, 4, 7, 7, 7])
    """
    )

    check_equivariance_: Callable[..., list]  # escnn's alias, set below the class

    _d = 3
    _transposed = True

    def __init__(
        self,
        in_type,
        out_type,
        kernel_size,
        padding=0,
        output_padding=0,
        stride=1,
        dilation=1,
        groups=1,
        bias=True,
        sigma=None,
        frequencies_cutoff=None,
        rings=None,
        maximum_offset=None,
        recompute=False,
        basis_filter=None,
        initialize=True,
        *,
        basis="escnn",
        _pair_basis=None,
        kernel_source: KernelSource | None = None,
    ):
        super().__init__(
            in_type,
            out_type,
            kernel_size,
            padding,
            stride,
            dilation,
            "zeros",
            groups,
            bias,
            sigma,
            frequencies_cutoff,
            rings,
            maximum_offset,
            recompute,
            basis_filter,
            initialize,
            output_padding,
            basis=basis,
            pair_basis=_pair_basis,
            kernel_source=kernel_source,
        )


for _cls in (R2Conv, R3Conv, R2ConvTransposed, R3ConvTransposed):
    _cls.__doc__ = (_cls.__doc__ or "") + _BASIS_DOC
R3ConvTransposed.check_equivariance_ = R3ConvTransposed.check_equivariance

_SAMPLES = ("ico", "dodeca", "icosidodeca")


def _ico_pair_basis(in_type, samples, rings, sigmas):
    from ._ico_basis import OrbitPairBasis

    if samples not in _SAMPLES:
        raise ValueError(f"samples: expected one of {_SAMPLES}, got {samples!r}")
    gs = in_type.gspace
    return lambda iid, oid: OrbitPairBasis(gs, iid, oid, rings, sigmas, samples)


def _check_ico(in_type, cls_name):
    from steerable.group import full_ico_group, ico_group

    if isinstance(in_type, FieldType) and in_type.gspace.fibergroup not in (ico_group(), full_ico_group()):
        raise ValueError(
            f"in_type: {cls_name} needs fields of the icosahedral group (icoOnR3/fullIcoOnR3), got "
            f"{in_type.gspace.fibergroup.name}; use R3Conv for other groups"
        )


_ICO_ARGS = """        samples (str, default ``'ico'``): the orbit carrying the bumps: ``'ico'`` (20 three-fold
            axes), ``'dodeca'`` (12 five-fold axes) or ``'icosidodeca'`` (30 two-fold axes).
        sigma (float, list or None, default None): the bumps' widths (per ring), as for
            :class:`R3Conv`.
        rings (list of float or None, default None): ring radii, as for :class:`R3Conv`.
        kernel_source (KernelSource or None, keyword only, default None): the filter's source.

    There is no ``frequencies_cutoff``/``maximum_offset``/``basis`` (the basis has no harmonics).
"""


class R3IcoConv(R3Conv):
    __doc__ = (
        r"""R3Conv with escnn's *sparse* icosahedral kernel basis (``icoOnR3()``; ``fullIcoOnR3()`` too).

    As in escnn, the kernels are not band-limited harmonics but Gaussian bumps (width ``sigma``)
    on one orbit of the group per ring: ``samples='ico'`` the 20 three-fold axes,
    ``'dodeca'`` the 12 five-fold axes, ``'icosidodeca'`` the 30 two-fold axes, scaled to the
    ring's radius (a single bump at the centre for radius 0). On every ring the basis is
    ``K(x) = Σ_g φ(x - r·g p) ρ_out(g) M ρ_in(g)⁻¹`` for ``M`` in the intertwiners of the
    stabiliser of ``p``, so it is exactly equivariant and complete for those orbits.

    Args:
        in_type, out_type (FieldType): fields of ``icoOnR3()`` / ``fullIcoOnR3()``.
        kernel_size, padding, stride, dilation, padding_mode, groups, bias, recompute,
            basis_filter, initialize: as in :class:`R3Conv` (same defaults).
    """
        + _ICO_ARGS
        + """
    Shape: as :class:`R3Conv`. Attributes: those of :class:`_RdConv` (the ``structure`` reports
    frequency 0 and harmonic ``(0, 0)`` for every orbit element).

    Examples:
        >>> import torch
        >>> from steerable import gspaces, nn
        >>> gs = gspaces.icoOnR3()
        >>> t = nn.FieldType(gs, [gs.regular_repr])
        >>> nn.R3IcoConv(t, t, kernel_size=3, padding=1)(t(torch.randn(1, 60, 5, 5, 5))).shape
        torch.Size([1, 60, 5, 5, 5])
    """
    )

    def __init__(
        self,
        in_type,
        out_type,
        kernel_size,
        padding=0,
        stride=1,
        dilation=1,
        padding_mode="zeros",
        groups=1,
        bias=True,
        samples="ico",
        sigma=None,
        rings=None,
        recompute=False,
        basis_filter=None,
        initialize=True,
        *,
        kernel_source: KernelSource | None = None,
    ):
        pair = _ico_setup(self, in_type, kernel_size, dilation, samples, rings, sigma)
        super().__init__(
            in_type,
            out_type,
            kernel_size,
            padding,
            stride,
            dilation,
            padding_mode,
            groups,
            bias,
            sigma,
            5.0,
            rings,
            recompute,
            basis_filter,
            initialize,
            _pair_basis=pair,
            kernel_source=kernel_source,
        )


def _ico_setup(conv, in_type, kernel_size, dilation, samples, rings, sigma):
    """Shared by R3IcoConv and its transpose: check the gspace and build escnn's sparse orbit pair
    basis on the default (or given) rings (None when ``kernel_size`` is invalid: the base class
    then reports it)."""
    _check_ico(in_type, type(conv).__name__)
    conv._samples = samples
    if not isinstance(kernel_size, (int, np.integer)):
        return None
    rr, ss, *_ = grid_basis_params(
        int(kernel_size), int(dilation) if isinstance(dilation, int) else 1, 3, None, rings, sigma
    )
    return _ico_pair_basis(in_type, samples, rr, ss)


class R3IcoConvTransposed(R3ConvTransposed):
    __doc__ = (
        r"""Transposed :class:`R3IcoConv` (escnn's arguments; ``output_padding`` as in torch).

    Args:
        in_type, out_type (FieldType): fields of ``icoOnR3()`` / ``fullIcoOnR3()``.
        kernel_size, padding, output_padding, stride, dilation, groups, bias, recompute,
            basis_filter, initialize: as in :class:`R3ConvTransposed` (same defaults).
    """
        + _ICO_ARGS
        + """
    Shape: as :class:`R3ConvTransposed`. Attributes: those of :class:`_RdConv`.

    Examples:
        >>> import torch
        >>> from steerable import gspaces, nn
        >>> gs = gspaces.icoOnR3()
        >>> t = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(1)])
        >>> nn.R3IcoConvTransposed(t, t, 3)(t(torch.randn(1, 4, 4, 4, 4))).shape
        torch.Size([1, 4, 6, 6, 6])
    """
    )

    def __init__(
        self,
        in_type,
        out_type,
        kernel_size,
        padding=0,
        output_padding=0,
        stride=1,
        dilation=1,
        groups=1,
        bias=True,
        samples="ico",
        sigma=None,
        rings=None,
        recompute=False,
        basis_filter=None,
        initialize=True,
        *,
        kernel_source: KernelSource | None = None,
    ):
        pair = _ico_setup(self, in_type, kernel_size, dilation, samples, rings, sigma)
        super().__init__(
            in_type,
            out_type,
            kernel_size,
            padding,
            output_padding,
            stride,
            dilation,
            groups,
            bias,
            sigma,
            5.0,
            rings,
            None,
            recompute,
            basis_filter,
            initialize,
            _pair_basis=pair,
            kernel_source=kernel_source,
        )
