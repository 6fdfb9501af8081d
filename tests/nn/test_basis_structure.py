"""Layer-level basis structure (``basisexpansion.structure``) and the kernel-source hook.

1. the structure of grid / point convolutions, Linear and user bases agrees with escnn's
   ``get_basis_info`` dicts, and its irrep-block layout is the true support of each weight in the
   filter (in the fields' irrep basis);
2. research operations with tensor ops only: re-weighting high frequencies, weight norms per
   irrep block, :class:`BlockReweightedKernelSource` built from the structure;
3. one public kernel-source hook (``kernel_source=`` / ``conv.kernel_source``) on every
   convolution: an equivariant MLP on the offsets (implicit kernel, built from public modules) and
   a learned per-block coupling both train, export and keep the state_dict keys.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from steerable import gspaces, nn
from steerable.group import cyclic_group, so3_group


def _check_agrees(s, info):
    assert len(s) == len(info)
    for k, a in enumerate(info):
        assert int(s.in_field[k]) == a["in_field_position"] and int(s.out_field[k]) == a["out_field_position"]
        assert s.irreps[int(s.in_irrep[k])] == tuple(a["in_irrep"])
        assert s.irreps[int(s.out_irrep[k])] == tuple(a["out_irrep"])
        assert int(s.in_irrep_idx[k]) == a["in_irrep_idx"] and int(s.out_irrep_idx[k]) == a["out_irrep_idx"]
        assert float(s.radius[k]) == a["radius"]
        assert int(s.inner[k]) == a["inner"]
        if "j" in a:
            assert s.harmonics[int(s.harmonic[k])] == tuple(a["j"])
            assert int(s.frequency[k]) == a["irrep:frequency"]
            assert int(s.ring[k]) == a["radial_idx"]
            assert float(s.sigma[k]) == a["sigma"]


def _irrep_basis(f, in_type, out_type):
    """Filters (G, C_out, C_in, S) in the fields' irrep basis: Q_out⁻¹ F Q_in."""
    qo_inv = torch.as_tensor(out_type.change_of_basis_inv.toarray(), dtype=f.dtype)
    qi = torch.as_tensor(in_type.change_of_basis.toarray(), dtype=f.dtype)
    return torch.einsum("ab,gbcs,cd->gads", qo_inv, f, qi)


def _check_block_support(s, filters_of_weights, in_type, out_type, irrep_basis=True):
    """One-hot weights on each block: the filter is zero outside the block's rows/columns, and
    every block is reached."""
    n = len(s)
    w = torch.zeros(s.n_blocks, n, dtype=torch.float64)
    w[s.block, torch.arange(n)] = torch.randn(n, dtype=torch.float64)
    f = filters_of_weights(w)  # (n_blocks, C_out, C_in, S)
    if irrep_basis:
        f = _irrep_basis(f, in_type, out_type)
    co, ci = s.shape
    rows = torch.arange(co)[None, :]
    cols = torch.arange(ci)[None, :]
    in_r = (rows >= s.block_rows[:, :1]) & (rows < s.block_rows[:, 1:])  # (n_blocks, C_out)
    in_c = (cols >= s.block_cols[:, :1]) & (cols < s.block_cols[:, 1:])
    mask = (in_r[:, :, None] & in_c[:, None, :]).to(f.dtype)[..., None]
    scale = f.abs().amax()
    assert (f * (1 - mask)).abs().amax() <= 1e-10 * scale
    assert ((f * mask).abs().flatten(1).amax(1) > 1e-8 * scale).all()  # each block gets a filter


def test_grid_conv_structure_matches_basis_info_and_blocks():
    gs = gspaces.flipRot2dOnR2(4)
    t_in = nn.FieldType(gs, [gs.regular_repr, gs.irrep(1, 1), gs.trivial_repr])
    t_out = nn.FieldType(gs, [gs.irrep(1, 1), gs.regular_repr])
    conv = nn.R2Conv(t_in, t_out, 5).double()
    be = conv.basisexpansion
    s = be.structure
    assert be.structure is s  # cached
    _check_agrees(s, list(be.get_basis_info()))
    assert s.shape == (t_out.size, t_in.size) and s.block_rows.shape == (s.n_blocks, 2)
    _check_block_support(s, be, t_in, t_out)
    # the blocks tile: distinct (out copy, in copy) per field pair
    keys = set(
        zip(
            s.block_out_field.tolist(),
            s.block_in_field.tolist(),
            s.block_out_irrep_idx.tolist(),
            s.block_in_irrep_idx.tolist(),
        )
    )
    assert len(keys) == s.n_blocks


