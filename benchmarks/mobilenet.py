"""The equivariant MobileNetV2 for histopathology (Mohamed, Cesa, Cohen & Welling 2020) against
the plain MobileNetV2 of the same layout, at equal parameters and at equal compute, on the
synthetic PCam-format set (96x96 RGB, ``make_synthetic_pcam(difficulty='hard')``, a small
training set) and on rotated MNIST (29x29); then the deployment of the trained models: plain
torch, TorchScript, int8 by post-training quantisation and by quantisation-aware training, ONNX
float and int8 run by onnxruntime, each with its accuracy, AUC, D4 invariance error,
multiply-adds, CPU latency (one thread) and peak memory.

Writes benchmarks/results/mobilenet.json and docs/mobilenet.png.

    python benchmarks/mobilenet.py                  # everything (~35 min on 2 cores)
    python benchmarks/mobilenet.py --part pcam      # one part: pcam | mnist | deploy (merged into the json)
    python benchmarks/mobilenet.py --report         # tables and figure from the saved json
    python benchmarks/mobilenet.py --quick          # a smoke run (tiny, results not saved)
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from steerable.data import RotatedMNIST, make_synthetic_pcam
from steerable.models import count_parameters
from steerable.pcam import build_pcam_model, deploy_model, evaluate_pcam, load_split, train_pcam
from steerable.training import Trainer, count_macs, export_model

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "mobilenet.json"
FIGURE = ROOT / "docs" / "mobilenet.png"
CACHE = ROOT / "benchmarks" / ".cache"

# name -> (model spec, match): every plain model is matched to D4 at the same width
PCAM_MODELS = {
    "D4": ("D4", None),
    "C4": ("C4", None),
    "C8": ("C8", None),
    "D8": ("D8", None),
    "D4 quotient": ("D4:quotient", None),
    "D8|C4": ("D8|C4", None),
    "plain (= params)": ("plain", "params"),
    "plain (= compute)": ("plain", "compute"),
}
MNIST_MODELS = ("D4", "C8", "plain (= params)", "plain (= compute)")
DEPLOYED = {"D4": "d4", "plain (= params)": "plain-params", "plain (= compute)": "plain-compute"}  # name -> file


def build(name: str, width: float, **kw) -> torch.nn.Module:
    spec, match = PCAM_MODELS[name]
    if match is None:
        return build_pcam_model(spec, width, **kw)
    return build_pcam_model("plain", width, match="D4", match_by=match, **kw)


def load() -> dict:
    return json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}


def save(results: dict, part: str) -> None:
    """Write ``results[part]`` into the json, keeping the other parts (parts may run concurrently)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    merged = load()
    merged[part] = results[part]
    tmp = RESULTS.with_suffix(f".{part}.tmp")
    tmp.write_text(json.dumps(merged, indent=1) + "\n")
    tmp.replace(RESULTS)


def pcam_part(args, results: dict) -> None:
    data = CACHE / ("pcam-quick" if args.quick else "pcam-hard")
    if not (data / "camelyonpatch_level_2_split_test_y.h5").is_file():
        make_synthetic_pcam(data, args.n_train, 256, args.n_test, seed=0, difficulty="hard")
    train, test = load_split(data, "train", args.n_train), load_split(data, "test", args.n_test)
    key = "pcam" if args.n_train == 512 else f"pcam_n{args.n_train}"  # other training-set sizes: their own table
    out = results.setdefault(key, {"setup": {}, "runs": {}})
    out["setup"] = dict(n_train=args.n_train, n_test=args.n_test, epochs=args.epochs, width=args.width, lr=args.lr)
    for seed in range(args.seeds):
        for name in args.models or PCAM_MODELS:
            torch.manual_seed(seed)
            model = build(name, args.width)
            t0 = time.perf_counter()
            train_pcam(model, train, None, epochs=args.epochs, lr=args.lr, seed=seed)
            seconds = time.perf_counter() - t0
            r = evaluate_pcam(model, *test)
            r.update(
                seconds=seconds,
                parameters=count_parameters(model),
                macs=count_macs(export_model(model), test[0][:1]),
            )
            out["runs"].setdefault(name, {})[str(seed)] = r
            print(
                f"pcam seed {seed} {name:<18} acc {r['accuracy']:.4f} AUC {r['auc']:.4f} "
                f"params {r['parameters']:>8,} MACs {r['macs'] / 1e6:6.1f}M  {seconds:5.0f}s",
                flush=True,
            )
            if seed == 0 and name in DEPLOYED and key == "pcam" and not args.quick:
                CACHE.mkdir(exist_ok=True)
                torch.save(model.state_dict(), CACHE / f"pcam-{DEPLOYED[name]}.pt")
            if not args.quick:
                save(results, key)


