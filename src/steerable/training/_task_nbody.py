"""The charged N-body task (EGNN's benchmark): predict where charged particles are after a time.

Data (:class:`~steerable.data.ChargedNBody`): systems of ``n_particles`` unit-mass particles of
charge ±1 under the Coulomb force; the input ``(B, P, 7)`` holds each particle's initial position,
velocity and charge, the target ``(B, P, 3)`` its position after ``steps`` steps of 0.001 (time 1
at the defaults). The map is E(3)-equivariant: rotating and translating the initial state moves
the final positions alike.

Models (``model=``; all map ``(B, P, 7)`` to ``(B, P, 3)`` as ``x + c·v + Δ`` with a learned
scalar ``c`` — initially the horizon ``steps·dt``, i.e. free flight — and a predicted
displacement ``Δ``, which the equivariant networks scale by a learned gain, initially 0):

- ``"implicit"`` (:class:`NBodyNet`, ``kernel="implicit"``): SO(3)-equivariant message passing
  on the complete graph of each system with :class:`~steerable.nn.ImplicitR3PointConv`, whose
  kernel is an equivariant MLP of the offset ``x_j - x_i`` and of the edge attribute ``q_i q_j``;
- ``"analytic"`` (:class:`NBodyNet`, ``kernel="analytic"``): the same network with
  :class:`~steerable.nn.R3PointConv` (analytic ring × harmonic basis; no edge attributes, the
  charges enter as node scalars only);
- ``"mlp"`` (:class:`NBodyMLP`): a plain MLP of the flattened input, not equivariant;
- ``"gnn"`` (:class:`NBodyGNN`): plain message passing on raw coordinates, translation- but not
  rotation-equivariant;
- ``"e3nn"`` (:class:`NBodyE3nn`): an e3nn tensor-product network, only where the optional package
  ``e3nn`` is installed (it is no dependency of steerable).

The baselines ``mlp`` and ``gnn`` are sized to about the parameter count of the ``implicit``
network of the same ``hidden``. Loss: mean squared error of the final positions; metric ``mse``:
the same mean over particles and coordinates (EGNN's convention), on ``test`` and on ``rotated``
(the test systems turned by random rotations and shifted by random translations: the equivariant
models score the same on both, the baselines do not).

>>> task = NBodyTask(n_train=8, n_test=4, steps=10)
>>> x, y = task.train_data()[0]
>>> tuple(x.shape), tuple(y.shape), sorted(task.eval_data())
((5, 7), (5, 3), ['rotated', 'test'])
"""

from __future__ import annotations

import functools
import importlib.util

import numpy as np
import torch

from ._errors import Arg, ConfigError, check_number
from ._task import Task, register_task

MODELS = ("implicit", "analytic", "mlp", "gnn", "e3nn")
KERNELS = ("implicit", "analytic")


def count_parameters(model: torch.nn.Module) -> int:
    """The number of learnable scalars of ``model``.

    >>> count_parameters(torch.nn.Linear(3, 2))
    8
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def mean_squared_error(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per sample: the mean of the squared errors over all its entries (particles × coordinates),
    so the epoch's metric is the mean over every coordinate (equal to the loss, and EGNN's ``MSE``).

    >>> mean_squared_error(torch.tensor([[[1.0, 2.0]], [[0.0, 0.0]]]), torch.zeros(2, 1, 2))
    tensor([2.5000, 0.0000], dtype=torch.float64)
    """
    d = (output.detach().double() - target.double()).reshape(len(output), -1)
    return (d * d).mean(1)


