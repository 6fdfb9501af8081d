"""Training-mode filter expansion (weights → dense filter, forward + backward), steerable vs escnn.

For the layers of escnn's tutorial C8 MNIST model and the cases of ``benchmarks/conv.py``, builds
the same convolution on both libraries (escnn only if it is importable) and times the expansion
alone: ``basisexpansion(weights)`` reshaped to the conv filter, then a backward to the weights
(what every training step pays before ``F.conv``). Interleaved repetitions, best of each; the
ratio is steerable ÷ escnn. Run (escnn 1.0.11 needs numpy<2)::

    OMP_NUM_THREADS=1 python benchmarks/expansion.py [--reps 10]
"""

from __future__ import annotations

import argparse
import importlib
import time

import torch

CASES = [
    # name, gspace expr, in fields expr, out fields expr, kernel, dim
    ("MNIST 1→24 (7)", "gs.rot2dOnR2(8)", "[g.trivial_repr]", "[g.regular_repr] * 24", 7, 2),
    ("MNIST 24→48 (5)", "gs.rot2dOnR2(8)", "[g.regular_repr] * 24", "[g.regular_repr] * 48", 5, 2),
    ("MNIST 48→96 (5)", "gs.rot2dOnR2(8)", "[g.regular_repr] * 48", "[g.regular_repr] * 96", 5, 2),
    ("MNIST 96→96 (5)", "gs.rot2dOnR2(8)", "[g.regular_repr] * 96", "[g.regular_repr] * 96", 5, 2),
    ("C8 regular (7)", "gs.rot2dOnR2(8)", "[g.regular_repr] * 8", None, 7, 2),
    ("D16 regular (7)", "gs.flipRot2dOnR2(16)", "[g.regular_repr] * 4", None, 7, 2),
    ("SO(2) irreps (7)", "gs.rot2dOnR2(-1, maximum_frequency=3)", "[g.irrep(k) for k in range(4)] * 8", None, 7, 2),
    (
        "O(2) irreps (7)",
        "gs.flipRot2dOnR2(-1, maximum_frequency=3)",
        "[g.irrep(0, 0), g.irrep(1, 0)] + [g.irrep(1, k) for k in range(1, 4)] * 8",
        None,
        7,
        2,
    ),
    ("SO(3) irreps (5)", "gs.rot3dOnR3(maximum_frequency=2)", "[g.irrep(l) for l in range(3)] * 8", None, 5, 3),
    (
        "O(3) irreps (5)",
        "gs.flipRot3dOnR3(maximum_frequency=2)",
        "[g.irrep(j, l) for l in range(3) for j in range(2)] * 4",
        None,
        5,
        3,
    ),
    ("ico regular (5)", "gs.icoOnR3()", "[g.regular_repr] * 2", None, 5, 3),
]


def _step(lib: str, gs_expr: str, fin: str, fout: str | None, k: int, d: int):
    gs, nn = importlib.import_module(f"{lib}.gspaces"), importlib.import_module(f"{lib}.nn")  # noqa: F841 (gs, nn: names the eval below reads)
    g = eval(gs_expr)
    t_in = nn.FieldType(g, eval(fin, {"g": g}))
    t_out = nn.FieldType(g, eval(fout, {"g": g})) if fout else t_in
    conv = (nn.R2Conv if d == 2 else nn.R3Conv)(t_in, t_out, k)
    e, w0 = conv.basisexpansion, conv.weights.detach().clone()
    shape = (t_out.size, t_in.size) + (k,) * d

    def step():
        w = w0.clone().requires_grad_(True)
        f = e(w).reshape(shape).contiguous()
        f.backward(torch.ones_like(f))

    return step


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=10, help="timed repetitions, best kept (default 10)")
    args = ap.parse_args(argv)
    libs = ["steerable"]
    try:
        importlib.import_module("escnn.nn")
        libs.append("escnn")
    except ImportError:
        print("escnn is not installed: timing steerable only")
    print(f"expansion forward+backward, {torch.get_num_threads()} threads")
    print(
        f"{'case':<20} "
        + " ".join(f"{name + ' ms':>13}" for name in libs)
        + ("  steerable÷escnn" if len(libs) > 1 else "")
    )
    for name, *case in CASES:
        steps = {lib: _step(lib, *case) for lib in libs}
        best = {lib: float("inf") for lib in libs}
        for s in steps.values():
            s()
        for _ in range(args.reps):
            for lib, s in steps.items():
                t0 = time.perf_counter()
                s()
                best[lib] = min(best[lib], time.perf_counter() - t0)
        line = f"{name:<20} " + " ".join(f"{1e3 * best[lib]:>13.2f}" for lib in libs)
        if len(libs) > 1:
            line += f"  {best['steerable'] / best['escnn']:>15.2f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