def mnist_part(args, results: dict) -> None:
    train_ds, test_ds = RotatedMNIST("train"), RotatedMNIST("test")
    n = 400 if args.quick else len(train_ds)
    x_test, y_test = test_ds.images, test_ds.labels
    out = results.setdefault("mnist", {"setup": {}, "runs": {}})
    out["setup"] = dict(n_train=n, epochs=args.mnist_epochs, width=args.width)
    sub = torch.utils.data.Subset(train_ds, range(n))
    for seed in range(args.seeds):
        for name in MNIST_MODELS:
            torch.manual_seed(seed)
            model = build(name, args.width, in_channels=1, n_classes=10, input_size=29)
            t0 = time.perf_counter()
            Trainer(
                model,
                sub,
                loss=torch.nn.functional.cross_entropy,
                epochs=args.mnist_epochs,
                lr=args.lr,
                seed=seed,
                device="cpu",
                progress=False,
            ).fit()
            seconds = time.perf_counter() - t0
            model.eval()
            with torch.no_grad():
                logits = torch.cat([model(x_test[i : i + 250]) for i in range(0, len(x_test), 250)])
            r = dict(
                accuracy=float((logits.argmax(1) == y_test).double().mean()),
                seconds=seconds,
                parameters=count_parameters(model),
            )
            out["runs"].setdefault(name, {})[str(seed)] = r
            print(
                f"mnist seed {seed} {name:<18} acc {r['accuracy']:.4f} params {r['parameters']:>8,} {seconds:5.0f}s",
                flush=True,
            )
            if not args.quick:
                save(results, "mnist")


def deploy_part(args, results: dict) -> None:
    data = CACHE / ("pcam-quick" if args.quick else "pcam-hard")
    train, test = load_split(data, "train", args.n_train), load_split(data, "test", args.n_test)
    out = results.setdefault("deploy", {})
    for name in DEPLOYED:
        model = build(name, args.width)
        weights = CACHE / f"pcam-{DEPLOYED[name]}.pt"
        if weights.is_file():
            model.load_state_dict(torch.load(weights, weights_only=True))
        else:  # the quick run, or deploy before pcam: a briefly trained model
            train_pcam(model, train, None, epochs=1, lr=args.lr)
        r = deploy_model(
            model,
            train,
            test,
            calibration=min(256, len(train[0])),
            qat_steps=args.qat_steps,
            repeats=5 if args.quick else 30,
        )
        out[name] = r
        for form, f in r["forms"].items():
            print(
                f"deploy {name:<18} {form:<12} acc {f['accuracy']:.4f} AUC {f['auc']:.4f} "
                f"inv {f['d4_invariance']:.1e} {f['latency_ms']:6.2f} ms",
                flush=True,
            )
        if not args.quick:
            save(results, "deploy")


