"""The task-agnostic training loop: any model, data, loss, metrics, optimiser, schedule, callbacks.

One code path for one process and for ``torchrun`` (DistributedDataParallel), resumable at every
epoch from ``out/checkpoint.pt``.

Determinism: the order of the training samples in epoch ``e`` depends only on ``(seed, e)`` (a
``DistributedSampler``, one replica in a single process); a fresh run seeds torch, numpy and
random with ``seed`` before its first epoch, and the checkpoint holds every rank's RNG state at
the end of each epoch, with the model, optimizer and scheduler states, the callbacks' states and
the history. On one machine with the same thread count, a run interrupted after epoch ``k`` and
resumed ends with the same weights, bit for bit, as an uninterrupted one. ``epochs`` may grow on
resume (the run is extended; the default cosine follows the new length from the step reached).

Distributed: each rank gets ``batch_size / world_size`` samples of each global batch, DDP
averages the gradients, floating-point buffers (BatchNorm statistics) are averaged over the ranks
at the end of each epoch, metric totals are summed over the ranks, and rank 0 alone writes the
checkpoint and the logs (without DDP's ``module.`` prefix).
"""

from __future__ import annotations

import inspect
import math
import os
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ._callbacks import Callback
from ._checkpoint import (
    FORMAT,
    VERSION,
    CheckpointError,
    atomic_torch_save,
    capture_rng_state,
    load_checkpoint,
    load_model_state,
    restore_rng_state,
    strip_ddp_prefix,
)
from ._distributed import (
    DistContext,
    all_gather_object,
    all_reduce_sum,
    barrier,
    broadcast_object,
    cleanup_distributed,
    init_distributed,
)
from ._errors import Arg, ConfigError, NoCheckpointError, check_number
from ._logs import LOG_CSV, LOG_JSON, prepare_output, write_logs
from ._metrics import MetricTotals, check_metrics
from ._schedule import BatchNormWarmup, default_schedule

CHECKPOINT_NAME = "checkpoint.pt"
# files of a run folder that overwrite=True removes (training, evaluate, export, quantize)
OUTPUT_FILES = (CHECKPOINT_NAME, LOG_JSON, LOG_CSV, "eval.json", "model.pt", "model.ts", "model_int8.ts")


@dataclass
class FitResult:
    """What :meth:`Trainer.fit` returns: the trained (unwrapped, eval-mode) model and the record.

    >>> import torch
    >>> from steerable.training import FitResult
    >>> FitResult(torch.nn.Linear(1, 1), history=[{"epoch": 1, "test_acc": 0.5}]).last["test_acc"]
    0.5
    """

    model: torch.nn.Module
    history: list = field(default_factory=list)
    checkpoint: str | None = None
    start_epoch: int = 0
    rank: int = 0
    world_size: int = 1
    stopped: bool = False  # a callback ended the run early
    plan: dict = field(default_factory=dict)  # the plan that was run (fit_task)
    task: str | None = None

    @property
    def last(self) -> dict:
        """The last epoch's row of the history (empty if none)."""
        return self.history[-1] if self.history else {}


# ------------------------------------------------------------------------------- run folders


def open_run(out: str | None, resume: bool, overwrite: bool, ctx: DistContext) -> dict | None:
    """Check the run folder ``out`` and read the checkpoint to continue (``None`` for a new run).

    Rank 0 looks at the file system; every rank gets its answer, or raises its error, so that a
    bad folder stops all of them with one message instead of leaving the others waiting.
    """
    if ctx.is_main:
        try:
            answer = (_open_run(out, resume, overwrite), None)
        except (ValueError, OSError) as e:  # CheckpointError and ConfigError are ValueErrors
            answer = (None, e)
    else:
        answer = None
    ckpt, err = broadcast_object(ctx, answer)
    if err is not None:
        raise err
    return ckpt