def _check_input(x: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[-1] != 7 or x.shape[1] < 2:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x: expected systems (B, P, 7) of rows (position, velocity, charge), P >= 2, got {shape}")


class _CompleteGraph(torch.nn.Module):
    """The edges (2, B·P·(P-1)) of B complete graphs on P nodes without self loops (row 0 the
    sources j, row 1 the targets i), nodes numbered system by system; the last one is cached."""

    def __init__(self) -> None:
        super().__init__()
        self._edges: dict = {}

    def edges(self, b: int, p: int, device) -> torch.Tensor:
        key = (b, p, str(device))
        if key not in self._edges:
            i, j = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
            keep = i != j
            offs = (torch.arange(b) * p)[:, None]
            src, dst = (j[keep] + offs).reshape(-1), (i[keep] + offs).reshape(-1)
            self._edges = {key: torch.stack([src, dst]).to(device)}
        return self._edges[key]


class _Ballistic(torch.nn.Module):
    """``x + c·v + Δ``: the displacement head every model shares (``c`` learned, initially ``horizon``)."""

    def __init__(self, horizon: float):
        super().__init__()
        check_number("horizon", horizon, strict=False)
        self.c = torch.nn.Parameter(torch.tensor(float(horizon)))

    def forward(self, x: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
        return x[..., :3] + self.c * x[..., 3:6] + delta


class NBodyNet(torch.nn.Module):
    """SO(3)- and translation-equivariant message passing for charged N-body systems ``(B, P, 7)``.

    Node fields on ``gspaces.rot3dOnR3()``: the input is the charge (a scalar) and the velocity (a
    Cartesian vector, ``gs.basespace_action``); the hidden state is ``hidden`` scalars and
    ``hidden`` vectors. Each of the ``n_layers`` blocks computes, on the complete graph of every
    system, ``a_i = W h_i + 1/(P-1) Σ_{j≠i} k(x_j - x_i, q_i q_j) h_j`` (``W`` an equivariant self
    interaction, :class:`~steerable.nn.Linear`; ``k`` the point convolution's kernel; the mean
    message) into ``hidden`` scalars, ``hidden`` gates and ``hidden`` vectors, then ELU on the
    scalars and sigmoid gates on the vectors (:class:`~steerable.nn.GatedNonLinearity1`), with a
    residual connection from the second block on. A last block of the same kind (no nonlinearity)
    gives one vector per particle, the displacement ``Δ``; the prediction is ``x + c·v + s·Δ`` with
    learned scalars ``c`` (initially ``horizon``) and ``s`` (initially 0: the untrained network
    predicts free flight, and training starts from that baseline instead of from the large
    displacements of a random deep network).

    ``kernel="implicit"``: :class:`~steerable.nn.ImplicitR3PointConv` (width ``width``, the edge
    attribute ``q_i q_j``, an MLP of ``hidden_channels`` channels and ``mlp_layers`` layers);
    ``kernel="analytic"``: :class:`~steerable.nn.R3PointConv` (rings up to ``width``, ``n_rings``
    of them; no edge attributes). Positions enter only through offsets, so the network is exactly
    translation-equivariant, and exactly rotation-equivariant for every rotation.

    >>> import torch
    >>> from steerable.data import random_rotations
    >>> from steerable.training import NBodyNet
    >>> net = NBodyNet("implicit", hidden=2, n_layers=1).eval()
    >>> x = torch.cat([torch.randn(3, 4, 6), torch.randint(0, 2, (3, 4, 1)) * 2.0 - 1], -1)
    >>> r, t = torch.as_tensor(random_rotations(1)[0], dtype=torch.float32), torch.randn(3)
    >>> xr = torch.cat([x[..., :3] @ r.T + t, x[..., 3:6] @ r.T, x[..., 6:]], -1)
    >>> bool(torch.allclose(net(xr), net(x) @ r.T + t, atol=1e-5))
    True
    """

    group_name = "SO(3)"

    def __init__(
        self,
        kernel: str = "implicit",
        hidden: int = 4,
        n_layers: int = 3,
        *,
        horizon: float = 1.0,
        width: float = 2.0,
        hidden_channels: int = 8,
        mlp_layers: int = 2,
        n_rings: int = 3,
    ):
        super().__init__()
        from steerable import gspaces, nn

        if kernel not in KERNELS:
            raise ValueError(f"kernel: expected one of {', '.join(KERNELS)}, got {kernel!r}")
        check_number("hidden", hidden, integer=True)
        check_number("n_layers", n_layers, integer=True)
        check_number("width", width)
        self.kernel, self.hidden, self.n_layers = kernel, hidden, n_layers
        gs = gspaces.rot3dOnR3()
        s, v = gs.trivial_repr, gs.basespace_action
        if v is None:  # pragma: no cover - rot3dOnR3 always acts on R³
            raise RuntimeError("rot3dOnR3() has no base-space action")
        self.in_type = nn.FieldType(gs, [s, v])  # channels: q, v_x, v_y, v_z
        self.hid_type = nn.FieldType(gs, [s] * hidden + [v] * hidden)
        pre_type = nn.FieldType(gs, [s] * (2 * hidden) + [v] * hidden)  # scalars, gates, vectors
        out_type = nn.FieldType(gs, [v])
        edge_type = nn.FieldType(gs, [s])

        def conv(t_in, t_out):
            if kernel == "implicit":
                return nn.ImplicitR3PointConv(
                    t_in,
                    t_out,
                    bias=False,
                    width=width,
                    edge_type=edge_type,
                    hidden_channels=hidden_channels,
                    n_layers=mlp_layers,
                )
            return nn.R3PointConv(t_in, t_out, bias=False, width=width, n_rings=n_rings)

        types = [self.in_type] + [self.hid_type] * (n_layers - 1)
        self.convs = torch.nn.ModuleList([conv(t, pre_type) for t in types])
        self.selfs = torch.nn.ModuleList([nn.Linear(t, pre_type) for t in types])
        self.gate_type = nn.FieldType(gs, [s] * hidden + [v] * hidden)  # the gates, then the gated vectors
        self.gates = torch.nn.ModuleList([nn.GatedNonLinearity1(self.gate_type) for _ in types])
        self.out_conv = conv(self.hid_type, out_type)
        self.out_self = nn.Linear(self.hid_type, out_type, bias=False)
        self.head = _Ballistic(horizon)
        self.gain = torch.nn.Parameter(torch.zeros(()))  # Δ's scale: the untrained network flies straight
        self.graph = _CompleteGraph()

    def _block(self, conv, lin, t_in, h, coords, edges, attr, p: int) -> torch.Tensor:
        g = t_in(h, coords=coords)
        a = conv(g, edges, edge_attr=attr) if self.kernel == "implicit" else conv(g, edges)
        return a.tensor / (p - 1) + lin(g).tensor  # the mean message over the P - 1 neighbours

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x)
        b, p, _ = x.shape
        edges = self.graph.edges(b, p, x.device)
        coords = x[..., :3].reshape(b * p, 3)
        q = x[..., 6].reshape(b * p)
        attr = (q[edges[0]] * q[edges[1]])[:, None] if self.kernel == "implicit" else None
        h, t_in, k = torch.cat([x[..., 6:], x[..., 3:6]], -1).reshape(b * p, 4), self.in_type, self.hidden
        for layer, (conv, lin, gate) in enumerate(zip(self.convs, self.selfs, self.gates)):
            a = self._block(conv, lin, t_in, h, coords, edges, attr, p)
            new = torch.cat(
                [torch.nn.functional.elu(a[:, :k]), gate(self.gate_type(a[:, k:], coords=coords)).tensor], 1
            )
            h, t_in = (new if layer == 0 else h + new), self.hid_type
        delta = self._block(self.out_conv, self.out_self, t_in, h, coords, edges, attr, p)
        return self.head(x, self.gain * delta.reshape(b, p, 3))


class NBodyMLP(torch.nn.Module):
    """The plain baseline: an MLP (SiLU, ``depth`` hidden layers of ``width``) of the flattened
    systems ``(B, P·7)`` to the displacements ``(B, P·3)``; prediction ``x + c·v + Δ``. Neither
    rotation- nor translation-equivariant (nor permutation-equivariant).

    >>> import torch
    >>> from steerable.training import NBodyMLP
    >>> NBodyMLP(n_particles=5, width=16)(torch.randn(2, 5, 7)).shape
    torch.Size([2, 5, 3])
    """

    group_name = "none"

    def __init__(self, n_particles: int = 5, width: int = 64, depth: int = 2, *, horizon: float = 1.0):
        super().__init__()
        for name, v in (("n_particles", n_particles), ("width", width), ("depth", depth)):
            check_number(name, v, integer=True)
        self.n_particles = n_particles
        dims = [7 * n_particles] + [width] * depth
        layers: list[torch.nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [torch.nn.Linear(a, b), torch.nn.SiLU()]
        layers.append(torch.nn.Linear(dims[-1], 3 * n_particles))
        self.mlp = torch.nn.Sequential(*layers)
        self.head = _Ballistic(horizon)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x)
        if x.shape[1] != self.n_particles:
            raise ValueError(f"x: this MLP was built for {self.n_particles} particles, got {x.shape[1]}")
        b, p, _ = x.shape
        return self.head(x, self.mlp(x.reshape(b, 7 * p)).reshape(b, p, 3))


def _mlp(a: int, width: int, b: int) -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Linear(a, width), torch.nn.SiLU(), torch.nn.Linear(width, b))


