"""Norm nonlinearities: rescale each field (or each sub-block of an induced field) by a function of
its norm.

``out = f(‖x_B‖ - b) · x_B / ‖x_B‖`` on every block B of channels. When every ρ(g) maps blocks
onto blocks isometrically the norms are invariant and the map is equivariant:

- :class:`NormNonLinearity`: the blocks are the fields (ρ orthogonal);
- :class:`InducedNormNonLinearity`: the blocks are the sub-blocks of induced fields
  Ind_H^G σ = ⊕_cosets σ, i.e. the finest *system of imprimitivity* of each field's
  representation in its own basis (see the class docstring).

Zero norms are safe: blocks with ‖x_B‖ ≤ eps give 0, with finite (zero) gradients.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from steerable._validation import check_bool
from steerable.group import Representation

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule
from .._validation import check_field_type, require_nonlinearity, require_orthogonal
from ._pointwise import _as_batched, _same_layout_shape, _unbatch

__all__ = ["NormNonLinearity", "InducedNormNonLinearity"]

_EPS = 1e-10  # norms at or below this are treated as zero (escnn's threshold)


def _squash(t: torch.Tensor) -> torch.Tensor:
    return t / (1.0 + t)


_NORM_FUNCTIONS = {
    "n_relu": torch.relu,
    "n_sigmoid": torch.sigmoid,
    "n_softplus": F.softplus,
    "squash": _squash,
}


# ------------------------------------------------------------------------------ structure
def _test_matrices(rep: Representation) -> np.ndarray:
    """ρ at the group's generators (finite groups) or at its fixed generic elements (continuous
    groups; they generate a dense subgroup), together with their inverses."""
    G = rep.group
    elems = list(G.generators)
    mats = rep.matrices(elems + [~g for g in elems])
    return np.asarray(mats)


def imprimitivity_blocks(rep: Representation, tol: float = 1e-8) -> list[list[int]]:
    """The finest partition of ``range(rep.size)`` into blocks that every ρ(g) maps onto blocks.

    This is the finest system of imprimitivity of ρ in its own basis: for Ind_H^G σ in the natural
    basis (``Group.induced_representation``) its blocks are the σ-sub-blocks, one per coset (or
    finer, when σ itself is monomial in its basis). Blocks are listed by their smallest channel.

    >>> from steerable.group import dihedral_group
    >>> G = dihedral_group(6)
    >>> H, _, _ = G.subgroup((None, 3))
    >>> imprimitivity_blocks(G.induced_representation((None, 3), H.irrep(1)))
    [[0, 1], [2, 3], [4, 5], [6, 7]]
    """
    mats = _test_matrices(rep)
    nz = np.abs(mats) > tol
    n = rep.size
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union_all(idx) -> bool:
        idx = [int(i) for i in idx]
        merged = False
        if not idx:
            return merged
        r0 = find(idx[0])
        for i in idx[1:]:
            ri = find(i)
            if ri != r0:
                parent[ri] = r0
                merged = True
        return merged

    changed = True
    while changed:
        changed = False
        roots = np.array([find(i) for i in range(n)])
        for r in np.unique(roots):
            block = np.flatnonzero(roots == r)
            for m in nz:
                image = np.flatnonzero(m[:, block].any(axis=1))
                changed |= union_all(image)
    roots = np.array([find(i) for i in range(n)])
    blocks: dict[int, list[int]] = {}
    for i, r in enumerate(roots):
        blocks.setdefault(int(r), []).append(i)
    return sorted(blocks.values(), key=lambda b: b[0])


# ------------------------------------------------------------------------------ shared core
class _BlockNormCore:
    """Index bookkeeping for 'norm over blocks of channels, bias per field'.

    Blocks of equal size are grouped (one gather and reshape per distinct size); ``block_of_channel``
    maps each channel to its block's position in the concatenation of the groups, and
    ``field_of_block`` gives the field (bias) of each block.
    """

    def __init__(self, blocks: list[tuple[int, list[int]]], n_channels: int):
        # blocks: [(field, [channels])] in channel order
        sizes = sorted({len(ch) for _, ch in blocks})
        self.groups: list[tuple[int, int, np.ndarray | None]] = []  # (size, count, channel idx or None)
        block_of_channel = np.zeros(n_channels, dtype=np.int64)
        field_of_block = []
        pos = 0
        for s in sizes:
            members = [(f, ch) for f, ch in blocks if len(ch) == s]
            idx = np.concatenate([np.asarray(ch) for _, ch in members])
            identity = len(sizes) == 1 and np.array_equal(idx, np.arange(n_channels))
            self.groups.append((s, len(members), None if identity else idx))
            for k, (f, ch) in enumerate(members):
                block_of_channel[ch] = pos + k
                field_of_block.append(f)
            pos += len(members)
        self.n_blocks = pos
        self.block_of_channel = block_of_channel
        self.field_of_block = np.asarray(field_of_block, dtype=np.int64)
        self.identity_expand = bool(len(self.groups) == 1 and self.groups[0][2] is None)


class _BlockNormModule(torch.nn.Module):
    """A module holding the index buffers of a block norm nonlinearity (``_register_core``) and
    its ``log_bias``: what :func:`_block_norm_forward` reads."""

    function: str
    log_bias: torch.nn.Parameter | None
    _group_specs: list[tuple[int, int]]  # (block size, block count) per group of equal-size blocks
    _group_gather: list[bool]  # whether group k gathers its channels (buffer ``_gather{k}``)
    _identity_expand: bool
    _block_of_channel: torch.Tensor
    _field_of_block: torch.Tensor

    def _register_core(self, core: _BlockNormCore) -> None:
        self._group_specs = [(s, n) for s, n, _ in core.groups]
        self._group_gather = [idx is not None for _, _, idx in core.groups]
        for k, (_, _, idx) in enumerate(core.groups):
            if idx is not None:
                self.register_buffer(f"_gather{k}", torch.as_tensor(idx, dtype=torch.long), persistent=False)
        self.register_buffer("_block_of_channel", torch.as_tensor(core.block_of_channel), persistent=False)
        self.register_buffer("_field_of_block", torch.as_tensor(core.field_of_block), persistent=False)
        self._identity_expand = core.identity_expand


def _block_norm_forward(
    module: _BlockNormModule, t: torch.Tensor, log_bias: torch.Tensor | None, function: str
) -> torch.Tensor:
    """The norm nonlinearity on a (B, C, ...) tensor with the index buffers of ``module``."""
    b = t.shape[0]
    sp = t.shape[2:]
    sq = t * t
    parts = []
    for k, ((s, n), gather) in enumerate(zip(module._group_specs, module._group_gather)):
        src = sq.index_select(1, getattr(module, f"_gather{k}")) if gather else sq
        parts.append(src.reshape(b, n, s, *sp).sum(2))
    n2 = parts[0] if len(parts) == 1 else torch.cat(parts, 1)  # (B, n_blocks, ...)
    mask = n2 > _EPS * _EPS
    norms = torch.sqrt(torch.where(mask, n2, torch.ones_like(n2)))
    shape = (1, -1) + (1,) * len(sp)
    arg = norms
    if log_bias is not None:
        arg = norms - torch.exp(log_bias).index_select(0, module._field_of_block).view(shape)
    mult = torch.where(mask, _NORM_FUNCTIONS[function](arg) / norms, torch.zeros_like(norms))
    if module._identity_expand:
        s, n = module._group_specs[0]
        return (t.reshape(b, n, s, *sp) * mult.unsqueeze(2)).reshape(t.shape)
    return t * mult.index_select(1, module._block_of_channel)


class _PlainBlockNorm(_BlockNormModule):
    """Plain-torch norm nonlinearity (export of Norm/InducedNormNonLinearity): plain index
    tensors and a copy of ``log_bias``."""

    def __init__(self, source: _BlockNormModule, function: str):
        super().__init__()
        self.function = function
        self._group_specs = list(source._group_specs)
        self._group_gather = list(source._group_gather)
        self._identity_expand = source._identity_expand
        for k, g in enumerate(self._group_gather):
            if g:
                self.register_buffer(f"_gather{k}", getattr(source, f"_gather{k}").clone())
        self.register_buffer("_block_of_channel", source._block_of_channel.clone())
        self.register_buffer("_field_of_block", source._field_of_block.clone())
        if source.log_bias is not None:
            self.log_bias = torch.nn.Parameter(source.log_bias.detach().clone())
        else:
            self.log_bias = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _block_norm_forward(self, x, self.log_bias, self.function)


class _NormBase(_BlockNormModule, EquivariantModule):
    def _setup(self, in_type: FieldType, function: str, bias: bool, blocks) -> None:
        if not isinstance(function, str) or function not in _NORM_FUNCTIONS:
            raise ValueError(f"function: expected one of {sorted(_NORM_FUNCTIONS)}, got {function!r}")
        bias = check_bool(bias, "bias")
        if function == "squash" and bias:
            raise ValueError("bias: the 'squash' norm nonlinearity takes no bias; pass bias=False")
        self.in_type = in_type
        self.out_type = in_type
        self.function = function
        self._register_core(_BlockNormCore(blocks, in_type.size))
        # b = exp(log_bias) > 0 per field, shared by the field's blocks (escnn's parametrisation)
        self.log_bias = torch.nn.Parameter(torch.zeros(len(in_type))) if bias else None

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        t, sq = _as_batched(x.tensor)
        out = _block_norm_forward(self, t, self.log_bias, self.function)
        return GeometricTensor(_unbatch(out, sq), self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape: Sequence[int]) -> tuple:
        return _same_layout_shape(self, input_shape)

    def export(self) -> torch.nn.Module:
        """A plain ``torch.nn.Module`` computing the same function on ``.tensor`` (B, C, ...)."""
        return _PlainBlockNorm(self, self.function).train(self.training)

    def extra_repr(self) -> str:
        return f"{self.in_type!r}, function={self.function}, bias={self.log_bias is not None}"


class NormNonLinearity(_NormBase):
    """Norm nonlinearity: each field x is mapped to ``f(‖x‖ - b) · x / ‖x‖``.

    ``function``: ``'n_relu'`` (default), ``'n_sigmoid'``, ``'n_softplus'`` or ``'squash'``
    (``t / (1 + t)``, which takes no bias: pass ``bias=False``). With ``bias=True`` every field
    has a learnable ``b = exp(log_bias) > 0`` (initially 1). Fields with norm ≤ 1e-10 map to 0
    (gradients there are 0, never NaN). Every field needs ``'norm'`` support and an orthogonal
    representation.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import NormNonLinearity
    >>> gs = gspaces.rot3dOnR3()
    >>> t = nn.FieldType(gs, [gs.irrep(1), gs.irrep(2)])
    >>> act = NormNonLinearity(t, 'n_sigmoid')
    >>> act(t(torch.randn(1, 8, 3, 3, 3))).shape
    torch.Size([1, 8, 3, 3, 3])
    >>> [k for k, _ in act.named_parameters()]
    ['log_bias']
    """

    def __init__(self, in_type: FieldType, function: str = "n_relu", bias: bool = True):
        super().__init__()
        check_field_type(in_type)
        require_nonlinearity(in_type, "norm", "NormNonLinearity")
        require_orthogonal(in_type, "NormNonLinearity", why="norms must be invariant")
        blocks = [
            (f, list(range(int(s), int(e)))) for f, (s, e) in enumerate(zip(in_type.fields_start, in_type.fields_end))
        ]
        self._setup(in_type, function, bias, blocks)


class InducedNormNonLinearity(_NormBase):
    """Norm nonlinearity over the sub-blocks of induced fields.

    escnn applies ``f(‖x_B‖ - b)·x_B/‖x_B‖`` to every sub-field B of an induced representation
    Ind_H^G σ (one block of size dim σ per coset of H), with one bias per field shared by its
    sub-fields. Here the sub-blocks are found from the representation itself: they are its
    finest system of imprimitivity in its own basis (the finest partition of the channels that
    every ρ(g) maps onto itself block-wise, see :func:`imprimitivity_blocks`). For the fields
    ``Group.induced_representation`` builds (natural basis) these are exactly escnn's sub-fields,
    except when σ is itself monomial in its basis (e.g. σ trivial, or the 90° rotation irrep of
    C_4), where the blocks are finer — still equivariant. Fields whose finest system is a single
    block (e.g. irreps) are rejected, as are non-orthogonal representations.

    ``function`` and ``bias`` as in :class:`NormNonLinearity`.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import InducedNormNonLinearity
    >>> gs = gspaces.flipRot2dOnR2(-1, maximum_frequency=4)
    >>> G = gs.fibergroup
    >>> H, _, _ = G.subgroup((None, -1))
    >>> rho = G.induced_representation((None, -1), H.irrep(2))
    >>> t = nn.FieldType(gs, [rho] * 2)
    >>> act = InducedNormNonLinearity(t)
    >>> act(t(torch.randn(1, 8, 5, 5))).shape
    torch.Size([1, 8, 5, 5])
    >>> _ = act.check_equivariance()
    """

    def __init__(self, in_type: FieldType, function: str = "n_relu", bias: bool = True):
        super().__init__()
        check_field_type(in_type)
        require_nonlinearity(in_type, "norm", "InducedNormNonLinearity")
        require_orthogonal(in_type, "InducedNormNonLinearity", why="norms must be invariant")
        cache: dict = {}
        blocks = []
        for f, r in enumerate(in_type.representations):
            if r not in cache:
                cache[r] = imprimitivity_blocks(r)
            sub = cache[r]
            if len(sub) < 2:
                raise ValueError(
                    f"in_type: InducedNormNonLinearity needs induced representations (channels split into "
                    f"sub-blocks that every ρ(g) permutes); field {f} of {in_type!r} has representation {r!r}, "
                    f"which has no such structure in its basis (use NormNonLinearity for it)"
                )
            start = int(in_type.fields_start[f])
            blocks += [(f, [start + c for c in blk]) for blk in sub]
        blocks.sort(key=lambda fb: fb[1][0])
        self._setup(in_type, function, bias, blocks)
