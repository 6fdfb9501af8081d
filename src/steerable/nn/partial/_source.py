"""The partially equivariant kernel: the exact steerable basis relaxed by a density λ over G.

For a free kernel K₀ and the action ``(g·K)(x) = ρ_out(g) K(g⁻¹x) ρ_in(g)ᵀ``, the layer's filter is
the λ-average of the transformed kernels, ``K = ∫_G λ(g) (g·K₀) dg`` (Veefkind & Cesa, 2024): the
uniform λ gives the projection on the equivariant kernels (the exact layer), a λ invariant under
a subgroup H an exactly H-equivariant kernel, a peaked λ a nearly free one.

Writing ``λ(g) = Σ_ψ (d_ψ / m_ψ) Σ_ab λ̂(ψ)_ab ψ(g)_ab`` (Peter–Weyl; m_ψ = dim End(ψ)), each term
``∫ ψ(g)_ab (g·K₀) dg`` is, over a, an *equivariant* kernel from ``ρ_in ⊗ ψ`` to ``ρ_out``
(Schur). So the filter is

    K(x) = Σ_ψ (d_ψ / m_ψ) Σ_b Σ_a λ̂(ψ)_{a, b} E_{ψ,b}(x)[:, (·, a)],

with ``E_{ψ,b}`` a learnable element of the layer's own analytic basis for ``ρ_in ⊗ ψ → ρ_out``
(the Wigner–Eckart basis: harmonics ⊗ intertwiners) and b over the Fourier columns of ψ (one for
complex irreps). For the trivial ψ the term is the original layer (its ``weights``), and λ̂ of
every other irrep starts at zero.
"""

from __future__ import annotations

import torch

from steerable.nn._field_type import FieldType
from steerable.nn.conv._source import _DEFAULT_SOURCE, KernelSource
from steerable.nn.init import _dimension, generalized_he_init

from ._density import EquivarianceDensity

__all__ = ["PartialEquivarianceSource", "supports_partial_equivariance"]


def _kind(layer) -> str | None:
    """'grid', 'point', 'linear' for the layers with an analytic basis the source can extend."""
    from steerable.nn._linear import Linear
    from steerable.nn.conv._expansion import BlockBasisExpansion
    from steerable.nn.conv._rdconv import _RdConv
    from steerable.nn.point._point_conv import PointBasisExpansion, _RdPointConv

    if isinstance(layer, Linear):
        return "linear"
    if isinstance(layer, _RdConv) and type(getattr(layer, "_basisexpansion", None)) is BlockBasisExpansion:
        return "grid" if layer._basisexpansion._pair_basis is None else None
    if isinstance(layer, _RdPointConv) and type(layer.basisexpansion) is PointBasisExpansion:
        return "point"
    return None


def supports_partial_equivariance(layer) -> bool:
    """Whether ``layer`` can take a :class:`PartialEquivarianceSource`: ``Linear``, grid
    convolutions (``R2Conv``, ``R3Conv`` and transposes) and point convolutions with the analytic
    basis (not implicit kernels, custom ``_build_kernel_basis`` hooks or ``R3IcoConv``)."""
    return _kind(layer) is not None


def _tensored(ftype: FieldType, psi) -> FieldType:
    """The fields ``ρ ⊗ ψ`` (channel index (p, a), a fastest)."""
    gs = ftype.gspace
    return FieldType(gs, [r.tensor(psi) for r in ftype.representations])


