"""RepBasisExpansion: a basis manager built from arbitrary kernel bases, one per pair of field
representations (what a convolution uses when a subclass overrides ``_build_kernel_basis``)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator

import numpy as np
import torch

from steerable.kernels._basis import VANISHING_TOL

from .._constants import ExactConstants
from .._field_type import FieldType
from ._expansion import _block_order, _Dimension

__all__ = ["RepBasisExpansion"]


class RepBasisExpansion(ExactConstants, torch.nn.Module):
    """Samples ``basis_generator(in_repr, out_repr)`` (a kernel basis: ``sample(points (S, d)) →
    (S, dim, out, in)``, ``len()``, attribute dicts by iteration) on ``points`` for every distinct
    pair of field representations (pairs whose generator raises
    :class:`steerable.kernels.EmptyBasisException` get no weights), keeps the elements accepted by
    ``basis_filter(attributes)`` and, with ``drop_vanishing``, those not ~0 on the points. Same
    interface as :class:`BlockBasisExpansion` (``dimension()``, ``get_basis_info()``,
    ``get_element_info(i)``, ``forward(weights)``); the weights of a pair are laid out
    ``(out occurrence, in occurrence, element)``.
    """

    _types: list[tuple[str, int, int, int, int, int]]  # (buffer name, n_out, n_in, n_basis, d_out, d_in)
    _gather: torch.Tensor
    _place: torch.Tensor

    def __init__(
        self,
        in_type: FieldType,
        out_type: FieldType,
        basis_generator: Callable,
        points: np.ndarray,
        basis_filter: Callable[[dict], bool] | None = None,
        drop_vanishing: bool = True,
        recompute: bool = False,
        dtype: torch.dtype | None = None,
    ):
        from steerable.kernels._kernel_basis import EmptyBasisException

        super().__init__()
        dtype = dtype or torch.get_default_dtype()
        self._points = np.asarray(points, dtype=np.float64)
        self.points = self._points
        self.S = self.n_points = int(self._points.shape[0])
        self._in_reprs, self._out_reprs = list(in_type.representations), list(out_type.representations)
        self.in_size = self._input_size = in_type.size
        self.out_size = self._output_size = out_type.size
        self._types, self._type_ids, self._type_radii, self._type_fields, self._attrs = [], [], [], [], {}
        self._local_structures: dict = {}  # name -> (the pair's basis structure, kept elements)
        self._out_starts = [int(x) for x in out_type.fields_start]
        self._in_starts = [int(x) for x in in_type.fields_start]
        ins = list(OrderedDict.fromkeys(self._in_reprs))
        outs = list(OrderedDict.fromkeys(self._out_reprs))
        pts = torch.as_tensor(self._points, dtype=torch.float64)
        rows_all, cols_all = [], []
        offset = 0
        for ro in outs:
            o_fields = [f for f, r in enumerate(self._out_reprs) if r == ro]
            for ri in ins:
                i_fields = [f for f, r in enumerate(self._in_reprs) if r == ri]
                try:
                    basis = basis_generator(ri, ro)
                except EmptyBasisException:
                    continue
                n = len(basis)
                attrs = [dict(basis[k]) for k in range(n)] if hasattr(basis, "__getitem__") else [{} for _ in range(n)]
                s = basis.sample(pts)
                s = s.detach().cpu().double().numpy() if isinstance(s, torch.Tensor) else np.asarray(s, np.float64)
                if s.shape != (self.S, n, ro.size, ri.size):
                    raise ValueError(
                        f"basis_generator: the basis of ({ri.name}, {ro.name}) sampled on {self.S} points "
                        f"has shape {s.shape}, expected {(self.S, n, ro.size, ri.size)}"
                    )
                s = s.transpose(1, 2, 3, 0)  # (n, o, i, S)
                keep = np.ones(n, dtype=bool)
                if basis_filter is not None:
                    keep &= np.array([bool(basis_filter(a)) for a in attrs], dtype=bool)
                if drop_vanishing:
                    keep &= (s**2).sum(axis=(1, 2, 3)) / ro.size >= VANISHING_TOL
                if not keep.any():
                    continue
                from ._layer_structure import local_rep_structure

                local = local_rep_structure(basis, ri, ro, attrs)
                s = np.ascontiguousarray(s[keep])
                attrs = [a for a, k in zip(attrs, keep) if k]
                nb = s.shape[0]
                name = f"basis_{len(self._types)}"
                self.register_constant(name, s, dtype)
                rows = np.concatenate([np.arange(out_type.fields_start[f], out_type.fields_end[f]) for f in o_fields])
                cols = np.concatenate([np.arange(in_type.fields_start[f], in_type.fields_end[f]) for f in i_fields])
                t = (name, len(o_fields), len(i_fields), nb, ro.size, ri.size)
                rows_all.append(_block_order(np.repeat(rows, len(cols)), t))
                cols_all.append(_block_order(np.tile(cols, len(rows)), t))
                self._types.append(t)
                self._type_ids.append((ri, ro))
                self._type_radii.append([float(a.get("radius", 0.0)) for a in attrs])
                self._type_fields.append((o_fields, i_fields))
                self._attrs[name] = attrs
                self._local_structures[name] = (local, keep)
                offset += len(o_fields) * len(i_fields) * nb
        self._dim = offset
        n_vals = sum(len(r) for r in rows_all)
        gather = np.full(self.out_size * self.in_size, n_vals, dtype=np.int64)
        if rows_all:
            r, c = np.concatenate(rows_all), np.concatenate(cols_all)
            gather[r * self.in_size + c] = np.arange(n_vals)
        else:
            r = c = np.zeros(0, dtype=np.int64)
        self.register_buffer("_gather", torch.as_tensor(gather), persistent=False)
        # where each block entry goes: placing by index_copy (its backward is a gather, not a scatter-add)
        self.register_buffer("_place", torch.as_tensor(r * self.in_size + c), persistent=False)

    @property
    def dimension(self) -> _Dimension:
        """The number of weights (an int; ``dimension()`` also works, as in escnn)."""
        return _Dimension(self._dim)

    def basis_tensor(self, name: str, like: torch.Tensor | None = None) -> torch.Tensor:
        return getattr(self, name)

    @property
    def structure(self):
        """Every weight's field, irrep copy, harmonic, ring and intertwiner and the irrep-block
        layout, as tensors (:class:`steerable.kernels.BasisStructure`): read from each pair's
        basis (its ``structure``, or its attribute dicts); cached."""
        cached = self.__dict__.get("_structure_cache")
        if cached is None:
            from ._layer_structure import rep_expansion_structure

            cached = self.__dict__["_structure_cache"] = rep_expansion_structure(self)
        return cached

    def get_basis_info(self) -> Iterator[dict]:
        idx = 0
        for (name, _n_o, _n_i, _nb, _do, _di), (of, inf) in zip(self._types, self._type_fields):
            for o in of:
                for i in inf:
                    for b, a in enumerate(self._attrs[name]):
                        yield dict(
                            a,
                            id=idx,
                            block_id=b,
                            in_field_position=i,
                            out_field_position=o,
                            in_repr=self._in_reprs[i].name,
                            out_repr=self._out_reprs[o].name,
                        )
                        idx += 1

    def get_element_info(self, idx: int) -> dict:
        if isinstance(idx, bool) or not isinstance(idx, (int, np.integer)) or not 0 <= int(idx) < self._dim:
            raise IndexError(f"idx: expected 0 <= idx < {self._dim}, got {idx!r}")
        for k, a in enumerate(self.get_basis_info()):
            if k == idx:
                return a
        raise IndexError(idx)

    @property
    def attributes(self) -> list[dict]:
        return list(self.get_basis_info())

    def forward(self, weights: torch.Tensor) -> torch.Tensor:
        """weights (G, dimension) → (G, C_out, C_in, S); (dimension,) → (C_out, C_in, S)."""
        if weights.dim() == 1:
            return self.forward(weights[None])[0]
        if weights.dim() != 2 or weights.shape[1] != self._dim:
            raise ValueError(f"weights: expected shape ({self._dim},) or (G, {self._dim}), got {tuple(weights.shape)}")
        g, n = weights.shape[0], self.S
        blocks, p = [], 0
        for name, n_o, n_i, nb, do, di in self._types:
            basis = getattr(self, name).to(weights.dtype)
            w = weights[:, p : p + n_o * n_i * nb].reshape(g * n_o * n_i, nb)
            p += n_o * n_i * nb
            blocks.append((w @ basis.reshape(nb, do * di * n)).reshape(g, n_o * n_i * do * di, n))
        filt = weights.new_zeros(g, self.out_size * self.in_size, n)
        if blocks:
            filt = filt.index_copy(1, self._place, blocks[0] if len(blocks) == 1 else torch.cat(blocks, 1))
        return filt.reshape(g, self.out_size, self.in_size, n)
