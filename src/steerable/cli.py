"""The ``steerable`` command (also ``python -m steerable`` and ``torchrun -m steerable``).

Subcommands::

    steerable train     --model c8 --epochs 10 --out out/c8     train on rotated MNIST (resumable)
    steerable train     --task tetris --epochs 6                 train another task (steerable tasks)
    steerable tasks                                             the tasks train knows, one line each
    steerable evaluate  out/c8                                  accuracy + invariance under rotations
                                                                (other tasks: their evaluation sets)
    steerable export    out/c8                                  plain torch module (+ TorchScript)
    steerable quantize  out/c8                                  int8 static quantisation (FX)
    steerable plot      out/c8 out/cnn --out docs               accuracy and invariance figures
    steerable compare   --models c8 cnn --seeds 0 1 2           mean ± std test accuracy over seeds

Bad input (unknown model, a checkpoint from another model, a corrupt or missing file, an
unwritable folder) ends with one line on stderr and exit status 1 (2 for a malformed command
line). ``--debug`` (before or after the subcommand) shows the traceback instead; ``--version``
prints the version.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# --group values (normalised: lower case, no spaces) → model names of steerable.models
GROUP_ALIASES = {
    "c8": "c8",
    "c16": "c16",
    "d16": "d16",
    "d16c16": "d16c16",
    "d16|c16": "d16c16",
    "d16->c16": "d16c16",
    "trivial": "cnn",
    "none": "cnn",
    "e": "cnn",
    "{e}": "cnn",
    "c1": "cnn",
    "plain": "cnn",
}


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block)."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class UserError(Exception):
    """A problem with what the user asked for; printed as one line."""


# ------------------------------------------------------------------------------------ helpers


def _model_names() -> tuple:
    from steerable.models import MODEL_NAMES

    return tuple(MODEL_NAMES)


def resolve_model_name(model: str | None, group: str | None, flag: str = "--model") -> str | None:
    """``--model`` and/or ``--group`` → a model name of ``steerable.models`` (or None if neither);
    ``flag`` is the option named in the error (``--models`` for ``compare``).

    >>> from steerable.cli import resolve_model_name
    >>> resolve_model_name(None, "C8"), resolve_model_name("CNN", None)
    ('c8', 'cnn')
    """
    names = _model_names()
    m = None
    if model is not None:
        m = model.strip().lower()
        if m not in names:
            raise UserError(f"{flag}: unknown model {model!r}; choose from {', '.join(names)}")
    if group is not None:
        key = group.strip().lower().replace(" ", "").replace("_", "")
        g = GROUP_ALIASES.get(key)
        if g is None or g not in names:
            raise UserError(
                f"--group: unknown group {group!r}; choose from C8, C16, D16, D16C16, trivial "
                f"(or name a model with --model)"
            )
        if m is not None and m != g:
            raise UserError(f"--group {group} means model '{g}', but --model says '{m}'")
        m = g
    return m


def _fmt_pct(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.2f}%"


def _count(model) -> int:
    try:
        from steerable.models import count_parameters

        return int(count_parameters(model))
    except ImportError:
        return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _checkpoint_path(path: str) -> str:
    return os.path.join(path, "checkpoint.pt") if os.path.isdir(path) else path


MNIST_TASK = "rotated_mnist"


def _task_of(ckpt: dict) -> str:
    return ckpt.get("task", MNIST_TASK)


def _load(path: str, model: str | None = None, command: str | None = None):
    from steerable.training import load_checkpoint, model_from_checkpoint

    ckpt = load_checkpoint(_checkpoint_path(path))
    if command is not None and _task_of(ckpt) != MNIST_TASK:
        raise UserError(
            f"{ckpt['path']} holds a run of task '{_task_of(ckpt)}'; '{command}' reads {MNIST_TASK} runs only"
        )
    net = model_from_checkpoint(ckpt, expected_model=model)
    return ckpt, net


def _test_data(ckpt: dict, limit: int | None, split: str = "test"):
    from steerable.data import RotatedMNIST

    args = ckpt["args"]
    transform = args.get("transform", "rotate")
    ds = RotatedMNIST(split, transform=None if transform == "none" else transform, seed=args.get("data_seed", 0))
    from steerable.training._train import subset_indices

    idx = subset_indices(len(ds), limit, args.get("data_seed", 0))
    return ds.images[idx], ds.labels[idx]


def _writable_file(path: str, what: str) -> str:
    """Create the folder of ``path`` and check that ``path`` can be written, before the work."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    try:
        os.makedirs(folder, exist_ok=True)
        probe = os.path.join(folder, f".write-test-{os.getpid()}")
        with open(probe, "wb"):
            pass
        os.unlink(probe)
    except OSError as e:
        raise UserError(f"{what} {path}: cannot write there ({_why_unwritable(folder, e)})") from None
    if os.path.isdir(path):
        raise UserError(f"{what} {path}: is a folder; give a file name")
    return path


def _why_unwritable(folder: str, e: OSError) -> str:
    """Name the path component that is a file when that is the reason."""
    p = folder
    while p and not os.path.exists(p):
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    if p and os.path.exists(p) and not os.path.isdir(p):
        return f"{p} is a file, not a folder"
    return e.strerror or str(e)