class NBodyGNN(torch.nn.Module):
    """The plain message-passing baseline on the complete graph of each system: node states
    ``h_i⁰ = MLP(v_i, q_i)``; each of ``n_layers`` layers sums the messages
    ``m_ij = MLP(h_i, h_j, x_j - x_i, q_i q_j)`` over ``j ≠ i`` and updates
    ``h_i += MLP(h_i, Σ_j m_ij)``; a linear read-out gives the displacement, prediction
    ``x + c·v + Δ``. Coordinates enter raw: translation- (and permutation-) but not
    rotation-equivariant.

    >>> import torch
    >>> from steerable.training import NBodyGNN
    >>> NBodyGNN(width=8, n_layers=1)(torch.randn(2, 5, 7)).shape
    torch.Size([2, 5, 3])
    """

    group_name = "none"

    def __init__(self, width: int = 16, n_layers: int = 3, *, horizon: float = 1.0):
        super().__init__()
        check_number("width", width, integer=True)
        check_number("n_layers", n_layers, integer=True)
        self.embed = _mlp(4, width, width)
        self.messages = torch.nn.ModuleList([_mlp(2 * width + 4, width, width) for _ in range(n_layers)])
        self.updates = torch.nn.ModuleList([_mlp(2 * width, width, width) for _ in range(n_layers)])
        self.readout = torch.nn.Linear(width, 3)
        self.head = _Ballistic(horizon)
        self.graph = _CompleteGraph()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x)
        b, p, _ = x.shape
        src, dst = self.graph.edges(b, p, x.device)
        flat = x.reshape(b * p, 7)
        pos, q = flat[:, :3], flat[:, 6:]
        h = self.embed(flat[:, 3:])
        edge = torch.cat([pos[src] - pos[dst], q[src] * q[dst]], 1)
        for msg, upd in zip(self.messages, self.updates):
            m = msg(torch.cat([h[dst], h[src], edge], 1))
            agg = torch.zeros_like(h).index_add_(0, dst, m)
            h = h + upd(torch.cat([h, agg], 1))
        return self.head(x, self.readout(h).reshape(b, p, 3))


