"""Loading escnn checkpoints: the same architecture written with steerable (only the import
changed) loads an escnn-trained state_dict and computes escnn's outputs.

The fixtures ``data/escnn_<name>.pt`` (state_dict, a fixed input, escnn's eval-mode output) are
made by ``scripts/make_escnn_fixtures.py`` in an environment with escnn, from the builders below
(each takes the library's ``gspaces`` and ``nn`` modules, so escnn and steerable build the same
model from the same code).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

DATA = Path(__file__).parent / "data"


# -- the models (library-agnostic) -----------------------------------------------------------------
def build_c8(gspaces, nn):
    gs = gspaces.rot2dOnR2(8)
    t0 = nn.FieldType(gs, [gs.trivial_repr])
    t1 = nn.FieldType(gs, [gs.regular_repr] * 8)
    return nn.SequentialModule(
        nn.R2Conv(t0, t1, kernel_size=5, padding=2),
        nn.InnerBatchNorm(t1),
        nn.ReLU(t1),
        nn.R2Conv(t1, t1, kernel_size=3),
        nn.GroupPooling(t1),
    )


def build_c4_mixed(gspaces, nn):
    """Regular and trivial fields interleaved (non-contiguous blocks), kernel size 7, C4."""
    gs = gspaces.rot2dOnR2(4)
    t0 = nn.FieldType(gs, [gs.trivial_repr] * 2)
    t1 = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr, gs.regular_repr, gs.trivial_repr])
    t2 = nn.FieldType(gs, [gs.trivial_repr, gs.regular_repr] * 2)
    return nn.SequentialModule(
        nn.R2Conv(t0, t1, kernel_size=7, padding=3),
        nn.InnerBatchNorm(t1),
        nn.ReLU(t1),
        nn.R2Conv(t1, t2, kernel_size=3, padding=1, bias=False),
    )


def build_c16(gspaces, nn):
    gs = gspaces.rot2dOnR2(16)
    t0 = nn.FieldType(gs, [gs.trivial_repr])
    t1 = nn.FieldType(gs, [gs.regular_repr] * 2)
    t2 = nn.FieldType(gs, [gs.irrep(1), gs.irrep(3), gs.trivial_repr, gs.irrep(8)])
    return nn.SequentialModule(
        nn.R2Conv(t0, t1, kernel_size=7),
        nn.InnerBatchNorm(t1),
        nn.ReLU(t1),
        nn.R2Conv(t1, t2, kernel_size=3),
    )


def build_c8_irreps(gspaces, nn):
    """Irrep fields (non-contiguous), NormBatchNorm, irreps -> regular/trivial."""
    gs = gspaces.rot2dOnR2(8)
    t0 = nn.FieldType(gs, [gs.trivial_repr])
    t1 = nn.FieldType(gs, [gs.irrep(1), gs.irrep(2), gs.irrep(1), gs.irrep(3), gs.irrep(4)])
    t2 = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr, gs.irrep(1), gs.regular_repr])
    return nn.SequentialModule(
        nn.R2Conv(t0, t1, kernel_size=5, padding=2),
        nn.NormBatchNorm(t1),
        nn.R2Conv(t1, t2, kernel_size=3),
    )


def build_gnorm_iid(gspaces, nn):
    """GNormBatchNorm on irrep fields (escnn's GNormBatchNorm fails on fields with a change of
    basis, e.g. regular ones, under recent torch) and IIDBatchNorm2d on interleaved fields."""
    gs = gspaces.rot2dOnR2(8)
    t0 = nn.FieldType(gs, [gs.trivial_repr])
    t1 = nn.FieldType(gs, [gs.irrep(1), gs.irrep(1), gs.trivial_repr, gs.irrep(2), gs.trivial_repr])
    t2 = nn.FieldType(gs, [gs.regular_repr, gs.irrep(2), gs.trivial_repr, gs.regular_repr])
    return nn.SequentialModule(
        nn.R2Conv(t0, t1, kernel_size=3, padding=1),
        nn.GNormBatchNorm(t1),
        nn.R2Conv(t1, t2, kernel_size=3, padding=1),
        nn.IIDBatchNorm2d(t2),
    )


def build_nonlinear(gspaces, nn):
    """Learnable biases of gated and norm non-linearities (escnn keeps them with singleton axes)."""
    gs = gspaces.rot2dOnR2(8)
    t0 = nn.FieldType(gs, [gs.trivial_repr])
    gates = nn.FieldType(gs, [gs.trivial_repr] * 2)
    gated = nn.FieldType(gs, [gs.irrep(1), gs.irrep(2)])
    t1 = gates + gated
    t2 = nn.FieldType(gs, [gs.irrep(1), gs.irrep(2), gs.irrep(1)])
    t3 = nn.FieldType(gs, [gs.trivial_repr] * 2)
    return nn.SequentialModule(
        nn.R2Conv(t0, t1, kernel_size=3, padding=1),
        nn.GatedNonLinearity1(t1),
        nn.R2Conv(gated, t2, kernel_size=3, padding=1),
        nn.NormNonLinearity(t2, function="n_relu", bias=True),
        nn.R2Conv(t2, t3, kernel_size=3),
    )


def build_d4(gspaces, nn):
    gs = gspaces.flipRot2dOnR2(4)
    t0 = nn.FieldType(gs, [gs.trivial_repr])
    t1 = nn.FieldType(gs, [gs.regular_repr] * 3)
    t2 = nn.FieldType(gs, [gs.regular_repr] * 2 + [gs.irrep(1, 1), gs.trivial_repr])
    return nn.SequentialModule(
        nn.R2Conv(t0, t1, kernel_size=5, padding=2),
        nn.InnerBatchNorm(t1),
        nn.ReLU(t1),
        nn.R2Conv(t1, t2, kernel_size=3),
    )


def build_so2(gspaces, nn):
    gs = gspaces.rot2dOnR2(-1, maximum_frequency=3)
    t0 = nn.FieldType(gs, [gs.trivial_repr])
    t1 = nn.FieldType(gs, [gs.irrep(1), gs.irrep(2), gs.irrep(1)])
    t2 = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(1)])
    return nn.SequentialModule(
        nn.R2Conv(t0, t1, kernel_size=5, padding=2),
        nn.NormBatchNorm(t1),
        nn.R2Conv(t1, t2, kernel_size=5),
    )


def build_o2(gspaces, nn):
    gs = gspaces.flipRot2dOnR2(-1, maximum_frequency=3)
    t0 = nn.FieldType(gs, [gs.trivial_repr])
    t1 = nn.FieldType(gs, [gs.irrep(1, 1), gs.irrep(1, 2), gs.irrep(1, 0)])
    t2 = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(1, 1)])
    return nn.SequentialModule(
        nn.R2Conv(t0, t1, kernel_size=5, padding=2),
        nn.NormBatchNorm(t1),
        nn.R2Conv(t1, t2, kernel_size=3),
    )


def build_c4_transposed(gspaces, nn):
    gs = gspaces.rot2dOnR2(4)
    t0 = nn.FieldType(gs, [gs.trivial_repr])
    t1 = nn.FieldType(gs, [gs.regular_repr] * 2)
    t2 = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    return nn.SequentialModule(
        nn.R2Conv(t0, t1, kernel_size=3, stride=2),
        nn.ReLU(t1),
        nn.R2ConvTransposed(t1, t2, kernel_size=3, stride=2),
    )


def build_tutorial(gspaces, nn):
    """A small version of escnn's C8 MNIST tutorial model: equivariant blocks, then plain torch."""

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            gs = gspaces.rot2dOnR2(8)
            self.in_type = nn.FieldType(gs, [gs.trivial_repr])
            t1 = nn.FieldType(gs, [gs.regular_repr] * 4)
            t2 = nn.FieldType(gs, [gs.regular_repr] * 8)
            self.mask = nn.MaskModule(self.in_type, 21, margin=1)
            self.block1 = nn.SequentialModule(
                nn.R2Conv(self.in_type, t1, kernel_size=5, padding=1, bias=False),
                nn.InnerBatchNorm(t1),
                nn.ReLU(t1, inplace=True),
            )
            self.pool1 = nn.PointwiseAvgPoolAntialiased(t1, sigma=0.66, stride=2)
            self.block2 = nn.SequentialModule(
                nn.R2Conv(t1, t2, kernel_size=3, padding=1, bias=False),
                nn.InnerBatchNorm(t2),
                nn.ReLU(t2, inplace=True),
            )
            self.gpool = nn.GroupPooling(t2)
            self.fully_net = torch.nn.Sequential(
                torch.nn.Linear(8, 16),
                torch.nn.BatchNorm1d(16),
                torch.nn.ELU(inplace=True),
                torch.nn.Linear(16, 3),
            )

        def forward(self, x):
            x = self.gpool(self.block2(self.pool1(self.block1(self.mask(x)))))
            return self.fully_net(x.tensor.mean(dim=(2, 3)))

    return Net()