def _int_at_least(text: str, low: int) -> int:
    what = f"an integer {'>= 0' if low == 0 else '> 0'}"
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if v < low:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return v


def _nonneg_int(text: str) -> int:
    return _int_at_least(text, 0)


def _pos_int(text: str) -> int:
    return _int_at_least(text, 1)


def _limit(text: str) -> int:
    """A subset size: a positive integer (leave the option out to use every image)."""
    try:
        return _pos_int(text)
    except argparse.ArgumentTypeError as e:
        raise argparse.ArgumentTypeError(f"{e} (leave the option out to use every image)") from None


def _angle_step(text: str) -> float:
    """Degrees between tested angles: 0 (none) or a number in (0, 360]."""
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not (v == 0 or (0 < v <= 360)):
        raise argparse.ArgumentTypeError(f"expected 0 (no other angles) or degrees in (0, 360], got {text!r}")
    return v


def _pos_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return v


# -------------------------------------------------------------------------------------- train


def _train_config(args, **override):
    from steerable.training import TrainConfig

    model = resolve_model_name(args.model, args.group)
    cfg = dict(
        model=model,
        width=args.width,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        seed=args.seed,
        transform=args.transform,
        data_seed=args.data_seed,
        limit=args.limit,
        test_limit=args.test_limit,
        out=args.out,
        resume=args.resume,
        overwrite=args.overwrite,
        workers=args.workers,
        device=args.device,
        threads=args.threads,
        progress=not args.quiet,
    )
    cfg.update(override)
    if cfg["out"] is None:
        cfg["out"] = os.path.join("out", f"{cfg['model'] or 'c8'}-seed{cfg['seed'] if cfg['seed'] is not None else 0}")
    return TrainConfig(**cfg)


def _fmt_metric(name: str, value) -> str:
    """``acc`` columns as percentages, the others with four significant digits."""
    if not isinstance(value, (int, float)):
        return str(value)
    return _fmt_pct(value) if name == "acc" or name.endswith("_acc") else f"{value:.4g}"


def _epoch_line(row: dict, total) -> str:
    """One line per epoch: every ``SET_METRIC`` column grouped by set, then lr and seconds."""
    parts, current = [f"epoch {row['epoch']:>3}/{total}"], None
    for k, v in row.items():
        if k in ("epoch", "lr", "seconds") or "_" not in k:
            continue
        split, metric = k.split("_", 1)
        text = f"{metric} {_fmt_metric(metric, v)}" if metric != "loss" else f"loss {v:.4f}"
        if split != current:
            parts.append(f" {split} {text}")
            current = split
        else:
            parts[-1] += f" {text}"
    parts.append(f" lr {row.get('lr', float('nan')):.2e}  {row.get('seconds', float('nan')):.1f} s")
    return " ".join(parts)


def _epoch_printer(total: int | None, quiet: bool):
    def show(row: dict) -> None:
        if quiet:
            return
        print(
            f"epoch {row['epoch']:>3}/{total}  train loss {row['train_loss']:.4f} acc {_fmt_pct(row['train_acc'])}"
            f"  test loss {row['test_loss']:.4f} acc {_fmt_pct(row['test_acc'])}  lr {row['lr']:.2e}"
            f"  {row['seconds']:.1f} s",
            flush=True,
        )

    return show


def _run_training(cfg, quiet: bool):
    from steerable.training import train

    def on_epoch_end(row, resolved):
        _epoch_printer(resolved.epochs, quiet)(row)

    return train(cfg, on_epoch_end=on_epoch_end)


def _list_tasks() -> int:
    from steerable.training import describe_tasks

    tasks = sorted(describe_tasks(), key=lambda t: t[0] != MNIST_TASK)
    width = max(len(n) for n, _ in tasks)
    for name, text in tasks:
        mark = " (default)" if name == MNIST_TASK else ""
        print(f"{name:<{width}}  {text}{mark}")
    return 0


def cmd_tasks(args) -> int:
    return _list_tasks()


def cmd_train(args) -> int:
    if args.list_tasks:
        return _list_tasks()
    if args.task != MNIST_TASK:
        return _train_task(args)
    foreign = [k for k in _extra_task_options() if getattr(args, k, None) is not None]
    if foreign:
        from steerable.training import get_task

        raise UserError(
            f"{option_name(foreign[0])}: not an option of task '{MNIST_TASK}'; it takes "
            f"{', '.join(option_name(k) for k in get_task(MNIST_TASK).defaults)}"
        )
    cfg = _train_config(args)
    t0 = time.perf_counter()
    res = _run_training(cfg, args.quiet)
    if res.rank != 0:
        return 0
    c = res.config
    secs = time.perf_counter() - t0
    done = len(res.history) - res.start_epoch
    last = res.history[-1] if res.history else {}
    group = getattr(res.model, "group_name", "")
    head = f"model {c.model} ({group}, {_count(res.model):,} parameters)"
    if done == 0:
        print(
            f"{c.out}: already trained for {res.start_epoch} of {c.epochs} epochs; nothing to do. {head}: "
            f"test accuracy {_fmt_pct(last.get('test_acc', float('nan')))}"
        )
    else:
        per_epoch = sum(r["seconds"] for r in res.history[res.start_epoch :]) / done
        resumed = f" (resumed after epoch {res.start_epoch})" if res.start_epoch else ""
        print(
            f"{head}, {res.world_size} process(es): {done} epoch(s){resumed} in {secs:.1f} s "
            f"({per_epoch:.1f} s/epoch of training + test); test accuracy "
            f"{_fmt_pct(last.get('test_acc', float('nan')))}"
        )
    print(f"checkpoint: {res.checkpoint}  logs: {os.path.join(c.out, 'log.json')}, {os.path.join(c.out, 'log.csv')}")
    return 0