def test_grid_conv_structure_r3_and_ico_and_transposed():
    gs = gspaces.rot3dOnR3()
    t = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(1), gs.irrep(2)])
    conv = nn.R3ConvTransposed(t, t, 3).double()
    s = conv.basisexpansion.structure
    _check_agrees(s, list(conv.basisexpansion.get_basis_info()))
    assert set(s.frequency.tolist()) <= {0, 1, 2, 3, 4} and max(s.frequency.tolist()) >= 2
    _check_block_support(s, conv.basisexpansion, t, t)
    gi = gspaces.icoOnR3()
    ti = nn.FieldType(gi, [gi.trivial_repr, gi.irrep(1)])
    ico = nn.R3IcoConv(ti, ti, 3)
    si = ico.basisexpansion.structure
    _check_agrees(si, list(ico.basisexpansion.get_basis_info()))
    assert set(si.frequency.tolist()) == {0}


def test_point_conv_structure():
    gs = gspaces.rot2dOnR2(6)
    t = nn.FieldType(gs, [gs.regular_repr, gs.irrep(2)])
    conv = nn.R2PointConv(t, t, width=2.0, n_rings=3).double()
    s = conv.basisexpansion.structure
    _check_agrees(s, list(conv.basisexpansion.get_basis_info()))
    pts = torch.randn(7, 2, dtype=torch.float64)
    _check_block_support(s, lambda w: conv.basisexpansion(w, pts), t, t)


class _UserBasisConv(nn.R2Conv):
    """A user basis per pair of field representations (escnn's hook): the analytic one."""

    def _build_kernel_basis(self, in_repr, out_repr):
        return super()._build_kernel_basis(in_repr, out_repr)


def test_rep_expansion_structure():
    gs = gspaces.rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr, gs.irrep(1)])
    conv = _UserBasisConv(t, t, 5).double()
    be = conv.basisexpansion
    assert isinstance(be, nn.conv.RepBasisExpansion)
    s = be.structure
    info = list(be.get_basis_info())
    assert len(s) == len(info) == conv.weights.numel()
    for k, a in enumerate(info):
        assert int(s.in_field[k]) == a["in_field_position"] and int(s.out_field[k]) == a["out_field_position"]
        assert s.irreps[int(s.in_irrep[k])] == a["in_irrep"] and int(s.frequency[k]) == a["irrep:frequency"]
        assert float(s.radius[k]) == a["radius"] and int(s.inner[k]) == a["inner"]
    _check_block_support(s, be, t, t)


def test_linear_structure():
    gs = gspaces.no_base_space(so3_group(2))
    t_in = nn.FieldType(gs, [gs.irrep(0), gs.irrep(1), gs.irrep(0), gs.irrep(2)])
    t_out = nn.FieldType(gs, [gs.irrep(1), gs.irrep(0), gs.irrep(1) + gs.irrep(0)])
    lin = nn.Linear(t_in, t_out).double()
    s = lin.basisexpansion.structure
    info = list(lin.basisexpansion.get_basis_info())
    _check_agrees(s, info)
    assert (s.harmonic == -1).all() and (s.frequency == 0).all()

    def filters(w):
        return torch.stack([lin.basisexpansion(x) for x in w])[..., None]

    _check_block_support(s, filters, t_in, t_out)
    # regular fields of a finite group: endomorphisms of each irrep, blocks in the irrep basis
    gc = gspaces.no_base_space(cyclic_group(4))
    tc = nn.FieldType(gc, [gc.regular_repr] * 2)
    lc = nn.Linear(tc, tc).double()
    sc = lc.basisexpansion.structure
    _check_agrees(sc, list(lc.basisexpansion.get_basis_info()))
    _check_block_support(sc, lambda w: torch.stack([lc.basisexpansion(x) for x in w])[..., None], tc, tc)


