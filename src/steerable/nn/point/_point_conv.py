"""Steerable convolutions on point clouds / geometric graphs: ``R2PointConv``, ``R3PointConv``.

``out_i = Σ_{edges j→i} K(x_j - x_i) f_j (+ bias)`` with a G-steerable kernel K, evaluated on
the edge offsets at every forward pass. Pure torch (no torch_geometric): the kernel basis is a
fixed linear map of the features ``Φ(δ) = (φ_r(|δ|) Y_{j,m}(δ̂))_{r,j,m}`` (Gaussian ring
profiles × angular harmonics, :func:`steerable.kernels._torch_harmonics.radial_harmonic_features`),
so the learnable weights are first expanded — once per forward, independently of the number of
edges — into coefficients ``C`` (G, C_out, C_in, R·M) with the same block assembly as the grid
convolutions (:class:`PointBasisExpansion`, a :class:`BlockBasisExpansion`), and then

    messages = batched matmul of (Φ(δ_e) · C) with f_{src(e)},   summed at the targets
    (``scatter_add`` along the node axis: ``index_add`` semantics, but vectorised on CPU too).

Equivariance is exact for every element of G (points are not resampled): rotating all
coordinates by g's base-space matrix and every fibre by ρ(g) maps the output the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from steerable.kernels._torch_harmonics import (
    _pair_basis_J,
    harmonic_dims,
    pair_basis_coefficients,
    radial_harmonic_features,
)
from steerable.nn._cache import ExpansionCacheMixin

# absolute imports: the module also works when its folder is imported as a namespace package
from steerable.nn._field_type import FieldType
from steerable.nn._geometric_tensor import GeometricTensor
from steerable.nn._module import EquivariantModule
from steerable.nn.conv._expansion import BlockBasisExpansion
from steerable.nn.conv._params import point_basis_params
from steerable.nn.conv._rdconv import _setup_parameters, kernel_points
from steerable.nn.conv._rep_expansion import RepBasisExpansion
from steerable.nn.conv._source import KernelSource, KernelSourceMixin

__all__ = [
    "R2PointConv",
    "R3PointConv",
    "PointBasisExpansion",
    "RepBasisSampler",
    "point_conv_rings",
    "reference_offsets",
]


# ----------------------------------------------------------------------------------------------
# rings and reference offsets
# ----------------------------------------------------------------------------------------------
def point_conv_rings(
    width: float | None = None,
    n_rings: int | None = None,
    rings: Sequence[float] | None = None,
    sigma: float | Sequence[float] | None = None,
) -> tuple[list[float], list[float]]:
    """escnn's ring layout for point convolutions: ``(rings, sigmas)``.

    Either ``rings`` (explicit radii) or ``width`` (the largest radius) is given, not both. From
    ``width``: ``rings = linspace(0, width, n_rings)`` (in float32, as escnn); ``n_rings`` defaults to ``⌈width⌉ + 1``
    (spacing at most 1, matching the default widths). ``sigma=None`` gives escnn's widths: 0.6 on
    every ring, 0.4 on the last, 0.005 on a ring of radius 0 (so it only sees coincident points).

    >>> point_conv_rings(width=2.0, n_rings=3)
    ([0.0, 1.0, 2.0], [0.005, 0.6, 0.4])
    """
    rr, sig, _ = point_basis_params(width, n_rings, rings, sigma)
    return rr, sig


def reference_offsets(rings: Sequence[float], d: int) -> np.ndarray:
    """The fixed offsets (N, d) on which ``PointBasisExpansion.basis_tensor`` samples the basis
    (used by initialisation): the cubic lattice ``{-k..k}^d · h`` with ``k = ⌈max ring⌉``,
    ``h = max ring / k`` — for integer radii exactly the taps of the grid convolution of the same
    size, so He initialisation matches ``R{2,3}Conv``'s.

    >>> reference_offsets([0.0, 1.0], 2).shape
    (9, 2)
    """
    rmax = max(float(r) for r in rings)
    k = max(1, int(math.ceil(rmax - 1e-9)))
    h = rmax / k if rmax > 0 else 1.0
    return kernel_points(2 * k + 1, d) * h


# ----------------------------------------------------------------------------------------------
# the basis expansion
# ----------------------------------------------------------------------------------------------
class RepBasisSampler(RepBasisExpansion):
    """The point convolutions' sampler of user-supplied kernel bases (one per pair of field
    representations, from ``_build_kernel_basis``): ``forward(weights (G, dim), offsets (E, d))``
    evaluates the bases on the offsets (differentiably if they are) and returns the filters
    (G, C_out, C_in, E); ``basis_tensor`` (for initialisation) samples them on fixed reference
    offsets. The bases are kept as submodules (they follow ``.to()``)."""

    def __init__(self, in_type, out_type, basis_generator, reference_points, basis_filter=None):
        bases: dict = {}

        def keep(ri, ro):
            b = basis_generator(ri, ro)
            bases[(ri, ro)] = b
            return b

        super().__init__(in_type, out_type, keep, reference_points, basis_filter, drop_vanishing=False)
        self._bases = torch.nn.ModuleList(
            [m for m in (bases[k] for k in self._type_ids) if isinstance(m, torch.nn.Module)]
        )
        self._type_bases = [bases[k] for k in self._type_ids]
        self._masks = []
        for (_name, *_), (ri, ro) in zip(self._types, self._type_ids):
            b = bases[(ri, ro)]
            attrs = [dict(b[k]) for k in range(len(b))] if hasattr(b, "__getitem__") else [{} for _ in range(len(b))]
            m = [True] * len(b) if basis_filter is None else [bool(basis_filter(a)) for a in attrs]
            self._masks.append(torch.as_tensor(m, dtype=torch.bool))

    def forward(self, weights: torch.Tensor, offsets: torch.Tensor | None = None) -> torch.Tensor:
        if offsets is None:
            return super().forward(weights)
        if weights.dim() == 1:
            return self.forward(weights[None], offsets)[0].permute(2, 0, 1)
        g, n = weights.shape[0], offsets.shape[0]
        blocks, p = [], 0
        for (_name, n_o, n_i, nb, do, di), basis, mask in zip(self._types, self._type_bases, self._masks):
            s = basis.sample(offsets.to(weights.dtype))[:, mask.to(offsets.device)]  # (E, nb, do, di)
            w = weights[:, p : p + n_o * n_i * nb].reshape(g * n_o * n_i, nb)
            p += n_o * n_i * nb
            blocks.append((w @ s.permute(1, 2, 3, 0).reshape(nb, do * di * n)).reshape(g, n_o * n_i * do * di, n))
        blocks.append(weights.new_zeros(g, 1, n))
        vals = torch.cat(blocks, 1)
        return vals.index_select(1, self._gather).reshape(g, self.out_size, self.in_size, n)


class PointBasisExpansion(BlockBasisExpansion):
    """A :class:`BlockBasisExpansion` whose kernels are evaluated at arbitrary offsets.

    - ``coefficients(weights)`` (G, dim) → (G, C_out, C_in, R·M): the filter as a linear map of
      the ring × harmonic features Φ (``radial_harmonic_features``);
    - ``forward(weights, offsets=None)`` → the filter (G, C_out, C_in, N) at ``offsets`` (N, d)
      (default: the reference offsets);
    - ``basis_tensor(name)`` → the basis of one irreps-pair type sampled at the fixed
      ``reference_offsets`` (what ``generalized_he_init`` and ``deltaorthonormal_init`` read;
      ``_points`` / ``n_points`` describe the same offsets).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.kernels import make_cutoff
    >>> from steerable.nn.modules.basismanager import BlocksBasisSampler as PointBasisExpansion
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> e = PointBasisExpansion(t, t, [0.0, 1.0], [0.005, 0.6], make_cutoff(3.0))
    >>> e(torch.randn(1, e.dimension), torch.randn(5, 2)).shape
    torch.Size([1, 4, 4, 5])
    """

    ring_radii: torch.Tensor
    ring_sigmas: torch.Tensor
    reference_points: torch.Tensor

    def __init__(
        self,
        in_type: FieldType,
        out_type: FieldType,
        rings: Sequence[float],
        sigmas: Sequence[float],
        cutoff: Callable[[float], int],
        basis_filter: Callable[[dict], bool] | None = None,
        reference_points: np.ndarray | None = None,
        dtype: torch.dtype | None = None,
    ):
        d = in_type.gspace.dimensionality
        if reference_points is None:
            reference_points = reference_offsets(rings, d)
        # recompute=True: the parent keeps the pair bases and samples nothing; we hold coefficients.
        # Everything is built in float64 as constants with float64 masters (``register_constant``).
        super().__init__(
            in_type,
            out_type,
            reference_points,
            rings,
            sigmas,
            cutoff,
            None,
            basis_filter,
            dtype=torch.float64,
            recompute=True,
        )
        target = dtype or torch.get_default_dtype()
        dtype = torch.float64
        self.d = d
        self.J = max((_pair_basis_J(pb) for pb in self._pair_bases.values()), default=0)
        self.n_features = len(rings) * sum(harmonic_dims(d, self.J))
        self._coef_names: dict = {}
        for k, (name, *_rest) in enumerate(self._types):
            a = pair_basis_coefficients(self._pair_bases[name], self.J)
            cname = f"coef_{k}"
            self.register_constant(cname, a, dtype)
            self._coef_names[name] = cname
        self.register_constant("ring_radii", [float(r) for r in rings], dtype)
        self.register_constant("ring_sigmas", [float(s) for s in sigmas], dtype)
        self.register_constant("reference_points", np.asarray(reference_points, dtype=np.float64), dtype)
        self.to(target)

    def features(self, offsets: torch.Tensor) -> torch.Tensor:
        """Φ(offsets): (N, R·M) in the buffers' dtype."""
        return radial_harmonic_features(
            self.d, self.ring_radii, self.ring_sigmas, self.J, offsets.to(self.ring_radii.dtype)
        )

    def basis_tensor(self, name: str, like: torch.Tensor | None = None) -> torch.Tensor:
        """The basis (nb, d_out, d_in, N_ref) of one irreps-pair type at the reference offsets."""
        a = getattr(self, self._coef_names[name])
        phi = self.features(self.reference_points)
        nb, do, di, f = a.shape
        b = (a.reshape(-1, f) @ phi.T).reshape(nb, do, di, phi.shape[0])
        if like is not None:
            b = b.to(device=like.device, dtype=like.dtype)
        return b

    def compute_messages(
        self, weights: torch.Tensor, input: torch.Tensor, points: torch.Tensor, conv_first: bool = True
    ) -> torch.Tensor:
        """escnn's ``BlocksBasisSampler.compute_messages``: the messages ``K(δ_e) x_e`` (E, C_out) of
        the inputs ``input`` (E, C_in) along edges with offsets ``points`` (E, d), for one weight
        vector; ``conv_first`` picks the order of the two contractions (same result)."""
        c = self.coefficients(weights.reshape(1, -1))[0]  # (Co, Ci, F)
        phi = self.features(points).to(c.dtype)  # (E, F)
        if conv_first:
            t = torch.einsum("ef,ei->eif", phi, input.to(c.dtype))
            return torch.einsum("oif,eif->eo", c, t)
        k = torch.einsum("oif,ef->eoi", c, phi)
        return torch.einsum("eoi,ei->eo", k, input.to(c.dtype))

    def coefficients(self, weights: torch.Tensor) -> torch.Tensor:
        """weights (G, dimension) → C (G, C_out, C_in, R·M): the filter is ``C @ Φ(δ)``.

        Same assembly as ``BlockBasisExpansion.forward`` (one GEMM per irreps-pair type, one
        gather, the fields' changes of basis), with the feature axis in place of the points.
        """
        return self.assemble(weights, lambda name: getattr(self, self._coef_names[name]), self.n_features)

    def forward(self, weights: torch.Tensor, offsets: torch.Tensor | None = None) -> torch.Tensor:
        """weights (G, dimension) → filters (G, C_out, C_in, N) at ``offsets`` (N, d); escnn's call
        with one weight vector (dimension,) gives its layout (N, C_out, C_in)."""
        if weights.dim() == 1:
            return self.forward(weights[None], offsets)[0].permute(2, 0, 1)
        c = self.coefficients(weights)
        phi = self.features(self.reference_points if offsets is None else offsets).to(c.dtype)
        g, co, ci, f = c.shape
        return (c.reshape(-1, f) @ phi.T).reshape(g, co, ci, phi.shape[0])


