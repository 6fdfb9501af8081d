"""The structure of a kernel basis as data: one entry per basis element (per learnable weight).

Every basis of equivariant maps is a list of elements; each element maps one irrep copy of the
input to one irrep copy of the output (one Wigner–Eckart block), built from one harmonic on one
ring with one intertwiner. :class:`BasisStructure` holds those facts as equal-length torch
tensors, plus the layout of the blocks in the expanded filter, so research code can re-weight,
mask or measure weights with tensor ops only (``w * (s.frequency <= 2)``,
``s.block_norms(w)``), with no loop over attribute dictionaries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["BasisStructure"]

_INT_FIELDS = (
    "in_field",
    "out_field",
    "in_irrep",
    "out_irrep",
    "in_irrep_idx",
    "out_irrep_idx",
    "harmonic",
    "frequency",
    "ring",
    "inner",
    "block",
)
_FLOAT_FIELDS = ("radius", "sigma")
_BLOCK_FIELDS = (
    "block_out_field",
    "block_in_field",
    "block_out_irrep",
    "block_in_irrep",
    "block_out_irrep_idx",
    "block_in_irrep_idx",
    "block_rows",
    "block_cols",
)


@dataclass(frozen=True, eq=False)
class BasisStructure:
    """Per-weight and per-block tensors describing a basis of equivariant kernels (or linear maps).

    Per weight (length ``len(s)``, the basis dimension; int64 unless noted):

    - ``in_field`` / ``out_field``: the input / output field (index into the FieldTypes; 0 for a
      basis between two representations);
    - ``in_irrep`` / ``out_irrep``: the irreps the element maps between, as codes into
      :attr:`irreps` (ids) and :attr:`irrep_names`; ``-1`` when the basis does not say;
    - ``in_irrep_idx`` / ``out_irrep_idx``: which copy, the position of the irrep in its field's
      representation (escnn's ``'in_irrep_idx'``); ``-1`` when unknown;
    - ``harmonic``: the harmonic the element is built from (an irrep of O(2) on R^2, of O(3) on
      R^3: ``(flip, j)`` / ``(inversion, l)``), as a code into :attr:`harmonics`; ``-1`` for maps
      without a base space (``Linear``);
    - ``frequency``: that harmonic's order j (l on R^3), escnn's ``'irrep:frequency'``;
    - ``ring`` / ``radius`` (float64) / ``sigma`` (float64): the ring index, its radius and width;
    - ``inner``: the index of the intertwiner (Clebsch–Gordan / endomorphism element) within
      its (harmonic, irreps pair) space;
    - ``block``: the irrep block the weight feeds (index into the per-block tensors).

    Per block (length :attr:`n_blocks`; one per (output irrep copy, input irrep copy) pair that has
    weights, in order of first weight): ``block_out_field``, ``block_in_field``,
    ``block_out_irrep``, ``block_in_irrep``, ``block_out_irrep_idx``, ``block_in_irrep_idx`` and
    ``block_rows`` / ``block_cols`` (n_blocks, 2): the ``[start, stop)`` rows / columns of the
    block in the ``shape = (C_out, C_in)`` filter, in the fields' *irrep basis*
    (``Q_out⁻¹ K Q_in`` with ``Q`` the FieldTypes' ``change_of_basis``; the filter itself when every
    field is a direct sum of irreps). A weight only ever changes its own block there.

    For a convolution with ``groups > 1`` the structure describes one group's weights
    (``conv.weights.view(groups, -1)``). The tensors live on the CPU (``s.to(device)`` moves them).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(8)
    >>> t = nn.FieldType(gs, [gs.regular_repr, gs.irrep(1)])
    >>> conv = nn.R2Conv(t, t, 5)
    >>> s = conv.basisexpansion.structure
    >>> len(s) == conv.weights.numel(), s.block_rows.shape[1]
    (True, 2)
    >>> with torch.no_grad():                       # damp every harmonic of order > 2
    ...     _ = conv.weights.mul_(torch.where(s.frequency > 2, 0.1, 1.0))
    >>> norms = s.block_norms(conv.weights)         # weight norm of every irrep block
    >>> norms.shape == (s.n_blocks,), bool((norms >= 0).all())
    (True, True)
    """

    shape: tuple
    in_field: torch.Tensor
    out_field: torch.Tensor
    in_irrep: torch.Tensor
    out_irrep: torch.Tensor
    in_irrep_idx: torch.Tensor
    out_irrep_idx: torch.Tensor
    harmonic: torch.Tensor
    frequency: torch.Tensor
    ring: torch.Tensor
    radius: torch.Tensor
    sigma: torch.Tensor
    inner: torch.Tensor
    block: torch.Tensor
    block_out_field: torch.Tensor
    block_in_field: torch.Tensor
    block_out_irrep: torch.Tensor
    block_in_irrep: torch.Tensor
    block_out_irrep_idx: torch.Tensor
    block_in_irrep_idx: torch.Tensor
    block_rows: torch.Tensor
    block_cols: torch.Tensor
    irreps: tuple = ()
    irrep_names: tuple = ()
    harmonics: tuple = ()

    def __len__(self) -> int:
        return int(self.block.shape[0])

    @property
    def n_blocks(self) -> int:
        """The number of irrep blocks that have weights."""
        return int(self.block_rows.shape[0])

    def block_weights(self, b: int) -> torch.Tensor:
        """The indices (long) of the weights feeding block ``b``.

        >>> from steerable import gspaces, nn
        >>> gs = gspaces.rot2dOnR2(4)
        >>> t = nn.FieldType(gs, [gs.irrep(1)])
        >>> s = nn.R2Conv(t, t, 3).basisexpansion.structure
        >>> s.block_weights(0).tolist() == list(range(len(s)))  # one irreps pair, one block
        True
        """
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or not 0 <= int(b) < self.n_blocks:
            raise ValueError(f"b: expected a block index in [0, {self.n_blocks}), got {b!r}")
        return (self.block == int(b)).nonzero().reshape(-1)

    def block_norms(self, weights: torch.Tensor) -> torch.Tensor:
        """The Euclidean norm of the weights of every block: weights (..., len(s)) → (..., n_blocks).

        >>> import torch
        >>> from steerable import gspaces, nn
        >>> gs = gspaces.rot2dOnR2(4)
        >>> t = nn.FieldType(gs, [gs.irrep(1)])
        >>> s = nn.R2Conv(t, t, 3).basisexpansion.structure
        >>> w = torch.ones(len(s))
        >>> bool(torch.allclose(s.block_norms(w) ** 2, torch.tensor([float(len(s))])))
        True
        """
        if not isinstance(weights, torch.Tensor):
            raise TypeError(f"weights: expected a tensor (..., {len(self)}), got {type(weights).__name__}")
        if weights.dim() == 0 or weights.shape[-1] != len(self):
            raise ValueError(f"weights: expected a last axis of {len(self)} entries, got shape {tuple(weights.shape)}")
        sq = weights.reshape(-1, len(self)) ** 2
        out = sq.new_zeros(sq.shape[0], self.n_blocks).index_add_(1, self.block.to(sq.device), sq)
        return out.sqrt().reshape(*weights.shape[:-1], self.n_blocks)

    def to(self, device) -> BasisStructure:
        """A copy with every tensor on ``device``."""
        kw: dict = {}
        for name in self.__dataclass_fields__:
            v = getattr(self, name)
            kw[name] = v.to(device) if isinstance(v, torch.Tensor) else v
        return BasisStructure(**kw)

    def __repr__(self) -> str:
        return (
            f"BasisStructure(weights={len(self)}, blocks={self.n_blocks}, shape={self.shape}, "
            f"irreps={len(self.irreps)}, harmonics={len(self.harmonics)})"
        )

    @staticmethod
    def cat(parts: Sequence[BasisStructure]) -> BasisStructure:
        """The structures of bases placed one after the other (same ``shape``): codes re-mapped
        to a common table, blocks merged.

        >>> import torch
        >>> from steerable.group import cyclic_group
        >>> from steerable.kernels import BasisStructure, kernels_CN_act_R2
        >>> G = cyclic_group(4)
        >>> b = kernels_CN_act_R2(G.irrep(1), G.irrep(1), [0., 1.], 0.6, maximum_frequency=2)
        >>> s = BasisStructure.cat([b.structure, b.structure])
        >>> len(s) == 2 * len(b), s.n_blocks
        (True, 1)
        """
        parts = list(parts)
        if not parts or not all(_is_structure(p) for p in parts):
            raise TypeError("parts: expected a non-empty sequence of BasisStructure")
        if any(p.shape != parts[0].shape for p in parts):
            raise ValueError(f"parts: every structure must have the same shape, got {[p.shape for p in parts]}")
        b = StructureBuilder(parts[0].shape)
        zero = np.zeros((1, 3), dtype=np.int64)
        for p in parts:
            b.add(zero, zero, p)
        return b.build()


def _is_structure(obj) -> bool:
    """A BasisStructure (by its fields, so copies of this module loaded twice agree)."""
    return all(hasattr(obj, k) for k in _INT_FIELDS + _FLOAT_FIELDS + _BLOCK_FIELDS)


class StructureBuilder:
    """Assembles a :class:`BasisStructure` from pieces: ``add(out_units, in_units, local)`` places
    the elements of a local structure ``local`` (of one block of units) at every pair of units, in
    the weight order (out unit, in unit, element). A unit is ``(field, irrep index offset, row /
    column offset)``; the local structure's fields are ignored, its irrep indices and block rows /
    columns are shifted by the unit's offsets."""

    def __init__(self, shape: tuple, names: dict | None = None):
        self.shape = (int(shape[0]), int(shape[1]))
        self._irreps: dict = {}
        self._names: dict = dict(names or {})
        self._harm: dict = {}
        self._parts: list = []

    def irrep_code(self, irrep_id, name: str | None = None) -> int:
        if irrep_id is None:
            return -1
        irrep_id = tuple(irrep_id) if isinstance(irrep_id, (tuple, list)) else irrep_id
        if name is not None:
            self._names.setdefault(irrep_id, name)
        return self._irreps.setdefault(irrep_id, len(self._irreps))

    def harmonic_code(self, harmonic_id) -> int:
        if harmonic_id is None:
            return -1
        harmonic_id = tuple(harmonic_id) if isinstance(harmonic_id, (tuple, list)) else harmonic_id
        return self._harm.setdefault(harmonic_id, len(self._harm))

    def add(self, out_units, in_units, local: BasisStructure, keep=None) -> None:
        """Place ``local``'s elements (those where the boolean mask ``keep`` is set, if given)
        at every (out unit, in unit) pair."""
        out_units = np.asarray(out_units, dtype=np.int64).reshape(-1, 3)
        in_units = np.asarray(in_units, dtype=np.int64).reshape(-1, 3)
        el = {k: getattr(local, k).numpy() for k in _INT_FIELDS + _FLOAT_FIELDS}
        if keep is not None:
            keep = np.asarray(keep, dtype=bool).reshape(-1)
            el = {k: v[keep] for k, v in el.items()}
        n = len(el["block"])
        if n == 0 or not len(out_units) or not len(in_units):
            return
        for ident, name in zip(local.irreps, local.irrep_names):
            self._names.setdefault(ident, name)
        irr = np.array([self.irrep_code(i) for i in local.irreps] + [-1], dtype=np.int64)
        har = np.array([self.harmonic_code(h) for h in local.harmonics] + [-1], dtype=np.int64)
        rows = local.block_rows.numpy()[el["block"]]
        cols = local.block_cols.numpy()[el["block"]]
        no, ni = len(out_units), len(in_units)

        def grid(v, axis):  # broadcast a per-(o), per-(i) or per-element array to (no, ni, n)
            shape = [1, 1, 1]
            shape[axis] = -1
            return np.broadcast_to(np.asarray(v).reshape(shape), (no, ni, n)).reshape(-1)

        def shifted(base, idx):
            return np.where(idx >= 0, base + idx, -1)

        part = {
            "out_field": grid(out_units[:, 0], 0),
            "in_field": grid(in_units[:, 0], 1),
            "out_irrep": grid(irr[el["out_irrep"]], 2),
            "in_irrep": grid(irr[el["in_irrep"]], 2),
            "out_irrep_idx": shifted(grid(out_units[:, 1], 0), grid(el["out_irrep_idx"], 2)),
            "in_irrep_idx": shifted(grid(in_units[:, 1], 1), grid(el["in_irrep_idx"], 2)),
            "harmonic": grid(har[el["harmonic"]], 2),
            "frequency": grid(el["frequency"], 2),
            "ring": grid(el["ring"], 2),
            "inner": grid(el["inner"], 2),
            "radius": grid(el["radius"], 2),
            "sigma": grid(el["sigma"], 2),
            "row0": grid(out_units[:, 2], 0) + grid(rows[:, 0], 2),
            "row1": grid(out_units[:, 2], 0) + grid(rows[:, 1], 2),
            "col0": grid(in_units[:, 2], 1) + grid(cols[:, 0], 2),
            "col1": grid(in_units[:, 2], 1) + grid(cols[:, 1], 2),
        }
        self._parts.append(part)

    def add_elements(
        self, elements: Iterable[dict], out_irreps: Sequence | None = None, in_irreps: Sequence | None = None
    ) -> None:
        """Add elements given one dict each (keys of :class:`BasisStructure`'s per-weight tensors,
        with irrep / harmonic *ids*, plus ``rows`` / ``cols`` = (start, stop)), in order."""
        cols: dict[str, list] = {k: [] for k in _INT_FIELDS + _FLOAT_FIELDS if k != "block"}
        rc: dict[str, list] = {"row0": [], "row1": [], "col0": [], "col1": []}
        for e in elements:
            for k in cols:
                v = e.get(k)
                if k in ("in_irrep", "out_irrep"):
                    v = self.irrep_code(v)
                elif k == "harmonic":
                    v = self.harmonic_code(v)
                elif v is None:
                    v = -1 if k in ("in_irrep_idx", "out_irrep_idx") else 0
                cols[k].append(v)
            (r0, r1), (c0, c1) = e["rows"], e["cols"]
            for key, v in (("row0", r0), ("row1", r1), ("col0", c0), ("col1", c1)):
                rc[key].append(v)
        if not rc["row0"]:
            return
        part = {k: np.asarray(v, dtype=np.float64 if k in _FLOAT_FIELDS else np.int64) for k, v in cols.items()}
        part.update({k: np.asarray(v, dtype=np.int64) for k, v in rc.items()})
        self._parts.append(part)

    def build(self) -> BasisStructure:
        keys = [k for k in _INT_FIELDS + _FLOAT_FIELDS if k != "block"] + ["row0", "row1", "col0", "col1"]
        if self._parts:
            cat = {k: np.concatenate([p[k] for p in self._parts]) for k in keys}
        else:
            cat = {k: np.zeros(0, dtype=np.float64 if k in _FLOAT_FIELDS else np.int64) for k in keys}
        corners = np.stack([cat["row0"], cat["row1"], cat["col0"], cat["col1"]], 1)
        if len(corners):
            uniq, first, inverse = np.unique(corners, axis=0, return_index=True, return_inverse=True)
            order = np.argsort(first, kind="stable")  # blocks in order of their first weight
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            block = rank[inverse.reshape(-1)]
            firsts = first[order]
        else:
            block = firsts = np.zeros(0, dtype=np.int64)
            uniq = np.zeros((0, 4), dtype=np.int64)
            order = np.zeros(0, dtype=np.int64)
        ul = uniq[order] if len(uniq) else uniq

        def t(v, dt=torch.int64):
            return torch.as_tensor(np.ascontiguousarray(v), dtype=dt)

        irreps = tuple(self._irreps)
        return BasisStructure(
            shape=self.shape,
            **{k: t(cat[k]) for k in _INT_FIELDS if k != "block"},
            **{k: t(cat[k], torch.float64) for k in _FLOAT_FIELDS},
            block=t(block),
            block_out_field=t(cat["out_field"][firsts]),
            block_in_field=t(cat["in_field"][firsts]),
            block_out_irrep=t(cat["out_irrep"][firsts]),
            block_in_irrep=t(cat["in_irrep"][firsts]),
            block_out_irrep_idx=t(cat["out_irrep_idx"][firsts]),
            block_in_irrep_idx=t(cat["in_irrep_idx"][firsts]),
            block_rows=t(ul[:, 0:2].reshape(-1, 2)),
            block_cols=t(ul[:, 2:4].reshape(-1, 2)),
            irreps=irreps,
            irrep_names=tuple(self._names.get(i, str(i)) for i in irreps),
            harmonics=tuple(self._harm),
        )


def irrep_offsets(group, irreps: Sequence) -> np.ndarray:
    """Channel offsets of the irreps ``irreps`` (ids) laid one after the other (length + 1)."""
    return np.cumsum([0] + [group.irrep(*i).size for i in irreps]).astype(np.int64)


def structure_from_attributes(
    attrs: Sequence[dict],
    shape: tuple,
    group=None,
    in_irreps: Sequence | None = None,
    out_irreps: Sequence | None = None,
    rings: Sequence[float] | None = None,
    inner_of=None,
) -> BasisStructure:
    """The structure of a basis known only by its elements' attribute dicts (escnn's keys:
    ``'in_irrep'``, ``'out_irrep'``, ``'in_irrep_idx'``, ``'out_irrep_idx'`` (or steerable's
    ``'in_offset'``/``'out_offset'``), ``'j'``, ``'irrep:frequency'``, ``'radial_idx'``,
    ``'radius'``, ``'sigma'``, ``'inner'``). ``in_irreps`` / ``out_irreps`` (the irreps of the
    representations, in order) and ``group`` locate the blocks; without them (or without irreps
    in the attributes) an element's block is the whole ``shape``; with a single irrep on a side,
    elements without that side's irrep keys map that irrep. ``inner_of(attr)``, if given, gives
    the intertwiner index (default ``attr.get('inner', 0)``).

    >>> from steerable.kernels._structure import structure_from_attributes
    >>> s = structure_from_attributes([{"radius": 1.0, "irrep:frequency": 2, "j": (1, 2)}], (2, 2))
    >>> s.frequency.tolist(), s.harmonics, s.block_rows.tolist()
    ([2], ((1, 2),), [[0, 2]])
    """
    b = StructureBuilder(shape)
    oo = irrep_offsets(group, out_irreps) if group is not None and out_irreps is not None else None
    oi = irrep_offsets(group, in_irreps) if group is not None and in_irreps is not None else None
    els = []
    for a in attrs:
        e = {
            "harmonic": a.get("j", a.get("harmonic")),
            "frequency": int(a.get("irrep:frequency", a.get("frequency", 0))),
            "radius": float(a.get("radius", 0.0)),
            "sigma": float(a.get("sigma", 0.0)),
            "inner": int(inner_of(a) if inner_of is not None else a.get("inner", 0)),
            "in_field": 0,
            "out_field": 0,
        }
        r = a.get("radial_idx")
        if r is None and rings is not None:
            r = next((k for k, x in enumerate(rings) if x == e["radius"]), 0)
        e["ring"] = int(r or 0)
        for side, offs, size, irreps in (("out", oo, shape[0], out_irreps), ("in", oi, shape[1], in_irreps)):
            ident = a.get(f"{side}_irrep")
            idx = a.get(f"{side}_irrep_idx")
            if ident is None and idx is None and irreps is not None and len(irreps) == 1:
                ident, idx = irreps[0], 0
            if idx is None and offs is not None and a.get(f"{side}_offset") is not None:
                hit = np.nonzero(offs[:-1] == int(a[f"{side}_offset"]))[0]
                idx = int(hit[0]) if len(hit) else None
            if ident is not None and group is not None:
                ident = tuple(ident)
                b.irrep_code(ident, group.irrep(*ident).name)
            e[f"{side}_irrep"] = ident
            e[f"{side}_irrep_idx"] = idx
            if idx is not None and offs is not None:
                span = (int(offs[idx]), int(offs[idx + 1]))
            else:
                span = (0, int(size))
            e["rows" if side == "out" else "cols"] = span
        els.append(e)
    b.add_elements(els)
    return b.build()
