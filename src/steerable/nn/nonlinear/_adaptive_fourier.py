"""Adaptive sampling for Fourier nonlinearities (Inal & Cesa, 2024): exactly equivariant with few
group samples on continuous groups.

A Fourier nonlinearity ``y = A⁺ σ(A x)`` samples a band-limited function on a fixed grid
``{g_i}``; on a continuous group the grid does not move with the input, so equivariance is only
approximate. Here a small equivariant head predicts a *frame* ``h(x) ∈ G`` at every location,
with ``h(g·x) = g·h(x)``, and the function is sampled at ``{h(x) g_i}`` instead. Since
``f_x(h g_i) = f_{ρ(h)⁻¹x}(g_i)``, that is

    y = ρ_out(h) · A⁺ σ(A · ρ_in(h)⁻¹ x),

and ``y(ρ(g)x) = ρ(g) y(x)`` holds exactly for every g and any number of samples: the fixed-grid
nonlinearity acts on the canonicalised input ``ρ(h)⁻¹ x``, which is invariant.

Frames (``head``: an equivariant :class:`~steerable.nn.Linear` from the input fields to a few
vector fields, per location; ``'quadratic'`` adds a :class:`~steerable.nn.TensorProductModule`
path, so frames exist even for a single field whose first-order part cannot give two vectors):

- SO(2): the angle of one frequency-1 vector;
- O(2): the reflection bit from a pseudo-scalar (a linear one when the fields carry the sign
  irrep, else the determinant of two vectors), then the angle of the reflected vector;
- SO(3): Gram–Schmidt of two vectors (columns ``e₁, e₂, e₁ × e₂``);
- O(3): the parity bit from a pseudo-scalar (linear, or the triple product of three vectors),
  then the SO(3) frame of the parity-corrected vectors.

Degenerate features (documented fallback, where equivariance cannot be defined): a vector
shorter than ``eps`` is replaced by the first axis, a second vector (nearly) parallel to the first
by the coordinate axis least aligned with it, a pseudo-scalar within ``eps`` of 0 counts as
positive. So zero features give the identity frame: the layer is then the fixed-grid one.

Options: ``n_frames`` frames from independent heads, outputs averaged; ``learn_grid``: the base
grid ``g_i`` is a parameter (its continuous coordinates; ``A`` and its pseudo-inverse are
recomputed each call); the head reads every input field (``frame_from='all'``) or only the
first-order part of each (``'first_order'``: the irreps of frequency ≤ 1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.utils.checkpoint

from steerable._validation import check_int

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule
from ._adaptive_autograd import _AdaptiveFourierFn, _BlockRotate
from ._fourier import FourierPointwise, QuotientFourierPointwise, _fourier_apply

__all__ = [
    "AdaptiveFourierPointwise",
    "AdaptiveFourierELU",
    "AdaptiveQuotientFourierPointwise",
    "AdaptiveQuotientFourierELU",
    "frame_params",
]

_KINDS = {"SO(2)": "so2", "O(2)": "o2", "SO(3)": "so3", "O(3)": "o3"}
_HEADS = ("linear", "quadratic")
_FRAME_FROM = ("all", "first_order")


def _kind(G) -> str:
    k = _KINDS.get(G.name)
    if k is None:
        raise ValueError(
            f"gspace: adaptive Fourier sampling predicts frames in SO(2), O(2), SO(3) or O(3); got {G.name} "
            "(finite groups are exact with their regular grid: use FourierPointwise)"
        )
    return k


def _factors(G) -> list:
    """``[(factor, kind or None)]``: the group itself, or the two factors of a direct product
    (a finite factor has no frame: its grid must hold all of it, as the fixed grids do)."""
    from steerable.group._product import DirectProductGroup

    if not isinstance(G, DirectProductGroup):
        return [(G, _kind(G))]
    out = []
    for F in (G.G1, G.G2):
        if isinstance(F, DirectProductGroup) or (F.continuous and F.name not in _KINDS):
            raise ValueError(
                f"gspace: adaptive Fourier sampling on a product needs factors among SO(2), O(2), SO(3), O(3) "
                f"and finite groups; {G.name} has the factor {F.name}"
            )
        out.append((F, _KINDS.get(F.name)))
    if all(k is None for _, k in out):
        raise ValueError(f"gspace: {G.name} is finite: its regular grid is exact, use FourierPointwise")
    return out


def _lift(G, F, position: int, irrep):
    """The irrep of the product ``G`` that is ``irrep`` on the factor ``F`` (at ``position``) and
    trivial on the other; ``irrep`` itself when ``G`` is not a product."""
    if F is G:
        return irrep
    other = G.G2 if position == 0 else G.G1
    ids = (irrep.id, other.trivial_irrep_id) if position == 0 else (other.trivial_irrep_id, irrep.id)
    return G.irrep(*ids)


def _head_reps(G, kind: str, pseudo: bool) -> list:
    """The head's output representations for one frame: vectors (+ a pseudo-scalar)."""
    if kind == "so2":
        return [G.irrep(1)]
    if kind == "so3":
        return [G.irrep(1)] * 2
    if kind == "o2":
        return [G.irrep(1, 1)] * 2 + ([G.irrep(1, 0)] if pseudo else [])
    return [G.irrep(1, 1)] * 3 + ([G.irrep(1, 0)] if pseudo else [])


