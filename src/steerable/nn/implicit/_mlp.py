"""The implicit kernel: a G-equivariant MLP from offsets (and edge attributes) to filters.

For a gspace of ``G ≤ O(n)`` acting on R^n by ρ_b (``gspace.basespace_action``) and field types
ψ_in, ψ_out, a steerable kernel is any map ``k: R^n → Hom(ψ_in, ψ_out)`` with
``k(g x) = ψ_out(g) k(x) ψ_in(g)ᵀ``. Row-major flattening turns that into
``vec k(g x) = (ψ_out ⊗ ψ_in)(g) vec k(x)``: k is exactly a G-equivariant map from ρ_b to the
tensor-product representation, which an MLP of equivariant layers on ``no_base_space(G)``
provides (Zhdanov, Hoffmann & Cesa, "Implicit Convolutional Kernels for Steerable CNNs",
NeurIPS 2023). The pieces, all exactly equivariant for every element of G (continuous groups
included):

1. **lift**: ``x ↦ (‖x‖, x, x^{⊗2}, …, x^{⊗K}) ⊕ edge attributes`` (the tensor powers transform by
   ``ρ_b^{⊗k}``; degree-``k`` harmonics live in degree-``k`` polynomials, so ``K`` bounds the
   harmonic order the kernel can reach: gated and norm nonlinearities never raise it);
2. ``n_layers`` × [:class:`~steerable.nn.Linear` → optional
   :class:`~steerable.nn.IIDBatchNorm1d` → nonlinearity]: ``'fourier'`` (ELU on regular fields of a
   finite group, exact; for continuous groups :class:`~steerable.nn.FourierELU` on a grid,
   approximately equivariant), ``'gated'`` (ELU scalars, sigmoid-gated irreps) or ``'norm'`` (ELU
   scalars, norm-ReLU irreps);
3. a last ``Linear`` onto ``⊕_{pairs} ψ_out,a ⊗ ψ_in,b`` (one summand per (output field, input
   field) pair and convolution group), reshaped into the filter, scaled by ``1/√c_out``
   (``c_out`` output fields) and multiplied by the Gaussian envelope ``exp(-½ (‖x‖/σ)²)`` with
   learnable σ.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch

from steerable.gspaces import no_base_space
from steerable.nn._field_type import FieldType
from steerable.nn._geometric_tensor import GeometricTensor
from steerable.nn.conv._source import KernelSource

__all__ = ["ImplicitKernelSource", "irrep_frequency"]

_NONLINEARITIES = ("auto", "fourier", "gated", "norm")


def irrep_frequency(G, irrep_id) -> int:
    """The frequency (degree) of an irrep of ``G``: the least ``L`` with the id in
    ``G.bl_irreps(L)`` (0 for every irrep of a finite group without a notion of frequency).

    >>> from steerable.group import so3_group
    >>> from steerable.nn.implicit import irrep_frequency
    >>> irrep_frequency(so3_group(), (2,))
    2
    """
    key = tuple(irrep_id)
    for L in range(0, 64):
        if key in {tuple(i) for i in G.bl_irreps(L)}:
            return L
    raise ValueError(f"irrep_id: {irrep_id!r} is not an irrep of {G.name} of frequency below 64")


def _max_frequency(G, reps) -> int:
    return max((irrep_frequency(G, i) for r in reps for i in r.irreps), default=0)


def _fourier_grid_default(G) -> dict:
    name = G.name
    if name in ("SO(2)", "O(2)"):
        return {"type": "regular", "N": 16}
    if name in ("SO(3)", "O(3)"):
        return {"type": "thomson", "N": 96}
    raise ValueError(
        f"fourier_grid: nonlinearity='fourier' on the continuous group {name} needs the grid's arguments "
        "(the keywords of G.grid), e.g. fourier_grid={'type': 'regular', 'N': 16}"
    )


def _check_positive_int(v, name: str, minimum: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {v!r}")
    return int(v)


class _Lift(torch.nn.Module):
    """``x (S, n) ↦ (‖x‖, x, x⊗x, …, x^{⊗K})`` (S, 1 + n + … + n^K): row-major Kronecker powers,
    which transform by ``ρ_b^{⊗k}`` (the representation ``Representation.tensor`` builds)."""

    def __init__(self, order: int):
        super().__init__()
        self.order = int(order)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.shape[0]
        parts = [x.norm(dim=1, keepdim=True), x]
        p = x
        for _ in range(self.order - 1):
            p = (p.unsqueeze(2) * x.unsqueeze(1)).reshape(s, -1)
            parts.append(p)
        return torch.cat(parts, 1)


class ImplicitKernelSource(KernelSource):
    """A :class:`~steerable.nn.KernelSource` whose filter is a G-equivariant MLP of the offsets
    (see the module docstring for the construction); what the ``Implicit*Conv`` layers use.

    Args:
        in_type, out_type (FieldType): the fields of one convolution group (on a gspace of R^n).
        groups (int, default 1): the convolution's groups: one kernel per group (the MLP's output
            holds all of them).
        edge_type (FieldType or None): the field type of per-edge attributes fed to the MLP beside
            the offset (point convolutions), on the same gspace.
        hidden_channels (int, default 8): multiplicity of every hidden field (regular fields for
            ``'fourier'`` on finite groups; else each irrep up to ``max_frequency``).
        n_layers (int, default 2): hidden layers.
        nonlinearity (str, default ``'auto'``): ``'fourier'``, ``'gated'`` or ``'norm'``;
            ``'auto'`` is ``'fourier'`` for finite groups and ``'gated'`` for continuous ones.
        max_frequency (int or None): highest irrep frequency of the hidden fields; None: the
            highest frequency in ``ψ_out ⊗ ψ_in``.
        lift_order (int or None): the highest tensor power ``x^{⊗K}`` of the lift; None:
            ``max(1, max_frequency)`` (1 for ``'fourier'`` on finite groups, whose ELU on
            regular fields creates every frequency).
        batch_norm (bool, default False): an :class:`~steerable.nn.IIDBatchNorm1d` after every
            hidden ``Linear`` (statistics over the offsets of one call).
        sigma (float, default 1.0): initial width of the Gaussian envelope (in the normalised
            offsets' units); ``learn_sigma`` (default True) makes it a parameter (``log_sigma``).
        fourier_grid (dict or None): the keywords of ``G.grid`` for ``'fourier'`` on continuous
            groups (defaults for SO(2), O(2), SO(3), O(3)).
        offset_scale (float, default 1.0): the offsets are multiplied by it before the MLP (the grid
            convolutions set it so that the taps fill [-1, 1]^n; point convolutions to
            ``1/width``).

    ``forward(conv, points=None, edge_attr=None)`` → ``(groups, C_out/groups, C_in/groups, S)``;
    ``kernel(points, edge_attr=None)`` the same without a layer.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn.implicit import ImplicitKernelSource
    >>> gs = gspaces.rot3dOnR3()
    >>> t_in, t_out = nn.FieldType(gs, [gs.irrep(1)]), nn.FieldType(gs, [gs.irrep(0), gs.irrep(2)])
    >>> src = ImplicitKernelSource(t_in, t_out, hidden_channels=4)
    >>> x = torch.randn(7, 3, dtype=torch.float64)
    >>> src = src.double()
    >>> g = gs.fibergroup.sample(1, seed=0)[0]
    >>> R = torch.as_tensor(gs.basespace_matrix(g))
    >>> k, k_g = src.kernel(x)[0], src.kernel(x @ R.T)[0]           # (6, 3, 7)
    >>> A, B = torch.as_tensor(t_out.representation(g)), torch.as_tensor(t_in.representation(g))
    >>> bool(torch.allclose(k_g, torch.einsum("oa,abs,cb->ocs", A, k, B), atol=1e-10))
    True
    """

    def __init__(
        self,
        in_type: FieldType,
        out_type: FieldType,
        groups: int = 1,
        *,
        edge_type: FieldType | None = None,
        hidden_channels: int = 8,
        n_layers: int = 2,
        nonlinearity: str = "auto",
        max_frequency: int | None = None,
        lift_order: int | None = None,
        batch_norm: bool = False,
        sigma: float = 1.0,
        learn_sigma: bool = True,
        fourier_grid: Mapping | None = None,
        offset_scale: float = 1.0,
    ):
        super().__init__()
        from steerable.nn import FieldType as FT
        from steerable.nn import IIDBatchNorm1d, Linear, SequentialModule

        for arg, t in (("in_type", in_type), ("out_type", out_type)):
            if not isinstance(t, FieldType):
                raise TypeError(f"{arg}: expected a FieldType, got {type(t).__name__}")
        gs = in_type.gspace
        if out_type.gspace != gs:
            raise ValueError("out_type: in_type and out_type must live on the same gspace")
        if gs.dimensionality == 0 or gs.basespace_action is None:
            raise ValueError("in_type: implicit kernels need fields on a gspace of R^n (n >= 1)")
        if edge_type is not None:
            if not isinstance(edge_type, FieldType):
                raise TypeError(f"edge_type: expected a FieldType or None, got {type(edge_type).__name__}")
            if edge_type.gspace != gs:
                raise ValueError("edge_type: the edge attributes' field type must live on the layer's gspace")
        groups = _check_positive_int(groups, "groups")
        hidden_channels = _check_positive_int(hidden_channels, "hidden_channels")
        n_layers = _check_positive_int(n_layers, "n_layers", 0)
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(f"nonlinearity: expected one of {_NONLINEARITIES}, got {nonlinearity!r}")
        if not isinstance(sigma, (int, float)) or isinstance(sigma, bool) or not sigma > 0:
            raise ValueError(f"sigma: expected a positive number, got {sigma!r}")
        if not isinstance(offset_scale, (int, float)) or isinstance(offset_scale, bool) or not offset_scale > 0:
            raise ValueError(f"offset_scale: expected a positive number, got {offset_scale!r}")
        G = gs.fibergroup
        self.G = G
        if nonlinearity == "auto":
            nonlinearity = "gated" if G.continuous else "fourier"
        self.nonlinearity = nonlinearity
        gs0 = no_base_space(G)
        self.gspace0 = gs0

        # the output: one ψ_out,a ⊗ ψ_in,b per (group, output field, input field)
        pair_reps = [ro.tensor(ri) for ro in out_type.representations for ri in in_type.representations]
        need = _max_frequency(G, pair_reps)
        L = need if max_frequency is None else _check_positive_int(max_frequency, "max_frequency", 0)
        finite_fourier = nonlinearity == "fourier" and not G.continuous
        if lift_order is None:
            lift_order = 1 if finite_fourier else max(1, L)
        K = _check_positive_int(lift_order, "lift_order")

        # the lift ‖x‖ ⊕ x ⊕ x^{⊗2} ⊕ … ⊕ edge attributes
        rb = gs.basespace_action
        powers = [rb]
        for _ in range(K - 1):
            powers.append(powers[-1].tensor(rb))
        in_reps = [G.trivial_representation] + powers + (list(edge_type.representations) if edge_type else [])
        self.lift = _Lift(K)
        self.edge_type = edge_type
        self.mlp_in_type = FT(gs0, in_reps)

        layers: list = []
        t = self.mlp_in_type
        for _ in range(n_layers):
            hidden, act = self._hidden(gs0, hidden_channels, L, fourier_grid)
            layers.append(Linear(t, hidden))
            if batch_norm:
                layers.append(IIDBatchNorm1d(hidden))
            layers.append(act)
            t = act.out_type
        self.mlp_out_type = FT(gs0, pair_reps * groups)
        layers.append(Linear(t, self.mlp_out_type))
        self.mlp = SequentialModule(*layers)

        # output vector (pair-major, then (a, b) row-major inside a pair) -> (G, C_out, C_in)
        co, ci = out_type.size, in_type.size
        idx = np.empty((groups, co, ci), dtype=np.int64)
        pos = 0
        for g in range(groups):
            for so, eo in zip(out_type.fields_start, out_type.fields_end):
                for si, ei in zip(in_type.fields_start, in_type.fields_end):
                    do, di = eo - so, ei - si
                    idx[g, so:eo, si:ei] = pos + np.arange(do * di).reshape(do, di)
                    pos += do * di
        self.register_buffer("_gather", torch.as_tensor(idx.reshape(-1)), persistent=False)
        self.shape = (groups, co, ci)
        self.scale = 1.0 / math.sqrt(len(out_type))
        self.offset_scale = float(offset_scale)
        log_sigma = torch.tensor(math.log(float(sigma)))
        if learn_sigma:
            self.log_sigma = torch.nn.Parameter(log_sigma)
        else:
            self.register_buffer("log_sigma", log_sigma)
        self.in_type, self.out_type = in_type, out_type

    def _hidden(self, gs0, c: int, L: int, fourier_grid):
        """(hidden field type, activation module) of one hidden layer."""
        from steerable.nn import (
            ELU,
            FourierELU,
            GatedNonLinearity1,
            MultipleModule,
            NormNonLinearity,
        )
        from steerable.nn import (
            FieldType as FT,
        )

        G = gs0.fibergroup
        if self.nonlinearity == "fourier":
            if not G.continuous:
                t = FT(gs0, [G.regular_representation] * c)
                return t, ELU(t, inplace=False)
            grid = dict(fourier_grid) if fourier_grid is not None else _fourier_grid_default(G)
            act = FourierELU(gs0, c, G.bl_irreps(L), inplace=False, **grid)
            return act.in_type, act
        irreps = [G.irrep(*i) for i in G.bl_irreps(L)] if G.continuous else list(G.irreps())
        nontrivial = [r for r in irreps if r != G.trivial_representation]
        scalars = [G.trivial_representation] * c
        if self.nonlinearity == "gated":
            gated = [r for r in nontrivial for _ in range(c)]
            gates = [G.trivial_representation] * len(gated)
            t = FT(gs0, scalars + gates + gated)
            labels = ["scalar"] * len(scalars) + ["gate"] * (len(gates) + len(gated))
            mods: list = [(ELU(FT(gs0, scalars), inplace=False), "scalar")]
            if gated:
                gate_t = FT(gs0, gates + gated)
                lab = ["gate"] * len(gates) + ["gated"] * len(gated)
                mods.append((GatedNonLinearity1(gate_t, gates=lab), "gate"))
            else:
                labels = ["scalar"] * len(scalars)
                t = FT(gs0, scalars)
            return t, MultipleModule(t, labels, mods)
        # norm
        normed = [r for r in nontrivial for _ in range(c)]
        t = FT(gs0, scalars + normed)
        labels = ["scalar"] * len(scalars) + ["norm"] * len(normed)
        mods = [(ELU(FT(gs0, scalars), inplace=False), "scalar")]
        if normed:
            mods.append((NormNonLinearity(FT(gs0, normed), "n_relu"), "norm"))
        else:
            labels = labels[: len(scalars)]
        return t, MultipleModule(t, labels, mods)

    @property
    def sigma(self) -> torch.Tensor:
        """The envelope's width σ (in the normalised offsets' units)."""
        return self.log_sigma.exp()

    def kernel(self, points: torch.Tensor, edge_attr: torch.Tensor | GeometricTensor | None = None) -> torch.Tensor:
        """The filter ``(groups, C_out/groups, C_in/groups, S)`` at the offsets ``points`` (S, n)
        (multiplied by ``offset_scale`` first), with per-offset attributes ``edge_attr``
        (S, edge_type.size) when the source has an ``edge_type``."""
        flat, weight = self.kernel_rows(points, edge_attr)
        g, co, ci = self.shape
        return (flat * weight[:, None]).T.reshape(g, co, ci, -1)

    def kernel_rows(
        self, points: torch.Tensor, edge_attr: torch.Tensor | GeometricTensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(rows, weight)``: the MLP's filters before the envelope, one row per offset in the
        filter's layout, ``rows`` (S, groups·C_out/groups·C_in/groups), and the per-offset factor
        ``weight`` (S,) = envelope / √c_out; the filter at offset s is ``weight[s] · rows[s]``
        (point convolutions apply the factor to the messages, which are smaller)."""
        n = self.in_type.gspace.dimensionality
        if not isinstance(points, torch.Tensor) or points.dim() != 2 or points.shape[1] != n:
            raise ValueError(f"points: expected a tensor of shape (S, {n})")
        x = points * self.offset_scale
        feats = self.lift(x)
        if self.edge_type is not None:
            if edge_attr is None:
                raise ValueError(f"edge_attr: this kernel takes edge attributes of type {self.edge_type!r}")
            if isinstance(edge_attr, GeometricTensor):
                if edge_attr.type != self.edge_type:
                    raise ValueError(f"edge_attr: expected fields of {self.edge_type!r}, got {edge_attr.type!r}")
                edge_attr = edge_attr.tensor
            if (
                not isinstance(edge_attr, torch.Tensor)
                or edge_attr.dim() != 2
                or edge_attr.shape != (x.shape[0], self.edge_type.size)
            ):
                got = tuple(edge_attr.shape) if isinstance(edge_attr, torch.Tensor) else type(edge_attr).__name__
                raise ValueError(f"edge_attr: expected shape ({x.shape[0]}, {self.edge_type.size}), got {got}")
            feats = torch.cat([feats, edge_attr.to(feats.dtype)], 1)
        elif edge_attr is not None:
            raise ValueError("edge_attr: this kernel was built without an edge_type")
        layers = list(self.mlp.children())
        h = GeometricTensor(feats, self.mlp_in_type)
        for m in layers[:-1]:
            h = m(h)
        # the last Linear with its rows permuted into the filter's layout: the permutation acts on
        # the (pairs × hidden) matrix, not on the (S × pairs) output
        mat, bias = layers[-1]._matrix()
        mat = mat.index_select(0, self._gather)
        rows = torch.nn.functional.linear(h.tensor, mat, None if bias is None else bias.index_select(0, self._gather))
        r2 = (x * x).sum(1)
        weight = torch.exp(-0.5 * r2 / (self.log_sigma.to(x.dtype) * 2).exp()) * self.scale
        return rows, weight

    def forward(
        self, conv, points: torch.Tensor | None = None, edge_attr: torch.Tensor | GeometricTensor | None = None
    ) -> torch.Tensor:
        return self.kernel(self.offsets(conv, points), edge_attr)

    def extra_repr(self) -> str:
        return (
            f"{self.in_type!r} -> {self.out_type!r}, nonlinearity={self.nonlinearity!r}, "
            f"lift_order={self.lift.order}, sigma={float(self.log_sigma.detach().exp()):.3g}"
        )