def _mean_std(values) -> str:
    values = list(values)
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def report(results: dict) -> str:
    lines = []
    for key in sorted(k for k in results if k.startswith("pcam")):
        s = results[key]["setup"]
        lines += [
            f"Synthetic PCam (hard), {s['n_train']} training / {s['n_test']} test patches, {s['epochs']} epochs, "
            f"width {s['width']}; mean ± std over seeds",
            "",
            "| model | parameters | MACs / image | test accuracy | test AUC | training time vs plain (= compute) |",
            "|---|---|---|---|---|---|",
        ]
        runs = results[key]["runs"]
        base = statistics.mean(r["seconds"] for r in runs.get("plain (= compute)", {"0": {"seconds": 1}}).values())
        for name, by_seed in runs.items():
            rs = list(by_seed.values())
            lines.append(
                f"| {name.replace('|', chr(92) + '|')} | {rs[0]['parameters']:,} | {rs[0]['macs'] / 1e6:.1f} M | "
                f"{_mean_std(r['accuracy'] for r in rs)} | {_mean_std(r['auc'] for r in rs)} | "
                f"{statistics.mean(r['seconds'] for r in rs) / base:.2f}× |"
            )
        lines.append("")
    if "mnist" in results:
        s = results["mnist"]["setup"]
        lines += [
            f"Rotated MNIST (29×29), {s['n_train']} training digits, {s['epochs']} epochs, width {s['width']}",
            "",
            "| model | parameters | test accuracy |",
            "|---|---|---|",
        ]
        for name, by_seed in results["mnist"]["runs"].items():
            rs = list(by_seed.values())
            lines.append(f"| {name} | {rs[0]['parameters']:,} | {_mean_std(r['accuracy'] for r in rs)} |")
        lines.append("")
    if "deploy" in results:
        lines += [
            "Deployment on synthetic PCam (one CPU thread; latency: median per image at batch 1)",
            "",
            "| model | form | accuracy | AUC | D4 invariance error | MACs | latency ms | vs plain (= compute) float "
            "| peak memory MB |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        ref = results["deploy"].get("plain (= compute)", {}).get("forms", {}).get("float", {}).get("latency_ms")
        for name, r in results["deploy"].items():
            for form, f in r["forms"].items():
                mem = f"{f['peak_memory_mb']:.2f}" if "peak_memory_mb" in f else "–"
                rel = f"{f['latency_ms'] / ref:.2f}×" if ref else "–"
                lines.append(
                    f"| {name} | {form} | {f['accuracy']:.4f} | {f['auc']:.4f} | {f['d4_invariance']:.1e} | "
                    f"{f.get('macs', 0) / 1e6:.1f} M | {f['latency_ms']:.2f} | {rel} | {mem} |"
                )
    return "\n".join(lines)


def plot(results: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    ax = axes[0]
    for name, by_seed in results.get("pcam", {}).get("runs", {}).items():
        rs = list(by_seed.values())
        acc = [r["accuracy"] for r in rs]
        ax.errorbar(
            rs[0]["parameters"],
            statistics.mean(acc),
            yerr=statistics.pstdev(acc),
            fmt="o" if name.startswith("plain") else "s",
            capsize=3,
        )
        ax.annotate(
            name, (rs[0]["parameters"], statistics.mean(acc)), fontsize=8, xytext=(4, 3), textcoords="offset points"
        )
    ax.set_xscale("log")
    ax.set_xlabel("parameters")
    ax.set_ylabel("test accuracy")
    ax.set_title("synthetic PCam: accuracy against parameters")
    ax = axes[1]
    deploy = results.get("deploy", {})
    forms = ["float", "torchscript", "int8_ptq", "int8_qat", "onnx", "onnx_int8"]
    width = 0.8 / max(1, len(deploy))
    for i, (name, r) in enumerate(deploy.items()):
        vals = [r["forms"].get(f, {}).get("latency_ms", 0.0) for f in forms]
        ax.bar([j + i * width for j in range(len(forms))], vals, width, label=name)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(forms))], forms, rotation=20)
    ax.set_ylabel("ms per image (batch 1, one thread)")
    ax.set_title("deployed forms: CPU latency")
    ax.legend(fontsize=8)
    fig.tight_layout()
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURE, dpi=110)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--part", choices=("all", "pcam", "mnist", "deploy"), default="all")
    p.add_argument("--models", nargs="*", choices=list(PCAM_MODELS), help="PCam models (default all)")
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--n-train", type=int, default=512)
    p.add_argument("--n-test", type=int, default=1024)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--mnist-epochs", type=int, default=5)
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--qat-steps", type=int, default=150)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--report", action="store_true", help="only print the tables and draw the figure")
    args = p.parse_args()
    torch.set_num_threads(1)
    results = load()
    if args.report:
        print(report(results))
        plot(results)
        return
    if args.quick:
        args.seeds, args.n_train, args.n_test, args.epochs, args.mnist_epochs, args.qat_steps = 1, 32, 32, 1, 1, 2
        args.models, args.width, results = args.models or ["D4", "plain (= params)"], 0.25, {}
    if args.part in ("all", "pcam"):
        pcam_part(args, results)
    if args.part in ("all", "mnist"):
        mnist_part(args, results)
    if args.part in ("all", "deploy"):
        deploy_part(args, results)
    print(report(results))
    if not args.quick:
        plot(load())


if __name__ == "__main__":
    main()
