"""An escnn script, unchanged but for its import: the C8-steerable CNN of escnn's tutorial (MaskModule,
R2Conv, InnerBatchNorm, ReLU, antialiased pooling, GroupPooling). Run: python examples/escnn_port.py"""

import argparse

import torch

# from escnn import gspaces, nn          # <- the only line that changes
from steerable import gspaces, nn


class C8SteerableCNN(torch.nn.Module):
    def __init__(self, n_classes=10):
        super().__init__()
        self.r2_act = gspaces.rot2dOnR2(N=8)
        self.input_type = in_type = nn.FieldType(self.r2_act, [self.r2_act.trivial_repr])
        out_type = nn.FieldType(self.r2_act, 8 * [self.r2_act.regular_repr])
        self.block1 = nn.SequentialModule(
            nn.MaskModule(in_type, 29, margin=1),
            nn.R2Conv(in_type, out_type, kernel_size=7, padding=1, bias=False),
            nn.InnerBatchNorm(out_type),
            nn.ReLU(out_type, inplace=True),
        )
        in_type = out_type
        out_type = nn.FieldType(self.r2_act, 16 * [self.r2_act.regular_repr])
        self.block2 = nn.SequentialModule(
            nn.R2Conv(in_type, out_type, kernel_size=5, padding=2, bias=False),
            nn.InnerBatchNorm(out_type),
            nn.ReLU(out_type, inplace=True),
        )
        self.pool1 = nn.SequentialModule(nn.PointwiseAvgPoolAntialiased(out_type, sigma=0.66, stride=2))
        in_type = out_type
        out_type = nn.FieldType(self.r2_act, 16 * [self.r2_act.regular_repr])
        self.block3 = nn.SequentialModule(
            nn.R2Conv(in_type, out_type, kernel_size=5, padding=2, bias=False),
            nn.InnerBatchNorm(out_type),
            nn.ReLU(out_type, inplace=True),
        )
        self.pool2 = nn.PointwiseAvgPoolAntialiased(out_type, sigma=0.66, stride=1, padding=0)
        self.gpool = nn.GroupPooling(out_type)
        self.fully_net = torch.nn.Sequential(
            torch.nn.Linear(self.gpool.out_type.size, 64),
            torch.nn.BatchNorm1d(64),
            torch.nn.ELU(inplace=True),
            torch.nn.Linear(64, n_classes),
        )

    def forward(self, input: torch.Tensor):
        x = nn.GeometricTensor(input, self.input_type)
        x = self.gpool(self.pool2(self.block3(self.pool1(self.block2(self.block1(x)))))).tensor
        return self.fully_net(x.mean(dim=(2, 3)))  # global average pooling: invariant features


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch", type=int, default=4)
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    model, x = C8SteerableCNN().eval(), torch.randn(args.batch, 1, 29, 29)
    with torch.no_grad():
        y = model(x)
        for k in range(1, 4):  # logits are invariant under 90° rotations of the input
            err = (model(torch.rot90(x, k, dims=(-2, -1))) - y).abs().max() / y.abs().max()
            print(f"rotation by {90 * k:3d}°: relative change of the logits {err:.1e}")
            assert err < 1e-4
    print(f"{sum(p.numel() for p in model.parameters())} parameters")


if __name__ == "__main__":
    main()
