"""Implicit steerable kernels (``nn.Implicit*Conv``) against the analytic basis and plain torch.

Three parts, each in one process:

1. ``layers``: build time of the layer, training-step time (forward + backward) of the implicit
   and the analytic convolution as a ratio of a plain ``torch.nn.Conv{2,3}d`` of the same shape
   (interleaved repetitions, medians), and the kernel's equivariance error for random elements of
   the (continuous) group in float32: ``max |k(gx) − ρ_out(g) k(x) ρ_in(g)ᵀ| / max |k|``.
2. ``nbody``: the charged N-body task (task ``nbody``: 5 particles, positions after 1000 steps,
   3000 training / 2000 test systems from the seeded simulator) for the implicit point
   convolution, the analytic ``R3PointConv``, plain GNN and MLP baselines (and e3nn when it is
   installed): test MSE over ``--seeds`` seeds (mean ± std), MSE on the test set turned by random
   rotations and translations, the trained model's equivariance error, parameters, training-step
   time ÷ the plain GNN's.
3. ``shapes``: rotated 3D shape classification (task ``shapes3d``: 10 parametric classes, poses
   from SO(3), O(3) or SO(2) about z) with implicit vs analytic kernels: test accuracy over the
   seeds, parameters, seconds per epoch.

Writes ``benchmarks/results/implicit.json``, prints markdown tables, and draws
``docs/implicit.png``. Run::

    .venv/bin/python benchmarks/implicit.py [--parts layers nbody shapes] [--seeds 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from steerable import gspaces, nn

HERE = os.path.dirname(os.path.abspath(__file__))


# ------------------------------------------------------------------------------------- layers
def _median_times(fns, reps: int) -> list[float]:
    for f in fns:
        f()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(reps):
        for i, f in enumerate(fns):
            t = time.perf_counter()
            f()
            times[i].append(time.perf_counter() - t)
    return [statistics.median(t) for t in times]


def _kernel_error(src, gs, t_in, t_out, n_elements: int = 8) -> float:
    x = torch.randn(64, gs.dimensionality)
    worst = 0.0
    with torch.no_grad():
        for g in gs.fibergroup.sample(n_elements, seed=0):
            R = torch.as_tensor(gs.basespace_matrix(g), dtype=torch.float32)
            A = torch.as_tensor(t_out.representation(g), dtype=torch.float32)
            B = torch.as_tensor(t_in.representation(g), dtype=torch.float32)
            k, kg = src.kernel(x), src.kernel(x @ R.T)
            pred = torch.einsum("oa,gabs,cb->gocs", A, k, B)
            worst = max(worst, float((kg - pred).abs().max() / k.abs().max()))
    return worst


def _layer_cases(quick: bool):
    s2, s3 = (24, 10) if quick else (32, 12)
    gs = gspaces.rot2dOnR2(8)
    yield "C8 on images, 4 regular fields, k=5", gs, [gs.regular_repr] * 4, 2, 5, (8, s2)
    gs = gspaces.rot3dOnR3(maximum_frequency=2)
    yield "SO(3) on voxels, irreps 0,1,2 ×2, k=5", gs, [gs.irrep(0), gs.irrep(1), gs.irrep(2)] * 2, 3, 5, (4, s3)
    gs = gspaces.rot2dOnR3(-1, maximum_frequency=2)
    yield (
        "SO(2) about z on voxels, irreps 0,1,2 ×2, k=5",
        gs,
        [gs.irrep(0), gs.irrep(1), gs.irrep(2)] * 2,
        3,
        5,
        (4, s3),
    )


def bench_layers(quick: bool) -> list[dict]:
    rows = []
    reps = 5 if quick else 15
    for name, gs, reps_list, d, k, (batch, size) in _layer_cases(quick):
        t = nn.FieldType(gs, reps_list)
        Conv = nn.R2Conv if d == 2 else nn.R3Conv
        Implicit = nn.ImplicitR2Conv if d == 2 else nn.ImplicitR3Conv
        t0 = time.perf_counter()
        analytic = Conv(t, t, k, padding=k // 2)
        t_analytic = time.perf_counter() - t0
        t0 = time.perf_counter()
        implicit = Implicit(t, t, k, padding=k // 2, hidden_channels=8)
        t_implicit = time.perf_counter() - t0
        plain = (torch.nn.Conv2d if d == 2 else torch.nn.Conv3d)(t.size, t.size, k, padding=k // 2)
        x = torch.randn(batch, t.size, *(size,) * d)
        gx = t(x)

        def step(m, inp):
            def f():
                m.zero_grad(set_to_none=True)
                out = m(inp)
                (out.tensor if isinstance(out, nn.GeometricTensor) else out).square().mean().backward()

            return f

        tp, ta, ti = _median_times([step(plain, x), step(analytic, gx), step(implicit, gx)], reps)
        n_params = lambda m: sum(p.numel() for p in m.parameters())
        row = dict(
            case=name,
            build_analytic_s=t_analytic,
            build_implicit_s=t_implicit,
            step_analytic_ratio=ta / tp,
            step_implicit_ratio=ti / tp,
            params_analytic=n_params(analytic),
            params_implicit=n_params(implicit),
            kernel_equivariance_error=_kernel_error(implicit.kernel_source, gs, t, t),
            conv_equivariance_error=max(e for _, e in implicit.check_equivariance(atol=1e-4, rtol=1e-4)),
        )
        rows.append(row)
        print(
            f"  {name}: build {t_analytic * 1e3:.0f} ms analytic / {t_implicit * 1e3:.0f} ms implicit; step "
            f"{ta / tp:.2f}x / {ti / tp:.2f}x plain; kernel err {row['kernel_equivariance_error']:.1e}",
            flush=True,
        )
    return rows


# ------------------------------------------------------------------------------------- tasks
def _equivariance_error_nbody(model, data, n: int = 64) -> float:
    """max over random rotations of |f(R x) − R f(x)| / max |f(x)| on ``n`` test systems."""
    from steerable.data import random_rotations

    x = torch.stack([data[i][0] for i in range(min(n, len(data)))])
    worst = 0.0
    with torch.no_grad():
        y = model(x)
        for R in random_rotations(4, seed=5):
            r = torch.as_tensor(R, dtype=x.dtype)
            xr = torch.cat([x[..., :3] @ r.T, x[..., 3:6] @ r.T, x[..., 6:]], -1)
            worst = max(worst, float((model(xr) - y @ r.T).abs().max() / y.abs().max()))
    return worst


def _step_time(model, data, batch: int, reps: int, loss_fn) -> float:
    loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=False)
    xb, yb = next(iter(loader))
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    model.train()

    def f():
        opt.zero_grad(set_to_none=True)
        loss_fn(model(xb), yb).backward()
        opt.step()

    return _median_times([f], reps)[0]


def bench_nbody(seeds: int, quick: bool, options: dict) -> list[dict]:
    import steerable.training._task_nbody  # noqa: F401  (registers the task)
    from steerable.training import fit_task, get_task

    models = ["implicit", "analytic", "gnn", "mlp"]
    try:
        import e3nn  # noqa: F401

        models.append("e3nn")
    except ImportError:
        print("  e3nn is not installed: its row is left out (optional comparison)")
    rows = []
    for m in models:
        runs = []
        for s in range(seeds):
            t0 = time.perf_counter()
            res = fit_task("nbody", model=m, seed=s, device="cpu", progress=False, **options)
            wall = time.perf_counter() - t0
            task = get_task("nbody")(**res.plan)
            test = task.eval_data()["test"]
            runs.append(
                dict(
                    seed=s,
                    test_mse=float(res.last["test_mse"]),
                    rotated_mse=float(res.last.get("rotated_mse", float("nan"))),
                    equivariance_error=_equivariance_error_nbody(res.model, test),
                    wall_s=wall,
                    params=sum(p.numel() for p in res.model.parameters()),
                    step_s=_step_time(res.model, test, res.plan["batch_size"], 5 if quick else 15, task.loss),
                )
            )
            print(f"  nbody {m} seed {s}: test mse {runs[-1]['test_mse']:.4g} ({wall:.0f} s)", flush=True)
        rows.append(dict(model=m, runs=runs))
    base = statistics.median(r["step_s"] for row in rows if row["model"] == "gnn" for r in row["runs"])
    for row in rows:
        row["step_ratio_vs_gnn"] = statistics.median(r["step_s"] for r in row["runs"]) / base
    return rows


def bench_shapes(seeds: int, quick: bool, options: dict, groups=("so3", "o3", "so2z")) -> list[dict]:
    import steerable.training._task_shapes  # noqa: F401  (registers the task)
    from steerable.training import fit_task

    rows = []
    for group in groups:
        for kernel in ("implicit", "analytic"):
            runs = []
            for s in range(seeds):
                t0 = time.perf_counter()
                res = fit_task("shapes3d", group=group, kernel=kernel, seed=s, device="cpu", progress=False, **options)
                wall = time.perf_counter() - t0
                runs.append(
                    dict(
                        seed=s,
                        test_acc=float(res.last["test_acc"]),
                        wall_s=wall,
                        epoch_s=wall / max(1, res.plan["epochs"]),
                        params=sum(p.numel() for p in res.model.parameters()),
                    )
                )
                print(f"  shapes {group} {kernel} seed {s}: acc {runs[-1]['test_acc']:.3f} ({wall:.0f} s)", flush=True)
            rows.append(dict(group=group, kernel=kernel, runs=runs))
    return rows


# ------------------------------------------------------------------------------------ output
def _ms(values) -> str:
    v = list(values)
    return f"{np.mean(v):.4g} ± {np.std(v):.2g}" if len(v) > 1 else f"{v[0]:.4g}"


def tables(results: dict) -> str:
    out = []
    if "layers" in results:
        out += [
            "| layer | build analytic / implicit | train step ÷ plain conv: analytic / implicit | params analytic / implicit | kernel equivariance error (random g, fp32) |",
            "|---|---|---|---|---|",
        ]
        for r in results["layers"]:
            out.append(
                f"| {r['case']} | {r['build_analytic_s'] * 1e3:.0f} ms / {r['build_implicit_s'] * 1e3:.0f} ms | "
                f"{r['step_analytic_ratio']:.2f}× / {r['step_implicit_ratio']:.2f}× | "
                f"{r['params_analytic']} / {r['params_implicit']} | {r['kernel_equivariance_error']:.1e} |"
            )
        out.append("")
    if "nbody" in results:
        out += [
            "| N-body model | test MSE | rotated test MSE | equivariance error | params | train step ÷ GNN |",
            "|---|---|---|---|---|---|",
        ]
        for r in results["nbody"]:
            runs = r["runs"]
            out.append(
                f"| {r['model']} | {_ms(x['test_mse'] for x in runs)} | {_ms(x['rotated_mse'] for x in runs)} | "
                f"{max(x['equivariance_error'] for x in runs):.1e} | {runs[0]['params']} | "
                f"{r['step_ratio_vs_gnn']:.2f}× |"
            )
        out.append("")
    if "shapes" in results:
        out += [
            "| shapes: group | implicit accuracy | analytic accuracy | params implicit / analytic | s/epoch implicit / analytic |"
        ]
        out += ["|---|---|---|---|---|"]
        by = {(r["group"], r["kernel"]): r["runs"] for r in results["shapes"]}
        for g in ("so3", "o3", "so2z"):
            if (g, "implicit") not in by:
                continue
            i, a = by[(g, "implicit")], by[(g, "analytic")]
            out.append(
                f"| {g} | {_ms(x['test_acc'] for x in i)} | {_ms(x['test_acc'] for x in a)} | "
                f"{i[0]['params']} / {a[0]['params']} | {np.mean([x['epoch_s'] for x in i]):.1f} / "
                f"{np.mean([x['epoch_s'] for x in a]):.1f} |"
            )
    return "\n".join(out)


def plot(results: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [p for p in ("nbody", "shapes") if p in results]
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.8), squeeze=False)
    for ax, part in zip(axes[0], panels):
        if part == "nbody":
            rows = results["nbody"]
            names = [r["model"] for r in rows]
            vals = [[x["test_mse"] for x in r["runs"]] for r in rows]
            ax.bar(names, [np.mean(v) for v in vals], yerr=[np.std(v) for v in vals], color="tab:blue", capsize=3)
            ax.set_yscale("log")
            ax.set_ylabel("test MSE (log)")
            ax.set_title("charged N-body: positions after 1000 steps")
        else:
            rows = results["shapes"]
            groups = [g for g in ("so3", "o3", "so2z") if any(r["group"] == g for r in rows)]
            w = 0.38
            for j, kernel in enumerate(("implicit", "analytic")):
                vals = [
                    [x["test_acc"] for r in rows if r["group"] == g and r["kernel"] == kernel for x in r["runs"]]
                    for g in groups
                ]
                ax.bar(
                    np.arange(len(groups)) + (j - 0.5) * w,
                    [np.mean(v) for v in vals],
                    w,
                    yerr=[np.std(v) for v in vals],
                    label=kernel,
                    capsize=3,
                )
            ax.set_xticks(np.arange(len(groups)), groups)
            ax.set_ylim(0, 1)
            ax.set_ylabel("test accuracy")
            ax.set_title("rotated 3D shapes (10 classes)")
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parts", nargs="*", default=["layers", "nbody", "shapes"], choices=["layers", "nbody", "shapes"])
    p.add_argument("--merge", nargs="*", default=[], help="JSON files of earlier runs (e.g. parts run in parallel)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="small data and few epochs (a smoke run)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--nbody-epochs", type=int, default=None)
    p.add_argument("--shapes-epochs", type=int, default=None)
    p.add_argument("--shapes-groups", nargs="+", default=["so3", "o3", "so2z"], choices=["so3", "o3", "so2z"])
    p.add_argument("--json", default=os.path.join(HERE, "results", "implicit.json"))
    p.add_argument("--plot", default=os.path.join(HERE, "..", "docs", "implicit.png"))
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    results: dict = {"threads": torch.get_num_threads(), "quick": a.quick}
    merged: set = set()
    if os.path.exists(a.json):  # keep the parts not rerun
        with open(a.json) as fh:
            old = json.load(fh)
        results.update({k: v for k, v in old.items() if k in ("layers", "nbody", "shapes")})
    for path in a.merge:  # parts run separately; their shape rows are concatenated
        with open(path) as fh:
            part = json.load(fh)
        for k in ("layers", "nbody", "shapes"):
            if k in part:
                results[k] = part[k] if k != "shapes" or k not in merged else results[k] + part[k]
                merged.add(k)
    if "layers" in a.parts:
        print("layers")
        results["layers"] = bench_layers(a.quick)
    if "nbody" in a.parts:
        print("nbody")
        opts = dict(n_train=200, n_test=100, epochs=2) if a.quick else {"epochs": 10}
        if a.nbody_epochs:
            opts["epochs"] = a.nbody_epochs
        results["nbody"] = bench_nbody(a.seeds, a.quick, opts)
    if "shapes" in a.parts:
        print("shapes")
        opts = dict(n_train=100, n_test=50, epochs=1) if a.quick else {}
        if a.shapes_epochs:
            opts["epochs"] = a.shapes_epochs
        results["shapes"] = bench_shapes(a.seeds, a.quick, opts, a.shapes_groups)
    os.makedirs(os.path.dirname(a.json), exist_ok=True)
    with open(a.json, "w") as fh:
        json.dump(results, fh, indent=1)
    print(tables(results))
    plot(results, a.plot)


if __name__ == "__main__":
    main()
