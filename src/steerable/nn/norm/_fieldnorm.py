"""FieldNorm: per-sample, per-location normalisation of every field (escnn's ``FieldNorm``)."""

from __future__ import annotations

import warnings

import torch

from steerable._validation import check_bool, check_positive

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._validation import check_field_type, require_orthogonal
from ._base import _NormBase
from ._fields import _ORTHO_HINT, _ORTHO_WHY, _bview, _field_index, _field_matrix, _trivial_maps

__all__ = ["FieldNorm"]


def _field_norm(
    t: torch.Tensor,
    t_in: torch.Tensor,
    t_out: torch.Tensor,
    avg: torch.Tensor,
    fidx: torch.Tensor,
    weight: torch.Tensor | None,
    bias_c: torch.Tensor | None,
    eps: float,
) -> torch.Tensor:
    """FieldNorm's function on a plain tensor (B, C, ...); shared by the module and its export."""
    nd = t.dim()
    if t_in.shape[0]:
        coeff = torch.einsum("kc,bc...->bk...", t_in, t)
        t = t - torch.einsum("ck,bk...->bc...", t_out, coeff)
    var = torch.einsum("fc,bc...->bf...", avg, t * t)
    inv = torch.rsqrt(var + eps)
    if weight is not None:
        inv = inv * weight.reshape(1, -1, *(1,) * (nd - 2))
    out = t * inv.index_select(1, fidx)
    if bias_c is not None:
        out = out + _bview(bias_c, nd)
    return out


class _PlainFieldNorm(torch.nn.Module):
    """Plain-torch FieldNorm (exported): buffers only, no steerable objects."""

    t_in: torch.Tensor
    t_out: torch.Tensor
    avg: torch.Tensor
    fidx: torch.Tensor
    weight: torch.Tensor | None
    bias: torch.Tensor | None

    def __init__(self, t_in, t_out, avg, fidx, weight, bias_c, eps: float):
        super().__init__()
        self.eps = float(eps)
        self.register_buffer("t_in", t_in.detach().clone())
        self.register_buffer("t_out", t_out.detach().clone())
        self.register_buffer("avg", avg.detach().clone())
        self.register_buffer("fidx", fidx.detach().clone())
        self.register_buffer("weight", None if weight is None else weight.detach().clone())
        self.register_buffer("bias", None if bias_c is None else bias_c.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _field_norm(x, self.t_in, self.t_out, self.avg, self.fidx, self.weight, self.bias, self.eps)


class FieldNorm(_NormBase):
    """Normalises every field on its own, at every sample and location (escnn's ``FieldNorm``).

    No batch or spatial statistics and no running statistics: the same function in train and eval
    mode. For field ``f`` at one location, with ``P_f = T_out T_in`` the projector on its trivial
    irreps::

        μ = P_f x_f          σ² = |x_f - μ|² / dim f
        y_f = (x_f - μ) · w_f / sqrt(σ² + eps) + T_out b_f     (bias on trivial irreps only)

    Equivariant (also pointwise, under any fibre transformation) because ``P_f`` commutes with
    ρ(g) and ``|x_f - μ|`` is invariant for orthogonal ρ. A field made only of trivial irreps is
    mapped to its bias (a warning says so).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import FieldNorm
    >>> gs = gspaces.rot2dOnR2(8)
    >>> t = nn.FieldType(gs, [gs.regular_repr, gs.irrep(1)])
    >>> fn = FieldNorm(t, eps=1e-9)
    >>> y = fn(t(torch.randn(2, 10, 5, 5, generator=torch.Generator().manual_seed(0))))
    >>> y.shape
    torch.Size([2, 10, 5, 5])
    >>> bool(torch.allclose((y.tensor[:, 8:] ** 2).mean(1), torch.ones(2, 5, 5), atol=1e-3))
    True
    """

    weight: torch.nn.Parameter | None
    bias: torch.nn.Parameter | None
    _fidx: torch.Tensor
    _avg: torch.Tensor
    _t_in: torch.Tensor
    _t_out: torch.Tensor

    def __init__(self, in_type: FieldType, eps: float = 1e-5, affine: bool = True):
        super().__init__()
        check_field_type(in_type, owner="FieldNorm")
        require_orthogonal(in_type, "FieldNorm", why=_ORTHO_WHY, hint=_ORTHO_HINT)
        self.in_type = in_type
        self.out_type = in_type
        self.eps = check_positive(eps, "eps")
        self.affine = check_bool(affine, "affine")
        trivial = [f for f, r in enumerate(in_type.representations) if r.is_trivial()]
        if trivial:
            warnings.warn(
                f"FieldNorm: fields {trivial} of {in_type!r} contain only trivial irreps: their centred value "
                "is zero, so the output there is the bias (constant)",
                stacklevel=2,
            )
        fidx, sizes = _field_index(in_type)
        t_in, t_out, _ = _trivial_maps(in_type)
        self._ntriv = t_in.shape[0]
        if self.affine:
            self.weight = torch.nn.Parameter(torch.ones(len(sizes)))
            self.bias = torch.nn.Parameter(torch.zeros(self._ntriv)) if self._ntriv else None
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.register_buffer("_fidx", torch.as_tensor(fidx, dtype=torch.long), persistent=False)
        self.register_constant("_avg", _field_matrix(in_type, True))
        self.register_constant("_t_in", t_in)
        self.register_constant("_t_out", t_out)

    def reset_running_stats(self) -> None:
        """Nothing to reset: FieldNorm keeps no running statistics (for code written for the batch
        norms)."""

    def reset_parameters(self) -> None:
        with torch.no_grad():
            if self.weight is not None:
                self.weight.fill_(1.0)
            if self.bias is not None:
                self.bias.zero_()

    def _bias_c(self) -> torch.Tensor | None:
        return self._t_out @ self.bias if self.bias is not None else None

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        t = self._check_forward(x)
        out = _field_norm(t, self._t_in, self._t_out, self._avg, self._fidx, self.weight, self._bias_c(), self.eps)
        return GeometricTensor(out, self.out_type, x.coords)

    def export(self) -> torch.nn.Module:
        """A small plain ``torch.nn.Module`` (buffers: the trivial projections, the field indices,
        the current scale and bias) computing the same function on ``.tensor``."""
        with torch.no_grad():
            return _PlainFieldNorm(
                self._t_in, self._t_out, self._avg, self._fidx, self.weight, self._bias_c(), self.eps
            )
