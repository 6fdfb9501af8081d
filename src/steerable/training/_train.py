"""Training on rotated MNIST: one process or many (``torchrun``), resumable at every epoch.

The *plan* of a run (model, width, epochs, batch size, learning rate, weight decay, seeds, data
transform, subset sizes) is stored in its checkpoint; ``resume=True`` takes every plan field
left as ``None`` from the checkpoint and refuses a conflicting one, so a resumed run is the run
that was interrupted, continued. The one plan field that may change is ``epochs``, upwards: a
finished (or interrupted) run resumed with more epochs keeps its weights, optimizer state, RNG
state and history, and trains the extra epochs, its learning rate following the cosine of the
new length from the step it had reached (:func:`cosine_schedule`).

Determinism: the order of the training images in epoch ``e`` depends only on ``(seed, e)``
(a ``DistributedSampler`` with one replica in a single process), the model's initialisation
only on ``seed``, and the checkpoint holds every rank's RNG state at the end of each epoch. On
one machine with the same thread count a run interrupted after epoch ``k`` and resumed ends with
the same weights as an uninterrupted one.

Distributed: with ``torchrun --nproc_per_node=N`` each rank gets ``batch_size / N`` images of
each global batch (the same images the single-process run would see in that batch), gradients
are averaged by DistributedDataParallel, BatchNorm running statistics are averaged over the
ranks at the end of each epoch, metrics are summed over the ranks, and rank 0 alone writes the
checkpoint and logs (without DDP's ``module.`` prefix).
"""
from __future__ import annotations