def _unit(v: torch.Tensor, eps: float, fallback: torch.Tensor) -> torch.Tensor:
    n = v.norm(dim=-1, keepdim=True)
    ok = n > eps
    return torch.where(ok, v / torch.where(ok, n, torch.ones_like(n)), fallback.expand_as(v))


def _rotation_from(c1: torch.Tensor, c2: torch.Tensor, eps: float) -> torch.Tensor:
    """Gram–Schmidt: rotation matrices (..., 3, 3) with columns e₁ ∝ c1, e₂ ∝ c2 ⊥ e₁, e₁ × e₂."""
    eye = torch.eye(3, dtype=c1.dtype, device=c1.device)
    e1 = _unit(c1, eps, eye[0])
    u = c2 - (c2 * e1).sum(-1, keepdim=True) * e1
    # fallback second vector: the coordinate axis least aligned with e1, made orthogonal to it
    axis = eye[(e1.abs()).argmin(-1)]
    alt = axis - (axis * e1).sum(-1, keepdim=True) * e1
    un = u.norm(dim=-1, keepdim=True)
    u = torch.where(un > eps, u, alt)
    e2 = u / u.norm(dim=-1, keepdim=True)
    e3 = torch.linalg.cross(e1, e2, dim=-1)
    return torch.stack([e1, e2, e3], -1)


def frame_params(kind: str, h: torch.Tensor, pseudo: bool = False, eps: float = 1e-6) -> torch.Tensor:
    """Group-element parameters (..., k) (the layout of :func:`steerable.group.functional.element_params`)
    of the frames given by the head outputs ``h`` (..., H) of one frame (see the module docstring):
    ``kind`` in ``'so2', 'o2', 'so3', 'o3'``; ``pseudo``: the last channel is a linear pseudo-scalar.

    >>> import torch
    >>> frame_params("so2", torch.tensor([[0.0, 2.0]], dtype=torch.float64)).tolist()  # the vector (0, 2): 90°
    [[0.0, 1.5707963267948966]]
    """
    from steerable.group.functional import matrix_to_quat

    if kind == "so2":
        v = h[..., :2]
        ok = v.norm(dim=-1) > eps
        phi = torch.where(ok, torch.atan2(v[..., 1], torch.where(ok, v[..., 0], torch.ones_like(v[..., 0]))), 0.0)
        return torch.stack([torch.zeros_like(phi), phi], -1)
    if kind == "o2":
        a, b = h[..., 0:2], h[..., 2:4]
        p = h[..., 4] if pseudo else a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
        flip = (p < -eps).to(h.dtype)  # reflected frames: h = s r_φ, s = diag(1, -1)
        v = torch.stack([a[..., 0], a[..., 1] * (1 - 2 * flip)], -1)
        ok = v.norm(dim=-1) > eps
        phi = torch.where(ok, torch.atan2(v[..., 1], torch.where(ok, v[..., 0], torch.ones_like(v[..., 0]))), 0.0)
        return torch.stack([flip, phi * (1 - 2 * flip)], -1)  # s r_φ = r_{-φ} s is the element (1, -φ)
    # SO(3)/O(3): irrep-1 coordinates are (y, z, x)
    cart = [h[..., 3 * i : 3 * i + 3][..., [2, 0, 1]] for i in range(3 if kind == "o3" else 2)]
    if kind == "so3":
        return matrix_to_quat(_rotation_from(cart[0], cart[1], eps))
    p = h[..., 9] if pseudo else torch.linalg.det(torch.stack(cart, -1))
    parity = (p < -eps).to(h.dtype)
    sign = (1 - 2 * parity)[..., None]
    R = _rotation_from(cart[0] * sign, cart[1] * sign, eps)
    return torch.cat([parity[..., None], matrix_to_quat(R)], -1)