def _require_e3nn() -> None:
    if importlib.util.find_spec("e3nn") is None:
        raise ConfigError(
            Arg("model", "e3nn"),
            ": needs the optional package e3nn, which is not installed (pip install e3nn; "
            "steerable does not depend on it); the other models are " + ", ".join(m for m in MODELS if m != "e3nn"),
        )


class NBodyE3nn(torch.nn.Module):
    """An e3nn network of the same layout as :class:`NBodyNet` (needs the optional ``e3nn``):
    node irreps ``hidden×0e + hidden×1o``, messages ``TP(h_j, Y(x_j - x_i))`` (spherical
    harmonics up to degree 2) with weights from an MLP of a Gaussian distance basis and
    ``q_i q_j``, an equivariant self interaction, gated nonlinearities, residuals, a ``1x1o``
    displacement read-out; prediction ``x + c·v + s·Δ``. e3nn's degree-1 basis is converted to
    Cartesian coordinates by the change of basis solved from its Wigner matrices."""

    group_name = "SO(3)"
    to_e3nn: torch.Tensor

    def __init__(self, hidden: int = 4, n_layers: int = 3, *, horizon: float = 1.0, width: float = 2.0, n_basis=8):
        super().__init__()
        _require_e3nn()
        from e3nn import nn as enn
        from e3nn import o3

        from steerable.data import random_rotations

        check_number("hidden", hidden, integer=True)
        check_number("n_layers", n_layers, integer=True)
        self.width, self.n_basis = float(width), int(n_basis)
        self.sh = o3.Irreps.spherical_harmonics(2)
        node = [o3.Irreps("0e + 1o")] + [o3.Irreps(f"{hidden}x0e + {hidden}x1o")] * (n_layers - 1)
        gate_in = o3.Irreps(f"{2 * hidden}x0e + {hidden}x1o")
        self.tps, self.radials, self.selfs, self.gates = (torch.nn.ModuleList() for _ in range(4))
        self.out_dims: list[int] = []
        for irreps, out in [(t, gate_in) for t in node] + [(node[-1], o3.Irreps("1x1o"))]:
            tp = o3.FullyConnectedTensorProduct(irreps, self.sh, out, shared_weights=False)
            self.tps.append(tp)
            self.out_dims.append(int(tp.irreps_out.dim))
            self.radials.append(
                enn.FullyConnectedNet([self.n_basis + 1, 16, tp.weight_numel], torch.nn.functional.silu)
            )
            self.selfs.append(o3.Linear(irreps, out))
        for _ in node:
            act = [torch.nn.functional.silu], [torch.sigmoid]
            self.gates.append(enn.Gate(f"{hidden}x0e", act[0], f"{hidden}x0e", act[1], f"{hidden}x1o"))
        eqs = []
        for r in torch.as_tensor(random_rotations(3, seed=0), dtype=torch.float64):
            d = o3.Irreps("1o").D_from_matrix(r).numpy()
            eqs.append(np.kron(d, np.eye(3)) - np.kron(np.eye(3), r.numpy().T))  # vec(D Q - Q R) = 0
        q = np.linalg.svd(np.concatenate(eqs))[2][-1].reshape(3, 3)  # Q: Cartesian -> e3nn's basis
        self.register_buffer("to_e3nn", torch.as_tensor(q / np.sqrt((q @ q.T)[0, 0]), dtype=torch.float32))
        self.head = _Ballistic(horizon)
        self.gain = torch.nn.Parameter(torch.zeros(()))  # as NBodyNet: starts from free flight
        self.graph = _CompleteGraph()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from e3nn import o3

        _check_input(x)
        b, p, _ = x.shape
        src, dst = self.graph.edges(b, p, x.device)
        flat = x.reshape(b * p, 7)
        q, to_e3nn = flat[:, 6:], self.to_e3nn.to(x.dtype)
        vec = flat[src, :3] - flat[dst, :3]
        y = o3.spherical_harmonics(self.sh, vec, normalize=True, normalization="component")
        span = 1.5 * self.width
        centers = torch.linspace(0, span, self.n_basis, device=x.device, dtype=x.dtype)
        rbf = torch.exp(-(((vec.norm(dim=1, keepdim=True) - centers) * (self.n_basis / span)) ** 2))
        emb = torch.cat([rbf, q[src] * q[dst]], 1)

        def block(k: int, h: torch.Tensor) -> torch.Tensor:
            tp = self.tps[k]
            agg = torch.zeros(b * p, self.out_dims[k], dtype=x.dtype, device=x.device)
            return self.selfs[k](h) + agg.index_add_(0, dst, tp(h[src], y, self.radials[k](emb)))

        h = torch.cat([q, flat[:, 3:6] @ to_e3nn.T], 1)
        for k, gate in enumerate(self.gates):
            new = gate(block(k, h))
            h = new if k == 0 else h + new
        return self.head(x, self.gain * (block(len(self.gates), h) @ to_e3nn).reshape(b, p, 3))


