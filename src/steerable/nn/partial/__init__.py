"""Learning the degree of equivariance (Veefkind & Cesa, ICML 2024).

A probability density λ over the group (:class:`EquivarianceDensity`, band-limited Fourier
coefficients of log λ) relaxes a layer's kernel constraint: the filter is the λ-average of the
transformed free kernels (:class:`PartialEquivarianceSource`, for ``R2Conv``, ``R3Conv``, point
convolutions and ``Linear``). Uniform λ is the exact layer; λ invariant under a subgroup H gives
an exactly H-equivariant one. :func:`make_partially_equivariant` converts a model's layers (one
density per layer or shared), :func:`partial_equivariance_loss` gives the regularisers (KL to
uniform, KL between consecutive layers, identity alignment), :func:`plot_density` draws λ.
"""

from ._convert import make_partially_equivariant, partial_densities, partial_equivariance_loss
from ._density import EquivarianceDensity
from ._plot import plot_densities, plot_density
from ._source import PartialEquivarianceSource, supports_partial_equivariance

__all__ = [
    "EquivarianceDensity",
    "PartialEquivarianceSource",
    "make_partially_equivariant",
    "partial_densities",
    "partial_equivariance_loss",
    "plot_densities",
    "plot_density",
    "supports_partial_equivariance",
]