class _RepBlocks:
    """Applies ρ(h) or ρ(h)ᵀ blockwise to (B, C, D, S) coefficient tensors, ρ = ⊕ψ with identity
    change of basis (the Fourier fields' representation)."""

    def __init__(self, rho):
        G = rho.group
        self.ids = list(rho.irreps)
        self.trivial = G.trivial_irrep_id
        sizes = [G.irrep(*i).size for i in self.ids]
        self.starts = [int(a) for a in np.cumsum([0] + sizes)[:-1]]
        self.size = int(sum(sizes))

    def layout(self, ids: list) -> list:
        """``(start, k)`` per irrep occurrence, ``k`` the position of its id in ``ids`` (-1: trivial)."""
        return [(a, -1 if i == self.trivial else ids.index(i)) for a, i in zip(self.starts, self.ids)]

    def apply(self, x: torch.Tensor, mats: dict, transpose: bool) -> torch.Tensor:
        """``mats[irrep id]``: (B, S, d, d) matrices ψ(h) at every location."""
        blocks = {
            i: (m.transpose(-1, -2) if transpose else m).permute(0, 2, 3, 1).contiguous()
            for i, m in mats.items()
            if i != self.trivial
        }
        one = x.new_ones(())  # a 0-d marker: the trivial irrep is not rotated
        return _BlockRotate.apply(x, self.starts, *[blocks.get(i, one) for i in self.ids])