@functools.lru_cache(maxsize=16)
def _implicit_parameter_count(hidden: int, n_layers: int) -> int:
    with torch.random.fork_rng(devices=[]):  # counting must not move the global RNG (model seeding)
        return count_parameters(NBodyNet("implicit", hidden=hidden, n_layers=n_layers))


def _matched_width(build, target: int) -> int:
    """The width ``w`` whose ``build(w)`` has the parameter count nearest ``target`` (counts grow with w)."""
    lo, hi = 1, 2
    while count_parameters(build(hi)) < target:
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if count_parameters(build(mid)) < target else (lo, mid)
    return min((lo, hi), key=lambda w: abs(count_parameters(build(w)) - target))


def build_nbody_model(
    model: str = "implicit", hidden: int = 4, n_layers: int = 3, n_particles: int = 5, horizon: float = 1.0
) -> torch.nn.Module:
    """The N-body model ``model`` (one of ``implicit``, ``analytic``, ``mlp``, ``gnn``, ``e3nn``); the
    baselines ``mlp`` and ``gnn`` get the width whose parameter count is nearest the ``implicit``
    network's of the same ``hidden`` and ``n_layers``.

    >>> from steerable.training import build_nbody_model
    >>> type(build_nbody_model("gnn", hidden=2, n_layers=1)).__name__
    'NBodyGNN'
    """
    if model not in MODELS:
        raise ConfigError(Arg("model"), f": expected one of {', '.join(MODELS)} for task 'nbody', got {model!r}")
    if model in KERNELS:
        return NBodyNet(model, hidden=hidden, n_layers=n_layers, horizon=horizon)
    if model == "e3nn":
        return NBodyE3nn(hidden=hidden, n_layers=n_layers, horizon=horizon)
    target = _implicit_parameter_count(hidden, n_layers)
    with torch.random.fork_rng(devices=[]):  # the search builds models: keep the global RNG where it is
        if model == "mlp":
            w = _matched_width(lambda w: NBodyMLP(n_particles, w), target)
        else:
            w = _matched_width(lambda w: NBodyGNN(w, n_layers), target)
    return NBodyMLP(n_particles, w, horizon=horizon) if model == "mlp" else NBodyGNN(w, n_layers, horizon=horizon)


