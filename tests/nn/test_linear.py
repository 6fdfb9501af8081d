"""Linear on no_base_space(G): equivariance for finite, continuous and product groups (random
elements, exact: the action on (B, C) vectors is just ρ(g)), regular/irrep/mixed types, bias
only on trivial irreps, He initialisation, eval cache, export to nn.Linear, float64, pickling,
deterministic parameters and argument validation."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

from steerable import group as sg
from steerable import gspaces
from steerable.nn import FieldType, GeometricTensor
from steerable.nn._linear import Linear
from steerable.testing import assert_equivariant, random_elements

_CACHE: dict = {}


def _group(name):
    if name not in _CACHE:
        _CACHE[name] = {
            "C5": lambda: sg.cyclic_group(5),
            "D3": lambda: sg.dihedral_group(3),
            "SO2": lambda: sg.so2_group(3),
            "O2": lambda: sg.o2_group(3),
            "SO3": lambda: sg.so3_group(2),
            "O3": lambda: sg.o3_group(2),
            "ico": lambda: sg.ico_group(),
            "octa": lambda: sg.octa_group(),
            "C2xSO2": lambda: sg.direct_product(sg.cyclic_group(2), sg.so2_group(2)),
        }[name]()
    return _CACHE[name]


GROUPS = ["C5", "D3", "SO2", "O2", "SO3", "O3", "ico", "octa", "C2xSO2"]


def _types(G, kind):
    gs = gspaces.no_base_space(G)
    irr = G.irreps()
    reg, triv = G.regular_representation, G.trivial_representation
    if kind == "regular":
        return FieldType(gs, [reg] * 2), FieldType(gs, [reg] * 3)
    if kind == "irreps":
        return FieldType(gs, irr + irr[1:2]), FieldType(gs, irr[::-1] + [irr[0]])
    # mixed, fields of one representation not contiguous (exercises the channel permutation)
    return (
        FieldType(gs, [reg, irr[1], triv, irr[-1], irr[1], reg]),
        FieldType(gs, [irr[1], reg, triv, irr[-1], irr[1]]),
    )


def _vectors(lin: Linear, batch: int = 16, dtype=torch.float32) -> GeometricTensor:
    return lin.in_type(torch.randn(batch, lin.in_type.size, dtype=dtype))


def test_check_equivariance_method():
    G = _group("C5")
    t_in, t_out = _types(G, "mixed")
    errs = Linear(t_in, t_out).check_equivariance()
    assert len(errs) == 5 and max(e for _, e in errs) < 1e-5


@pytest.mark.parametrize("kind", ["regular", "irreps", "mixed"])
@pytest.mark.parametrize("gname", GROUPS)
def test_equivariance_random_elements(gname, kind):
    torch.manual_seed(0)
    G = _group(gname)
    t_in, t_out = _types(G, kind)
    lin = Linear(t_in, t_out)
    assert lin.dimension > 0
    elements = random_elements(G, 3)
    assert_equivariant(lin, inputs=_vectors(lin), elements=elements)
    # all testing elements (every element of a finite group): g·x = ρ(g) x on R^0
    assert_equivariant(lin, inputs=_vectors(lin, 8), elements=t_in.testing_elements)
    lin.eval()
    assert_equivariant(lin, inputs=_vectors(lin), elements=elements[:1])


@pytest.mark.parametrize("gname", ["SO3", "C2xSO2", "D3"])
def test_float64(gname):
    torch.manual_seed(1)
    G = _group(gname)
    t_in, t_out = _types(G, "mixed")
    lin = Linear(t_in, t_out).double()
    x = torch.randn(5, t_in.size, dtype=torch.float64)
    y = lin(t_in(x))
    assert y.tensor.dtype == torch.float64 and lin.weights.dtype == torch.float64
    assert_equivariant(lin, inputs=_vectors(lin, dtype=torch.float64), elements=random_elements(G, 3), rtol=1e-10)
    ref = lin.float()(t_in(x.float())).tensor
    torch.testing.assert_close(y.tensor.float(), ref, atol=1e-5, rtol=1e-5)


def test_matrix_is_intertwiner_exactly():
    """The expanded matrix commutes with the representations to float64 rounding."""
    torch.manual_seed(2)
    G = _group("O3")
    t_in, t_out = _types(G, "mixed")
    with torch.no_grad():
        lin = Linear(t_in, t_out).double()
        m, _ = lin.expand_parameters()
    # m ρ_in(g) = ρ_out(g) m: the map v -> m v is equivariant on every basis vector
    assert_equivariant(
        lambda v: v @ m.T,
        inputs=torch.eye(t_in.size, dtype=torch.float64),
        in_type=t_in.fiber_representation,
        out_type=t_out.fiber_representation,
        elements=random_elements(G, 3),
        rtol=1e-10,
    )


def test_bias_only_on_trivial_irreps():
    G = _group("SO2")
    gs = gspaces.no_base_space(G)
    t_in = FieldType(gs, [G.irrep(1), G.irrep(0)])
    t_out = FieldType(gs, [G.regular_representation, G.irrep(2), G.irrep(0), G.regular_representation])
    lin = Linear(t_in, t_out)
    n_trivial = sum(1 for i in t_out.irreps if i == G.trivial_irrep_id)
    assert lin.bias is not None and lin.bias.shape == (n_trivial,) == (3,)
    with torch.no_grad():
        lin.bias.normal_()
        lin.weights.zero_()
    y = lin(t_in(torch.zeros(3, t_in.size))).tensor
    # the bias alone is an invariant vector: the constant map x -> bias is equivariant
    assert_equivariant(lin, inputs=t_in(torch.randn(3, t_in.size)), elements=random_elements(G, 3), atol=1e-5, rtol=0)
    assert y.abs().sum() > 0
    # no trivial irrep in the output: no bias at all
    assert Linear(t_in, FieldType(gs, [G.irrep(1)])).bias is None
    assert Linear(t_in, t_out, bias=False).bias is None


def test_no_equivariant_map_warns():
    G = _group("SO2")
    gs = gspaces.no_base_space(G)
    t_in, t_out = FieldType(gs, [G.irrep(1)]), FieldType(gs, [G.irrep(2)] * 2)
    with pytest.warns(UserWarning, match="no equivariant linear map"):
        lin = Linear(t_in, t_out)
    assert lin.dimension == 0 and lin.weights.numel() == 0
    y = lin(t_in(torch.randn(4, 2))).tensor
    assert y.shape == (4, 4) and torch.count_nonzero(y) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Linear(t_in, FieldType(gs, [G.irrep(1)]))


def test_he_initialisation_variance():
    torch.manual_seed(3)
    G = sg.cyclic_group(8)
    gs = gspaces.no_base_space(G)
    t = FieldType(gs, [G.regular_representation] * 8 + [G.irrep(1)] * 4 + [G.trivial_representation] * 4)
    vals = []
    x = torch.randn(2000, t.size)
    for _ in range(5):
        lin = Linear(t, t, bias=False)
        with torch.no_grad():
            vals.append(lin(t(x)).tensor.pow(2).mean().item())
    assert 1.4 < np.mean(vals) < 2.8, vals
    lin0 = Linear(t, t, initialize=False)
    assert torch.count_nonzero(lin0.weights) == 0
    lin0.reset_parameters()
    assert torch.count_nonzero(lin0.weights) > 0


def test_export_and_input_shapes():
    torch.manual_seed(4)
    G = _group("octa")
    t_in, t_out = _types(G, "mixed")
    lin = Linear(t_in, t_out)
    with torch.no_grad():
        lin.bias.normal_()
    x = torch.randn(7, t_in.size)
    for mode in (True, False):
        lin.train(mode)
        ex = lin.export()  # as escnn: the export and the layer end in eval mode
        assert type(ex) is torch.nn.Linear and not ex.training and not lin.training
        with torch.no_grad():
            torch.testing.assert_close(ex(x), lin(t_in(x)).tensor, atol=1e-5, rtol=1e-5)
    # (C,) and (B, C, T): the map acts on the channel axis of the GeometricTensor convention
    with torch.no_grad():
        y = lin(t_in(x)).tensor
        torch.testing.assert_close(lin(t_in(x[0])).tensor, y[0], atol=1e-6, rtol=1e-6)
        x3 = torch.stack([x, 2 * x], dim=-1)  # (B, C, 2)
        y3 = lin(t_in(x3)).tensor
        assert y3.shape == (7, t_out.size, 2)
        torch.testing.assert_close(y3[..., 0], y, atol=1e-6, rtol=1e-6)
    assert lin.evaluate_output_shape((7, t_in.size)) == (7, t_out.size)
    assert lin.evaluate_output_shape((t_in.size,)) == (t_out.size,)
    assert lin.evaluate_output_shape((7, t_in.size, 2)) == (7, t_out.size, 2)
    with pytest.raises(ValueError, match="input_shape"):
        lin.evaluate_output_shape((7, t_in.size + 1))


def test_eval_cache_and_state_dict():
    torch.manual_seed(5)
    G = _group("D3")
    t_in, t_out = _types(G, "mixed")
    lin = Linear(t_in, t_out)
    keys_train = list(lin.state_dict().keys())
    lin.eval()
    assert list(lin.state_dict().keys()) == keys_train == ["weights", "bias"]
    x = t_in(torch.randn(3, t_in.size))
    with torch.no_grad():
        y1 = lin(x).tensor
        m1 = lin._cache[1]
        y2 = lin(x).tensor
        assert lin._cache[1] is m1
        torch.testing.assert_close(y1, y2)
        lin.weights.mul_(2.0)  # in-place update invalidates the cache
        y3 = lin(x).tensor
        assert lin._cache[1] is not m1
    torch.testing.assert_close(
        y3 - lin.bias_expansion @ lin.bias, 2 * (y1 - lin.bias_expansion @ lin.bias), atol=1e-5, rtol=1e-5
    )
    # gradients flow in training mode
    lin.train()
    lin(x).tensor.pow(2).sum().backward()
    assert lin.weights.grad is not None and lin.weights.grad.abs().sum() > 0
    # load_state_dict round trip into a fresh module
    other = Linear(t_in, t_out)
    other.load_state_dict(lin.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(other(x).tensor, lin(x).tensor)


def test_deterministic_parameters_pickle_deepcopy():
    G = _group("SO3")
    t_in, t_out = _types(G, "mixed")
    a, b = Linear(t_in, t_out), Linear(t_in, t_out)
    assert [(n, p.shape) for n, p in a.named_parameters()] == [(n, p.shape) for n, p in b.named_parameters()]
    assert [(n, p.shape) for n, p in a.named_buffers()] == [(n, p.shape) for n, p in b.named_buffers()]
    x = t_in(torch.randn(4, t_in.size))
    a.eval()
    with torch.no_grad():
        y = a(x).tensor  # fills the cache: must not break pickling
        for c in (pickle.loads(pickle.dumps(a)), copy.deepcopy(a)):
            assert c.in_type == t_in and c.out_type == t_out
            torch.testing.assert_close(c(x).tensor, y)


def test_bad_arguments():
    G = _group("C5")
    gs = gspaces.no_base_space(G)
    t = FieldType(gs, [G.regular_representation])
    gs2 = gspaces.rot2dOnR2(4)
    with pytest.raises(TypeError, match="in_type"):
        Linear("x", t)
    with pytest.raises(TypeError, match="out_type"):
        Linear(t, [G.regular_representation])
    with pytest.raises(ValueError, match="out_type"):  # different gspaces
        Linear(FieldType(gs2, [gs2.regular_repr]), t)
    # as escnn, Linear also maps the fibres of field types on a base space (pointwise on the grid)
    fib = Linear(FieldType(gs2, [gs2.regular_repr]), FieldType(gs2, [gs2.regular_repr, gs2.trivial_repr]))
    assert fib(FieldType(gs2, [gs2.regular_repr])(torch.randn(3, 4, 5, 5))).shape == (3, 5, 5, 5)
    with pytest.raises(ValueError, match="out_type"):
        G2 = sg.cyclic_group(4)
        Linear(t, FieldType(gspaces.no_base_space(G2), [G2.regular_representation]))
    with pytest.raises(TypeError, match="bias"):
        Linear(t, t, bias="yes")
    lin = Linear(t, t)
    with pytest.raises(TypeError, match="input"):
        lin(torch.randn(2, 5))
    t2 = FieldType(gs, [G.irreps()[1], G.irreps()[1], G.trivial_representation])
    with pytest.raises(ValueError, match="input"):
        lin(t2(torch.randn(2, 5)))


def test_linear_float64_exact_and_cache_follows_data_edits():
    """Shared ExpansionCacheMixin: .double() re-casts the basis from float64; edits through .data
    invalidate the eval cache."""
    import torch

    from steerable import gspaces
    from steerable.nn import FieldType
    from steerable.nn._linear import Linear

    gs = gspaces.no_base_space(__import__("steerable").group.so3_group(2))
    t = FieldType(gs, [gs.irrep(l) for l in range(3)] * 2)
    lin = Linear(t, t).double().eval()
    x = torch.randn(4, t.size, dtype=torch.float64)
    assert_equivariant(lin, inputs=t(x), elements=[gs.fibergroup.sample(seed=1)], atol=1e-12, rtol=0)
    with torch.no_grad():
        before = lin(t(x)).tensor.clone()
        lin.weights.data.mul_(2.0)
        after = lin(t(x)).tensor
    assert not torch.allclose(before, after)
