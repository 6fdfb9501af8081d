"""Generalisation bounds of a trained C_N-steerable CNN: the equivariant PAC-Bayes bound (irrep
blocks, Behboodi, Cesa & Cohen 2022) beside the classic NBS18 bound on the same network.

Trains a small CNN on rotated MNIST digits, then prints each layer's norms and perturbation
constants, the irrep blocks of the last layer, both bounds and the measured generalisation gap.
Run: ``.venv/bin/python examples/pac_bayes_bound.py --group 8 --train 2000 --epochs 5``
"""

from __future__ import annotations

import argparse

import torch

from steerable import gspaces, nn
from steerable.data import RotatedMNIST
from steerable.theory import irrep_blocks, nbs18_bound, pac_bayes_bound


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--group", type=int, default=8, help="N of the rotation group C_N")
    ap.add_argument("--fields", type=int, default=6, help="regular fields per hidden layer")
    ap.add_argument("--train", type=int, default=2000)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=5)
    a = ap.parse_args()
    torch.manual_seed(0)
    gs = gspaces.rot2dOnR2(a.group)
    t0 = nn.FieldType(gs, [gs.trivial_repr])
    t1 = nn.FieldType(gs, [gs.regular_repr] * a.fields)
    pool = nn.GroupPooling(t1)
    out = nn.FieldType(gs, [gs.trivial_repr] * 10)
    model = nn.SequentialModule(
        nn.R2Conv(t0, t1, 5, padding=2, bias=False),
        nn.ReLU(t1),
        nn.PointwiseMaxPool2D(t1, 2),
        nn.R2Conv(t1, t1, 5, padding=2, bias=False),
        nn.ReLU(t1),
        nn.PointwiseMaxPool2D(t1, 2),
        pool,
        nn.R2Conv(pool.out_type, out, 1, bias=False),
        nn.PointwiseAdaptiveAvgPool2D(out, 1),
    )
    tr, te = RotatedMNIST("train"), RotatedMNIST("test")
    x, y = tr.images[: a.train], tr.labels[: a.train].long()
    xt, yt = te.images[: a.test], te.labels[: a.test].long()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(a.epochs):
        model.train()
        perm = torch.randperm(len(y))
        for i in range(0, len(y), 64):
            b = perm[i : i + 64]
            loss = torch.nn.functional.cross_entropy(model(t0(x[b])).tensor.flatten(1), y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
    eq = pac_bayes_bound(model, (x, y), test_data=(xt, yt))
    dense = nbs18_bound(model, (x, y))
    print(f"C{a.group} CNN, {sum(p.numel() for p in model.parameters())} parameters, m = {eq.m} training digits")
    print("layer               ‖W‖₂     ‖W‖_F    v (equivariant)  v (dense)")
    for le, ld in zip(eq.layers, dense.layers):
        if hasattr(le, "variance"):
            print(
                f"{le.name:<18} {le.spectral_norm:8.3f} {le.frobenius_norm:8.3f} {le.variance:14.1f} {ld.variance:10.1f}"
            )
    print("irrep blocks of the last convolution (zero frequency):")
    for blk in irrep_blocks(list(model.children())[7]):
        print(f"  ψ = {blk.irrep}: {blk.m_out} × {blk.m_in}, ‖Ŵ(ψ)‖₂ = {blk.spectral_norm:.3f}")
    print(f"train error {eq.train_error:.3f}, test error {eq.test_error:.3f}, gap {eq.gap:.3f}")
    print(
        f"equivariant bound {eq.bound:.4g} (margin {eq.margin:.3g}); NBS18 bound {dense.bound:.4g} (margin {dense.margin:.3g})"
    )
    print(f"NBS18 / equivariant bound: {dense.bound / eq.bound:.2f}")


if __name__ == "__main__":
    main()
