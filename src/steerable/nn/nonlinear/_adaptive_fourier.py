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

from steerable._validation import check_int

from .._field_type import FieldType
from .._geometric_tensor import GeometricTensor
from .._module import EquivariantModule
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
        self.ids: list = []
        self.index: list = []
        offsets: dict = {}
        pos = 0
        G = rho.group
        for i in rho.irreps:
            d = G.irrep(*i).size
            offsets.setdefault(i, []).append(np.arange(pos, pos + d))
            pos += d
        perm = []
        for i, blocks in offsets.items():
            self.ids.append(i)
            idx = np.concatenate(blocks)
            self.index.append((torch.as_tensor(idx), len(blocks), G.irrep(*i).size))
            perm.append(idx)
        self.inverse = torch.as_tensor(np.argsort(np.concatenate(perm)))
        self.trivial_perm = bool(np.array_equal(np.concatenate(perm), np.arange(pos)))
        self.size = pos

    def apply(self, x: torch.Tensor, mats: dict, transpose: bool) -> torch.Tensor:
        b, c, _, s = x.shape
        eq = "bsji,bcmjs->bcmis" if transpose else "bsij,bcmjs->bcmis"
        pieces = []
        for i, (idx, m, d) in zip(self.ids, self.index):
            xb = x.index_select(2, idx.to(x.device)).reshape(b, c, m, d, s)
            pieces.append(torch.einsum(eq, mats[i], xb).reshape(b, c, m * d, s))
        y = pieces[0] if len(pieces) == 1 else torch.cat(pieces, 2)
        return y if self.trivial_perm else y.index_select(2, self.inverse.to(x.device))


class _AdaptiveBase(EquivariantModule):
    """Shared machinery: the frame heads, the canonicalisation around a fixed-grid core."""

    core: FourierPointwise | QuotientFourierPointwise
    grid_fixed: torch.Tensor
    grid_params: torch.nn.Parameter

    def _setup_adaptive(self, core, n_frames: int, head: str, frame_from: str, eps: float, learn_grid: bool) -> None:
        from steerable.nn import Linear, TensorProductModule

        self.core = core
        gs = core.space
        G = gs.fibergroup
        self.kind = _kind(G)
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
        self._head_cols = torch.as_tensor(np.concatenate([c * D + cols for c in range(self.channels)]))
        from steerable.group import Representation

        head_rep = Representation(G, "frame_input", [core.rho.irreps[k] for k in keep], None)
        head_in = FieldType(gs, [head_rep] * self.channels)
        self.pseudo = self.kind in ("o2", "o3") and any(G.irrep(*i) == G.irrep(1, 0) for i in head_rep.irreps)
        frame_reps = _head_reps(G, self.kind, self.pseudo)
        self._frame_size = sum(r.size for r in frame_reps)
        head_out = FieldType(gs, frame_reps * self.n_frames)
        self.head = Linear(head_in, head_out, bias=False)
        if head == "quadratic":
            vec = G.irrep(1) if self.kind in ("so2", "so3") else G.irrep(1, 1)
            self.quadratic = TensorProductModule(head_in, FieldType(gs, [vec] * self.channels))
            self.quadratic_head = Linear(self.quadratic.out_type, head_out, bias=False)
        else:
            self.quadratic = None
        self._mat_ids = sorted(set(core.rho.irreps) | set(core.rho_out.irreps))
        self.learn_grid = bool(learn_grid)
        if self.learn_grid:
            self._setup_learned_grid(core)

    # -- learned base grid --------------------------------------------------------------------
    def _setup_learned_grid(self, core) -> None:
        from steerable.group.functional import element_params

        if not isinstance(core, FourierPointwise):
            raise ValueError("learn_grid: a learned base grid is available for the full group (not the quotients)")
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
        sub = GeometricTensor(
            t.index_select(1 if t.dim() > 1 else 0, self._head_cols.to(t.device)), self.head.in_type, x.coords
        )
        h = self.head(sub).tensor
        if self.quadratic is not None:
            h = h + self.quadratic_head(self.quadratic(sub)).tensor
        b = t.shape[0]
        h = h.reshape(b, h.shape[1], -1).transpose(1, 2)  # (B, S, n_frames·F)
        h = h.reshape(b, h.shape[1], self.n_frames, self._frame_size)
        return frame_params(self.kind, h, self.pseudo, self.eps)

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
            recompute = False  # the grid's gradient needs the plain graph
        else:
            A, A_inv = self.core.A, self.core.A_inv
            if A.dtype != t.dtype:
                A = torch.as_tensor(self.core.constant_master("A"), dtype=t.dtype, device=t.device)
                A_inv = torch.as_tensor(self.core.constant_master("A_inv"), dtype=t.dtype, device=t.device)
            recompute = True
        out = None
        for f in range(self.n_frames):
            mats = {i: irrep_matrices(G.irrep(*i), params[:, :, f]).to(t.dtype) for i in self._mat_ids}
            xc = self._blocks_in.apply(xt, mats, transpose=True)  # ρ(h)⁻¹ x: invariant
            yc = _fourier_apply(xc.reshape(b, -1, *spatial), A, A_inv, c, self.core.function, recompute)
            y = self._blocks_out.apply(yc.reshape(b, c, self._blocks_out.size, -1), mats, transpose=False)
            out = y if out is None else out + y
        assert out is not None
        if self.n_frames > 1:
            out = out / self.n_frames
        out = out.reshape(b, -1, *spatial)
        return GeometricTensor(out.squeeze(0) if squeeze else out, self.out_type, x.coords)

    def evaluate_output_shape(self, input_shape):
        return self.core.evaluate_output_shape(input_shape)

    def extra_repr(self) -> str:
        return (
            f"{self.core.extra_repr()}, adaptive frames={self.n_frames}, head={self.head_kind!r}, "
            f"frame_from={self.frame_from!r}, learn_grid={self.learn_grid}"
        )


_ARGS = """
    Adaptive options (keyword only): ``n_frames`` (int, default 1: frames from independent heads,
    outputs averaged), ``head`` (``'linear'`` or ``'quadratic'``), ``frame_from`` (``'all'`` or
    ``'first_order'``: the irreps the head reads), ``eps`` (float, default 1e-6: the degeneracy
    threshold), ``learn_grid`` (bool, default False; full group only).
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
        self._setup_adaptive(core, n_frames, head, frame_from, eps, learn_grid)


class AdaptiveFourierELU(AdaptiveFourierPointwise):
    """:class:`AdaptiveFourierPointwise` with ELU.

    >>> import torch
    >>> from steerable import gspaces
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
        self._setup_adaptive(core, n_frames, head, frame_from, eps, False)


class AdaptiveQuotientFourierELU(AdaptiveQuotientFourierPointwise):
    """:class:`AdaptiveQuotientFourierPointwise` with ELU.

    >>> import torch
    >>> from steerable import gspaces
    >>> gs = gspaces.rot3dOnR3(maximum_frequency=2)
    >>> act = AdaptiveQuotientFourierELU(gs, (False, -1), 2, 2, 'thomson', 4, head='quadratic')
    >>> act(act.in_type(torch.randn(5, 18), coords=torch.randn(5, 3))).shape
    torch.Size([5, 18])
    """

    def __init__(self, gspace, subgroup_id: Any, channels: int, irreps, *grid_args: Any, **kwargs: Any):
        if "function" in kwargs:
            raise TypeError("function: AdaptiveQuotientFourierELU always applies ELU")
        super().__init__(gspace, subgroup_id, channels, irreps, *grid_args, function="p_elu", **kwargs)
