"""BlockBasisExpansion: learnable weights → a dense equivariant filter, in a few batched ops.

The filter between field types is assembled in the *irrep basis* (the concatenation of each
field's irreps), where it is block sparse: the block between an output irrep slot ψ_o and an
input slot ψ_i is a combination of the (small) basis of ψ_i → ψ_o kernels. Per irreps-pair
*type* (not per field pair) one einsum builds all its blocks; one ``index_put`` places them; the
fields' changes of basis are then applied per field representation (one einsum per distinct
representation). Bases are non-persistent buffers, so the state_dict holds only weights.

Grid expansions (not ``recompute``) whose fields change basis use the *folded* path when it is
cheap enough: per pair of distinct field representations a dense basis already in the fields' own
bases (changes of basis applied in float64 at construction), so the filter of all the fields of
that pair is one GEMM, one permute into (C_out, C_in, S), and — unless that pair is the whole
filter — one ``index_copy``. Same weights, same filter (to float rounding).
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Iterator
from functools import partial
from typing import NamedTuple

import numpy as np
import torch

from steerable.kernels import IrrepsPairBasis

from .._constants import ExactConstants
from .._field_type import FieldType


class BlockBasisExpansion(ExactConstants, torch.nn.Module):
    """Maps weights (…, dimension) to filters (…, C_out, C_in, N) sampled at ``points``.

    ``attributes`` describes every weight (the irreps pair, the output/input slots and the basis
    element it multiplies: radius, harmonic frequency, intertwiner index).
    """

    _gather: torch.Tensor
    _place: torch.Tensor
    _dense_perm: torch.Tensor
    _dense_place: torch.Tensor
    # the folded plan: ([(basis name, n out fields, n in fields, D, d_out, d_in)], identity perm, direct)
    _dense: tuple[list[tuple[str, int, int, int, int, int]], bool, bool] | None

    def __init__(
        self,
        in_type: FieldType,
        out_type: FieldType,
        points: np.ndarray,
        rings,
        sigmas,
        cutoff,
        maximum_offset=None,
        basis_filter=None,
        dtype: torch.dtype | None = None,
        recompute: bool = False,
        drop_vanishing: bool = False,
        pair_basis=None,
    ):
        super().__init__()
        self._in_reprs = list(in_type.representations)
        self._out_reprs = list(out_type.representations)
        self._input_size, self._output_size = in_type.size, out_type.size
        self.points = np.asarray(points, dtype=np.float64)
        self.S = int(self.points.shape[0])
        # escnn's bookkeeping by representation name (the weights themselves are laid out per irreps pair)
        self._in_count = dict(Counter(r.name for r in self._in_reprs))
        self._out_count = dict(Counter(r.name for r in self._out_reprs))
        self._n_pairs = len(set(self._in_reprs)) * len(set(self._out_reprs))
        self.recompute = bool(recompute)
        # kept so that a basis between other fields can be built the same way (partial equivariance)
        self._drop_vanishing, self._pair_basis = bool(drop_vanishing), pair_basis
        self._points = np.asarray(points, dtype=np.float64)
        self._pair_bases: dict = {}
        self._dense_specs: dict = {}  # folded bases: name -> (out repr, in repr, irreps pairs, D)
        dtype = dtype or torch.get_default_dtype()
        gs = in_type.gspace
        G = gs.fibergroup
        self.in_size, self.out_size = in_type.size, out_type.size
        self.n_points = int(np.asarray(points).shape[0])
        out_slots = _slots(out_type)
        in_slots = _slots(in_type)
        pair_cache: dict = {}
        self._types: list = []  # (name, n_o, n_i, nb, do, di)
        self._type_ids: list = []  # (in irrep id, out irrep id) per type
        self._type_radii: list = []  # radius of each basis element per type
        self._type_slots: list = []  # (out slots, in slots) per type
        rows_all, cols_all = [], []
        offset = 0
        out_ids = list(OrderedDict.fromkeys(s[1] for s in out_slots))
        in_ids = list(OrderedDict.fromkeys(s[1] for s in in_slots))
        for oid in out_ids:
            o_slots = [s for s in out_slots if s[1] == oid]
            for iid in in_ids:
                i_slots = [s for s in in_slots if s[1] == iid]
                key = (iid, oid)
                if key not in pair_cache:
                    if pair_basis is not None:
                        pb = pair_basis(iid, oid)
                    else:
                        pb = IrrepsPairBasis(gs, iid, oid, rings, sigmas, cutoff, maximum_offset, basis_filter)
                    if drop_vanishing:
                        pb = pb.nonvanishing(self._points)
                    pair_cache[key] = pb
                pb = pair_cache[key]
                nb = len(pb)
                if nb == 0:
                    continue
                do, di = G.irrep(*oid).size, G.irrep(*iid).size
                name = f"basis_{len(self._types)}"
                self._pair_bases[name] = pb
                if not self.recompute:  # recompute: sampled at every forward, no basis in memory
                    # (nb, do, di, N), re-sampled in float64 whenever the dtype changes
                    self.register_constant(name, partial(pb.sample, self._points), dtype)
                rows = np.concatenate([np.arange(sl[2], sl[2] + do) for sl in o_slots])
                cols = np.concatenate([np.arange(sl[2], sl[2] + di) for sl in i_slots])
                rows_all.append(np.repeat(rows, len(cols)))
                cols_all.append(np.tile(cols, len(rows)))
                self._types.append((name, len(o_slots), len(i_slots), nb, do, di))
                self._type_ids.append((iid, oid))
                self._type_radii.append([e.radius for e in pb.elements])
                self._type_slots.append((o_slots, i_slots))
                offset += len(o_slots) * len(i_slots) * nb
        self._dim = offset
        # blocks come out type by type in (o-slot, i-slot, p, q) order; the filter gathers from them,
        # entries outside every block pointing at a trailing zero
        n_vals = sum(len(rw) for rw in rows_all)
        gather = np.full(self.out_size * self.in_size, n_vals, dtype=np.int64)
        if rows_all:
            r = np.concatenate([_block_order(rw, t) for rw, t in zip(rows_all, self._types)])
            c = np.concatenate([_block_order(cl, t) for cl, t in zip(cols_all, self._types)])
            gather[r * self.in_size + c] = np.arange(n_vals)
        else:
            r = c = np.zeros(0, dtype=np.int64)
        self.register_buffer("_gather", torch.as_tensor(gather), persistent=False)
        # the inverse map (where each block entry goes): placing by index_copy, whose backward is a gather
        self.register_buffer("_place", torch.as_tensor(r * self.in_size + c), persistent=False)
        # changes of basis, one group per distinct non-identity field representation
        self._out_cob = self._register_cob(out_type, "qout", dtype, inverse=False)
        self._in_cob = self._register_cob(in_type, "qin", dtype, inverse=True)
        self._dense = None if self.recompute else self._build_dense(in_type, out_type, in_slots, out_slots, dtype)

    def _build_dense(self, in_type: FieldType, out_type: FieldType, in_slots, out_slots, dtype):
        """The folded plan: per pair of distinct field representations, one dense basis
        (D, d_out, d_in, S) already in the representations' own bases (changes of basis applied in
        float64), so that the filter of all the fields of that pair is one GEMM. Returns None (the
        block path is used) when a folded basis would be too large or cost much more than blocks."""
        G = in_type.gspace.fibergroup
        S = self.S
        slot_index: dict = {}  # (out?, field, k within field) -> index among the slots of its irrep
        for tag, slots in (("o", out_slots), ("i", in_slots)):
            seen: Counter = Counter()
            for f, iid, _c, _pos, k in slots:
                slot_index[(tag, f, k)] = seen[iid]
                seen[iid] += 1
        types = {}  # (iid, oid) -> (weight offset, n_o, n_i, nb, basis name)
        p = 0
        for (name, n_o, n_i, nb, _do, _di), ids in zip(self._types, self._type_ids):
            types[ids] = (p, n_o, n_i, nb, name)
            p += n_o * n_i * nb
        ins = list(OrderedDict.fromkeys(self._in_reprs))
        outs = list(OrderedDict.fromkeys(self._out_reprs))
        plan: list[tuple[str, int, int, int, int, int]] = []
        perm_parts: list[np.ndarray] = []
        blocks: list[np.ndarray] = []
        dense_cost, block_cost = 0, 0
        for ro in outs:
            o_fields = [f for f, r in enumerate(self._out_reprs) if r == ro]
            for ri in ins:
                i_fields = [f for f, r in enumerate(self._in_reprs) if r == ri]
                local = []  # (type key, k_o, k_i, channel offset in ro, in ri)
                co_ = 0
                for k_o, oid in enumerate(ro.irreps):
                    ci_ = 0
                    for k_i, iid in enumerate(ri.irreps):
                        if (iid, oid) in types:
                            local.append(((iid, oid), k_o, k_i, co_, ci_))
                        ci_ += G.irrep(*iid).size
                    co_ += G.irrep(*oid).size
                D = sum(types[t][3] for t, *_ in local)
                if D == 0:
                    continue
                nfo, nfi = len(o_fields), len(i_fields)
                if D * ro.size * ri.size * S > _DENSE_MAX_ELEMENTS:
                    self._dense_specs.clear()
                    return None
                dense_cost += nfo * nfi * D * ro.size * ri.size
                block_cost += (
                    nfo
                    * nfi
                    * (
                        sum(types[t][3] * G.irrep(*t[1]).size * G.irrep(*t[0]).size for t, *_ in local)
                        + ro.size * ri.size * (ro.size + ri.size)
                    )
                )
                idx = np.empty((nfo, nfi, D), dtype=np.int64)
                for x, fo in enumerate(o_fields):
                    for y, fi in enumerate(i_fields):
                        d = 0
                        for t, k_o, k_i, _c, _ci in local:
                            p0, n_o, n_i, nb, _name = types[t]
                            io, ii = slot_index[("o", fo, k_o)], slot_index[("i", fi, k_i)]
                            start = p0 + (io * n_i + ii) * nb
                            idx[x, y, d : d + nb] = np.arange(start, start + nb)
                            d += nb
                perm_parts.append(idx.reshape(-1))
                name = f"dense_{len(plan)}"
                self._dense_specs[name] = (ro, ri, local, D)
                plan.append((name, nfo, nfi, D, ro.size, ri.size))
                rows = np.concatenate([np.arange(out_type.fields_start[f], out_type.fields_end[f]) for f in o_fields])
                cols = np.concatenate([np.arange(in_type.fields_start[f], in_type.fields_end[f]) for f in i_fields])
                blocks.append((rows[:, None] * self.in_size + cols[None, :]).reshape(-1))
        self._dense_cost_ratio = dense_cost / max(block_cost, 1)
        if dense_cost > _DENSE_MAX_COST_RATIO * block_cost or not (self._out_cob or self._in_cob):
            self._dense_specs.clear()
            return None
        for name, *_rest in plan:
            self.register_constant(name, partial(self._dense_source, name), dtype)
        perm = np.concatenate(perm_parts) if perm_parts else np.zeros(0, dtype=np.int64)
        if not np.array_equal(np.sort(perm), np.arange(self._dim)):  # pragma: no cover - internal invariant
            raise RuntimeError("BlockBasisExpansion: the folded plan does not cover every weight once")
        identity = bool(np.array_equal(perm, np.arange(self._dim)))
        self.register_buffer("_dense_perm", torch.as_tensor(perm), persistent=False)
        place = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.int64)
        # one block covering the whole filter in order: no placement at all
        direct = len(plan) == 1 and np.array_equal(place, np.arange(self.out_size * self.in_size))
        self.register_buffer("_dense_place", torch.as_tensor(place), persistent=False)
        return plan, identity, direct

    def _dense_source(self, name: str) -> np.ndarray:
        """The float64 folded basis (D, d_out, d_in, S) of one pair of field representations:
        Q_out[:, slot] · B · Q_in^{-1}[slot, :] for every basis element B of every irreps pair."""
        ro, ri, local, D = self._dense_specs[name]
        qo = np.asarray(ro.change_of_basis, dtype=np.float64)
        qi = np.asarray(ri.change_of_basis_inv, dtype=np.float64)
        names = {ids: t[0] for t, ids in zip(self._types, self._type_ids)}
        out = np.empty((D, ro.size, ri.size, self.S))
        d = 0
        samples: dict = {}
        for t, _k_o, _k_i, c_o, c_i in local:
            nm = names[t]
            if nm not in samples:
                samples[nm] = np.asarray(self._pair_bases[nm].sample(self._points), dtype=np.float64)
            b = samples[nm]  # (nb, do, di, S)
            nb, do, di = b.shape[:3]
            out[d : d + nb] = np.einsum(
                "ap,npqs,qb->nabs", qo[:, c_o : c_o + do], b, qi[c_i : c_i + di, :], optimize=True
            )
            d += nb
        return out

    def _register_cob(self, ftype: FieldType, prefix: str, dtype, inverse: bool) -> list:
        groups = []
        reps = list(OrderedDict.fromkeys(ftype.representations))
        for k, rep in enumerate(reps):
            if np.allclose(np.asarray(rep.change_of_basis), np.eye(rep.size)):
                continue
            q = np.asarray(rep.change_of_basis_inv if inverse else rep.change_of_basis)
            fields = [f for f, r in enumerate(ftype.representations) if r == rep]
            idx = np.stack([np.arange(ftype.fields_start[f], ftype.fields_end[f]) for f in fields])
            qname, iname = f"{prefix}_{k}", f"{prefix}_{k}_idx"
            self.register_constant(qname, q, dtype)
            self.register_buffer(iname, torch.as_tensor(idx, dtype=torch.long), persistent=False)
            uniform = len(fields) == len(ftype)
            groups.append((qname, iname, uniform, len(fields), rep.size))
        return groups

    # -- escnn's BasisManager interface --------------------------------------------------------
    @property
    def dimension(self) -> _Dimension:
        """The number of weights (an int; ``dimension()`` also works, as in escnn)."""
        return _Dimension(self._dim)

    @property
    def structure(self):
        """Every weight's field, irrep copy, harmonic, ring and intertwiner, and the irrep-block
        layout of the filter, as tensors (:class:`steerable.kernels.BasisStructure`); cached.

        >>> from steerable import gspaces, nn
        >>> gs = gspaces.flipRot2dOnR2(4)
        >>> t = nn.FieldType(gs, [gs.regular_repr])
        >>> be = nn.R2Conv(t, t, 3).basisexpansion
        >>> s = be.structure
        >>> len(s) == be.dimension, [s.irreps[c] for c in s.in_irrep[:2].tolist()]
        (True, [(0, 0), (0, 0)])
        """
        cached = self.__dict__.get("_structure_cache")
        if cached is None:
            from ._layer_structure import block_expansion_structure

            cached = self.__dict__["_structure_cache"] = block_expansion_structure(self)
        return cached

    @property
    def blocks(self) -> list[BasisBlock]:
        """The per-block structure: one :class:`BasisBlock` per irreps-pair type, in weight order
        (per-weight tensors: :attr:`structure`)."""
        out, p = [], 0
        for (name, n_o, n_i, nb, _do, _di), (iid, oid), (os_, is_) in zip(
            self._types, self._type_ids, self._type_slots
        ):
            els = self._pair_bases[name].elements
            n = n_o * n_i * nb
            out.append(
                BasisBlock(
                    name,
                    iid,
                    oid,
                    slice(p, p + n),
                    n_o,
                    n_i,
                    nb,
                    tuple((sl[0], sl[2], sl[3]) for sl in os_),
                    tuple((sl[0], sl[2], sl[3]) for sl in is_),
                    tuple(e.radius for e in els),
                    tuple(e.frequency for e in els),
                )
            )
            p += n
        return out

    def get_basis_info(self) -> Iterator[dict]:
        """The attributes of every weight, in order (escnn's keys: ``'id'``, ``'in_irrep'``,
        ``'out_irrep'``, ``'in_irreps_position'``, ``'out_irreps_position'``, ``'in_irrep_idx'``,
        ``'out_irrep_idx'``, ``'in_field_position'``, ``'out_field_position'``, ``'in_repr'``,
        ``'out_repr'``, ``'radius'``, ``'sigma'``, ``'irrep:frequency'``, ``'j'``, ``'shape'``, plus
        steerable's ``'frequency'``, ``'harmonic'``, ``'inner'``, ``'in_field'``, ``'out_field'``)."""
        idx = 0
        d = self._points.shape[1] if self._points.ndim == 2 else 0
        for (name, _n_o, _n_i, _nb, do, di), (os_, is_) in zip(self._types, self._type_slots):
            pb = self._pair_bases[name]
            base = [_element_attrs(pb, e, do, di, d) for e in pb.elements]
            for so in os_:
                for si in is_:
                    for b, a in enumerate(base):
                        yield dict(
                            a,
                            id=idx,
                            block_id=b,
                            **self._slot_attrs(so, si),
                        )
                        idx += 1

    def _slot_attrs(self, so: tuple, si: tuple) -> dict:
        """The position attributes of a weight between output slot ``so`` and input slot ``si``
        (``(field, ..., irreps position, irrep index)`` tuples of ``_type_slots``)."""
        return dict(
            in_irreps_position=si[3],
            out_irreps_position=so[3],
            in_irrep_idx=si[4],
            out_irrep_idx=so[4],
            in_field_position=si[0],
            out_field_position=so[0],
            in_field=si[0],
            out_field=so[0],
            in_repr=self._in_reprs[si[0]].name,
            out_repr=self._out_reprs[so[0]].name,
        )

    def get_element_info(self, idx: int) -> dict:
        """The attributes of weight ``idx`` (the ``idx``-th item of :meth:`get_basis_info`)."""
        if isinstance(idx, bool) or not isinstance(idx, (int, np.integer)) or not 0 <= int(idx) < self._dim:
            raise IndexError(f"idx: expected 0 <= idx < {self._dim}, got {idx!r}")
        idx = int(idx)
        p = 0
        for (name, n_o, n_i, nb, do, di), (os_, is_) in zip(self._types, self._type_slots):
            n = n_o * n_i * nb
            if idx < p + n:
                o, rest = divmod(idx - p, n_i * nb)
                i, b = divmod(rest, nb)
                pb = self._pair_bases[name]
                so, si = os_[o], is_[i]
                d = self._points.shape[1] if self._points.ndim == 2 else 0
                return dict(
                    _element_attrs(pb, pb.elements[b], do, di, d),
                    id=idx,
                    block_id=b,
                    **self._slot_attrs(so, si),
                )
            p += n
        raise IndexError(idx)

    def get_basis_names(self) -> list[str]:
        """A readable name per weight: ``'(out field, in field)_(out irrep, in irrep)_r<radius>_j<freq>_<k>'``."""
        return [
            f"({a['out_field_position']},{a['in_field_position']})_({a['out_irrep']},{a['in_irrep']})"
            f"_r{a['radius']:g}_j{a['irrep:frequency']}_{a['inner']}"
            for a in self.get_basis_info()
        ]

    @property
    def attributes(self) -> list[dict]:
        """All the weights' attributes as a list (see :meth:`get_basis_info`)."""
        return list(self.get_basis_info())

    def basis_tensor(self, name: str, like: torch.Tensor | None = None) -> torch.Tensor:
        """The sampled basis (nb, d_out, d_in, N) of one irreps-pair type."""
        if self.recompute:
            b = torch.as_tensor(self._pair_bases[name].sample(self._points))
            return b.to(like.dtype if like is not None else torch.get_default_dtype()).to(
                like.device if like is not None else "cpu"
            )
        return getattr(self, name)

    def forward(self, weights: torch.Tensor) -> torch.Tensor:
        """weights (G, dimension) → filters (G, C_out, C_in, N); escnn's call with one weight
        vector (dimension,) gives its layout (C_out, C_in, N)."""
        if not isinstance(weights, torch.Tensor):
            raise TypeError(f"weights: expected a tensor, got {type(weights).__name__}")
        if weights.dim() == 1:
            if weights.shape[0] != self._dim:
                raise ValueError(f"weights: expected {self._dim} entries, got {weights.shape[0]}")
            return self.forward(weights[None])[0]
        if weights.dim() != 2 or weights.shape[1] != self._dim:
            raise ValueError(f"weights: expected shape ({self._dim},) or (G, {self._dim}), got {tuple(weights.shape)}")
        if self._dense is not None:
            return self._assemble_dense(weights, self._dense)
        return self.assemble(weights, lambda name: self.basis_tensor(name, weights), self.n_points)

    def _assemble_dense(
        self, weights: torch.Tensor, dense: tuple[list[tuple[str, int, int, int, int, int]], bool, bool]
    ) -> torch.Tensor:
        """The folded path (``dense``: the plan ``_build_dense`` made): per pair of field
        representations one GEMM in the fields' own bases, one permute into (C_out, C_in, S), and
        (unless one pair covers the filter) one ``index_copy`` placing the blocks (whose backward
        is a gather)."""
        plan, identity, direct = dense
        g, n = weights.shape[0], self.S
        w_all = weights if identity else weights.index_select(1, self._dense_perm)
        vals, p = [], 0
        for name, nfo, nfi, D, do, di in plan:
            basis = getattr(self, name)
            w = w_all[:, p : p + nfo * nfi * D].reshape(g * nfo * nfi, D)
            p += nfo * nfi * D
            k = (w @ basis.reshape(D, do * di * n)).reshape(g, nfo, nfi, do, di, n)
            vals.append(k.permute(0, 1, 3, 2, 4, 5).reshape(g, nfo * do * nfi * di, n))
        if not vals:
            return weights.new_zeros(g, self.out_size, self.in_size, n)
        if direct:
            return vals[0].reshape(g, self.out_size, self.in_size, n)
        src = vals[0] if len(vals) == 1 else torch.cat(vals, 1)
        filt = weights.new_zeros(g, self.out_size * self.in_size, n).index_copy(1, self._dense_place, src)
        return filt.reshape(g, self.out_size, self.in_size, n)

    def assemble(self, weights: torch.Tensor, basis_of, n: int) -> torch.Tensor:
        """The filter assembly shared by every expansion: ``basis_of(name)`` gives each
        irreps-pair type's tensor (nb, d_out, d_in, n) — sampled kernels (n points) or, for point
        convolutions, coefficients on n features. Returns (G, C_out, C_in, n)."""
        g = weights.shape[0]
        co, ci = self.out_size, self.in_size
        blocks = []
        p = 0
        for name, n_o, n_i, nb, do, di in self._types:
            basis = basis_of(name)
            w = weights[:, p : p + n_o * n_i * nb].reshape(g * n_o * n_i, nb)
            p += n_o * n_i * nb
            # one GEMM per irreps-pair type; output already in the gather order (o, i, p, q, n)
            blocks.append((w @ basis.reshape(nb, do * di * n)).reshape(g, n_o * n_i * do * di, n))
        filt = weights.new_zeros(g, co * ci, n)
        if blocks:
            filt = filt.index_copy(1, self._place, blocks[0] if len(blocks) == 1 else torch.cat(blocks, 1))
        filt = filt.reshape(g, co, ci, n)
        for qname, iname, uniform, nf, d in self._out_cob:
            q = getattr(self, qname)  # Q_out K
            if uniform:
                filt = torch.matmul(q, filt.reshape(g, nf, d, ci * n)).reshape(g, co, ci, n)
            else:
                idx = getattr(self, iname).reshape(-1)
                sub = torch.matmul(q, filt.index_select(1, idx).reshape(g, nf, d, ci * n))
                filt = filt.index_copy(1, idx, sub.reshape(g, nf * d, ci, n))
        for qname, iname, uniform, nf, d in self._in_cob:
            qt = getattr(self, qname).transpose(0, 1)  # K Q_in^{-1}, as (Q_in^{-1})^T applied on the left per tap
            if uniform:
                filt = torch.matmul(qt, filt.reshape(g * co * nf, d, n)).reshape(g, co, ci, n)
            else:
                idx = getattr(self, iname).reshape(-1)
                sub = torch.matmul(qt, filt.index_select(2, idx).reshape(g * co * nf, d, n))
                filt = filt.index_copy(2, idx, sub.reshape(g, co, nf * d, n))
        return filt


# the folded path is used when every folded basis has at most this many entries and costs at most
# this many times the block path's multiply-adds (icosahedral regular fields, 60×60 per field pair,
# stay on the block path)
_DENSE_MAX_ELEMENTS = 1 << 23
_DENSE_MAX_COST_RATIO = 6.0


def _element_attrs(pb, e, do: int, di: int, d: int) -> dict:
    from steerable.kernels._basis import escnn_attributes

    ri = next((k for k, r in enumerate(pb.rings) if r == e.radius), 0)
    return escnn_attributes(e, do, di, ri, d)


def _block_order(idx: np.ndarray, t) -> np.ndarray:
    """Reorder a row-major (rows × cols) index list, rows = (o-slot, p), cols = (i-slot, q), to
    the GEMM output order (o-slot, i-slot, p, q)."""
    _, n_o, n_i, _, do, di = t
    grid = idx.reshape(n_o, do, n_i, di)
    return grid.transpose(0, 2, 1, 3).reshape(-1)


def _slots(ftype: FieldType) -> list[tuple[int, tuple, int, int, int]]:
    """(field index, irrep id, channel offset in the irrep basis, position among all the irreps of
    the type, index within its field) for every irrep of every field."""
    G = ftype.gspace.fibergroup
    out = []
    pos = 0
    for f, rep in enumerate(ftype.representations):
        c = int(ftype.fields_start[f])
        for k, i in enumerate(rep.irreps):
            out.append((f, i, c, pos, k))
            c += G.irrep(*i).size
            pos += 1
    return out


class _Dimension(int):
    """The number of weights: an ``int`` that can also be called (escnn's ``dimension()``)."""

    def __call__(self) -> int:
        return int(self)


class BasisBlock(NamedTuple):
    """One irreps-pair type of a :class:`BlockBasisExpansion` (what research code reads to
    re-weight or inspect the Wigner–Eckart blocks).

    ``weights`` is the slice of the weight vector it owns, laid out ``(n_out, n_in, size)``
    (output slot, input slot, basis element); ``out_slots``/``in_slots`` list, for each slot,
    ``(field, channel offset in the irrep basis, irreps position)``; ``radii``/``frequencies``
    describe its ``size`` basis elements.
    """

    name: str
    in_irrep: tuple
    out_irrep: tuple
    weights: slice
    n_out: int
    n_in: int
    size: int
    out_slots: tuple
    in_slots: tuple
    radii: tuple
    frequencies: tuple
