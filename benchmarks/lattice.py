"""Neural lattice reduction vs LLL, Seysen and size reduction (Marchetti, Cesa, Pratik & Behboodi
2023, small scale, CPU, one thread).

For n = 4, 6, 8, 12, 16 and 256 Gaussian bases each (at n = 8 also the ill-conditioned and the
scrambled families), the orthogonality defect δ (mean, median, mean log δ) and the time per basis
of: size reduction, Seysen's greedy reduction, our numpy LLL with δ_LLL = 0.75 and 0.99, fpylll's
LLL (when installed), and three Gauss-move reducers (the same weights for every n):

* ``gauss-moves (init)``: the B_n-equivariant model at its initialisation (size reduction / Babai
  moves, pivot by the exact one-step defect decrease), untrained;
* ``gauss-moves (trained)``: the same, trained self-supervised on Gaussian bases with n in {4, 6, 8};
* ``gauss-moves (scratch)``: no prior (no gain term, random coefficients), trained the same way.

Then the spatially correlated MIMO grid (8 x 8 lattices, n = 4): the per-lattice model vs the
convolutional variant, both trained on grids, vs LLL per lattice.

The model runs batched (all bases of a row in one call); LLL, Seysen and fpylll run one basis at
a time (as they are written); times are CPU seconds of the process on one thread. Writes ``benchmarks/results/lattice.json``, prints a markdown table
and draws ``docs/lattice.png``.

Run: ``.venv/bin/python benchmarks/lattice.py`` (``--quick``: two small dimensions, few bases).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

from steerable.lattice import (
    ConvGaussMoveReducer,
    GaussMoveReducer,
    fpylll_lll,
    lll_reduce,
    log_orthogonality_defect,
    mimo_lattice_grid,
    random_lattices,
    seysen_reduce,
    size_reduce,
    train_reducer,
)

ROOT = Path(__file__).resolve().parents[1]


def _has_fpylll() -> bool:
    try:
        import fpylll  # noqa: F401
    except ImportError:
        return False
    return True


def _stats(red: np.ndarray, seconds: float, count: int) -> dict:
    ld = np.asarray(log_orthogonality_defect(red)).reshape(-1)
    d = np.exp(ld)
    return {
        "mean_defect": float(d.mean()),
        "median_defect": float(np.median(d)),
        "mean_log_defect": float(ld.mean()),
        "ms_per_basis": 1000.0 * seconds / count,
    }


def _timed(fn, B):
    """Result and CPU seconds of this process (one thread: robust to a machine shared with others)."""
    t = time.process_time()
    red = fn(B)
    return red, time.process_time() - t


def _methods(models: dict, steps_per_n: int) -> dict:
    out = {
        "size reduction": lambda B: size_reduce(B)[0],
        "Seysen": lambda B: seysen_reduce(B)[0],
        "LLL δ=0.75 (numpy)": lambda B: lll_reduce(B, 0.75)[0],
        "LLL δ=0.99 (numpy)": lambda B: lll_reduce(B, 0.99)[0],
    }
    if _has_fpylll():
        out["LLL δ=0.75 (fpylll)"] = lambda B: fpylll_lll(B, 0.75)[0]
        out["LLL δ=0.99 (fpylll)"] = lambda B: fpylll_lll(B, 0.99)[0]
    for name, m in models.items():
        out[name] = lambda B, m=m: m.reduce(B, steps=steps_per_n * B.shape[-1])[0]
    return out


def _mixed_sampler(dims):
    def sample(b, rng):
        return random_lattices(b, int(rng.choice(dims)), seed=int(rng.integers(2**31)))

    return sample


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny smoke run")
    ap.add_argument("--count", type=int, default=256, help="test bases per row")
    ap.add_argument("--iterations", type=int, default=120, help="training iterations per model")
    ap.add_argument("--steps", type=int, default=2, help="model moves per basis vector at evaluation")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "lattice.json"))
    ap.add_argument("--figure", default=str(ROOT / "docs" / "lattice.png"))
    ap.add_argument("--plot-only", action="store_true", help="redraw the figure from --out, run nothing")
    a = ap.parse_args(argv)
    if a.plot_only:
        saved = json.loads(Path(a.out).read_text())
        _figure(saved["results"], saved["config"]["dims"], Path(a.figure))
        return saved
    torch.set_num_threads(1)
    torch.manual_seed(0)
    dims = [4, 6] if a.quick else [4, 6, 8, 12, 16]
    count = 8 if a.quick else a.count
    iters = 2 if a.quick else a.iterations
    train_dims = [4, 6] if a.quick else [4, 6, 8]
    val = random_lattices(8 if a.quick else 128, 8 if not a.quick else 6, seed=999)
    models: dict = {"gauss-moves (init)": GaussMoveReducer().eval()}
    train_log: dict = {}
    for name, prior in (("gauss-moves (trained)", True), ("gauss-moves (scratch)", False)):
        torch.manual_seed(0)
        m = GaussMoveReducer(prior=prior)
        t = time.perf_counter()
        losses = train_reducer(
            m,
            n=4,
            iterations=iters,
            batch_size=64,
            steps=None,
            lr=3e-3 if not prior else 1e-3,
            sampler=_mixed_sampler(train_dims),
            validation=val,
            eval_every=10,
        )
        train_log[name] = {"seconds": time.perf_counter() - t, "first_loss": losses[0], "last_loss": losses[-1]}
        models[name] = m
    methods = _methods(models, a.steps)
    rows = []
    cases = [("gaussian", n) for n in dims] + ([] if a.quick else [("ill_conditioned", 8), ("scrambled", 8)])
    for family, n in cases:
        B = random_lattices(count, n, family, seed=1000 + n)
        rows.append({"family": family, "n": n, "method": "input", **_stats(B, 0.0, count)})
        for name, fn in methods.items():
            red, sec = _timed(fn, B)
            rows.append({"family": family, "n": n, "method": name, **_stats(red, sec, count)})
            print(json.dumps(rows[-1]), flush=True)
    # MIMO grid: per-lattice vs convolutional, both trained on grids
    H = W = 4 if a.quick else 8
    n_mimo = 4
    grids = mimo_lattice_grid(2 if a.quick else 8, n_mimo, H, W, correlation=2.0, seed=7)
    val_grid = mimo_lattice_grid(1 if a.quick else 2, n_mimo, H, W, correlation=2.0, seed=8)
    flat = grids.reshape(-1, n_mimo, n_mimo)
    mimo_rows = [{"method": "input", **_stats(flat, 0.0, len(flat))}]

    def grid_sampler(b, rng):
        return mimo_lattice_grid(b, n_mimo, H, W, correlation=2.0, seed=int(rng.integers(2**31)))

    for name, cls in (
        ("gauss-moves (per lattice)", GaussMoveReducer),
        ("gauss-moves (conv grid)", ConvGaussMoveReducer),
    ):
        torch.manual_seed(0)
        m = cls()
        if cls is GaussMoveReducer:

            def flat_sampler(b, rng):
                return grid_sampler(b, rng).reshape(-1, n_mimo, n_mimo)

            train_reducer(
                m,
                n=n_mimo,
                iterations=iters,
                batch_size=2,
                sampler=flat_sampler,
                validation=val_grid.reshape(-1, n_mimo, n_mimo),
                eval_every=10,
            )
            red, sec = _timed(lambda x, m=m: m.reduce(x, steps=a.steps * n_mimo)[0], flat)
        else:
            train_reducer(
                m, n=n_mimo, iterations=iters, batch_size=2, sampler=grid_sampler, validation=val_grid, eval_every=10
            )
            red, sec = _timed(lambda x, m=m: m.reduce(x, steps=a.steps * n_mimo)[0], grids)
        mimo_rows.append({"method": name, **_stats(red, sec, len(flat))})
    for name, fn in (
        ("LLL δ=0.99 (numpy)", lambda x: lll_reduce(x, 0.99)[0]),
        ("Seysen", lambda x: seysen_reduce(x)[0]),
    ):
        red, sec = _timed(fn, flat)
        mimo_rows.append({"method": name, **_stats(red, sec, len(flat))})
    # goal check: model within 5 % of LLL(0.99) in mean defect for n <= 8
    goal = []
    for n in [d for d in dims if d <= 8]:
        r = {x["method"]: x for x in rows if x["n"] == n and x["family"] == "gaussian"}
        lll = r["LLL δ=0.99 (numpy)"]
        for name in models:
            goal.append(
                {
                    "n": n,
                    "model": name,
                    "defect_ratio_to_lll099": r[name]["mean_defect"] / lll["mean_defect"],
                    "speedup_vs_numpy_lll099": lll["ms_per_basis"] / r[name]["ms_per_basis"],
                }
            )
    out = {
        "config": {
            "dims": dims,
            "count": count,
            "iterations": iters,
            "steps_per_n": a.steps,
            "threads": 1,
            "train_dims": train_dims,
            "fpylll": _has_fpylll(),
            "device": "cpu",
            "timer": "process CPU time, 1 thread",
        },
        "training": train_log,
        "results": rows,
        "mimo": {"n": n_mimo, "grid": [H, W], "grids": int(grids.shape[0]), "results": mimo_rows},
        "goal": goal,
    }
    print("\n| family | n | method | mean δ | median δ | mean log δ | ms / basis |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['family']} | {r['n']} | {r['method']} | {r['mean_defect']:.3f} | {r['median_defect']:.3f} | "
            f"{r['mean_log_defect']:.3f} | {r['ms_per_basis']:.3f} |"
        )
    print(f"\nMIMO grid {H}x{W}, n = {n_mimo}:\n\n| method | mean δ | median δ | ms / lattice |\n|---|---|---|---|")
    for r in mimo_rows:
        print(f"| {r['method']} | {r['mean_defect']:.4f} | {r['median_defect']:.4f} | {r['ms_per_basis']:.3f} |")
    print("\n| n | model | δ / δ_LLL(0.99) | speed-up vs numpy LLL(0.99) |\n|---|---|---|---|")
    for g in goal:
        print(f"| {g['n']} | {g['model']} | {g['defect_ratio_to_lll099']:.3f} | {g['speedup_vs_numpy_lll099']:.2f} |")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=1))
    if not a.quick:
        _figure(rows, dims, Path(a.figure))
    return out


def _figure(rows, dims, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(15, 4.2))
    names = list(dict.fromkeys(r["method"] for r in rows))
    colours = {name: f"C{i % 10}" for i, name in enumerate(names)}
    gauss = [r for r in rows if r["family"] == "gaussian"]
    ref = {r["n"]: r["mean_log_defect"] for r in gauss if r["method"] == "LLL δ=0.99 (numpy)"}
    for name in names:
        pts = [r for r in gauss if r["method"] == name]
        style = dict(marker="o", ls="-") if "gauss" in name else dict(marker=".", ls="--")
        ns = [r["n"] for r in pts]
        ax[0].plot(ns, [r["mean_log_defect"] for r in pts], color=colours[name], label=name, **style)
        if name not in ("input", "size reduction"):
            ax[1].plot(ns, [r["mean_log_defect"] / ref[r["n"]] for r in pts], color=colours[name], **style)
        if name != "input":
            ax[2].plot(ns, [r["ms_per_basis"] for r in pts], color=colours[name], **style)
    ax[0].set(xlabel="dimension n", ylabel="mean log orthogonality defect", title="Gaussian bases", xticks=dims)
    ax[1].axhline(1.0, color="k", lw=0.5)
    ax[1].set(xlabel="dimension n", ylabel="mean log δ / LLL(δ=0.99)", title="relative to LLL δ=0.99", xticks=dims)
    ax[1].set_ylim(0.85, 1.6)
    ax[2].set(xlabel="dimension n", ylabel="CPU ms per basis (1 thread)", yscale="log", title="time", xticks=dims)
    ax[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
