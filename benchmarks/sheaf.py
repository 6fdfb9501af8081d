"""Local homology sheaf networks vs GCN and Neural Sheaf Diffusion on node classification
(Cesa & Behboodi, NeurReps 2023, small scale).

Datasets (``steerable.sheaf``):

* ``holey_disk[constant]``: 400 points uniform in the unit disk minus 3 round holes, their
  Delaunay triangulation (the holes get filled with long edges); label: the point lies within
  0.06 of the outer circle or of a hole (≈ 22 %) vs interior. Every node has the feature 1, so the
  label must come from the structure; the persistent sheaf's filtration is the edge lengths.
* ``holey_disk[geometric]``: the same, with the features degree, mean and max incident edge
  length for every model.
* ``karate``: Zachary's karate club (networkx), one-hot features, 30 % of each club labelled,
  the clique complex up to dimension 3; the persistent sheaf is built from distances between
  learned node embeddings, rebuilt every step (``plh-learned``).

Models: ``gcn`` (Kipf & Welling), ``gcn+self`` (GCN with a separate self weight), ``nsd``
(learned 2×2 restriction maps, Bodnar et al. 2022), ``lh`` (sheaf convolution on constant ⊕ local
homology sheaf), ``plh`` (on constant ⊕ persistent local homology sheaf), ``-att`` sheaf attention,
``+self`` a separate self weight. Two layers, 16 channels, Adam (lr 0.01, wd 5e-4), 200 full-batch
epochs, final test accuracy over 5 seeds (a new point sample and split per seed).

Writes ``benchmarks/results/sheaf.json``, prints a markdown table, draws ``docs/sheaf.png``.
Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/sheaf.py`` (``--quick``: one seed, 20 epochs).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from steerable.sheaf import (
    constant_sheaf,
    direct_sum,
    holey_disk,
    karate_club,
    local_homology_sheaf,
    node_classification,
    persistent_local_homology_sheaf,
)

ROOT = Path(__file__).resolve().parents[1]
DISK_MODELS = ["gcn", "gcn+self", "nsd", "lh", "lh+self", "plh", "plh+self", "plh-att+self"]
KARATE_MODELS = ["gcn", "gcn+self", "nsd", "lh", "lh+self", "lh-att", "plh-learned"]


def prebuild(ds) -> tuple[dict, dict]:
    """The sheaves of a dataset, built once, and their construction times."""
    cache, secs = {}, {}
    t = time.perf_counter()
    cache["const"] = constant_sheaf(ds.complex)
    secs["const"] = time.perf_counter() - t
    t = time.perf_counter()
    cache["lh"] = direct_sum(cache["const"], local_homology_sheaf(ds.complex))
    secs["lh"] = time.perf_counter() - t
    if ds.edge_weights is not None:
        t = time.perf_counter()
        cache["plh"] = direct_sum(cache["const"], persistent_local_homology_sheaf(ds.complex, ds.edge_weights))
        secs["plh"] = time.perf_counter() - t
    return cache, secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--points", type=int, default=400)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "sheaf.json"))
    ap.add_argument("--figure", default=str(ROOT / "docs" / "sheaf.png"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.quick:
        a.seeds, a.epochs, a.points = 1, 20, 120
    runs, builds = [], []
    for setting in ("constant", "geometric", "karate"):
        models = KARATE_MODELS if setting == "karate" else DISK_MODELS
        for seed in range(a.seeds):
            if setting == "karate":
                ds, frac = karate_club(), 0.3
            else:
                ds, frac = holey_disk(a.points, holes=3, seed=seed, features=setting), 0.5
            cache, secs = prebuild(ds)
            builds.append({"dataset": ds.name, "seed": seed, "counts": list(ds.complex.counts), **secs})
            for m in models:
                r = node_classification(ds, m, seed=seed, epochs=a.epochs, train_fraction=frac, sheaf_cache=cache)
                runs.append({"dataset": ds.name, **asdict(r)})
                print(f"{ds.name:22s} seed {seed} {m:14s} test {r.test_accuracy:.3f} ({r.seconds:.1f} s)", flush=True)
    table = {}
    for r in runs:
        table.setdefault((r["dataset"], r["model"]), []).append(r)
    summary = []
    for (d, m), rs in table.items():
        acc = np.array([r["test_accuracy"] for r in rs])
        summary.append(
            {
                "dataset": d,
                "model": m,
                "test_mean": float(acc.mean()),
                "test_std": float(acc.std()),
                "train_mean": float(np.mean([r["train_accuracy"] for r in rs])),
                "seconds": float(np.mean([r["seconds"] for r in rs])),
                "parameters": rs[0]["parameters"],
                "seeds": len(rs),
            }
        )
    build_summary = {}
    for b in builds:
        s = build_summary.setdefault(b["dataset"], {"counts": b["counts"], "lh": [], "plh": []})
        for k in ("lh", "plh"):
            if k in b:
                s[k].append(b[k])
    build_summary = {
        d: {"counts": s["counts"], **{k: float(np.mean(v)) for k, v in s.items() if k != "counts" and v}}
        for d, s in build_summary.items()
    }
    out = {"config": vars(a), "summary": summary, "sheaf_build_seconds": build_summary, "runs": runs}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=1))
    print("\n| dataset | model | test accuracy | train accuracy | parameters | s / run |")
    print("|---|---|---|---|---|---|")
    for s in summary:
        print(
            f"| {s['dataset']} | {s['model']} | {s['test_mean']:.3f} ± {s['test_std']:.3f} | {s['train_mean']:.3f} | "
            f"{s['parameters']} | {s['seconds']:.1f} |"
        )
    print("\nsheaf construction (s):", json.dumps(build_summary))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(s["dataset"] for s in summary))
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.6), squeeze=False)
    for ax, d in zip(axes[0], names):
        rows = [s for s in summary if s["dataset"] == d]
        colors = ["tab:gray" if s["model"] in ("gcn", "gcn+self", "nsd") else "tab:blue" for s in rows]
        ax.bar(range(len(rows)), [s["test_mean"] for s in rows], yerr=[s["test_std"] for s in rows], color=colors)
        ax.set_xticks(range(len(rows)), [s["model"] for s in rows], rotation=60, ha="right", fontsize=8)
        lo = min(s["test_mean"] - s["test_std"] for s in rows)
        ax.set_ylim(max(0.0, lo - 0.05), 1.0)
        ax.set_title(d, fontsize=10)
        ax.set_ylabel("test accuracy")
    fig.suptitle(f"node classification, {a.seeds} seeds (grey: baselines, blue: local homology sheaf)", fontsize=10)
    fig.tight_layout()
    fig.savefig(a.figure, dpi=120)


if __name__ == "__main__":
    main()
