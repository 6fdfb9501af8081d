"""Steerable convolutions against plain ``torch.nn.Conv2d/3d`` with the same channel counts.

For each case, in a fresh process (so the build time is a cold start: group irreps, kernel basis
and all), it prints the build time and the ratios (steerable ÷ plain, same process, interleaved
repetitions, best of each):

- train: forward + backward of the conv (the filter is expanded from the weights every step),
- eval: forward under ``torch.no_grad()`` in eval mode (the expanded filter is cached),
- export: forward of ``conv.export()`` (a plain Conv module).

Goals: build < 1 s; train ≤ 1.15× (≤ 1.3× icosahedral regular); eval and export 1.0×.

Run: ``.venv/bin/python benchmarks/conv.py`` (``--quick`` for smaller inputs).
"""

from __future__ import annotations

import json
import subprocess
import sys

CASES = [
    # name, gspace expr, in/out field expr, kernel, batch, spatial, dim
    ("C8 regular (2D)", "gspaces.rot2dOnR2(8)", "[gs.regular_repr] * 8", 7, 8, 40, 2),
    ("D16 regular (2D)", "gspaces.flipRot2dOnR2(16)", "[gs.regular_repr] * 4", 7, 8, 40, 2),
    (
        "SO(2) irreps 0..3 (2D)",
        "gspaces.rot2dOnR2(-1, maximum_frequency=3)",
        "[gs.irrep(k) for k in range(4)] * 8",
        7,
        8,
        40,
        2,
    ),
    (
        "O(2) irreps (2D)",
        "gspaces.flipRot2dOnR2(-1, maximum_frequency=3)",
        "[gs.irrep(0, 0), gs.irrep(1, 0)] + [gs.irrep(1, k) for k in range(1, 4)] * 8",
        7,
        8,
        40,
        2,
    ),
    (
        "SO(3) irreps 0..2 (3D)",
        "gspaces.rot3dOnR3(maximum_frequency=2)",
        "[gs.irrep(l) for l in range(3)] * 8",
        5,
        2,
        20,
        3,
    ),
    (
        "O(3) irreps (3D)",
        "gspaces.flipRot3dOnR3(maximum_frequency=2)",
        "[gs.irrep(j, l) for l in range(3) for j in range(2)] * 4",
        5,
        2,
        20,
        3,
    ),
    ("ico regular (3D)", "gspaces.icoOnR3()", "[gs.regular_repr] * 2", 5, 2, 20, 3),
]

WORKER = r"""
import json, sys, time
import torch
from steerable import gspaces, nn
torch.manual_seed(0)
name, gs_expr, f_expr, k, B, S, d, reps = json.loads(sys.argv[1])
t0 = time.perf_counter()
gs = eval(gs_expr)
ft = nn.FieldType(gs, eval(f_expr))
conv = (nn.R2Conv if d == 2 else nn.R3Conv)(ft, ft, k, padding=k // 2)
build = time.perf_counter() - t0
plain = (torch.nn.Conv2d if d == 2 else torch.nn.Conv3d)(ft.size, ft.size, k, padding=k // 2)
x = torch.randn(B, ft.size, *(S,) * d)
gx = ft(x)
exported = conv.export().eval()

def t(fn):
    s = time.perf_counter(); fn(); return time.perf_counter() - s

def train_eq():
    conv.zero_grad(set_to_none=True); conv(gx).tensor.sum().backward()
def train_pl():
    plain.zero_grad(set_to_none=True); plain(x).sum().backward()
def eval_eq():
    with torch.no_grad(): conv(gx)
def eval_pl():
    with torch.no_grad(): plain(x)
def eval_ex():
    with torch.no_grad(): exported(x)

res = {}
conv.train(); plain.train()
for f in (train_eq, train_pl): f()
te, tp = [], []
for _ in range(reps):
    te.append(t(train_eq)); tp.append(t(train_pl))
res["train"] = min(te) / min(tp)
conv.eval(); plain.eval()
for f in (eval_eq, eval_pl, eval_ex): f()
ee, ep, ex = [], [], []
for _ in range(reps):
    ee.append(t(eval_eq)); ep.append(t(eval_pl)); ex.append(t(eval_ex))
res["eval"] = min(ee) / min(ep)
res["export"] = min(ex) / min(ep)
res["plain_train_ms"] = 1e3 * min(tp)
res["build"] = build
res["channels"] = ft.size
res["basis"] = conv.basisexpansion.dimension
print(json.dumps(res))
"""


def main() -> None:
    quick = "--quick" in sys.argv
    reps = 3 if quick else 7
    print(
        f"{'case':<24} {'C':>4} {'basis':>6} {'build s':>8} {'train':>7} {'eval':>6} {'export':>7} {'plain train ms':>15}"
    )
    for name, gs_expr, f_expr, k, B, S, d in CASES:
        if quick:
            S = max(9, S // 2)
        arg = json.dumps([name, gs_expr, f_expr, k, B, S, d, reps])
        out = subprocess.run([sys.executable, "-c", WORKER, arg], capture_output=True, text=True)
        if out.returncode:
            print(f"{name:<24} FAILED: {out.stderr.strip().splitlines()[-1]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{name:<24} {r['channels']:>4} {r['basis']:>6} {r['build']:>8.3f} {r['train']:>6.2f}x {r['eval']:>5.2f}x "
            f"{r['export']:>6.2f}x {r['plain_train_ms']:>15.1f}"
        )


if __name__ == "__main__":
    main()
