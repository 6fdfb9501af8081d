"""The Fourier-sampling task: fixed against adaptive group grids for Fourier nonlinearities.

A Fourier nonlinearity (:class:`~steerable.nn.FourierELU`) samples band-limited features on a grid
of ``samples`` group elements; on a continuous group a fixed grid is only approximately
equivariant, while :class:`~steerable.nn.AdaptiveFourierELU` moves the grid with a frame predicted
from the input and is exact for any number of samples (Inal & Cesa, 2024). This task trains the
same network with either, on two data sets:

- ``dataset='mnist'``: rotated MNIST (:class:`~steerable.data.RotatedMNIST`, 4000 training and
  1000 test digits, each at a random angle) with :class:`SO2FourierNet`, SO(2)-steerable
  convolutions on fields band-limited to frequency ``max_frequency`` (default 3) and the Fourier
  ELU on ``samples`` rotations;
- ``dataset='shapes'``: the ten 3-D shapes of :class:`~steerable.data.PointShapes` as point
  clouds in random rotations, with :class:`SO3FourierShapesNet`, SO(3) point convolutions on
  spherical fields band-limited to degree ``max_frequency`` (default 2) and the Fourier ELU on the
  sphere SO(3)/SO(2) (:class:`~steerable.nn.QuotientFourierELU`) on ``samples`` points.

``sampling='fixed'`` uses the regular (SO(2)) or Thomson (sphere) grid of ``samples`` points,
``'adaptive'`` the same base grid moved by the input's frame. Loss: cross entropy; metric:
``acc``; :meth:`FourierSamplingTask.evaluate` adds the invariance error of the logits under
random (continuous) rotations of the input.

>>> task = FourierSamplingTask(dataset="shapes", n_train=8, n_test=4, n_points=16, k=4)
>>> task.plan["sampling"], task.plan["samples"], tuple(task.train_data()[0][0].shape)
('adaptive', 4, (16, 3))
"""

from __future__ import annotations

import math

import torch

from ._errors import Arg, ConfigError, check_number
from ._metrics import accuracy
from ._task import Task, register_task

SAMPLINGS = ("fixed", "adaptive")
DATASETS = ("mnist", "shapes")


def _fourier_act(gs, channels: int, L: int, sampling: str, samples: int, sphere: bool):
    """The Fourier ELU of ``channels`` fields band-limited to ``L`` on ``samples`` points: on SO(2)
    (regular grid) or on the sphere SO(3)/SO(2) (Thomson points), fixed or adaptive."""
    from steerable import nn

    if sphere:
        cls = nn.AdaptiveQuotientFourierELU if sampling == "adaptive" else nn.QuotientFourierELU
        return cls(gs, (False, -1), channels, L, "thomson", samples, **_loose(sampling))
    cls = nn.AdaptiveFourierELU if sampling == "adaptive" else nn.FourierELU
    return cls(gs, channels, L, "regular", samples, **_loose(sampling))


def _loose(sampling: str) -> dict:
    # a fixed grid coarser than the band limit is allowed here (least-squares projection): the
    # benchmark shows how its accuracy degrades; the adaptive layers allow it anyway
    return {} if sampling == "adaptive" else {"_strict": False}


def _check_net(sampling, samples, max_frequency, channels) -> None:
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling: expected one of {', '.join(SAMPLINGS)}, got {sampling!r}")
    check_number("samples", samples, integer=True)
    check_number("max_frequency", max_frequency, integer=True)
    if not isinstance(channels, (tuple, list)) or not channels:
        raise ValueError(f"channels: expected a non-empty sequence of positive integers, got {channels!r}")
    for c in channels:
        check_number("channels", c, integer=True)


