"""Steerable 3D convolutions on voxels: SO(3) irreps with a gated nonlinearity, and octahedral
regular fields, checked under all 24 rotations of the cube.  Run: python examples/so3_voxels.py"""

import argparse

import torch

from steerable import gspaces, nn


def so3_net(gs) -> nn.SequentialModule:
    t_in = nn.FieldType(gs, [gs.trivial_repr])
    gate = nn.GatedNonLinearity1(
        nn.FieldType(gs, [gs.trivial_repr] * 4 + [gs.irrep(1), gs.irrep(2)] * 2), gates=["gate"] * 4 + ["gated"] * 4
    )
    t_out = nn.FieldType(gs, [gs.trivial_repr] * 2 + [gs.irrep(1)])  # scalars and a vector field
    return nn.SequentialModule(
        nn.R3Conv(t_in, gate.in_type, kernel_size=5, padding=2),
        gate,
        nn.R3Conv(gate.out_type, t_out, kernel_size=3, padding=1),
    ).eval()


def octa_net(gs) -> nn.SequentialModule:
    t_in = nn.FieldType(gs, [gs.trivial_repr])
    t_hid = nn.FieldType(gs, [gs.regular_repr] * 2)  # 2 × 24 channels
    return nn.SequentialModule(
        nn.R3Conv(t_in, t_hid, kernel_size=3, padding=1),
        nn.ReLU(t_hid),
        nn.R3Conv(t_hid, t_hid, kernel_size=3, padding=1),
        nn.GroupPooling(t_hid),
    ).eval()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=11, help="side of the voxel grid")
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    octa = gspaces.octaOnR3()
    for name, gs, build in [("SO(3)", gspaces.rot3dOnR3(), so3_net), ("octahedral", octa, octa_net)]:
        model = build(gs)
        x = model.in_type(torch.randn(2, 1, args.size, args.size, args.size))
        with torch.no_grad():
            y = model(x)
            worst = 0.0
            for h in octa.fibergroup.elements:  # the 24 rotations of the cube
                g = gs.fibergroup.element(h.to("Q"), "Q")  # the same rotation in the model's group
                err = (model(x.transform(g)).tensor - y.transform(g).tensor).abs().max() / y.tensor.abs().max()
                worst = max(worst, float(err))
        print(f"{name}: output {tuple(y.shape)}, largest error over the 24 cube rotations {worst:.1e}")
        assert worst < 1e-4


if __name__ == "__main__":
    main()
