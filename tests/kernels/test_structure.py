"""BasisStructure of the kernel bases: per-element tensors agree with the attribute dicts, and the
irrep-block layout is the true support of each element (in the representations' irrep basis)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from steerable import gspaces
from steerable.group import cyclic_group, o2_group, so3_group
from steerable.kernels import (
    AdjointBasis,
    BasisStructure,
    CircularShellsBasis,
    GaussianRadialProfile,
    IrrepsPairBasis,
    KernelBasis,
    SteerableKernelBasis,
    UnionBasis,
    WignerEckartBasis,
    default_cutoff,
    kernels_CN_act_R2,
    kernels_SO3_act_R3,
)


def _support_ok(s, samples, q_out_inv, q_in):
    """samples (n, C_out, C_in, N) in the representations' own bases: element k, moved to the
    irrep basis, is zero outside block ``s.block[k]`` and nonzero inside."""
    e = np.einsum("ab,nbcs,cd->nads", q_out_inv, samples, q_in)
    scale = np.abs(e).max()
    for k in range(len(s)):
        b = int(s.block[k])
        (r0, r1), (c0, c1) = s.block_rows[b].tolist(), s.block_cols[b].tolist()
        m = np.zeros(e.shape[1:3], dtype=bool)
        m[r0:r1, c0:c1] = True
        assert np.abs(e[k][~m]).max(initial=0.0) <= 1e-10 * scale
        assert np.abs(e[k][m]).max() > 1e-8 * scale


def test_gspace_basis_structure_matches_attributes_and_support():
    gs = gspaces.flipRot2dOnR2(4)
    rin = gs.regular_repr
    rout = gs.irrep(1, 1) + gs.regular_repr
    b = SteerableKernelBasis(gs, rin, rout, rings=[0, 1, 2])
    s = b.structure
    attrs = b.attributes
    assert len(s) == len(b) == len(attrs) and s.shape == (rout.size, rin.size)
    for k, a in enumerate(attrs):
        assert s.irreps[int(s.in_irrep[k])] == a["in_irrep"] and s.irreps[int(s.out_irrep[k])] == a["out_irrep"]
        assert s.harmonics[int(s.harmonic[k])] == a["harmonic"] and int(s.frequency[k]) == a["frequency"]
        assert float(s.radius[k]) == a["radius"] and float(s.sigma[k]) == a["sigma"]
        assert int(s.inner[k]) == a["inner"]
        blk = int(s.block[k])
        assert int(s.block_rows[blk, 0]) == a["out_offset"] and int(s.block_cols[blk, 0]) == a["in_offset"]
    pts = np.random.default_rng(0).normal(size=(12, 2))
    _support_ok(s, b.sample(pts), np.asarray(rout.change_of_basis_inv), np.asarray(rin.change_of_basis))
    assert s.irrep_names[int(s.out_irrep[0])] == gs.fibergroup.irrep(*s.irreps[int(s.out_irrep[0])]).name


def test_pair_basis_structure():
    gs = gspaces.rot3dOnR3()
    pb = IrrepsPairBasis(gs, (1,), (1,), [0.0, 1.0, 2.0], [0.6] * 3, default_cutoff)
    s = pb.structure
    assert len(s) == len(pb) and s.n_blocks == 1 and s.block_rows.tolist() == [[0, 3]]
    assert s.frequency.tolist() == [e.frequency for e in pb.elements]
    assert s.ring.tolist() == [[0.0, 1.0, 2.0].index(e.radius) for e in pb.elements]
    # 1 ⊗ 1 = 0 + 1 + 2: each harmonic l <= 2 has one intertwiner
    assert set(s.inner.tolist()) == {0}
    assert max(s.frequency.tolist()) == 2


def test_escnn_steerable_kernel_basis_structure():
    G = o2_group(6)
    X = CircularShellsBasis(4, GaussianRadialProfile([0.0, 1.0, 2.0], 0.6))
    rho = G.irrep(0, 0) + G.irrep(1, 1) + G.irrep(1, 2)
    rin = rho
    rout = G.irrep(1, 1) + G.irrep(1, 0) + G.irrep(1, 1)
    b = SteerableKernelBasis(X, rin, rout, WignerEckartBasis)
    s = b.structure
    attrs = list(b)
    assert len(s) == len(attrs)
    for k, a in enumerate(attrs):
        assert s.harmonics[int(s.harmonic[k])] == a["j"] and int(s.frequency[k]) == a["irrep:frequency"]
        assert int(s.ring[k]) == a["radial_idx"] and float(s.radius[k]) == a["radius"]
        assert s.irreps[int(s.in_irrep[k])] == a["in_irrep"] and int(s.in_irrep_idx[k]) == a["in_irrep_idx"]
        assert int(s.out_irrep_idx[k]) == a["out_irrep_idx"]
    # intertwiner index: per (block, harmonic) the elements are (intertwiner c) × (ring i), and c
    # takes as many values as the solver has intertwiners
    for (ii, oo), ib in b.irreps_bases.items():
        for j in ib.js:
            n_c = ib._coeffs_np[j].shape[0]
            sel = (
                (s.in_irrep == s.irreps.index(ii))
                & (s.out_irrep == s.irreps.index(oo))
                & (s.harmonic == s.harmonics.index(j))
            )
            if sel.any():
                assert set(s.inner[sel].tolist()) == set(range(n_c))
    pts = torch.randn(9, 2, dtype=torch.float64)
    samples = b.sample(pts).permute(1, 2, 3, 0).numpy()  # (n, o, i, S)
    _support_ok(s, samples, np.asarray(rout.change_of_basis_inv), np.asarray(rin.change_of_basis))
    # regular representations: a non-trivial change of basis
    c4 = cyclic_group(4)
    reg = c4.regular_representation
    br = kernels_CN_act_R2(reg, reg, [0.0, 1.0, 2.0], 0.6, maximum_frequency=3)
    sr = br.structure
    assert len(sr) == len(br) and sr.n_blocks > 1
    samples = br.sample(pts).permute(1, 2, 3, 0).numpy()
    _support_ok(sr, samples, np.asarray(reg.change_of_basis_inv), np.asarray(reg.change_of_basis))


def test_escnn_r3_basis_structure_and_combinators():
    G = so3_group(3)
    b = kernels_SO3_act_R3(G.irrep(1), G.irrep(1) + G.irrep(2), [0.0, 1.0, 2.0], 0.6, maximum_frequency=3)
    s = b.structure
    assert b.structure is s
    attrs = list(b)
    assert s.frequency.tolist() == [a["irrep:frequency"] for a in attrs]
    assert s.harmonics[int(s.harmonic[-1])] == attrs[-1]["j"]
    assert s.n_blocks == 2 and sorted(s.block_rows.tolist()) == [[0, 3], [3, 8]]
    R = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert AdjointBasis(b, R).structure is s
    c4 = cyclic_group(4)
    b1 = kernels_CN_act_R2(c4.irrep(0), c4.irrep(1), [0.0], 0.6, maximum_frequency=2)
    b2 = kernels_CN_act_R2(c4.irrep(0), c4.irrep(1), [1.0], 0.6, maximum_frequency=2)
    u = UnionBasis([b1, b2]).structure
    assert len(u) == len(b1) + len(b2)
    assert u.frequency.tolist() == b1.structure.frequency.tolist() + b2.structure.frequency.tolist()
    assert u.n_blocks == 1  # the same irreps pair


def test_generic_basis_without_irreps_info():
    class Ones(KernelBasis):
        def sample(self, points, out=None):
            return torch.ones(points.shape[0], self.dim, *self.shape, dtype=points.dtype)

        def __getitem__(self, idx):
            return {"idx": idx, "radius": float(idx)}

    s = Ones(3, (2, 5)).structure
    assert len(s) == 3 and s.n_blocks == 1 and s.block_rows.tolist() == [[0, 2]] and s.block_cols.tolist() == [[0, 5]]
    assert (s.in_irrep == -1).all() and (s.harmonic == -1).all() and s.radius.tolist() == [0.0, 1.0, 2.0]


def test_block_norms_and_errors():
    gs = gspaces.rot2dOnR2(4)
    b = SteerableKernelBasis(gs, gs.regular_repr, gs.regular_repr + gs.trivial_repr, rings=[0, 1, 2])
    s = b.structure
    w = torch.randn(3, len(s), dtype=torch.float64)
    n = s.block_norms(w)
    for blk in range(s.n_blocks):
        idx = s.block_weights(blk)
        assert torch.allclose(n[:, blk], w[:, idx].norm(dim=1))
    assert sum(len(s.block_weights(k)) for k in range(s.n_blocks)) == len(s)
    with pytest.raises(ValueError, match="weights"):
        s.block_norms(torch.zeros(len(s) + 1))
    with pytest.raises(TypeError, match="weights"):
        s.block_norms([0.0] * len(s))
    with pytest.raises(ValueError, match="b: "):
        s.block_weights(s.n_blocks)
    with pytest.raises(TypeError, match="parts"):
        BasisStructure.cat([])
    with pytest.raises(ValueError, match="shape"):
        BasisStructure.cat([s, IrrepsPairBasis(gs, (1,), (1,), [1.0], [0.6], default_cutoff).structure])
    moved = s.to("cpu")
    assert torch.equal(moved.block, s.block) and moved.irreps == s.irreps