class _AdaptiveBase(EquivariantModule):
    """Shared machinery: the frame heads, the canonicalisation around a fixed-grid core."""

    core: FourierPointwise | QuotientFourierPointwise
    grid_fixed: torch.Tensor
    grid_params: torch.nn.Parameter

    def _setup_adaptive(
        self, core, n_frames: int, head: str, frame_from: str, eps: float, learn_grid: bool, memory_light: bool
    ) -> None:
        from steerable.nn import Linear, TensorProductModule

        self.core = core
        gs = core.space
        G = gs.fibergroup
        self._factor_kinds = _factors(G)
        self.kind = self._factor_kinds[0][1] if len(self._factor_kinds) == 1 else "product"
        self.space = gs
        self.in_type, self.out_type = core.in_type, core.out_type
        self.channels = core.channels
        self.n_frames = check_int(n_frames, "n_frames", minimum=1, what="a positive integer")
        if head not in _HEADS:
            raise ValueError(f"head: expected one of {_HEADS}, got {head!r}")
        if frame_from not in _FRAME_FROM:
            raise ValueError(f"frame_from: expected one of {_FRAME_FROM}, got {frame_from!r}")
        if not isinstance(eps, (int, float)) or isinstance(eps, bool) or not eps > 0:
            raise ValueError(f"eps: expected a positive number, got {eps!r}")
        self.head_kind, self.frame_from, self.eps = head, frame_from, float(eps)
        self._blocks_in, self._blocks_out = _RepBlocks(core.rho), _RepBlocks(core.rho_out)

        # the head reads a sub-type of the fields: all irreps, or those of frequency <= 1
        from steerable.nn.implicit._mlp import irrep_frequency

        keep = [k for k, i in enumerate(core.rho.irreps) if frame_from == "all" or irrep_frequency(G, i) <= 1]
        sizes = [G.irrep(*i).size for i in core.rho.irreps]
        starts = np.cumsum([0] + sizes)
        cols = np.concatenate([np.arange(starts[k], starts[k + 1]) for k in keep])
        D = core.rho.size
        head_cols = np.concatenate([c * D + cols for c in range(self.channels)])
        # None: the head reads every column (no copy)
        self._head_cols = None if len(head_cols) == D * self.channels else torch.as_tensor(head_cols)
        from steerable.group import Representation

        head_rep = Representation(G, "frame_input", [core.rho.irreps[k] for k in keep], None)
        head_in = FieldType(gs, [head_rep] * self.channels)
        present = {G.irrep(*i) for i in head_rep.irreps}
        # per factor with a frame: (position, kind, pseudo, frame size); finite factors: identity
        self._frame_parts: list = []
        frame_reps: list = []
        vecs: list = []
        for pos, (F, kind) in enumerate(self._factor_kinds):
            if kind is None:
                continue
            pseudo = kind in ("o2", "o3") and _lift(G, F, pos, F.irrep(1, 0)) in present
            reps = [_lift(G, F, pos, r) for r in _head_reps(F, kind, pseudo)]
            self._frame_parts.append((pos, kind, pseudo, sum(r.size for r in reps)))
            frame_reps += reps
            vecs.append(_lift(G, F, pos, F.irrep(1) if kind in ("so2", "so3") else F.irrep(1, 1)))
        self.pseudo = any(p[2] for p in self._frame_parts)
        self._frame_size = sum(r.size for r in frame_reps)
        head_out = FieldType(gs, frame_reps * self.n_frames)
        self.head = Linear(head_in, head_out, bias=False)
        if head == "quadratic":
            self.quadratic = TensorProductModule(head_in, FieldType(gs, vecs * self.channels))
            self.quadratic_head = Linear(self.quadratic.out_type, head_out, bias=False)
        else:
            self.quadratic = None
        self._mat_ids = sorted((set(core.rho.irreps) | set(core.rho_out.irreps)) - {G.trivial_irrep_id})
        self._layout_in = self._blocks_in.layout(self._mat_ids)
        self._layout_out = self._blocks_out.layout(self._mat_ids)
        self.learn_grid = bool(learn_grid)
        self.memory_light = bool(memory_light)
        if self.learn_grid:
            self._setup_learned_grid(core)

    # -- learned base grid --------------------------------------------------------------------
    def _setup_learned_grid(self, core) -> None:
        from steerable.group.functional import element_params

        if not isinstance(core, FourierPointwise):
            raise ValueError("learn_grid: a learned base grid is available for the full group (not the quotients)")
        if self.kind == "product":
            raise ValueError("learn_grid: a learned base grid is available for SO(2), O(2), SO(3), O(3), not products")
        p = element_params(core.grid, dtype=torch.get_default_dtype())
        cont = slice(1, None) if self.kind in ("so2", "o2", "o3") else slice(0, None)
        self._grid_discrete = cont.start or 0
        self.register_buffer("grid_fixed", p[:, : self._grid_discrete].clone())
        self.grid_params = torch.nn.Parameter(p[:, self._grid_discrete :].clone())

    def _learned_matrices(self, dtype) -> tuple[torch.Tensor, torch.Tensor]:
        from steerable.group.functional import sampling_matrix

        G = self.space.fibergroup
        q = self.grid_params.to(dtype)
        if self.kind in ("so3", "o3"):
            q = q / q.norm(dim=-1, keepdim=True)
        params = torch.cat([self.grid_fixed.to(dtype), q], -1)
        ids_in, ids_out = self.core.irreps, self.core.out_irreps
        ident = torch.as_tensor(np.array(G.identity._v), dtype=dtype)[None]
        A = sampling_matrix(G, ids_in, params)
        A = A / sampling_matrix(G, ids_in, ident).norm()
        A_out = sampling_matrix(G, ids_out, params)
        A_out = A_out / sampling_matrix(G, ids_out, ident).norm()
        return A, torch.linalg.pinv(A_out)

    # -- forward --------------------------------------------------------------------------------
    def frames(self, x: GeometricTensor) -> torch.Tensor:
        """The frames' element parameters (B, S, n_frames, k) at the S locations of ``x``."""
        t = x.tensor
        h = self._linear_head(t)
        if self.quadratic is not None:
            if self._head_cols is not None:
                t = t.index_select(1 if t.dim() > 1 else 0, self._head_cols.to(t.device))
            sub = GeometricTensor(t, self.head.in_type, x.coords)
            h = h + self.quadratic_head(self.quadratic(sub)).tensor
        b = x.tensor.shape[0]
        h = h.reshape(b, h.shape[1], -1).transpose(1, 2)  # (B, S, n_frames·F)
        h = h.reshape(b, h.shape[1], self.n_frames, self._frame_size)
        if self.kind != "product":
            return frame_params(self.kind, h, self.pseudo, self.eps)
        parts, a = {}, 0
        for pos, kind, pseudo, size in self._frame_parts:
            parts[pos] = frame_params(kind, h[..., a : a + size], pseudo, self.eps)
            a += size
        out = []
        for pos, (F, kind) in enumerate(self._factor_kinds):
            if kind is None:  # a finite factor: the identity (its grid holds the whole factor)
                e = torch.as_tensor(np.asarray(F._identity_value()), dtype=h.dtype, device=h.device)
                out.append(e.expand(*h.shape[:-1], e.shape[0]))
            else:
                out.append(parts[pos])
        return torch.cat(out, -1)

    def _linear_head(self, t: torch.Tensor) -> torch.Tensor:
        """The linear head on the raw tensor: its matrix spread over all of x's columns (zeros on
        the columns it does not read), one batched matmul on the (B, C·D, S) view, no copy of x."""
        m, _ = self.head._matrix()
        if self._head_cols is not None:
            full = m.new_zeros(m.shape[0], t.shape[1 if t.dim() > 1 else 0])
            m = full.index_copy(1, self._head_cols.to(m.device), m)
        m = m.to(t.dtype)
        if t.dim() <= 2:
            return torch.nn.functional.linear(t, m)
        # bmm on the expanded matrix: matmul would fold x into one (B·S, C·D) copy for backward
        h = torch.bmm(m.expand(t.shape[0], -1, -1), t.reshape(t.shape[0], t.shape[1], -1))
        return h.reshape(t.shape[0], m.shape[0], *t.shape[2:])

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        from steerable.group.functional import irrep_matrices

        G = self.space.fibergroup
        t = x.tensor
        squeeze = t.dim() == 1
        if squeeze:
            t = t.unsqueeze(0)
            x = GeometricTensor(t, self.in_type, x.coords)
        b, spatial = t.shape[0], t.shape[2:]
        c = self.channels
        xt = t.reshape(b, c, self._blocks_in.size, -1)  # (B, C, D, S)
        params = self.frames(x)  # (B, S, F, k)
        if self.learn_grid:
            A, A_inv = self._learned_matrices(t.dtype)
            recompute = self.memory_light
        else:
            A, A_inv = self.core.A, self.core.A_inv
            if A.dtype != t.dtype:
                A = torch.as_tensor(self.core.constant_master("A"), dtype=t.dtype, device=t.device)
                A_inv = torch.as_tensor(self.core.constant_master("A_inv"), dtype=t.dtype, device=t.device)
            recompute = self.memory_light
        ids = self._mat_ids
        fn = self.core.function
        # memory-light with a fixed base grid and a named σ: the fused autograd function (keeps x,
        # the frames' blocks); a learned grid or a callable σ: checkpointing of the chain
        fused = recompute and torch.is_grad_enabled() and not self.learn_grid and isinstance(fn, str)
        out = None

        def canonical(xt, A, A_inv, *mats_list):
            """ρ(h) · A⁺ σ(A · ρ(h)⁻¹ x)."""
            mats = dict(zip(ids, mats_list))
            xc = self._blocks_in.apply(xt, mats, transpose=True)  # ρ(h)⁻¹ x: invariant
            yc = _fourier_apply(xc.reshape(b, -1, *spatial), A, A_inv, c, self.core.function, False)
            return self._blocks_out.apply(yc.reshape(b, c, self._blocks_out.size, -1), mats, transpose=False)

        for f in range(self.n_frames):
            mats_list = [irrep_matrices(G.irrep(*i), params[:, :, f]).to(t.dtype) for i in ids]
            if fused:
                blocks = [m.permute(0, 2, 3, 1).contiguous() for m in mats_list]
                y = _AdaptiveFourierFn.apply(xt, A, A_inv, fn, self._layout_in, self._layout_out, *blocks)
            elif recompute and torch.is_grad_enabled():
                # memory-light: keep x and the frames only; the rotations and the samples are
                # recomputed in backward (as the fixed-grid layers recompute their samples)
                y = torch.utils.checkpoint.checkpoint(canonical, xt, A, A_inv, *mats_list, use_reentrant=False)
            else:
                y = canonical(xt, A, A_inv, *mats_list)
            out = y if out is None else out + y
        assert out is not None
        if self.n_frames > 1:
            out = out / self.n_frames
        out = out.reshape(b, -1, *spatial)
        return GeometricTensor(out.squeeze(0) if squeeze else out, self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape):
        return self.core.evaluate_output_shape(input_shape)

    def export(self) -> torch.nn.Module:
        """A plain module on bare tensors computing the same function
        (:class:`~steerable.nn.nonlinear._adaptive_export.AdaptiveFourierExport`: dense head
        matrices, einsum rotations, the grid's ``A``/``A⁺``; a learned grid is frozen)."""
        from ._adaptive_export import AdaptiveFourierExport

        return AdaptiveFourierExport(self).train(self.training)

    def extra_repr(self) -> str:
        return (
            f"{self.core.extra_repr()}, adaptive frames={self.n_frames}, head={self.head_kind!r}, "
            f"frame_from={self.frame_from!r}, learn_grid={self.learn_grid}"
        )