def test_reweight_high_frequencies_and_block_norms_with_tensor_ops():
    gs = gspaces.rot2dOnR2(8)
    t = nn.FieldType(gs, [gs.regular_repr] * 2)
    conv = nn.R2Conv(t, t, 7, frequencies_cutoff=1.5, padding=3)
    s = conv.basisexpansion.structure
    high = s.frequency > 2
    assert high.any() and (~high).any()
    ref = conv.filter.detach()
    with torch.no_grad():
        conv.weights.mul_(torch.where(high, 0.0, 1.0).to(conv.weights.dtype))
    # the damped layer is the expansion of the low-frequency part only, and still equivariant
    low_only = conv.basisexpansion(conv.weights.detach()[None])[0]
    assert torch.allclose(conv.expand_parameters()[0].reshape(low_only.shape), low_only)
    assert not torch.allclose(conv.filter.detach(), ref)
    conv.check_equivariance()
    # weight norms per irrep block, against the dictionaries
    w = torch.randn(len(s), dtype=torch.float64)
    norms = s.block_norms(w)
    sq: dict = {}
    for k, a in enumerate(conv.basisexpansion.get_basis_info()):
        key = (a["out_field_position"], a["in_field_position"], a["out_irrep_idx"], a["in_irrep_idx"])
        sq[key] = sq.get(key, 0.0) + float(w[k]) ** 2
    got = {
        (
            int(s.block_out_field[b]),
            int(s.block_in_field[b]),
            int(s.block_out_irrep_idx[b]),
            int(s.block_in_irrep_idx[b]),
        ): float(norms[b])
        for b in range(s.n_blocks)
    }
    assert got.keys() == sq.keys()
    assert all(abs(got[k] - np.sqrt(v)) < 1e-12 for k, v in sq.items())
    assert s.block_norms(torch.stack([w, 2 * w])).shape == (2, s.n_blocks)


def test_block_reweighted_source_uses_structure():
    gs = gspaces.rot2dOnR2(8)
    t = nn.FieldType(gs, [gs.regular_repr, gs.irrep(1)])
    conv = nn.R2Conv(t, t, 5, padding=2)
    src = nn.BlockReweightedKernelSource(conv.basisexpansion)
    want = []
    for a in conv.basisexpansion.get_basis_info():
        key = (a["in_irrep"], a["out_irrep"], a["irrep:frequency"])
        if key not in want:
            want.append(key)
    assert src.block_keys == want
    assert all(
        src.block_keys[g] == (a["in_irrep"], a["out_irrep"], a["irrep:frequency"])
        for g, a in zip(src.block_index.tolist(), conv.basisexpansion.get_basis_info())
    )
    per_block = nn.BlockReweightedKernelSource(conv, by=("block",))
    assert per_block.log_scales.numel() == conv.basisexpansion.structure.n_blocks
    conv.kernel_source = per_block
    with torch.no_grad():
        per_block.log_scales.normal_()
    conv.check_equivariance()
    with pytest.raises(ValueError, match="by"):
        nn.BlockReweightedKernelSource(conv, by=("nope",))
    with pytest.raises(TypeError, match="by"):
        nn.BlockReweightedKernelSource(conv, by="frequency")
    with pytest.raises(TypeError, match="basis"):
        nn.BlockReweightedKernelSource(42)


# ---------------------------------------------------------------------------------------------
# the kernel-source hook
# ---------------------------------------------------------------------------------------------
class EquivariantMLPSource(nn.KernelSource):
    """An implicit kernel: an equivariant MLP (public ``nn.Linear`` / ``nn.ReLU`` on
    ``no_base_space``) mapping an offset x (the base-space representation) to K(x) in
    Hom(ρ_in, ρ_out) = ρ_out ⊗ ρ_in, so ``K(g x) = ρ_out(g) K(x) ρ_in(g)ᵀ`` by construction."""

    def __init__(self, in_type, out_type, hidden: int = 3):
        super().__init__()
        gs = in_type.gspace
        G = gs.fibergroup
        g0 = gspaces.no_base_space(G)
        self.t_x = nn.FieldType(g0, [gs.basespace_action])
        t_h = nn.FieldType(g0, [G.regular_representation] * hidden)
        self.t_k = nn.FieldType(g0, [out_type.representation.tensor(in_type.representation)])
        self.c = (out_type.size, in_type.size)
        self.mlp = nn.SequentialModule(nn.Linear(self.t_x, t_h), nn.ReLU(t_h), nn.Linear(t_h, self.t_k))

    def forward(self, conv, points=None):
        x = self.offsets(conv, points)
        k = self.mlp(self.t_x(x)).tensor  # (S, C_out·C_in)
        return k.T.reshape(1, *self.c, x.shape[0])