def _task_options(args, task: str) -> dict:
    """The plan options given on the command line (Python names), for ``fit_task``."""
    from steerable.training import get_task

    takes_group = "group" in get_task(task).defaults  # e.g. shapes3d: --group is the task's option
    if args.group is not None and not takes_group:
        raise UserError(f"--group: names a model of the {MNIST_TASK} task; task '{task}' takes --model")
    names = (*_COMMON_PLAN, *_TRAIN_PLAN_FLAGS, *_extra_task_options(), *(("group",) if takes_group else ()))
    return {k: getattr(args, k) for k in dict.fromkeys(names) if getattr(args, k, None) is not None}


def _train_task(args) -> int:
    from steerable.training import LambdaCallback, fit_task, get_task

    cls = get_task(args.task)
    options = _task_options(args, cls.name)
    out = args.out or os.path.join("out", f"{cls.name}-seed{options.get('seed', cls.defaults['seed'])}")

    def show(trainer, row):
        if trainer.is_main and not args.quiet:
            print(_epoch_line(row, trainer.epochs), flush=True)

    t0 = time.perf_counter()
    res = fit_task(
        cls,
        out=out,
        resume=args.resume,
        overwrite=args.overwrite,
        device=args.device,
        workers=args.workers,
        threads=args.threads,
        progress=not args.quiet,
        callbacks=[LambdaCallback(on_epoch_end=show)],
        **options,
    )
    if res.rank != 0:
        return 0
    secs = time.perf_counter() - t0
    done = len(res.history) - res.start_epoch
    last = {k: v for k, v in res.last.items() if k not in ("epoch", "lr", "seconds") and not k.startswith("train_")}
    scores = ", ".join(f"{k} {_fmt_metric(k, v)}" for k, v in last.items()) or "no evaluation set"
    head = (
        f"task {cls.name}: model {res.plan.get('model', type(res.model).__name__)} "
        f"({getattr(res.model, 'group_name', '') or 'plain'}, {_count(res.model):,} parameters)"
    )
    if done == 0:
        print(
            f"{out}: already trained for {res.start_epoch} of {res.plan['epochs']} epochs; nothing to do. "
            f"{head}: {scores}"
        )
    else:
        resumed = f" (resumed after epoch {res.start_epoch})" if res.start_epoch else ""
        stopped = " (stopped early by a callback)" if res.stopped else ""
        print(f"{head}, {res.world_size} process(es): {done} epoch(s){resumed}{stopped} in {secs:.1f} s; {scores}")
    print(f"checkpoint: {res.checkpoint}  logs: {os.path.join(out, 'log.json')}, {os.path.join(out, 'log.csv')}")
    return 0


# ----------------------------------------------------------------------------------- evaluate


def evaluate_checkpoint(
    path: str,
    model: str | None = None,
    limit: int | None = None,
    angle_step: float = 15.0,
    device: str = "cpu",
    batch_size: int = 250,
    order: int = 3,
    progress: bool = False,
) -> tuple[dict, dict]:
    """(checkpoint, report) — the report as written to ``eval.json``."""
    from steerable.training import evaluate_model
    from steerable.training._distributed import resolve_device

    if (
        isinstance(angle_step, bool)
        or not isinstance(angle_step, (int, float))
        or not (angle_step == 0 or 0 < angle_step <= 360)
    ):
        raise ValueError(f"--angle-step: expected 0 (no other angles) or degrees in (0, 360], got {angle_step!r}")
    ckpt, net = _load(path, model, command="evaluate")
    net.to(resolve_device(device))
    x, y = _test_data(ckpt, limit)
    angles = [a * angle_step for a in range(int(math.ceil(360.0 / angle_step)))] if angle_step > 0 else []
    report = evaluate_model(net, x, y, angles=angles, batch_size=batch_size, order=order, progress=progress)
    report.update(
        {
            "checkpoint": ckpt["path"],
            "model": ckpt["model"],
            "epoch": int(ckpt["epoch"]),
            "transform": ckpt["args"].get("transform"),
            "angle_step": angle_step,
            "limit": limit,
        }
    )
    return ckpt, report


