"""escnn's ``GSpace.build_kernel_basis`` / ``GSpace.build_fiber_intertwiner_basis`` as functions
of a gspace (the gspaces' methods delegate here).

``build_kernel_basis`` builds the basis of equivariant kernels on R^d for any gspace: the
harmonics of the ambient group (O(2) for R^2, O(3) for R^3) are restricted to the fibre group
through the gspace's own inclusion, so restricted gspaces (``gspace.restrict(id)[0]``) work too.
O(2)/O(3) acting by the identity inclusion use :class:`WignerEckartBasis` (escnn's attribute keys
for those groups), every other fibre group :class:`RestrictedWignerEckartBasis`.
"""

from __future__ import annotations

import numpy as np

from steerable.group import Representation

from ._families_r2 import _check_pair, _max_frequency, _max_offset_kwargs, kernels_on_point
from ._kernel_basis import KernelBasis
from ._polar import CircularShellsBasis, GaussianRadialProfile, SphericalShellsBasis
from ._steerable_kernel import SteerableKernelBasis
from ._wigner_eckart import RestrictedWignerEckartBasis, WignerEckartBasis, _GSpaceRestriction

__all__ = ["build_kernel_basis", "build_fiber_intertwiner_basis"]

_DEFAULT_FINITE_FREQUENCY = 5  # escnn's default maximum_frequency of the kernels_<G>_act_R3 families


def _check_gspace_reprs(gspace, in_repr, out_repr):
    G = _check_pair(in_repr, out_repr)
    if G != gspace.fibergroup:
        raise ValueError(
            f"in_repr: expected representations of the gspace's fibre group {gspace.fibergroup.name}, got {G.name}"
        )


def _identity_inclusion(gspace) -> bool:
    H = gspace.fibergroup
    if H != gspace._ambient:
        return False
    batch = np.concatenate([H._identity_value()[None], H._test_batch(), H._sample_batch(4, np.random.default_rng(0))])
    return bool(np.all(H._equal(gspace._incl(batch), batch)))


def build_fiber_intertwiner_basis(gspace, in_repr: Representation, out_repr: Representation) -> KernelBasis:
    """The equivariant linear maps ``in_repr → out_repr`` of the gspace's fibre group, as a
    kernel basis on a single point (:func:`kernels_on_point`): ``sample(x)`` with ``x`` (N, 1)
    gives (N, dim, out_repr.size, in_repr.size).

    >>> from steerable import gspaces
    >>> from steerable.kernels._gspace_bases import build_fiber_intertwiner_basis
    >>> gs = gspaces.rot2dOnR2(4)
    >>> len(build_fiber_intertwiner_basis(gs, gs.regular_repr, gs.regular_repr))
    4
    """
    _check_gspace_reprs(gspace, in_repr, out_repr)
    return kernels_on_point(in_repr, out_repr)


def build_kernel_basis(
    gspace, in_repr: Representation, out_repr: Representation, sigma: float | list[float], rings: list[float], **kwargs
) -> KernelBasis:
    """The basis of kernels ``κ(g x) = ρ_out(g) κ(x) ρ_in(g)⁻¹`` on the gspace's base space,
    sampled with ``sample(points)`` on points (N, d) → (N, dim, out_repr.size, in_repr.size).

    Radial profile: Gaussian rings of radii ``rings`` and widths ``sigma`` (one or one per ring).
    Keyword arguments: ``maximum_frequency`` (the highest angular harmonic; default: the sum of
    the largest input and output frequencies for continuous fibre groups, 5 for finite ones),
    ``filter`` (a predicate on the filter-basis attributes, as in the ``kernels_*`` families) and
    ``max_offset`` / ``maximum_offset`` (keep the elements whose harmonic frequency exceeds the
    frequency of the fibre-group irrep it restricts to by at most this much). On R^0 this is
    :func:`build_fiber_intertwiner_basis`.

    >>> import torch
    >>> from steerable import gspaces
    >>> from steerable.kernels._gspace_bases import build_kernel_basis
    >>> gs = gspaces.flipRot2dOnR2(4)
    >>> b = build_kernel_basis(gs, gs.regular_repr, gs.regular_repr, 0.6, [0., 1., 2.], maximum_frequency=3)
    >>> len(b), tuple(b.sample(torch.randn(5, 2)).shape)
    (168, (5, 168, 8, 8))
    """
    _check_gspace_reprs(gspace, in_repr, out_repr)
    d = gspace.dimensionality
    if d == 0:
        return kernels_on_point(in_repr, out_repr)
    if d not in (2, 3):
        raise ValueError(f"gspace: kernel bases exist on R^0, R^2 and R^3, got R^{d}")
    known = {"maximum_frequency", "filter", "max_offset", "maximum_offset"}
    extra = set(kwargs) - known
    if extra:
        raise TypeError(f"build_kernel_basis: unexpected keyword arguments {sorted(extra)}; accepted: {sorted(known)}")
    L = kwargs.get("maximum_frequency")
    if L is None:
        if gspace.fibergroup.continuous:
            L = _max_frequency(in_repr, out_repr)
        else:
            L = _DEFAULT_FINITE_FREQUENCY
    if isinstance(L, bool) or not isinstance(L, (int, np.integer)) or L < 0:
        raise ValueError(f"maximum_frequency: expected a non-negative integer, got {L!r}")
    max_offset = kwargs.get("max_offset", kwargs.get("maximum_offset"))
    rings = [float(r) for r in rings]
    radial = GaussianRadialProfile(rings, sigma)
    filt = kwargs.get("filter")
    if d == 2:
        X = CircularShellsBasis(int(L), radial, filter=filt, axis=0.0)
    else:
        X = SphericalShellsBasis(int(L), radial, filter=filt)
    if _identity_inclusion(gspace) and max_offset is None:
        return SteerableKernelBasis(X, in_repr, out_repr, WignerEckartBasis)
    return SteerableKernelBasis(
        X,
        in_repr,
        out_repr,
        RestrictedWignerEckartBasis,
        sg_id=_GSpaceRestriction(gspace),
        **_max_offset_kwargs(max_offset),
    )
