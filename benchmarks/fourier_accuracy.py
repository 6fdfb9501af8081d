"""Accuracy against the number of group samples: fixed grids vs adaptive sampling for Fourier ELUs.

The ``fourier_sampling`` task (``steerable train --task fourier_sampling``) trains the same network
with a fixed grid or with adaptive sampling (``AdaptiveFourierELU``: the grid follows a frame
predicted from the input) on

- ``mnist``: rotated MNIST, SO(2)-steerable CNN, fields band-limited to frequency 3, regular
  grids of N rotations;
- ``shapes``: rotated 3-D point clouds (ten shapes), SO(3) point convolutions, spherical fields
  of degrees 0..2, Thomson grids of N points on the sphere;

for several N and seeds. For every run: test accuracy, and the invariance error of the logits
under random continuous rotations (MNIST: including the bilinear interpolation of the rotated
image, the same for every model). Per configuration (seed 0): the peak memory of one training
step above its start (torch.profiler memory timeline) and its time ÷ that of a plain torch
model of the same widths (MNIST: ``Conv2d`` + ``BatchNorm2d`` + ELU + pooling with the same
channel counts; shapes: the fixed grid with the most samples), interleaved in one process.

Writes ``benchmarks/results/fourier_accuracy.json`` (``--merge`` joins files of runs made in
parallel, e.g. one per data set), prints a markdown table and draws
``docs/adaptive_fourier_accuracy.png``.

Run: ``.venv/bin/python benchmarks/fourier_accuracy.py --datasets mnist --threads 1`` (``--quick``
for a smoke run; ``--seeds``, ``--fixed``, ``--adaptive`` for the sample counts).
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
sys.path.insert(0, os.path.dirname(__file__))

from fourier import _best_ratio, _peak_bytes

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = {
    "mnist": dict(fixed=[4, 8, 16, 32], adaptive=[2, 4, 8]),
    "shapes": dict(fixed=[8, 16, 32, 64], adaptive=[4, 8]),
}
OPTIONS = {
    "mnist": dict(epochs=6),
    "shapes": dict(epochs=10, n_train=1500, n_test=500),
}
QUICK = {
    "mnist": dict(epochs=1, limit=256),
    "shapes": dict(epochs=1, n_train=64, n_test=32, n_points=32),
}


class PlainCNN(torch.nn.Module):
    """Plain torch counterpart of ``SO2FourierNet`` (same channel counts, ELU instead of the
    Fourier ELU)."""

    def __init__(self, channels):
        super().__init__()
        layers: list = []
        c_in = 1
        for i, c in enumerate(channels):
            layers += [torch.nn.Conv2d(c_in, c, 5, padding=2, bias=False), torch.nn.BatchNorm2d(c), torch.nn.ELU()]
            if i < len(channels) - 1:
                layers.append(torch.nn.AvgPool2d(2, ceil_mode=True))
            c_in = c
        layers.append(torch.nn.Conv2d(c_in, 32, 3, padding=1))
        self.body = torch.nn.Sequential(*layers)
        self.head = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ELU(), torch.nn.Linear(64, 10))

    def forward(self, x):
        return self.head(self.body(x).mean((2, 3)))


def _step(model, x, y):
    opt = torch.optim.SGD(model.parameters(), lr=1e-4)

    def f():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    return f


def _batch(task, n):
    data = task.train_data()
    xs, ys = zip(*(data[i] for i in range(n)))
    return torch.stack(xs), torch.as_tensor(ys)


def bench(dataset: str, seeds: int, quick: bool, samples: dict) -> list[dict]:
    from steerable.training import fit_task, get_task, invariance_error

    options = dict(OPTIONS[dataset], **(QUICK[dataset] if quick else {}))
    configs = [(s, n) for s in ("fixed", "adaptive") for n in samples[s]]
    rows = []
    for sampling, n in configs:
        runs = []
        for seed in range(seeds):
            t0 = time.perf_counter()
            res = fit_task(
                "fourier_sampling",
                dataset=dataset,
                sampling=sampling,
                samples=n,
                seed=seed,
                device="cpu",
                progress=False,
                **options,
            )
            wall = time.perf_counter() - t0
            task = get_task("fourier_sampling")(**res.plan)
            test = task.eval_data()["test"]
            x = torch.stack([test[i][0] for i in range(min(64, len(test)))])
            runs.append(
                dict(
                    seed=seed,
                    test_acc=float(res.last["test_acc"]),
                    invariance=invariance_error(res.model, x, dataset),
                    wall_s=wall,
                )
            )
            print(
                f"  {dataset} {sampling} N={n} seed {seed}: acc {runs[-1]['test_acc']:.3f}, "
                f"invariance {runs[-1]['invariance']:.2e} ({wall:.0f} s)",
                flush=True,
            )
        model = res.model.train()
        xb, yb = _batch(task, res.plan["batch_size"])
        row = dict(
            sampling=sampling,
            samples=n,
            runs=runs,
            params=sum(p.numel() for p in model.parameters()),
            peak_mb=_peak_bytes(_step(model, xb, yb)) / 2.0**20,
        )
        if dataset == "mnist":
            plain = PlainCNN(_plain_widths(model)).train()
            t_m, t_p = _best_ratio([_step(model, xb, yb), _step(plain, xb, yb)], 3 if quick else 10)
            row["step_ratio"] = t_m / t_p
            row["ratio_vs"] = "plain CNN"
        rows.append(row)
    if dataset == "shapes":  # vs the fixed grid with the most samples
        _shapes_ratios(rows, options, quick)
    return rows


def remeasure(dataset: str, rows: list[dict], quick: bool) -> None:
    """Recompute the cost columns (peak memory, step ratio) of earlier rows on freshly built
    models (they do not depend on the training), e.g. after an optimisation of the layers."""
    from steerable.training import get_task

    options = dict(OPTIONS[dataset], **(QUICK[dataset] if quick else {}))
    for r in rows:
        task = get_task("fourier_sampling")(dataset=dataset, sampling=r["sampling"], samples=r["samples"], **options)
        torch.manual_seed(0)
        model = task.build_model().train()
        xb, yb = _batch(task, task.plan["batch_size"])
        r["peak_mb"] = _peak_bytes(_step(model, xb, yb)) / 2.0**20
        if dataset == "mnist":
            plain = PlainCNN(_plain_widths(model)).train()
            t_m, t_p = _best_ratio([_step(model, xb, yb), _step(plain, xb, yb)], 3 if quick else 10)
            r["step_ratio"] = t_m / t_p
        print(f"  {dataset} {r['sampling']} N={r['samples']}: {r['peak_mb']:.0f} MB", flush=True)
    if dataset == "shapes":
        _shapes_ratios(rows, options, quick)


def _plain_widths(model) -> list[int]:
    from steerable import nn

    return [m.out_type.size for m in model.body if isinstance(m, nn.R2Conv)][:-1]


def _shapes_ratios(rows: list[dict], options: dict, quick: bool) -> None:
    from steerable.training import get_task

    ref = max((r for r in rows if r["sampling"] == "fixed"), key=lambda r: r["samples"])
    task = get_task("fourier_sampling")(dataset="shapes", **options)
    xb, yb = _batch(task, task.plan["batch_size"])
    torch.manual_seed(0)
    ref_model = get_task("fourier_sampling")(
        dataset="shapes", sampling="fixed", samples=ref["samples"], **options
    ).build_model()
    for r in rows:
        torch.manual_seed(0)
        m = get_task("fourier_sampling")(
            dataset="shapes", sampling=r["sampling"], samples=r["samples"], **options
        ).build_model()
        t_m, t_p = _best_ratio([_step(m, xb, yb), _step(ref_model, xb, yb)], 3 if quick else 10)
        r["step_ratio"] = t_m / t_p
        r["ratio_vs"] = f"fixed N={ref['samples']}"


# ------------------------------------------------------------------------------------ output
def _acc(row) -> str:
    v = [r["test_acc"] for r in row["runs"]]
    return f"{np.mean(v):.3f} ± {np.std(v):.3f}" if len(v) > 1 else f"{v[0]:.3f}"


def table(results: dict) -> str:
    out = [
        "| data set | sampling | N | test accuracy (3 seeds) | logit invariance error | peak MB / step | step ÷ baseline |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for ds, rows in results.items():
        for r in rows:
            inv = np.mean([x["invariance"] for x in r["runs"]])
            out.append(
                f"| {ds} | {r['sampling']} | {r['samples']} | {_acc(r)} | {inv:.1e} | {r['peak_mb']:.0f} | "
                f"{r.get('step_ratio', float('nan')):.2f} ({r.get('ratio_vs', '')}) |"
            )
    return "\n".join(out)


def plot(results: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = {"mnist": "rotated MNIST, SO(2), L=3", "shapes": "rotated 3-D shapes, SO(3) sphere, L=2"}
    fig, axes = plt.subplots(2, len(results), figsize=(5 * len(results), 6.5), squeeze=False, sharex="col")
    for k, (ds, rows) in enumerate(results.items()):
        for sampling, style in (("fixed", "o-"), ("adaptive", "s-")):
            rs = sorted((r for r in rows if r["sampling"] == sampling), key=lambda r: r["samples"])
            n = [r["samples"] for r in rs]
            acc = [np.mean([x["test_acc"] for x in r["runs"]]) for r in rs]
            err = [np.std([x["test_acc"] for x in r["runs"]]) for r in rs]
            axes[0, k].errorbar(n, acc, yerr=err, fmt=style, capsize=3, label=sampling)
            axes[1, k].plot(n, [r["peak_mb"] for r in rs], style, label=sampling)
        axes[0, k].set_title(names.get(ds, ds))
        axes[0, k].set_ylabel("test accuracy")
        axes[1, k].set_ylabel("peak MB per training step")
        axes[1, k].set_ylim(bottom=0)
        axes[1, k].set_xlabel("group samples N")
        for ax in axes[:, k]:
            ax.set_xscale("log", base=2)
            ax.grid(alpha=0.3)
            ax.legend()
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", nargs="*", default=["mnist", "shapes"], choices=["mnist", "shapes"])
    p.add_argument("--merge", nargs="*", default=[], help="JSON files of earlier runs (e.g. one per data set)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="tiny data, one epoch (a smoke run)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--fixed", type=int, nargs="*", default=None, help="fixed-grid sample counts (all data sets)")
    p.add_argument("--adaptive", type=int, nargs="*", default=None, help="adaptive sample counts (all data sets)")
    p.add_argument(
        "--remeasure", action="store_true", help="recompute memory and step ratios of the merged rows (no training)"
    )
    p.add_argument("--json", default=os.path.join(HERE, "results", "fourier_accuracy.json"))
    p.add_argument("--plot", default=os.path.join(HERE, "..", "docs", "adaptive_fourier_accuracy.png"))
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    results: dict = {}
    for path in a.merge:
        with open(path) as fh:
            results.update(json.load(fh))
    if a.remeasure:
        for ds, rows in results.items():
            remeasure(ds, rows, a.quick)
        a.datasets = []
    for ds in a.datasets:
        samples = dict(SAMPLES[ds])
        if a.fixed is not None:
            samples["fixed"] = a.fixed
        if a.adaptive is not None:
            samples["adaptive"] = a.adaptive
        print(f"{ds}: fixed N={samples['fixed']}, adaptive N={samples['adaptive']}, {a.seeds} seeds", flush=True)
        results[ds] = bench(ds, a.seeds, a.quick, samples)
    os.makedirs(os.path.dirname(a.json), exist_ok=True)
    with open(a.json, "w") as fh:
        json.dump(results, fh, indent=1)
    print(table(results))
    plot(results, a.plot)
    print(f"wrote {a.json} and {a.plot}")


if __name__ == "__main__":
    main()
