"""The partial-equivariance task: a learned degree of equivariance on double-digit MNIST.

Canvases of two digits side by side, each digit transformed by the data set's symmetry
(:class:`~steerable.data.DoubleMNIST`: ``'so2'``, ``'c4'``, ``'flips'``, ``'none'``; 100 classes),
classified by :class:`DoubleDigitNet`, one of

- ``'equivariant'``: D4-steerable convolutions on regular fields (exactly equivariant to the
  grid's rotations by 90° and its flips), group pooling, then a head that sees the left and right
  halves;
- ``'plain'``: the same network with ordinary convolutions of as many channels;
- ``'partial'``: the equivariant network with every convolution relaxed by its own learned density
  λ over D4 (:func:`~steerable.nn.make_partially_equivariant`), initialised uniform (so it starts
  as the equivariant network); ``'partial_shared'``: one λ shared by all layers.

Loss: cross entropy plus :func:`~steerable.nn.partial_equivariance_loss` (weights
``kl_uniform``, ``kl_layers``, ``alignment``); the densities' coefficients train at
``density_lr`` × the learning rate, without weight decay. :meth:`PartialEquivarianceTask.evaluate`
adds each layer's λ mass on the data set's true symmetry (C4 for ``so2`` and ``c4``, the
left-right mirror for ``flips``, the identity for ``none``).

>>> task = PartialEquivarianceTask(model="partial", n_train=8, n_test=4, fields=(1, 1, 1, 1, 2))
>>> task.plan["symmetry"], tuple(task.train_data()[0][0].shape)
('so2', (1, 17, 33))
"""

from __future__ import annotations

import functools
import weakref

import torch

from ._errors import Arg, ConfigError, check_number
from ._metrics import accuracy
from ._task import Task, register_task

MODELS = ("equivariant", "plain", "partial", "partial_shared")
_KERNELS = (5, 3, 3, 3, 3)
_POOL_AFTER = (1, 2)  # pool (stride 2) after these blocks


def _d4():
    from steerable import gspaces

    return gspaces.flipRot2dOnR2(4)


