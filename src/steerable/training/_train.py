"""``train(TrainConfig(...))``: the rotated-MNIST task with the options of ``steerable train``.

The *plan* of a run (model, width, epochs, batch size, learning rate, weight decay, seeds, data
transform, subset sizes) is stored in its checkpoint; ``resume=True`` takes every plan field left
as ``None`` from the checkpoint and refuses a conflicting one, so a resumed run is the run that
was interrupted, continued. The one plan field that may change is ``epochs``, upwards: a finished
(or interrupted) run resumed with more epochs keeps its weights, optimizer state, RNG state and
history, and trains the extra epochs, its learning rate following the cosine of the new length
from the step it had reached. Everything else (determinism, DDP under ``torchrun``, checkpoints,
logs) is the :class:`~steerable.training.Trainer`'s; this module is the bridge from the CLI's
option set to :func:`~steerable.training.fit_task`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch

from ._callbacks import Callback
from ._errors import Arg, ConfigError, check_number
from ._task import fit_task
from ._task_mnist import PLAN_DEFAULTS, TRANSFORMS, RotatedMNISTTask, load_data, model_default_lr, subset_indices
from ._trainer import CHECKPOINT_NAME, OUTPUT_FILES

__all__ = [
    "CHECKPOINT_NAME",
    "OUTPUT_FILES",
    "PLAN_DEFAULTS",
    "TRANSFORMS",
    "TrainConfig",
    "TrainResult",
    "load_data",
    "subset_indices",
    "train",
]


@dataclass
class TrainConfig:
    """The rotated-MNIST plan and run options (what ``steerable train`` takes).

    ``None`` in a plan field means "the default, or the checkpoint's value when resuming".

    >>> from steerable.training import TrainConfig
    >>> TrainConfig(model="cnn", epochs=2).resolved().batch_size
    64
    """

    model: str | None = None
    width: float | None = None
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    weight_decay: float | None = None
    seed: int | None = None
    transform: str | None = None
    data_seed: int | None = None
    limit: int | None = None
    test_limit: int | None = None
    out: str | None = None
    resume: bool = False
    overwrite: bool = False
    workers: int = 0
    device: str = "auto"
    threads: int | None = None
    progress: bool = True

    def plan(self) -> dict:
        """The plan fields (``None`` where not given)."""
        return {k: getattr(self, k) for k in PLAN_DEFAULTS}

    def resolved(self, saved_plan: dict | None = None) -> TrainConfig:
        """Fill the ``None`` plan fields from ``saved_plan`` (a checkpoint's) or the defaults."""
        values = asdict(self)
        source = dict(PLAN_DEFAULTS)
        if saved_plan:
            source.update({k: v for k, v in saved_plan.items() if k in PLAN_DEFAULTS})
        if not (saved_plan and saved_plan.get("lr") is not None):
            source["lr"] = model_default_lr(values["model"] if values["model"] is not None else source["model"])
        for k in PLAN_DEFAULTS:
            if values[k] is None:
                values[k] = source[k]
        cfg = TrainConfig(**values)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        """Raise ``ValueError`` (a :class:`ConfigError`) naming the first bad field."""
        RotatedMNISTTask(**self.plan())
        check_number("workers", self.workers, integer=True, strict=False)
        if self.threads is not None:
            check_number("threads", self.threads, integer=True)
        if self.resume and self.overwrite:
            raise ConfigError(
                Arg("resume", True),
                " and ",
                Arg("overwrite", True),
                " exclude each other: ",
                Arg("resume", True),
                " continues the run in ",
                Arg("out"),
                ", ",
                Arg("overwrite", True),
                " deletes it and starts again",
            )


@dataclass
class TrainResult:
    """What :func:`train` returns: the trained (unwrapped) model and the run's record."""

    model: torch.nn.Module
    history: list = field(default_factory=list)
    config: TrainConfig | None = None
    checkpoint: str | None = None
    start_epoch: int = 0
    rank: int = 0
    world_size: int = 1


class _Hooks(Callback):
    """``train``'s function hooks as a callback."""

    def __init__(self, config: TrainConfig, on_epoch_end, on_step):
        self.config, self.epoch_end, self.step = config, on_epoch_end, on_step

    def on_step(self, trainer, epoch, step, loss):
        if self.step is not None:
            self.step(epoch, step, loss)

    def on_epoch_end(self, trainer, row):
        if self.epoch_end is not None and trainer.is_main:
            self.epoch_end(row, self.config.resolved(trainer.plan))


def train(
    config: TrainConfig,
    on_epoch_end: Callable[[dict, TrainConfig], None] | None = None,
    on_step: Callable[[int, int, float], None] | None = None,
) -> TrainResult:
    """Train (or continue training) a model from ``steerable.models`` on rotated MNIST.

    ``on_epoch_end(row, config)`` is called on rank 0 after each epoch with the epoch's metrics
    and the resolved configuration; ``on_step(epoch, step, loss)`` after each optimizer step on
    every rank (raise inside it to simulate an interruption). Under ``torchrun`` the process
    group is set up and torn down here.

    >>> from steerable.training import TrainConfig
    >>> TrainConfig(epochs=0).resolved()
    Traceback (most recent call last):
    ...
    steerable.training._errors.ConfigError: epochs: expected an integer > 0, got 0
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config: expected a TrainConfig, got {type(config).__name__}")
    if config.resume and config.out is None:
        raise ConfigError(Arg("resume", True), " needs ", Arg("out"), " (the folder of the run to continue)")
    config.resolved()  # validates the explicit values before touching the file system
    res = fit_task(
        RotatedMNISTTask,
        out=config.out,
        resume=config.resume,
        overwrite=config.overwrite,
        device=config.device,
        workers=config.workers,
        threads=config.threads,
        progress=config.progress,
        callbacks=[_Hooks(config, on_epoch_end, on_step)],
        **config.plan(),
    )
    return TrainResult(
        model=res.model,
        history=res.history,
        config=config.resolved(res.plan),
        checkpoint=res.checkpoint,
        start_epoch=res.start_epoch,
        rank=res.rank,
        world_size=res.world_size,
    )
