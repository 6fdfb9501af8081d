"""Norm-based pooling: ``NormMaxPool`` (per field, the fibre of largest norm in each window),
``NormPool`` (each field → its norm) and ``InducedNormPool`` (each induced field → the largest
norm of its sub-fields).

All three rely on the norm of a field being invariant, so every field's representation must be
orthogonal (ρ(g)ᵀρ(g) = I); a representation made non-orthogonal by a change of basis is refused
at construction.

``_FieldReduction`` (a plain ``torch.nn.Module``: it stores only index tensors) reduces every field
to one channel; it is shared with ``GroupPooling`` and is what ``NormPool``/``InducedNormPool``
export to.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from steerable._validation import check_bool, check_int_tuple
from steerable.group import Representation

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule, _ignored_kwargs
from .._validation import check_base_dimension, check_field_type, require_orthogonal
from ._window import _check_padding, _pool_out_size

__all__ = ["NormMaxPool", "NormPool", "InducedNormPool"]

_TOL = 1e-8


# ----------------------------------------------------------------------------- representation checks
def _test_matrices(rep: Representation) -> np.ndarray:
    """ρ(g) (n, D, D) for all elements of a finite group, or for generic elements (a dense set's
    generators plus a few fixed random ones) of a continuous group."""
    G = rep.group
    if not G.continuous:
        batch = G._all_batch()
    else:
        batch = np.concatenate([G._test_batch(), G._sample_batch(8, np.random.default_rng(0))])
    return rep._matrices(batch)


def _is_orthogonal(mats: np.ndarray) -> bool:
    eye = np.eye(mats.shape[1])
    return bool(np.allclose(mats @ np.transpose(mats, (0, 2, 1)), eye, atol=_TOL))


def _is_block_monomial(mats: np.ndarray, s: int) -> bool:
    """Does every ρ(g) map the contiguous s-blocks of channels onto s-blocks, by orthogonal blocks?"""
    n, D, _ = mats.shape
    k = D // s
    blocks = mats.reshape(n, k, s, k, s).transpose(0, 1, 3, 2, 4)  # [g, out block, in block]
    nz = np.linalg.norm(blocks, axis=(3, 4)) > _TOL
    if not (np.all(nz.sum(axis=2) == 1) and np.all(nz.sum(axis=1) == 1)):
        return False
    b = blocks[nz].reshape(n * k, s, s)
    return bool(np.allclose(b @ np.transpose(b, (0, 2, 1)), np.eye(s), atol=_TOL))


def _is_permutation(mats: np.ndarray) -> bool:
    r = np.round(mats)
    return bool(np.allclose(mats, r, atol=_TOL) and np.all((r == 0) | (r == 1)) and np.all(r.sum(axis=2) == 1))


def induced_subfield_size(rep: Representation) -> int | None:
    """The size of the sub-fields of an induced representation (``None`` if it has none).

    ρ = Ind_H^G σ acts on ``[G:H]`` contiguous copies of σ's space, permuting them with σ(h)
    blocks; its natural basis (the one ``Group.induced_representation`` returns) shows this as a
    block-monomial matrix with orthogonal blocks. The representation value does not record σ,
    so the sub-field size is read off its matrices:

    * a permutation representation (a quotient/regular one, induced from the trivial
      representation) has sub-fields of size 1, as in escnn;
    * otherwise the largest proper block size ``s`` for which every ρ(g) is block-monomial with
      orthogonal ``s × s`` blocks. This is σ's size for every induction from a subgroup of index
      2 (SO(2) ⊂ O(2), C_N ⊂ D_N, SO(3) ⊂ O(3), O ⊂ O_h, ...); for deeper inductions through
      an intermediate subgroup it may be coarser than σ (pass ``subfield_size`` to
      :class:`InducedNormPool` to choose).
    """
    D = rep.size
    if D < 2:
        return None
    mats = _test_matrices(rep)
    if not _is_orthogonal(mats):
        return None
    if _is_permutation(mats):
        return 1
    for s in range(D // 2, 0, -1):
        if D % s == 0 and _is_block_monomial(mats, s):
            return s
    return None


# ----------------------------------------------------------------------------- plain reduction module
class _FieldReduction(torch.nn.Module):
    """Plain torch: reduce every field (a group of channels on axis 1) to one channel.

    ``groups``: ``[(channel indices, n_fields, n_sub, sub_size)]`` for each class of equal fields;
    a field of the class has ``n_sub·sub_size`` channels. ``mode='max'``: the max over the field's
    channels; ``mode='norm'``: the max over its ``n_sub`` sub-fields of their Euclidean norm.
    ``order``: the permutation taking the concatenated class outputs back to field order.
    """

    def __init__(self, groups: Sequence[tuple[np.ndarray, int, int, int]], order: np.ndarray | None, mode: str):
        super().__init__()
        if mode not in ("max", "norm"):
            raise ValueError(f"mode: expected 'max' or 'norm', got {mode!r}")
        self.mode = mode
        self._specs: list[tuple[int, int, int, int, int]] = []
        for i, (idx, nf, k, s) in enumerate(groups):
            idx = np.asarray(idx, dtype=np.int64)
            contiguous = bool(np.array_equal(idx, np.arange(idx[0], idx[0] + len(idx))))
            self._specs.append((int(idx[0]) if contiguous else -1, len(idx), int(nf), int(k), int(s)))
            if not contiguous:
                self.register_buffer(f"index_{i}", torch.as_tensor(idx), persistent=False)
        self.n_fields = sum(nf for _, nf, _, _ in groups)
        if order is not None and not np.array_equal(order, np.arange(len(order))):
            self.register_buffer("order", torch.as_tensor(np.asarray(order, dtype=np.int64)), persistent=False)
        else:
            self.order = None

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        squeeze = t.dim() == 1
        if squeeze:
            t = t.unsqueeze(0)
        b, sp = t.shape[0], t.shape[2:]
        outs = []
        for i, (start, n, nf, k, s) in enumerate(self._specs):
            x = t.narrow(1, start, n) if start >= 0 else t.index_select(1, getattr(self, f"index_{i}"))
            # max(dim).values: its backward keeps the indices only, so an in-place nonlinearity
            # after the pooling (ReLU(inplace=True)) is safe; amax and norm keep their output
            if self.mode == "max":
                y = x.reshape(b, nf, k * s, *sp).max(dim=2).values
            else:
                y = torch.linalg.vector_norm(x.reshape(b, nf, k, s, *sp), dim=3)
                y = y.max(dim=2).values if k > 1 else y.squeeze(2)
                if k == 1 and len(self._specs) == 1 and torch.is_grad_enabled() and y.requires_grad:
                    y = y.clone()
            outs.append(y)
        y = outs[0] if len(outs) == 1 else torch.cat(outs, dim=1)
        if self.order is not None:
            y = y.index_select(1, self.order)
        return y.squeeze(0) if squeeze else y

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, fields={self.n_fields}"


def _build_reduction(in_type: FieldType, sub_sizes: Sequence[tuple[int, int]], mode: str) -> _FieldReduction:
    """Group the fields by ``(n_sub, sub_size)`` (first appearance order) and build the reduction."""
    keys: dict = {}
    for f, key in enumerate(sub_sizes):
        keys.setdefault(tuple(key), []).append(f)
    groups, concat_order = [], []
    for (k, s), fields in keys.items():
        idx = in_type.channel_indices(fields).numpy()
        groups.append((idx, len(fields), k, s))
        concat_order += fields
    order = np.argsort(np.asarray(concat_order))  # position of field f in the concatenation
    return _FieldReduction(groups, order, mode)


class _FieldwisePool(EquivariantModule):
    """Each field → one trivial field; works on grids, point clouds and no_base_space tensors."""

    def _finish(self, in_type: FieldType, reduction: _FieldReduction) -> None:
        self.in_type = in_type
        gs = in_type.gspace
        self.out_type = FieldType(gs, [gs.trivial_repr] * len(in_type))
        self._reduce = reduction

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        return GeometricTensor(self._reduce(x.tensor), self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape: Sequence[int]) -> tuple:
        shape = tuple(int(v) for v in input_shape)
        if len(shape) < 2 or shape[1] != self.in_type.size:
            raise ValueError(f"input_shape: expected (B, {self.in_type.size}, ...), got {tuple(input_shape)}")
        return (shape[0], self.out_type.size, *shape[2:])

    def export(self) -> torch.nn.Module:
        """A plain ``torch.nn.Module`` computing the same reduction on ``.tensor``."""
        import copy

        return copy.deepcopy(self._reduce)

    def extra_repr(self) -> str:
        return f"{self.in_type!r}"


# ----------------------------------------------------------------------------- NormPool / InducedNormPool
class NormPool(_FieldwisePool):
    """Norm pooling: every field is replaced by its Euclidean norm, an invariant (a trivial field).

    Works for any orthogonal representation, on any gspace (also ``no_base_space`` and point
    clouds, whose coords are kept).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import NormPool
    >>> gs = gspaces.rot2dOnR2(-1)
    >>> t = nn.FieldType(gs, [gs.irrep(1), gs.irrep(2), gs.trivial_repr])
    >>> pool = NormPool(t)
    >>> y = pool(t(torch.randn(2, 5, 7, 7)))
    >>> y.shape, len(y.type)
    (torch.Size([2, 3, 7, 7]), 3)
    >>> _ = pool.check_equivariance()
    """

    def __init__(self, in_type: FieldType, **kwargs):
        super().__init__()
        check_field_type(in_type, owner="NormPool")
        _ignored_kwargs("NormPool", kwargs)
        require_orthogonal(in_type, "NormPool", why="field norms must be invariant")
        self._finish(in_type, _build_reduction(in_type, [(1, r.size) for r in in_type.representations], "norm"))


class InducedNormPool(_FieldwisePool):
    """Induced norm pooling (escnn): every field of an induced representation Ind_H^G σ is made of
    ``[G:H]`` sub-fields (copies of σ) that G permutes; the output, one trivial field per field, is
    the largest norm among its sub-fields.

    The sub-field size is read off the representation (see :func:`induced_subfield_size`: 1 for
    permutation representations, else the largest proper block structure, which is σ's size for
    every index-2 induction such as SO(2) ⊂ O(2) or C_N ⊂ D_N); ``subfield_size`` (an int for
    every field, or one per field) overrides it and is checked. A field with no such structure
    (e.g. an irrep) raises ``ValueError`` at construction.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import InducedNormPool
    >>> gs = gspaces.flipRot2dOnR2(-1, maximum_frequency=4)
    >>> G = gs.fibergroup
    >>> rho = G.induced_representation((None, -1), G.subgroup((None, -1))[0].irrep(1))
    >>> t = nn.FieldType(gs, [rho] * 2)
    >>> pool = InducedNormPool(t)
    >>> pool.subfield_sizes
    (2, 2)
    >>> pool(t(torch.randn(1, 8, 7, 7))).shape
    torch.Size([1, 2, 7, 7])
    >>> _ = pool.check_equivariance()
    """

    def __init__(self, in_type: FieldType, *, subfield_size: int | Sequence[int] | None = None, **kwargs):
        super().__init__()
        check_field_type(in_type, owner="InducedNormPool")
        _ignored_kwargs("InducedNormPool", kwargs)
        reps = in_type.representations
        if subfield_size is None:
            cache: dict = {}
            sizes = []
            for i, r in enumerate(reps):
                if r not in cache:
                    cache[r] = induced_subfield_size(r)
                if cache[r] is None:
                    raise ValueError(
                        f"in_type: InducedNormPool needs induced representations (fields made of sub-fields "
                        f"that the group permutes by orthogonal blocks); field {i} of {in_type!r} has {r!r}, "
                        "which has no such structure (use NormPool instead)"
                    )
                sizes.append(cache[r])
        else:
            if isinstance(subfield_size, (int, np.integer)) and not isinstance(subfield_size, bool):
                sizes = [int(subfield_size)] * len(reps)
            elif isinstance(subfield_size, (list, tuple)) and len(subfield_size) == len(reps):
                sizes = [int(v) for v in subfield_size]
            else:
                raise TypeError(
                    f"subfield_size: expected an int or {len(reps)} ints (one per field), got {subfield_size!r}"
                )
            cache = {}
            for i, (r, s) in enumerate(zip(reps, sizes)):
                if s < 1 or r.size % s:
                    raise ValueError(f"subfield_size: {s} does not divide the size {r.size} of field {i}")
                if (r, s) not in cache:
                    cache[(r, s)] = _is_block_monomial(_test_matrices(r), s)
                if not cache[(r, s)]:
                    raise ValueError(
                        f"subfield_size: field {i} ({r!r}) is not made of sub-fields of size {s} permuted by "
                        "orthogonal blocks"
                    )
        self.subfield_sizes = tuple(sizes)
        keys = [(r.size // s, s) for r, s in zip(reps, sizes)]
        self._finish(in_type, _build_reduction(in_type, keys, "norm"))


# ----------------------------------------------------------------------------- NormMaxPool
def _norm_max_pool(
    t: torch.Tensor, field_of_channel: torch.Tensor, n_fields: int, kernel, stride, padding, dilation, ceil_mode: bool
) -> torch.Tensor:
    """For each field and window, the fibre of the position whose field norm is largest."""
    b, c, sp = t.shape[0], t.shape[1], t.shape[2:]
    with torch.no_grad():
        sq = t.new_zeros((b, n_fields, *sp)).index_add_(1, field_of_channel, t.detach() * t.detach())
    pool = F.max_pool2d if len(sp) == 2 else F.max_pool3d
    _, idx = pool(sq, kernel, stride, padding, dilation, ceil_mode, return_indices=True)
    out_sp = idx.shape[2:]
    idx = idx.index_select(1, field_of_channel).reshape(b, c, -1)
    return t.reshape(b, c, -1).gather(2, idx).reshape(b, c, *out_sp)


class _NormMaxPoolPlain(torch.nn.Module):
    """Plain-torch export of :class:`NormMaxPool` (stores the channel → field index)."""

    field_of_channel: torch.Tensor

    def __init__(
        self, field_of_channel: torch.Tensor, n_fields: int, kernel_size, stride, padding, dilation, ceil_mode: bool
    ):
        super().__init__()
        self.register_buffer("field_of_channel", field_of_channel.clone(), persistent=False)
        self.n_fields = int(n_fields)
        self.kernel_size, self.stride, self.padding = tuple(kernel_size), tuple(stride), tuple(padding)
        self.dilation, self.ceil_mode = tuple(dilation), bool(ceil_mode)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return _norm_max_pool(
            t,
            self.field_of_channel,
            self.n_fields,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
        )


class NormMaxPool(EquivariantModule):
    """Norm max pooling on R^2 or R^3: in each window, for each field, the fibre (the whole
    vector of the field's channels) at the position where the field's norm is largest.

    Any orthogonal representation; the arguments are those of ``torch.nn.MaxPool2d``. Exactly
    equivariant to the grid's symmetries under the window condition of
    :class:`~steerable.nn.PointwiseMaxPool2D` (e.g. kernel 3, stride 2,
    padding 1 on odd sizes), and to every fibre transformation (up to ties of norms).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import NormMaxPool
    >>> gs = gspaces.rot2dOnR2(8)
    >>> t = nn.FieldType(gs, [gs.irrep(1), gs.irrep(3), gs.regular_repr])
    >>> pool = NormMaxPool(t, kernel_size=3, stride=2, padding=1)
    >>> pool(t(torch.randn(1, 12, 9, 9))).shape
    torch.Size([1, 12, 5, 5])
    >>> _ = pool.check_equivariance()
    """

    field_of_channel: torch.Tensor

    def __init__(self, in_type: FieldType, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False):
        super().__init__()
        check_field_type(in_type, owner="NormMaxPool")
        check_base_dimension(in_type, (2, 3), "NormMaxPool")
        require_orthogonal(in_type, "NormMaxPool", why="field norms must be invariant")
        d = in_type.gspace.dimensionality
        self._d = d
        self.d = d
        self.in_type = self.out_type = in_type
        self.kernel_size = check_int_tuple(kernel_size, "kernel_size", d, 1)
        self.stride = self.kernel_size if stride is None else check_int_tuple(stride, "stride", d, 1)
        self.padding = check_int_tuple(padding, "padding", d, 0)
        self.dilation = check_int_tuple(dilation, "dilation", d, 1)
        self.ceil_mode = check_bool(ceil_mode, "ceil_mode")
        _check_padding(self.padding, self.kernel_size)
        fields = np.repeat(np.arange(len(in_type)), [r.size for r in in_type.representations])
        self.register_buffer("field_of_channel", torch.as_tensor(fields, dtype=torch.long), persistent=False)

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        if x.coords is not None:
            raise ValueError("input: NormMaxPool pools a grid; got a point-cloud tensor (with coords)")
        y = _norm_max_pool(
            x.tensor,
            self.field_of_channel,
            len(self.in_type),
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
        )
        return GeometricTensor(y, self.out_type)

    def evaluate_output_shape(self, input_shape: Sequence[int]) -> tuple:
        d = self._d
        shape = tuple(int(v) for v in input_shape)
        if len(shape) != 2 + d or shape[1] != self.in_type.size:
            raise ValueError(
                f"input_shape: expected (B, {self.in_type.size}, *{d} spatial sizes), got {tuple(input_shape)}"
            )
        out = tuple(
            _pool_out_size(n, k, s, p, dl, self.ceil_mode)
            for n, k, s, p, dl in zip(shape[2:], self.kernel_size, self.stride, self.padding, self.dilation)
        )
        if any(o < 1 for o in out):
            raise ValueError(f"input_shape: spatial size {shape[2:]} is too small for kernel_size {self.kernel_size}")
        return (shape[0], self.out_type.size, *out)

    def export(self) -> torch.nn.Module:
        """A plain ``torch.nn.Module`` (norms, ``max_pool`` indices, gather) doing the same."""
        return _NormMaxPoolPlain(
            self.field_of_channel,
            len(self.in_type),
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.in_type!r}, kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )
