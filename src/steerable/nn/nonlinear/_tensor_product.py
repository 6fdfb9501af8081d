"""TensorProductModule: a learnable, equivariant quadratic nonlinearity ``x ↦ W (x ⊗ x)``.

Construction works in the irrep coordinates ``z = Q⁻¹ x`` of each input field (ρ = Q (⊕ ψ_a) Q⁻¹):
``x ⊗ x`` is, up to the fixed change of basis ``Q ⊗ Q``, the collection of the blocks
``z_a ⊗ z_b`` over pairs of irrep slots, and since it is symmetric only the pairs ``a ≤ b`` carry
information. For each pair and each output irrep slot ψ_o, the equivariant maps
``z_a ⊗ z_b ↦ ψ_o`` are ``homomorphism_space(ψ_a.tensor(ψ_b), ψ_o)`` (Clebsch–Gordan
coefficients times the endomorphisms of ψ_o), restricted to symmetric tensors when ``a = b``.
These small bases are computed once per irreps triple (ψ_a, ψ_b, ψ_o) and expanded into the dense
per-field matrix with one einsum per triple type and one ``index_copy``, so construction stays
cheap for large fields (no D² × D² matrices).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch

from steerable._validation import check_bool
from steerable.group import Representation, homomorphism_space

from .._constants import ExactConstants
from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule
from .._validation import check_field_type
from ._pointwise import _as_batched, _same_layout_shape, _unbatch

__all__ = ["TensorProductModule", "symmetric_quadratic_basis"]


def _orthonormal_rows(a: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """An orthonormal basis (rows) of the row space of ``a`` (n, m)."""
    if a.shape[0] == 0:
        return a
    _, s, vt = np.linalg.svd(a, full_matrices=False)
    return vt[s > tol * max(1.0, s[0])]


def _pair_basis(psi_a, psi_b, psi_o, same_slot: bool) -> np.ndarray:
    """Orthonormal basis (k, d_o, d_a*d_b) of the equivariant maps z_a ⊗ z_b → ψ_o (flattened
    index i*d_b + j); for ``same_slot`` (z_a = z_b) only their action on symmetric tensors."""
    da, db, do = psi_a.size, psi_b.size, psi_o.size
    hom = homomorphism_space(psi_a.tensor(psi_b), psi_o)  # (k, do, da*db) on kron(z_a, z_b)
    if hom.shape[0] == 0:
        return np.zeros((0, do, da * db))
    if same_slot:
        h = hom.reshape(-1, do, da, da)
        hom = ((h + h.transpose(0, 1, 3, 2)) / 2).reshape(-1, do, da * da)
    return _orthonormal_rows(hom.reshape(hom.shape[0], -1)).reshape(-1, do, da * db)


def symmetric_quadratic_basis(rho_in: Representation, rho_out: Representation, tol: float = 1e-9):
    """Reference (dense, for small representations): a basis of the equivariant quadratic maps
    ``x ↦ W (x ⊗ x)`` from ρ_in to ρ_out on the monomials ``x_i x_j`` (i ≤ j).

    ``W`` ranges over ``homomorphism_space(rho_in.tensor(rho_in), rho_out)`` (maps on the flattened
    ``x ⊗ x``); only their symmetric part acts. Returns ``(basis (k, D_out, D(D+1)/2), i, j)``
    with orthonormal, linearly independent rows. :class:`TensorProductModule` spans the same maps.

    >>> from steerable.group import so3_group
    >>> G = so3_group(2)
    >>> b, i, j = symmetric_quadratic_basis(G.irrep(1), G.irrep(0))
    >>> b.shape  # only |x|² is an invariant quadratic of a 3D vector
    (1, 1, 6)
    """
    d, do = rho_in.size, rho_out.size
    hom = homomorphism_space(rho_in.tensor(rho_in), rho_out)
    iu, ju = np.triu_indices(d)
    if hom.shape[0] == 0:
        return np.zeros((0, do, iu.size)), iu, ju
    h = hom.reshape(-1, do, d, d)
    tri = h[:, :, iu, ju] + h[:, :, ju, iu]
    diag = iu == ju
    tri[:, :, diag] = h[:, :, iu[diag], iu[diag]]
    rows = _orthonormal_rows(tri.reshape(tri.shape[0], -1), tol)
    return rows.reshape(-1, do, iu.size), iu, ju


class _PairLayout:
    """Quadratic features and basis bookkeeping of one (ρ_in, ρ_out) field pair."""

    def __init__(self, rho_in: Representation, rho_out: Representation, cache: dict):
        G = rho_in.group
        slots_in = _slots(rho_in)
        slots_out = _slots(rho_out)
        left: list[int] = []
        right: list[int] = []
        col_off: list[int] = []
        for a, (_ia, oa, da) in enumerate(slots_in):
            for b in range(a, len(slots_in)):
                ib, ob, db = slots_in[b]
                col_off.append(len(left))
                for i in range(da):
                    for j in range(db):
                        left.append(oa + i)
                        right.append(ob + j)
        self.left, self.right = np.asarray(left), np.asarray(right)
        self.n_features = len(left)
        # per triple type: the basis and its instances (output slot rows x pair columns)
        self.types: dict = {}
        pair = 0
        self.slot_counts = np.zeros(len(slots_out), dtype=np.int64)
        for a, (ia, _oa, da) in enumerate(slots_in):
            for b in range(a, len(slots_in)):
                ib, ob, db = slots_in[b]
                for o, (io, oo, do) in enumerate(slots_out):
                    key = (ia, ib, io, a == b)
                    if key not in cache:
                        cache[key] = _pair_basis(G.irrep(*ia), G.irrep(*ib), G.irrep(*io), a == b)
                    basis = cache[key]
                    if basis.shape[0] == 0:
                        continue
                    rows = oo + np.arange(do)
                    cols = col_off[pair] + np.arange(da * db)
                    flat = (rows[:, None] * self.n_features + cols[None, :]).reshape(-1)
                    self.types.setdefault(key, (basis, []))[1].append(flat)
                    self.slot_counts[o] += basis.shape[0]
                pair += 1
        self.out_slot_sizes = np.asarray([s[2] for s in slots_out])


def _slots(rep: Representation) -> list[tuple[tuple, int, int]]:
    out, off = [], 0
    for i in rep.irreps:
        d = rep.group.irrep(*i).size
        out.append((i, off, d))
        off += d
    return out


def _tp_forward(m, t: torch.Tensor, matrices: list[torch.Tensor]) -> torch.Tensor:
    """``matrices[g]``: (n, D_out, F) acting on the features z[left] * z[right] of group g."""
    b, sp = t.shape[0], t.shape[2:]
    outs = []
    for g, (n, d, do) in enumerate(m._group_dims):
        x = t if m._in_identity else t.index_select(1, getattr(m, f"_in_idx{g}"))
        x = x.reshape(b, n, d, *sp)
        qinv = getattr(m, f"_qinv{g}", None)
        if qinv is not None:
            x = torch.einsum("ij,bnj...->bni...", qinv.to(x.dtype), x)
        feats = x.index_select(2, getattr(m, f"_left{g}")) * x.index_select(2, getattr(m, f"_right{g}"))
        y = torch.einsum("nof,bnf...->bno...", matrices[g], feats)
        outs.append(y.reshape(b, n * do, *sp))
    out = outs[0] if len(outs) == 1 else torch.cat(outs, 1)
    if not m._out_identity:
        out = out.index_select(1, m._out_perm)
    return out


class _PlainTensorProduct(torch.nn.Module):
    """Plain-torch quadratic layer (export): per group of fields, ``z = Q⁻¹x``, the products
    ``z_l z_r`` and a dense per-field matrix."""

    _out_perm: torch.Tensor  # registered only when the output needs a permutation

    def __init__(self, source: TensorProductModule):
        super().__init__()
        self._group_dims = list(source._group_dims)
        self._in_identity, self._out_identity = source._in_identity, source._out_identity
        with torch.no_grad():
            mats = source.expand_parameters()
        for g in range(len(self._group_dims)):
            names = [f"_left{g}", f"_right{g}"] + ([] if self._in_identity else [f"_in_idx{g}"])
            if getattr(source, f"_qinv{g}", None) is not None:
                names.append(f"_qinv{g}")
            for name in names:
                self.register_buffer(name, getattr(source, name).clone())
            self.register_parameter(f"matrix{g}", torch.nn.Parameter(mats[g].detach().clone()))
        if not self._out_identity:
            self.register_buffer("_out_perm", source._out_perm.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _tp_forward(self, x, [getattr(self, f"matrix{g}") for g in range(len(self._group_dims))])


class TensorProductModule(ExactConstants, EquivariantModule):
    """Equivariant quadratic layer: field c of the output is ``W_c (x_c ⊗ x_c)``.

    ``in_type`` and ``out_type`` have the same number of fields; output field c depends only on
    input field c (escnn's per-field projection, no mixing across fields). ``W_c`` is a learnable
    intertwiner from ρ_c ⊗ ρ_c (decomposed by Clebsch–Gordan coefficients) to the output field's
    representation, restricted to the symmetric part (``x ⊗ x`` is symmetric): it spans exactly
    the maps of :func:`symmetric_quadratic_basis`, built per irreps triple with
    ``homomorphism_space`` (see the module docstring). Fields with equal (input, output)
    representations share one batched einsum. Works on every gspace (per pixel/voxel, or per
    vector on ``no_base_space``).

    ``initialize=True`` draws the weights so that every output channel has ``E Σ_f W_of² = 1``
    (unit output variance for unit-variance inputs, up to the monomials' correlations); otherwise
    they start at zero. Raises ValueError when an output field admits no quadratic equivariant
    map, and warns when only some of its irreps do (those channels stay zero).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import TensorProductModule
    >>> gs = gspaces.rot2dOnR2(8)
    >>> t = nn.FieldType(gs, [gs.regular_repr] * 2)
    >>> tp = TensorProductModule(t, t)
    >>> tp(t(torch.randn(1, 16, 5, 5))).shape
    torch.Size([1, 16, 5, 5])
    >>> _ = tp.check_equivariance()
    """

    weights: torch.nn.Parameter
    _out_perm: torch.Tensor  # registered only when the output needs a permutation

    def __init__(self, in_type: FieldType, out_type: FieldType, initialize: bool = True):
        super().__init__()
        check_field_type(in_type, "in_type")
        check_field_type(out_type, "out_type")
        initialize = check_bool(initialize, "initialize")
        if in_type.gspace != out_type.gspace:
            raise ValueError("out_type: in_type and out_type must live on the same gspace")
        if len(in_type) != len(out_type):
            raise ValueError(
                f"out_type: TensorProductModule maps field c to field c, so in_type and out_type need the same "
                f"number of fields; got {len(in_type)} and {len(out_type)}"
            )
        self.in_type, self.out_type = in_type, out_type
        self.gspace = in_type.gspace
        pairs: dict = {}
        for c, (ri, ro) in enumerate(zip(in_type.representations, out_type.representations)):
            pairs.setdefault((ri, ro), []).append(c)
        cache: dict = {}
        self._group_dims: list[tuple[int, int, int]] = []
        # per group, per triple type: (weight offset, n instances, n basis)
        self._group_types: list[list[tuple[int, int, int]]] = []
        self._init_std: list[list[np.ndarray]] = []
        self._n_features: list[int] = []
        in_positions, out_positions = [], []
        offset = 0
        for g, ((ri, ro), fields) in enumerate(pairs.items()):
            lay = _PairLayout(ri, ro, cache)
            if not lay.types:
                raise ValueError(
                    f"out_type: no equivariant quadratic map sends {ri!r} to {ro!r} (fields {fields}): none of "
                    f"{ro!r}'s irreps occurs in the symmetric square of {ri!r}"
                )
            if (lay.slot_counts == 0).any():
                missing = [ro.irreps[o] for o in np.flatnonzero(lay.slot_counts == 0)]
                warnings.warn(
                    f"TensorProductModule: the irreps {missing} of {ro!r} do not occur in the symmetric square of "
                    f"{ri!r}; those output channels are always zero",
                    stacklevel=2,
                )
            n = len(fields)
            self._group_dims.append((n, ri.size, ro.size))
            types, flats, stds = [], [], []
            for t_idx, (_key, (basis, inst)) in enumerate(lay.types.items()):
                k = basis.shape[0]
                self.register_constant(f"_basis{g}_{t_idx}", basis)
                flats.append(np.stack(inst))  # (n_inst, do*P)
                types.append((offset, len(inst), k))
                offset += n * len(inst) * k
                # per instance: std so that each output slot gets E Σ W² = 1 per channel
                first_row = [int(f[0] // lay.n_features) for f in inst]
                slot = np.searchsorted(np.cumsum(lay.out_slot_sizes), first_row, side="right")
                stds.append(np.sqrt(lay.out_slot_sizes[slot] / lay.slot_counts[slot]))
            self._group_types.append(types)
            self._init_std.append(stds)
            flat = np.concatenate([f.reshape(-1) for f in flats])
            self.register_buffer(f"_flat{g}", torch.as_tensor(flat, dtype=torch.long), persistent=False)
            self.register_buffer(f"_left{g}", torch.as_tensor(lay.left, dtype=torch.long), persistent=False)
            self.register_buffer(f"_right{g}", torch.as_tensor(lay.right, dtype=torch.long), persistent=False)
            if not np.allclose(ri.change_of_basis, np.eye(ri.size), atol=1e-12):
                self.register_constant(f"_qinv{g}", np.asarray(ri.change_of_basis_inv))
            if not np.allclose(ro.change_of_basis, np.eye(ro.size), atol=1e-12):
                self.register_constant(f"_qout{g}", np.asarray(ro.change_of_basis))
            self._n_features.append(lay.n_features)
            in_positions.append(in_type.channel_indices(fields).numpy())
            out_positions.append(out_type.channel_indices(fields).numpy())
        self._in_identity = len(pairs) == 1
        if not self._in_identity:
            for g, idx in enumerate(in_positions):
                self.register_buffer(f"_in_idx{g}", torch.as_tensor(idx, dtype=torch.long), persistent=False)
        out_all = np.concatenate(out_positions)  # output channel of each position in the concatenation
        self._out_identity = bool(np.array_equal(out_all, np.arange(out_type.size)))
        if not self._out_identity:
            perm = np.empty_like(out_all)
            perm[out_all] = np.arange(out_all.size)
            self.register_buffer("_out_perm", torch.as_tensor(perm, dtype=torch.long), persistent=False)
        self.weights = torch.nn.Parameter(torch.zeros(offset))
        if initialize:
            self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw the weights: for output irrep slot o with k_o basis maps in all, each coefficient
        ~ N(0, d_o / k_o) (orthonormal basis maps), so each output channel has E Σ W² = 1."""
        with torch.no_grad():
            for g, (n, _, _) in enumerate(self._group_dims):
                for (off, n_inst, k), std in zip(self._group_types[g], self._init_std[g]):
                    w = self.weights[off : off + n * n_inst * k].view(n, n_inst, k)
                    w.normal_()
                    w.mul_(torch.as_tensor(std, dtype=w.dtype, device=w.device).view(1, n_inst, 1))

    @classmethod
    def construct(cls, gspace, channels: int, in_repr, out_repr, initialize: bool = True) -> TensorProductModule:
        """escnn's alternative constructor: ``channels`` copies of ``in_repr`` → ``channels``
        copies of ``out_repr`` on ``gspace``.

        >>> from steerable import gspaces
        >>> gs = gspaces.rot2dOnR2(4)
        >>> TensorProductModule.construct(gs, 2, gs.regular_repr, gs.regular_repr).out_type.size
        8
        """
        if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) or channels < 1:
            raise ValueError(f"channels: expected a positive integer, got {channels!r}")
        for name, r in (("in_repr", in_repr), ("out_repr", out_repr)):
            if getattr(r, "group", None) != gspace.fibergroup:
                raise ValueError(f"{name}: expected a representation of {gspace.fibergroup.name}, got {r!r}")
        return cls(
            gspace.type(*[in_repr] * int(channels)), gspace.type(*[out_repr] * int(channels)), initialize=initialize
        )

    @property
    def basisexpansion(self) -> _TensorProductExpansion:
        """The map from ``weights`` to the per-field matrices (escnn's attribute):
        ``basisexpansion.dimension()`` is the number of weights, ``basisexpansion(w)`` the
        matrices of :meth:`expand_parameters` for the weights ``w``."""
        return _TensorProductExpansion(self)

    def expand_parameters(self) -> list[torch.Tensor]:
        """Per group of fields, the matrices (n, D_out, F) acting on the products z_l z_r of the
        irrep coordinates z = Q⁻¹x (output already in the output fields' basis)."""
        return self._expand(self.weights)

    def _expand(self, weights: torch.Tensor) -> list[torch.Tensor]:
        if weights.shape != self.weights.shape:
            raise ValueError(f"weights: expected shape {tuple(self.weights.shape)}, got {tuple(weights.shape)}")
        mats = []
        for g, (n, _, do) in enumerate(self._group_dims):
            blocks = []
            for t_idx, (off, n_inst, k) in enumerate(self._group_types[g]):
                w = weights[off : off + n * n_inst * k].view(n, n_inst, k)
                basis = getattr(self, f"_basis{g}_{t_idx}").to(w.dtype)
                blocks.append(torch.einsum("nik,kp->nip", w, basis.reshape(k, -1)).reshape(n, -1))
            src = blocks[0] if len(blocks) == 1 else torch.cat(blocks, 1)
            nf = self._n_features[g]
            mat = src.new_zeros(n, do * nf).index_copy(1, getattr(self, f"_flat{g}"), src).view(n, do, nf)
            qout = getattr(self, f"_qout{g}", None)
            if qout is not None:
                mat = torch.einsum("oq,nqf->nof", qout.to(mat.dtype), mat)
            mats.append(mat)
        return mats

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        t, sq = _as_batched(x.tensor)
        out = _tp_forward(self, t, self.expand_parameters())
        return GeometricTensor(_unbatch(out, sq), self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape: Sequence[int]) -> tuple:
        return _same_layout_shape(self, input_shape)

    def export(self) -> torch.nn.Module:
        """A plain module (change of basis, products, dense per-field matrices) computing the same
        function on ``.tensor`` (B, C, ...)."""
        return _PlainTensorProduct(self)

    def extra_repr(self) -> str:
        return f"{self.in_type!r} -> {self.out_type!r}, weights={self.weights.numel()}"


class _TensorProductExpansion:
    """``TensorProductModule.basisexpansion``: weights → per-field matrices."""

    def __init__(self, module: TensorProductModule):
        self._module = module

    def dimension(self) -> int:
        return int(self._module.weights.numel())

    def __call__(self, weights: torch.Tensor) -> list[torch.Tensor]:
        return self._module._expand(weights)