import csv
import inspect
import io
import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ._checkpoint import (
    FORMAT,
    VERSION,
    CheckpointError,
    atomic_torch_save,
    atomic_write_text,
    capture_rng_state,
    check_model_name,
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

CHECKPOINT_NAME = "checkpoint.pt"
LOG_JSON = "log.json"
LOG_CSV = "log.csv"
# files of a run folder that --overwrite removes (training, evaluate, export, quantize)
OUTPUT_FILES = (CHECKPOINT_NAME, LOG_JSON, LOG_CSV, "eval.json", "model.pt", "model.ts", "model_int8.ts")
CSV_COLUMNS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr", "seconds")

# The plan of a run and its defaults. ``None`` in a TrainConfig means "the default, or the
# checkpoint's value when resuming". ``limit``/``test_limit`` 0 mean "all images".
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


@dataclass
class TrainConfig:
    """Everything ``steerable train`` takes (see ``steerable train --help``).

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
        return {k: getattr(self, k) for k in PLAN_DEFAULTS}

    def resolved(self, saved_plan: dict | None = None) -> "TrainConfig":
        """Fill the ``None`` plan fields from ``saved_plan`` (a checkpoint's) or the defaults."""
        values = asdict(self)
        source = dict(PLAN_DEFAULTS)
        if saved_plan:
            source.update({k: v for k, v in saved_plan.items() if k in PLAN_DEFAULTS})
        for k in PLAN_DEFAULTS:
            if values[k] is None:
                values[k] = source[k]
        cfg = TrainConfig(**values)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad option."""
        from steerable.models import MODEL_NAMES

        if self.model not in MODEL_NAMES:
            raise ValueError(f"--model: unknown model {self.model!r}; expected one of {', '.join(MODEL_NAMES)}")
        _positive("--epochs", self.epochs, int)
        _positive("--batch-size", self.batch_size, int)
        _positive("--lr", self.lr, float)
        _positive("--width", self.width, float)
        if not isinstance(self.weight_decay, (int, float)) or self.weight_decay < 0:
            raise ValueError(f"--weight-decay: expected a number >= 0, got {self.weight_decay!r}")
        if self.transform not in TRANSFORMS:
            raise ValueError(f"--transform: expected one of {', '.join(TRANSFORMS)}, got {self.transform!r}")
        for name, v in (("--limit", self.limit), ("--test-limit", self.test_limit), ("--workers", self.workers)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name}: expected an integer >= 0, got {v!r}")
        for name, v in (("--seed", self.seed), ("--data-seed", self.data_seed)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name}: expected an integer >= 0, got {v!r}")
        if self.threads is not None:
            _positive("--threads", self.threads, int)
        if self.resume and self.overwrite:
            raise ValueError("--resume and --overwrite exclude each other: --resume continues the run in --out, "
                             "--overwrite deletes it and starts again")


def _positive(name: str, value, kind) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    if kind is int:
        ok = ok and isinstance(value, int)
    if not ok or (isinstance(value, float) and not math.isfinite(value)):
        raise ValueError(f"{name}: expected {'an integer' if kind is int else 'a number'} > 0, got {value!r}")


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


# --------------------------------------------------------------------------------------- data


def load_data(cfg: TrainConfig):
    """(train dataset, test images, test labels) for a resolved config."""
    from steerable.data import RotatedMNIST

    transform = None if cfg.transform == "none" else cfg.transform
    train_ds = RotatedMNIST("train", transform=transform, seed=cfg.data_seed)
    test_ds = RotatedMNIST("test", transform=transform, seed=cfg.data_seed)
    if cfg.limit:
        train_ds = torch.utils.data.Subset(train_ds, subset_indices(len(train_ds), cfg.limit, cfg.data_seed))
    idx = subset_indices(len(test_ds), cfg.test_limit, cfg.data_seed)
    return train_ds, test_ds.images[idx], test_ds.labels[idx]


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


def _progress(iterable, enabled: bool, **kw):
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is optional (extras)
        return iterable
    return tqdm(iterable, dynamic_ncols=True, leave=False, **kw)


# ---------------------------------------------------------------------------------- outputs


def prepare_output(out: str) -> None:
    """Create ``out`` and check that files can be written in it (clear ``ValueError`` if not)."""
    try:
        os.makedirs(out, exist_ok=True)
        probe = os.path.join(out, f".write-test-{os.getpid()}")
        with open(probe, "wb") as f:
            f.write(b"ok")
        os.unlink(probe)
    except OSError as e:
        p = os.path.abspath(out)
        while not os.path.exists(p) and os.path.dirname(p) != p:
            p = os.path.dirname(p)
        why = f"{p} is a file, not a folder" if os.path.isfile(p) else (e.strerror or str(e))
        raise ValueError(f"--out {out}: cannot write there ({why})") from None


def write_logs(out: str, cfg: TrainConfig, model_spec: dict, history: list) -> None:
    """``log.json`` (plan, model and per-epoch history) and ``log.csv`` (one row per epoch)."""
    doc = {"args": cfg.plan(), "model": model_spec, "history": history}
    atomic_write_text(json.dumps(doc, indent=2) + "\n", os.path.join(out, LOG_JSON))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in history:
        w.writerow(row)
    atomic_write_text(buf.getvalue(), os.path.join(out, LOG_CSV))


def _resume_state(cfg: TrainConfig, ctx: DistContext):
    """On rank 0: check the output folder and read the checkpoint to resume from (or None).

    Returns ``(checkpoint or None, error message or None)``; the caller broadcasts both so that a
    bad folder stops every rank with the same message instead of leaving the others waiting.
    """
    try:
        if cfg.out is None:
            if cfg.resume:
                raise ValueError("--resume needs --out (the folder of the run to continue)")
            return None, None
        path = os.path.join(cfg.out, CHECKPOINT_NAME)
        if os.path.exists(cfg.out) and not os.path.isdir(cfg.out):
            raise ValueError(f"--out {cfg.out}: exists and is not a folder")
        exists = os.path.exists(path)
        if cfg.resume and not exists:
            raise FileNotFoundError(
                f"--resume: no checkpoint to continue in --out {cfg.out} ({path} not found); "
                f"drop --resume to start a new run there"
            )
        if exists and not cfg.resume and not cfg.overwrite:
            raise ValueError(
                f"--out {cfg.out} already holds a checkpoint; pass --resume to continue it or "
                f"--overwrite to start again"
            )
        prepare_output(cfg.out)
        if exists and cfg.overwrite and not cfg.resume:
            for name in OUTPUT_FILES:  # what this run and the commands after it write here
                f = os.path.join(cfg.out, name)
                if os.path.isfile(f):
                    os.unlink(f)
        if cfg.resume and exists:
            return load_checkpoint(path), None
        return None, None
    except (ValueError, OSError) as e:  # CheckpointError is a ValueError
        return None, (type(e).__name__, str(e))


def _check_plan(cfg: TrainConfig, saved: dict, where: str, done: int = 0) -> None:
    """A value given explicitly for a resumed run must agree with the checkpoint's plan, except
    ``epochs``, which may grow (the run is extended) but not drop below the ``done`` epochs."""
    check_model_name({"model": {"name": saved["model"]}, "path": where}, cfg.model)
    for k in PLAN_DEFAULTS:
        given = getattr(cfg, k)
        if given is None or k not in saved:
            continue
        if k == "epochs":  # more epochs extend the run; fewer than it has done cannot be undone
            if given < done:
                raise CheckpointError(
                    f"--epochs {given}: the run in {where} has already trained {done} epochs; give --epochs "
                    f"{done} or more to continue it (or train into another --out)"
                )
            continue
        same = math.isclose(given, saved[k]) if isinstance(given, float) else given == saved[k]
        if not same:
            opt = "--" + k.replace("_", "-")
            raise CheckpointError(
                f"{opt} {given} differs from the checkpoint's {saved[k]} ({where}); "
                f"drop {opt} to continue the run, or train into another --out"
            )


# ------------------------------------------------------------------------------------ training


def train(config: TrainConfig, on_epoch_end: Callable[[dict, TrainConfig], None] | None = None,
          on_step: Callable[[int, int, float], None] | None = None) -> TrainResult:
    """Train (or continue training) a model from ``steerable.models`` on rotated MNIST.

    ``on_epoch_end(row, config)`` is called on rank 0 after each epoch with the epoch's metrics
    and the resolved configuration;
    ``on_step(epoch, step, loss)`` after each optimizer step on every rank (raise inside it to
    simulate an interruption). Under ``torchrun`` the process group is set up and torn down here.
    """
    ctx = init_distributed(config.device)
    try:
        result = _train(config, ctx, on_epoch_end, on_step)
        # every rank finishes its last collective (and rank 0 its last checkpoint) before the group
        # is torn down: destroying it while a peer still talks aborts that peer's process
        barrier(ctx)
        return result
    finally:
        cleanup_distributed(ctx)


def _train(config: TrainConfig, ctx: DistContext, on_epoch_end, on_step) -> TrainResult:
    from steerable.models import build_model

    # ---- plan, output folder, checkpoint (rank 0 reads, everyone gets the same answer)
    if config.resume and config.out is None:
        raise ValueError("--resume needs --out (the folder of the run to continue)")
    pre = config.resolved()  # validates the explicit values before touching the file system
    ckpt, err = _resume_state(config, ctx) if ctx.is_main else (None, None)
    ckpt, err = broadcast_object(ctx, (ckpt, err))
    if err is not None:
        kind, msg = err
        raise (FileNotFoundError if kind == "FileNotFoundError" else
               CheckpointError if kind == "CheckpointError" else ValueError)(msg)
    if ckpt is not None:
        _check_plan(config, ckpt["args"], ckpt.get("path", config.out), int(ckpt["epoch"]))
        cfg = config.resolved(ckpt["args"])
    else:
        cfg = pre
    if cfg.batch_size % ctx.world_size:
        raise ValueError(f"--batch-size {cfg.batch_size} is not divisible by the {ctx.world_size} processes")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)

    # ---- model, data, optimizer
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    random.seed(cfg.seed)
    model = build_model(cfg.model, n_classes=10, width=cfg.width, in_channels=1)
    model_spec = {"name": cfg.model, "n_classes": 10, "width": float(cfg.width), "in_channels": 1,
                  "group_name": str(getattr(model, "group_name", ""))}
    model.to(ctx.device)
    train_ds, test_x, test_y = load_data(cfg)
    sampler = torch.utils.data.DistributedSampler(
        train_ds, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True, seed=cfg.seed, drop_last=False)
    loader = torch.utils.data.DataLoader(
        train_ds, batch_size=cfg.batch_size // ctx.world_size, sampler=sampler, num_workers=cfg.workers,
        pin_memory=ctx.device.type == "cuda", persistent_workers=cfg.workers > 0)
    steps_per_epoch = len(loader)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    start_epoch, history = 0, []
    if ckpt is not None:
        where = ckpt.get("path", cfg.out)
        load_model_state(model, ckpt["model_state"], where=where)
        try:
            optimizer.load_state_dict(ckpt["optimizer_state"])
        except (ValueError, KeyError, RuntimeError) as e:
            raise CheckpointError(f"{where}: optimizer state does not fit: {e}") from None
        start_epoch, history = int(ckpt["epoch"]), list(ckpt["history"])
    scheduler = cosine_schedule(optimizer, cfg.lr, cfg.epochs * steps_per_epoch, start_epoch * steps_per_epoch)
    if ckpt is not None:
        rngs = ckpt.get("rng") or []
        if rngs:
            restore_rng_state(rngs[ctx.rank] if len(rngs) == ctx.world_size else rngs[0])
    del ckpt

    net = model
    if ctx.distributed:
        # Bases are (non-persistent) buffers: broadcasting them at every step would be wasted
        # traffic, so buffers are not broadcast; BatchNorm statistics are averaged per epoch.
        ddp = torch.nn.parallel.DistributedDataParallel
        no_sync = ({"forward_sync_buffers": False} if "forward_sync_buffers" in inspect.signature(ddp).parameters
                   else {"broadcast_buffers": False})  # the name changed in torch 2.13
        net = ddp(model, device_ids=[ctx.device] if ctx.device.type == "cuda" else None, **no_sync)

    ckpt_path = os.path.join(cfg.out, CHECKPOINT_NAME) if cfg.out else None
    show = cfg.progress and ctx.is_main
    warm_bn = BatchNormWarmup(model)
    try:
        for epoch in range(start_epoch, cfg.epochs):
            t0 = time.perf_counter()
            sampler.set_epoch(epoch)
            net.train()
            sums = [0.0, 0.0, 0.0]  # loss * n, correct, n
            bar = _progress(loader, show, desc=f"epoch {epoch + 1}/{cfg.epochs}", total=steps_per_epoch)
            for step, (xb, yb) in enumerate(bar):
                warm_bn.step()
                xb = xb.to(ctx.device, non_blocking=True)
                yb = yb.to(ctx.device, non_blocking=True)
                logits = net(xb)
                loss = F.cross_entropy(logits, yb)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                n = len(yb)
                lv = float(loss.detach())
                sums[0] += lv * n
                sums[1] += float((logits.detach().argmax(1) == yb).sum())
                sums[2] += n
                if show and hasattr(bar, "set_postfix"):
                    bar.set_postfix(loss=f"{lv:.3f}", acc=f"{sums[1] / sums[2]:.3f}", refresh=False)
                if on_step is not None:
                    on_step(epoch, step, lv)
            if show and hasattr(bar, "close"):
                bar.close()
            _average_buffers(model, ctx)
            train_loss, train_correct, train_n = all_reduce_sum(ctx, sums)
            test_loss, test_acc = _test(model, test_x, test_y, ctx)
            seconds = time.perf_counter() - t0
            row = {"epoch": epoch + 1, "train_loss": train_loss / train_n, "train_acc": train_correct / train_n,
                   "test_loss": test_loss, "test_acc": test_acc, "lr": scheduler.get_last_lr()[0],
                   "seconds": max(all_gather_object(ctx, seconds))}
            history.append(row)
            rngs = all_gather_object(ctx, capture_rng_state())
            if ctx.is_main:
                if ckpt_path is not None:
                    state = {
                        "format": FORMAT, "version": VERSION, "model": model_spec,
                        "model_state": {k: v.detach().cpu() for k, v in strip_ddp_prefix(model.state_dict()).items()},
                        "optimizer_state": _to_cpu(optimizer.state_dict()),
                        "scheduler_state": scheduler.state_dict(),
                        "epoch": epoch + 1, "rng": rngs, "args": cfg.plan(), "history": history,
                        "run": {"workers": cfg.workers, "device": str(ctx.device), "world_size": ctx.world_size,
                                "torch": str(torch.__version__)},
                    }
                    atomic_torch_save(state, ckpt_path)
                    write_logs(cfg.out, cfg, model_spec, history)
                if on_epoch_end is not None:
                    on_epoch_end(row, cfg)
    finally:
        warm_bn.restore()
    if ckpt_path is not None and ctx.is_main and start_epoch >= cfg.epochs:
        write_logs(cfg.out, cfg, model_spec, history)
    model.eval()
    return TrainResult(model=model, history=history, config=cfg, checkpoint=ckpt_path,
                       start_epoch=start_epoch, rank=ctx.rank, world_size=ctx.world_size)


class BatchNormWarmup:
    """Debiased running statistics for the batch norms of ``model`` during training.

    torch's (and steerable's) batch norms start their running statistics at mean 0 / variance 1
    and move them by ``momentum`` (0.1) per step: after ``t`` steps the initial value still
    weighs ``0.9^t`` (3 % after 32 steps). Features with a small variance (a global average of
    ReLU outputs, a freshly initialised Linear) are then normalised in eval mode with a variance
    dominated by that 1, and a briefly trained model predicts one class at test time although it
    is right on the training batches. Before every step this sets each batch norm's momentum to
    ``max(momentum, 1 / (t + 1))`` (``t``: its ``num_batches_tracked``): the running statistics
    are the plain average of the first batches, then the usual exponential average.
    :meth:`restore` puts the modules' own momentum back. Resumed runs continue the same schedule
    (``num_batches_tracked`` is in the ``state_dict``).

    >>> bn = torch.nn.BatchNorm1d(3)
    >>> warm = BatchNormWarmup(torch.nn.Sequential(bn))
    >>> warm.step(); bn.momentum
    1.0
    >>> _ = bn(torch.randn(8, 3)); warm.step(); bn.momentum
    0.5
    >>> warm.restore(); bn.momentum
    0.1
    """

    def __init__(self, model: torch.nn.Module):
        self.modules = []
        for m in model.modules():
            nbt = getattr(m, "num_batches_tracked", None)
            mom = getattr(m, "momentum", None)
            if (isinstance(nbt, torch.Tensor) and isinstance(mom, float) and 0.0 < mom < 1.0
                    and getattr(m, "track_running_stats", False)):
                self.modules.append((m, mom))

    def step(self) -> None:
        for m, base in self.modules:
            m.momentum = max(base, 1.0 / (int(m.num_batches_tracked) + 1))

    def restore(self) -> None:
        for m, base in self.modules:
            m.momentum = base


def cosine_schedule(optimizer: torch.optim.Optimizer, lr: float, total_steps: int, step: int = 0):
    """The learning rate ``lr · (1 + cos(π · step / total_steps)) / 2`` (0 after ``total_steps``),
    as a ``LambdaLR`` positioned at ``step`` (steps already taken).

    A closed form of the step alone (not a recursion on the previous rate): a run resumed at any
    step continues exactly, and a run extended to more epochs follows the cosine of its new
    length from the step it had reached.

    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    >>> round(cosine_schedule(opt, 1.0, 10, step=5).get_last_lr()[0], 6)
    0.5
    """
    total = max(int(total_steps), 1)

    def factor(s: int) -> float:
        return 0.5 * (1.0 + math.cos(math.pi * min(s, total) / total))

    for g in optimizer.param_groups:
        g["initial_lr"] = lr
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor, last_epoch=int(step) - 1)


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


@torch.no_grad()
def _test(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, ctx: DistContext,
          batch_size: int = 250) -> tuple[float, float]:
    """(mean loss, accuracy) on the test images, each rank taking every world_size-th image."""
    model.eval()
    idx = torch.arange(ctx.rank, len(labels), ctx.world_size)
    loss_sum, correct = 0.0, 0.0
    for i in range(0, len(idx), batch_size):
        j = idx[i : i + batch_size]
        logits = model(images[j].to(ctx.device))
        y = labels[j].to(ctx.device)
        loss_sum += float(F.cross_entropy(logits, y, reduction="sum"))
        correct += float((logits.argmax(1) == y).sum())
    loss_sum, correct, n = all_reduce_sum(ctx, [loss_sum, correct, float(len(idx))])
    return loss_sum / max(n, 1), correct / max(n, 1)