def _train_steps(conv, x, steps=3):
    opt = torch.optim.SGD(conv.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = conv(x).tensor.pow(2).mean()
        loss.backward()
        losses.append(loss.item())
        opt.step()
    return losses


@pytest.mark.parametrize("kind", ["mlp", "coupling"])
def test_kernel_source_trains_exports_and_keeps_state_dict(kind):
    torch.manual_seed(0)
    gs = gspaces.rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    if kind == "mlp":
        src = EquivariantMLPSource(t, t)
    else:
        src = nn.BlockReweightedKernelSource(nn.R2Conv(t, t, 5, initialize=False).basisexpansion)
        with torch.no_grad():
            src.log_scales.normal_()
    conv = nn.R2Conv(t, t, 5, padding=2, kernel_source=src)
    assert conv.kernel_source is src
    x = t(torch.randn(2, t.size, 9, 9))
    src_params = dict(src.named_parameters())
    _train_steps(conv, x, steps=2)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in src_params.values())
    train_keys = sorted(conv.state_dict())
    assert any(k.startswith("_kernel_source.") for k in train_keys)
    conv.check_equivariance()
    plain = conv.export()
    assert sorted(conv.state_dict()) == train_keys  # export sets eval mode: same keys
    with torch.no_grad():
        assert torch.allclose(plain(x.tensor), conv(x).tensor, atol=1e-6)
    conv.train()
    assert sorted(conv.state_dict()) == train_keys
    # loading the state into a fresh layer with a fresh source reproduces the function
    fresh_src = EquivariantMLPSource(t, t) if kind == "mlp" else nn.BlockReweightedKernelSource(conv)
    fresh = nn.R2Conv(t, t, 5, padding=2, kernel_source=fresh_src)
    fresh.load_state_dict(conv.state_dict())
    with torch.no_grad():
        assert torch.allclose(fresh(x).tensor, conv(x).tensor, atol=1e-6)


def test_kernel_source_keyword_on_every_convolution():
    g2 = gspaces.rot2dOnR2(4)
    t2 = nn.FieldType(g2, [g2.regular_repr])
    g3 = gspaces.octaOnR3()
    t3 = nn.FieldType(g3, [g3.trivial_repr])
    gi = gspaces.icoOnR3()
    ti = nn.FieldType(gi, [gi.trivial_repr])
    cases = [
        (nn.R2Conv, t2),
        (nn.R2ConvTransposed, t2),
        (nn.R3Conv, t3),
        (nn.R3ConvTransposed, t3),
        (nn.R3IcoConv, ti),
        (nn.R3IcoConvTransposed, ti),
    ]
    for cls, t in cases:
        ref = cls(t, t, 3)
        src = nn.BlockReweightedKernelSource(ref)
        conv = cls(t, t, 3, kernel_source=src)
        assert conv.kernel_source is src and "_kernel_source.log_scales" in conv.state_dict()
        with torch.no_grad():
            conv.weights.copy_(ref.weights)
            conv.bias.copy_(ref.bias)
        assert torch.allclose(conv.filter, ref.filter, atol=1e-6)
        with pytest.raises(TypeError, match="kernel_source"):
            cls(t, t, 3, kernel_source=torch.nn.Linear(2, 2))
        conv.kernel_source = None
        assert isinstance(conv.kernel_source, nn.BasisKernelSource)


def test_point_conv_kernel_sources():
    torch.manual_seed(0)
    gs = gspaces.rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    pos = torch.randn(15, 2)
    edges = (torch.cdist(pos, pos) < 1.5).nonzero().T
    x = t(torch.randn(15, 4), coords=pos)
    # a re-weighting keeps the fast path and the export
    ref = nn.R2PointConv(t, t, width=2.0, n_rings=3)
    src = nn.BlockReweightedKernelSource(ref)
    conv = nn.R2PointConv(t, t, width=2.0, n_rings=3, kernel_source=src)
    with torch.no_grad():
        conv.weights.copy_(ref.weights)
        src.log_scales.normal_()
    conv.check_equivariance()
    out = conv(x, edges).tensor
    out.pow(2).sum().backward()
    assert src.log_scales.grad is not None and src.log_scales.grad.abs().sum() > 0
    with torch.no_grad():
        assert torch.allclose(conv.export()(x.tensor, pos, edges), conv(x, edges).tensor, atol=1e-5)
        src.log_scales.zero_()
        assert torch.allclose(conv(x, edges).tensor, ref(x, edges).tensor, atol=1e-5)
    # an implicit kernel: evaluated on the edge offsets, equivariant, trainable; no plain export
    mlp = EquivariantMLPSource(t, t)
    conv = nn.R2PointConv(t, t, width=2.0, n_rings=3, kernel_source=mlp)
    conv.check_equivariance()
    conv(x, edges).tensor.pow(2).sum().backward()
    assert all(p.grad is not None for p in mlp.parameters())
    k = conv.expand_filter(pos[:4])
    assert k.shape == (4, 4, 4)
    with pytest.raises(TypeError, match="export"):
        conv.export()
