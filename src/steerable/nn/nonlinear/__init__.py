"""Equivariant nonlinearities."""

from steerable.nn.nonlinear._concatenated import ConcatenatedNonLinearity
from steerable.nn.nonlinear._fourier import FourierELU, FourierPointwise, QuotientFourierELU, QuotientFourierPointwise
from steerable.nn.nonlinear._gated import (
    GatedNonLinearity1,
    GatedNonLinearity2,
    GatedNonLinearityUniform,
    InducedGatedNonLinearity1,
)
from steerable.nn.nonlinear._norm import InducedNormNonLinearity, NormNonLinearity
from steerable.nn.nonlinear._pointwise import ELU, LeakyReLU, PointwiseNonLinearity, ReLU
from steerable.nn.nonlinear._tensor_product import TensorProductModule
from steerable.nn.nonlinear._vectorfield import VectorFieldNonLinearity

__all__ = [
    "ELU",
    "LeakyReLU",
    "PointwiseNonLinearity",
    "ReLU",
    "InducedNormNonLinearity",
    "NormNonLinearity",
    "GatedNonLinearity1",
    "GatedNonLinearity2",
    "GatedNonLinearityUniform",
    "InducedGatedNonLinearity1",
    "ConcatenatedNonLinearity",
    "VectorFieldNonLinearity",
    "TensorProductModule",
    "FourierELU",
    "FourierPointwise",
    "QuotientFourierELU",
    "QuotientFourierPointwise",
]