_ARGS = """
    Adaptive options (keyword only): ``n_frames`` (int, default 1: frames from independent heads,
    outputs averaged), ``head`` (``'linear'`` or ``'quadratic'``), ``frame_from`` (``'all'`` or
    ``'first_order'``: the irreps the head reads), ``eps`` (float, default 1e-6: the degeneracy
    threshold), ``learn_grid`` (bool, default False; full group only), ``memory_light`` (bool,
    default True: training keeps only the input and the frames for backward and recomputes the
    rotated fields and the samples, like the fixed-grid layers; False keeps the plain graph).
"""


class AdaptiveFourierPointwise(_AdaptiveBase):
    __doc__ = (
        """:class:`~steerable.nn.FourierPointwise` sampled on an input-dependent grid ``{h(x) g_i}``
    (see the module docstring): exactly equivariant to every element of SO(2), O(2), SO(3) or
    O(3), whatever the number of grid points (``G.grid(*grid_args, **grid_kwargs)``; e.g.
    ``'regular', 4`` for SO(2), ``'thomson', 4`` for SO(3)). Same arguments as
    ``FourierPointwise``; works on grids, point clouds and ``no_base_space``.
    """
        + _ARGS
        + """
    >>> import torch
    >>> from steerable import gspaces
    >>> from steerable.nn import AdaptiveFourierPointwise
    >>> gs = gspaces.rot2dOnR2(-1, maximum_frequency=3)
    >>> act = AdaptiveFourierPointwise(gs, 4, 3, 'regular', 4, function='p_elu')
    >>> x = act.in_type(torch.randn(2, act.in_type.size, 5, 5))
    >>> act(x).shape
    torch.Size([2, 28, 5, 5])
    """
    )

    def __init__(
        self,
        gspace,
        channels: int,
        irreps,
        *grid_args: Any,
        function: str | Callable = "p_relu",
        out_irreps=None,
        normalize: bool = True,
        n_frames: int = 1,
        head: str = "linear",
        frame_from: str = "all",
        eps: float = 1e-6,
        learn_grid: bool = False,
        memory_light: bool = True,
        **grid_kwargs: Any,
    ):
        super().__init__()
        core = FourierPointwise(
            gspace,
            channels,
            irreps,
            *grid_args,
            function=function,
            out_irreps=out_irreps,
            normalize=normalize,
            _strict=False,
            **grid_kwargs,
        )
        self._setup_adaptive(core, n_frames, head, frame_from, eps, learn_grid, memory_light)