def print_report(report: dict, verbose: bool = True) -> None:
    m = report["model"]
    print(
        f"{m['name']} ({m.get('group_name', '')}, width {m['width']}), epoch {report['epoch']}: "
        f"test accuracy {_fmt_pct(report['accuracy'])} on {report['n_images']} images"
    )
    r = report["rot90"]
    accs = "/".join(f"{100 * p['accuracy']:.2f}" for p in r["per_rotation"])
    print(
        f"  90° rotations (exact, torch.rot90): relative logit change mean {r['mean_rel']:.2e}, "
        f"max {r['max_rel']:.2e}; accuracy at 90/180/270°: {accs} %"
    )
    if "arbitrary" in report:
        a = report["arbitrary"]
        interp = {1: "bilinear", 3: "bicubic"}.get(a["interpolation_order"], f"order {a['interpolation_order']}")
        if a["mean_rel"] is None:
            print(
                f"  other angles (every {report['angle_step']:g}°): none, every tested angle is a multiple of 90° "
                "(give an --angle-step that is not, e.g. 15, to test interpolated rotations)"
            )
        else:
            print(
                f"  other angles (every {report['angle_step']:g}°, {interp}): relative logit change mean "
                f"{a['mean_rel']:.3f}, max {a['max_rel']:.3f} (resampling alone: {a['resampling_floor']:.3f}); "
                f"accuracy mean {_fmt_pct(a['accuracy'])}, worst {_fmt_pct(a['worst_accuracy'])}"
            )
        if verbose:
            print("    angle   accuracy   mean rel   max rel")
            for row in report["angles"]:
                print(
                    f"    {row['degrees']:5.0f}   {100 * row['accuracy']:7.2f}%   {row['mean_rel']:.2e}   "
                    f"{row['max_rel']:.2e}"
                )


def default_report_name(limit: int | None) -> str:
    """``eval.json`` for the whole test set; ``eval-limitN.json`` for a subset, so that a quick
    check never replaces the run's full report (the one ``steerable plot`` reads).

    >>> from steerable.cli import default_report_name
    >>> default_report_name(None), default_report_name(100)
    ('eval.json', 'eval-limit100.json')
    """
    return "eval.json" if not limit else f"eval-limit{limit}.json"


def evaluate_task_checkpoint(ckpt: dict) -> dict:
    """The report of a run of a task other than rotated MNIST: its loss and metrics on its
    evaluation sets (``Task.evaluate``), with the checkpoint's identity."""
    from steerable.training import build_task, model_from_checkpoint

    task = build_task(_task_of(ckpt), **ckpt["args"])
    report = task.evaluate(model_from_checkpoint(ckpt))
    return {
        "task": task.name,
        "checkpoint": ckpt["path"],
        "model": ckpt["model"],
        "epoch": int(ckpt["epoch"]),
        **report,
    }


def cmd_evaluate(args) -> int:
    from steerable.training import load_checkpoint

    model = resolve_model_name(args.model, None)
    ckpt_path = _checkpoint_path(args.checkpoint)
    out = args.json or os.path.join(os.path.dirname(os.path.abspath(ckpt_path)), default_report_name(args.limit))
    if os.path.exists(ckpt_path):
        _writable_file(out, "--json")
        ckpt = load_checkpoint(ckpt_path)
        if _task_of(ckpt) != MNIST_TASK:
            report = evaluate_task_checkpoint(ckpt)
            scores = ", ".join(f"{k} {_fmt_metric(k, v)}" for k, v in report.items() if isinstance(v, float))
            print(f"task {report['task']}, epoch {report['epoch']}: {scores}")
            from steerable.training._checkpoint import atomic_write_text

            atomic_write_text(json.dumps(report, indent=2) + "\n", out)
            print(f"report: {out}")
            return 0
    _, report = evaluate_checkpoint(
        ckpt_path, model, args.limit, args.angle_step, args.device, args.batch_size, args.order, progress=not args.quiet
    )
    print_report(report, verbose=not args.quiet)
    from steerable.training._checkpoint import atomic_write_text

    atomic_write_text(json.dumps(report, indent=2) + "\n", out)
    print(f"report: {out}")
    return 0


# ------------------------------------------------------------------------------------- export


def cmd_export(args) -> int:
    from steerable.training import (
        export_model,
        load_saved,
        max_relative_difference,
        rot90_invariance,
        save_module,
        save_torchscript,
    )

    model = resolve_model_name(args.model, None)
    ckpt_path = _checkpoint_path(args.checkpoint)
    folder = os.path.dirname(os.path.abspath(ckpt_path))
    out = args.out or os.path.join(folder, "model.pt")
    ts = None if args.no_torchscript else (args.torchscript or os.path.splitext(out)[0] + ".ts")
    ckpt, net = _load(ckpt_path, model, command="export")
    _writable_file(out, "--out")
    if ts:
        _writable_file(ts, "--torchscript")
    x, y = _test_data(ckpt, args.limit)
    plain = export_model(net)
    diff = max_relative_difference(net, plain, x)
    print(
        f"exported {ckpt['model']['name']}: {type(plain).__name__} of plain torch modules; "
        f"max |model - exported| / max |model| = {diff:.2e} on {len(x)} test images"
    )
    inv = rot90_invariance(plain, x, y)
    print(
        f"  exported logits under 90° rotations: relative change mean {inv['mean_rel']:.2e}, max {inv['max_rel']:.2e}"
    )
    tol = args.tolerance
    if not diff <= tol:
        raise UserError(f"the exported module differs from the model by {diff:.2e} (> --tolerance {tol:g}); not saved")
    save_module(plain, out)
    back = load_saved(out)
    d_back = max_relative_difference(plain, back, x)
    print(f"  saved {out} (torch.save of the module; torch.load(..., weights_only=False)); reloaded: diff {d_back:.1e}")
    if ts:
        save_torchscript(plain, x[:8], ts)
        d_ts = max_relative_difference(plain, load_saved(ts), x)
        print(f"  saved {ts} (TorchScript trace; torch.jit.load); reloaded: diff {d_ts:.1e}")
        if not d_ts <= tol:
            raise UserError(f"the TorchScript trace differs from the module by {d_ts:.2e}")
    if not d_back <= tol:
        raise UserError(f"the reloaded module differs by {d_back:.2e}")
    return 0