def build_linear(gspaces, nn):
    gs = gspaces.no_base_space(gspaces.rot2dOnR2(8).fibergroup)
    G = gs.fibergroup
    t0 = nn.FieldType(gs, [G.regular_representation] * 2 + [G.trivial_representation])
    t1 = nn.FieldType(gs, [G.irrep(1), G.regular_representation, G.trivial_representation])
    return nn.SequentialModule(nn.Linear(t0, t1))


def build_octa(gspaces, nn):
    """Octahedral fields whose conventions steerable shares with escnn (trivial, standard irrep)."""
    gs = gspaces.octaOnR3()
    t0 = nn.FieldType(gs, [gs.trivial_repr])
    t1 = nn.FieldType(gs, [gs.trivial_repr, gs.fibergroup.irrep(1), gs.fibergroup.irrep(1)])
    t2 = nn.FieldType(gs, [gs.trivial_repr] * 2 + [gs.fibergroup.irrep(1)])
    return nn.SequentialModule(nn.R3Conv(t0, t1, kernel_size=3, padding=1), nn.R3Conv(t1, t2, kernel_size=3))


def build_so3(gspaces, nn):
    gs = gspaces.rot3dOnR3(maximum_frequency=2)
    t0 = nn.FieldType(gs, [gs.trivial_repr])
    t1 = nn.FieldType(gs, [gs.irrep(1), gs.irrep(2)])
    t2 = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(1)])
    return nn.SequentialModule(
        nn.R3Conv(t0, t1, kernel_size=3, padding=1),
        nn.NormBatchNorm(t1),
        nn.R3Conv(t1, t2, kernel_size=3),
    )


