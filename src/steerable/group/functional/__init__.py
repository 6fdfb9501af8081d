"""Torch-native, differentiable group math: the torch twin of :mod:`steerable.group`.

Everything is plain torch, batched over leading axes, in any floating dtype and on any device,
with autograd through the element parameters; in float64 it equals the numpy reference
(``irrep(g)``, ``rep(g)``, ``sampling_matrix``) of the same ``steerable.group`` objects to
rounding. ``import steerable.group`` does not import this package.

Conventions
-----------
Quaternions
    Scalar last ``(x, y, z, w)`` like the numpy reference and scipy; ``q`` and ``-q`` are the
    same rotation, the canonical one has ``w > 0`` (:func:`quat_canonical`). Hamilton
    products: ``quat_to_matrix(quat_multiply(a, b)) == R_a @ R_b``.
Rotations
    Matrices act on column vectors; ``a @ b`` applies b first. Rotation vectors are
    ``axis · angle`` (:func:`so3_exp` / :func:`so3_log`). The 6-D representation is the first
    two columns ``(R[:, 0], R[:, 1])`` concatenated (:func:`sixd_to_matrix`).
Wigner D
    Real, in the basis of the real spherical harmonics (no Condon–Shortley phase,
    ``m = -l..l``, ``Y_1 ∝ (y, z, x)``): ``Y_l(R x) = D^l(R) Y_l(x)``, any degree
    (:func:`wigner_D`), from quaternions (..., 4) or matrices (..., 3, 3).
Element parameters
    A group element is a vector (..., k) in its group's internal layout, k = :func:`param_dim`:

    - C_N, D_N, SO(2), O(2): ``(flip, rot)``, the element ``r^rot f^flip`` (f = diag(1, -1)
      first); ``rot`` in radians for SO(2)/O(2), in units of 2π/N (the index; fractional
      values interpolate) for C_N/D_N; ``flip`` 0/1 (0 for SO(2)/C_N).
    - SO(3): the quaternion ``(x, y, z, w)``. O(3): ``(parity, x, y, z, w)``, parity 1 is
      ``x ↦ -R x``; irreps ``(j, l)`` = ``(-1)^(j·parity) D^l``.
    - ico, octa, tetra, full tetra: ``(index,)`` (table lookup; :func:`finite_quaternions`,
      :func:`index_from_quaternion` convert to and from quaternions).
    - direct products (cylinder groups, full ico/octa, G1 × G2, double groups): the
      concatenation of the factors' parameters.

    Discrete entries (flip, parity, index) are read by rounding (``> 0.5``), carry no gradient,
    and are not validated on the device. :func:`element_params` / :func:`params_to_elements`
    convert from / to ``GroupElement``; :func:`element_index` / :func:`index_params` between
    parameters and the element index of finite groups (the order of ``G.elements``).
Fourier
    ``irreps`` as in ``steerable.group.sampling_matrix`` / ``FourierTransform``: an int L
    (``G.bl_irreps(L)``) or a list of irreps / ids; coefficients are ordered like
    ``G.bl_regular_representation``. :func:`sampling_matrix` ``A`` (..., n, D),
    :func:`inverse_fourier` ``A x`` and :func:`fourier` (least squares or quadrature) take
    points (..., n, k) that may depend on the input.

>>> import torch
>>> from steerable.group import so3_group
>>> from steerable.group.functional import haar_quaternions, irrep_matrices
>>> q = haar_quaternions(3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
>>> irrep_matrices(so3_group().irrep(4), q).shape
torch.Size([3, 9, 9])
"""

from ._elements import (
    element_index,
    element_params,
    finite_quaternions,
    index_from_quaternion,
    index_params,
    param_dim,
    params_to_elements,
)
from ._fourier import fourier, fourier_dim, inverse_fourier, sampling_matrix
from ._harmonics import spherical_harmonics
from ._irreps import irrep_matrices, o3_irrep, representation_matrices
from ._planar import o2_irrep, so2_irrep
from ._quaternion import (
    axis_angle_to_quat,
    matrix_to_quat,
    quat_canonical,
    quat_inverse,
    quat_multiply,
    quat_to_axis_angle,
    quat_to_matrix,
)
from ._so3 import (
    geodesic_distance,
    haar_quaternions,
    haar_rotations,
    matrix_to_sixd,
    sixd_to_matrix,
    so3_exp,
    so3_log,
)
from ._wigner import wigner_D, wigner_D_upto

__all__ = [
    "quat_multiply",
    "quat_inverse",
    "quat_canonical",
    "quat_to_matrix",
    "matrix_to_quat",
    "axis_angle_to_quat",
    "quat_to_axis_angle",
    "haar_quaternions",
    "haar_rotations",
    "so3_exp",
    "so3_log",
    "geodesic_distance",
    "sixd_to_matrix",
    "matrix_to_sixd",
    "spherical_harmonics",
    "wigner_D",
    "wigner_D_upto",
    "so2_irrep",
    "o2_irrep",
    "o3_irrep",
    "param_dim",
    "element_params",
    "params_to_elements",
    "element_index",
    "index_params",
    "finite_quaternions",
    "index_from_quaternion",
    "irrep_matrices",
    "representation_matrices",
    "fourier_dim",
    "sampling_matrix",
    "inverse_fourier",
    "fourier",
]