# ----------------------------------------------------------------------------------------------
# message passing (shared by the module and its export)
# ----------------------------------------------------------------------------------------------
def _check_edges(edge_index, n: int, check_range: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(edge_index, torch.Tensor):
        raise TypeError(f"edge_index: expected a LongTensor of shape (2, E), got {type(edge_index).__name__}")
    if edge_index.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"edge_index: expected an integer (long) tensor, got dtype {edge_index.dtype}")
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index: expected shape (2, E) (sources, targets), got {tuple(edge_index.shape)}")
    edge_index = edge_index.long()
    if check_range and edge_index.numel() and not torch.compiler.is_compiling():
        lo, hi = int(edge_index.min()), int(edge_index.max())
        if lo < 0 or hi >= n:
            raise ValueError(f"edge_index: node indices must lie in [0, {n}), got values in [{lo}, {hi}]")
    return edge_index[0], edge_index[1]


def _point_messages(
    feats: torch.Tensor,
    delta: torch.Tensor,
    src: torch.Tensor,
    dst: torch.Tensor,
    n: int,
    coef: torch.Tensor,
    rings: torch.Tensor,
    sigmas: torch.Tensor,
    d: int,
    J: int,
    bias: torch.Tensor | None,
    mode: str = "auto",
) -> torch.Tensor:
    """``out_i = Σ_{e: dst(e) = i} (C · Φ(δ_e)) f_{src(e)} + bias`` with C (G, Co_g, Ci_g, F).

    Two equivalent batched-matmul orders; ``'auto'`` takes the one with the smaller
    intermediate: the per-edge filter (E, G·Co_g·Ci_g) or the per-edge features ⊗ inputs
    (E, G·Ci_g·F).
    """
    g, cog, cig, f = coef.shape
    e = src.shape[0]
    phi = radial_harmonic_features(d, rings, sigmas, J, delta.to(coef.dtype))  # (E, F)
    xj = feats.index_select(0, src).reshape(e, g, cig)
    if mode == "filter" or (mode == "auto" and cog <= f):
        k = phi @ coef.reshape(g * cog * cig, f).T  # (E, G·Co·Ci): the filter on every edge
        msg = torch.matmul(k.reshape(e, g, cog, cig), xj.unsqueeze(-1)).reshape(e, g * cog)
    else:
        t = (xj.unsqueeze(-1) * phi.reshape(e, 1, 1, f)).reshape(e, g, cig * f).transpose(0, 1)
        msg = torch.matmul(t, coef.reshape(g, cog, cig * f).transpose(1, 2)).transpose(0, 1).reshape(e, g * cog)
    # aggregation at the targets (``index_add`` semantics; scatter_add is vectorised on CPU too)
    out = feats.new_zeros(n, g * cog).scatter_add(0, dst.unsqueeze(1).expand(e, g * cog), msg)
    if bias is not None:
        out = out + bias
    return out


