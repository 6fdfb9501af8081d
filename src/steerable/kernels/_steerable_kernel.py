"""escnn's :class:`SteerableKernelBasis`: equivariant kernels between two representations, from
the solutions of the kernel constraint for every pair of their irreps (:class:`IrrepBasis`).

A representation ``ρ = Q (⊕_a ψ_a) Q⁻¹`` is handled blockwise: for each pair (input irrep copy,
output irrep copy) the irreps basis fills the corresponding block, then the changes of basis are
applied: ``κ(x) = Q_out κ_⊕(x) Q_in⁻¹``. Elements are grouped by the harmonic ``j`` of the
steerable filter basis they come from (the trivial harmonic first, then the order of ``basis.js``);
within a harmonic, by block (input copies outer, output copies inner), as in escnn.

``SteerableKernelBasis`` keeps accepting the older steerable signature
``SteerableKernelBasis(gspace, in_repr, out_repr, rings, sigma=..., ...)``: called with a gspace
first, it returns the older numpy basis :class:`steerable.kernels._basis.SteerableKernelBasis`.
"""

from __future__ import annotations

import inspect
from abc import abstractmethod
from collections import defaultdict
from collections.abc import Iterable

import numpy as np
import torch

from steerable.group import IrreducibleRepresentation, Representation

from ._filters_basis import SteerableFiltersBasis
from ._kernel_basis import EmptyBasisException, KernelBasis, _as_points, _write_out

__all__ = ["IrrepBasis", "SteerableKernelBasis"]

_DENSE_LIMIT = 2**23  # numbers (float64) of precomputed dense coefficients per SteerableKernelBasis


def _resolve_irrep(G, irrep, name: str) -> IrreducibleRepresentation:
    if isinstance(irrep, IrreducibleRepresentation):
        if irrep.group != G:
            raise ValueError(f"{name}: expected an irrep of {G.name}, got one of {irrep.group.name}")
        return irrep
    if isinstance(irrep, tuple):
        return G.irrep(*irrep)
    if isinstance(irrep, str):
        irreps = G.irreps() if G.order() > 0 else [G.irrep(*getattr(i, "id", i)) for i in G.bl_irreps(8)]
        for psi in irreps:
            if psi.name == irrep:
                return psi
        raise ValueError(f"{name}: {G.name} has no irrep named {irrep!r}")
    raise TypeError(f"{name}: expected an IrreducibleRepresentation of {G.name} or its id, got {type(irrep).__name__}")