def _open_run(out: str | None, resume: bool, overwrite: bool) -> dict | None:
    if resume and overwrite:
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
    if out is None:
        if resume:
            raise ConfigError(Arg("resume", True), " needs ", Arg("out"), " (the folder of the run to continue)")
        return None
    path = os.path.join(out, CHECKPOINT_NAME)
    if os.path.exists(out) and not os.path.isdir(out):
        raise ConfigError(Arg("out", out), ": exists and is not a folder")
    exists = os.path.exists(path)
    if resume and not exists:
        raise NoCheckpointError(
            Arg("resume", True),
            ": no checkpoint to continue in ",
            Arg("out", out),
            f" ({path} not found); drop ",
            Arg("resume", True),
            " to start a new run there",
        )
    if exists and not resume and not overwrite:
        raise ConfigError(
            Arg("out", out),
            " already holds a checkpoint; pass ",
            Arg("resume", True),
            " to continue it or ",
            Arg("overwrite", True),
            " to start again",
        )
    prepare_output(out)
    if exists and overwrite:
        for name in OUTPUT_FILES:  # what a run and the commands after it write here
            f = os.path.join(out, name)
            if os.path.isfile(f):
                os.unlink(f)
    return load_checkpoint(path) if resume else None


def check_resumed_plan(
    plan: Mapping[str, Any], saved: Mapping[str, Any], where: str, done: int, droppable: bool = False
) -> None:
    """Every value of ``plan`` must equal the checkpoint's, except ``epochs``, which may grow (the
    run is extended) but not drop below the ``done`` epochs (:class:`CheckpointError` otherwise).
    ``droppable``: the message advises leaving the value out (it then comes from the checkpoint)."""
    for k, given in plan.items():
        if given is None or k not in saved:
            continue
        if k == "epochs":
            if given < done:
                raise CheckpointError(
                    Arg("epochs", given),
                    f": the run in {where} has already trained {done} epochs; give ",
                    Arg("epochs", done),
                    " or more to continue it (or train into another ",
                    Arg("out"),
                    ")",
                )
            continue
        same = (
            math.isclose(given, saved[k])
            if isinstance(given, float) and isinstance(saved[k], (int, float))
            else given == saved[k]
        )
        if not same:
            advice = ("drop ", Arg(k)) if droppable else ("give ", Arg(k, saved[k]))
            raise CheckpointError(
                Arg(k, given),
                f" differs from the checkpoint's {saved[k]} ({where}); ",
                *advice,
                " to continue the run, or train into another ",
                Arg("out"),
            )


# ---------------------------------------------------------------------------------- trainer


def _default_optimizer(lr: float, weight_decay: float) -> Callable:
    def make(params):
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)

    return make


