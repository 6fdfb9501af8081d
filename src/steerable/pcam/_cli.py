"""``python -m steerable.pcam``: the equivariant MobileNetV2 on Patch Camelyon.

    python -m steerable.pcam make-data --out data/pcam-synthetic --difficulty hard
    python -m steerable.pcam train --data-dir data/pcam-synthetic --model D4 --out runs/d4
    python -m steerable.pcam train --data-dir data/pcam-synthetic --model plain --match D4 --out runs/plain
    python -m steerable.pcam deploy runs/d4 --data-dir data/pcam-synthetic

``--data-dir`` is a folder holding the official PCam files
(``camelyonpatch_level_2_split_{train,valid,test}_{x,y}.h5``, gunzipped), or the synthetic set
``make-data`` writes in the same format. ``train`` writes the run folder (checkpoint, logs,
``model.json``: the model's name and test accuracy/AUC); ``deploy`` writes the plain, TorchScript,
int8 (PTQ, QAT) and ONNX forms beside it with ``deploy.json`` (accuracy, AUC, invariance,
multiply-adds, latency and memory of each form).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from steerable.data import make_synthetic_pcam
from steerable.models import count_parameters

from ._deploy import deploy_model
from ._models import build_pcam_model, parse_model_spec
from ._train import evaluate_pcam, load_split, train_pcam

__all__ = ["main"]

MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.pt"


def _positive(kind):
    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if not v > 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
        return v

    return parse


def _model_name(text: str) -> str:
    try:
        parse_model_spec(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix("model: ")) from None
    return text


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m steerable.pcam",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("make-data", help="write a synthetic data set in PCam's HDF5 format")
    s.add_argument("--out", required=True, help="output folder")
    s.add_argument("--train", type=_positive(int), default=4096, help="training patches (default 4096)")
    s.add_argument("--valid", type=_positive(int), default=512, help="validation patches (default 512)")
    s.add_argument("--test", type=_positive(int), default=1024, help="test patches (default 1024)")
    s.add_argument("--difficulty", choices=("easy", "hard"), default="hard", help="default hard")
    s.add_argument("--seed", type=int, default=0)

    t = sub.add_parser("train", help="train a model; writes the run folder")
    t.add_argument("--data-dir", required=True, help="folder with the PCam HDF5 files (official or synthetic)")
    t.add_argument("--model", type=_model_name, default="D4", help="D4, C4, C8, D8, D4:quotient, D8|C4, plain")
    t.add_argument("--width", type=_positive(float), default=1.0, help="width multiplier (default 1)")
    t.add_argument("--match", type=_model_name, default=None, help="plain only: match this equivariant model")
    t.add_argument("--match-by", choices=("params", "compute"), default="params")
    t.add_argument("--epochs", type=_positive(int), default=5)
    t.add_argument("--batch-size", type=_positive(int), default=64)
    t.add_argument("--lr", type=_positive(float), default=1e-2, help="peak AdamW learning rate (default 1e-2)")
    t.add_argument("--limit", type=_positive(int), default=None, help="use the first N training patches")
    t.add_argument("--test-limit", type=_positive(int), default=None, help="evaluate on the first N test patches")
    t.add_argument("--no-augment", action="store_true", help="no random D4 transformation of training patches")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=_positive(int), default=None, help="torch threads")
    t.add_argument("--out", required=True, help="run folder")
    t.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    t.add_argument("--resume", action="store_true", help="continue the run in --out")

    d = sub.add_parser("deploy", help="export, quantise (PTQ, QAT) and convert to ONNX a trained run")
    d.add_argument("run", help="a run folder written by train")
    d.add_argument("--data-dir", required=True, help="folder with the PCam HDF5 files")
    d.add_argument("--test-limit", type=_positive(int), default=1024, help="test patches to evaluate (default 1024)")
    d.add_argument("--calibration", type=_positive(int), default=256, help="PTQ calibration images (default 256)")
    d.add_argument("--qat-steps", type=_positive(int), default=100, help="QAT steps (default 100)")
    d.add_argument("--no-onnx", action="store_true", help="skip the ONNX forms")
    d.add_argument("--threads", type=_positive(int), default=1, help="torch threads (default 1)")
    return p


def _build(cfg: dict) -> torch.nn.Module:
    return build_pcam_model(cfg["model"], cfg["width"], match=cfg.get("match"), match_by=cfg.get("match_by", "params"))


def _train(args) -> int:
    if args.match is not None and parse_model_spec(args.model):
        raise SystemExit("error: --match: only the plain model (--model plain) is matched to an equivariant one")
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = dict(model=args.model, width=args.width, match=args.match, match_by=args.match_by)
    torch.manual_seed(args.seed)
    model = _build(cfg)
    train = load_split(args.data_dir, "train", args.limit)
    valid = load_split(args.data_dir, "valid")
    result = train_pcam(
        model,
        train,
        valid,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        augment=not args.no_augment,
        seed=args.seed,
        out=args.out,
        resume=args.resume,
        overwrite=args.overwrite,
        progress=sys.stderr.isatty(),
        hparams=cfg,
    )
    test = load_split(args.data_dir, "test", args.test_limit)
    metrics = evaluate_pcam(model, *test)
    cfg.update(parameters=count_parameters(model), group=model.group_name, epochs=args.epochs, test=metrics)
    out = Path(args.out)
    torch.save(model.state_dict(), out / WEIGHTS_FILE)
    (out / MODEL_FILE).write_text(json.dumps(cfg, indent=2) + "\n")
    print(
        f"{cfg['model']} ({model.group_name}, {cfg['parameters']:,} parameters): "
        f"valid accuracy {result.last['test_acc']:.4f}, test accuracy {metrics['accuracy']:.4f}, "
        f"AUC {metrics['auc']:.4f} -> {out / MODEL_FILE}"
    )
    return 0


def load_run(run: str | Path) -> torch.nn.Module:
    """The trained model of a ``train`` run folder (eval mode)."""
    run = Path(run)
    if not (run / MODEL_FILE).is_file() or not (run / WEIGHTS_FILE).is_file():
        raise SystemExit(f"error: run: {run} has no {MODEL_FILE}/{WEIGHTS_FILE} (written by `train` when it ends)")
    cfg = json.loads((run / MODEL_FILE).read_text())
    model = _build(cfg)
    model.load_state_dict(torch.load(run / WEIGHTS_FILE, map_location="cpu", weights_only=True))
    return model.eval()


def _deploy(args) -> int:
    torch.set_num_threads(args.threads)
    model = load_run(args.run)
    train = load_split(args.data_dir, "train", max(args.calibration, 2048))
    test = load_split(args.data_dir, "test", args.test_limit)
    onnx = False if args.no_onnx else None  # None: when onnx, onnxscript and onnxruntime are installed
    report = deploy_model(
        model, train, test, args.run, calibration=args.calibration, qat_steps=args.qat_steps, onnx=onnx
    )
    Path(args.run, "deploy.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'form':<12} {'accuracy':>8} {'AUC':>7} {'D4 inv.':>8} {'MACs':>11} {'ms/image':>9} {'memory MB':>9}")
    for name, r in report["forms"].items():
        print(
            f"{name:<12} {r['accuracy']:>8.4f} {r['auc']:>7.4f} {r['d4_invariance']:>8.1e} {r.get('macs', 0):>11,} "
            f"{r['latency_ms']:>9.2f} {r.get('peak_memory_mb', float('nan')):>9.2f}"
        )
    print(f"-> {Path(args.run, 'deploy.json')}")
    return 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "make-data":
        root = make_synthetic_pcam(
            args.out, args.train, args.valid, args.test, seed=args.seed, difficulty=args.difficulty
        )
        print(f"wrote {args.train} / {args.valid} / {args.test} synthetic patches ({args.difficulty}) to {root}")
        return 0
    if args.command == "train":
        return _train(args)
    return _deploy(args)