class IrrepBasis(KernelBasis):
    """Abstract basis of the kernels between two irreps ``in_irrep`` → ``out_irrep`` of a group G,
    built from a steerable filters basis ``basis`` (whose group may be larger than G).

    ``js`` lists the harmonics (irreps of ``basis.group``) the elements come from, in the order
    of ``basis.js``; ``dim_harmonic(j)`` counts the elements built from harmonic ``j``.
    Subclasses: :class:`WignerEckartBasis`, :class:`RestrictedWignerEckartBasis`.
    """

    def __init__(
        self,
        basis: SteerableFiltersBasis,
        in_irrep: IrreducibleRepresentation | tuple,
        out_irrep: IrreducibleRepresentation | tuple,
        dim: int,
        harmonics: list[tuple] | None = None,
    ):
        if not isinstance(basis, SteerableFiltersBasis):
            raise TypeError(f"basis: expected a SteerableFiltersBasis, got {type(basis).__name__}")
        if not isinstance(in_irrep, IrreducibleRepresentation) or not isinstance(out_irrep, IrreducibleRepresentation):
            raise TypeError("in_irrep, out_irrep: expected IrreducibleRepresentation objects")
        if in_irrep.group != out_irrep.group:
            raise ValueError("in_irrep, out_irrep: expected irreps of the same group")
        super().__init__(dim, (out_irrep.size, in_irrep.size))
        self.group = in_irrep.group
        self.in_irrep = in_irrep
        self.out_irrep = out_irrep
        self.basis = basis
        wanted = None if harmonics is None else set(harmonics)
        self.js: list[tuple] = []
        for j, _ in basis.js:
            if j not in self.js and (wanted is None or j in wanted):
                self.js.append(j)
        self._start_index = {}
        idx = 0
        for j in self.js:
            self._start_index[j] = idx
            idx += self.dim_harmonic(j)

    def sample(self, points: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """The basis on ``points`` (N, d): (N, dim, out_irrep.size, in_irrep.size)."""
        points = _as_points(points, self.basis.dimensionality)
        harm = self.basis.sample_as_dict(points)
        parts = self.sample_harmonics(harm)
        res = torch.cat([parts[j] for j in self.js], dim=1)
        return _write_out(res, out)

    @abstractmethod
    def sample_harmonics(
        self, points: dict[tuple, torch.Tensor], out: dict[tuple, torch.Tensor] | None = None
    ) -> dict[tuple, torch.Tensor]:
        """From the sampled filters basis ``{j: (N, m_j, dim ψ_j)}`` to ``{j: (N, dim_harmonic(j), o, i)}``."""

    @abstractmethod
    def dim_harmonic(self, j: tuple) -> int:
        """Number of elements built from the filters-basis harmonic ``j``."""

    @abstractmethod
    def attrs_j_iter(self, j: tuple) -> Iterable:
        """Attributes of the elements built from harmonic ``j``."""

    @abstractmethod
    def attrs_j(self, j: tuple, idx) -> dict:
        """Attributes of the ``idx``-th element built from harmonic ``j``."""

    def __getitem__(self, idx):
        idx = self._check_idx(idx)
        for j in self.js:
            d = self.dim_harmonic(j)
            if idx < d:
                return self.attrs_j(j, idx)
            idx -= d
        raise IndexError(idx)  # pragma: no cover

    def __iter__(self):
        for j in self.js:
            yield from self.attrs_j_iter(j)

    def _inner_of(self, attr: dict) -> int:
        """The intertwiner index of the element with attributes ``attr`` (subclasses that build
        several intertwiners per harmonic override it)."""
        return int(attr.get("inner", 0))

    def _structure_context(self):
        return self.group, [self.in_irrep.id], [self.out_irrep.id], self._inner_of

    @classmethod
    @abstractmethod
    def _generator(cls, basis, psi_in, psi_out, **kwargs) -> IrrepBasis:
        """Build (or reuse) the irreps basis for one pair of irreps."""


def _is_gspace(obj) -> bool:
    try:
        from steerable.gspaces import GSpace
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, GSpace)