class DoubleDigitNet(torch.nn.Module):
    """A classifier of double-digit canvases (B, 1, H, W) (see the module docstring for ``kind``).

    Blocks ``i = 0..3``: a ``_KERNELS[i]`` convolution onto ``fields[i]`` regular D4 fields (8
    channels each; plain: as many channels), batch norm, ELU, and an anti-aliased average pooling of
    stride 2 after blocks 1 and 2; a last 3×3 convolution onto ``fields[4]`` regular fields and a
    pooling over the group (plain: onto ``fields[4]`` channels); then the average over the left
    and the right half of the canvas and a two-layer head onto ``n_classes``.

    The equivariant network's features before the head are invariant to the grid's rotations and
    flips of the input (the head then sees which half is which):

    >>> import torch
    >>> from steerable.training import DoubleDigitNet
    >>> net = DoubleDigitNet("equivariant", fields=(1, 1, 1, 1, 2)).eval()
    >>> x = torch.randn(2, 1, 17, 17)
    >>> bool(torch.allclose(net.features(x.rot90(1, (2, 3))), net.features(x).rot90(1, (2, 3)), atol=1e-5))
    True
    """

    def __init__(
        self, kind: str = "partial", fields=(4, 4, 8, 8, 16), n_classes: int = 100, L: int = 4, hidden: int = 64
    ):
        super().__init__()
        from steerable import nn

        if kind not in MODELS:
            raise ValueError(f"kind: expected one of {', '.join(MODELS)}, got {kind!r}")
        if not isinstance(fields, (tuple, list)) or len(fields) != len(_KERNELS):
            raise ValueError(f"fields: expected {len(_KERNELS)} positive integers, got {fields!r}")
        for f in fields:
            check_number("fields", f, integer=True)
        self.kind, self.group_name = kind, "none" if kind == "plain" else "D4"
        gs = _d4()
        order = gs.fibergroup.order()
        layers: list = []
        if kind == "plain":
            c_in = 1
            for i, (f, k) in enumerate(zip(fields[:-1], _KERNELS)):
                c = f * order
                layers += [
                    torch.nn.Conv2d(c_in, c, k, padding=k // 2, bias=False),
                    torch.nn.BatchNorm2d(c),
                    torch.nn.ELU(),
                ]
                if i in _POOL_AFTER:
                    layers.append(torch.nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False))
                c_in = c
            layers.append(torch.nn.Conv2d(c_in, fields[-1], 3, padding=1))
            self.body = torch.nn.Sequential(*layers)
            self.in_type = None
        else:
            t = self.in_type = nn.FieldType(gs, [gs.trivial_repr])
            for i, (f, k) in enumerate(zip(fields[:-1], _KERNELS)):
                out = nn.FieldType(gs, [gs.regular_repr] * f)
                layers += [nn.R2Conv(t, out, k, padding=k // 2, bias=False), nn.InnerBatchNorm(out), nn.ELU(out)]
                if i in _POOL_AFTER:
                    layers.append(nn.PointwiseAvgPoolAntialiased2D(out, sigma=0.66, stride=2))
                t = out
            last = nn.FieldType(gs, [gs.regular_repr] * fields[-1])
            layers += [nn.R2Conv(t, last, 3, padding=1), nn.GroupPooling(last)]
            self.body = nn.SequentialModule(*layers)
            if kind.startswith("partial"):
                nn.make_partially_equivariant(self.body, L=L, shared=kind == "partial_shared")
        self.head = torch.nn.Sequential(
            torch.nn.Linear(2 * fields[-1], hidden), torch.nn.ELU(), torch.nn.Linear(hidden, n_classes)
        )

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The feature map before the head (B, fields[-1], H/4, W/4)."""
        if self.in_type is None:
            return self.body(x)
        return self.body(self.in_type(x)).tensor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = torch.nn.functional.adaptive_avg_pool2d(self.features(x), (1, 2))
        return self.head(f.flatten(1))

    def densities(self) -> dict:
        """``{layer name: density}`` of the partially equivariant layers (empty otherwise)."""
        from steerable import nn

        return dict(nn.partial_densities(self.body)) if self.in_type is not None else {}


def true_symmetry_mask(symmetry: str, density) -> torch.Tensor:
    """The grid elements of a D4 density in the data set's true symmetry subgroup: the rotations
    by multiples of 90° (``'so2'``, ``'c4'``), the identity and the left-right mirror of the image
    (``'flips'``), the identity (``'none'``)."""
    import numpy as np

    G = density.group
    mirror = _image_mirror()
    gs = _d4()
    keep = []
    for g in density.grid_elements:
        if symmetry in ("so2", "c4"):
            keep.append(bool(np.linalg.det(gs.basespace_matrix(g)) > 0))
        elif symmetry == "flips":
            keep.append(g == G.identity or g == mirror)
        else:
            keep.append(g == G.identity)
    return torch.as_tensor(keep)


@functools.lru_cache(maxsize=1)
def _image_mirror():
    """The element of the D4 gspace acting on images as the left-right mirror ``x[..., ::-1]``."""
    from steerable import nn

    gs = _d4()
    G = gs.fibergroup
    t = nn.FieldType(gs, [gs.trivial_repr])
    x = t(torch.arange(9.0).reshape(1, 1, 3, 3))
    for g in G.elements:
        if torch.equal(x.transform(g).tensor, x.tensor.flip(-1)):
            return g
    raise RuntimeError("no element of D4 mirrors images left-right")  # the gspace always has one


@register_task
class PartialEquivarianceTask(Task):
    """Learning the degree of equivariance on double-digit MNIST (metric acc)."""

    name = "partial_equivariance"
    description = (
        "learned degree of equivariance (a density over D4 per layer or shared) on double-digit MNIST "
        "(100 classes; each digit rotated, flipped or not), vs equivariant and plain CNNs; metric acc"
    )
    defaults = dict(
        symmetry="so2",
        model="partial",
        L=4,
        fields=(4, 4, 8, 8, 16),
        epochs=8,
        batch_size=64,
        lr=3e-3,
        weight_decay=1e-4,
        density_lr=10.0,
        kl_uniform=0.0,
        kl_layers=0.01,
        alignment=0.01,
        seed=0,
        n_train=4000,
        n_test=1000,
        size=17,
        data_seed=0,
    )

    def check(self) -> None:
        from steerable.data import DOUBLE_MNIST_SYMMETRIES

        p = self.plan
        super().check()
        if p["symmetry"] not in DOUBLE_MNIST_SYMMETRIES:
            raise ConfigError(
                Arg("symmetry"), f": expected one of {', '.join(DOUBLE_MNIST_SYMMETRIES)}, got {p['symmetry']!r}"
            )
        if p["model"] not in MODELS:
            raise ConfigError(Arg("model"), f": expected one of {', '.join(MODELS)}, got {p['model']!r}")
        for key in ("n_train", "n_test", "L"):
            check_number(key, p[key], integer=True)
        check_number("size", p["size"], integer=True)
        if p["size"] < 9 or p["size"] % 2 == 0:
            raise ConfigError(Arg("size"), f": expected an odd integer >= 9, got {p['size']!r}")
        check_number("density_lr", p["density_lr"])
        for key in ("kl_uniform", "kl_layers", "alignment"):
            check_number(key, p[key], strict=False)
        check_number("data_seed", p["data_seed"], integer=True, strict=False)
        f = p["fields"]
        if isinstance(f, str):
            try:
                f = p["fields"] = tuple(int(v) for v in f.split(","))
            except ValueError:
                raise ConfigError(Arg("fields"), f": expected comma-separated integers, got {f!r}") from None
        if not isinstance(f, (tuple, list)) or len(f) != len(_KERNELS):
            raise ConfigError(Arg("fields"), f": expected {len(_KERNELS)} positive integers, got {f!r}")
        for v in f:
            check_number("fields", v, integer=True)
        p["fields"] = tuple(int(v) for v in f)
        self._cache: tuple | None = None
        self._model_ref: weakref.ReferenceType | None = None

    def build_model(self) -> torch.nn.Module:
        p = self.plan
        model = DoubleDigitNet(p["model"], p["fields"], L=p["L"])
        self._model_ref = weakref.ref(model)
        return model

    def model_spec(self, model: torch.nn.Module) -> dict:
        spec = super().model_spec(model)
        spec.update({k: self.plan[k] for k in ("symmetry", "model", "L", "fields")})
        return spec

    def _data(self) -> tuple:
        if self._cache is None:
            from steerable.data import DoubleMNIST

            p = self.plan
            self._cache = (
                DoubleMNIST("train", p["symmetry"], p["n_train"], p["size"], p["data_seed"]),
                DoubleMNIST("test", p["symmetry"], p["n_test"], p["size"], p["data_seed"]),
            )
        return self._cache

    def train_data(self):
        return self._data()[0]

    def eval_data(self):
        return {"test": self._data()[1]}

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = torch.nn.functional.cross_entropy(output, target)
        model = self._model_ref() if self._model_ref is not None else None
        if model is not None and model.training and getattr(model, "in_type", None) is not None:
            from steerable import nn

            p = self.plan
            loss = loss + nn.partial_equivariance_loss(model, p["kl_uniform"], p["kl_layers"], p["alignment"])
        return loss

    def metrics(self) -> dict:
        return {"acc": accuracy}

    def _optimizer(self, params):
        p = self.plan
        model = self._model_ref() if self._model_ref is not None else None
        dens = {id(d.coefficients) for d in model.densities().values()} if model is not None else set()
        slow = [q for q in params if id(q) not in dens]
        fast = [q for q in params if id(q) in dens]
        groups = [{"params": slow}]
        if fast:
            groups.append({"params": fast, "lr": p["lr"] * p["density_lr"], "weight_decay": 0.0})
        return torch.optim.AdamW(groups, lr=p["lr"], weight_decay=p["weight_decay"])

    def trainer(self, **run):
        run.setdefault("optimizer", self._optimizer)
        return super().trainer(**run)

    def evaluate(self, model: torch.nn.Module) -> dict:
        """Test loss and accuracy, and for partial models ``mass``: each layer's λ mass on the data
        set's true symmetry (``{layer: mass}``; the uniform density's is the subgroup's share of D4:
        ½ for C4, ¼ for the mirror, ⅛ for the identity), and ``mass_identity``: each layer's λ
        mass on the identity alone (how close the layer is to a free, unconstrained one)."""
        report = super().evaluate(model)
        dens = model.densities() if isinstance(model, DoubleDigitNet) else {}
        if dens:
            with torch.no_grad():
                report["mass"] = {
                    name: float(d.mass(true_symmetry_mask(self.plan["symmetry"], d))) for name, d in dens.items()
                }
                report["mass_identity"] = {
                    name: float(d.mass(true_symmetry_mask("none", d))) for name, d in dens.items()
                }
        return report
