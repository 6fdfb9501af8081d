"""Learning the degree of equivariance: double-digit MNIST, equivariant vs plain vs partial CNNs.

The ``partial_equivariance`` task (``steerable train --task partial_equivariance``) classifies
canvases of two digits side by side (100 classes), each digit transformed by the data set's
symmetry (``so2``: any rotation, ``c4``: multiples of 90°, ``flips``: a left-right mirror,
``none``), with four networks of the same channel counts:

- ``equivariant``: D4-steerable CNN (regular fields), exactly equivariant to the grid's rotations
  and flips;
- ``plain``: ordinary convolutions;
- ``partial``: the equivariant CNN with each convolution relaxed by its own learned density λ over
  D4 (uniform at the start); ``partial_shared``: one λ for all layers.

For every run: test accuracy; for the partial networks, the mass of each layer's λ on the data
set's true symmetry (C4 for ``so2``/``c4``, {e, mirror} for ``flips``, {e} for ``none``; uniform:
0.5 / 0.25 / 0.125). Per model (seed 0, one ``so2`` configuration): the training step's time ÷ the
plain CNN's, interleaved in one process.

Writes ``benchmarks/results/partial.json`` (``--merge`` joins files of runs made in parallel, e.g.
one per data set), prints markdown tables and draws ``docs/partial.png`` (accuracy per data set
and model) and ``docs/partial_densities.png`` (the learned λ of the layer-wise partial network,
seed 0, per data set).

Run: ``.venv/bin/python benchmarks/partial.py --symmetries so2 c4 --threads 1`` (``--quick`` for a
smoke run).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from steerable.training import build_task

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = ("equivariant", "plain", "partial", "partial_shared")
SYMMETRIES = ("so2", "c4", "flips", "none")
OPTIONS = dict(epochs=8, n_train=5000, n_test=1000)
QUICK = dict(epochs=1, n_train=64, n_test=32, fields=(1, 1, 1, 1, 2))
UNIFORM_MASS = {"so2": 0.5, "c4": 0.5, "flips": 0.25, "none": 0.125}


def run_one(symmetry: str, model: str, seed: int, opts: dict) -> tuple[dict, object]:
    task = build_task("partial_equivariance", symmetry=symmetry, model=model, seed=seed, **opts)
    t0 = time.perf_counter()
    tr = task.trainer(progress=False)
    tr.fit()
    rep = task.evaluate(tr.model)
    row = dict(
        symmetry=symmetry,
        model=model,
        seed=seed,
        acc=float(rep["test_acc"]),
        params=sum(p.numel() for p in tr.model.parameters()),
        seconds=time.perf_counter() - t0,
    )
    for key in ("mass", "mass_identity"):
        if key in rep:
            row[key] = rep[key]
    return row, tr.model


def step_ratios(opts: dict, repeats: int = 5) -> dict:
    """Training-step time of every model ÷ the plain CNN's (batch of 64, interleaved, best of)."""
    nets, batch = {}, None
    for m in MODELS:
        task = build_task("partial_equivariance", symmetry="so2", model=m, **opts)
        torch.manual_seed(0)
        nets[m] = task.build_model()
        if batch is None:
            ds = task.train_data()
            n = min(64, len(ds))
            batch = (torch.stack([ds[i][0] for i in range(n)]), torch.stack([ds[i][1] for i in range(n)]))
    opt = {m: torch.optim.AdamW(n.parameters(), 1e-3) for m, n in nets.items()}
    best = {m: float("inf") for m in MODELS}
    for _ in range(repeats):
        for m, net in nets.items():
            net.train()
            t = time.perf_counter()
            loss = torch.nn.functional.cross_entropy(net(batch[0]), batch[1])
            opt[m].zero_grad()
            loss.backward()
            opt[m].step()
            best[m] = min(best[m], time.perf_counter() - t)
    return {m: best[m] / best["plain"] for m in MODELS}


def summarise(rows: list) -> dict:
    out: dict = {}
    for r in rows:
        out.setdefault(r["symmetry"], {}).setdefault(r["model"], []).append(r)
    table = {}
    for sym, by_model in out.items():
        table[sym] = {}
        for m, rs in by_model.items():
            acc = np.array([r["acc"] for r in rs])
            entry = dict(acc_mean=float(acc.mean()), acc_std=float(acc.std()), n=len(rs), params=rs[0]["params"])
            if "mass" in rs[0]:
                per_layer = np.array([[v for v in r["mass"].values()] for r in rs])
                entry["mass_mean"] = per_layer.mean(0).tolist()
                entry["mass_layers"] = list(rs[0]["mass"])
            if "mass_identity" in rs[0]:
                entry["mass_identity_mean"] = np.array([list(r["mass_identity"].values()) for r in rs]).mean(0).tolist()
            table[sym][m] = entry
    return table


