"""escnn's kernel-basis families in space: ``kernels_<G>_act_R3``.

Every family builds a :class:`SteerableKernelBasis` from a :class:`SphericalShellsBasis`
(Gaussian shells of ``radii``/``sigma`` × real spherical harmonics up to ``maximum_frequency``)
and a Wigner–Eckart solver: O(3) uses :class:`WignerEckartBasis`, every other group
:class:`RestrictedWignerEckartBasis` with its subgroup id of O(3) (escnn's ids; an SO(3)
subgroup id ``s`` is the O(3) id ``(False,) + s``). Unlike escnn 1.0.11, which raises
``NotImplementedError`` for them, the full icosahedral, full octahedral, full tetrahedral and
pyritohedral families are implemented.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from steerable.group import GroupElement, Representation, o3_group, so3_group

from ._families_r2 import _adjoint, _check_group, _check_kind, _check_mf, _check_pair, _max_frequency
from ._kernel_basis import KernelBasis
from ._polar import GaussianRadialProfile, SphericalShellsBasis
from ._steerable_kernel import SteerableKernelBasis
from ._wigner_eckart import RestrictedWignerEckartBasis, WignerEckartBasis

__all__ = [
    "kernels_SO3_act_R3",
    "kernels_O3_act_R3",
    "kernels_SO3_subgroup_act_R3",
    "kernels_O3_subgroup_act_R3",
    "kernels_Ico_act_R3",
    "kernels_Octa_act_R3",
    "kernels_Tetra_act_R3",
    "kernels_FullIco_act_R3",
    "kernels_FullOcta_act_R3",
    "kernels_FullTetra_act_R3",
    "kernels_Pyrito_act_R3",
    "kernels_SO2_act_R3",
    "kernels_CN_act_R3",
    "kernels_O2_conical_act_R3",
    "kernels_DN_conical_act_R3",
    "kernels_O2_dihedral_act_R3",
    "kernels_DN_dihedral_act_R3",
    "kernels_full_cylinder_act_R3",
    "kernels_full_cylinder_discrete_act_R3",
    "kernels_cylinder_act_R3",
    "kernels_cylinder_discrete_act_R3",
    "kernels_Inv_act_R3",
    "kernels_Trivial_act_R3",
]


def _so3_to_o3_id(sg_id):
    """The O(3) subgroup id of the SO(3) subgroup ``sg_id`` (escnn's convention)."""

    def conv(a):
        if isinstance(a, GroupElement):
            return o3_group().element((0, a.to("Q")), "Q")
        return a

    if isinstance(sg_id, str):
        return (False, sg_id)
    if isinstance(sg_id, tuple):  # (False|True|axis, N[, adjoint]) or (name, adjoint)
        return (False,) + tuple(conv(a) for a in sg_id)
    raise ValueError(f"sg_id: {sg_id!r} is not a subgroup id of SO(3)")


def _shells(maximum_frequency, radii, sigma, filter, family):
    L = _check_mf(maximum_frequency, family)
    return SphericalShellsBasis(L, GaussianRadialProfile(radii, sigma), filter=filter)


def kernels_SO3_act_R3(
    in_repr: Representation,
    out_repr: Representation,
    radii: list[float],
    sigma: list[float] | float,
    maximum_frequency: int | None = None,
    adjoint: np.ndarray | None = None,
    filter: Callable[[dict], bool] | None = None,
) -> KernelBasis:
    """SO(3)-equivariant kernels on R^3 (``maximum_frequency`` defaults to the sum of the largest
    input and output frequencies).

    >>> from steerable.group import so3_group
    >>> from steerable.kernels import kernels_SO3_act_R3
    >>> G = so3_group(3)
    >>> len(kernels_SO3_act_R3(G.irrep(1), G.irrep(2), [0., 1., 2.], 0.6))
    9
    """
    G = _check_pair(in_repr, out_repr)
    _check_kind(G, ("SO3",), "kernels_SO3_act_R3")
    if maximum_frequency is None:
        maximum_frequency = _max_frequency(in_repr, out_repr)
    X = _shells(maximum_frequency, radii, sigma, filter, "kernels_SO3_act_R3")
    return _adjoint(SteerableKernelBasis(X, in_repr, out_repr, RestrictedWignerEckartBasis, sg_id="so3"), adjoint, 3)


def kernels_O3_act_R3(
    in_repr: Representation,
    out_repr: Representation,
    radii: list[float],
    sigma: list[float] | float,
    maximum_frequency: int | None = None,
    adjoint: np.ndarray | None = None,
    filter: Callable[[dict], bool] | None = None,
) -> KernelBasis:
    """O(3)-equivariant kernels on R^3.

    >>> from steerable.group import o3_group
    >>> from steerable.kernels import kernels_O3_act_R3
    >>> G = o3_group(3)
    >>> len(kernels_O3_act_R3(G.irrep(1, 1), G.irrep(0, 1), [0., 1.], 0.6))
    2
    """
    G = _check_pair(in_repr, out_repr)
    _check_kind(G, ("O3",), "kernels_O3_act_R3")
    if maximum_frequency is None:
        maximum_frequency = _max_frequency(in_repr, out_repr)
    X = _shells(maximum_frequency, radii, sigma, filter, "kernels_O3_act_R3")
    return _adjoint(SteerableKernelBasis(X, in_repr, out_repr, WignerEckartBasis), adjoint, 3)


def kernels_O3_subgroup_act_R3(
    in_repr: Representation,
    out_repr: Representation,
    sg_id: tuple,
    radii: list[float],
    sigma: list[float] | float,
    maximum_frequency: int = 5,
    adjoint: np.ndarray | None = None,
    filter: Callable[[dict], bool] | None = None,
) -> KernelBasis:
    """Kernels on R^3 equivariant to the subgroup ``sg_id`` of O(3) (escnn's O(3) subgroup ids).

    >>> from steerable.group import o3_group
    >>> from steerable.kernels import kernels_O3_subgroup_act_R3
    >>> H = o3_group().subgroup(('cone', 4))[0]
    >>> len(kernels_O3_subgroup_act_R3(H.trivial_representation, H.trivial_representation, ('cone', 4), [1.], 0.6, maximum_frequency=3))
    4
    """
    G = _check_pair(in_repr, out_repr)
    L = _check_mf(maximum_frequency, "kernels_O3_subgroup_act_R3")
    H = o3_group(max(L, 1)).subgroup(sg_id)[0]
    _check_group(G, H, f"kernels_O3_subgroup_act_R3(sg_id={sg_id!r})")
    X = _shells(L, radii, sigma, filter, "kernels_O3_subgroup_act_R3")
    return _adjoint(SteerableKernelBasis(X, in_repr, out_repr, RestrictedWignerEckartBasis, sg_id=sg_id), adjoint, 3)


def kernels_SO3_subgroup_act_R3(
    in_repr: Representation,
    out_repr: Representation,
    sg_id: tuple,
    radii: list[float],
    sigma: list[float] | float,
    maximum_frequency: int = 5,
    adjoint: np.ndarray | None = None,
    filter: Callable[[dict], bool] | None = None,
) -> KernelBasis:
    """Kernels on R^3 equivariant to the subgroup ``sg_id`` of SO(3) (``'ico'``, ``'octa'``,
    ``'tetra'``, ``(False, N)`` axial rotations, ``(True, N)`` dihedral, ...).

    >>> from steerable.group import octa_group
    >>> from steerable.kernels import kernels_SO3_subgroup_act_R3
    >>> G = octa_group()
    >>> len(kernels_SO3_subgroup_act_R3(G.trivial_representation, G.trivial_representation, 'octa', [1.], 0.6, maximum_frequency=4))
    2
    """
    G = _check_pair(in_repr, out_repr)
    L = _check_mf(maximum_frequency, "kernels_SO3_subgroup_act_R3")
    H = so3_group(max(L, 1)).subgroup(sg_id)[0]
    _check_group(G, H, f"kernels_SO3_subgroup_act_R3(sg_id={sg_id!r})")
    X = _shells(L, radii, sigma, filter, "kernels_SO3_subgroup_act_R3")
    basis = SteerableKernelBasis(X, in_repr, out_repr, RestrictedWignerEckartBasis, sg_id=_so3_to_o3_id(sg_id))
    return _adjoint(basis, adjoint, 3)


def _so3_family(sg_id, name):
    def family(
        in_repr: Representation,
        out_repr: Representation,
        radii: list[float],
        sigma: list[float] | float,
        maximum_frequency: int = 5,
        adjoint: np.ndarray | None = None,
        filter: Callable[[dict], bool] | None = None,
    ) -> KernelBasis:
        return kernels_SO3_subgroup_act_R3(
            in_repr,
            out_repr,
            sg_id,
            radii=radii,
            sigma=sigma,
            maximum_frequency=maximum_frequency,
            adjoint=adjoint,
            filter=filter,
        )

    family.__name__ = family.__qualname__ = name
    return family


def _o3_family(sg_id, name):
    def family(
        in_repr: Representation,
        out_repr: Representation,
        radii: list[float],
        sigma: list[float] | float,
        maximum_frequency: int = 5,
        adjoint: np.ndarray | None = None,
        filter: Callable[[dict], bool] | None = None,
    ) -> KernelBasis:
        return kernels_O3_subgroup_act_R3(
            in_repr,
            out_repr,
            sg_id,
            radii=radii,
            sigma=sigma,
            maximum_frequency=maximum_frequency,
            adjoint=adjoint,
            filter=filter,
        )

    family.__name__ = family.__qualname__ = name
    return family


def _doc(f, text, group_expr, n):
    f.__doc__ = f"""{text}

    >>> from steerable.group import *
    >>> from steerable.kernels import {f.__name__}
    >>> G = {group_expr}
    >>> len({f.__name__}(G.trivial_representation, G.trivial_representation, [1.], 0.6, maximum_frequency=4))
    {n}
    """
    return f


kernels_Ico_act_R3 = _doc(
    _so3_family("ico", "kernels_Ico_act_R3"),
    "Kernels on R^3 equivariant to the rotations of the icosahedron.",
    "ico_group()",
    1,
)
kernels_Octa_act_R3 = _doc(
    _so3_family("octa", "kernels_Octa_act_R3"),
    "Kernels on R^3 equivariant to the rotations of the cube.",
    "octa_group()",
    2,
)
kernels_Tetra_act_R3 = _doc(
    _so3_family("tetra", "kernels_Tetra_act_R3"),
    "Kernels on R^3 equivariant to the rotations of the tetrahedron.",
    "tetra_group()",
    3,
)
kernels_SO2_act_R3 = _doc(
    _so3_family((False, -1), "kernels_SO2_act_R3"),
    "Kernels on R^3 equivariant to the rotations about the z axis (SO(2)).",
    "so2_group(4)",
    5,
)
kernels_O2_dihedral_act_R3 = _doc(
    _so3_family((True, -1), "kernels_O2_dihedral_act_R3"),
    "Kernels on R^3 equivariant to O(2) as rotations about z and the π-rotations about horizontal axes.",
    "o2_group(4)",
    3,
)
kernels_FullIco_act_R3 = _doc(
    _o3_family((True, "ico"), "kernels_FullIco_act_R3"),
    "Kernels on R^3 equivariant to the full icosahedral group (with the inversion).",
    "full_ico_group()",
    1,
)
kernels_FullOcta_act_R3 = _doc(
    _o3_family((True, "octa"), "kernels_FullOcta_act_R3"),
    "Kernels on R^3 equivariant to the full octahedral group (the cube's 48 symmetries).",
    "full_octa_group()",
    2,
)
kernels_FullTetra_act_R3 = _doc(
    _o3_family("fulltetra", "kernels_FullTetra_act_R3"),
    "Kernels on R^3 equivariant to the full tetrahedral group T_d.",
    "full_tetra_group()",
    3,
)
kernels_Pyrito_act_R3 = _doc(
    _o3_family((True, "tetra"), "kernels_Pyrito_act_R3"),
    "Kernels on R^3 equivariant to the pyritohedral group T_h.",
    "o3_group().subgroup((True, 'tetra'))[0]",
    2,
)
kernels_O2_conical_act_R3 = _doc(
    _o3_family(("cone", -1), "kernels_O2_conical_act_R3"),
    "Kernels on R^3 equivariant to O(2) as rotations about z and mirrors containing z.",
    "o2_group(4)",
    5,
)
kernels_full_cylinder_act_R3 = _doc(
    _o3_family((True, True, -1), "kernels_full_cylinder_act_R3"),
    "Kernels on R^3 equivariant to the full cylinder group O(2) × C_2.",
    "full_cylinder_group(4)",
    3,
)
kernels_cylinder_act_R3 = _doc(
    _o3_family((True, False, -1), "kernels_cylinder_act_R3"),
    "Kernels on R^3 equivariant to the cylinder group SO(2) × C_2.",
    "cylinder_group(4)",
    3,
)


def kernels_CN_act_R3(
    in_repr: Representation,
    out_repr: Representation,
    radii: list[float],
    sigma: list[float] | float,
    maximum_frequency: int = 5,
    max_offset: int | None = None,
    adjoint: np.ndarray | None = None,
    filter: Callable[[dict], bool] | None = None,
) -> KernelBasis:
    """Kernels on R^3 equivariant to the rotations C_N about the z axis (``max_offset`` is accepted
    and ignored, as in escnn).

    >>> from steerable.group import cyclic_group
    >>> from steerable.kernels import kernels_CN_act_R3
    >>> G = cyclic_group(4)
    >>> len(kernels_CN_act_R3(G.trivial_representation, G.trivial_representation, [1.], 0.6, maximum_frequency=2))
    3
    """
    G = _check_pair(in_repr, out_repr)
    _check_kind(G, ("CyclicGroup",), "kernels_CN_act_R3")
    return kernels_SO3_subgroup_act_R3(
        in_repr,
        out_repr,
        (False, G.order()),
        radii=radii,
        sigma=sigma,
        maximum_frequency=maximum_frequency,
        adjoint=adjoint,
        filter=filter,
    )


def kernels_DN_conical_act_R3(
    in_repr: Representation,
    out_repr: Representation,
    radii: list[float],
    sigma: list[float] | float,
    maximum_frequency: int = 5,
    max_offset: int | None = None,
    adjoint: np.ndarray | None = None,
    filter: Callable[[dict], bool] | None = None,
) -> KernelBasis:
    """Kernels on R^3 equivariant to D_N as rotations about z and mirrors containing z.

    >>> from steerable.group import dihedral_group
    >>> from steerable.kernels import kernels_DN_conical_act_R3
    >>> G = dihedral_group(4)
    >>> len(kernels_DN_conical_act_R3(G.trivial_representation, G.trivial_representation, [1.], 0.6, maximum_frequency=2))
    3
    """
    G = _check_pair(in_repr, out_repr)
    _check_kind(G, ("DihedralGroup",), "kernels_DN_conical_act_R3")
    return kernels_O3_subgroup_act_R3(
        in_repr,
        out_repr,
        ("cone", G.order() // 2),
        radii=radii,
        sigma=sigma,
        maximum_frequency=maximum_frequency,
        adjoint=adjoint,
        filter=filter,
    )


def kernels_DN_dihedral_act_R3(
    in_repr: Representation,
    out_repr: Representation,
    radii: list[float],
    sigma: list[float] | float,
    maximum_frequency: int = 5,
    max_offset: int | None = None,
    adjoint: np.ndarray | None = None,
    filter: Callable[[dict], bool] | None = None,
) -> KernelBasis:
    """Kernels on R^3 equivariant to D_N as rotations about z and π-rotations about horizontal axes.

    >>> from steerable.group import dihedral_group
    >>> from steerable.kernels import kernels_DN_dihedral_act_R3
    >>> G = dihedral_group(4)
    >>> len(kernels_DN_dihedral_act_R3(G.trivial_representation, G.trivial_representation, [1.], 0.6, maximum_frequency=2))
    2
    """
    G = _check_pair(in_repr, out_repr)
    _check_kind(G, ("DihedralGroup",), "kernels_DN_dihedral_act_R3")
    return kernels_SO3_subgroup_act_R3(
        in_repr,
        out_repr,
        (True, G.order() // 2),
        radii=radii,
        sigma=sigma,
        maximum_frequency=maximum_frequency,
        adjoint=adjoint,
        filter=filter,
    )


def kernels_full_cylinder_discrete_act_R3(
    in_repr: Representation,
    out_repr: Representation,
    radii: list[float],
    sigma: list[float] | float,
    maximum_frequency: int = 5,
    max_offset: int | None = None,
    adjoint: np.ndarray | None = None,
    filter: Callable[[dict], bool] | None = None,
) -> KernelBasis:
    """Kernels on R^3 equivariant to the discrete full cylinder group D_N × C_2 (order 4N)."""
    G = _check_pair(in_repr, out_repr)
    return kernels_O3_subgroup_act_R3(
        in_repr,
        out_repr,
        (True, True, G.order() // 4),
        radii=radii,
        sigma=sigma,
        maximum_frequency=maximum_frequency,
        adjoint=adjoint,
        filter=filter,
    )


def kernels_cylinder_discrete_act_R3(
    in_repr: Representation,
    out_repr: Representation,
    radii: list[float],
    sigma: list[float] | float,
    maximum_frequency: int = 5,
    max_offset: int | None = None,
    adjoint: np.ndarray | None = None,
    filter: Callable[[dict], bool] | None = None,
) -> KernelBasis:
    """Kernels on R^3 equivariant to the discrete cylinder group C_N × C_2 (order 2N)."""
    G = _check_pair(in_repr, out_repr)
    return kernels_O3_subgroup_act_R3(
        in_repr,
        out_repr,
        (True, False, G.order() // 2),
        radii=radii,
        sigma=sigma,
        maximum_frequency=maximum_frequency,
        adjoint=adjoint,
        filter=filter,
    )


def kernels_Inv_act_R3(
    in_repr: Representation,
    out_repr: Representation,
    radii: list[float],
    sigma: list[float] | float,
    maximum_frequency: int = 5,
    filter: Callable[[dict], bool] | None = None,
) -> KernelBasis:
    """Kernels on R^3 equivariant to the inversion x → -x (C_2).

    >>> from steerable.group import cyclic_group
    >>> from steerable.kernels import kernels_Inv_act_R3
    >>> G = cyclic_group(2)
    >>> len(kernels_Inv_act_R3(G.irrep(1), G.irrep(0), [1.], 0.6, maximum_frequency=2))
    3
    """
    return kernels_O3_subgroup_act_R3(
        in_repr,
        out_repr,
        (True, False, 1),
        radii=radii,
        sigma=sigma,
        maximum_frequency=maximum_frequency,
        filter=filter,
    )


def kernels_Trivial_act_R3(
    in_repr: Representation,
    out_repr: Representation,
    radii: list[float],
    sigma: list[float] | float,
    maximum_frequency: int = 5,
    filter: Callable[[dict], bool] | None = None,
) -> KernelBasis:
    """Unconstrained kernels on R^3 (the trivial group): every shell × spherical harmonic.

    >>> from steerable.group import cyclic_group
    >>> from steerable.kernels import kernels_Trivial_act_R3
    >>> G = cyclic_group(1)
    >>> len(kernels_Trivial_act_R3(G.trivial_representation, G.trivial_representation, [1.], 0.6, maximum_frequency=2))
    9
    """
    return kernels_SO3_subgroup_act_R3(
        in_repr, out_repr, (False, 1), radii=radii, sigma=sigma, maximum_frequency=maximum_frequency, filter=filter
    )
