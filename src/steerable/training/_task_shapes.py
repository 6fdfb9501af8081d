"""The 3-D shapes task: classify rotated point clouds of ten parametric shapes, a benchmark of
implicit against analytic steerable kernels for SO(3), O(3) and SO(2) about z.

The data are :class:`steerable.data.PointShapes` clouds in poses drawn from the task's
group (``group='so3'``: random rotations, ``'o3'``: rotations and mirror images, ``'so2z'``:
rotations about z), for training and testing alike. The model (:class:`ShapesNet`) is exactly
invariant under that group: point convolutions on the k-nearest-neighbour graph of each cloud
with scalar and higher-order fields, an invariant read-out (the scalar channels and the norms of
the other fields, mean- and max-pooled over the points) and an MLP head. ``kernel='implicit'``
uses :class:`steerable.nn.ImplicitR3PointConv` (the filter an equivariant MLP of the offset),
``kernel='analytic'`` :class:`steerable.nn.R3PointConv` (the analytic steerable basis), with the
same field types, graph and widths, so the comparison is about the kernels only. Loss: cross
entropy; metric: ``acc``.

>>> task = ShapesTask(n_train=20, n_test=10, n_points=16)
>>> x, y = task.train_data()[0]
>>> tuple(x.shape), sorted(task.eval_data()), task.plan["group"], task.plan["kernel"]
((16, 3), ['test'], 'so3', 'implicit')
"""

from __future__ import annotations

import torch

from ._errors import Arg, ConfigError, check_number
from ._metrics import accuracy
from ._task import Task, register_task

GROUPS = ("so3", "o3", "so2z")
KERNELS = ("implicit", "analytic")
_GROUP_NAMES = {"so3": "SO(3)", "o3": "O(3)", "so2z": "SO(2) about z"}


def _gspace(group: str):
    from steerable import gspaces

    if group == "so3":
        return gspaces.rot3dOnR3()
    if group == "o3":
        return gspaces.flipRot3dOnR3()
    return gspaces.rot2dOnR3()


