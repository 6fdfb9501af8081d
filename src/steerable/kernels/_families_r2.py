"""escnn's kernel-basis families on the plane: ``kernels_<G>_act_R2`` and ``kernels_on_point``.

Every family builds a :class:`SteerableKernelBasis` from a :class:`CircularShellsBasis` (Gaussian
rings of ``radii``/``sigma`` × circular harmonics up to ``maximum_frequency``) and a
Wigner–Eckart solver: O(2) itself uses :class:`WignerEckartBasis`, its subgroups
:class:`RestrictedWignerEckartBasis` with escnn's subgroup ids of O(2) (``(None, N)`` rotations,
``(θ, N)`` dihedral with the mirror ``r_θ f``). ``axis`` is the mirror axis of the O(2) action on
R^2 (default π/2: x → -x). ``filter`` (a predicate on the attributes of the filter-basis
subspaces: ``'radius'``, ``'sigma'``, ``'j'``, ``'irrep:frequency'``, ...) drops rings/harmonics.
``max_offset`` (cyclic and dihedral groups) keeps only the elements whose harmonic frequency
exceeds the frequency of the subgroup irrep it restricts to by at most ``max_offset``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from steerable.group import Group, Representation, o2_group, so2_group

from ._filters_basis import PointBasis, _irrep_attributes
from ._kernel_basis import AdjointBasis, KernelBasis
from ._polar import CircularShellsBasis, GaussianRadialProfile
from ._steerable_kernel import SteerableKernelBasis
from ._wigner_eckart import RestrictedWignerEckartBasis, WignerEckartBasis

__all__ = [
    "kernels_on_point",
    "kernels_SO2_act_R2",
    "kernels_O2_act_R2",
    "kernels_SO2_subgroup_act_R2",
    "kernels_O2_subgroup_act_R2",
    "kernels_CN_act_R2",
    "kernels_DN_act_R2",
    "kernels_Flip_act_R2",
    "kernels_Trivial_act_R2",
]


def _check_pair(in_repr, out_repr) -> Group:
    for name, r in (("in_repr", in_repr), ("out_repr", out_repr)):
        if not isinstance(r, Representation):
            raise TypeError(f"{name}: expected a Representation, got {type(r).__name__}")
    if in_repr.group != out_repr.group:
        raise ValueError(
            f"in_repr, out_repr: expected representations of the same group, got "
            f"{in_repr.group.name} and {out_repr.group.name}"
        )
    return in_repr.group


def _check_group(G: Group, expected: Group, family: str) -> None:
    if G != expected:
        raise ValueError(f"in_repr: {family} needs representations of {expected.name}, got {G.name}")


def _check_kind(G: Group, kinds: tuple, family: str) -> None:
    if type(G).__name__ not in kinds:
        raise ValueError(f"in_repr: {family} needs representations of a {'/'.join(kinds)} group, got {G.name}")


def _max_frequency(in_repr, out_repr) -> int:
    f = lambda r: max(_irrep_attributes(r.group, i).get("frequency", 0) for i in r.irreps)
    return int(f(in_repr) + f(out_repr))


def _check_mf(maximum_frequency, family: str) -> int:
    if maximum_frequency is None:
        raise ValueError(
            f"maximum_frequency: {family} needs the maximum frequency of the circular/spherical "
            "harmonics (an integer >= 0)"
        )
    if (
        isinstance(maximum_frequency, bool)
        or not isinstance(maximum_frequency, (int, np.integer))
        or maximum_frequency < 0
    ):
        raise ValueError(f"maximum_frequency: expected a non-negative integer, got {maximum_frequency!r}")
    return int(maximum_frequency)


def _adjoint(basis: KernelBasis, adjoint, d: int) -> KernelBasis:
    if adjoint is None:
        return basis
    adjoint = np.asarray(adjoint, dtype=np.float64)
    if adjoint.shape != (d, d):
        raise ValueError(f"adjoint: expected a {d}x{d} orthogonal matrix, got shape {adjoint.shape}")
    if np.allclose(adjoint, np.eye(d)):
        return basis
    return AdjointBasis(basis, adjoint)


def _max_offset_kwargs(max_offset) -> dict:
    if max_offset is None:
        return {}
    if isinstance(max_offset, bool) or not isinstance(max_offset, (int, np.integer)) or max_offset < 0:
        raise ValueError(f"max_offset: expected None or a non-negative integer, got {max_offset!r}")
    return {"max_offset": int(max_offset)}


def kernels_on_point(in_repr: Representation, out_repr: Representation) -> KernelBasis:
    """The equivariant linear maps ``in_repr → out_repr`` as a kernel basis on a single point
    (points ``(N, 1)``, values independent of them): ``sample(x)[n, k] = H_k`` with
    ``H_k ρ_in(g) = ρ_out(g) H_k``.

    >>> import torch
    >>> from steerable.group import cyclic_group
    >>> from steerable.kernels import kernels_on_point
    >>> G = cyclic_group(4)
    >>> b = kernels_on_point(G.regular_representation, G.regular_representation)
    >>> len(b), tuple(b.sample(torch.zeros(1, 1)).shape)
    (4, (1, 4, 4, 4))
    """
    G = _check_pair(in_repr, out_repr)
    return SteerableKernelBasis(PointBasis(G), in_repr, out_repr, WignerEckartBasis)


def kernels_SO2_act_R2(
    in_repr: Representation,
    out_repr: Representation,
    radii: list[float],
    sigma: list[float] | float,
    maximum_frequency: int | None = None,
    filter: Callable[[dict], bool] | None = None,
) -> KernelBasis:
    """SO(2)-equivariant kernels on R^2 (``maximum_frequency`` defaults to the sum of the largest
    input and output frequencies).

    >>> from steerable.group import so2_group
    >>> from steerable.kernels import kernels_SO2_act_R2
    >>> G = so2_group(4)
    >>> len(kernels_SO2_act_R2(G.irrep(1), G.irrep(2), [0., 1., 2.], 0.6))
    12
    """
    G = _check_pair(in_repr, out_repr)
    _check_kind(G, ("SO2",), "kernels_SO2_act_R2")
    if maximum_frequency is None:
        maximum_frequency = _max_frequency(in_repr, out_repr)
    L = _check_mf(maximum_frequency, "kernels_SO2_act_R2")
    X = CircularShellsBasis(L, GaussianRadialProfile(radii, sigma), filter=filter)
    return SteerableKernelBasis(X, in_repr, out_repr, RestrictedWignerEckartBasis, sg_id=(None, -1))


def kernels_O2_act_R2(
    in_repr: Representation,
    out_repr: Representation,
    radii: list[float],
    sigma: list[float] | float,
    maximum_frequency: int | None = None,
    axis: float = np.pi / 2,
    adjoint: np.ndarray | None = None,
    filter: Callable[[dict], bool] | None = None,
) -> KernelBasis:
    """O(2)-equivariant kernels on R^2, the mirror across the line at angle ``axis``.

    >>> from steerable.group import o2_group
    >>> from steerable.kernels import kernels_O2_act_R2
    >>> G = o2_group(4)
    >>> len(kernels_O2_act_R2(G.irrep(1, 1), G.irrep(1, 2), [0., 1., 2.], 0.6))
    6
    """
    G = _check_pair(in_repr, out_repr)
    _check_kind(G, ("O2",), "kernels_O2_act_R2")
    if maximum_frequency is None:
        maximum_frequency = _max_frequency(in_repr, out_repr)
    L = _check_mf(maximum_frequency, "kernels_O2_act_R2")
    X = CircularShellsBasis(L, GaussianRadialProfile(radii, sigma), filter=filter, axis=axis)
    return _adjoint(SteerableKernelBasis(X, in_repr, out_repr, WignerEckartBasis), adjoint, 2)


def kernels_O2_subgroup_act_R2(
    in_repr: Representation,
    out_repr: Representation,
    sg_id,
    radii: list[float],
    sigma: list[float] | float,
    maximum_frequency: int = 5,
    axis: float = np.pi / 2.0,
    adjoint: np.ndarray | None = None,
    filter: Callable[[dict], bool] | None = None,
) -> KernelBasis:
    """Kernels on R^2 equivariant to the subgroup ``sg_id`` of O(2) (escnn's O(2) subgroup ids).

    >>> from steerable.group import dihedral_group
    >>> from steerable.kernels import kernels_O2_subgroup_act_R2
    >>> G = dihedral_group(4)
    >>> len(kernels_O2_subgroup_act_R2(G.regular_representation, G.regular_representation, (0., 4), [0., 1.], 0.6, maximum_frequency=3))
    112
    """
    return _o2_subgroup(in_repr, out_repr, sg_id, radii, sigma, maximum_frequency, axis, adjoint, filter, None)


def _o2_subgroup(in_repr, out_repr, sg_id, radii, sigma, maximum_frequency, axis, adjoint, filter, _max_offset):
    G = _check_pair(in_repr, out_repr)
    L = _check_mf(maximum_frequency, "kernels_O2_subgroup_act_R2")
    H = o2_group(max(L, 1)).subgroup(sg_id)[0]
    _check_group(G, H, f"kernels_O2_subgroup_act_R2(sg_id={sg_id!r})")
    X = CircularShellsBasis(L, GaussianRadialProfile(radii, sigma), filter=filter, axis=axis)
    basis = SteerableKernelBasis(
        X, in_repr, out_repr, RestrictedWignerEckartBasis, sg_id=sg_id, **_max_offset_kwargs(_max_offset)
    )
    return _adjoint(basis, adjoint, 2)


def kernels_SO2_subgroup_act_R2(
    in_repr: Representation,
    out_repr: Representation,
    sg_id,
    radii: list[float],
    sigma: list[float] | float,
    maximum_frequency: int = 5,
    adjoint: np.ndarray | None = None,
    filter: Callable[[dict], bool] | None = None,
) -> KernelBasis:
    """Kernels on R^2 equivariant to the subgroup ``sg_id`` of SO(2) (``N``: C_N, ``-1``: SO(2)).

    >>> from steerable.group import cyclic_group
    >>> from steerable.kernels import kernels_SO2_subgroup_act_R2
    >>> G = cyclic_group(4)
    >>> len(kernels_SO2_subgroup_act_R2(G.irrep(0), G.irrep(1), 4, [0., 1.], 0.6, maximum_frequency=3))
    8
    """
    return _so2_subgroup(in_repr, out_repr, sg_id, radii, sigma, maximum_frequency, adjoint, filter, None)


def _so2_subgroup(in_repr, out_repr, sg_id, radii, sigma, maximum_frequency, adjoint, filter, _max_offset):
    G = _check_pair(in_repr, out_repr)
    L = _check_mf(maximum_frequency, "kernels_SO2_subgroup_act_R2")
    H = so2_group(max(L, 1)).subgroup(sg_id)[0]
    _check_group(G, H, f"kernels_SO2_subgroup_act_R2(sg_id={sg_id!r})")
    X = CircularShellsBasis(L, GaussianRadialProfile(radii, sigma), filter=filter)
    basis = SteerableKernelBasis(
        X, in_repr, out_repr, RestrictedWignerEckartBasis, sg_id=(None, sg_id), **_max_offset_kwargs(_max_offset)
    )
    return _adjoint(basis, adjoint, 2)


def kernels_CN_act_R2(
    in_repr: Representation,
    out_repr: Representation,
    radii: list[float],
    sigma: list[float] | float,
    maximum_frequency: int | None = None,
    max_offset: int | None = None,
    filter: Callable[[dict], bool] | None = None,
) -> KernelBasis:
    """C_N-equivariant kernels on R^2 (``maximum_frequency`` is required: escnn has no default).

    >>> from steerable.group import cyclic_group
    >>> from steerable.kernels import kernels_CN_act_R2
    >>> G = cyclic_group(4)
    >>> b = kernels_CN_act_R2(G.regular_representation, G.irrep(1), [0., 1., 2.], 0.6, maximum_frequency=3)
    >>> len(b), b.shape
    (42, (2, 4))
    """
    G = _check_pair(in_repr, out_repr)
    _check_kind(G, ("CyclicGroup",), "kernels_CN_act_R2")
    return _so2_subgroup(
        in_repr,
        out_repr,
        G.order(),
        radii,
        sigma,
        _check_mf(maximum_frequency, "kernels_CN_act_R2"),
        None,
        filter,
        max_offset,
    )


def kernels_DN_act_R2(
    in_repr: Representation,
    out_repr: Representation,
    radii: list[float],
    sigma: list[float] | float,
    axis: float = np.pi / 2,
    maximum_frequency: int | None = None,
    max_offset: int | None = None,
    adjoint: np.ndarray | None = None,
    filter: Callable[[dict], bool] | None = None,
) -> KernelBasis:
    """D_N-equivariant kernels on R^2, the mirror across the line at angle ``axis``.

    >>> from steerable.group import dihedral_group
    >>> from steerable.kernels import kernels_DN_act_R2
    >>> G = dihedral_group(3)
    >>> len(kernels_DN_act_R2(G.irrep(1, 1), G.irrep(1, 1), [0., 1.], 0.6, maximum_frequency=4))
    12
    """
    G = _check_pair(in_repr, out_repr)
    _check_kind(G, ("DihedralGroup",), "kernels_DN_act_R2")
    N = G.order() // 2
    return _o2_subgroup(
        in_repr,
        out_repr,
        (0.0, N),
        radii,
        sigma,
        _check_mf(maximum_frequency, "kernels_DN_act_R2"),
        axis,
        adjoint,
        filter,
        max_offset,
    )


def kernels_Flip_act_R2(
    in_repr: Representation,
    out_repr: Representation,
    radii: list[float],
    sigma: list[float] | float,
    axis: float = np.pi / 2,
    maximum_frequency: int | None = None,
    adjoint: np.ndarray | None = None,
    filter: Callable[[dict], bool] | None = None,
) -> KernelBasis:
    """Kernels on R^2 equivariant to the reflection across the line at angle ``axis`` (C_2).

    >>> from steerable.group import cyclic_group
    >>> from steerable.kernels import kernels_Flip_act_R2
    >>> G = cyclic_group(2)
    >>> len(kernels_Flip_act_R2(G.irrep(0), G.irrep(1), [0., 1.], 0.6, maximum_frequency=2))
    4
    """
    G = _check_pair(in_repr, out_repr)
    if type(G).__name__ != "CyclicGroup" or G.order() != 2:
        raise ValueError(f"in_repr: kernels_Flip_act_R2 needs representations of C2, got {G.name}")
    return kernels_O2_subgroup_act_R2(
        in_repr,
        out_repr,
        (0.0, 1),
        radii,
        sigma,
        maximum_frequency=_check_mf(maximum_frequency, "kernels_Flip_act_R2"),
        axis=axis,
        adjoint=adjoint,
        filter=filter,
    )


def kernels_Trivial_act_R2(
    in_repr: Representation,
    out_repr: Representation,
    radii: list[float],
    sigma: list[float] | float,
    maximum_frequency: int | None = None,
    filter: Callable[[dict], bool] | None = None,
) -> KernelBasis:
    """Unconstrained kernels on R^2 (the trivial group C_1): every ring × harmonic.

    >>> from steerable.group import cyclic_group
    >>> from steerable.kernels import kernels_Trivial_act_R2
    >>> G = cyclic_group(1)
    >>> len(kernels_Trivial_act_R2(G.trivial_representation, G.trivial_representation, [0., 1.], 0.6, maximum_frequency=2))
    10
    """
    G = _check_pair(in_repr, out_repr)
    if type(G).__name__ != "CyclicGroup" or G.order() != 1:
        raise ValueError(f"in_repr: kernels_Trivial_act_R2 needs representations of C1, got {G.name}")
    return kernels_SO2_subgroup_act_R2(
        in_repr,
        out_repr,
        1,
        radii,
        sigma,
        maximum_frequency=_check_mf(maximum_frequency, "kernels_Trivial_act_R2"),
        filter=filter,
    )