BUILDERS = {
    "tutorial": (build_tutorial, (2, 1, 21, 21)),
    "linear": (build_linear, (3, 17)),
    "octa": (build_octa, (1, 1, 5, 5, 5)),
    "so3": (build_so3, (1, 1, 5, 5, 5)),
    "c8": (build_c8, (1, 1, 17, 17)),
    "c4_mixed": (build_c4_mixed, (1, 2, 13, 13)),
    "c16": (build_c16, (1, 1, 13, 13)),
    "c8_irreps": (build_c8_irreps, (1, 1, 11, 11)),
    "d4": (build_d4, (1, 1, 11, 11)),
    "gnorm_iid": (build_gnorm_iid, (1, 1, 9, 9)),
    "nonlinear": (build_nonlinear, (1, 1, 9, 9)),
    "so2": (build_so2, (1, 1, 11, 11)),
    "o2": (build_o2, (1, 1, 11, 11)),
    "c4_transposed": (build_c4_transposed, (1, 1, 11, 11)),
}


# -- tests ------------------------------------------------------------------------------------------
def _load(name):
    path = DATA / f"escnn_{name}.pt"
    if not path.exists():
        pytest.skip(f"fixture {path.name} not generated (scripts/make_escnn_fixtures.py)")
    return torch.load(path, weights_only=True)


def _steerable_model(name):
    from steerable import gspaces, nn

    torch.manual_seed(0)
    return BUILDERS[name][0](gspaces, nn)


def _run(model, x):
    with torch.no_grad():
        y = model.eval()(model.in_type(x))
    return getattr(y, "tensor", y)


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_escnn_checkpoint_gives_escnn_outputs(name):
    from steerable.nn._escnn_checkpoint import load_escnn_state_dict

    fx = _load(name)
    model = _steerable_model(name)
    before = _run(model, fx["input"])
    assert _rel(before, fx["output"]) > 1e-2  # a fresh model does not compute escnn's function
    load_escnn_state_dict(model, fx["state_dict"])
    out = _run(model, fx["input"])
    assert out.shape == fx["output"].shape
    assert _rel(out, fx["output"]) < 1e-5


C_N_FIXTURES = ["c8", "c4_mixed", "c16", "c8_irreps", "c4_transposed"]


@pytest.mark.parametrize("name", C_N_FIXTURES)
def test_rederived_escnn_bases_equal_the_stored_ones(name):
    """The re-derived sampled bases of every C_N layer equal escnn's, pair by pair, in order."""
    from steerable import nn
    from steerable.nn.escnn_compat import _conv, _layout, _r2_basis

    fx = _load(name)
    model = _steerable_model(name)
    convs = [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.R2Conv, nn.R2ConvTransposed))]
    assert convs
    for prefix, conv in convs:
        sub = {k[len(prefix) + 1 :]: v for k, v in fx["state_dict"].items() if k.startswith(prefix + ".")}
        kind = _conv._kind(conv)
        ins, outs = _conv._expansion_types(conv, kind)
        mine = _r2_basis.escnn_bases(conv, ins, outs, kind, prefix)
        names = {_layout.escape(r.name): r.name for r in ins + outs}
        stored = {(names[a], names[b]): v.double().numpy() for (a, b), v in _layout.stored_pairs(sub).items()}
        assert sorted(mine) == sorted(stored)
        for pair, basis in stored.items():
            assert mine[pair].shape == basis.shape
            np.testing.assert_allclose(mine[pair], basis, atol=1e-6)