def _hidden_fields(gs, group: str, hidden: int) -> tuple[list, list]:
    """``(scalars, others)``: the representations of one hidden layer with multiplicity ``hidden``
    (``h``), about ``4 h`` channels for every group.

    SO(3): ``h`` scalars ψ₀ and ``h`` vectors ψ₁. O(3) (irreps ``(parity, frequency)``; ``(1, 1)``
    is the vector of R³): ``h`` scalars (0,0), ``⌈h/2⌉`` vectors (1,1) and ``⌊h/2⌋`` pseudo-vectors
    (0,1) (at least one). SO(2) about z: ``h`` scalars (invariant under rotations about z), ``h``
    fields of frequency 1 and ``⌈h/2⌉`` of frequency 2."""
    if group == "so3":
        return [gs.irrep(0)] * hidden, [gs.irrep(1)] * hidden
    if group == "o3":
        return [gs.irrep(0, 0)] * hidden, [gs.irrep(1, 1)] * ((hidden + 1) // 2) + [gs.irrep(0, 1)] * max(
            1, hidden // 2
        )
    return [gs.irrep(0)] * hidden, [gs.irrep(1)] * hidden + [gs.irrep(2)] * ((hidden + 1) // 2)


def knn_graph(pos: torch.Tensor, k: int) -> torch.Tensor:
    """The edges (2, B·N·(k+1)) of the k-nearest-neighbour graphs of the clouds ``pos`` (B, N, 3),
    batched as one disconnected graph (cloud b's points are nodes ``b·N … b·N + N - 1``): each point
    receives from itself and its ``k`` nearest other points (row 0 sources j, row 1 targets i).
    The graph depends only on the distances, so it is the same for every rotated or mirrored cloud.

    >>> e = knn_graph(torch.randn(2, 5, 3), k=2)
    >>> tuple(e.shape), bool((e[0] // 5 == e[1] // 5).all())
    ((2, 30), True)
    """
    b, n, _ = pos.shape
    k1 = min(int(k) + 1, n)
    with torch.no_grad():
        d = torch.cdist(pos, pos, compute_mode="donot_use_mm_for_euclid_dist")
        nbr = d.topk(k1, dim=2, largest=False).indices  # (B, N, k+1), the point itself first
    offs = (torch.arange(b, device=pos.device) * n).view(b, 1, 1)
    src = (nbr + offs).reshape(-1)
    dst = (torch.arange(n, device=pos.device).view(1, n, 1) + offs).expand(b, n, k1).reshape(-1)
    return torch.stack([src, dst])


def cloud_input(x: torch.Tensor, k: int, unit: float, in_type) -> tuple:
    """The input of a point network on clouds ``x`` (B, N, 3): the ``k``-NN graph of the centred
    points and, on ``in_type``, the features (1, distance to the centre) of every point at the
    coordinates ``(x - mean) / unit`` (B·N, 3). Returns ``(GeometricTensor, edges)``."""
    if x.dim() != 3 or x.shape[-1] != 3:
        raise ValueError(f"x: expected point clouds (B, N, 3), got shape {tuple(x.shape)}")
    b, n, _ = x.shape
    pos = x - x.mean(1, keepdim=True)
    edges = knn_graph(pos, k)
    pos = (pos / unit).reshape(b * n, 3)
    feat = torch.cat([torch.ones_like(pos[:, :1]), pos.norm(dim=1, keepdim=True) * unit], 1)
    return in_type(feat, coords=pos), edges


class ShapesNet(torch.nn.Module):
    """Classifier of point clouds ``(B, N, 3)`` into ``n_classes`` logits, exactly invariant under
    ``group`` (``'so3'``, ``'o3'`` or ``'so2z'``) acting on the points about the clouds' centroids.

    Each cloud is centred; its points carry two scalar features, 1 and the distance to the centre.
    ``layers`` point convolutions on the kNN graph (``k`` neighbours and the point itself), of
    kernel ``kernel``: ``'implicit'``, :class:`~steerable.nn.ImplicitR3PointConv` (an equivariant
    MLP of 2 layers of ``mlp_channels`` copies of every irrep up to ``max_frequency``), or
    ``'analytic'``, :class:`~steerable.nn.R3PointConv` (``n_rings`` rings, angular orders up to
    ``max_frequency`` on the outer one); both of width ``radius`` (offsets beyond it are damped by
    the kernels' envelopes). Each convolution maps to the hidden fields of :func:`_hidden_fields`
    (multiplicity ``hidden``); between convolutions ELU acts on the scalars and a norm-ReLU
    (:class:`~steerable.nn.NormNonLinearity`) on the other fields (with a residual connection from
    the second convolution on). The read-out takes the last convolution's scalar channels and the
    norms of its other fields at every point, their mean and max over each cloud, and a two-layer
    MLP (``head`` units) to the logits.

    Coordinates are measured in units of the ring spacing ``radius / (n_rings - 1)`` inside the
    network (the analytic basis' ring widths are escnn's for unit spacing); the default
    ``radius=1`` is about the distance of the 8th to 12th neighbour in a normalised cloud of 64
    points (unit RMS radius).

    >>> import torch
    >>> from steerable.data import random_rotations
    >>> from steerable.training import ShapesNet
    >>> net = ShapesNet("so3", "analytic", hidden=2).eval()
    >>> x = torch.randn(2, 12, 3)
    >>> r = torch.as_tensor(random_rotations(1)[0], dtype=torch.float32)
    >>> bool(torch.allclose(net(x @ r.T), net(x), atol=1e-4))
    True
    """

    def __init__(
        self,
        group: str = "so3",
        kernel: str = "implicit",
        hidden: int = 4,
        n_classes: int = 10,
        k: int = 6,
        radius: float = 1.0,
        n_rings: int = 3,
        layers: int = 2,
        mlp_channels: int = 4,
        max_frequency: int = 2,
        head: int = 64,
    ):
        super().__init__()
        from steerable import nn

        if group not in GROUPS:
            raise ValueError(f"group: expected one of {', '.join(GROUPS)}, got {group!r}")
        if kernel not in KERNELS:
            raise ValueError(f"kernel: expected one of {', '.join(KERNELS)}, got {kernel!r}")
        for name, v in (("hidden", hidden), ("n_classes", n_classes), ("k", k), ("layers", layers)):
            check_number(name, v, integer=True)
        check_number("mlp_channels", mlp_channels, integer=True)
        check_number("head", head, integer=True)
        check_number("max_frequency", max_frequency, integer=True)
        check_number("radius", radius)
        if isinstance(n_rings, bool) or not isinstance(n_rings, int) or n_rings < 2:
            raise ValueError(f"n_rings: expected an integer >= 2, got {n_rings!r}")
        self.group, self.kernel, self.k = group, kernel, int(k)
        self.group_name = _GROUP_NAMES[group]
        self.unit = float(radius) / (n_rings - 1)
        width = float(n_rings - 1)  # the radius in internal units
        gs = _gspace(group)
        scalars, others = _hidden_fields(gs, group, hidden)
        self.in_type = nn.FieldType(gs, [gs.trivial_repr] * 2)
        hid = nn.FieldType(gs, scalars + others)
        labels = ["scalar"] * len(scalars) + ["other"] * len(others)

        def act():
            return nn.MultipleModule(
                hid,
                labels,
                [
                    (nn.ELU(nn.FieldType(gs, scalars)), "scalar"),
                    (nn.NormNonLinearity(nn.FieldType(gs, others)), "other"),
                ],
            )

        def conv(t_in, t_out):
            if kernel == "implicit":
                return nn.ImplicitR3PointConv(
                    t_in, t_out, width=width, hidden_channels=mlp_channels, n_layers=2, max_frequency=max_frequency
                )
            # angular orders up to max_frequency on the outer ring (proportionally fewer inside)
            return nn.R3PointConv(t_in, t_out, width=width, n_rings=n_rings, frequencies_cutoff=max_frequency / width)

        self.convs = torch.nn.ModuleList()
        self.acts = torch.nn.ModuleList()
        t = self.in_type
        for _ in range(layers - 1):
            self.convs.append(conv(t, hid))
            self.acts.append(act())
            t = hid
        self.convs.append(conv(t, hid))
        self.hid_type = hid
        # read-out: scalar channels as they are, every other field by its norm
        n_sca = len(scalars)
        field_of = [f for f, r in enumerate(hid.representations[n_sca:]) for _ in range(r.size)]
        self.n_scalars = n_sca
        self.register_buffer("field_of", torch.as_tensor(field_of, dtype=torch.long), persistent=False)
        self.n_norms = len(others)
        n_inv = n_sca + self.n_norms
        self.head = torch.nn.Sequential(
            torch.nn.Linear(2 * n_inv, head), torch.nn.ReLU(), torch.nn.Linear(head, n_classes)
        )

    def invariants(self, x: torch.Tensor) -> torch.Tensor:
        """The invariant features (B, N, F) of every point: the last layer's scalar channels and the
        norms of its other fields."""
        f, edges = cloud_input(x, self.k, self.unit, self.in_type)
        b, n, _ = x.shape
        for i, c in enumerate(self.convs):
            y = c(f, edges)
            if i < len(self.acts):
                y = self.acts[i](y)
                if i > 0:
                    y = self.hid_type(f.tensor + y.tensor, coords=f.coords)
            f = y
        t = f.tensor
        sq = t[:, self.n_scalars :].pow(2)
        norms = sq.new_zeros(b * n, self.n_norms).index_add(1, self.field_of, sq)
        return torch.cat([t[:, : self.n_scalars], (norms + 1e-8).sqrt()], 1).reshape(b, n, -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        inv = self.invariants(x)
        return self.head(torch.cat([inv.mean(1), inv.amax(1)], 1))


@register_task
class ShapesTask(Task):
    """Rotated 3-D shapes (point clouds) with an invariant point-convolution network; metric acc.

    >>> from steerable.training import ShapesTask
    >>> ShapesTask(group="o3", kernel="analytic").plan["group"], sorted(ShapesTask().metrics())
    ('o3', ['acc'])
    """

    name = "shapes3d"
    description = (
        "10 parametric 3-D shapes as point clouds in random poses of SO(3), O(3) or SO(2) about z: invariant "
        "point-conv classifier with implicit or analytic steerable kernels; metric acc"
    )
    defaults = dict(
        group="so3",
        kernel="implicit",
        hidden=4,
        epochs=10,
        batch_size=32,
        lr=1e-2,
        weight_decay=0.0,
        seed=0,
        n_train=2000,
        n_test=1000,
        n_points=64,
        k=6,
        data_seed=0,
    )

    def check(self) -> None:
        p = self.plan
        if p["group"] not in GROUPS:
            raise ConfigError(
                Arg("group"), f": expected one of {', '.join(GROUPS)} for task 'shapes3d', got {p['group']!r}"
            )
        if p["kernel"] not in KERNELS:
            raise ConfigError(
                Arg("kernel"), f": expected one of {', '.join(KERNELS)} for task 'shapes3d', got {p['kernel']!r}"
            )
        super().check()
        for key in ("hidden", "n_train", "n_test", "k"):
            check_number(key, p[key], integer=True)
        check_number("data_seed", p["data_seed"], integer=True, strict=False)
        if isinstance(p["n_points"], bool) or not isinstance(p["n_points"], int) or p["n_points"] < 4:
            raise ConfigError(Arg("n_points"), f": expected an integer >= 4, got {p['n_points']!r}")
        if p["k"] >= p["n_points"]:
            raise ConfigError(Arg("k"), f": expected fewer neighbours than n_points={p['n_points']}, got {p['k']!r}")

    def build_model(self) -> torch.nn.Module:
        p = self.plan
        return ShapesNet(p["group"], p["kernel"], hidden=p["hidden"], k=p["k"])

    def model_spec(self, model: torch.nn.Module) -> dict:
        spec = super().model_spec(model)
        spec.update(group=self.plan["group"], kernel=self.plan["kernel"])
        return spec

    def _data(self, n: int, seed: int):
        from steerable.data import PointShapes

        return PointShapes(n, n_points=self.plan["n_points"], poses=self.plan["group"], seed=seed)

    def train_data(self):
        return self._data(self.plan["n_train"], 2 * self.plan["data_seed"])

    def eval_data(self):
        return {"test": self._data(self.plan["n_test"], 2 * self.plan["data_seed"] + 1)}

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(output, target)

    def metrics(self) -> dict:
        return {"acc": accuracy}