@register_task
class NBodyTask(Task):
    """Charged N-body systems: final positions from the initial state; metric mse.

    >>> from steerable.training import NBodyTask
    >>> NBodyTask().plan["model"], NBodyTask(model="gnn").plan["model"]
    ('implicit', 'gnn')
    """

    name = "nbody"
    description = (
        "charged N-body (EGNN): final positions from positions, velocities, charges; implicit or analytic "
        "SO(3) point convs, or mlp/gnn/e3nn baselines; tested on rotated systems; metric mse"
    )
    defaults = dict(
        model="implicit",
        hidden=4,
        n_layers=3,
        epochs=4,
        batch_size=32,
        lr=1e-2,
        weight_decay=0.0,
        seed=0,
        n_train=3000,
        n_test=2000,
        n_particles=5,
        steps=1000,
        data_seed=0,
    )

    def check(self) -> None:
        p = self.plan
        if p["model"] not in MODELS:
            raise ConfigError(
                Arg("model"), f": expected one of {', '.join(MODELS)} for task 'nbody', got {p['model']!r}"
            )
        super().check()
        for k in ("hidden", "n_layers", "n_train", "n_test", "steps"):
            check_number(k, p[k], integer=True)
        check_number("data_seed", p["data_seed"], integer=True, strict=False)
        check_number("n_particles", p["n_particles"], integer=True, minimum=1)
        if p["model"] == "e3nn":
            _require_e3nn()

    def build_model(self) -> torch.nn.Module:
        p = self.plan
        return build_nbody_model(p["model"], p["hidden"], p["n_layers"], p["n_particles"], horizon=p["steps"] * 1e-3)

    def _data(self, n: int, seed: int, rotate: bool = False):
        from steerable.data import ChargedNBody

        p = self.plan
        return ChargedNBody(n, n_particles=p["n_particles"], steps=p["steps"], seed=seed, rotate=rotate)

    def train_data(self):
        return self._data(self.plan["n_train"], 2 * self.plan["data_seed"])

    def eval_data(self):
        p = self.plan
        seed = 2 * p["data_seed"] + 1
        return {"test": self._data(p["n_test"], seed), "rotated": self._data(p["n_test"], seed, rotate=True)}

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.mse_loss(output, target)

    def metrics(self) -> dict:
        return {"mse": mean_squared_error}
