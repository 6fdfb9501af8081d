"""Zoo models: steerable against the same architecture in plain torch, in one process.

For each model of ``steerable.models`` (``MODEL_NAMES``), the plain-torch twin is the model's own
``model.export()`` (plain ``torch.nn`` layers; its conv weights, the expanded filters, become
ordinary parameters), trained like any torch model: same layers, same FLOPs, no basis expansion.
The exported batch norms keep per-channel statistics where ``InnerBatchNorm`` shares them over a
field: the same cost, not the same function in training mode; in eval mode the two compute the
same function.

Timed, interleaved (steerable, plain, steerable, plain, ... after warm-up); reported: the medians,
their ratio steerable / plain and, in parentheses, the median of the per-pair ratios (more robust
to load that drifts during the run):

- train: ``zero_grad`` + forward + cross-entropy + backward + ``AdamW.step`` in train mode (the
  steerable model expands its filters from the basis weights at every step);
- eval: forward in eval mode under ``torch.no_grad()`` (the steerable filters are cached).

Then ``torch.profiler`` splits both steps of the steerable model (and, for comparison, of its
plain twin) into basis expansion (every op a steerable convolution runs other than the
convolution itself, and their backward; in eval mode that is the check that the cached filter is
still valid, and the layer's Python), convolution (``aten::convolution`` and its backward),
nonlinearity, normalisation, pooling, optimizer and other (loss, head glue, gradient
accumulation, Python between layers). Forward ops are labelled by the innermost module running
them (``record_function`` ranges opened by forward hooks); backward ops inherit the label of the
forward op that recorded their autograd node (``sequence_nr``). Self times are summed, so the
categories add up to the profiled step. Profiler overhead inflates small ops: the fractions are
indicative.

Goals (issue 9): train ≤ 1.25×, eval 1.0× on CPU. Run, e.g.::

    .venv/bin/python benchmarks/models.py --threads 1 --repeats 15 [--models c8 wrn] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile, record_function

from steerable.models import MODEL_NAMES, build_model, count_parameters

CATEGORIES = ("expansion", "convolution", "nonlinearity", "normalisation", "pooling", "optimizer", "other")
_PREFIX = "bench::"
_BACKWARD = "autograd::engine::evaluate_function:"


# ---------------------------------------------------------------------------------------- models
def build_pair(name: str, width: float = 1.0, batch: int = 32, seed: int = 0):
    """``(steerable model, its plain export, inputs, labels)``, both models in train mode; the
    inputs are ``(batch, in_channels, n, n)`` with ``n`` the model's ``input_size`` (29, rotated
    MNIST padded, by default)."""
    torch.manual_seed(seed)
    model = build_model(name, width=width)
    plain = model.export()  # export() puts the model (and its export) in eval mode
    model.train()
    plain.train()
    for p in plain.parameters():
        p.requires_grad_(True)
    n = int(getattr(model, "input_size", 29))
    c = int(model.in_type.size) if hasattr(model, "in_type") else 1
    x = torch.randn(batch, c, n, n)
    y = torch.randint(0, int(getattr(model, "n_classes", 10)), (batch,))
    return model, plain, x, y


def train_step(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> Callable[[], None]:
    """One AdamW training step of ``model`` on ``(x, y)`` (model in train mode)."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step() -> None:
        with record_function(_PREFIX + "step"):
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()

    return step


def eval_step(model: torch.nn.Module, x: torch.Tensor) -> Callable[[], None]:
    """One forward of ``model`` (put in eval mode by the caller) under ``torch.no_grad()``."""

    def step() -> None:
        with record_function(_PREFIX + "step"), torch.no_grad():
            model(x)

    return step


def interleaved(a: Callable[[], None], b: Callable[[], None], repeats: int, warmup: int) -> tuple[list, list]:
    """Times of ``a`` and ``b`` (seconds), alternated ``a, b, a, b, ...`` after ``warmup`` of each."""
    for _ in range(warmup):
        a()
        b()
    ta, tb = [], []
    for _ in range(repeats):
        for fn, out in ((a, ta), (b, tb)):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return ta, tb


def _summary(ts: list, tp: list) -> dict:
    ms_s, ms_p = 1e3 * statistics.median(ts), 1e3 * statistics.median(tp)
    return dict(
        steerable_ms=ms_s,
        plain_ms=ms_p,
        ratio=ms_s / ms_p,
        paired_ratio=statistics.median(s / p for s, p in zip(ts, tp)),
    )