# ----------------------------------------------------------------------------------- quantize


def cmd_quantize(args) -> int:
    from steerable.training import (
        accuracy_of,
        export_model,
        load_saved,
        predict_logits,
        quantize_int8,
        save_torchscript,
    )
    from steerable.training._checkpoint import atomic_torch_save
    from steerable.training._quantize import file_size_mb, quantization_engine, quiet_torch_deprecations

    model = resolve_model_name(args.model, None)
    ckpt_path = _checkpoint_path(args.checkpoint)
    folder = os.path.dirname(os.path.abspath(ckpt_path))
    out = args.out or os.path.join(folder, "model_int8.ts")
    ckpt, net = _load(ckpt_path, model, command="quantize")
    _writable_file(out, "--out")
    engine = quantization_engine(args.backend)
    x, y = _test_data(ckpt, args.limit)
    calib, _ = _test_data(ckpt, args.calibration, split="train")
    plain = export_model(net)
    t0 = time.perf_counter()
    q = quantize_int8(plain, calib, engine=engine)
    tq = time.perf_counter() - t0
    with quiet_torch_deprecations():
        t1 = time.perf_counter()
        acc_f = accuracy_of(predict_logits(plain, x), y)
        t_f = time.perf_counter() - t1
        t1 = time.perf_counter()
        acc_q = accuracy_of(predict_logits(q, x), y)
        t_q = time.perf_counter() - t1
        save_torchscript(q, x[:8], out)
        back = load_saved(out)
        acc_back = accuracy_of(predict_logits(back, x), y)
    fsize = os.path.join(folder, ".float-size-probe.pt")
    try:
        atomic_torch_save(plain.state_dict(), fsize)
        mb_f = file_size_mb(fsize)
    finally:
        if os.path.exists(fsize):
            os.unlink(fsize)
    print(
        f"int8 static quantisation ({engine}, FX graph mode) of {ckpt['model']['name']}: calibrated on "
        f"{len(calib)} training images in {tq:.1f} s"
    )
    print(
        f"  test accuracy float {_fmt_pct(acc_f)} -> int8 {_fmt_pct(acc_q)} "
        f"({100 * (acc_q - acc_f):+.2f} points) on {len(y)} images; forward {t_f:.2f} s -> {t_q:.2f} s"
    )
    print(
        f"  saved {out} (TorchScript, {file_size_mb(out):.2f} MB; float weights {mb_f:.2f} MB); "
        f"reloaded accuracy {_fmt_pct(acc_back)}"
    )
    return 0


# --------------------------------------------------------------------------------------- plot


def _read_json(path: str, what: str) -> dict:
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        with open(path) as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{path} is not valid JSON: {e}") from None


def cmd_plot(args) -> int:
    from steerable.training import plot_accuracy, plot_history, plot_invariance

    labels = args.labels or []
    if labels and len(labels) != len(args.runs):
        raise UserError(f"--labels: {len(labels)} labels for {len(args.runs)} runs")
    runs, reports, others = [], [], []
    for i, run in enumerate(args.runs):
        folder = run if os.path.isdir(run) else os.path.dirname(run)
        if not os.path.isdir(run):
            raise FileNotFoundError(f"run folder not found: {run}")
        log = _read_json(os.path.join(folder, "log.json"), "training log")
        if log.get("task", MNIST_TASK) != MNIST_TASK:  # another task: its own metrics, history.png
            others.append(
                (
                    labels[i] if labels else f"{log['task']} ({os.path.basename(os.path.abspath(folder))})",
                    log["history"],
                )
            )
            continue
        label = labels[i] if labels else f"{log['model']['name']} ({log['model'].get('group_name') or 'plain'})"
        runs.append((label, log["history"]))
        ev = os.path.join(folder, "eval.json")
        if os.path.exists(ev):
            reports.append((label, _read_json(ev, "evaluation report")))
        else:
            print(
                f"note: {folder} has no eval.json (run 'steerable evaluate {folder}'); "
                f"it is left out of the invariance plot",
                file=sys.stderr,
            )
    out = args.out if args.out is not None else (os.path.dirname(os.path.abspath(args.runs[0])) or ".")
    acc = os.path.join(out, "accuracy.png")
    inv = os.path.join(out, "invariance.png")
    hist = os.path.join(out, "history.png")
    _writable_file(acc, "--out")
    if runs:
        plot_accuracy(runs, acc)
        print(f"wrote {acc}")
    if reports:
        plot_invariance(reports, inv)
        print(f"wrote {inv}")
    if others:
        plot_history(others, hist)
        print(f"wrote {hist}")
    return 0


# ------------------------------------------------------------------------------------ compare