class SO2FourierNet(torch.nn.Module):
    """Rotation-invariant classifier of images (B, 1, H, W) with SO(2)-steerable convolutions and
    Fourier ELUs on ``samples`` rotations (``sampling``: ``'fixed'`` regular grid or ``'adaptive'``).

    Each block: an :class:`~steerable.nn.R2Conv` onto ``c`` fields band-limited to
    ``max_frequency`` (frequencies 0..L, 2L+1 channels each), an :class:`~steerable.nn.IIDBatchNorm2d`,
    the Fourier ELU, and an anti-aliased average pooling of stride 2 (except after the last block).
    Then an R2Conv onto 32 invariant channels, the spatial mean and a two-layer MLP head. With
    ``sampling='adaptive'`` the network is exactly invariant to rotations by multiples of 90°
    (the grid's symmetries) and, up to the interpolation of the rotated image, to all others.

    >>> import torch
    >>> from steerable.training import SO2FourierNet
    >>> net = SO2FourierNet("adaptive", 4, channels=(2, 2)).eval()
    >>> x = torch.randn(2, 1, 29, 29)
    >>> bool(torch.allclose(net(x.rot90(1, (2, 3))), net(x), atol=1e-4))
    True
    """

    def __init__(
        self,
        sampling: str = "adaptive",
        samples: int = 4,
        max_frequency: int = 3,
        channels: tuple = (6, 12, 12),
        n_classes: int = 10,
        kernel_size: int = 5,
    ):
        super().__init__()
        from steerable import gspaces, nn

        _check_net(sampling, samples, max_frequency, channels)
        self.sampling, self.samples = sampling, int(samples)
        self.group_name = "SO(2)"
        gs = gspaces.rot2dOnR2(-1, maximum_frequency=max_frequency)
        self.in_type = nn.FieldType(gs, [gs.trivial_repr])
        layers: list = []
        t = self.in_type
        for i, c in enumerate(channels):
            act = _fourier_act(gs, c, max_frequency, sampling, samples, sphere=False)
            layers += [
                nn.R2Conv(t, act.in_type, kernel_size=kernel_size, padding=kernel_size // 2, bias=False),
                nn.IIDBatchNorm2d(act.in_type),
                act,
            ]
            if i < len(channels) - 1:
                layers.append(nn.PointwiseAvgPoolAntialiased2D(act.out_type, sigma=0.66, stride=2))
            t = act.out_type
        inv = nn.FieldType(gs, [gs.trivial_repr] * 32)
        layers.append(nn.R2Conv(t, inv, kernel_size=3, padding=1))
        self.body = nn.SequentialModule(*layers)
        self.head = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ELU(), torch.nn.Linear(64, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 1:
            raise ValueError(f"x: expected images (B, 1, H, W), got shape {tuple(x.shape)}")
        y = self.body(self.in_type(x)).tensor
        return self.head(y.mean((2, 3)))


class SO3FourierShapesNet(torch.nn.Module):
    """Rotation-invariant classifier of point clouds (B, N, 3) with SO(3) point convolutions and
    Fourier ELUs on ``samples`` points of the sphere (``sampling``: ``'fixed'`` Thomson points or
    ``'adaptive'``).

    Each cloud is centred and its points carry the features 1 and the distance to the centre. Each
    block: an :class:`~steerable.nn.R3PointConv` on the kNN graph (``k`` neighbours and the point
    itself, :func:`~steerable.training.knn_graph`) onto ``c`` spherical fields of degrees
    0..``max_frequency``, then the spherical Fourier ELU (with a residual connection between equal
    types). Then a point convolution onto 32 invariant channels, their mean and max over each cloud
    and a two-layer MLP head. With ``sampling='adaptive'`` the network is exactly invariant to
    every rotation.

    >>> import torch
    >>> from steerable.data import PointShapes, random_rotations
    >>> from steerable.training import SO3FourierShapesNet
    >>> net = SO3FourierShapesNet("adaptive", 4, channels=(2,), k=4).eval()
    >>> x = PointShapes(2, n_points=24).points.double()
    >>> r = torch.as_tensor(random_rotations(1)[0])
    >>> bool(torch.allclose(net.double()(x @ r.T), net(x), atol=1e-8))
    True
    """

    def __init__(
        self,
        sampling: str = "adaptive",
        samples: int = 4,
        max_frequency: int = 2,
        channels: tuple = (4, 4),
        n_classes: int = 10,
        k: int = 6,
        radius: float = 1.0,
    ):
        super().__init__()
        from steerable import gspaces, nn

        _check_net(sampling, samples, max_frequency, channels)
        check_number("k", k, integer=True)
        check_number("radius", radius)
        self.sampling, self.samples, self.k = sampling, int(samples), int(k)
        self.group_name = "SO(3)"
        self.unit = float(radius) / 2  # ring spacing of the analytic basis (3 rings)
        gs = gspaces.rot3dOnR3(maximum_frequency=max_frequency)
        self.in_type = nn.FieldType(gs, [gs.trivial_repr] * 2)

        def conv(a, b):
            return nn.R3PointConv(a, b, width=2.0, n_rings=3, frequencies_cutoff=max_frequency / 2.0)

        self.convs = torch.nn.ModuleList()
        self.acts = torch.nn.ModuleList()
        t = self.in_type
        for c in channels:
            act = _fourier_act(gs, c, max_frequency, sampling, samples, sphere=True)
            self.convs.append(conv(t, act.in_type))
            self.acts.append(act)
            t = act.out_type
        inv = nn.FieldType(gs, [gs.trivial_repr] * 32)
        self.readout = conv(t, inv)
        self.head = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ELU(), torch.nn.Linear(64, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from ._task_shapes import cloud_input

        f, edges = cloud_input(x, self.k, self.unit, self.in_type)
        b, n, _ = x.shape
        for conv, act in zip(self.convs, self.acts):
            y = act(conv(f, edges))
            if y.type == f.type:
                y = y.type(f.tensor + y.tensor, coords=f.coords)
            f = y
        inv = self.readout(f, edges).tensor.reshape(b, n, -1)
        return self.head(torch.cat([inv.mean(1), inv.amax(1)], 1))


_DEFAULTS = {
    "mnist": dict(max_frequency=3, epochs=8, batch_size=64, lr=2e-3),
    "shapes": dict(max_frequency=2, epochs=10, batch_size=32, lr=1e-2),
}


@register_task
class FourierSamplingTask(Task):
    """Fixed against adaptive Fourier sampling on rotated MNIST (SO(2)) or rotated 3-D shapes
    (SO(3) on the sphere); metric acc. Options left as ``None`` take the data set's defaults
    (``max_frequency``, ``epochs``, ``batch_size``, ``lr``).

    >>> from steerable.training import FourierSamplingTask
    >>> FourierSamplingTask().plan["dataset"], FourierSamplingTask(dataset="shapes").plan["lr"]
    ('mnist', 0.01)
    """

    name = "fourier_sampling"
    description = (
        "fixed vs adaptive group grids for Fourier ELUs: rotated MNIST with SO(2) convolutions or rotated "
        "3-D point clouds with SO(3) point convolutions, accuracy vs samples; metric acc"
    )
    defaults = dict(
        dataset="mnist",
        sampling="adaptive",
        samples=4,
        max_frequency=None,
        width=1.0,
        epochs=None,
        batch_size=None,
        lr=None,
        weight_decay=0.0,
        seed=0,
        limit=0,
        n_train=2000,
        n_test=1000,
        n_points=64,
        k=6,
        data_seed=0,
    )

    def __init__(self, **plan):
        d = plan.get("dataset") or self.defaults["dataset"]
        if d not in DATASETS:
            raise ConfigError(Arg("dataset"), f": expected one of {', '.join(DATASETS)}, got {d!r}")
        for key, v in _DEFAULTS[d].items():
            if plan.get(key) is None:
                plan[key] = v
        super().__init__(**plan)

    def check(self) -> None:
        p = self.plan
        if p["sampling"] not in SAMPLINGS:
            raise ConfigError(Arg("sampling"), f": expected one of {', '.join(SAMPLINGS)}, got {p['sampling']!r}")
        super().check()
        for key in ("samples", "max_frequency", "n_train", "n_test", "k"):
            check_number(key, p[key], integer=True)
        for key in ("limit", "data_seed"):
            check_number(key, p[key], integer=True, strict=False)
        check_number("width", p["width"])
        if isinstance(p["n_points"], bool) or not isinstance(p["n_points"], int) or p["n_points"] < 4:
            raise ConfigError(Arg("n_points"), f": expected an integer >= 4, got {p['n_points']!r}")
        if p["dataset"] == "shapes" and p["k"] >= p["n_points"]:
            raise ConfigError(Arg("k"), f": expected fewer neighbours than n_points={p['n_points']}, got {p['k']!r}")
        self._cache: tuple | None = None

    def _channels(self, base: tuple) -> tuple:
        return tuple(max(1, round(c * self.plan["width"])) for c in base)

    def build_model(self) -> torch.nn.Module:
        p = self.plan
        if p["dataset"] == "mnist":
            return SO2FourierNet(p["sampling"], p["samples"], p["max_frequency"], self._channels((6, 12, 12)))
        return SO3FourierShapesNet(p["sampling"], p["samples"], p["max_frequency"], self._channels((4, 4)), k=p["k"])

    def model_spec(self, model: torch.nn.Module) -> dict:
        spec = super().model_spec(model)
        spec.update({k: self.plan[k] for k in ("dataset", "sampling", "samples", "max_frequency")})
        return spec

    def _data(self) -> tuple:
        if self._cache is None:
            p = self.plan
            if p["dataset"] == "mnist":
                from ._task_mnist import load_data

                plan = dict(transform="rotate", data_seed=p["data_seed"], limit=p["limit"], test_limit=0)
                train, x, y = load_data(plan)
                self._cache = (train, torch.utils.data.TensorDataset(x, y))
            else:
                from steerable.data import PointShapes

                def shapes(n, seed):
                    return PointShapes(n, n_points=p["n_points"], poses="so3", seed=seed)

                self._cache = (shapes(p["n_train"], 2 * p["data_seed"]), shapes(p["n_test"], 2 * p["data_seed"] + 1))
        return self._cache

    def train_data(self):
        return self._data()[0]

    def eval_data(self):
        return {"test": self._data()[1]}

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(output, target)

    def metrics(self) -> dict:
        return {"acc": accuracy}

    def evaluate(self, model: torch.nn.Module) -> dict:
        """Test loss and accuracy, and ``invariance``: the mean relative change of the logits of 64
        test inputs under random rotations (continuous angles: images rotated by bilinear
        interpolation, so the MNIST value includes the interpolation error, the same for both
        samplings; point clouds rotated exactly)."""
        report = super().evaluate(model)
        x = torch.stack([self._data()[1][i][0] for i in range(min(64, len(self._data()[1])))])
        report["invariance"] = invariance_error(model, x, self.plan["dataset"])
        return report


def invariance_error(model: torch.nn.Module, x: torch.Tensor, dataset: str, n: int = 4, seed: int = 0) -> float:
    """Mean over ``n`` random rotations of ``‖f(g·x) − f(x)‖ / ‖f(x)‖`` (logits of a batch ``x``):
    images rotated about their centre by bilinear interpolation (inside the inscribed disc),
    point clouds by a random rotation matrix."""
    g = torch.Generator().manual_seed(seed)
    model = model.eval()
    errs = []
    with torch.no_grad():
        if dataset == "mnist":
            h, w = x.shape[-2:]
            yy, xx = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
            disc = ((xx**2 + yy**2) <= 1).to(x.dtype)
            x = x * disc
        ref = model(x)
        for _ in range(n):
            if dataset == "mnist":
                a = float(torch.rand((), generator=g)) * 2 * math.pi
                c, s = math.cos(a), math.sin(a)
                theta = torch.tensor([[c, -s, 0.0], [s, c, 0.0]], dtype=x.dtype).expand(x.shape[0], 2, 3)
                grid = torch.nn.functional.affine_grid(theta, list(x.shape), align_corners=True)
                xg = torch.nn.functional.grid_sample(x, grid, align_corners=True) * disc
            else:
                q = torch.randn(3, 3, generator=g, dtype=torch.float64)
                r, _ = torch.linalg.qr(q)
                r = r * torch.sign(torch.linalg.det(r))
                xg = x @ r.to(x.dtype).T
            errs.append(float((model(xg) - ref).norm() / ref.norm().clamp_min(1e-12)))
    return sum(errs) / len(errs)
