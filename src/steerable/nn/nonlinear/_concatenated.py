"""Concatenated nonlinearity: every channel c becomes the pair (f(c), f(-c)) (e.g. CReLU)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from steerable.group import Representation, change_basis, directsum

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule
from .._validation import check_field_type, require_nonlinearity
from ._pointwise import _as_batched, _same_layout_shape, _unbatch

__all__ = ["ConcatenatedNonLinearity"]

_C_FUNCTIONS = {
    "c_relu": torch.relu,
    "c_sigmoid": torch.sigmoid,
    "c_tanh": torch.tanh,
}


def _is_permutation_rep(rep: Representation, tol: float = 1e-8, signed: bool = False) -> bool:
    """Whether ρ(g) is a permutation matrix (``signed``: a signed permutation, entries in
    {0, ±1}, one non-zero per row) on the generators, hence for every g."""
    G = rep.group
    mats = np.asarray(rep.matrices(list(G.generators)))
    r = np.round(mats)
    if not np.allclose(mats, r, atol=tol):
        return False
    ok = (r == 0) | (r == 1) | ((r == -1) if signed else False)
    return bool(np.all(ok) and np.all(np.abs(r).sum(axis=1) == 1) and np.all(np.abs(r).sum(axis=2) == 1))


def _concatenated_matrices(m: np.ndarray) -> np.ndarray:
    """(B, n, n) signed permutations → (B, 2n, 2n): how the pairs (f(x_i), f(-x_i)) move. Row j
    of ρ(g) holding s at column i sends x_i to s·x_i in slot j: the pair of i goes to the pair of
    j, swapped when s = -1."""
    pos, neg = (m > 0.5).astype(float), (m < -0.5).astype(float)
    b, n, _ = m.shape
    out = np.zeros((b, 2 * n, 2 * n))
    out[:, 0::2, 0::2] = pos
    out[:, 1::2, 1::2] = pos
    out[:, 0::2, 1::2] = neg
    out[:, 1::2, 0::2] = neg
    return out


def concatenated_representation(rep: Representation) -> Representation:
    """The representation of the output of the concatenated nonlinearity on a (signed)
    permutation representation ρ (escnn's 'concatenated' support: entries in {0, ±1}). Channel
    2i is f(x_i), channel 2i+1 is f(-x_i); for a permutation ρ this is ``kron(ρ(g), I₂)``, and an
    entry -1 swaps the pair. The result is a permutation representation.

    >>> import numpy as np
    >>> from steerable.group import cyclic_group
    >>> G = cyclic_group(3)
    >>> r = concatenated_representation(G.regular_representation)
    >>> g = G.element(1)
    >>> bool(np.allclose(r(g), np.kron(G.regular_representation(g), np.eye(2))))
    True
    >>> G8 = cyclic_group(8)
    >>> c = concatenated_representation(G8.irrep(2))   # the 90° rotation: a signed permutation
    >>> c.size, sorted(set(np.round(c(G8.element(2)).ravel(), 12).tolist()))
    (4, [0.0, 1.0])
    """
    nl = {"pointwise", "concatenated", "norm", "gated"}
    name = f"concatenated_{rep.name}"
    if _is_permutation_rep(rep):
        n = rep.size
        perm = np.zeros((2 * n, 2 * n))
        for c in range(2):
            for i in range(n):
                perm[2 * i + c, c * n + i] = 1.0  # copy c of channel i -> interleaved position
        return change_basis(directsum([rep, rep]), perm, name=name, supported_nonlinearities=nl)
    G = rep.group
    if G.continuous:
        raise ValueError(f"rep: {rep!r} of the continuous group {G.name} has no signed-permutation basis")
    return G._decompose(lambda batch: _concatenated_matrices(rep._matrices(batch)), 0, name, nl)


def _concat_forward(t: torch.Tensor, function: str) -> torch.Tensor:
    f = _C_FUNCTIONS[function]
    out = torch.stack([f(t), f(-t)], dim=2)  # (B, C, 2, ...)
    return out.reshape(t.shape[0], 2 * t.shape[1], *t.shape[2:])


class _PlainConcatenated(torch.nn.Module):
    """Plain-torch concatenated nonlinearity (export)."""

    def __init__(self, function: str):
        super().__init__()
        self.function = function

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _concat_forward(x, self.function)


class ConcatenatedNonLinearity(EquivariantModule):
    """For each channel x: the two channels ``(f(x), f(-x))``; the number of channels doubles.

    ``function``: ``'c_relu'`` (default), ``'c_sigmoid'``, ``'c_tanh'``. Every field needs
    ``'concatenated'`` support and a permutation representation ρ (regular, quotient, trivial);
    the output field of ρ is ``ρ ⊗ 1₂`` with the two channels of each input channel adjacent
    (see :func:`concatenated_representation`); it supports pointwise nonlinearities.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import ConcatenatedNonLinearity
    >>> gs = gspaces.flipRot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    >>> act = ConcatenatedNonLinearity(t)
    >>> act.out_type.size
    18
    >>> _ = act.check_equivariance()
    """

    def __init__(self, in_type: FieldType, function: str = "c_relu"):
        super().__init__()
        check_field_type(in_type)
        if not isinstance(function, str) or function not in _C_FUNCTIONS:
            raise ValueError(f"function: expected one of {sorted(_C_FUNCTIONS)}, got {function!r}")
        require_nonlinearity(
            in_type,
            "concatenated",
            "ConcatenatedNonLinearity",
            hint=" (permutation representations: regular, quotient, trivial)",
        )
        out_reps: dict = {}
        for i, r in enumerate(in_type.representations):
            if r in out_reps:
                continue
            if not _is_permutation_rep(r, signed=True):
                raise ValueError(
                    f"in_type: ConcatenatedNonLinearity needs (signed) permutation representations; field {i} of "
                    f"{in_type!r} has representation {r!r}, whose matrices are not signed permutations in its basis"
                )
            out_reps[r] = concatenated_representation(r)
        self.in_type = in_type
        self.out_type = FieldType(in_type.gspace, [out_reps[r] for r in in_type.representations])
        self.function = function

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        t, sq = _as_batched(x.tensor)
        return GeometricTensor(_unbatch(_concat_forward(t, self.function), sq), self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape: Sequence[int]) -> tuple:
        return _same_layout_shape(self, input_shape)

    def export(self) -> torch.nn.Module:
        """A plain module computing the same function on ``.tensor`` (B, C, ...)."""
        return _PlainConcatenated(self.function)

    def extra_repr(self) -> str:
        return f"{self.in_type!r}, function={self.function}"