class SteerableKernelBasis(KernelBasis):
    """The basis of kernels ``κ(g x) = ρ_out(g) κ(x) ρ_in(g)⁻¹`` on R^d for two representations of
    a group G, from a steerable filters ``basis`` on R^d and the irreps solver ``irreps_basis``
    (:class:`WignerEckartBasis`, or :class:`RestrictedWignerEckartBasis` with ``sg_id=...``),
    instantiated for every pair of irreps of ``in_repr`` and ``out_repr`` (``kwargs`` are passed to
    it). ``sample(points)`` returns (N, dim, out_repr.size, in_repr.size).

    >>> import torch
    >>> from steerable.group import o2_group
    >>> from steerable.kernels import (CircularShellsBasis, GaussianRadialProfile,
    ...                                SteerableKernelBasis, WignerEckartBasis)
    >>> G = o2_group(4)
    >>> X = CircularShellsBasis(3, GaussianRadialProfile([0., 1.], 0.6))
    >>> rho = G.irrep(0, 0) + G.irrep(1, 1)
    >>> b = SteerableKernelBasis(X, rho, rho, WignerEckartBasis)
    >>> len(b), tuple(b.sample(torch.randn(5, 2)).shape)
    (10, (5, 10, 3, 3))
    """

    A_inv: torch.Tensor | None  # buffer, or None when in_repr's change of basis is the identity
    B: torch.Tensor | None  # buffer, or None when out_repr's change of basis is the identity
    __signature__: inspect.Signature  # set on the class below it (hides the dispatching __new__)

    def __new__(cls, *args, **kwargs):
        first = args[0] if args else kwargs.get("gspace", kwargs.get("basis"))
        if _is_gspace(first):
            from ._basis import SteerableKernelBasis as _GSpaceKernelBasis

            return _GSpaceKernelBasis(*args, **kwargs)
        return super().__new__(cls)

    def __init__(
        self,
        basis: SteerableFiltersBasis,
        in_repr: Representation,
        out_repr: Representation,
        irreps_basis: type[IrrepBasis],
        **kwargs,
    ):
        if not isinstance(basis, SteerableFiltersBasis):
            raise TypeError(f"basis: expected a SteerableFiltersBasis, got {type(basis).__name__}")
        for name, r in (("in_repr", in_repr), ("out_repr", out_repr)):
            if not isinstance(r, Representation):
                raise TypeError(f"{name}: expected a Representation, got {type(r).__name__}")
        if in_repr.group != out_repr.group:
            raise ValueError(
                f"in_repr, out_repr: expected representations of the same group, got "
                f"{in_repr.group.name} and {out_repr.group.name}"
            )
        if not (isinstance(irreps_basis, type) and issubclass(irreps_basis, IrrepBasis)):
            raise TypeError("irreps_basis: expected a subclass of IrrepBasis (e.g. WignerEckartBasis)")
        group = in_repr.group
        irreps_bases = {}
        js_used = set()
        for i_id in dict.fromkeys(in_repr.irreps):
            for o_id in dict.fromkeys(out_repr.irreps):
                try:
                    ib = irreps_basis._generator(basis, i_id, o_id, **kwargs)
                except EmptyBasisException:
                    continue
                if ib.group != group:
                    raise ValueError(
                        f"in_repr: the irreps solver works with {ib.group.name}, the "
                        f"representations are of {group.name}"
                    )
                irreps_bases[(i_id, o_id)] = ib
                js_used.update(ib.js)
        bases: list[list[IrrepBasis | None]] = [[None for _ in out_repr.irreps] for _ in in_repr.irreps]
        dim_h: dict = defaultdict(int)
        dim = 0
        for ii, i_id in enumerate(in_repr.irreps):
            for oo, o_id in enumerate(out_repr.irreps):
                ib = irreps_bases.get((i_id, o_id))
                if ib is not None:
                    bases[ii][oo] = ib
                    dim += ib.dim
                    for j in ib.js:
                        dim_h[j] += ib.dim_harmonic(j)
        super().__init__(dim, (out_repr.size, in_repr.size))
        self.in_repr = in_repr
        self.out_repr = out_repr
        self.group = group
        self.basis = basis
        self._irrep_basis = irreps_basis
        self._irrep__basis_kwargs = kwargs
        self.irreps_bases = irreps_bases
        self.bases = bases
        self._dim_harmonics = dim_h
        self._pair_modules = torch.nn.ModuleDict({f"basis_{k}".replace(".", "_"): v for k, v in irreps_bases.items()})
        a_inv = np.asarray(in_repr.change_of_basis_inv, dtype=np.float64)
        b = np.asarray(out_repr.change_of_basis, dtype=np.float64)
        if np.allclose(a_inv, np.eye(in_repr.size)):
            self.A_inv = None
        else:
            self.register_buffer("A_inv", torch.tensor(a_inv), persistent=False)
        if np.allclose(b, np.eye(out_repr.size)):
            self.B = None
        else:
            self.register_buffer("B", torch.tensor(b), persistent=False)
        self.js = [j for j, _ in basis.js if j in js_used]
        triv = basis.group.trivial_irrep_id
        if triv in self.js:
            self.js.remove(triv)
            self.js = [triv] + self.js
        self.in_sizes = [group.irrep(*i).size for i in in_repr.irreps]
        self.out_sizes = [group.irrep(*o).size for o in out_repr.irreps]
        self._build_dense(a_inv, b)
        self._slices: dict = defaultdict(dict)
        count: dict = defaultdict(int)
        i_pos = 0
        for ii, isz in enumerate(self.in_sizes):
            o_pos = 0
            for oo, osz in enumerate(self.out_sizes):
                ib = bases[ii][oo]
                if ib is not None:
                    for j in ib.js:
                        d = ib.dim_harmonic(j)
                        self._slices[(ii, oo)][j] = (o_pos, o_pos + osz, i_pos, i_pos + isz, count[j], count[j] + d)
                        count[j] += d
                o_pos += osz
            i_pos += isz

    def _build_dense(self, a_inv: np.ndarray, b: np.ndarray) -> None:
        """Precompute, per harmonic j, the dense coefficients W_j (C_j, out, in, dim Y_j) with the
        changes of basis applied, so that sampling is one contraction per harmonic (when they fit
        in ``_DENSE_LIMIT`` numbers; otherwise sampling goes block by block)."""
        O, I = self.shape
        coeffs = {}
        for j in self.js:
            rows: list[tuple[int, int, np.ndarray]] = []
            i_pos = 0
            for ii, isz in enumerate(self.in_sizes):
                o_pos = 0
                for oo, osz in enumerate(self.out_sizes):
                    ib = self.bases[ii][oo]
                    # the Wigner-Eckart solvers keep numpy coefficients; other solvers sample blockwise
                    ib_coeffs: dict[tuple, np.ndarray] = getattr(ib, "_coeffs_np", {})
                    if j in ib_coeffs:
                        rows.append((o_pos, i_pos, ib_coeffs[j]))
                    o_pos += osz
                i_pos += isz
            coeffs[j] = rows
        total = sum(
            sum(c.shape[0] for _, _, c in rows) * O * I * (rows[0][2].shape[-1] if rows else 0)
            for rows in coeffs.values()
        )
        self._dense = total <= _DENSE_LIMIT and all(hasattr(ib, "_coeffs_np") for ib in self.irreps_bases.values())
        if not self._dense:
            return
        for n, j in enumerate(self.js):
            rows = coeffs[j]
            C = sum(c.shape[0] for _, _, c in rows)
            w = np.zeros((C, O, I, rows[0][2].shape[-1]))
            p = 0
            for o_pos, i_pos, c in rows:
                w[p : p + c.shape[0], o_pos : o_pos + c.shape[1], i_pos : i_pos + c.shape[2]] = c
                p += c.shape[0]
            if self.B is not None:
                w = np.einsum("no,coiy->cniy", b, w)
            if self.A_inv is not None:
                w = np.einsum("coiy,ij->cojy", w, a_inv)
            self.register_buffer(f"_W_{n}", torch.tensor(w), persistent=False)

    def dim_harmonic(self, j: tuple) -> int:
        """Number of elements built from the filters-basis harmonic ``j``."""
        return self._dim_harmonics.get(j, 0)

    def compute_harmonics(self, points: torch.Tensor) -> dict[tuple, torch.Tensor]:
        """The filters basis sampled on ``points``, by harmonic (``basis.sample_as_dict``)."""
        return self.basis.sample_as_dict(points)

    def sample(self, points: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """The basis on ``points`` (N, d): a tensor (N, dim, out_repr.size, in_repr.size)."""
        points = _as_points(points, self.basis.dimensionality)
        parts = self.sample_harmonics(self.compute_harmonics(points))
        res = torch.cat([parts[j] for j in self.js], dim=1)
        return _write_out(res, out)

    def sample_harmonics(
        self, points: dict[tuple, torch.Tensor], out: dict[tuple, torch.Tensor] | None = None
    ) -> dict[tuple, torch.Tensor]:
        """From the sampled filters basis ``{j: (N, m_j, dim ψ_j)}`` to
        ``{j: (N, dim_harmonic(j), out_repr.size, in_repr.size)}``."""
        ref = next(iter(points.values()))
        S, dt, dev = ref.shape[0], ref.dtype, ref.device
        O, I = self.shape
        cache: dict = {}
        res = {}
        for n, j in enumerate(self.js):
            if self._dense:
                w = getattr(self, f"_W_{n}").to(device=dev, dtype=dt)
                res[j] = torch.einsum("coiy,smy->scmoi", w, points[j]).reshape(S, -1, O, I)
                continue
            full = torch.zeros((S, self.dim_harmonic(j), O, I), dtype=dt, device=dev)
            for (ii, oo), sl in self._slices.items():
                if j not in sl:
                    continue
                ib = self.bases[ii][oo]
                assert ib is not None  # _slices only lists the pairs that have a basis
                key = (self.in_repr.irreps[ii], self.out_repr.irreps[oo])
                if key not in cache:
                    cache[key] = ib.sample_harmonics(points)
                o_s, o_e, i_s, i_e, b_s, b_e = sl[j]
                full[:, b_s:b_e, o_s:o_e, i_s:i_e] = cache[key][j]
            if self.B is not None:
                full = torch.einsum("no,pboi->pbni", self.B.to(device=dev, dtype=dt), full)
            if self.A_inv is not None:
                full = torch.einsum("pboi,ij->pboj", full, self.A_inv.to(device=dev, dtype=dt))
            res[j] = full
        if out is None:
            return res
        for j in self.js:
            if j in out:
                out[j].copy_(res[j])
        return out

    def _structure_context(self):
        def inner_of(attr: dict) -> int:
            ib = self.bases[attr["in_irrep_idx"]][attr["out_irrep_idx"]]
            assert ib is not None  # every element comes from a pair that has a basis
            return ib._inner_of(dict(attr, idx=attr["irreps_basis_idx"]))

        return self.group, list(self.in_repr.irreps), list(self.out_repr.irreps), inner_of

    def _pair_attr(self, attr: dict, ib: IrrepBasis, ii: int, oo: int, j, j_idx: int, idx: int) -> dict:
        attr = dict(attr)
        attr["shape"] = ib.shape
        attr["irreps_basis_idx"] = attr["idx"]
        attr["idx"] = idx
        attr["j"] = j
        attr["j_idx"] = j_idx
        attr["in_irrep"] = self.in_repr.irreps[ii]
        attr["out_irrep"] = self.out_repr.irreps[oo]
        attr["in_irrep_idx"] = ii
        attr["out_irrep_idx"] = oo
        return attr

    def __getitem__(self, idx):
        idx = self._check_idx(idx)
        j_idx = idx
        for j in self.js:
            d = self.dim_harmonic(j)
            if j_idx < d:
                break
            j_idx -= d
        count = 0
        for ii in range(len(self.in_sizes)):
            for oo in range(len(self.out_sizes)):
                ib = self.bases[ii][oo]
                if ib is None:
                    continue
                d = ib.dim_harmonic(j)
                if count <= j_idx < count + d:
                    return self._pair_attr(ib.attrs_j(j, j_idx - count), ib, ii, oo, j, j_idx, idx)
                count += d
        raise IndexError(idx)  # pragma: no cover

    def __iter__(self):
        idx = 0
        for j in self.js:
            j_idx = 0
            for ii in range(len(self.in_sizes)):
                for oo in range(len(self.out_sizes)):
                    ib = self.bases[ii][oo]
                    if ib is None:
                        continue
                    for attr in ib.attrs_j_iter(j):
                        yield self._pair_attr(attr, ib, ii, oo, j, j_idx, idx)
                        idx += 1
                        j_idx += 1

    def __eq__(self, other):
        if not isinstance(other, SteerableKernelBasis):
            return False
        if self.basis != other.basis or self.in_repr != other.in_repr or self.out_repr != other.out_repr:
            return False
        if set(self.irreps_bases) != set(other.irreps_bases):
            return False
        return all(b == other.irreps_bases[k] for k, b in self.irreps_bases.items())

    def __hash__(self):
        return hash((self.in_repr, self.out_repr, self.basis))


def _public_signature(cls):
    """``inspect.signature(cls)`` shows ``__init__``'s parameters (not the dispatching ``__new__``)."""
    sig = inspect.signature(cls.__init__)
    return sig.replace(parameters=list(sig.parameters.values())[1:])


SteerableKernelBasis.__signature__ = _public_signature(SteerableKernelBasis)
