"""C8 and D8 steerable CNNs on a random image: equivariance under 90° rotations and flips, and
invariance after GroupPooling + global pooling.  Run: python examples/e2_images.py [--size 33]"""

import argparse

import torch

from steerable import gspaces, nn


def build(gs, fields: int) -> nn.SequentialModule:
    t_in = nn.FieldType(gs, [gs.trivial_repr])
    t_hid = nn.FieldType(gs, [gs.regular_repr] * fields)
    return nn.SequentialModule(
        nn.R2Conv(t_in, t_hid, kernel_size=5, padding=2),
        nn.InnerBatchNorm(t_hid),
        nn.ReLU(t_hid, inplace=True),
        nn.PointwiseAvgPool2D(t_hid, 2),
        nn.R2Conv(t_hid, t_hid, kernel_size=3, padding=1),
        nn.ReLU(t_hid, inplace=True),
        nn.GroupPooling(t_hid),  # one invariant channel per regular field
    ).eval()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=32, help="image side (even: the 2×2 pooling stays symmetric)")
    ap.add_argument("--fields", type=int, default=4, help="regular fields per hidden layer")
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    for name, gs in [("C8", gspaces.rot2dOnR2(N=8)), ("D8", gspaces.flipRot2dOnR2(N=8))]:
        model = build(gs, args.fields)
        x = model.in_type(torch.randn(4, 1, args.size, args.size))
        with torch.no_grad():
            y = model(x)
            worst = 0.0
            for g in gs.fibergroup.elements:
                rotation = g.to("int") if name == "C8" else g.to("int")[1]  # D8: (flip, rotation)
                if rotation % 2:
                    continue  # 45° rotations are not symmetries of the pixel grid
                err = (model(x.transform(g)).tensor - y.transform(g).tensor).abs().max() / y.tensor.abs().max()
                worst = max(worst, float(err))
            # invariant features: average over the image
            z = y.tensor.mean(dim=(2, 3))
            z90 = model(model.in_type(torch.rot90(x.tensor, 1, dims=(-2, -1)))).tensor.mean(dim=(2, 3))
        print(
            f"{name}: {sum(p.numel() for p in model.parameters())} parameters, output {tuple(y.shape)}, "
            f"equivariance error {worst:.1e}, invariant features change {float((z - z90).abs().max()):.1e}"
        )
        assert worst < 1e-4


if __name__ == "__main__":
    main()
