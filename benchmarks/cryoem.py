"""Amortised cryo-EM pose inference: a plain CNN encoder with and without cryoAI's symmetric
loss against a D4-equivariant encoder without it (de Ruijter & Cesa 2024), several seeds each,
on simulated particles (64x64, Haar-random poses, shifts, CTF, noise).

Reports per configuration the fraction of runs that converge (median rotation error after
global alignment below a threshold), the steps to converge, the final median rotation and shift
errors and the resolution at FSC 0.5 / 0.143; writes benchmarks/results/cryoem.json and
docs/cryoem.png (rotation error during training, FSC curves, central slices).

    python benchmarks/cryoem.py                       # the README's table (5 seeds, ~1 h on 2 cores)
    python benchmarks/cryoem.py --quick               # a smoke run (tiny)
    python benchmarks/cryoem.py --configs D8 --merge  # add a configuration to the saved results
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import time
from pathlib import Path

import torch

from steerable.cryoem import make_molecule, pose_encoder, reconstruct, simulate_particles

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {  # name -> (encoder group, symmetric loss)
    "plain": ("trivial", False),
    "plain+sym": ("trivial", True),
    "D4": ("D4", False),
    "D4+sym": ("D4", True),
    "C8": ("C8", False),
    "D8": ("D8", False),
}


def run_one(job: dict) -> dict:
    torch.set_num_threads(1)
    group, sym = CONFIGS[job["config"]]
    mol = make_molecule(job["molecule"], job["atoms"])
    stack = simulate_particles(mol, job["particles"], size=job["size"], snr=job["snr"], seed=1000 + job["seed"])
    torch.manual_seed(job["seed"])
    enc = pose_encoder(group, size=job["size"])
    t0 = time.perf_counter()
    rec = reconstruct(
        stack,
        enc,
        steps=job["steps"],
        batch_size=job["batch_size"],
        symmetric_loss=sym,
        eval_every=job["eval_every"],
        eval_size=512,
        converged_degrees=job["threshold"],
        true_volume=mol.volume(job["size"]),
        seed=job["seed"],
    )
    mid = job["size"] // 2
    return {
        **job,
        "parameters": sum(p.numel() for p in enc.parameters()),
        "converged_step": rec.converged_step,
        "rotation_median": rec.final.rotation_median,
        "rotation_mean": rec.final.rotation_mean,
        "shift_median": rec.final.shift_median,
        "within_15": float((rec.final.errors < 15).double().mean()),
        "beyond_150": float((rec.final.errors > 150).double().mean()),
        "rotated_fraction": rec.final.rotated_fraction,
        "mirrored": rec.final.flipped,
        "resolution_05": rec.resolution_05,
        "resolution_0143": rec.resolution_0143,
        "fsc": [float(c) for c in rec.fsc_curve],
        "curve": [(h["step"], h["rotation_median"]) for h in rec.history],
        "slice": rec.aligned_volume[:, :, mid].tolist(),
        "truth_slice": mol.volume(job["size"])[:, :, mid].tolist(),
        "seconds": time.perf_counter() - t0,
    }


def compact(runs: list[dict]) -> list[dict]:
    """Keep the reconstruction slice of the best run of each configuration (and one truth slice),
    rounded: what the figure shows, without megabytes of JSON."""
    best = {}
    for r in runs:
        if "slice" in r and (r["config"] not in best or r["rotation_median"] < best[r["config"]]["rotation_median"]):
            best[r["config"]] = r
    keep_truth = True
    for r in runs:
        if r is not best.get(r["config"]):
            r.pop("slice", None)
        elif "slice" in r:
            r["slice"] = [[round(v, 3) for v in row] for row in r["slice"]]
        if "truth_slice" in r:
            if keep_truth:
                r["truth_slice"] = [[round(v, 3) for v in row] for row in r["truth_slice"]]
                keep_truth = False
            else:
                r.pop("truth_slice")
        r["fsc"] = [round(v, 4) for v in r["fsc"]]
    return runs


def summarise(runs: list[dict]) -> list[dict]:
    rows = []
    for name in CONFIGS:
        rs = [r for r in runs if r["config"] == name]
        if not rs:
            continue
        conv = [r["converged_step"] for r in rs if r["converged_step"] is not None]
        rows.append(
            {
                "config": name,
                "runs": len(rs),
                "parameters": rs[0]["parameters"],
                "converged": f"{len(conv)}/{len(rs)}",
                "steps_to_converge": statistics.median(conv) if conv else None,
                "rotation_median": statistics.median(r["rotation_median"] for r in rs),
                "shift_median": statistics.median(r["shift_median"] for r in rs),
                "within_15": statistics.median(r["within_15"] for r in rs),
                "beyond_150": statistics.median(r["beyond_150"] for r in rs),
                "resolution_05": statistics.median(r["resolution_05"] for r in rs),
                "resolution_0143": statistics.median(r["resolution_0143"] for r in rs),
                "seconds": statistics.median(r["seconds"] for r in rs),
            }
        )
    return rows


def table(rows: list[dict]) -> str:
    head = (
        "| encoder | params | converged | steps to converge | rotation error (median °) | poses within 15° "
        "| poses off by > 150° | shift error (px) | resolution FSC 0.5 (Å) | FSC 0.143 (Å) | s/run |"
    )
    out = [head, "|" + "---|" * 11]
    for r in rows:
        steps = "–" if r["steps_to_converge"] is None else f"{r['steps_to_converge']:.0f}"
        out.append(
            f"| {r['config']} | {r['parameters']:,} | {r['converged']} | {steps} | {r['rotation_median']:.1f} | "
            f"{r['within_15']:.0%} | {r['beyond_150']:.0%} | {r['shift_median']:.2f} | {r['resolution_05']:.1f} | {r['resolution_0143']:.1f} | "
            f"{r['seconds']:.0f} |"
        )
    return "\n".join(out)


def plot(runs: list[dict], path: Path, pixel_size: float = 2.0) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in CONFIGS if any(r["config"] == n for r in runs)]
    colours = dict(zip(names, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    fig, axes = plt.subplots(
        1,
        3 + len(names),
        figsize=(4 * 3 + 2.2 * len(names), 3.4),
        gridspec_kw={"width_ratios": [2, 2, 1] + [1] * len(names)},
    )
    for r in runs:
        steps, err = zip(*r["curve"], strict=True)
        axes[0].plot(steps, err, c=colours[r["config"]], alpha=0.7, label=r["config"] if r["seed"] == 0 else None)
        n = len(r["fsc"])
        f = [i / (2 * (n - 1)) / pixel_size for i in range(n)]
        axes[1].plot(f, r["fsc"], c=colours[r["config"]], alpha=0.7)
    axes[0].axhline(runs[0]["threshold"], ls=":", c="grey")
    axes[0].set(xlabel="training step", ylabel="median rotation error (°)", title="pose error")
    axes[0].legend(fontsize=8)
    for th in (0.5, 0.143):
        axes[1].axhline(th, ls=":", c="grey")
    axes[1].set(xlabel="spatial frequency (1/Å)", ylabel="FSC", title="FSC vs truth", ylim=(-0.1, 1.05))
    truth = next(r["truth_slice"] for r in runs if "truth_slice" in r)
    axes[2].imshow(torch.tensor(truth).T, cmap="gray", origin="lower")
    axes[2].set_title("truth (z = 0)", fontsize=9)
    for ax, name in zip(axes[3:], names, strict=True):
        best = min((r for r in runs if r["config"] == name and "slice" in r), key=lambda r: r["rotation_median"])
        ax.imshow(torch.tensor(best["slice"]).T, cmap="gray", origin="lower")
        ax.set_title(f"{name} (best seed)", fontsize=9)
    for ax in axes[2:]:
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--configs", default="plain,plain+sym,D4", help=f"comma-separated, of {', '.join(CONFIGS)}")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--particles", type=int, default=20000)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--snr", type=float, default=0.1)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--eval-every", type=int, default=200)
    p.add_argument("--threshold", type=float, default=10.0, help="converged: median rotation error below this (°)")
    p.add_argument("--molecule", type=int, default=0)
    p.add_argument("--atoms", type=int, default=64)
    p.add_argument("--workers", type=int, default=2, help="processes (one torch thread each)")
    p.add_argument("--quick", action="store_true", help="a smoke run: 2 seeds, 300 particles, 20 steps")
    p.add_argument("--merge", action="store_true", help="add to / replace in the saved results")
    p.add_argument("--report", action="store_true", help="print the table and redraw the figure of the saved results")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cryoem.json"))
    p.add_argument("--plot", default=str(ROOT / "docs" / "cryoem.png"))
    a = p.parse_args()
    configs = a.configs.split(",")
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        p.error(f"--configs: unknown {unknown}; choose from {', '.join(CONFIGS)}")
    if a.quick:
        a.seeds, a.particles, a.steps, a.eval_every = 2, 300, 20, 10
        a.out, a.plot = "/tmp/cryoem_quick.json", "/tmp/cryoem_quick.png"
    if a.report:
        runs = compact(json.loads(Path(a.out).read_text())["runs"])
        print(table(summarise(runs)))
        plot(runs, Path(a.plot))
        return
    jobs = [
        dict(
            config=c,
            seed=s,
            particles=a.particles,
            size=a.size,
            snr=a.snr,
            steps=a.steps,
            batch_size=a.batch_size,
            eval_every=a.eval_every,
            threshold=a.threshold,
            molecule=a.molecule,
            atoms=a.atoms,
        )
        for c in configs
        for s in range(a.seeds)
    ]
    t0 = time.perf_counter()
    if a.workers > 1:
        with mp.get_context("spawn").Pool(a.workers) as pool:
            runs = []
            for r in pool.imap_unordered(run_one, jobs):
                runs.append(r)
                print(
                    f"{r['config']} seed {r['seed']}: converged at {r['converged_step']}, rotation error "
                    f"{r['rotation_median']:.1f}°, {r['seconds']:.0f} s",
                    flush=True,
                )
    else:
        runs = [run_one(j) for j in jobs]
    out = Path(a.out)
    if a.merge and out.is_file():
        old = json.loads(out.read_text())["runs"]
        runs = [r for r in old if r["config"] not in configs] + runs
    runs.sort(key=lambda r: (list(CONFIGS).index(r["config"]), r["seed"]))
    runs = compact(runs)
    rows = summarise(runs)
    print(table(rows))
    print(f"({len(jobs)} runs in {time.perf_counter() - t0:.0f} s, {a.workers} processes)")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": rows, "runs": runs}, indent=1))
    plot(runs, Path(a.plot))
    print(f"wrote {out} and {a.plot}")


if __name__ == "__main__":
    main()