def cmd_compare(args) -> int:
    import numpy as np

    names = [resolve_model_name(m, None, flag="--models") for m in args.models]
    rows = []
    t0 = time.perf_counter()
    for name in names:
        accs, inv90, times = [], [], []
        for seed in args.seeds:
            out = os.path.join(args.out, f"{name}-seed{seed}")
            exists = os.path.exists(os.path.join(out, "checkpoint.pt"))
            cfg = _train_config(args, model=name, seed=seed, out=out, resume=exists, overwrite=False)
            print(f"== {name}, seed {seed} -> {out}" + (" (resuming)" if exists else ""), flush=True)
            res = _run_training(cfg, args.quiet)
            if res.rank != 0:
                continue
            accs.append(res.history[-1]["test_acc"])
            times.append(sum(r["seconds"] for r in res.history) / len(res.history))
            print(
                f"   test accuracy {_fmt_pct(accs[-1])} after {len(res.history)} epochs ({times[-1]:.1f} s/epoch)",
                flush=True,
            )
            if args.invariance:
                from steerable.training import rot90_invariance

                x, y = _test_data({"args": res.config.plan()}, args.test_limit)
                inv90.append(rot90_invariance(res.model.cpu(), x, y)["mean_rel"])
        if not accs:
            return 0
        a = np.array(accs) * 100
        rows.append(
            {
                "model": name,
                "group": str(getattr(res.model, "group_name", "")),
                "parameters": _count(res.model),
                "seeds": list(args.seeds),
                "test_acc": accs,
                "mean": float(a.mean()),
                "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0,
                "seconds_per_epoch": float(np.mean(times)),
                "rot90_mean_rel": float(np.mean(inv90)) if inv90 else None,
            }
        )
    if not rows:
        return 0
    e = res.config
    lines = [
        f"rotated MNIST ({e.transform}), {e.epochs} epochs, batch {e.batch_size}, "
        f"{len(args.seeds)} seeds; total {time.perf_counter() - t0:.0f} s",
        "",
        "| model | group | parameters | test accuracy (%) | s/epoch |"
        + (" 90° logit change |" if args.invariance else ""),
        "|---|---|---|---|---|" + ("---|" if args.invariance else ""),
    ]
    for r in rows:
        line = (
            f"| {r['model']} | {r['group'] or '-'} | {r['parameters']:,} | {r['mean']:.2f} ± {r['std']:.2f} | "
            f"{r['seconds_per_epoch']:.1f} |"
        )
        if args.invariance:
            line += f" {r['rot90_mean_rel']:.1e} |"
        lines.append(line)
    text = "\n".join(lines)
    print(text)
    from steerable.training._checkpoint import atomic_write_text

    os.makedirs(args.out, exist_ok=True)
    atomic_write_text(json.dumps(rows, indent=2) + "\n", os.path.join(args.out, "compare.json"))
    atomic_write_text(text + "\n", os.path.join(args.out, "compare.md"))
    print(f"\nwrote {os.path.join(args.out, 'compare.md')} and compare.json")
    return 0


# ------------------------------------------------------------------------------------- parser


