"""Gated nonlinearities: each gated field is multiplied by the sigmoid of an invariant gate.

For a trivial (invariant) scalar s and any field x, ``σ(s - b) · x`` transforms like x, so the
product is equivariant whatever x's representation. The induced variant gates each sub-block of an
induced field Ind_H^G σ with the matching channel of a quotient (G/H permutation) field.

Pairing: the k-th gate field gates the k-th gated field, both counted in field order. (escnn pairs
the gates with the gated fields sorted by field size; the two agree whenever the gated fields are
already in size order, e.g. all of one size.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from steerable._validation import check_bool
from steerable.group import directsum

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule, _ignored_kwargs
from .._validation import check_field_type
from ._pointwise import _as_batched, _same_layout_shape, _unbatch

__all__ = [
    "GatedNonLinearity1",
    "GatedNonLinearity2",
    "GatedNonLinearityUniform",
    "InducedGatedNonLinearity1",
    "GATES_ID",
    "GATED_ID",
]

GATES_ID = "gate"
GATED_ID = "gated"


# ------------------------------------------------------------------------------ index helpers
def _contiguous_range(idx: np.ndarray) -> tuple[int, int] | None:
    if idx.size and np.array_equal(idx, np.arange(idx[0], idx[0] + idx.size)):
        return int(idx[0]), int(idx[0] + idx.size)
    return None


def _select(t: torch.Tensor, rng: tuple[int, int] | None, idx: torch.Tensor | None) -> torch.Tensor:
    if rng is not None:
        return t.narrow(1, rng[0], rng[1] - rng[0])
    assert idx is not None  # _register_selection sets exactly one of the range and the index
    return t.index_select(1, idx)


class _GateLayout:
    """Channel bookkeeping shared by the gated modules and their exports.

    gate_idx: input channels of the gates (field order); gate_field: gate field of each gate
    channel (its bias); gated_idx: input channels of the gated fields (field order);
    gate_of_gated: for each gated channel, the position of its gate channel in gate_idx;
    out_perm (keep gates only): output channel -> position in cat([gates, gated]).
    """

    def __init__(self, gate_idx, gate_field, gated_idx, gate_of_gated, out_perm=None):
        self.gate_idx = np.asarray(gate_idx, dtype=np.int64)
        self.gate_field = np.asarray(gate_field, dtype=np.int64)
        self.gated_idx = np.asarray(gated_idx, dtype=np.int64)
        self.gate_of_gated = np.asarray(gate_of_gated, dtype=np.int64)
        self.out_perm = None if out_perm is None else np.asarray(out_perm, dtype=np.int64)


class _GateModule(torch.nn.Module):
    """A module holding a gate layout (``_register_layout``) and the gates' ``bias``: what
    :func:`_gate_forward` reads. Each index tensor is a non-persistent buffer, or None where the
    flag beside it says the selection is the identity (or a range)."""

    bias: torch.nn.Parameter | None
    _gate_range: tuple[int, int] | None  # the gate channels as a range, else _gate_idx
    _gate_idx: torch.Tensor | None
    _gated_range: tuple[int, int] | None  # the gated channels as a range, else _gated_idx
    _gated_idx: torch.Tensor | None
    _bias_identity: bool  # else _gate_field
    _gate_field: torch.Tensor | None
    _expand_identity: bool  # else _gate_of_gated
    _gate_of_gated: torch.Tensor | None
    _keep_gates: bool  # then _out_perm
    _out_perm: torch.Tensor | None

    def _register_buffer_or_none(self, name: str, value: np.ndarray | None) -> None:
        if value is None:
            setattr(self, name, None)
        else:
            self.register_buffer(name, torch.as_tensor(value), persistent=False)

    def _register_selection(self, name: str, idx: np.ndarray) -> None:
        rng = _contiguous_range(idx)
        setattr(self, f"_{name}_range", rng)
        self._register_buffer_or_none(f"_{name}_idx", idx.astype(np.int64) if rng is None else None)

    def _register_layout(self, lay: _GateLayout) -> None:
        self._register_selection("gate", lay.gate_idx)
        self._register_selection("gated", lay.gated_idx)
        self._bias_identity = bool(np.array_equal(lay.gate_field, np.arange(lay.gate_field.size)))
        self._register_buffer_or_none("_gate_field", None if self._bias_identity else lay.gate_field)
        self._expand_identity = bool(np.array_equal(lay.gate_of_gated, np.arange(lay.gate_of_gated.size)))
        self._register_buffer_or_none("_gate_of_gated", None if self._expand_identity else lay.gate_of_gated)
        self._keep_gates = lay.out_perm is not None
        self._register_buffer_or_none("_out_perm", lay.out_perm)

    def _copy_layout(self, src: _GateModule) -> None:
        for attr in ("_gate_range", "_gated_range", "_bias_identity", "_expand_identity", "_keep_gates"):
            setattr(self, attr, getattr(src, attr))
        for name in ("_gate_idx", "_gated_idx", "_gate_field", "_gate_of_gated", "_out_perm"):
            v = getattr(src, name)
            if isinstance(v, torch.Tensor):
                self.register_buffer(name, v.clone())
            else:
                setattr(self, name, None)


def _gate_forward(
    module: _GateModule,
    gates_src: torch.Tensor,
    gated_src: torch.Tensor,
    bias: torch.Tensor | None,
    fn: Callable = torch.sigmoid,
) -> torch.Tensor:
    g = _select(gates_src, module._gate_range, module._gate_idx)
    if bias is not None:
        b = bias if module._gate_field is None else bias.index_select(0, module._gate_field)
        g = g - b.view((1, -1) + (1,) * (g.dim() - 2))
    s = fn(g)
    x = _select(gated_src, module._gated_range, module._gated_idx)
    out = x * (s if module._gate_of_gated is None else s.index_select(1, module._gate_of_gated))
    if module._out_perm is not None:
        out = torch.cat([s, out], 1).index_select(1, module._out_perm)
    return out


class _PlainGate(_GateModule):
    """Plain-torch gated nonlinearity (export): ``forward(x)`` for one input, or
    ``forward(gates, x)`` for :class:`GatedNonLinearity2`."""

    def __init__(self, source: _GateModule, two_inputs: bool = False):
        super().__init__()
        self._copy_layout(source)
        self.two_inputs = two_inputs
        self.bias = None if source.bias is None else torch.nn.Parameter(source.bias.detach().clone())

    def forward(self, x: torch.Tensor, gated: torch.Tensor | None = None) -> torch.Tensor:
        if self.two_inputs:
            if gated is None:
                raise TypeError("gated: this export of GatedNonLinearity2 is called as forward(gates, x); x is missing")
            return _gate_forward(self, x, gated, self.bias)
        return _gate_forward(self, x, x, self.bias)


# ------------------------------------------------------------------------------ labels
def _parse_labels(in_type: FieldType, gates) -> list[str]:
    n = len(in_type)
    if gates is None:
        if n % 2:
            raise ValueError(
                f"gates: by default the first half of the fields are the gates and the second half the gated "
                f"fields, but {in_type!r} has an odd number of fields ({n}); pass gates=[...] explicitly"
            )
        return [GATES_ID] * (n // 2) + [GATED_ID] * (n // 2)
    if isinstance(gates, str) or not isinstance(gates, Sequence):
        raise TypeError(f"gates: expected a list of {GATES_ID!r}/{GATED_ID!r} labels, got {type(gates).__name__}")
    labels = list(gates)
    if len(labels) != n:
        raise ValueError(f"gates: expected one label per field ({n}), got {len(labels)}")
    for i, lab in enumerate(labels):
        if lab not in (GATES_ID, GATED_ID):
            raise ValueError(f"gates: label {i} is {lab!r}; expected {GATES_ID!r} or {GATED_ID!r}")
    n_gates = labels.count(GATES_ID)
    if n_gates != n - n_gates:
        raise ValueError(
            f"gates: the number of gate fields ({n_gates}) must equal the number of gated fields ({n - n_gates})"
        )
    return labels


def _check_scalar_gates(ftype: FieldType, fields: Sequence[int], module: str, arg: str) -> None:
    for i in fields:
        r = ftype.representations[i]
        if not (r.is_trivial() and r.size == 1 and GATES_ID in r.supported_nonlinearities):
            raise ValueError(
                f"{arg}: {module} needs every gate to be a 1-dimensional trivial field; field {i} of {ftype!r} "
                f"has representation {r!r}"
            )


def _check_gated(ftype: FieldType, fields: Sequence[int], module: str, arg: str) -> None:
    bad = [i for i in fields if GATED_ID not in ftype.representations[i].supported_nonlinearities]
    if bad:
        r = ftype.representations[bad[0]]
        raise ValueError(f"{arg}: {module}: field {bad[0]} of {ftype!r} ({r!r}) does not support 'gated'")


def _single_layout(in_type: FieldType, labels: list[str], drop_gates: bool, sub_size=None) -> _GateLayout:
    """Layout for one input tensor; ``sub_size[k]`` is the number of gated channels per gate
    channel in pair k (None: the whole field per (1-channel) gate)."""
    gate_fields = [i for i, lab in enumerate(labels) if lab == GATES_ID]
    gated_fields = [i for i, lab in enumerate(labels) if lab == GATED_ID]
    st, en = in_type.fields_start, in_type.fields_end
    gate_idx: list[int] = []
    gate_field: list[int] = []
    gate_pos_start: list[int] = []
    for k, f in enumerate(gate_fields):
        gate_pos_start.append(len(gate_idx))
        gate_idx += range(int(st[f]), int(en[f]))
        gate_field += [k] * int(en[f] - st[f])
    gated_idx: list[int] = []
    gate_of_gated: list[int] = []
    for k, f in enumerate(gated_fields):
        size = int(en[f] - st[f])
        gated_idx += range(int(st[f]), int(en[f]))
        d = size if sub_size is None else sub_size[k]
        gate_of_gated += [gate_pos_start[k] + j // d for j in range(size)]
    out_perm = None
    if not drop_gates:
        n_g = len(gate_idx)
        pos_gate = {c: p for p, c in enumerate(gate_idx)}
        pos_gated = {c: n_g + p for p, c in enumerate(gated_idx)}
        out_perm = [pos_gate[c] if c in pos_gate else pos_gated[c] for c in range(in_type.size)]
    return _GateLayout(gate_idx, gate_field, gated_idx, gate_of_gated, out_perm)


# ------------------------------------------------------------------------------ modules
class _GatedBase(_GateModule, EquivariantModule):
    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        t, sq = _as_batched(x.tensor)
        out = _gate_forward(self, t, t, self.bias)
        return GeometricTensor(_unbatch(out, sq), self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape: Sequence[int]) -> tuple:
        return _same_layout_shape(self, input_shape)

    def export(self) -> torch.nn.Module:
        """A plain ``torch.nn.Module`` computing the same function on ``.tensor`` (B, C, ...)."""
        return _PlainGate(self).train(self.training)

    def extra_repr(self) -> str:
        return f"{self.in_type!r} -> {self.out_type!r}, drop_gates={self.drop_gates}"


class GatedNonLinearity1(_GatedBase):
    """Gated nonlinearity with gates and gated fields in one tensor.

    ``gates`` has one label per field, ``'gate'`` or ``'gated'``; the k-th gate field (a
    1-dimensional trivial field) gates the k-th gated field (any field supporting ``'gated'``):
    ``out = sigmoid(gate - b) · field`` with a learnable bias ``b`` per gate (initially 0). By
    default (``gates=None``) the first half of the fields are the gates and the second half the
    gated fields (escnn). ``drop_gates=True`` removes the gates from the output; otherwise they are
    kept in place as ``sigmoid(gate - b)`` and the output type equals the input type.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import GatedNonLinearity1
    >>> gs = gspaces.rot2dOnR2(-1)
    >>> t = nn.FieldType(gs, [gs.trivial_repr] * 2 + [gs.irrep(1), gs.irrep(2)])
    >>> gate = GatedNonLinearity1(t)
    >>> gate.out_type.size
    4
    >>> _ = gate.check_equivariance()
    """

    def __init__(self, in_type: FieldType, gates: Sequence[str] | None = None, drop_gates: bool = True, **kwargs):
        super().__init__()
        _ignored_kwargs(type(self).__name__, kwargs)
        check_field_type(in_type)
        labels = _parse_labels(in_type, gates)
        self.drop_gates = check_bool(drop_gates, "drop_gates")
        gate_fields = [i for i, lab in enumerate(labels) if lab == GATES_ID]
        gated_fields = [i for i, lab in enumerate(labels) if lab == GATED_ID]
        _check_scalar_gates(in_type, gate_fields, type(self).__name__, "in_type")
        _check_gated(in_type, gated_fields, type(self).__name__, "in_type")
        self.in_type = in_type
        self.out_type = in_type.index_select(gated_fields) if self.drop_gates else in_type
        self.gates = labels
        self._register_layout(_single_layout(in_type, labels, self.drop_gates))
        self.bias = torch.nn.Parameter(torch.zeros(len(gate_fields)))


class InducedGatedNonLinearity1(_GatedBase):
    """Gated nonlinearity for induced fields: a quotient field gates an induced field sub-block
    by sub-block.

    The gate fields carry a permutation representation of the cosets of a subgroup H (the
    quotient representation G/H, ``q = [G:H]`` channels); the k-th gate field gates the k-th
    gated field, an induced representation Ind_H^G σ in its natural basis (``q`` contiguous
    sub-blocks of ``dim σ`` channels, one per coset): sub-block j is multiplied by
    ``sigmoid(gate_j - b)``, with one learnable bias per gate field. This is equivariant exactly
    when ρ_gated(g) maps sub-block j onto sub-block i iff the gate's permutation maps j to i; that
    is verified at construction for every pair. 1-dimensional trivial gates (q = 1) gate a whole
    field as in :class:`GatedNonLinearity1`. ``gates`` and ``drop_gates`` as there.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import InducedGatedNonLinearity1
    >>> gs = gspaces.flipRot2dOnR2(6)
    >>> G = gs.fibergroup
    >>> H, _, _ = G.subgroup((None, 3))
    >>> t = nn.FieldType(gs, [G.quotient_representation((None, 3)), G.induced_representation((None, 3), H.irrep(1))])
    >>> gate = InducedGatedNonLinearity1(t)
    >>> gate.out_type.size
    8
    >>> _ = gate.check_equivariance()
    """

    def __init__(self, in_type: FieldType, gates: Sequence[str] | None = None, drop_gates: bool = True, **kwargs):
        super().__init__()
        _ignored_kwargs(type(self).__name__, kwargs)
        check_field_type(in_type)
        labels = _parse_labels(in_type, gates)
        self.drop_gates = check_bool(drop_gates, "drop_gates")
        gate_fields = [i for i, lab in enumerate(labels) if lab == GATES_ID]
        gated_fields = [i for i, lab in enumerate(labels) if lab == GATED_ID]
        _check_gated(in_type, gated_fields, type(self).__name__, "in_type")
        reps = in_type.representations
        cache: dict = {}
        sub_size = []
        for gf, df in zip(gate_fields, gated_fields):
            key = (reps[gf], reps[df])
            if key not in cache:
                cache[key] = _induced_pair_check(reps[gf], reps[df])
            err = cache[key]
            if isinstance(err, str):
                raise ValueError(
                    f"in_type: {type(self).__name__}: gate field {gf} ({reps[gf]!r}) cannot gate field {df} "
                    f"({reps[df]!r}) of {in_type!r}: {err}"
                )
            sub_size.append(err)
        self.in_type = in_type
        self.out_type = in_type.index_select(gated_fields) if self.drop_gates else in_type
        self.gates = labels
        self._register_layout(_single_layout(in_type, labels, self.drop_gates, sub_size))
        self.bias = torch.nn.Parameter(torch.zeros(len(gate_fields)))


def _induced_pair_check(gate_rep, gated_rep, tol: float = 1e-8):
    """The sub-block size d if ``gate_rep`` (a permutation representation on q points) and
    ``gated_rep`` (q contiguous blocks of d channels) are compatible; otherwise a reason."""
    q, n = gate_rep.size, gated_rep.size
    if n % q:
        return f"the gated field's size {n} is not a multiple of the gate's size {q}"
    d = n // q
    G = gate_rep.group
    elems = list(G.generators)
    elems = elems + [~g for g in elems]
    P = np.asarray(gate_rep.matrices(elems))
    R = np.asarray(gated_rep.matrices(elems))
    r = np.round(P)
    if not (
        np.allclose(P, r, atol=tol) and np.all((r == 0) | (r == 1)) and np.all(r.sum(1) == 1) and np.all(r.sum(2) == 1)
    ):
        return "the gate's representation is not a permutation (quotient) representation"
    blocks = np.abs(R).reshape(len(elems), q, d, q, d).max(axis=(2, 4)) > tol
    if not np.array_equal(blocks, r.astype(bool)):
        return (
            f"the gated representation does not permute its {q} sub-blocks of {d} channels as the gate "
            f"permutes its channels (is it induced from the gate's subgroup, in its natural basis?)"
        )
    return d


class GatedNonLinearity2(_GateModule, EquivariantModule):
    """Gated nonlinearity with the gates and the gated fields in two tensors.

    ``in_type = (gates_type, gated_type)``: ``gates_type`` has one 1-dimensional trivial field per
    field of ``gated_type``. ``forward(gates, x)`` (or ``forward((gates, x))``) returns
    ``sigmoid(gate_k - b_k) · x_k`` for every field k, of type ``gated_type``.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import GatedNonLinearity2
    >>> gs = gspaces.rot3dOnR3()
    >>> tg = nn.FieldType(gs, [gs.trivial_repr] * 2)
    >>> tx = nn.FieldType(gs, [gs.irrep(1), gs.irrep(2)])
    >>> gate = GatedNonLinearity2((tg, tx))
    >>> gate(tg(torch.randn(1, 2, 3, 3, 3)), tx(torch.randn(1, 8, 3, 3, 3))).shape
    torch.Size([1, 8, 3, 3, 3])
    """

    # escnn's API: a pair of field types where every other module has one
    in_type: tuple[FieldType, FieldType]  # type: ignore[assignment]

    def __init__(self, in_type: tuple[FieldType, FieldType], **kwargs):
        super().__init__()
        _ignored_kwargs("GatedNonLinearity2", kwargs)
        if not isinstance(in_type, (tuple, list)) or len(in_type) != 2:
            raise TypeError(
                f"in_type: expected a pair (gates_type, gated_type) of FieldTypes, got {type(in_type).__name__}"
            )
        gtype = check_field_type(in_type[0], "in_type[0]")
        xtype = check_field_type(in_type[1], "in_type[1]")
        if gtype.gspace != xtype.gspace:
            raise ValueError("in_type: the gates and the gated fields must live on the same gspace")
        if len(gtype) != len(xtype):
            raise ValueError(
                f"in_type: the number of gates ({len(gtype)}) must equal the number of gated fields ({len(xtype)})"
            )
        _check_scalar_gates(gtype, range(len(gtype)), "GatedNonLinearity2", "in_type[0]")
        _check_gated(xtype, range(len(xtype)), "GatedNonLinearity2", "in_type[1]")
        self.in_type = (gtype, xtype)
        self.out_type = xtype
        self.drop_gates = True
        gate_of_gated = np.concatenate(
            [np.full(int(e - s), k) for k, (s, e) in enumerate(zip(xtype.fields_start, xtype.fields_end))]
        )
        lay = _GateLayout(np.arange(gtype.size), np.arange(gtype.size), np.arange(xtype.size), gate_of_gated)
        self._register_layout(lay)
        self.bias = torch.nn.Parameter(torch.zeros(len(gtype)))

    def _check_pair(self, gates, x) -> None:
        for arg, v, t in (("gates", gates, self.in_type[0]), ("input", x, self.in_type[1])):
            if not isinstance(v, GeometricTensor):
                raise TypeError(
                    f"{arg}: GatedNonLinearity2 expects a GeometricTensor of type {t!r}, got {type(v).__name__}"
                )
            if v.type != t:
                raise ValueError(f"{arg}: GatedNonLinearity2 expects field type {t!r}, got {v.type!r}")
        if gates.tensor.shape[:1] + gates.tensor.shape[2:] != x.tensor.shape[:1] + x.tensor.shape[2:]:
            raise ValueError(
                f"input: gates {tuple(gates.shape)} and gated fields {tuple(x.shape)} must agree on every axis but the channels"
            )

    def forward(self, gates, input: GeometricTensor | None = None) -> GeometricTensor:
        if input is None:
            if not isinstance(gates, (tuple, list)) or len(gates) != 2:
                raise TypeError("gates: pass forward(gates, input) or forward((gates, input))")
            gates, input = gates
        self._check_pair(gates, input)
        g, sq = _as_batched(gates.tensor)
        x, _ = _as_batched(input.tensor)
        out = _gate_forward(self, g, x, self.bias)
        return GeometricTensor(_unbatch(out, sq), self.out_type, input.coords)

    def evaluate_output_shape(self, *input_shapes) -> tuple:
        if (
            len(input_shapes) == 1
            and len(input_shapes[0]) == 2
            and all(isinstance(s, (tuple, list, torch.Size)) for s in input_shapes[0])
        ):
            input_shapes = tuple(input_shapes[0])
        if len(input_shapes) != 2:
            raise ValueError(
                f"input_shapes: expected the shapes of the gates and of the gated fields, got {input_shapes}"
            )
        gshape, xshape = (tuple(int(v) for v in s) for s in input_shapes)
        _same_layout_shape(self, gshape, in_size=self.in_type[0].size, out_size=self.out_type.size)
        out = _same_layout_shape(self, xshape, in_size=self.in_type[1].size, out_size=self.out_type.size)
        if gshape[:1] + gshape[2:] != xshape[:1] + xshape[2:]:
            raise ValueError(
                f"input_shapes: gates {gshape} and gated fields {xshape} must agree on every axis but the channels"
            )
        return out

    def export(self) -> torch.nn.Module:
        """A plain module with ``forward(gates, x)`` on plain tensors."""
        return _PlainGate(self, two_inputs=True).train(self.training)

    def extra_repr(self) -> str:
        return f"gates={self.in_type[0]!r}, gated={self.in_type[1]!r}"


class _PlainUniformGate(torch.nn.Module):
    gate: Callable[[torch.Tensor], torch.Tensor]
    _expand: torch.Tensor

    def __init__(self, source: GatedNonLinearityUniform):
        super().__init__()
        self.gate = source.gate
        self.n_fields, self.in_size, self.n_gates = source._n_fields, source._in_size, source._n_gates
        self.register_buffer("_expand", source._expand.clone())
        self.bias = torch.nn.Parameter(source.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _uniform_forward(self, x)


def _uniform_forward(m, t: torch.Tensor) -> torch.Tensor:
    b, sp = t.shape[0], t.shape[2:]
    v = t.reshape(b, m.n_fields, m.in_size, *sp)
    shape = (1, m.n_fields, m.n_gates) + (1,) * len(sp)
    s = m.gate(v[:, :, : m.n_gates] - m.bias.view(shape))
    out = v[:, :, m.n_gates :] * s.index_select(2, m._expand)
    return out.reshape(b, -1, *sp)


class GatedNonLinearityUniform(EquivariantModule):
    """Gated nonlinearity for uniform field types whose fields carry their own gates.

    Every field has the same representation ρ = ψ_0 ⊕ … ⊕ ψ_0 ⊕ ψ_1 ⊕ … ⊕ ψ_m with the identity
    change of basis: m trivial irreps (the gates) followed by m irreps (the gated parts). The i-th
    gated irrep of a field is multiplied by ``gate(gate_i - b_i)`` (``gate`` defaults to
    ``torch.sigmoid``; ``b`` is a learnable bias per field and gate, initially 0). The output
    field is ψ_1 ⊕ … ⊕ ψ_m (escnn's semantics).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.group import directsum
    >>> from steerable.nn import GatedNonLinearityUniform
    >>> gs = gspaces.rot2dOnR2(-1)
    >>> rho = directsum([gs.trivial_repr] * 2 + [gs.irrep(1), gs.irrep(3)])
    >>> t = nn.FieldType(gs, [rho] * 3)
    >>> gate = GatedNonLinearityUniform(t)
    >>> gate.out_type.size
    12
    >>> _ = gate.check_equivariance()
    """

    gate: Callable[[torch.Tensor], torch.Tensor]
    bias: torch.nn.Parameter
    _expand: torch.Tensor

    def __init__(self, in_type: FieldType, gate: Callable[[torch.Tensor], torch.Tensor] = torch.sigmoid):
        super().__init__()
        check_field_type(in_type)
        if not callable(gate):
            raise TypeError(f"gate: expected a callable, got {type(gate).__name__}")
        reps = in_type.representations
        rho = reps[0]
        if any(r != rho for r in reps[1:]):
            raise ValueError(
                f"in_type: GatedNonLinearityUniform needs a uniform field type (all fields equal), got {in_type!r}"
            )
        G = rho.group
        n_irr = len(rho.irreps)
        if n_irr % 2:
            raise ValueError(
                f"in_type: the field representation {rho!r} has {n_irr} irreps; GatedNonLinearityUniform needs an "
                f"even number (the first half trivial gates, the second half the gated irreps)"
            )
        if not np.allclose(rho.change_of_basis, np.eye(rho.size), atol=1e-10):
            raise ValueError(f"in_type: the field representation {rho!r} must have the identity change of basis")
        m = n_irr // 2
        gates_ids, gated_ids = rho.irreps[:m], rho.irreps[m:]
        if any(not G.irrep(*i).is_trivial() for i in gates_ids):
            raise ValueError(f"in_type: the first {m} irreps of {rho!r} must be trivial (the gates), got {gates_ids}")
        out_rho = directsum([G.irrep(*i) for i in gated_ids], name=f"gated({rho.name})")
        self.in_type = in_type
        self.out_type = FieldType(in_type.gspace, [out_rho] * len(in_type))
        self.gate = gate
        self._n_fields, self._in_size, self._n_gates = len(in_type), rho.size, m
        expand = np.concatenate([np.full(G.irrep(*i).size, k) for k, i in enumerate(gated_ids)])
        self.register_buffer("_expand", torch.as_tensor(expand, dtype=torch.long), persistent=False)
        self.bias = torch.nn.Parameter(torch.zeros(len(in_type), m))

    @property
    def n_fields(self):
        return self._n_fields

    @property
    def in_size(self):
        return self._in_size

    @property
    def n_gates(self):
        return self._n_gates

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        t, sq = _as_batched(x.tensor)
        return GeometricTensor(_unbatch(_uniform_forward(self, t), sq), self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape: Sequence[int]) -> tuple:
        return _same_layout_shape(self, input_shape)

    def export(self) -> torch.nn.Module:
        """A plain module computing the same function on ``.tensor`` (B, C, ...)."""
        return _PlainUniformGate(self).train(self.training)

    def extra_repr(self) -> str:
        return f"{self.in_type!r} -> {self.out_type!r}"
