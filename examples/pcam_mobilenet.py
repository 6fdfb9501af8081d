"""The equivariant MobileNetV2 for histopathology on PCam-format data: train a D4 model and the
plain MobileNetV2 of equal parameters, then deploy the D4 one (plain torch, int8, ONNX) and check
that the exported float network is exactly invariant to the square's rotations and flips.

    python examples/pcam_mobilenet.py                        # synthetic set, 512 patches (~5 min)
    python examples/pcam_mobilenet.py --data-dir DIR         # the official PCam HDF5 files in DIR
    python examples/pcam_mobilenet.py --train 32 --test 32 --epochs 1 --width 0.25
"""

import argparse
import tempfile

import torch

from steerable.data import make_synthetic_pcam
from steerable.models import count_parameters
from steerable.pcam import build_pcam_model, deploy_model, evaluate_pcam, load_split, train_pcam

p = argparse.ArgumentParser()
p.add_argument("--data-dir", default=None, help="PCam HDF5 files (default: a synthetic set in their format)")
p.add_argument("--train", type=int, default=512)
p.add_argument("--test", type=int, default=512)
p.add_argument("--epochs", type=int, default=6)
p.add_argument("--width", type=float, default=1.0)
p.add_argument("--model", default="D4", help="D4, C4, C8, D8, D4:quotient, D8|C4")
args = p.parse_args()
torch.set_num_threads(1)

root = args.data_dir or make_synthetic_pcam(
    tempfile.mkdtemp(), n_train=args.train, n_valid=8, n_test=args.test, difficulty="hard"
)
train, test = load_split(root, "train", args.train), load_split(root, "test", args.test)
print(f"{len(train[0])} training / {len(test[0])} test patches of 96x96 RGB from {root}")

models = {
    args.model: build_pcam_model(args.model, args.width),
    "plain (equal parameters)": build_pcam_model("plain", args.width, match=args.model),
}
for name, model in models.items():
    torch.manual_seed(0)
    train_pcam(model, train, epochs=args.epochs)
    r = evaluate_pcam(model, *test)
    print(f"{name:<26} {count_parameters(model):>8,} parameters  accuracy {r['accuracy']:.4f}  AUC {r['auc']:.4f}")

report = deploy_model(models[args.model], train, test, calibration=min(256, args.train), qat_steps=20, repeats=5)
print(f"{'form':<12} {'accuracy':>8} {'D4 invariance':>13} {'ms/image':>9}")
for form, f in report["forms"].items():
    print(f"{form:<12} {f['accuracy']:>8.4f} {f['d4_invariance']:>13.1e} {f['latency_ms']:>9.2f}")
print(f"D4 invariance of the exported float model: {report['forms']['float']['d4_invariance']:.1e}")