def print_tables(results: dict) -> None:
    table = results["summary"]
    syms = [s for s in SYMMETRIES if s in table]
    print("| model | " + " | ".join(syms) + " |")
    print("|---|" + "---|" * len(syms))
    for m in MODELS:
        cells = []
        for s in syms:
            e = table[s].get(m)
            cells.append("—" if e is None else f"{e['acc_mean']:.3f} ± {e['acc_std']:.3f}")
        print(f"| {m} | " + " | ".join(cells) + " |")
    print("\nλ mass on the true symmetry, per layer (mean over seeds; uniform in brackets):")
    for s in syms:
        for m in ("partial", "partial_shared"):
            e = table[s].get(m)
            if e and "mass_mean" in e:
                vals = ", ".join(f"{v:.2f}" for v in e["mass_mean"])
                print(f"- {s} ({UNIFORM_MASS[s]}) {m}: {vals}")
    if results.get("step_ratio"):
        print("\nstep ÷ plain CNN: " + ", ".join(f"{m} {v:.2f}" for m, v in results["step_ratio"].items()))


def plot(results: dict, densities: dict, path: str, path_dens: str) -> None:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print("matplotlib missing: no figure")
        return
    table = results["summary"]
    syms = [s for s in SYMMETRIES if s in table]
    fig = Figure(figsize=(7.5, 3.0), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    w = 0.2
    for i, m in enumerate(MODELS):
        means = [table[s].get(m, {}).get("acc_mean", np.nan) for s in syms]
        stds = [table[s].get(m, {}).get("acc_std", 0.0) for s in syms]
        ax.bar(np.arange(len(syms)) + (i - 1.5) * w, means, w, yerr=stds, label=m, capsize=2)
    ax.set_xticks(np.arange(len(syms)), [f"digits: {s}" for s in syms])
    ax.set_ylabel("test accuracy (100 classes)")
    lo = min(table[s][m]["acc_mean"] for s in syms for m in table[s])
    ax.set_ylim(max(0.0, lo - 0.1), 1.0)
    ax.legend(fontsize=7, ncol=4, loc="upper center")
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")
    if densities:
        from steerable.nn.partial import plot_densities

        panels = {}
        for s in syms:
            for name, d in densities.get(s, {}).items():
                panels[f"{s}: layer {name}"] = d
        if panels:
            plot_densities(panels, path=path_dens, columns=5)
            print(f"wrote {path_dens}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--symmetries", nargs="+", default=list(SYMMETRIES), choices=SYMMETRIES)
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--quick", action="store_true", help="a smoke run (tiny data, one epoch, no files)")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "partial.json"))
    ap.add_argument("--merge", nargs="+", help="join these result files into --out and plot")
    ap.add_argument("--no-timing", action="store_true")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dens_path = os.path.join(os.path.dirname(args.out), os.path.basename(args.out).replace(".json", "_densities.pt"))
    if args.merge:
        rows, ratio, densities = [], None, {}
        for f in args.merge:
            with open(f) as fh:
                part = json.load(fh)
            rows += part["runs"]
            ratio = ratio or part.get("step_ratio")
            dp = f.replace(".json", "_densities.pt")
            if os.path.exists(dp):
                densities.update(torch.load(dp, weights_only=False))
        results = dict(options=part["options"], runs=rows, summary=summarise(rows), step_ratio=ratio)
    else:
        opts = QUICK if args.quick else OPTIONS
        rows, densities = [], {}
        for s in args.symmetries:
            for m in args.models:
                for seed in range(args.seeds):
                    row, net = run_one(s, m, seed, opts)
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    if m == "partial" and seed == 0:
                        densities[s] = {k: d.cpu().eval() for k, d in net.densities().items()}
        ratio = None if args.no_timing else step_ratios(opts)
        results = dict(options=opts, runs=rows, summary=summarise(rows), step_ratio=ratio)
    print_tables(results)
    if args.quick:
        return
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(results, fh, indent=1)
    if not args.merge:
        torch.save(densities, dens_path)
    print(f"wrote {args.out}")
    plot(
        results,
        densities,
        os.path.join(HERE, "..", "docs", "partial.png"),
        os.path.join(HERE, "..", "docs", "partial_densities.png"),
    )


if __name__ == "__main__":
    main()