class Trainer:
    """Train ``model`` on ``train_data`` with ``loss``; evaluate ``metrics`` on ``eval_data`` every epoch.

    - ``train_data``: a ``torch.utils.data.Dataset`` of ``(input, target)`` pairs (batched by a
      ``DistributedSampler`` of ``seed``: ``batch_size`` is the global batch), or a factory
      ``(epoch, rank, world_size) -> iterable of (input, target) batches`` with ``len()``
      (deterministic in its arguments, for exact resume).
    - ``loss(output, target)``: a scalar tensor (the batch mean) to minimise.
    - ``metrics``: ``{name: callable(output, target)}`` (see :mod:`steerable.training` metrics:
      a batch mean, per-sample values or ``(total, count)``); averaged over every sample of the
      training epoch (``train_NAME``, in train mode) and of each evaluation set (``test_NAME``).
    - ``eval_data``: a Dataset or ``(inputs, targets)`` tensors (named ``test``), or a dict of
      them by name; each rank evaluates every ``world_size``-th sample.
    - ``optimizer``: a factory ``params -> Optimizer`` (default AdamW of ``lr``, ``weight_decay``);
      ``scheduler``: a factory ``(optimizer, total_steps, start_step) -> scheduler`` stepped after
      every optimizer step (default: cosine from the peak rate to 0 over the run).
    - ``callbacks``: :class:`Callback` instances. ``out``: the run folder (checkpoint after every
      epoch, ``log.json``, ``log.csv``); ``resume``/``overwrite`` as in ``steerable train``.
    - ``hparams``: further plan values saved in the checkpoint and checked on resume (the task's
      options); ``model_spec``: what the checkpoint says about the model; ``task``: a task name.

    >>> import torch
    >>> from steerable.training import Trainer, accuracy
    >>> _ = torch.manual_seed(0)
    >>> x = torch.randn(64, 2); y = (x[:, 0] > 0).long()
    >>> data = torch.utils.data.TensorDataset(x, y)
    >>> result = Trainer(torch.nn.Linear(2, 2), data, loss=torch.nn.functional.cross_entropy,
    ...                  metrics={"acc": accuracy}, eval_data=data, epochs=5, batch_size=16, lr=0.05,
    ...                  device="cpu", progress=False).fit()
    >>> [r["epoch"] for r in result.history], result.last["test_acc"] > 0.8
    ([1, 2, 3, 4, 5], True)
    """

    def __init__(
        self,
        model: torch.nn.Module,
        train_data,
        *,
        loss: Callable,
        epochs: int,
        batch_size: int = 64,
        metrics: Mapping[str, Callable] | None = None,
        eval_data=None,
        optimizer: Callable | None = None,
        scheduler: Callable | None = None,
        lr: float = 2e-3,
        weight_decay: float = 1e-4,
        callbacks: Sequence[Callback] = (),
        out: str | None = None,
        resume: bool = False,
        overwrite: bool = False,
        seed: int = 0,
        device: str = "auto",
        workers: int = 0,
        threads: int | None = None,
        progress: bool = True,
        eval_batch_size: int = 250,
        hparams: Mapping[str, Any] | None = None,
        model_spec: Mapping[str, Any] | None = None,
        task: str | None = None,
        collate_fn: Callable | None = None,
        bn_warmup: bool = True,
    ):
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
        if not (isinstance(train_data, torch.utils.data.Dataset) or callable(train_data)):
            raise TypeError(
                f"train_data: expected a torch Dataset or a callable (epoch, rank, world_size) -> "
                f"batches, got {type(train_data).__name__}"
            )
        if not callable(loss):
            raise TypeError(f"loss: expected a callable(output, target) -> scalar tensor, got {type(loss).__name__}")
        check_number("epochs", epochs, integer=True)
        check_number("batch_size", batch_size, integer=True)
        check_number("eval_batch_size", eval_batch_size, integer=True)
        check_number("lr", lr)
        check_number("weight_decay", weight_decay, strict=False)
        check_number("seed", seed, integer=True, strict=False)
        check_number("workers", workers, integer=True, strict=False)
        if threads is not None:
            check_number("threads", threads, integer=True)
        for name, f in (("optimizer", optimizer), ("scheduler", scheduler), ("collate_fn", collate_fn)):
            if f is not None and not callable(f):
                raise TypeError(f"{name}: expected a callable (factory), got {type(f).__name__}")
        callbacks = list(callbacks)
        for i, cb in enumerate(callbacks):
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks[{i}]: expected a steerable.training.Callback, got {type(cb).__name__}")
        if device not in ("cpu", "cuda", "auto"):
            raise ConfigError(Arg("device"), f": expected 'cpu', 'cuda' or 'auto', got {device!r}")
        if out is not None and not isinstance(out, (str, os.PathLike)):
            raise TypeError(f"out: expected a folder path (str), got {type(out).__name__}")
        self.model, self.train_data, self.loss = model, train_data, loss
        self.metrics = check_metrics(metrics)
        self.eval_sets = self._eval_sets(eval_data)
        self.epochs, self.batch_size, self.seed = epochs, batch_size, seed
        self.lr, self.weight_decay = float(lr), float(weight_decay)
        self.make_optimizer = optimizer or _default_optimizer(self.lr, self.weight_decay)
        self.make_scheduler = scheduler or default_schedule
        self.callbacks = callbacks
        self.out = None if out is None else os.fspath(out)
        self.resume, self.overwrite = bool(resume), bool(overwrite)
        self.device, self.workers, self.threads, self.progress = device, workers, threads, bool(progress)
        self.eval_batch_size, self.collate_fn, self.bn_warmup = eval_batch_size, collate_fn, bn_warmup
        self.model_spec = dict(model_spec) if model_spec is not None else {"name": type(model).__name__}
        self.task = task
        plan = dict(hparams or {})
        plan.update(epochs=epochs, batch_size=batch_size, seed=seed)
        if optimizer is None:
            plan.update(lr=self.lr, weight_decay=self.weight_decay)
        self.plan = plan
        # the state of a run in progress (set by fit)
        self.ctx: DistContext | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        # what the scheduler factory returned: anything with step() (state_dict() optional)
        self.scheduler: Any = None
        self.history: list = []
        self.epoch = 0
        self.should_stop = False

    @staticmethod
    def _eval_sets(eval_data) -> dict:
        if eval_data is None:
            return {}
        sets = dict(eval_data) if isinstance(eval_data, Mapping) else {"test": eval_data}
        out = {}
        for name, d in sets.items():
            if not isinstance(name, str) or not name.replace("_", "a").isalnum() or name == "train":
                raise ConfigError(Arg("eval_data"), f": set names are identifiers other than 'train', got {name!r}")
            if isinstance(d, (tuple, list)) and len(d) == 2 and all(isinstance(t, torch.Tensor) for t in d):
                d = torch.utils.data.TensorDataset(*d)
            if not isinstance(d, torch.utils.data.Dataset):
                raise TypeError(
                    f"eval_data[{name!r}]: expected a torch Dataset or (inputs, targets) tensors, "
                    f"got {type(d).__name__}"
                )
            out[name] = d
        return out

    @property
    def is_main(self) -> bool:
        """True on rank 0 (the rank that writes), and in a single process."""
        return self.ctx is None or self.ctx.is_main

    # ------------------------------------------------------------------------------ fit

    def fit(self) -> FitResult:
        """Train (or continue training) and return the :class:`FitResult`. Under ``torchrun`` the
        process group is set up and torn down here (unless the caller started it)."""
        ctx = init_distributed(self.device)
        try:
            ckpt = open_run(self.out, self.resume, self.overwrite, ctx)
            result = self._fit(ctx, ckpt)
            barrier(ctx)  # destroying the group while a peer still talks aborts that peer
            return result
        finally:
            cleanup_distributed(ctx)
            self.ctx = None  # the process group is gone: later evaluate() calls run in this process alone

    def _run_ctx(self) -> DistContext:
        """The process context of the run in progress (set by :meth:`fit`)."""
        if self.ctx is None:
            raise RuntimeError("Trainer: no run in progress (fit() sets up the process context)")
        return self.ctx

    def _run_optimizer(self) -> torch.optim.Optimizer:
        """The optimizer of the run in progress (built by :meth:`fit`)."""
        if self.optimizer is None:
            raise RuntimeError("Trainer: no run in progress (fit() builds the optimizer)")
        return self.optimizer

    def _loader(self, ctx: DistContext, epoch: int, sampler: torch.utils.data.DistributedSampler | None):
        if sampler is None:
            return self.train_data(epoch, ctx.rank, ctx.world_size)
        sampler.set_epoch(epoch)
        return self._dataloader

    def _fit(self, ctx: DistContext, ckpt: dict | None) -> FitResult:
        self.ctx = ctx
        if self.threads:
            torch.set_num_threads(self.threads)
        sampler: torch.utils.data.DistributedSampler | None = None
        if isinstance(self.train_data, torch.utils.data.Dataset):
            if self.batch_size % ctx.world_size:
                raise ConfigError(
                    Arg("batch_size", self.batch_size), f" is not divisible by the {ctx.world_size} processes"
                )
            sampler = torch.utils.data.DistributedSampler(
                self.train_data,
                num_replicas=ctx.world_size,
                rank=ctx.rank,
                shuffle=True,
                seed=self.seed,
                drop_last=False,
            )
            kw: dict[str, Any] = {} if self.collate_fn is None else {"collate_fn": self.collate_fn}
            self._dataloader = torch.utils.data.DataLoader(
                self.train_data,
                batch_size=self.batch_size // ctx.world_size,
                sampler=sampler,
                num_workers=self.workers,
                pin_memory=ctx.device.type == "cuda",
                persistent_workers=self.workers > 0,
                **kw,
            )
        start_epoch, history, stopped = 0, [], False
        if ckpt is not None:
            where = str(ckpt.get("path", self.out))
            saved_task = ckpt.get("task")
            if self.task is not None and saved_task is not None and saved_task != self.task:
                raise CheckpointError(f"{where} holds a run of task '{saved_task}', not '{self.task}'")
            start_epoch = int(ckpt["epoch"])
            check_resumed_plan(self.plan, ckpt["args"], where, start_epoch)
            history = list(ckpt["history"])
            stopped = bool(ckpt.get("stopped")) and self.epochs == int(ckpt["args"].get("epochs", self.epochs))
        else:
            torch.manual_seed(self.seed)
            np.random.seed(self.seed)
            random.seed(self.seed)
        model = self.model.to(ctx.device)
        try:
            steps_per_epoch = len(self._loader(ctx, start_epoch, sampler))
        except TypeError:
            raise TypeError("train_data: the factory's batches need a len() (the schedule is set per step)") from None
        self.optimizer = optimizer = self.make_optimizer(list(model.parameters()))
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"optimizer: the factory returned {type(optimizer).__name__}, not a torch Optimizer")
        if ckpt is not None:
            load_model_state(model, ckpt["model_state"], where=where)
            try:
                optimizer.load_state_dict(ckpt["optimizer_state"])
            except (ValueError, KeyError, RuntimeError) as e:
                raise CheckpointError(f"{where}: optimizer state does not fit: {e}") from None
        total = self.epochs * steps_per_epoch
        self.scheduler = scheduler = self.make_scheduler(optimizer, total, start_epoch * steps_per_epoch)
        if ckpt is not None:
            saved_total = int(ckpt["args"].get("epochs", self.epochs)) * steps_per_epoch
            if ckpt.get("scheduler_state") and saved_total == total and hasattr(scheduler, "load_state_dict"):
                scheduler.load_state_dict(ckpt["scheduler_state"])  # stateful schedules; closed forms agree
            for cb, state in zip(self.callbacks, ckpt.get("callbacks") or []):
                cb.load_state_dict(state)
            rngs = ckpt.get("rng") or []
            if rngs:
                restore_rng_state(rngs[ctx.rank] if len(rngs) == ctx.world_size else rngs[0])
        del ckpt
        net = _wrap_ddp(model, ctx)
        out = self.out if self.out else None
        ckpt_path = None if out is None else os.path.join(out, CHECKPOINT_NAME)
        self.history, self.should_stop = history, stopped
        for cb in self.callbacks:
            cb.on_fit_start(self)
        warm_bn = BatchNormWarmup(model) if self.bn_warmup else None
        try:
            epoch = start_epoch
            while epoch < self.epochs and not self.should_stop:
                self.epoch = epoch
                for cb in self.callbacks:
                    cb.on_epoch_start(self, epoch)
                t0 = time.perf_counter()
                train_row = self._train_epoch(net, self._loader(ctx, epoch, sampler), epoch, steps_per_epoch, warm_bn)
                _average_buffers(model, ctx)
                row = {"epoch": epoch + 1, **train_row, **self.evaluate(model)}
                row["lr"] = optimizer.param_groups[0]["lr"]
                row["seconds"] = max(all_gather_object(ctx, time.perf_counter() - t0))
                history.append(row)
                for cb in self.callbacks:
                    cb.on_epoch_end(self, row)
                self.should_stop = all_reduce_sum(ctx, [float(bool(self.should_stop))])[0] > 0
                rngs = all_gather_object(ctx, capture_rng_state())
                if ctx.is_main and out is not None:
                    self._save(out, model, epoch + 1, rngs)
                epoch += 1
        finally:
            if warm_bn is not None:
                warm_bn.restore()
        if out is not None and ctx.is_main and start_epoch >= self.epochs:
            write_logs(out, self._log_doc(), history)
        model.eval()
        result = FitResult(
            model=model,
            history=history,
            checkpoint=ckpt_path,
            start_epoch=start_epoch,
            rank=ctx.rank,
            world_size=ctx.world_size,
            stopped=self.should_stop,
            plan=dict(self.plan),
            task=self.task,
        )
        for cb in self.callbacks:
            cb.on_fit_end(self, result)
        return result

    def _train_epoch(self, net, loader: Iterable, epoch: int, steps: int, warm_bn) -> dict:
        ctx = self._run_ctx()
        net.train()
        totals = MetricTotals(self.metrics)
        show = self.progress and ctx.is_main
        bar = _progress(loader, show, desc=f"epoch {epoch + 1}/{self.epochs}", total=steps)
        first = next(iter(self.metrics), None)
        for step, (xb, yb) in enumerate(bar):
            if warm_bn is not None:
                warm_bn.step()
            xb, yb = _to_device(xb, ctx.device), _to_device(yb, ctx.device)
            output = net(xb)
            loss = self.loss(output, yb)
            self._run_optimizer().zero_grad(set_to_none=True)
            loss.backward()
            self._run_optimizer().step()
            self.scheduler.step()
            lv = float(loss.detach())
            totals.update(output.detach(), yb, lv)
            if show and hasattr(bar, "set_postfix"):
                post = {"loss": f"{lv:.3f}"}
                if first is not None:
                    post[first] = f"{totals.running(first):.3f}"
                bar.set_postfix(refresh=False, **post)
            for cb in self.callbacks:
                cb.on_step(self, epoch, step, lv)
        if show and hasattr(bar, "close"):
            bar.close()
        means = totals.means(all_reduce_sum(ctx, totals.totals))
        return {f"train_{k}": v for k, v in means.items()}

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module | None = None) -> dict:
        """Loss and metrics of ``model`` (default: the trainer's) on every evaluation set, in eval
        mode: ``{'test_loss': ..., 'test_acc': ..., ...}`` (summed over the ranks when distributed)."""
        model = self.model if model is None else model
        ctx = self.ctx or DistContext(device=next(iter(model.parameters()), torch.zeros(0)).device)
        model.eval()
        row = {}
        for name, data in self.eval_sets.items():
            idx = list(range(ctx.rank, len(data), ctx.world_size))
            kw: dict[str, Any] = {} if self.collate_fn is None else {"collate_fn": self.collate_fn}
            loader = torch.utils.data.DataLoader(
                torch.utils.data.Subset(data, idx), batch_size=self.eval_batch_size, shuffle=False, **kw
            )
            totals = MetricTotals(self.metrics)
            for xb, yb in loader:
                xb, yb = _to_device(xb, ctx.device), _to_device(yb, ctx.device)
                output = model(xb)
                totals.update(output, yb, float(self.loss(output, yb)))
            for k, v in totals.means(all_reduce_sum(ctx, totals.totals)).items():
                row[f"{name}_{k}"] = v
        return row

    def _log_doc(self) -> dict:
        doc = {"args": self.plan, "model": self.model_spec}
        if self.task is not None:
            doc = {"task": self.task, **doc}
        return doc

    def _save(self, out: str, model: torch.nn.Module, epoch: int, rngs: list) -> None:
        ctx = self._run_ctx()
        state = {
            "format": FORMAT,
            "version": VERSION,
            "model": self.model_spec,
            "model_state": {k: v.detach().cpu() for k, v in strip_ddp_prefix(model.state_dict()).items()},
            "optimizer_state": _to_cpu(self._run_optimizer().state_dict()),
            "scheduler_state": self.scheduler.state_dict() if hasattr(self.scheduler, "state_dict") else None,
            "epoch": epoch,
            "rng": rngs,
            "args": self.plan,
            "history": self.history,
            "callbacks": [cb.state_dict() for cb in self.callbacks],
            "stopped": bool(self.should_stop),
            "run": {
                "workers": self.workers,
                "device": str(ctx.device),
                "world_size": ctx.world_size,
                "torch": str(torch.__version__),
            },
        }
        if self.task is not None:
            state["task"] = self.task
        atomic_torch_save(state, os.path.join(out, CHECKPOINT_NAME))
        write_logs(out, self._log_doc(), self.history)