class ExportedPointConv(torch.nn.Module):
    """Plain-torch point convolution (what ``R{2,3}PointConv.export()`` returns): the expanded
    coefficients, ring radii/widths and bias as plain tensors;
    ``forward(features (N, C_in), coords (N, d), edge_index (2, E), edge_delta=None) → (N, C_out)``.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.flipRot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> conv = nn.R2PointConv(t, t, rings=[0.0, 1.0])
    >>> plain = conv.export()
    >>> pos, feats = torch.randn(10, 2), torch.randn(10, 8)
    >>> edge_index = (torch.cdist(pos, pos) < 1.5).nonzero().T
    >>> bool(torch.allclose(plain(feats, pos, edge_index), conv(t(feats, coords=pos), edge_index).tensor, atol=1e-6))
    True
    """

    coefficients: torch.Tensor
    rings: torch.Tensor
    sigmas: torch.Tensor
    bias: torch.Tensor | None

    def __init__(
        self,
        coefficients: torch.Tensor,
        rings: torch.Tensor,
        sigmas: torch.Tensor,
        d: int,
        J: int,
        bias: torch.Tensor | None,
    ):
        super().__init__()
        self.d, self.J = int(d), int(J)
        self.register_buffer("coefficients", coefficients.detach().clone())
        self.register_buffer("rings", rings.detach().clone())
        self.register_buffer("sigmas", sigmas.detach().clone())
        self.register_buffer("bias", None if bias is None else bias.detach().clone())

    def forward(
        self,
        features: torch.Tensor,
        coords: torch.Tensor,
        edge_index: torch.Tensor,
        edge_delta: torch.Tensor | None = None,
    ) -> torch.Tensor:
        src, dst = _check_edges(edge_index, features.shape[0])
        if edge_delta is None:
            edge_delta = coords.index_select(0, src) - coords.index_select(0, dst)
        return _point_messages(
            features,
            edge_delta,
            src,
            dst,
            features.shape[0],
            self.coefficients,
            self.rings,
            self.sigmas,
            self.d,
            self.J,
            self.bias,
        )