class PartialEquivarianceSource(KernelSource):
    """A kernel source making ``layer`` partially equivariant with degree of equivariance
    ``density`` (an :class:`EquivarianceDensity` over the layer's group; see the module docstring
    for the construction). The layer keeps its ``weights`` (the trivial term); the source adds
    one weight tensor per non-trivial irrep ψ of the density, ``weights[k]`` of shape
    ``(groups, n_columns(ψ), dim(ρ_in ⊗ ψ → ρ_out))``, and holds the density (shareable
    between layers).

    Works with ``R2Conv``, ``R3Conv`` (and transposes), ``R2PointConv``, ``R3PointConv`` and
    ``Linear`` (see :func:`supports_partial_equivariance`). With a uniform density the filter is the
    layer's own; ``export()`` of grid convolutions bakes the relaxed filter.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(8)
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> conv = nn.R2Conv(t, t, 5)
    >>> f = conv.filter.detach()
    >>> conv.kernel_source = nn.PartialEquivarianceSource(conv, nn.EquivarianceDensity(gs.fibergroup, L=2))
    >>> bool(torch.allclose(conv.filter, f, atol=1e-6))      # uniform λ: the exact layer
    True
    >>> with torch.no_grad():
    ...     _ = conv.kernel_source.density.coefficients.normal_()
    >>> float((conv.filter.detach() - f).norm() / f.norm()) > 1e-2   # a learned λ relaxes it
    True
    """

    def __init__(self, layer, density: EquivarianceDensity):
        super().__init__()
        kind = _kind(layer)
        if kind is None:
            raise TypeError(
                f"layer: expected a Linear, grid or point convolution with the analytic basis, got {type(layer).__name__}"
            )
        if not isinstance(density, EquivarianceDensity):
            raise TypeError(f"density: expected an EquivarianceDensity, got {type(density).__name__}")
        G = layer.in_type.gspace.fibergroup
        if density.group != G:
            raise ValueError(f"density: a density over {density.group.name}, the layer's group is {G.name}")
        self.kind = kind
        self.density = density
        groups = getattr(layer, "groups", 1)
        sub_in = getattr(layer, "_sub_in", layer.in_type)
        sub_out = getattr(layer, "_sub_out", layer.out_type)
        dtype = layer.weights.dtype
        self._terms: list[tuple[int, int, int, float]] = []  # (irrep index, size, n columns, d/m)
        self.expansions = torch.nn.ModuleList()
        self.weights = torch.nn.ParameterList()
        for k, (psi, cols) in enumerate(zip(density.irreps, density.columns)):
            if k == 0:
                continue  # the trivial irrep: the layer's own basis and weights
            exp = self._expansion(layer, _tensored(sub_in, psi), sub_out)
            dim = _dimension(exp.basisexpansion if kind == "linear" else exp)
            if dim == 0:
                continue
            w = torch.empty(groups * len(cols) * dim, dtype=dtype)

            generalized_he_init(w, exp.basisexpansion if kind == "linear" else exp)
            self.expansions.append(exp.to(dtype))
            self.weights.append(torch.nn.Parameter(w.view(groups, len(cols), dim)))
            self._terms.append((k, psi.size, len(cols), psi.size / psi.sum_of_squares_constituents))

    @staticmethod
    def _expansion(layer, in_type: FieldType, out_type: FieldType):
        kind = _kind(layer)
        if kind == "linear":
            import warnings

            from steerable.nn._linear import Linear

            with warnings.catch_warnings():  # no map for this ψ: the term is skipped
                warnings.simplefilter("ignore")
                return Linear(in_type, out_type, bias=False)
        if kind == "point":
            from steerable.nn.point._point_conv import PointBasisExpansion

            be = layer.basisexpansion
            return PointBasisExpansion(
                in_type,
                out_type,
                layer.rings,
                layer.sigmas,
                layer._cutoff,
                layer._basis_filter,
                reference_points=be.reference_points.detach().cpu().double().numpy(),
            )
        from steerable.nn.conv._expansion import BlockBasisExpansion

        be = layer._basisexpansion
        return BlockBasisExpansion(
            in_type,
            out_type,
            layer.kernel_points,
            layer.rings,
            layer.sigmas,
            layer._cutoff,
            layer._maximum_offset,
            layer._basis_filter,
            recompute=layer.recompute,
            drop_vanishing=be._drop_vanishing,
        )

    def _term_filter(self, exp, w: torch.Tensor, pts: torch.Tensor | None) -> torch.Tensor:
        """E(w) for w (n, dim) → (n, C_out, C_in·d, S) (``pts``: the offsets of point convolutions)."""
        if self.kind == "linear":
            return torch.stack([exp._matrix_of(row) for row in w])[..., None]
        return exp(w) if pts is None else exp(w, pts)

    def forward(self, conv, points: torch.Tensor | None = None) -> torch.Tensor:
        f = _DEFAULT_SOURCE(conv, points)  # (groups, co, ci, S): the trivial term, the layer itself
        if not self._terms:
            return f
        lam = self.density.fourier()
        pts = self.offsets(conv, points) if self.kind == "point" else None
        g, co, ci, s = f.shape
        for (k, d, nc, scale), exp, w in zip(self._terms, self.expansions, self.weights):
            e = self._term_filter(exp, w.reshape(g * nc, -1), pts)
            e = e.reshape(g, nc, co, ci, d, e.shape[-1])
            coef = (lam[k] * scale).to(e.dtype)  # (d, nc)
            f = f + torch.einsum("gbopas,ab->gops", e, coef)
        return f

    def extra_repr(self) -> str:
        return f"kind={self.kind}, terms={len(self._terms)}, weights={sum(w.numel() for w in self.weights)}"