# --------------------------------------------------------------------------------- helpers


def _wrap_ddp(model: torch.nn.Module, ctx: DistContext) -> torch.nn.Module:
    if not ctx.distributed:
        return model
    # Bases are (non-persistent) buffers: broadcasting them at every step would be wasted
    # traffic, so buffers are not broadcast; BatchNorm statistics are averaged per epoch.
    ddp = torch.nn.parallel.DistributedDataParallel
    no_sync: dict[str, Any] = (
        {"forward_sync_buffers": False}
        if "forward_sync_buffers" in inspect.signature(ddp).parameters
        else {"broadcast_buffers": False}
    )  # the name changed in torch 2.13
    return ddp(model, device_ids=[ctx.device] if ctx.device.type == "cuda" else None, **no_sync)


def _to_device(x, device: torch.device):
    if isinstance(x, torch.Tensor):
        return x.to(device, non_blocking=True)
    if isinstance(x, (list, tuple)):
        return type(x)(_to_device(v, device) for v in x)
    if isinstance(x, dict):
        return {k: _to_device(v, device) for k, v in x.items()}
    return x


def _progress(iterable, enabled: bool, **kw):
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is optional (extras)
        return iterable
    return tqdm(iterable, dynamic_ncols=True, leave=False, **kw)


def _to_cpu(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


@torch.no_grad()
def _average_buffers(model: torch.nn.Module, ctx: DistContext) -> None:
    """Average the floating-point persistent buffers (BatchNorm statistics) over the ranks."""
    if not ctx.distributed:
        return
    import torch.distributed as dist

    params = {id(p) for p in model.parameters()}
    for v in model.state_dict(keep_vars=True).values():
        if v.is_floating_point() and id(v) not in params:
            dist.all_reduce(v, op=dist.ReduceOp.SUM)
            v.div_(ctx.world_size)
