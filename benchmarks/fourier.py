"""FourierELU against plain ``torch.nn.functional.elu`` on the same number of channels.

For SO(2) (regular grids of N = 8..32 points) and SO(3) (every grid type, a few sizes) it prints,
in one process:

- ``step``: forward + backward time of FourierELU ÷ that of a plain ELU on a tensor of the same
  shape (same process, interleaved repetitions, best of each); ``naive``: the same ratio for the
  plain autograd graph (escnn's formulation, which keeps the grid samples for backward);
- ``kept``: the activation memory held between forward and backward (bytes of the tensors saved
  for backward, measured with ``torch.autograd.graph.saved_tensors_hooks``; the module's A/A⁺
  buffers excluded), FourierELU's recomputing autograd Function vs the naive graph;
- ``peak``: the peak memory allocated during one forward + backward step above the memory at its
  start (torch.profiler memory timeline, CPU), FourierELU vs naive;
- ``equiv``: the fibre-only equivariance error ||f(ρ(g)x) − ρ(g)f(x)|| / ||f(x)|| in float64,
  averaged over 10 random g (band-limited random input, 64 vectors).

``--adaptive`` instead compares the fixed grid with adaptive sampling
(``AdaptiveFourierELU``: the grid ``{h(x) g_i}`` follows a frame predicted from the input) for
SO(2) (L = 3, regular grids of N points) and SO(3) (L = 2, Thomson grids of N points), N from 2
up: fibre equivariance error (float64, random elements), step time ÷ a plain ELU, and peak memory
of a step, one table, and the plot ``docs/adaptive_fourier.png``.

Run: ``.venv/bin/python benchmarks/fourier.py`` (``--quick`` for fewer repetitions,
``--threads N`` to set torch's intra-op threads, ``--adaptive`` for the adaptive comparison).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from steerable import gspaces
from steerable.nn.nonlinear._adaptive_fourier import AdaptiveFourierELU
from steerable.nn.nonlinear._fourier import FourierELU, _fourier_apply


def _best_ratio(fns, reps):
    """Best-of times of each fn (interleaved), in seconds."""
    for f in fns:
        f()
    best = [float("inf")] * len(fns)
    for _ in range(reps):
        for i, f in enumerate(fns):
            t = time.perf_counter()
            f()
            best[i] = min(best[i], time.perf_counter() - t)
    return best


def _kept_bytes(fn, exclude):
    total, seen = 0, set()

    def pack(t):
        nonlocal total
        ptr = t.untyped_storage().data_ptr()
        if ptr not in exclude and ptr not in seen:
            seen.add(ptr)
            total += t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    del out
    return total


def _peak_bytes(step):
    from torch.profiler import ProfilerActivity, profile

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with profile(
                activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True, with_stack=True
            ) as prof:
                step()
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "timeline.json")
                prof.export_memory_timeline(path, device="cpu")
                with open(path) as fh:
                    data = json.load(fh)
            tot = np.asarray(data[1]).sum(1)
            return float(tot.max() - tot[0])
        except Exception:  # the timeline API is deprecated; report n/a where it is gone
            return float("nan")


def _equivariance(m, n=10, batch=64, seed=0):
    m64 = m.double()
    G = m.in_type.gspace.fibergroup
    gen = torch.Generator().manual_seed(seed)
    d = m.in_type.gspace.dimensionality
    x = m.in_type(torch.randn(batch, m.in_type.size, *(1,) * d, generator=gen, dtype=torch.float64))
    with torch.no_grad():
        y = m64(x)
        errs = []
        for g in G.sample(n, seed=seed + 1):
            a = m64(x.transform_fibers(g)).tensor
            b = y.transform_fibers(g).tensor
            errs.append(((a - b).norm() / b.norm()).item())
    m.float()
    return float(np.mean(errs))


def run_case(label, gs, L, grid_args, channels, batch, spatial, reps):
    t0 = time.perf_counter()
    m = FourierELU(gs, channels, L, *grid_args)
    build = time.perf_counter() - t0
    d = gs.dimensionality
    x = torch.randn(batch, m.in_type.size, *(spatial,) * d, requires_grad=True)
    gx = m.in_type(x)
    g = torch.randn_like(x)
    A, Ai = m.A, m.A_inv

    def ours():
        y = m(gx).tensor
        y.backward(g)
        x.grad = None

    def naive():
        y = _fourier_apply(x, A, Ai, channels, "p_elu", recompute=False)
        y.backward(g)
        x.grad = None

    def plain():
        y = F.elu(x)
        y.backward(g)
        x.grad = None

    t_ours, t_naive, t_plain = _best_ratio([ours, naive, plain], reps)
    excl = {A.untyped_storage().data_ptr(), Ai.untyped_storage().data_ptr()}
    kept_o = _kept_bytes(lambda: m(gx).tensor, excl)
    kept_n = _kept_bytes(lambda: _fourier_apply(x, A, Ai, channels, "p_elu", recompute=False), excl)
    peak_o, peak_n = _peak_bytes(ours), _peak_bytes(naive)
    err = _equivariance(m)
    return dict(
        label=label,
        N=len(m.grid),
        D=m.rho.size,
        C=m.in_type.size,
        build=build,
        step=t_ours / t_plain,
        naive=t_naive / t_plain,
        plain_ms=1e3 * t_plain,
        kept_o=kept_o,
        kept_n=kept_n,
        peak_o=peak_o,
        peak_n=peak_n,
        err=err,
    )


def _module_step(m, x, g):
    """forward + backward of ``m`` (a steerable module, or a plain function) on ``x``."""

    def f():
        y = m(m.in_type(x)).tensor if hasattr(m, "in_type") else m(x)
        y.backward(g)
        x.grad = None

    return f


def run_adaptive(quick: bool, reps: int, plot: str) -> None:
    """Fixed grid vs adaptive sampling at the same N (see the module docstring)."""
    so2 = gspaces.rot2dOnR2(-1, maximum_frequency=3)
    so3 = gspaces.rot3dOnR3(maximum_frequency=2)
    cases = [("SO(2) L=3", so2, 3, ("regular",), n, 16, 8, 16) for n in (2, 3, 4, 6, 8, 16, 32)]
    cases += [("SO(3) L=2", so3, 2, ("thomson",), n, 4, 2, 8) for n in (2, 4, 8, 24, 100)]
    hdr = (
        f"{'case':<12}{'N':>5}{'err fixed':>11}{'err adapt':>11}{'step fixed':>12}{'step adapt':>12}{'peak MB f/a':>14}"
    )
    print(hdr)
    print("-" * len(hdr))
    rows = []
    for label, gs, L, grid, n, channels, batch, spatial in cases:
        fixed = FourierELU(gs, channels, L, *grid, n, _strict=False)
        adapt = AdaptiveFourierELU(gs, channels, L, *grid, n)
        d = gs.dimensionality
        x = torch.randn(batch, fixed.in_type.size, *(spatial,) * d, requires_grad=True)
        g = torch.randn_like(x)

        sf, sa = _module_step(fixed, x, g), _module_step(adapt, x, g)
        t_f, t_a, t_p = _best_ratio([sf, sa, _module_step(F.elu, x, g)], reps)
        row = dict(
            label=label,
            N=len(fixed.grid),
            err_fixed=_equivariance(fixed),
            err_adaptive=_equivariance(adapt),
            step_fixed=t_f / t_p,
            step_adaptive=t_a / t_p,
            peak_fixed=_peak_bytes(sf) / 2.0**20,
            peak_adaptive=_peak_bytes(sa) / 2.0**20,
        )
        rows.append(row)
        print(
            f"{label:<12}{row['N']:>5}{row['err_fixed']:>11.1e}{row['err_adaptive']:>11.1e}"
            f"{row['step_fixed']:>11.1f}x{row['step_adaptive']:>11.1f}x"
            f"{row['peak_fixed']:>7.1f}/{row['peak_adaptive']:<6.1f}",
            flush=True,
        )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.8))
    for label, color in (("SO(2) L=3", "tab:blue"), ("SO(3) L=2", "tab:orange")):
        r = [x for x in rows if x["label"] == label]
        ns = [x["N"] for x in r]
        ax.loglog(ns, [max(x["err_fixed"], 1e-17) for x in r], "o-", color=color, label=f"{label} fixed grid")
        ax.loglog(ns, [max(x["err_adaptive"], 1e-17) for x in r], "s--", color=color, label=f"{label} adaptive")
    ax.set_xlabel("group samples N")
    ax.set_ylabel("equivariance error (float64)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(plot, dpi=110)
    print(f"wrote {plot}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    ap.add_argument("--adaptive", action="store_true", help="fixed grid vs adaptive sampling")
    ap.add_argument("--plot", default=os.path.join(os.path.dirname(__file__), "..", "docs", "adaptive_fourier.png"))
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    reps = 5 if args.quick else 15
    if args.adaptive:
        run_adaptive(args.quick, reps, args.plot)
        return
    torch.manual_seed(0)

    so2 = gspaces.rot2dOnR2(-1, maximum_frequency=3)
    so3 = gspaces.rot3dOnR3(maximum_frequency=2)
    cases = [(f"SO(2) L=3 regular {n}", so2, 3, ("regular", n), 16, 8, 32) for n in (8, 12, 16, 24, 32)]
    cases += [
        (f"SO(3) L=1 {' '.join(map(str, a))}", so3, 1, a, 4, 2, 12)
        for a in [("cube",), ("thomson", 24), ("ico",), ("thomson", 60)]
    ]
    cases += [
        (f"SO(3) L=2 {' '.join(map(str, a))}", so3, 2, a, 4, 2, 12)
        for a in [
            ("thomson", 40),
            ("thomson", 100),
            ("thomson", 200),
            ("thomson_cube", 3),
            ("thomson_cube", 4),
            ("thomson_cube", 8),
            ("ico",),
            ("rand", 100),
            ("rand", 300),
        ]
    ]
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; SO(2): 16 fields x 7 (B=8, 32x32); "
        "SO(3): 4 fields (B=2, 12^3)"
    )
    hdr = (
        f"{'case':<26}{'N':>5}{'D':>4}{'C':>5}{'step':>7}{'naive':>7}{'ELU ms':>8}"
        f"{'kept MB o/n':>14}{'peak MB o/n':>14}{'equiv err':>11}"
    )
    print(hdr)
    print("-" * len(hdr))
    t_all = time.perf_counter()
    for c in cases:
        r = run_case(*c, reps=reps)
        mb = 2.0**20
        print(
            f"{r['label']:<26}{r['N']:>5}{r['D']:>4}{r['C']:>5}{r['step']:>6.1f}x{r['naive']:>6.1f}x"
            f"{r['plain_ms']:>8.2f}{r['kept_o'] / mb:>7.1f}/{r['kept_n'] / mb:<6.1f}"
            f"{r['peak_o'] / mb:>7.1f}/{r['peak_n'] / mb:<6.1f}{r['err']:>11.2e}",
            flush=True,
        )
    print(f"total {time.perf_counter() - t_all:.0f} s")


if __name__ == "__main__":
    main()