def _add_train_options(p: argparse.ArgumentParser, with_model: bool = True) -> None:
    if with_model:
        p.add_argument(
            "--model",
            help="model of steerable.models: cnn, c8, c16, d16, d16c16, wrn, mobilenet "
            "(default c8; taken from the checkpoint with --resume); for --task tetris: "
            "octa or cnn",
        )
        p.add_argument("--group", help="alias: the group of the model (C8, C16, D16, D16C16, trivial=cnn)")
    p.add_argument("--width", type=_pos_float, help="channel multiplier (default 1.0)")
    p.add_argument(
        "--epochs",
        type=_pos_int,
        help=(
            "number of epochs in all (default 10); with --resume, more than the run has done extends it"
            if with_model
            else "number of epochs of every run (default 10); an existing run with fewer is extended"
        ),
    )
    p.add_argument("--batch-size", type=_pos_int, help="global batch size, split over processes (default 64)")
    p.add_argument(
        "--lr",
        type=_pos_float,
        help="peak learning rate of AdamW, cosine decay per step (default: the model's, "
        "steerable.models.default_lr: 2e-3; 1e-2 for wrn and mobilenet; with --task, the task's)",
    )
    p.add_argument("--weight-decay", type=float, help="AdamW weight decay (default 1e-4)")
    p.add_argument(
        "--transform",
        choices=["rotate", "rotate_flip", "none"],
        help="data: random rotations, rotations and reflections, or upright digits (default rotate)",
    )
    p.add_argument("--data-seed", type=_nonneg_int, help="seed of the data split and angles (default 0)")
    p.add_argument(
        "--limit",
        type=_limit,
        metavar="N",
        help="train on N of the 4000 training images, drawn at random with --data-seed (default all)",
    )
    p.add_argument(
        "--test-limit",
        type=_limit,
        metavar="N",
        help="test on N of the 1000 test images, drawn at random with --data-seed (default all)",
    )
    p.add_argument("--workers", type=_nonneg_int, default=0, help="DataLoader worker processes (default 0)")
    p.add_argument("--device", choices=["cpu", "cuda", "auto"], default="auto", help="default: cuda if available")
    p.add_argument("--threads", type=_pos_int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")


# plan options of the rotated-MNIST task that have their own flags (above); other tasks' options
# get a generic flag each (_add_task_options)
_TRAIN_PLAN_FLAGS = ("width", "transform", "data_seed", "limit", "test_limit")
_COMMON_PLAN = ("model", "epochs", "batch_size", "lr", "weight_decay", "seed")


def _extra_task_options() -> dict:
    """``{option: (default, [tasks])}`` of the registered tasks' plan options without a flag of their own."""
    from steerable.training import describe_tasks, get_task

    extra: dict = {}
    for name, _ in describe_tasks():
        for k, v in get_task(name).defaults.items():
            if k not in _COMMON_PLAN and k not in _TRAIN_PLAN_FLAGS and k != "group":  # --group exists
                extra.setdefault(k, (v, []))[1].append(f"{name} (default {v})")
    return extra


def _typed(default):
    """An argparse type converting to the type of ``default`` (values are checked by the task)."""
    kind = type(default)
    if kind is bool:

        def parse_bool(text: str) -> bool:
            t = text.strip().lower()
            if t in ("1", "true", "yes", "on"):
                return True
            if t in ("0", "false", "no", "off"):
                return False
            raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")

        return parse_bool
    if kind is int:

        def parse_int(text: str) -> int:
            try:
                return int(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None

        return parse_int
    if kind is float:

        def parse_float(text: str) -> float:
            try:
                return float(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None

        return parse_float
    if default is None:  # the task picks a default (e.g. per data set): a number if it reads as one

        def parse_any(text: str):
            for conv in (int, float):
                try:
                    return conv(text)
                except ValueError:
                    pass
            return text

        return parse_any
    return str


def _add_task_options(p: argparse.ArgumentParser) -> None:
    from steerable.training import task_names

    p.add_argument(
        "--task",
        default=MNIST_TASK,
        choices=task_names(),
        metavar="NAME",
        help=f"what to train (default {MNIST_TASK}); 'steerable tasks' lists them",
    )
    p.add_argument("--list-tasks", action="store_true", help="list the tasks with a one-line description, and exit")
    for k, (default, tasks) in _extra_task_options().items():
        p.add_argument(
            option_name(k),
            type=_typed(default),
            metavar="VALUE" if default is None else type(default).__name__.upper(),
            help=f"option of task {', '.join(tasks)}",
        )


def _version() -> str:
    from steerable import __version__

    return __version__


def _add_debug(p: argparse.ArgumentParser, top: bool = False) -> None:
    # on a subcommand the default is SUPPRESS, so that `steerable --debug train` is not undone
    p.add_argument(
        "--debug",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="show tracebacks instead of one-line errors",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="steerable",
        description="Train, evaluate, export and quantise steerable CNNs on "
        "rotated MNIST, or train another task (steerable tasks). Run "
        "under torchrun for DistributedDataParallel.",
    )
    parser.add_argument("--version", action="version", version=f"steerable {_version()}")
    _add_debug(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "train",
        help="train a model (resumable; DDP under torchrun)",
        description="Train a model of steerable.models on rotated MNIST, or the task --task NAME "
        "('steerable tasks' lists them). Writes OUT/checkpoint.pt after every epoch "
        "(atomically) and OUT/log.json, OUT/log.csv.",
    )
    _add_train_options(p)
    _add_task_options(p)
    p.add_argument("--seed", type=_nonneg_int, help="seed of initialisation and data order (default 0)")
    p.add_argument("--out", help="run folder (default out/MODEL-seedSEED)")
    again = p.add_mutually_exclusive_group()
    again.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its last checkpoint (exactly: weights, optimizer, RNG); "
        "with a larger --epochs, extend a finished run",
    )
    again.add_argument("--overwrite", action="store_true", help="start again even if --out holds a checkpoint")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "tasks",
        help="list the tasks 'steerable train --task' knows",
        description="The tasks of steerable.training (name and one line each); train one with "
        "'steerable train --task NAME'.",
    )
    p.set_defaults(func=cmd_tasks)

    p = sub.add_parser(
        "evaluate",
        help="test accuracy and invariance of the logits under rotations",
        description="Test accuracy, and the relative change of the logits when the input is rotated "
        "by 90°, 180°, 270° (exact) and by every multiple of --angle-step (spline interpolation).",
    )
    p.add_argument("checkpoint", help="checkpoint file or run folder")
    p.add_argument("--model", help="refuse a checkpoint of another model")
    p.add_argument(
        "--angle-step",
        type=_angle_step,
        default=15.0,
        metavar="DEGREES",
        help="degrees between tested angles, in (0, 360] (0: only the 90° rotations; default 15)",
    )
    p.add_argument(
        "--limit",
        type=_limit,
        metavar="N",
        help="N of the test images (default all; the report then goes to eval-limitN.json, not the run's eval.json)",
    )
    p.add_argument(
        "--order",
        type=int,
        choices=[0, 1, 2, 3, 4, 5],
        default=3,
        help="spline order of the rotation for other angles (1 bilinear, 3 bicubic; default 3)",
    )
    p.add_argument("--batch-size", type=_pos_int, default=250, help="images per forward pass (default 250)")
    p.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu", help="default: cpu")
    p.add_argument(
        "--json", help="report file (default: eval.json beside the checkpoint; eval-limitN.json with --limit N)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar and no per-angle table")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "export",
        help="save the model as plain torch modules (+ TorchScript), verified",
        description="Export to plain torch.nn modules, check they compute the same logits, save "
        "with torch.save and as a TorchScript trace, and check the reloaded files.",
    )
    p.add_argument("checkpoint", help="checkpoint file or run folder")
    p.add_argument("--model", help="refuse a checkpoint of another model")
    p.add_argument("--out", help="module file (default: model.pt beside the checkpoint)")
    p.add_argument("--torchscript", help="TorchScript file (default: OUT with .ts)")
    p.add_argument("--no-torchscript", action="store_true", help="save the module only, no TorchScript trace")
    p.add_argument("--limit", type=_limit, default=256, metavar="N", help="test images used to verify (default 256)")
    p.add_argument("--tolerance", type=float, default=1e-5, help="largest relative difference accepted (1e-5)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "quantize",
        help="int8 post-training static quantisation (FX graph mode)",
        description="Export, quantise to int8 with torch.ao.quantization.quantize_fx (calibrated on "
        "training images), compare test accuracy, save as TorchScript.",
    )
    p.add_argument("checkpoint", help="checkpoint file or run folder")
    p.add_argument("--model", help="refuse a checkpoint of another model")
    p.add_argument("--out", help="TorchScript file (default: model_int8.ts beside the checkpoint)")
    p.add_argument("--calibration", type=_pos_int, default=512, help="training images for calibration (512)")
    p.add_argument("--limit", type=_limit, metavar="N", help="N of the test images (default all)")
    p.add_argument("--backend", help="quantised engine: x86, fbgemm, qnnpack (default: the first supported)")
    p.set_defaults(func=cmd_quantize)

    p = sub.add_parser(
        "plot",
        help="accuracy curves and invariance-vs-angle figures (PNG)",
        description="OUT/accuracy.png from each rotated-MNIST run's log.json; OUT/invariance.png from "
        "each run's eval.json (written by 'steerable evaluate'); OUT/history.png (every "
        "metric per epoch) from the runs of other tasks.",
    )
    p.add_argument("runs", nargs="+", help="run folders")
    p.add_argument(
        "--out",
        help="folder of the figures (default: the folder holding the first run, e.g. out/demo "
        "for out/demo/c8; the README's figures: --out docs)",
    )
    p.add_argument("--labels", nargs="+", help="one label per run")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser(
        "compare",
        help="train several models over several seeds; mean ± std accuracy",
        description="Train each --models × --seeds run into OUT/MODEL-seedS (finished runs are "
        "reused, interrupted ones resumed) and print a markdown table.",
    )
    p.add_argument(
        "--models",
        nargs="+",
        default=["c8", "cnn"],
        metavar="MODEL",
        help="models of steerable.models to train (default: c8 cnn)",
    )
    p.add_argument(
        "--seeds",
        nargs="+",
        type=_nonneg_int,
        default=[0, 1, 2],
        metavar="SEED",
        help="seeds of initialisation and data order, one run per model and seed (default: 0 1 2)",
    )
    p.add_argument(
        "--out",
        default=os.path.join("out", "compare"),
        help="folder of the runs (OUT/MODEL-seedS) and of compare.md, compare.json (default out/compare)",
    )
    p.add_argument("--invariance", action="store_true", help="also report the 90° logit change")
    _add_train_options(p, with_model=False)
    p.set_defaults(func=cmd_compare, model=None, group=None, seed=None, resume=False, overwrite=False)
    for p in sub.choices.values():
        _add_debug(p)
    return parser


