"""An SO(3)-equivariant network on a point cloud (R3PointConv, no torch_geometric): invariant
scalars and an equivariant vector per point, checked under random rotations.
Run: python examples/point_cloud.py [--points 200 --radius 1.0]"""

import argparse

import torch

from steerable import gspaces, nn


def radius_graph(pos: torch.Tensor, r: float) -> torch.Tensor:
    """edge_index (2, E): every ordered pair closer than r (source row 0, target row 1)."""
    return (torch.cdist(pos, pos) < r).nonzero().T


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument("--radius", type=float, default=1.2)
    ap.add_argument("--rotations", type=int, default=5)
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    gs = gspaces.rot3dOnR3()
    t_in = nn.FieldType(gs, [gs.trivial_repr])
    t_hid = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(1), gs.irrep(2)] * 4)
    t_out = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(1)])
    conv1 = nn.R3PointConv(t_in, t_hid, width=args.radius, n_rings=3)
    act = nn.NormNonLinearity(t_hid)
    conv2 = nn.R3PointConv(t_hid, t_out, width=args.radius, n_rings=3)

    pos = torch.randn(args.points, 3)
    edges = radius_graph(pos, args.radius)
    x = t_in(torch.ones(args.points, 1), coords=pos)
    with torch.no_grad():
        y = conv2(act(conv1(x, edges)), edges)
        worst = 0.0
        for g in gs.fibergroup.sample(args.rotations, seed=1):  # Haar-random rotations
            x_rot = x.transform(g)  # rotates coords (and fibres)
            y_rot = conv2(act(conv1(x_rot, edges)), edges)  # same graph: distances unchanged
            worst = max(worst, float((y_rot.tensor - y.transform(g).tensor).abs().max() / y.tensor.abs().max()))
    print(
        f"{args.points} points, {edges.shape[1]} edges, output {tuple(y.shape)}; "
        f"largest relative error over {args.rotations} random rotations: {worst:.1e}"
    )
    assert worst < 1e-5


if __name__ == "__main__":
    main()
