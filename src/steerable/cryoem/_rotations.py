"""Rotations for pose inference: Haar-random SO(3) samples, the 6-D representation with
Gram–Schmidt (guarded against vanishing vectors), global alignment (with the chirality flip)
and the embedding of the in-plane symmetries of an image into SO(3). Geodesic distances and
quaternion conversions are the library's (``steerable.group.functional``).

Conventions used throughout :mod:`steerable.cryoem`: an image axis 0 is ``x`` and axis 1 is
``y`` (the convention of :mod:`steerable.gspaces` on the plane); a volume's axes are
``(x, y, z)``; the projection at pose ``R`` is ``I(u) = ∫ V(Rᵀ (u, z)) dz``, so an atom at ``p``
appears at ``(R p)_{xy}``. Transforming an image by ``A ∈ O(2)`` (``I'(u) = I(A⁻¹u)``) gives the
projection at pose ``(A ⊕ det A) · R``, a proper rotation: that is how D_N acts on poses.
"""

from __future__ import annotations

import torch

from steerable.group.functional import geodesic_distance, quat_to_matrix

__all__ = [
    "align_rotations",
    "planar_action",
    "random_rotations",
    "rotation_from_6d",
]


def _check_rotations(name: str, r: torch.Tensor) -> None:
    if not isinstance(r, torch.Tensor) or r.ndim < 2 or r.shape[-2:] != (3, 3):
        shape = tuple(r.shape) if isinstance(r, torch.Tensor) else type(r).__name__
        raise ValueError(f"{name}: expected a tensor of 3x3 rotation matrices (..., 3, 3), got {shape}")


def random_rotations(n: int, generator: torch.Generator | None = None, dtype=torch.float64) -> torch.Tensor:
    """``n`` rotation matrices drawn from the Haar measure of SO(3) (normalised Gaussian
    quaternions), shape ``(n, 3, 3)``.

    >>> import torch
    >>> from steerable.cryoem import random_rotations
    >>> r = random_rotations(4, torch.Generator().manual_seed(0))
    >>> r.shape, bool(torch.allclose(r @ r.transpose(1, 2), torch.eye(3, dtype=r.dtype).expand(4, 3, 3)))
    (torch.Size([4, 3, 3]), True)
    >>> bool(torch.allclose(torch.linalg.det(r), torch.ones(4, dtype=r.dtype)))
    True
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n: expected a non-negative int, got {n!r}")
    q = torch.randn(n, 4, generator=generator, dtype=dtype)  # (w, x, y, z)
    return quat_to_matrix(q.roll(-1, dims=1))  # the library's conversion takes (x, y, z, w)


def rotation_from_6d(v: torch.Tensor) -> torch.Tensor:
    """The rotation whose first two columns are the Gram–Schmidt orthonormalisation of the two
    3-vectors in ``v`` (shape ``(..., 6)``: ``a = v[..., :3]``, ``b = v[..., 3:]``); the third
    column is their cross product. Equivariant: ``rotation_from_6d(g a, g b) = g · rotation_from_6d(a, b)``
    for every rotation ``g`` (Zhou et al. 2019). Unlike ``steerable.group.functional.sixd_to_matrix``
    it clamps the norms away from zero, so an untrained encoder whose outputs vanish gives a
    rotation, not NaN.

    >>> import torch
    >>> from steerable.cryoem import rotation_from_6d
    >>> r = rotation_from_6d(torch.tensor([[2.0, 0, 0, 1, 3, 0]]))
    >>> r[0].round(decimals=4)
    tensor([[1., 0., 0.],
            [0., 1., 0.],
            [0., 0., 1.]])
    """
    if not isinstance(v, torch.Tensor) or v.shape[-1:] != (6,):
        raise ValueError(f"v: expected a tensor of shape (..., 6), got {getattr(v, 'shape', type(v).__name__)}")
    a, b = v[..., :3], v[..., 3:]
    e1 = a / a.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    b = b - (e1 * b).sum(-1, keepdim=True) * e1
    e2 = b / b.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    e3 = torch.linalg.cross(e1, e2, dim=-1)
    return torch.stack([e1, e2, e3], dim=-1)


_CHIRAL = torch.diag(torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64))


def align_rotations(predicted: torch.Tensor, true: torch.Tensor, *, chirality: bool = True):
    """Align predicted poses to true ones up to the ambiguities of reconstruction: a global
    rotation ``A`` of the volume (``R̂ ≈ R Aᵀ``) and, if ``chirality``, the mirror image of the
    volume (whose poses are ``F R F`` with ``F = diag(1, 1, -1)``: it has the same projections).

    Returns ``(errors, A, flipped)``: the geodesic error (radians) of each aligned pose, the
    global rotation (orthogonal Procrustes on SO(3)) and whether the mirror fit better. The
    volume that matches the truth is ``V̂(Aᵀ x)`` (mirrored in z first when ``flipped``).

    >>> import torch
    >>> from steerable.cryoem import align_rotations, random_rotations
    >>> g = torch.Generator().manual_seed(1)
    >>> r, a = random_rotations(50, g), random_rotations(1, g)[0]
    >>> err, a_fit, flipped = align_rotations(r @ a.T, r)
    >>> float(err.max()) < 1e-6, bool(torch.allclose(a_fit, a, atol=1e-6)), flipped
    (True, True, False)
    """
    _check_rotations("predicted", predicted)
    _check_rotations("true", true)
    if predicted.shape != true.shape or predicted.ndim != 3:
        raise ValueError(
            f"predicted, true: expected equal shapes (n, 3, 3), got {tuple(predicted.shape)} and {tuple(true.shape)}"
        )
    p, t = predicted.double(), true.double()
    best = None
    for flipped in (False, True) if chirality else (False,):
        q = _CHIRAL @ p @ _CHIRAL if flipped else p
        # min Σ ‖q_i - t_i Aᵀ‖²  ⇔  max ⟨A, Σ q_iᵀ t_i⟩: A = the polar factor of Σ q_iᵀ t_i in SO(3)
        m = (q.transpose(1, 2) @ t).sum(0)
        u, _, vh = torch.linalg.svd(m)
        d = torch.diag(torch.tensor([1.0, 1.0, float(torch.sign(torch.linalg.det(u @ vh)))], dtype=m.dtype))
        a = u @ d @ vh
        err = geodesic_distance(q, t @ a.T)
        if best is None or float(err.median()) < float(best[0].median()):
            best = (err, a, flipped)
    assert best is not None
    return best


def planar_action(a: torch.Tensor) -> torch.Tensor:
    """The rotation ``A ⊕ det A`` of space that an orthogonal map ``A`` of the image plane induces
    on poses (see the module's conventions): an in-plane rotation turns about z, a reflection
    also turns z over.

    >>> import torch
    >>> from steerable.cryoem import planar_action
    >>> planar_action(torch.tensor([[1.0, 0], [0, -1]]))
    tensor([[ 1.,  0.,  0.],
            [ 0., -1.,  0.],
            [ 0.,  0., -1.]])
    """
    if not isinstance(a, torch.Tensor) or a.shape[-2:] != (2, 2):
        raise ValueError(f"a: expected a (..., 2, 2) orthogonal matrix, got {getattr(a, 'shape', type(a).__name__)}")
    out = torch.zeros(*a.shape[:-2], 3, 3, dtype=a.dtype)
    out[..., :2, :2] = a
    out[..., 2, 2] = torch.linalg.det(a)
    return out