# ---------------------------------------------------------------------------------------- profile
def _module_label(m: torch.nn.Module) -> str | None:
    """The profile category of a module's own forward, or None (containers, heads, ...)."""
    cls = type(m).__name__
    mod = type(m).__module__
    if hasattr(m, "basisexpansion") or hasattr(m, "kernel_source"):
        return "expconv"  # a steerable convolution: its ops are expansion, except the conv itself
    if "Conv" in cls:
        return "conv"
    if "Pool" in cls:  # before "Norm": NormPool is a pooling
        return "pooling"
    if "nonlinear" in mod or mod == "torch.nn.modules.activation" or "NonLinearity" in cls:
        return "nonlinearity"
    if "Norm" in cls:
        return "normalisation"
    return None


def _install_labels(model: torch.nn.Module) -> list:
    """Forward pre/post hooks opening a ``record_function('bench::<label>')`` around every
    labelled module's forward; returns the hook handles."""
    handles = []
    for m in model.modules():
        label = _module_label(m)
        if label is None:
            continue
        stack: list = []

        def pre(_m, _inp, _label=label, _stack=stack):
            rf = record_function(_PREFIX + _label)
            rf.__enter__()
            _stack.append(rf)

        def post(_m, _inp, _out, _stack=stack):
            _stack.pop().__exit__(None, None, None)

        handles.append(m.register_forward_pre_hook(pre))
        handles.append(m.register_forward_hook(post))
    return handles


def _is_conv_op(name: str) -> bool:
    return name.startswith("aten::conv") or "convolution" in name


def event_categories(events) -> list:
    """``(event, category)`` for every ``FunctionEvent`` of a profiled step, in start order (see
    the module docstring for the rules)."""
    cats: dict = {}  # id(event) -> category ('expconv': inside a steerable conv, not yet split)
    by_seq: dict = {}  # (forward thread, sequence_nr) -> category of the forward op

    def cat_of(e) -> str:
        key = id(e)
        if key in cats:
            return cats[key]
        name = e.name
        parent = e.cpu_parent
        base = cat_of(parent) if parent is not None else "other"
        if name.startswith(_PREFIX):
            label = name[len(_PREFIX) :]
            cat = {"step": "other", "conv": "convolution"}.get(label, label)
        elif name.startswith("Optimizer.step"):
            cat = "optimizer"
        elif name.startswith(_BACKWARD):
            node = name[len(_BACKWARD) :].strip()
            if "Convolution" in node:
                cat = "convolution"
            else:
                cat = by_seq.get((e.fwd_thread or e.thread, e.sequence_nr), "other")
                cat = "expansion" if cat == "expconv" else cat
        elif base == "expconv":
            cat = "convolution" if _is_conv_op(name) else "expconv"
        else:
            cat = base
        cats[key] = cat
        if e.sequence_nr >= 0 and not name.startswith("autograd::"):
            by_seq.setdefault((e.thread, e.sequence_nr), cat)
        return cat

    ordered = sorted(events, key=lambda ev: ev.time_range.start)  # forward ops before their backward
    return [(e, "expansion" if cat_of(e) == "expconv" else cat_of(e)) for e in ordered]


def split_events(events) -> dict:
    """Self CPU time (µs) per category of a profiled step's ``FunctionEvent`` list."""
    out: dict = defaultdict(float)
    for e, cat in event_categories(events):
        out[cat] += e.self_cpu_time_total
    return {c: out.get(c, 0.0) for c in CATEGORIES}


def profile_split(model: torch.nn.Module, step: Callable[[], None], steps: int = 3) -> dict:
    """Milliseconds per category, per step, of ``step`` (a training or eval step of ``model``)
    under ``torch.profiler`` (one untimed step first)."""
    handles = _install_labels(model)
    try:
        step()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(steps):
                step()
    finally:
        for h in handles:
            h.remove()
    us = split_events(prof.events())
    return {c: v / 1e3 / steps for c, v in us.items()}


# ---------------------------------------------------------------------------------------- report
def bench_model(name: str, width: float, batch: int, repeats: int, warmup: int, profile_steps: int) -> dict:
    """Train/eval medians and ratios for one zoo model and, when ``profile_steps``, the profile
    splits of both steps (``profile_*`` keys: training, ``eval_profile_*``: eval)."""
    model, plain, x, y = build_pair(name, width, batch)
    res = dict(
        model=name,
        group=getattr(model, "group_name", "none"),
        params_steerable=count_parameters(model),
        params_plain=count_parameters(plain),
    )
    s_train, p_train = train_step(model, x, y), train_step(plain, x, y)
    res["train"] = _summary(*interleaved(s_train, p_train, repeats, warmup))
    if profile_steps:
        _profile(res, "", model, plain, s_train, p_train, profile_steps)
    model.eval()
    plain.eval()
    s_eval, p_eval = eval_step(model, x), eval_step(plain, x)
    res["eval"] = _summary(*interleaved(s_eval, p_eval, repeats, max(warmup, 1)))
    if profile_steps:
        _profile(res, "eval_", model, plain, s_eval, p_eval, profile_steps)
    return res


