"""Equivariant linear maps between field types on ``no_base_space(G)`` (equivariant MLPs)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from steerable.group import homomorphism_space

from ._cache import ExpansionCacheMixin
from ._field_type import FieldType
from ._geometric_tensor import GeometricTensor
from ._module import EquivariantModule
from .conv._rdconv import _trivial_bias_basis
from .conv._source import KernelSource, KernelSourceMixin

__all__ = ["Linear"]


def _distinct(reps: Sequence) -> list:
    """Distinct representations in order of first appearance."""
    out: list = []
    for r in reps:
        if r not in out:
            out.append(r)
    return out


def _sorted_channels(ftype: FieldType, distinct: list) -> tuple[np.ndarray, list[int]]:
    """Channel permutation grouping the fields by representation (in ``distinct`` order, stable)
    and the number of fields of each distinct representation."""
    perm: list[np.ndarray] = []
    counts = []
    for r in distinct:
        fields = [i for i, s in enumerate(ftype.representations) if s == r]
        counts.append(len(fields))
        perm += [np.arange(ftype.fields_start[i], ftype.fields_end[i]) for i in fields]
    return np.concatenate(perm), counts


class Linear(KernelSourceMixin, ExpansionCacheMixin, EquivariantModule):
    """The most general equivariant linear map ``W x + b`` between two field types on
    ``gspaces.no_base_space(G)``, for any compact group G.

    ``W`` is a learned combination of the intertwiners of every (input field, output field)
    pair: one basis (``steerable.group.homomorphism_space``) per distinct pair of
    representations, one weight per (output field, input field, basis element). The bias lives
    on the trivial irreps of the output fields only. All weights form the single parameter
    ``weights``; the dense matrix is built by one batched einsum per distinct pair and cached in
    eval mode (the ``state_dict`` keys are the same in train and eval).

    Input tensors have the field type's channel axis where ``GeometricTensor`` puts it: shape
    ``(B, C)``, ``(C,)`` or ``(B, C, *rest)`` (the map acts on axis 1; trailing axes are
    batched). ``export()`` returns the equivalent ``torch.nn.Linear`` (acting on the last axis,
    so it matches on ``(B, C)`` and ``(C,)`` inputs).

    A warning is issued at construction when no equivariant map exists between the types (the
    layer would be identically zero, up to its bias).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.group import so3_group
    >>> from steerable.nn import Linear
    >>> gs = gspaces.no_base_space(so3_group(2))
    >>> t_in = nn.FieldType(gs, [gs.irrep(0), gs.irrep(1), gs.irrep(2)] * 2)
    >>> t_out = nn.FieldType(gs, [gs.irrep(1)] * 3 + [gs.irrep(0)])
    >>> lin = Linear(t_in, t_out)
    >>> lin(t_in(torch.randn(4, t_in.size))).shape
    torch.Size([4, 10])
    >>> _ = lin.check_equivariance()
    """

    weights: torch.nn.Parameter
    bias: torch.nn.Parameter | None
    bias_expansion: torch.Tensor
    _inv_in: torch.Tensor
    _inv_out: torch.Tensor

    def __init__(
        self,
        in_type: FieldType,
        out_type: FieldType,
        bias: bool = True,
        basisexpansion: str = "blocks",
        recompute: bool = False,
        initialize: bool = True,
        kernel_source: KernelSource | None = None,
    ):
        super().__init__()
        if basisexpansion != "blocks":
            raise ValueError(f"basisexpansion: the only expansion algorithm is 'blocks', got {basisexpansion!r}")
        if not isinstance(initialize, (bool, np.bool_)):
            raise TypeError(f"initialize: expected a bool, got {type(initialize).__name__}")
        for arg, t in (("in_type", in_type), ("out_type", out_type)):
            if not isinstance(t, FieldType):
                raise TypeError(f"{arg}: expected a FieldType, got {type(t).__name__}")
        if in_type.gspace != out_type.gspace:
            raise ValueError(
                f"out_type: in_type and out_type must live on the same gspace, got {in_type.gspace} and {out_type.gspace}"
            )
        if not isinstance(bias, bool):
            raise TypeError(f"bias: expected a bool, got {type(bias).__name__}")
        self.in_type, self.out_type = in_type, out_type
        dtype = torch.get_default_dtype()

        ins, outs = _distinct(in_type.representations), _distinct(out_type.representations)
        perm_in, n_in = _sorted_channels(in_type, ins)
        perm_out, n_out = _sorted_channels(out_type, outs)
        # F_orig = F_sorted[inv_out][:, inv_in]; skipped when the types are already grouped
        self._permute_in = not np.array_equal(perm_in, np.arange(in_type.size))
        self._permute_out = not np.array_equal(perm_out, np.arange(out_type.size))
        self.register_buffer("_inv_in", torch.as_tensor(np.argsort(perm_in), dtype=torch.long), persistent=False)
        self.register_buffer("_inv_out", torch.as_tensor(np.argsort(perm_out), dtype=torch.long), persistent=False)

        # one basis per distinct (out rep, in rep) pair;
        # blocks[a][b] = (basis buffer index, weight offset, n_out, n_in, k) or None
        self._blocks: list[list[tuple[int, int, int, int, int] | None]] = []
        offset = 0
        slot = 0
        for a, ro in enumerate(outs):
            row: list = []
            for b, ri in enumerate(ins):
                basis = homomorphism_space(ri, ro)  # (k, ro.size, ri.size)
                k = basis.shape[0]
                if k == 0:
                    row.append(None)
                    continue
                self.register_constant(f"_basis_{slot}", basis, dtype)
                n = n_out[a] * n_in[b] * k
                row.append((slot, offset, n_out[a], n_in[b], k))
                offset += n
                slot += 1
            self._blocks.append(row)
        self._n_in, self._n_out = n_in, n_out
        self._in_sizes = [r.size for r in ins]
        self._out_sizes = [r.size for r in outs]
        self._outs, self._ins = outs, ins
        self.dimension = offset
        if offset == 0:
            warnings.warn(
                f"Linear: no equivariant linear map exists from {in_type!r} to {out_type!r} (their "
                "representations share no irreps): the weight matrix is identically zero",
                stacklevel=2,
            )
        self.weights = torch.nn.Parameter(torch.zeros(offset, dtype=dtype))
        bias_cols = _trivial_bias_basis(out_type)
        if bias and bias_cols.shape[1] > 0:
            self.register_constant("bias_expansion", bias_cols, dtype)
            self.bias = torch.nn.Parameter(torch.zeros(bias_cols.shape[1], dtype=dtype))
        else:
            self.bias = None
        self._cache = None
        self.space = in_type.gspace
        self._init_std = self._he_std()
        object.__setattr__(self, "_basismanager", LinearBasisManager(self))
        if initialize:
            self.reset_parameters()
        self.kernel_source = kernel_source

    # -- initialisation ------------------------------------------------------------------------
    def _he_std(self) -> np.ndarray:
        """Per-weight standard deviations of the generalised He initialisation (closed form).

        Each basis element of ``Hom(ρ_in, ρ_out)`` feeds exactly one irrep slot of ``ρ_out``
        (in its irrep basis, ``Q_out⁻¹ B``). All weights feeding the slot ``s`` of the output
        representation ``a`` get σ² = 2 / Σ_b n_in(b) Σ_{k→s} ‖(Q_out⁻¹ B_k)‖²_F / dim(s), so each
        output channel (in the irrep basis) has variance 2 · Var(x): He et al.'s fan-in rule.
        """
        std = np.zeros(self.dimension)
        fan: dict = {}
        entries = []
        for a, ro in enumerate(self._outs):
            qinv = np.asarray(ro.change_of_basis_inv)
            G = ro.group
            sizes = [G.irrep(*i).size for i in ro.irreps]
            starts = np.cumsum([0] + sizes)
            for _b, blk in enumerate(self._blocks[a]):
                if blk is None:
                    continue
                slot, off, no, ni, k = blk
                basis = getattr(self, f"_basis_{slot}").detach().double().numpy()
                e = np.einsum("pr,krq->kpq", qinv, basis)
                rownorm = (e**2).sum(axis=2)  # (k, ro.size)
                out_slot = np.array([int(np.searchsorted(starts, np.argmax(rn), side="right") - 1) for rn in rownorm])
                m = rownorm.sum(axis=1) / np.array([sizes[s] for s in out_slot])
                for s in np.unique(out_slot):
                    fan[(a, s)] = fan.get((a, s), 0.0) + ni * m[out_slot == s].sum()
                entries.append((a, off, no, ni, k, out_slot))
        for a, off, no, ni, k, out_slot in entries:
            per_k = np.array([np.sqrt(2.0 / fan[(a, s)]) if fan[(a, s)] > 0 else 0.0 for s in out_slot])
            std[off : off + no * ni * k] = np.broadcast_to(per_k, (no, ni, k)).reshape(-1)
        return std

    def reset_parameters(self) -> None:
        """He initialisation of the weights (closed form, see ``_he_std``); zero bias."""
        with torch.no_grad():
            std = torch.as_tensor(self._init_std, dtype=self.weights.dtype, device=self.weights.device)
            self.weights.copy_(torch.randn_like(self.weights) * std)
            if self.bias is not None:
                self.bias.zero_()
        self._cache = None

    # -- matrix ----------------------------------------------------------------------------------
    @property
    def basisexpansion(self) -> LinearBasisManager:
        """The basis manager (escnn's interface: ``dimension()``, ``get_basis_info()``,
        ``get_element_info(i)``, ``forward(weights) → (C_out, C_in)``)."""
        return self.__dict__["_basismanager"]

    @property
    def matrix(self) -> torch.Tensor:
        """The expanded matrix (C_out, C_in) (cached in eval mode, as escnn's ``matrix``)."""
        return self._expanded()[0]

    @property
    def expanded_bias(self) -> torch.Tensor | None:
        return self._expanded()[1]

    def expand_parameters(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The dense matrix (C_out, C_in) and bias built from the current weights (by the
        ``kernel_source`` when one is set: it returns the matrix as ``(1, C_out, C_in, 1)``)."""
        src = self._modules.get("_kernel_source")
        m = self._matrix_of(self.weights) if src is None else self._source_matrix(src)
        b = self.bias_expansion.to(self.weights.dtype) @ self.bias if self.bias is not None else None
        return m, b

    def _source_matrix(self, src) -> torch.Tensor:
        f = src(self)
        shape = (1, self.out_type.size, self.in_type.size, 1)
        if not isinstance(f, torch.Tensor) or tuple(f.shape) != shape:
            got = tuple(f.shape) if isinstance(f, torch.Tensor) else type(f).__name__
            raise ValueError(f"kernel_source: {type(src).__name__} returned {got}, expected a tensor {shape}")
        return f[0, :, :, 0]

    def _matrix_of(self, w: torch.Tensor) -> torch.Tensor:
        rows = []
        for a, row in enumerate(self._blocks):
            cols = []
            for b, blk in enumerate(row):
                if blk is None:
                    cols.append(w.new_zeros(self._n_out[a] * self._out_sizes[a], self._n_in[b] * self._in_sizes[b]))
                    continue
                slot, off, no, ni, k = blk
                basis = getattr(self, f"_basis_{slot}").to(w.dtype)
                block = torch.einsum("oik,kpq->opiq", w[off : off + no * ni * k].view(no, ni, k), basis)
                cols.append(block.reshape(no * basis.shape[1], ni * basis.shape[2]))
            rows.append(cols[0] if len(cols) == 1 else torch.cat(cols, dim=1))
        m = rows[0] if len(rows) == 1 else torch.cat(rows, dim=0)
        if self._permute_out:
            m = m.index_select(0, self._inv_out)
        if self._permute_in:
            m = m.index_select(1, self._inv_in)
        return m

    def _matrix(self):
        return self._expanded()

    # -- forward ---------------------------------------------------------------------------------
    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        m, b = self._matrix()
        t = x.tensor
        if t.dim() <= 2 or x._ch_axis == -1:
            out = F.linear(t, m, b)
        else:
            out = F.linear(t.movedim(1, -1), m, b).movedim(-1, 1)
        return GeometricTensor(out, self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape) -> tuple:
        shape = tuple(int(s) for s in input_shape)
        ax = 1 if len(shape) > 1 else 0
        if len(shape) == 0 or shape[ax] != self.in_type.size:
            raise ValueError(
                f"input_shape: expected (B, {self.in_type.size}, ...) or ({self.in_type.size},), got {shape}"
            )
        return shape[:ax] + (self.out_type.size,) + shape[ax + 1 :]

    def check_equivariance(
        self,
        atol: float = 1e-5,
        rtol: float = 1e-5,
        assertion: bool = True,
        verbose: bool = False,
        device: str = "cpu",
        *,
        x: torch.Tensor | None = None,
        spatial: int | None = None,
        batch: int = 8,
    ) -> list:
        """As the base method, on ``(batch, C)`` vectors (``spatial`` is ignored)."""
        if x is None:
            x = torch.randn(batch, self.in_type.size, dtype=self._param_dtype())
        return super().check_equivariance(
            atol=atol, rtol=rtol, assertion=assertion, verbose=verbose, device=device, x=x
        )

    def export(self) -> torch.nn.Linear:
        """The equivalent ``torch.nn.Linear`` (weights copied; acts on the last axis), in eval mode;
        as escnn's ``export()``, the layer itself is set to eval mode too."""
        with torch.no_grad():
            m, b = self.expand_parameters()
        lin = torch.nn.Linear(self.in_type.size, self.out_type.size, bias=b is not None, dtype=m.dtype, device=m.device)
        with torch.no_grad():
            lin.weight.copy_(m)
            if b is not None:
                lin.bias.copy_(b)
        self.eval()
        return lin.eval()

    def extra_repr(self) -> str:
        return f"{self.in_type!r} -> {self.out_type!r}, basis={self.dimension}, bias={self.bias is not None}"


class LinearBasisManager:
    """escnn's basis-manager interface over a :class:`Linear` layer's intertwiner bases: weight
    ``id`` multiplies element ``basis_idx`` of the basis of the pair (output field, input field),
    the endomorphism ``inner`` of the irrep it maps from copy ``in_irrep_idx`` to copy
    ``out_irrep_idx`` (see :attr:`structure`).

    >>> from steerable import gspaces, nn
    >>> from steerable.group import cyclic_group
    >>> gs = gspaces.no_base_space(cyclic_group(4))
    >>> t = nn.FieldType(gs, [gs.regular_repr] * 2)
    >>> be = Linear(t, t).basisexpansion
    >>> be.dimension(), be.get_element_info(0)['out_field_position'], tuple(be(torch.zeros(16)).shape)
    (16, 0, (8, 8))
    """

    def __init__(self, linear: Linear):
        self._lin = linear
        out_fields = [[f for f, r in enumerate(linear.out_type.representations) if r == ro] for ro in linear._outs]
        in_fields = [[f for f, r in enumerate(linear.in_type.representations) if r == ri] for ri in linear._ins]
        info = []
        for a, row in enumerate(linear._blocks):
            for b, blk in enumerate(row):
                if blk is None:
                    continue
                slot, off, no, ni, k = blk
                for o in range(no):
                    for i in range(ni):
                        for kk in range(k):
                            info.append((a, b, out_fields[a][o], in_fields[b][i], kk))
        self._info = info
        self._dim = linear.dimension
        self._out_reprs, self._in_reprs = list(linear.out_type.representations), list(linear.in_type.representations)

    def dimension(self) -> int:
        return self._dim

    @property
    def structure(self):
        """Every weight's fields, irrep copies and endomorphism index, and the irrep-block layout
        of the matrix (C_out, C_in), as tensors (:class:`steerable.kernels.BasisStructure`; no
        harmonic: code -1, ring 0, radius 0); cached.

        >>> import torch
        >>> from steerable import gspaces, nn
        >>> from steerable.group import so3_group
        >>> gs = gspaces.no_base_space(so3_group(2))
        >>> t = nn.FieldType(gs, [gs.irrep(0), gs.irrep(1)] * 2)
        >>> s = nn.Linear(t, t).basisexpansion.structure
        >>> len(s), s.n_blocks, [s.irrep_names[c] for c in s.block_out_irrep.unique().tolist()]
        (8, 8, ['irrep_0', 'irrep_1'])
        """
        cached = self.__dict__.get("_structure_cache")
        if cached is None:
            from .conv._layer_structure import linear_structure

            cached = self.__dict__["_structure_cache"] = linear_structure(self._lin)
        return cached

    def get_element_info(self, idx: int) -> dict:
        if isinstance(idx, bool) or not isinstance(idx, (int, np.integer)) or not 0 <= int(idx) < self._dim:
            raise IndexError(f"idx: expected 0 <= idx < {self._dim}, got {idx!r}")
        a, b, of, inf, kk = self._info[int(idx)]
        s, k = self.structure, int(idx)
        return {
            "id": k,
            "out_field_position": of,
            "in_field_position": inf,
            "inner": int(s.inner[k]),
            "basis_idx": kk,
            "out_repr": self._out_reprs[of].name,
            "in_repr": self._in_reprs[inf].name,
            "radius": 0.0,
            "in_irrep": s.irreps[int(s.in_irrep[k])],
            "out_irrep": s.irreps[int(s.out_irrep[k])],
            "in_irrep_idx": int(s.in_irrep_idx[k]),
            "out_irrep_idx": int(s.out_irrep_idx[k]),
        }

    def get_basis_info(self):
        for i in range(self._dim):
            yield self.get_element_info(i)

    def forward(self, weights: torch.Tensor) -> torch.Tensor:
        return self._lin._matrix_of(weights)

    __call__ = forward

    def _he_std(self):
        return self._lin._he_std()  # recomputed (generalized_he_init(cache=True) keeps it)

    def _delta_orthonormal(self) -> torch.Tensor:
        """Weights whose matrix is (semi-)orthogonal: per representation ρ present in both
        types, a random orthogonal mixing of its occurrences times the identity of ρ."""
        lin = self._lin
        w = torch.zeros(self._dim, dtype=torch.float64)
        for a, row in enumerate(lin._blocks):
            for b, blk in enumerate(row):
                if blk is None or lin._outs[a] != lin._ins[b]:
                    continue
                slot, off, no, ni, k = blk
                basis = getattr(lin, f"_basis_{slot}").detach().double()  # (k, d, d)
                d = basis.shape[1]
                coef = torch.linalg.lstsq(
                    basis.reshape(k, -1).T, torch.eye(d, dtype=torch.float64).reshape(-1, 1)
                ).solution[:, 0]
                m = max(no, ni)
                q = torch.linalg.qr(torch.randn(m, m, dtype=torch.float64))[0][:no, :ni]
                w[off : off + no * ni * k] = (q[:, :, None] * coef[None, None, :]).reshape(-1)
        return w
