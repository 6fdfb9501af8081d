"""Callbacks: user code that the trainer calls at fixed points of a run.

Subclass :class:`Callback` and override the hooks you need; every hook receives the
:class:`~steerable.training.Trainer` (its ``model``, ``optimizer``, ``scheduler``, ``ctx``,
``history``, ``epoch``...). Hooks run on every rank of a distributed run, with the same (summed
over the ranks) epoch rows, so decisions taken from them agree; use ``trainer.is_main`` to write
or print on rank 0 only. Setting ``trainer.should_stop = True`` ends the run after the current
epoch (its checkpoint records the stop). A callback with state (a patience counter, a best value)
returns it from ``state_dict`` and takes it back in ``load_state_dict``: it is saved in every
checkpoint, so a resumed run continues where the callback was.

>>> class PrintLoss(Callback):
...     def on_epoch_end(self, trainer, row):
...         if trainer.is_main:
...             print(f"epoch {row['epoch']}: {row['train_loss']:.2f}")
>>> stop = EarlyStopping("test_loss", patience=2)
>>> stop.state_dict()
{'best': None, 'bad_epochs': 0}
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ._errors import Arg, ConfigError


class Callback:
    """Base class of the trainer's callbacks: every hook does nothing unless overridden.

    >>> from steerable.training import Callback
    >>> class CountSteps(Callback):
    ...     def __init__(self):
    ...         self.steps = 0
    ...     def on_step(self, trainer, epoch, step, loss):
    ...         self.steps += 1
    >>> CountSteps().steps
    0
    """

    def on_fit_start(self, trainer) -> None:
        """Before the first epoch of this call of ``fit`` (after a resume: the first remaining one)."""

    def on_epoch_start(self, trainer, epoch: int) -> None:
        """Before epoch ``epoch`` (0-based) trains."""

    def on_step(self, trainer, epoch: int, step: int, loss: float) -> None:
        """After each optimizer step, with the batch's loss (this rank's)."""

    def on_epoch_end(self, trainer, row: dict) -> None:
        """After the epoch's evaluation, before its checkpoint: ``row`` is the history entry
        (keys added here are logged too)."""

    def on_fit_end(self, trainer, result) -> None:
        """After the last epoch (also when nothing was left to train), with the :class:`FitResult`."""

    def state_dict(self) -> dict:
        """What to save in checkpoints (plain numbers, strings, lists, dicts)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Take back what :meth:`state_dict` returned (when a run is resumed)."""


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda trainer, row: ...)``.

    >>> from steerable.training import LambdaCallback
    >>> seen = []
    >>> cb = LambdaCallback(on_epoch_end=lambda trainer, row: seen.append(row["epoch"]))
    >>> cb.on_epoch_end(None, {"epoch": 1}); seen
    [1]
    """

    _HOOKS = ("on_fit_start", "on_epoch_start", "on_step", "on_epoch_end", "on_fit_end")

    def __init__(self, **hooks: Callable):
        for k, f in hooks.items():
            if k not in self._HOOKS:
                raise ConfigError(Arg(k), f": not a callback hook; expected one of {', '.join(self._HOOKS)}")
            if not callable(f):
                raise TypeError(f"{k}: expected a callable, got {type(f).__name__}")
            setattr(self, k, f)


class EarlyStopping(Callback):
    """Stop when the history value ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    ``mode``: ``'min'`` (a loss or error) or ``'max'`` (an accuracy).

    >>> from steerable.training import EarlyStopping
    >>> class _T:  # a stand-in for the trainer
    ...     should_stop = False
    >>> t, stop = _T(), EarlyStopping("test_loss", patience=1)
    >>> for v in (1.0, 0.5, 0.6):
    ...     stop.on_epoch_end(t, {"test_loss": v})
    >>> t.should_stop, stop.best
    (True, 0.5)
    """

    def __init__(self, monitor: str = "test_loss", patience: int = 3, mode: str = "min", min_delta: float = 0.0):
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"monitor: expected the name of a history column (a str), got {monitor!r}")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ConfigError(Arg("patience"), f": expected an integer > 0, got {patience!r}")
        if mode not in ("min", "max"):
            raise ConfigError(Arg("mode"), f": expected 'min' or 'max', got {mode!r}")
        if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float)) or not min_delta >= 0:
            raise ConfigError(Arg("min_delta"), f": expected a number >= 0, got {min_delta!r}")
        self.monitor, self.patience, self.mode, self.min_delta = monitor, patience, mode, float(min_delta)
        self.best: float | None = None
        self.bad_epochs = 0

    def on_epoch_end(self, trainer, row: dict) -> None:
        if self.monitor not in row:
            raise ConfigError(
                Arg("monitor", self.monitor), f": not a column of the history; it has {', '.join(sorted(row))}"
            )
        v = float(row[self.monitor])
        better = self.best is None or (
            v < self.best - self.min_delta if self.mode == "min" else v > self.best + self.min_delta
        )
        if better and not math.isnan(v):
            self.best, self.bad_epochs = v, 0
        else:
            self.bad_epochs += 1
            if self.bad_epochs >= self.patience:
                trainer.should_stop = True

    def state_dict(self) -> dict:
        return {"best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict) -> None:
        self.best = state.get("best")
        self.bad_epochs = int(state.get("bad_epochs", 0))