class AdaptiveFourierELU(AdaptiveFourierPointwise):
    """:class:`AdaptiveFourierPointwise` with ELU.

    >>> import torch
    >>> from steerable import gspaces
    >>> from steerable.nn import AdaptiveFourierELU
    >>> gs = gspaces.no_base_space(__import__("steerable").group.so3_group(2))
    >>> act = AdaptiveFourierELU(gs, 3, 2, 'thomson', 4)      # 4 samples on SO(3)
    >>> act(act.in_type(torch.randn(8, act.in_type.size))).shape
    torch.Size([8, 105])
    """

    def __init__(self, gspace, channels: int, irreps, *grid_args: Any, **kwargs: Any):
        if "function" in kwargs:
            raise TypeError("function: AdaptiveFourierELU always applies ELU; use AdaptiveFourierPointwise")
        super().__init__(gspace, channels, irreps, *grid_args, function="p_elu", **kwargs)


class AdaptiveQuotientFourierPointwise(_AdaptiveBase):
    __doc__ = (
        """:class:`~steerable.nn.QuotientFourierPointwise` (functions on G/H, e.g. the sphere
    SO(3)/SO(2) with ``subgroup_id=(False, -1)``) sampled on the input-dependent points
    ``{h(x) g_i}``: exactly equivariant for any number of points (same arguments).
    """
        + _ARGS
        + """
    >>> import torch
    >>> from steerable import gspaces
    >>> from steerable.nn import AdaptiveQuotientFourierPointwise
    >>> gs = gspaces.rot3dOnR3(maximum_frequency=2)
    >>> act = AdaptiveQuotientFourierPointwise(gs, (False, -1), 3, 2, 'thomson', 6, function='p_elu')
    >>> act(act.in_type(torch.randn(2, 27, 3, 3, 3))).shape
    torch.Size([2, 27, 3, 3, 3])
    """
    )

    def __init__(
        self,
        gspace,
        subgroup_id: Any,
        channels: int,
        irreps,
        *grid_args: Any,
        grid: list | None = None,
        function: str | Callable = "p_relu",
        out_irreps=None,
        normalize: bool = True,
        n_frames: int = 1,
        head: str = "linear",
        frame_from: str = "all",
        eps: float = 1e-6,
        learn_grid: bool = False,
        memory_light: bool = True,
        **grid_kwargs: Any,
    ):
        super().__init__()
        if learn_grid:
            raise ValueError("learn_grid: a learned base grid is available for the full group (not the quotients)")
        core = QuotientFourierPointwise(
            gspace,
            subgroup_id,
            channels,
            irreps,
            *grid_args,
            grid=grid,
            function=function,
            out_irreps=out_irreps,
            normalize=normalize,
            _strict=False,
            **grid_kwargs,
        )
        self.subgroup_id = subgroup_id
        self._setup_adaptive(core, n_frames, head, frame_from, eps, False, memory_light)


class AdaptiveQuotientFourierELU(AdaptiveQuotientFourierPointwise):
    """:class:`AdaptiveQuotientFourierPointwise` with ELU.

    >>> import torch
    >>> from steerable import gspaces
    >>> from steerable.nn import AdaptiveQuotientFourierELU
    >>> gs = gspaces.rot3dOnR3(maximum_frequency=2)
    >>> act = AdaptiveQuotientFourierELU(gs, (False, -1), 2, 2, 'thomson', 4, head='quadratic')
    >>> act(act.in_type(torch.randn(5, 18), coords=torch.randn(5, 3))).shape
    torch.Size([5, 18])
    """

    def __init__(self, gspace, subgroup_id: Any, channels: int, irreps, *grid_args: Any, **kwargs: Any):
        if "function" in kwargs:
            raise TypeError("function: AdaptiveQuotientFourierELU always applies ELU")
        super().__init__(gspace, subgroup_id, channels, irreps, *grid_args, function="p_elu", **kwargs)