def _profile(res: dict, prefix: str, model, plain, s_step, p_step, steps: int) -> None:
    ms = res[prefix + "profile_ms"] = profile_split(model, s_step, steps)
    res[prefix + "profile_plain_ms"] = profile_split(plain, p_step, steps)
    total = sum(ms.values())
    res[prefix + "profile_fraction"] = {c: v / total for c, v in ms.items()}


def format_tables(results: Sequence[dict]) -> str:
    """The markdown tables: timings and ratios, then the profile splits (when measured)."""
    lines = [
        "| model | group | params (steerable / plain) | train ms (steerable / plain) | train ratio (paired) "
        "| eval ms (steerable / plain) | eval ratio (paired) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        t, e = r["train"], r["eval"]
        lines.append(
            f"| {r['model']} | {r['group']} | {r['params_steerable']} / {r['params_plain']} "
            f"| {t['steerable_ms']:.2f} / {t['plain_ms']:.2f} | {t['ratio']:.2f}x ({t['paired_ratio']:.2f}x) "
            f"| {e['steerable_ms']:.2f} / {e['plain_ms']:.2f} | {e['ratio']:.2f}x ({e['paired_ratio']:.2f}x) |"
        )
    for prefix, what in (("", "Training"), ("eval_", "Eval")):
        prof = [r for r in results if prefix + "profile_ms" in r]
        if not prof:
            continue
        lines += [
            "",
            f"{what} step under torch.profiler: ms per step, steerable (plain export), and % of the steerable step",
            "",
            "| model | " + " | ".join(CATEGORIES) + " | total |",
            "|---" * (len(CATEGORIES) + 2) + "|",
        ]
        for r in prof:
            s, p, f = r[prefix + "profile_ms"], r[prefix + "profile_plain_ms"], r[prefix + "profile_fraction"]
            cells = [f"{s[c]:.2f} ({p[c]:.2f}) {100 * f[c]:.0f}%" for c in CATEGORIES]
            lines.append(
                f"| {r['model']} | " + " | ".join(cells) + f" | {sum(s.values()):.2f} ({sum(p.values()):.2f}) |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict:
    """Run the benchmark; prints the tables and returns ``{'config': ..., 'results': [...]}``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--models",
        nargs="+",
        default=list(MODEL_NAMES),
        metavar="NAME",
        help=f"zoo models (default: all of {', '.join(MODEL_NAMES)})",
    )
    ap.add_argument("--batch", type=int, default=32, help="batch size (default 32)")
    ap.add_argument("--repeats", type=int, default=10, help="timed repetitions of each step, median kept (default 10)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps of each before timing (default 2)")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (default: torch's choice)")
    ap.add_argument("--width", type=float, default=1.0, help="field-count multiplier of the models (default 1)")
    ap.add_argument(
        "--profile-steps",
        type=int,
        default=3,
        help="profiled training steps per model, 0 to skip the profile (default 3)",
    )
    ap.add_argument("--json", metavar="PATH", default=None, help="also write the results as JSON")
    args = ap.parse_args(argv)
    models = [m.strip().lower() for m in args.models]
    unknown = [m for m in models if m not in MODEL_NAMES]
    if unknown:
        ap.error(f"--models: unknown {unknown}; expected names among {list(MODEL_NAMES)}")
    for flag, v, low in (
        ("--batch", args.batch, 1),
        ("--repeats", args.repeats, 1),
        ("--warmup", args.warmup, 0),
        ("--threads", args.threads, 0),
        ("--profile-steps", args.profile_steps, 0),
    ):
        if v < low:
            ap.error(f"{flag}: expected an integer >= {low}, got {v}")
    if not args.width > 0:
        ap.error(f"--width: expected a positive number, got {args.width}")
    if args.threads:
        torch.set_num_threads(args.threads)
    config = dict(
        models=models,
        batch=args.batch,
        repeats=args.repeats,
        warmup=args.warmup,
        threads=torch.get_num_threads(),
        width=args.width,
        torch=torch.__version__,
    )
    print(
        f"zoo models, batch {args.batch}, width {args.width}, {config['threads']} threads, "
        f"{args.repeats} interleaved repeats (medians); ratio = steerable / plain export",
        flush=True,
    )
    results = []
    for name in models:
        results.append(bench_model(name, args.width, args.batch, args.repeats, args.warmup, args.profile_steps))
    print(format_tables(results), flush=True)
    out = dict(config=config, results=results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
    return out


if __name__ == "__main__":
    main()
