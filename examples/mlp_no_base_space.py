"""An SO(3)-equivariant MLP on vectors (no base space): learns the invariant v1·v2 + |v1| of two
3D vectors; the trained model is invariant to rotations by construction.
Run: python examples/mlp_no_base_space.py [--steps 300]"""

import argparse

import torch

from steerable import group, gspaces, nn


class InvariantMLP(torch.nn.Module):
    def __init__(self, gs, G, hidden: int = 8):
        super().__init__()
        pair = G.standard_representation + G.standard_representation  # (v1, v2): one 6-dim field
        self.in_type = nn.FieldType(gs, [pair])
        # (v1, v2) ⊗ (v1, v2) decomposed: its invariants (|v1|², v1·v2, |v2|²) and degree-1/2 parts
        self.quad = nn.TensorProductModule(
            self.in_type, nn.FieldType(gs, [G.irrep(0) + G.irrep(0) + G.irrep(0) + G.irrep(1) + G.irrep(2)])
        )
        self.gate = nn.GatedNonLinearity1(
            nn.FieldType(gs, [G.irrep(0)] * hidden + [G.irrep(1)] * hidden),
            gates=["gate"] * hidden + ["gated"] * hidden,
        )
        self.mix = nn.Linear(self.quad.out_type + self.in_type, self.gate.in_type)
        self.norm = nn.NormPool(self.gate.out_type)  # |vector| of each gated field
        self.head = nn.Linear(self.norm.out_type + self.quad.out_type, nn.FieldType(gs, [G.irrep(0)]))

    def forward(self, x):
        q = self.quad(x)
        h = self.gate(self.mix(nn.tensor_directsum([q, x])))
        return self.head(nn.tensor_directsum([self.norm(h), q]))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=128)
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    G = group.so3_group()
    model = InvariantMLP(gspaces.no_base_space(G), G)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    target = lambda v: ((v[:, :3] * v[:, 3:]).sum(1) + v[:, :3].norm(dim=1))[:, None]
    for step in range(args.steps + 1):
        v = torch.randn(args.batch, 6)
        loss = torch.nn.functional.mse_loss(model(model.in_type(v)).tensor, target(v))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % max(1, args.steps // 4) == 0:
            print(f"step {step:4d}  loss {loss.item():.4f}")
    model.eval()
    with torch.no_grad():
        x = model.in_type(torch.randn(256, 6))
        y = model(x).tensor
        err = max(float((model(x.transform(g)).tensor - y).abs().max()) for g in G.sample(10, seed=0))
    print(f"trained model, change of the output under 10 random rotations: {err:.1e}")
    assert err < 1e-4


if __name__ == "__main__":
    main()