def option_name(name: str) -> str:
    """The command-line option of the Python argument ``name`` of the library.

    >>> from steerable.cli import option_name
    >>> option_name("batch_size"), option_name("out")
    ('--batch-size', '--out')
    """
    return "--" + name.replace("_", "-")


def _one_line(e: BaseException) -> str:
    from steerable.training import ConfigError, NoCheckpointError

    if isinstance(e, (ConfigError, NoCheckpointError)):  # the library names Python arguments: say options
        return e.render(option_name).strip().splitlines()[0]
    if isinstance(e, OSError) and e.strerror and e.filename:
        return f"{e.strerror}: {e.filename}"
    text = str(e).strip() or type(e).__name__
    if isinstance(e, KeyError):
        text = f"missing key {text}"
    return text.splitlines()[0]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``steerable`` and ``python -m steerable``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    prog = f"steerable {args.command}"
    if os.environ.get("RANK", "0") not in ("", "0"):
        prog += f" (rank {os.environ['RANK']})"
    from steerable.training import CheckpointError

    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        hint = ""
        if args.command == "train":
            hint = "; continue with the same command and --resume"
        print(f"{prog}: interrupted{hint}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (UserError, CheckpointError, ValueError, TypeError, ImportError, OSError) as e:
        if args.debug:
            raise
        print(f"{prog}: error: {_one_line(e)}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as e:  # a bug, not bad input: still one line unless --debug
        if args.debug:
            raise
        print(
            f"{prog}: internal error: {type(e).__name__}: {_one_line(e)} (run 'steerable --debug {args.command} "
            f"...' for the traceback)",
            file=sys.stderr,
        )
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