# ----------------------------------------------------------------------------------------------
# the modules
# ----------------------------------------------------------------------------------------------
class _RdPointConv(KernelSourceMixin, ExpansionCacheMixin, EquivariantModule):
    """The point convolutions' shared machinery (escnn's ``_RdPointConv``; see :class:`R2PointConv`).
    ``kernel_source`` (keyword / attribute, as the grid convolutions') is called
    ``source(conv, offsets)`` for the filter on the edge offsets; sources that re-weight the basis
    (``effective_weights``) keep the per-edge fast path and ``export()``."""

    weights: torch.nn.Parameter
    bias: torch.nn.Parameter | None
    bias_expansion: torch.Tensor
    basisexpansion: PointBasisExpansion | RepBasisSampler

    _d = 2
    _analytic_basis = True  # False: the filter comes only from the kernel source (see _RdConv)

    def __init__(
        self,
        in_type: FieldType,
        out_type: FieldType,
        groups: int = 1,
        bias: bool = True,
        sigma: float | Sequence[float] | None = None,
        width: float | None = None,
        n_rings: int | None = None,
        frequencies_cutoff: float | Callable[[float], float] | None = None,
        rings: Sequence[float] | None = None,
        basis_filter: Callable[[dict], bool] | None = None,
        recompute: bool = False,
        initialize: bool = True,
        *,
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
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
            raise ValueError(f"groups: expected a positive integer, got {groups!r}")
        groups = int(groups)
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
        if basis_filter is not None and not callable(basis_filter):
            raise TypeError(f"basis_filter: expected a callable on basis attributes, got {type(basis_filter).__name__}")
        if not isinstance(initialize, (bool, np.bool_)):
            raise TypeError(f"initialize: expected a bool, got {type(initialize).__name__}")
        self.in_type, self.out_type = in_type, out_type
        self._sub_in, self._sub_out = sub_in, sub_out
        self.space = in_type.gspace
        self.groups = groups
        self.recompute = bool(recompute)
        self.rings, self.sigmas = point_conv_rings(width, n_rings, rings, sigma)
        cutoff = point_basis_params(rings=self.rings, sigma=self.sigmas, frequencies_cutoff=frequencies_cutoff)[2]
        self.space = in_type.gspace
        self.d = d
        # escnn's names, read by subclasses overriding _build_kernel_basis
        self._rings, self._sigma, self._cutoff, self._basis_filter = self.rings, self.sigmas, cutoff, basis_filter
        self._maximum_frequency = max((cutoff(r) for r in self.rings), default=0)
        if not self._analytic_basis:
            self.basisexpansion = None  # type: ignore[assignment]  # implicit kernels: the source only
        elif type(self)._build_kernel_basis is not _RdPointConv._build_kernel_basis:
            self.basisexpansion = RepBasisSampler(
                sub_in, sub_out, self._build_kernel_basis, reference_offsets(self.rings, d), basis_filter
            )
        else:
            self.basisexpansion = PointBasisExpansion(sub_in, sub_out, self.rings, self.sigmas, cutoff, basis_filter)
        _setup_parameters(self, sub_in, sub_out, out_type, groups, bias, stacklevel=4)
        self._message_mode = "auto"
        self._cache = None
        if initialize and self.basisexpansion is not None:
            from steerable.nn.init import generalized_he_init

            generalized_he_init(self.weights.data, self.basisexpansion)
        self.kernel_source = kernel_source

    # -- extension point ---------------------------------------------------------------------
    def _build_kernel_basis(self, in_repr, out_repr):
        """escnn's hook: the kernel basis between two field representations. A subclass overriding
        it returns any basis with ``sample(points (E, d)) -> (E, dim, out, in)`` (e.g. a
        :class:`steerable.kernels.KernelBasis`, differentiable in the points if it is); the layer
        then evaluates that basis on the edge offsets at every forward (:class:`RepBasisSampler`).
        This implementation returns the layer's analytic basis for the pair."""
        from steerable.nn.conv._kernel_basis import AnalyticKernelBasis

        return AnalyticKernelBasis(
            self.space, in_repr, out_repr, self._rings, self._sigma, self._cutoff, None, self._basis_filter
        )

    # -- parameters --------------------------------------------------------------------------
    @property
    def basissampler(self) -> PointBasisExpansion | RepBasisSampler:
        """escnn's name for the submodule that samples the filters (``basisexpansion``)."""
        return self.basisexpansion

    def expand_bias(self) -> torch.Tensor | None:
        """The bias on the output channels (trivial components only), or None."""
        return self.bias_expansion @ self.bias if self.bias is not None else None

    def expand_parameters(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(C, bias)``: the filter coefficients (G, C_out/G, C_in/G, R·M) on the ring ×
        harmonic features and the expanded bias."""
        if isinstance(self.basisexpansion, RepBasisSampler):
            raise TypeError(
                "expand_parameters: a point convolution with its own _build_kernel_basis has no "
                "feature coefficients; use expand_filter(points)"
            )
        w = self.kernel_source.effective_weights(self)
        if w is None:
            raise TypeError(
                f"expand_parameters: the kernel source {type(self.kernel_source).__name__} is not a "
                "re-weighting of the basis (no effective_weights), so the layer has no feature "
                "coefficients; use expand_filter(points)"
            )
        c = self.basisexpansion.coefficients(w)
        return c, self.expand_bias()

    def _fast_path(self) -> bool:
        """Whether the filter is the basis' coefficients times the ring × harmonic features."""
        return (
            isinstance(self.basisexpansion, PointBasisExpansion)
            and type(self.kernel_source).effective_weights is not KernelSource.effective_weights
        )

    def expand_filter(self, points: torch.Tensor) -> torch.Tensor:
        """The filter (N, C_out, C_in) at the offsets ``points`` (N, d) (block diagonal over groups)."""
        if not isinstance(points, torch.Tensor) or points.dim() != 2 or points.shape[1] != self._d:
            raise ValueError(f"points: expected a tensor of shape (N, {self._d})")
        f = self.kernel_source(self, points)  # (G, cog, cig, N)
        g, cog, cig, n = f.shape
        f = f.permute(3, 0, 1, 2)
        if g == 1:
            return f[:, 0]
        full = f.new_zeros(n, g, cog, g, cig)
        idx = torch.arange(g, device=f.device)
        full[:, idx, :, idx, :] = f.permute(1, 0, 2, 3)
        return full.reshape(n, g * cog, g * cig)

    # -- forward -----------------------------------------------------------------------------
    def forward(
        self, x: GeometricTensor, edge_index: torch.Tensor, edge_delta: torch.Tensor | None = None
    ) -> GeometricTensor:
        """Convolve the point-cloud field ``x`` (tensor (N, C_in), ``x.coords`` (N, d)) over the
        graph ``edge_index`` (2, E): row 0 the source j, row 1 the target i of each edge;
        ``out_i = Σ_{j→i} K(x_j - x_i) f_j + bias``. ``edge_delta`` (E, d), if given, replaces the
        offsets ``x_j - x_i``. Several graphs batch as one disconnected graph (offset indices)."""
        n, src, dst, delta = self._edges(x, edge_index, edge_delta)
        e = self.basisexpansion
        if not (self._fast_path() and isinstance(e, PointBasisExpansion)):
            return self._messages(x, self.kernel_source(self, delta), src, dst, n)
        c, b = self._expanded()
        out = _point_messages(
            x.tensor, delta, src, dst, n, c, e.ring_radii, e.ring_sigmas, e.d, e.J, b, self._message_mode
        )
        return GeometricTensor(out, self.out_type, x.coords)

    def _edges(
        self, x: GeometricTensor, edge_index: torch.Tensor, edge_delta: torch.Tensor | None
    ) -> tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Check the inputs of ``forward``: ``(N, sources, targets, offsets (E, d))``."""
        self._check_input(x)
        if x.coords is None or x.tensor.dim() != 2:
            raise ValueError(
                f"x: {type(self).__name__} needs a point-cloud GeometricTensor: tensor (N, C) with "
                f"coords (N, {self._d})"
            )
        n = x.tensor.shape[0]
        src, dst = _check_edges(edge_index, n)
        if edge_delta is None:
            delta = x.coords.index_select(0, src) - x.coords.index_select(0, dst)
        else:
            if not isinstance(edge_delta, torch.Tensor) or not edge_delta.is_floating_point():
                raise TypeError("edge_delta: expected a floating-point tensor of shape (E, d)")
            if edge_delta.shape != (src.shape[0], self._d):
                raise ValueError(
                    f"edge_delta: expected shape ({src.shape[0]}, {self._d}), got {tuple(edge_delta.shape)}"
                )
            delta = edge_delta
        if x.tensor.dtype != self.weights.dtype:
            raise TypeError(
                f"x: the input has dtype {x.tensor.dtype} but the module's weights are {self.weights.dtype}"
            )
        return n, src, dst, delta

    def _messages(
        self, x: GeometricTensor, k: torch.Tensor, src: torch.Tensor, dst: torch.Tensor, n: int
    ) -> GeometricTensor:
        """``out_i = Σ_{e: dst(e)=i} k_e x_{src(e)} + bias`` for a filter ``k`` (G, Co_g, Ci_g, E) on
        the edges (the path of kernel sources that are not a re-weighting of the basis)."""
        g, cog, cig, _ = k.shape
        xj = x.tensor.index_select(0, src).reshape(-1, g, cig)
        msg = torch.einsum("goie,egi->ego", k, xj).reshape(-1, g * cog)
        out = x.tensor.new_zeros(n, g * cog).index_add(0, dst, msg)
        b = self.expand_bias()
        return GeometricTensor(out if b is None else out + b, self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape):
        if len(input_shape) != 2 or input_shape[1] != self.in_type.size:
            raise ValueError(f"input_shape: expected (N, {self.in_type.size}), got {tuple(input_shape)}")
        return (input_shape[0], self.out_type.size)

    def export(self) -> torch.nn.Module:
        """An :class:`ExportedPointConv` (plain tensors, torch ops) computing the same function of
        ``(x.tensor, x.coords, edge_index[, edge_delta])`` (for the analytic basis, possibly
        re-weighted by the kernel source)."""
        e = self.basisexpansion
        if not (self._fast_path() and isinstance(e, PointBasisExpansion)):
            raise TypeError(
                f"export: {type(self).__name__} exports its basis coefficients; with its own "
                "_build_kernel_basis or a kernel source that is not a re-weighting of the basis "
                "(no effective_weights) the kernel is only defined through the module: use it directly"
            )
        with torch.no_grad():
            c, b = self.expand_parameters()
        return ExportedPointConv(c, e.ring_radii, e.ring_sigmas, e.d, e.J, b).train(self.training)

    # the base method's grid arguments (assertion, spatial, batch) make no sense on point clouds: escnn's
    # point convolutions take their own (x, n_points, n_random, seed)
    def check_equivariance(  # type: ignore[override]
        self,
        atol: float = 1e-5,
        rtol: float = 1e-5,
        x: torch.Tensor | None = None,
        n_points: int = 30,
        n_random: int = 4,
        seed: int = 0,
    ) -> list:
        """``f(g·x) = g·f(x)`` on a random point cloud (radius graph) for the testing elements and
        ``n_random`` random elements of G; returns ``[(element, max relative error)]`` and raises
        AssertionError on the first element where ``|f(g·x) − g·f(x)| > atol·max(1, s) + rtol·|g·f(x)|``
        (``s`` the largest output magnitude). The comparison is :mod:`steerable.testing`'s."""
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                return self._equivariance_errors(atol, rtol, x, n_points, n_random, seed)
        finally:
            self.train(was_training)

    def _equivariance_errors(
        self, atol: float, rtol: float, x: torch.Tensor | None, n_points: int, n_random: int, seed: int
    ) -> list:
        from steerable.testing._check import failure_message, run  # testing sits above nn
        from steerable.testing._compare import escnn_criterion

        gen = torch.Generator().manual_seed(seed)
        dt = self._param_dtype()
        scale = max(max(self.rings), 1.0)
        pos = torch.randn(n_points, self._d, generator=gen, dtype=dt) * scale
        if x is None:
            x = torch.randn(n_points, self.in_type.size, generator=gen, dtype=dt)
        dist = torch.cdist(pos, pos)
        edge_index = (dist <= scale * 1.5).nonzero().T.contiguous()
        G = self.in_type.gspace.fibergroup
        elements = list(self.in_type.testing_elements) + list(G.sample(n_random, seed=seed))
        criterion = escnn_criterion(atol, rtol)
        extra = self._check_extra_inputs(pos, edge_index, gen)
        results, _ = run(
            self,
            (GeometricTensor(x, self.in_type, pos), edge_index, *extra),
            [(g, g, g) for g in elements],
            criterion=criterion,
            stop_on_failure=True,
        )
        for r in results:
            if not r.passed:
                raise AssertionError(failure_message(type(self).__name__, r, "equivariant", criterion))
        return [(r.element, r.error) for r in results]

    def _check_extra_inputs(self, pos: torch.Tensor, edge_index: torch.Tensor, gen: torch.Generator) -> tuple:
        """Further positional inputs of ``forward`` for ``check_equivariance`` (none here; the implicit
        convolutions add edge attributes)."""
        return ()

    def extra_repr(self) -> str:
        return (
            f"{self.in_type!r} -> {self.out_type!r}, rings={self.rings}, groups={self.groups}, "
            f"basis={int(self.basisexpansion.dimension)}"
        )


class R2PointConv(_RdPointConv):
    """Steerable convolution on a geometric graph in R^2 (escnn's arguments).

    ``forward(x, edge_index, edge_delta=None)``: ``x`` a GeometricTensor (N, C_in) with coords
    (N, 2); ``edge_index`` (2, E) long, row 0 the sources j, row 1 the targets i;
    ``out_i = Σ_{j→i} K(x_j - x_i) f_j + bias`` (a sum over the edges; escnn's layer averages).
    Rings: ``rings`` or ``linspace(0, width, n_rings)`` (see :func:`point_conv_rings`);
    ``frequencies_cutoff`` (default 3.0): harmonic order ≤ 3·radius on each ring. ``groups > 1``
    splits the fields into equal groups (escnn does not support it yet). Bias on the trivial
    components only. ``recompute`` is accepted for escnn compatibility: the kernels are always
    evaluated on the current offsets, from a basis built once. He initialisation samples the basis
    on fixed reference offsets (:func:`reference_offsets`). ``kernel_source`` (keyword only, also
    the assignable attribute): a :class:`steerable.nn.KernelSource` called ``source(conv, offsets)``
    for the filter on the edge offsets (None: the basis expansion of ``weights``);
    ``basisexpansion.structure`` describes every weight (:class:`steerable.kernels.BasisStructure`).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(8)
    >>> t_in = nn.FieldType(gs, [gs.trivial_repr])
    >>> t_out = nn.FieldType(gs, [gs.regular_repr] * 2)
    >>> conv = nn.R2PointConv(t_in, t_out, width=2.0, n_rings=3)
    >>> pos = torch.randn(20, 2)
    >>> edge_index = (torch.cdist(pos, pos) < 1.5).nonzero().T
    >>> conv(t_in(torch.randn(20, 1), coords=pos), edge_index).shape
    torch.Size([20, 16])
    >>> _ = conv.check_equivariance()
    """

    _d = 2


class R3PointConv(_RdPointConv):
    """Steerable convolution on a geometric graph in R^3 (see :class:`R2PointConv`).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot3dOnR3()
    >>> t_in = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(1)])
    >>> t_out = nn.FieldType(gs, [gs.irrep(1), gs.irrep(2)])
    >>> conv = nn.R3PointConv(t_in, t_out, rings=[0.0, 1.0])
    >>> pos = torch.randn(12, 3)
    >>> edge_index = (torch.cdist(pos, pos) < 1.5).nonzero().T
    >>> conv(t_in(torch.randn(12, 4), coords=pos), edge_index).shape
    torch.Size([12, 8])
    """

    _d = 3
