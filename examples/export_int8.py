"""Train the zoo's C8 CNN for a few steps on rotated MNIST, export it to plain torch, save it
as TorchScript, and quantise it to int8 (FX post-training static quantisation).
Run: python examples/export_int8.py [--steps 100 --width 0.5]"""

import argparse
import os
import tempfile
import time

import torch

from steerable.data import RotatedMNIST
from steerable.models import build_model
from steerable.training import load_saved, max_relative_difference, quantize_int8, save_torchscript


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=60, help="training steps (batch 64)")
    ap.add_argument("--width", type=float, default=0.5, help="channel multiplier of the model")
    ap.add_argument("--test", type=int, default=500, help="test images")
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    train, test = RotatedMNIST("train"), RotatedMNIST("test")
    model = build_model("c8", width=args.width)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _step in range(args.steps):  # a very short training run
        idx = torch.randint(len(train), (64,))
        loss = torch.nn.functional.cross_entropy(model(train.images[idx]), train.labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    x, labels = test.images[: args.test], test.labels[: args.test]

    plain = model.export()  # plain torch.nn modules, same function
    q = quantize_int8(plain, train.images[:256])  # calibrated on training images
    with tempfile.TemporaryDirectory() as folder:
        save_torchscript(q, x[:1], os.path.join(folder, "model_int8.ts"))
        q_loaded = load_saved(os.path.join(folder, "model_int8.ts"))  # needs neither steerable nor source

    with torch.no_grad():
        for name, m in [("steerable", model), ("exported", plain), ("int8 (reloaded)", q_loaded)]:
            start = time.perf_counter()
            acc = (m(x).argmax(1) == labels).float().mean().item()
            print(f"{name:16s} accuracy {100 * acc:5.1f} %   {1e3 * (time.perf_counter() - start):6.1f} ms")
    print(f"exported vs steerable: max relative difference {max_relative_difference(model, plain, x):.1e}")
    print(f"int8 vs exported:      max relative difference {max_relative_difference(plain, q_loaded, x):.1e}")
    assert max_relative_difference(model, plain, x) < 1e-5


if __name__ == "__main__":
    main()
