"""Steerable kernel bases: K(g x) = ρ_out(g) K(x) ρ_in(g)⁻¹ on R^2 and R^3.

Construction (Wigner–Eckart, for every group the gspace's fibre group H ⊂ O(d) can be):
a kernel restricted to a ring/shell of radius r is a function on the sphere, spanned by the
harmonics Y_j, which carry O(d) irreps (``_harmonics``). Writing ``K(x) = Σ_j X_j Y_j(x̂) φ_r(|x|)``,
K is equivariant iff every ``X_j`` (a (d_out·d_in) × dim Y_j matrix) intertwines the restriction
``Res_H(Y_j)`` with ``ψ_out ⊗ ψ_in``. So the basis elements are
``(ring r, harmonic j, intertwiner X ∈ Hom_H(Res_H Y_j, ψ_out ⊗ ψ_in))`` — complete by
construction: at each radius their number is Σ_{j ≤ J(r)} dim Hom_H(Res_H Y_j, ψ_out ⊗ ψ_in), and
at the origin (only j = 0) it is dim Hom_H(ψ_in, ψ_out).

Restriction to H uses the gspace's inclusion H → O(d) and the group layer's exact decomposition,
so finite, axial and product subgroups all get complete bases. General representations
``ρ = Q (⊕ ψ) Q⁻¹`` use the irreps' bases blockwise, then the changes of basis.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from steerable.group import Representation, homomorphism_space

from ._harmonics import harmonic_ids, harmonics
from ._structure import BasisStructure, StructureBuilder, irrep_offsets

if TYPE_CHECKING:
    from steerable.gspaces import GSpace

_RES_CACHE: dict = {}
#: an element whose samples satisfy Σ ‖B(x)‖² / d_out below this is treated as zero on the grid
VANISHING_TOL = 1e-12
_HOM_CACHE: dict = {}


def restricted_harmonic(gspace, harmonic_id: tuple):
    """The decomposition (ids, Q) of the O(d) irrep ``harmonic_id`` restricted to the gspace's
    fibre group."""
    key = (gspace, harmonic_id)
    if key not in _RES_CACHE:
        H = gspace.fibergroup
        psi = gspace._ambient.irrep(*harmonic_id)
        incl = gspace._incl
        ids, q = H._decompose_q(lambda b: psi._matrices(incl(b)), psi.bandlimit)
        q.setflags(write=False)
        _RES_CACHE[key] = (ids, q)
    return _RES_CACHE[key]


def harmonic_intertwiners(gspace, in_id: tuple, out_id: tuple, harmonic_id: tuple) -> np.ndarray:
    """Orthonormal basis (k, d_out·d_in, dim Y) of Hom_H(Res_H Y_j, ψ_out ⊗ ψ_in)."""
    key = (gspace, in_id, out_id, harmonic_id)
    if key not in _HOM_CACHE:
        H = gspace.fibergroup
        ids, q = restricted_harmonic(gspace, harmonic_id)
        res = Representation(H, "harmonic", ids, q)
        tens = H.irrep(*out_id).tensor(H.irrep(*in_id))
        x = homomorphism_space(res, tens)  # (k, do*di, dimY)
        norms = np.sqrt((x**2).sum(axis=(1, 2), keepdims=True))
        x = x / np.where(norms > 0, norms, 1.0)
        x.setflags(write=False)
        _HOM_CACHE[key] = x
    return _HOM_CACHE[key]


def default_rings(kernel_size: int) -> list[float]:
    """Ring radii 0, 1, …, (k-1)/2 (k//2 + 1 rings, evenly spaced)."""
    return [float(r) for r in np.linspace(0.0, (kernel_size - 1) / 2, kernel_size // 2 + 1)]


def default_cutoff(r: float) -> int:
    """Maximum harmonic order on a ring of radius r: 0 at the origin, ⌊2r⌋ elsewhere."""
    return 0 if r < 1e-9 else int(math.floor(2 * r + 1e-9))


def make_cutoff(frequencies_cutoff) -> Callable[[float], int]:
    if frequencies_cutoff is None:
        return default_cutoff
    if callable(frequencies_cutoff):
        return lambda r: int(frequencies_cutoff(r))
    if isinstance(frequencies_cutoff, (int, float)) and not isinstance(frequencies_cutoff, bool):
        f = float(frequencies_cutoff)
        if f < 0:
            raise ValueError(f"frequencies_cutoff: expected a non-negative factor, got {f}")
        return lambda r: int(math.floor(f * r + 1e-9))
    raise TypeError(
        f"frequencies_cutoff: expected None, a float or a callable, got {type(frequencies_cutoff).__name__}"
    )


@dataclass(frozen=True)
class BasisElement:
    """Where one basis element comes from (for re-weighting, PAC-Bayes norms, filtering)."""

    in_irrep: tuple
    out_irrep: tuple
    radius: float
    sigma: float
    harmonic: tuple  # the O(d) irrep of the harmonic
    frequency: int  # its order j (l on R^3)
    inner: int  # index of the intertwiner within Hom_H(Res Y_j, ψ_out ⊗ ψ_in)

    def as_dict(self) -> dict:
        return {
            "in_irrep": self.in_irrep,
            "out_irrep": self.out_irrep,
            "radius": self.radius,
            "sigma": self.sigma,
            "harmonic": self.harmonic,
            "frequency": self.frequency,
            "inner": self.inner,
        }


@dataclass
class IrrepsPairBasis:
    """The steerable basis of kernels from ψ_in to ψ_out (irreps of the fibre group)."""

    gspace: GSpace
    in_id: tuple
    out_id: tuple
    rings: Sequence[float]
    sigmas: Sequence[float]
    cutoff: Callable[[float], int] | None  # None once __post_init__ has used it (so bases pickle)
    maximum_offset: int | None = None
    basis_filter: Callable[[dict], bool] | None = None
    elements: list = field(default_factory=list)
    _blocks: list = field(default_factory=list)  # (ring idx, harmonic j, X rows (k', do*di, dimY))

    def __post_init__(self):
        H = self.gspace.fibergroup
        d = self.gspace.dimensionality
        self.d_in = H.irrep(*self.in_id).size
        self.d_out = H.irrep(*self.out_id).size
        jmax_pair = None
        if self.maximum_offset is not None:
            jmax_pair = H.irrep(*self.in_id).bandlimit + H.irrep(*self.out_id).bandlimit + int(self.maximum_offset)
        for ri, (r, s) in enumerate(zip(self.rings, self.sigmas)):
            J = int(self.cutoff(r))
            if jmax_pair is not None:
                J = min(J, jmax_pair)
            if J < 0:  # a cut-off below 0 at this radius: no harmonic at all
                continue
            for hid, j in harmonic_ids(d, J):
                x = harmonic_intertwiners(self.gspace, self.in_id, self.out_id, hid)
                keep = []
                for k in range(x.shape[0]):
                    el = BasisElement(self.in_id, self.out_id, float(r), float(s), hid, j, k)
                    if self.basis_filter is not None and not self.basis_filter(
                        escnn_attributes(el, self.d_out, self.d_in, ri, d)
                    ):
                        continue
                    keep.append(k)
                    self.elements.append(el)
                if keep:
                    self._blocks.append((ri, j, x[keep]))
        # what sample() needs is now in _blocks/rings/sigmas: drop the callables so bases pickle
        self.cutoff = None
        self.basis_filter = None

    def __len__(self) -> int:
        return len(self.elements)

    def sample(self, points: np.ndarray) -> np.ndarray:
        """Basis sampled at ``points`` (N, d): array (n_basis, d_out, d_in, N), float64."""
        pts = np.asarray(points, dtype=np.float64)
        n = pts.shape[0]
        out = np.zeros((len(self), self.d_out, self.d_in, n))
        if not len(self):
            return out
        J = max(j for _, j, _ in self._blocks)
        ys = harmonics(self.gspace.dimensionality, J, pts)
        rad = np.linalg.norm(pts, axis=1)
        p = 0
        for ri, j, x in self._blocks:
            r, s = self.rings[ri], self.sigmas[ri]
            prof = np.exp(-((rad - r) ** 2) / (2 * s * s))
            vals = np.einsum("kam,nm->kan", x, ys[j]) * prof  # (k, do*di, N)
            out[p : p + len(x)] = vals.reshape(len(x), self.d_out, self.d_in, n)
            p += len(x)
        return out

    @property
    def structure(self) -> BasisStructure:
        """The elements as tensors (:class:`steerable.kernels.BasisStructure`; one block).

        >>> from steerable import gspaces
        >>> from steerable.kernels import IrrepsPairBasis, default_cutoff
        >>> gs = gspaces.rot2dOnR2(4)
        >>> pb = IrrepsPairBasis(gs, (1,), (1,), [0.0, 1.0], [0.6, 0.6], default_cutoff)
        >>> s = pb.structure
        >>> len(s) == len(pb), s.frequency.tolist() == [e.frequency for e in pb.elements]
        (True, True)
        """
        return pair_basis_structure(self)

    def count_at_radius(self, r: float) -> int:
        return sum(1 for e in self.elements if abs(e.radius - r) < 1e-12)

    def select(self, keep) -> IrrepsPairBasis:
        """A copy holding only the elements ``keep`` (a boolean mask over ``elements``), in order."""
        keep = np.asarray(keep, dtype=bool).reshape(-1)
        if keep.shape != (len(self),):
            raise ValueError(f"keep: expected a boolean mask of length {len(self)}, got shape {keep.shape}")
        new = object.__new__(IrrepsPairBasis)
        new.__dict__.update(self.__dict__)
        new.elements = [e for e, k in zip(self.elements, keep) if k]
        blocks, p = [], 0
        for ri, j, x in self._blocks:
            m = keep[p : p + len(x)]
            p += len(x)
            if m.any():
                blocks.append((ri, j, x[m]))
        new._blocks = blocks
        return new

    def nonvanishing(self, points: np.ndarray, tol: float = VANISHING_TOL) -> IrrepsPairBasis:
        """The elements whose samples on ``points`` are not all ~0 (escnn drops the others: on a
        grid, some harmonics alias to zero). An element is kept when
        ``Σ_points ‖B(x)‖²_F / d_out >= tol``."""
        if not len(self):
            return self
        s = self.sample(points)
        norms = (s**2).sum(axis=(1, 2, 3)) / self.d_out
        keep = norms >= tol
        return self if keep.all() else self.select(keep)


class SteerableKernelBasis:
    """The basis of equivariant kernels between two representations ``in_repr`` → ``out_repr``
    of a gspace's fibre group, as a list of irreps-pair bases placed blockwise and rotated by the
    representations' changes of basis.

    >>> import numpy as np
    >>> from steerable import gspaces
    >>> from steerable.kernels import SteerableKernelBasis
    >>> gs = gspaces.rot2dOnR2(4)
    >>> b = SteerableKernelBasis(gs, gs.regular_repr, gs.regular_repr, rings=[0, 1, 2])
    >>> pts = np.random.default_rng(0).normal(size=(10, 2))
    >>> b.sample(pts).shape[1:]
    (4, 4, 10)
    """

    def __init__(
        self,
        gspace,
        in_repr: Representation,
        out_repr: Representation,
        rings: Sequence[float],
        sigma: float | Sequence[float] = 0.6,
        frequencies_cutoff=None,
        maximum_offset: int | None = None,
        basis_filter: Callable[[dict], bool] | None = None,
    ):
        if gspace.dimensionality not in (2, 3):
            raise ValueError(f"gspace: kernel bases need a base space R^2 or R^3, got R^{gspace.dimensionality}")
        for arg, r in (("in_repr", in_repr), ("out_repr", out_repr)):
            if not isinstance(r, Representation) or r.group != gspace.fibergroup:
                raise ValueError(f"{arg}: expected a representation of {gspace.fibergroup.name}")
        self.gspace, self.in_repr, self.out_repr = gspace, in_repr, out_repr
        self.rings = [float(r) for r in rings]
        self.sigmas = _as_sigmas(sigma, len(self.rings))
        self.cutoff = make_cutoff(frequencies_cutoff)
        self.pairs: dict = {}
        self.blocks: list = []  # (out slot offset, in slot offset, pair basis)
        self._block_pos: list = []  # (out irrep position, in irrep position, pair basis), as blocks
        oo = np.cumsum([0] + [gspace.fibergroup.irrep(*i).size for i in out_repr.irreps])
        oi = np.cumsum([0] + [gspace.fibergroup.irrep(*i).size for i in in_repr.irreps])
        for a, ido in enumerate(out_repr.irreps):
            for b, idi in enumerate(in_repr.irreps):
                key = (idi, ido)
                if key not in self.pairs:
                    self.pairs[key] = IrrepsPairBasis(
                        gspace, idi, ido, self.rings, self.sigmas, self.cutoff, maximum_offset, basis_filter
                    )
                if len(self.pairs[key]):
                    self.blocks.append((oo[a], oi[b], self.pairs[key]))
                    self._block_pos.append((a, b, self.pairs[key]))

    def __len__(self) -> int:
        return sum(len(p) for _, _, p in self.blocks)

    @property
    def structure(self) -> BasisStructure:
        """The elements as tensors (:class:`steerable.kernels.BasisStructure`), in the order of
        :attr:`attributes`; blocks at the irrep copies of the representations (irrep basis).

        >>> from steerable import gspaces
        >>> from steerable.kernels import SteerableKernelBasis
        >>> gs = gspaces.rot2dOnR2(4)
        >>> b = SteerableKernelBasis(gs, gs.regular_repr, gs.regular_repr, rings=[0, 1, 2])
        >>> s = b.structure
        >>> len(s) == len(b), s.shape, int(s.block_rows[:, 1].max())
        (True, (4, 4), 4)
        """
        H = self.gspace.fibergroup
        b = StructureBuilder((self.out_repr.size, self.in_repr.size))
        oo = irrep_offsets(H, self.out_repr.irreps)
        oi = irrep_offsets(H, self.in_repr.irreps)
        local: dict = {}
        for a, ib, pb in self._block_pos:
            key = (pb.in_id, pb.out_id)
            if key not in local:
                local[key] = pair_basis_structure(pb)
            b.add([(0, a, oo[a])], [(0, ib, oi[ib])], local[key])
        return b.build()

    @property
    def attributes(self) -> list[dict]:
        out = []
        for a, b, p in self.blocks:
            for e in p.elements:
                out.append(dict(e.as_dict(), out_offset=int(a), in_offset=int(b)))
        return out

    def sample(self, points: np.ndarray) -> np.ndarray:
        """(n_basis, out_size, in_size, N) in the representations' own bases."""
        pts = np.asarray(points, dtype=np.float64)
        out = np.zeros((len(self), self.out_repr.size, self.in_repr.size, len(pts)))
        p = 0
        cache: dict = {}
        for a, b, pb in self.blocks:
            key = (pb.in_id, pb.out_id)
            if key not in cache:
                cache[key] = pb.sample(pts)
            s = cache[key]
            out[p : p + len(s), a : a + pb.d_out, b : b + pb.d_in] = s
            p += len(s)
        qo = np.asarray(self.out_repr.change_of_basis)
        qi = np.asarray(self.in_repr.change_of_basis_inv)
        return np.einsum("pa,kabn,bq->kpqn", qo, out, qi)


def pair_basis_structure(pb) -> BasisStructure:
    """The :class:`BasisStructure` of an irreps-pair basis (an :class:`IrrepsPairBasis` or any object
    with ``gspace``, ``in_id``, ``out_id``, ``rings`` and ``elements`` of :class:`BasisElement`):
    fields 0, one block ``(d_out, d_in)``; the ring index is the first ring with the element's
    radius (as escnn's ``'radial_idx'``)."""
    H = pb.gspace.fibergroup
    po, pi = H.irrep(*pb.out_id), H.irrep(*pb.in_id)
    b = StructureBuilder((po.size, pi.size))
    b.irrep_code(tuple(pb.out_id), po.name)
    b.irrep_code(tuple(pb.in_id), pi.name)
    rings = list(pb.rings)
    ring_of = {}
    for e in pb.elements:
        if e.radius not in ring_of:
            ring_of[e.radius] = next((k for k, r in enumerate(rings) if r == e.radius), 0)
    b.add_elements(
        {
            "in_field": 0,
            "out_field": 0,
            "in_irrep": pb.in_id,
            "out_irrep": pb.out_id,
            "in_irrep_idx": 0,
            "out_irrep_idx": 0,
            "harmonic": e.harmonic,
            "frequency": e.frequency,
            "ring": ring_of[e.radius],
            "radius": e.radius,
            "sigma": e.sigma,
            "inner": e.inner,
            "rows": (0, po.size),
            "cols": (0, pi.size),
        }
        for e in pb.elements
    )
    return b.build()


def escnn_attributes(el: BasisElement, d_out: int, d_in: int, radial_idx: int, d: int = 2) -> dict:
    """The attributes of a basis element as a filter sees them: steerable's keys plus escnn's
    names for the same facts (``'radius'``, ``'sigma'``, ``'irrep:frequency'`` (the harmonic's
    order), ``'j'`` (the harmonic's O(d) irrep), ``'in_irrep'``, ``'out_irrep'``, ``'shape'``,
    ``'radial_idx'``; on R^2 also ``'irrep:flip_frequency'``), so escnn-style ``basis_filter``
    callables work unchanged."""
    a = el.as_dict()
    a.update({"irrep:frequency": el.frequency, "j": el.harmonic, "shape": (d_out, d_in), "radial_idx": radial_idx})
    if d == 2:
        a["irrep:flip_frequency"] = el.harmonic[0]
    return a


def _as_sigmas(sigma, n: int) -> list[float]:
    if isinstance(sigma, (int, float)) and not isinstance(sigma, bool):
        s = [float(sigma)] * n
    else:
        s = [float(x) for x in sigma]
        if len(s) != n:
            raise ValueError(f"sigma: expected a number or one value per ring ({n}), got {len(s)}")
    if any(x <= 0 for x in s):
        raise ValueError(f"sigma: expected positive widths, got {s}")
    return s