@pytest.mark.parametrize("name", C_N_FIXTURES)
def test_reproduced_escnn_basis_matches_stored(name):
    """Without escnn's sampled bases in the state_dict, they are re-derived: same filters."""
    from steerable.nn._escnn_checkpoint import load_escnn_state_dict

    fx = _load(name)
    sd = {k: v for k, v in fx["state_dict"].items() if "_basisexpansion" not in k}
    model = _steerable_model(name)
    load_escnn_state_dict(model, sd)
    out = _run(model, fx["input"])
    assert _rel(out, fx["output"]) < 1e-5


def test_strict_reports_unknown_and_missing_entries():
    from steerable.nn._escnn_checkpoint import load_escnn_state_dict

    fx = _load("c8")
    model = _steerable_model("c8")
    sd = dict(fx["state_dict"])
    sd["extra.weight"] = torch.zeros(3)
    with pytest.raises(ValueError, match="extra.weight"):
        load_escnn_state_dict(model, sd)
    res = load_escnn_state_dict(model, sd, strict=False)
    assert res.unexpected_keys == ["extra.weight"] and res.missing_keys == []
    sd = {k: v for k, v in fx["state_dict"].items() if not k.startswith("1.")}
    with pytest.raises(ValueError, match=r"^1: the escnn checkpoint lacks \['batch_norm_\[8\]\.weight'\]"):
        load_escnn_state_dict(model, sd)


def test_field_type_mismatch_is_a_clear_error():
    from steerable import gspaces, nn
    from steerable.nn._escnn_checkpoint import load_escnn_state_dict

    fx = _load("c8")
    gs = gspaces.rot2dOnR2(8)
    t0 = nn.FieldType(gs, [gs.trivial_repr])
    t1 = nn.FieldType(gs, [gs.regular_repr] * 7)  # one field fewer than the checkpoint's
    model = nn.SequentialModule(nn.R2Conv(t0, t1, kernel_size=5, padding=2), nn.InnerBatchNorm(t1))
    sd = {k: v for k, v in fx["state_dict"].items() if k.startswith(("0.", "1."))}
    with pytest.raises(ValueError, match="^0:"):
        load_escnn_state_dict(model, sd)


def test_span_mismatch_is_a_clear_error():
    """A layer whose basis cannot express escnn's filter (here: a single ring) is refused."""
    from steerable import gspaces, nn
    from steerable.nn._escnn_checkpoint import load_escnn_state_dict

    fx = _load("c8")
    gs = gspaces.rot2dOnR2(8)
    t0 = nn.FieldType(gs, [gs.trivial_repr])
    t1 = nn.FieldType(gs, [gs.regular_repr] * 8)
    conv = nn.R2Conv(t0, t1, kernel_size=5, padding=2, rings=[2.0])
    sd = {k[2:]: v for k, v in fx["state_dict"].items() if k.startswith("0.")}
    with pytest.raises(ValueError, match="span"):
        load_escnn_state_dict(conv, sd)


def test_bad_arguments():
    from steerable.nn._escnn_checkpoint import load_escnn_state_dict

    with pytest.raises(TypeError, match="model"):
        load_escnn_state_dict("model", {})
    with pytest.raises(TypeError, match="escnn_state_dict"):
        load_escnn_state_dict(torch.nn.Linear(2, 2), [1, 2])


def test_rederiving_bases_outside_c_n_is_a_clear_error():
    from steerable.nn._escnn_checkpoint import load_escnn_state_dict

    fx = _load("d4")
    sd = {k: v for k, v in fx["state_dict"].items() if "_basisexpansion" not in k}
    with pytest.raises(ValueError, match="^0: .*re-deriving them is implemented for R2Conv on rot2dOnR2"):
        load_escnn_state_dict(_steerable_model("d4"), sd)


def test_derived_buffers_are_checked():
    """escnn's MaskModule mask is dropped, but a model built with another margin is refused."""
    from steerable import gspaces, nn
    from steerable.nn._escnn_checkpoint import load_escnn_state_dict

    fx = _load("tutorial")
    gs = gspaces.rot2dOnR2(8)
    mask = nn.MaskModule(nn.FieldType(gs, [gs.trivial_repr]), 21, margin=1)
    assert load_escnn_state_dict(mask, {"mask": fx["state_dict"]["mask.mask"]}) == ([], [])
    other = nn.MaskModule(nn.FieldType(gs, [gs.trivial_repr]), 21, margin=3)
    with pytest.raises(ValueError, match="^mask: escnn's MaskModule was built with a different 'mask'"):
        load_escnn_state_dict(other, {"mask": fx["state_dict"]["mask.mask"]})
