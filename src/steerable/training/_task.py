"""Tasks: what to train (model, data, loss, metrics, evaluation, plan defaults), built by name.

A :class:`Task` subclass declares its *plan*, ``defaults`` (the training values ``epochs``,
``batch_size``, ``lr``, ``weight_decay``, ``seed`` and the task's own options, e.g. a width or a
data-set size), and builds from it the model, the training and evaluation data, the loss and the
metrics. :func:`register_task` adds it to the tasks the ``steerable`` command knows by name;
:func:`fit_task` trains one: options left as ``None`` take the default, or on ``resume`` the
checkpoint's value, and an explicit value that contradicts the checkpoint is refused.

>>> from steerable.training import get_task, task_names  # the registry of the package
>>> {"dipole", "rotated_mnist", "tetris"} <= set(task_names())
True
>>> get_task("tetris").defaults["epochs"] > 0
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch

from ._callbacks import Callback
from ._distributed import barrier, cleanup_distributed, init_distributed
from ._errors import Arg, ConfigError, check_number
from ._trainer import FitResult, Trainer, check_resumed_plan, open_run

TRAINING_KEYS = ("epochs", "batch_size", "lr", "weight_decay", "seed")
_REGISTRY: dict[str, type[Task]] = {}


class Task:
    """Base class of the tasks: subclasses set ``name``, ``description``, ``defaults`` and define
    ``build_model``, ``train_data``, ``loss`` (and usually ``eval_data``, ``metrics``).

    ``Task(**plan)`` fills the missing plan values from ``defaults`` and validates them
    (:meth:`check`); ``self.plan`` is the complete plan.

    >>> import torch
    >>> from steerable.training import Task
    >>> class Parity(Task):
    ...     name, description = "parity", "the sign of a number"
    ...     defaults = dict(epochs=2, batch_size=8, lr=0.1, weight_decay=0.0, seed=0, n=32)
    ...     def build_model(self):
    ...         return torch.nn.Linear(1, 2)
    ...     def train_data(self):
    ...         x = torch.randn(self.plan["n"], 1, generator=torch.Generator().manual_seed(0))
    ...         return torch.utils.data.TensorDataset(x, (x[:, 0] > 0).long())
    ...     def loss(self, output, target):
    ...         return torch.nn.functional.cross_entropy(output, target)
    >>> Parity(n=16).plan["n"], Parity().plan["epochs"]
    (16, 2)
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    defaults: ClassVar[dict] = {}

    def __init__(self, **plan: Any):
        unknown = [k for k in plan if k not in self.defaults]
        if unknown:
            raise ConfigError(
                Arg(unknown[0]), f": not an option of task '{self.name}'; it takes {', '.join(self.defaults)}"
            )
        self.plan = {k: (plan[k] if plan.get(k) is not None else v) for k, v in self.defaults.items()}
        self.check()

    # -- what subclasses define

    def check(self) -> None:
        """Validate ``self.plan`` (``ConfigError`` naming the option); extend in subclasses."""
        p = self.plan
        check_number("epochs", p["epochs"], integer=True)
        check_number("batch_size", p["batch_size"], integer=True)
        check_number("lr", p["lr"])
        check_number("weight_decay", p["weight_decay"], strict=False)
        check_number("seed", p["seed"], integer=True, strict=False)

    def build_model(self) -> torch.nn.Module:
        """The model to train (called after seeding torch with the plan's ``seed``)."""
        raise TypeError(f"{type(self).__name__} must define build_model(self) -> torch.nn.Module")

    def model_spec(self, model: torch.nn.Module) -> dict:
        """What the checkpoint records about the model (JSON-able)."""
        return {"name": self.name, "class": type(model).__name__, "group_name": str(getattr(model, "group_name", ""))}

    def train_data(self):
        """The training set: a Dataset of ``(input, target)`` (or a batch factory, see :class:`Trainer`)."""
        raise TypeError(f"{type(self).__name__} must define train_data(self) -> torch Dataset")

    def eval_data(self):
        """Evaluation sets: a Dataset (named ``test``), a dict of them by name, or ``None``."""
        return None

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The batch-mean loss to minimise."""
        raise TypeError(f"{type(self).__name__} must define loss(self, output, target) -> scalar tensor")

    def metrics(self) -> dict:
        """``{name: callable(output, target)}`` reported for training and every evaluation set."""
        return {}

    def evaluate(self, model: torch.nn.Module) -> dict:
        """A report on a trained model: by default its loss and metrics on the evaluation sets."""
        t = Trainer(
            model,
            self.train_data(),
            loss=self.loss,
            metrics=self.metrics(),
            eval_data=self.eval_data(),
            epochs=1,
            device="cpu",
            progress=False,
        )
        return t.evaluate(model)

    # -- building a trainer

    def trainer(self, *, callbacks: Sequence[Callback] = (), **run: Any) -> Trainer:
        """A :class:`Trainer` for this plan (``run``: ``out``, ``resume``, ``overwrite``, ``device``,
        ``workers``, ``threads``, ``progress``); the model is built after seeding with ``seed``."""
        p = self.plan
        torch.manual_seed(p["seed"])
        model = self.build_model()
        return Trainer(
            model,
            self.train_data(),
            loss=self.loss,
            metrics=self.metrics(),
            eval_data=self.eval_data(),
            epochs=p["epochs"],
            batch_size=p["batch_size"],
            lr=p["lr"],
            weight_decay=p["weight_decay"],
            seed=p["seed"],
            callbacks=callbacks,
            hparams=p,
            model_spec=self.model_spec(model),
            task=self.name,
            **run,
        )


def register_task(cls: type[Task]) -> type[Task]:
    """Add a :class:`Task` subclass to the registry under ``cls.name`` (usable as a decorator).

    >>> from steerable.training import Task, register_task, task_names, unregister_task
    >>> class Noop(Task):
    ...     name, description, defaults = "noop-example", "nothing", dict(epochs=1, batch_size=1, lr=1.0,
    ...                                                                   weight_decay=0.0, seed=0)
    >>> register_task(Noop) is Noop and "noop-example" in task_names()
    True
    >>> unregister_task("noop-example")
    """
    if not (isinstance(cls, type) and issubclass(cls, Task)):
        raise TypeError(f"cls: expected a subclass of steerable.training.Task, got {cls!r}")
    if not isinstance(cls.name, str) or not cls.name or any(c.isspace() for c in cls.name):
        raise ConfigError(Arg("name"), f": a task needs a name without spaces, got {cls.name!r}")
    missing = [k for k in TRAINING_KEYS if k not in cls.defaults]
    if missing:
        raise ConfigError(Arg("defaults"), f": task '{cls.name}' lacks {', '.join(missing)}")
    _REGISTRY[cls.name] = cls
    return cls


def unregister_task(name: str) -> None:
    """Remove the task ``name`` from the registry (no error if it is not there).

    >>> from steerable.training import unregister_task
    >>> unregister_task("no-such-task")
    """
    _REGISTRY.pop(name, None)


def task_names() -> list[str]:
    """The names of the registered tasks, in registration order.

    >>> from steerable.training import task_names
    >>> {"rotated_mnist", "tetris", "dipole"} <= set(task_names())
    True
    """
    return list(_REGISTRY)


def describe_tasks() -> list[tuple[str, str]]:
    """``[(name, one-line description)]`` of the registered tasks.

    >>> from steerable.training import describe_tasks
    >>> dict(describe_tasks())["rotated_mnist"].startswith("rotated MNIST")
    True
    """
    return [(n, c.description) for n, c in _REGISTRY.items()]


def get_task(name: str | type[Task]) -> type[Task]:
    """The task class registered as ``name`` (``ConfigError`` naming the known tasks otherwise).

    >>> from steerable.training import get_task
    >>> get_task("tetris").name
    'tetris'
    """
    if isinstance(name, type) and issubclass(name, Task):
        return name
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ConfigError(Arg("task"), f": unknown task {name!r}; expected one of {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def build_task(name: str, **plan: Any) -> Task:
    """``get_task(name)(**plan)``.

    >>> from steerable.training import build_task
    >>> build_task("dipole", n_train=64).plan["n_train"]
    64
    """
    return get_task(name)(**plan)


def fit_task(
    task: str | type[Task],
    *,
    out: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    device: str = "auto",
    workers: int = 0,
    threads: int | None = None,
    progress: bool = True,
    callbacks: Sequence[Callback] = (),
    **options: Any,
) -> FitResult:
    """Train the task ``task`` (a name or a :class:`Task` subclass) with the plan ``options``.

    ``None`` options take the task's defaults, or with ``resume=True`` the checkpoint's values
    (an explicit value that differs from the checkpoint raises ``CheckpointError``; ``epochs``
    may grow). The result's ``plan`` is the plan that was run. Under ``torchrun`` the process
    group is set up and torn down here.

    >>> from steerable.training import fit_task
    >>> res = fit_task("dipole", hidden=0, n_train=32, n_test=16, epochs=2, device="cpu", progress=False)
    >>> res.task, res.plan["n_train"], sorted(k for k in res.last if k.startswith("rotated_"))
    ('dipole', 32, ['rotated_cos_err', 'rotated_loss', 'rotated_mse'])
    """
    cls = get_task(task)
    explicit = {k: v for k, v in options.items() if v is not None}
    cls(**explicit)  # validate the explicit values before touching the file system
    ctx = init_distributed(device)
    try:
        ckpt = open_run(out, resume, overwrite, ctx)
        plan = dict(explicit)
        if ckpt is not None:
            where = str(ckpt.get("path", out))
            saved_task = ckpt.get("task", "rotated_mnist")
            if saved_task != cls.name:
                from ._checkpoint import CheckpointError

                raise CheckpointError(f"{where} holds a run of task '{saved_task}', not '{cls.name}'")
            _check_model(explicit, ckpt, where)
            check_resumed_plan(explicit, ckpt["args"], where, int(ckpt["epoch"]), droppable=True)
            plan = {**{k: v for k, v in ckpt["args"].items() if k in cls.defaults}, **explicit}
        t = cls(**plan)
        trainer = t.trainer(
            callbacks=callbacks,
            out=out,
            resume=resume,
            overwrite=False,
            device=device,
            workers=workers,
            threads=threads,
            progress=progress,
        )
        result = trainer._fit(ctx, ckpt)
        result.plan, result.task = dict(t.plan), cls.name
        barrier(ctx)  # every rank finishes its collectives (and rank 0 its checkpoint) before teardown
        return result
    finally:
        cleanup_distributed(ctx)


def _check_model(explicit: Mapping, ckpt: dict, where: str) -> None:
    """A model name given for a resumed run must be the checkpoint's (the one-line zoo message)."""
    from ._checkpoint import check_model_name

    if (
        "model" in explicit
        and isinstance(ckpt.get("model"), dict)
        and "name" in ckpt["model"]
        and "model" in ckpt.get("args", {})
    ):
        check_model_name({"model": {"name": ckpt["args"]["model"]}, "path": where}, explicit["model"])
