"""HarmonicPolynomialR3: the solid harmonics |x|^l Y_l(x̂) as irreps fields of SO(3) / O(3) on
no_base_space; exact equivariance (testing elements and random elements, float32 and float64),
agreement with the numpy spherical harmonics, homogeneity, export, pickling and bad input."""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest
import torch

from steerable.group import cyclic_group, o3_group, so3_group
from steerable.group._so3_math import real_spherical_harmonics
from steerable.gspaces import no_base_space
from steerable.nn import FieldType, GeometricTensor
from steerable.nn._harmonic_polynomial import HarmonicPolynomialR3
from steerable.testing import assert_equivariant, random_elements

GROUPS = {"so3": "so3", "o3": "o3", "so3_instance": so3_group(2), "o3_instance": o3_group(3)}


@pytest.mark.parametrize("group", list(GROUPS))
@pytest.mark.parametrize("L", [0, 1, 2, 4])
def test_equivariance(group, L):
    hp = HarmonicPolynomialR3(L, GROUPS[group])
    errs = hp.check_equivariance()  # identity, fixed and random elements, float32
    assert max(e for _, e in errs) < 1e-5
    G = hp.G
    for dtype, tol in ((torch.float32, 1e-5), (torch.float64, 1e-12)):
        x = hp.in_type(torch.randn(25, 3, dtype=dtype, generator=torch.Generator().manual_seed(L)))
        assert_equivariant(
            hp, inputs=x, elements=list(hp.in_type.testing_elements) + random_elements(G, 5, seed=L), rtol=tol
        )


@pytest.mark.parametrize("group", ["so3", "o3"])
def test_values_types_and_homogeneity(group):
    L = 4
    hp = HarmonicPolynomialR3(L, group)
    G = hp.G
    assert hp.in_type == FieldType(no_base_space(G), [G.standard_representation])
    ids = [(l,) for l in range(L + 1)] if group == "so3" else [(l % 2, l) for l in range(L + 1)]
    assert [r for r in hp.out_type.representations] == [G.irrep(*i) for i in ids]
    assert hp.out_type.size == (L + 1) ** 2 and len(hp.out_type) == L + 1
    x = np.random.default_rng(0).normal(size=(20, 3))
    x[0] = 0.0
    out = hp(hp.in_type(torch.tensor(x))).tensor
    ref = real_spherical_harmonics(L, x)
    r = np.linalg.norm(x, axis=1, keepdims=True)
    for l in range(L + 1):
        sl = slice(l * l, (l + 1) ** 2)
        np.testing.assert_allclose(
            out[:, sl].numpy(), ref[:, sl] * math.sqrt(4 * math.pi / (2 * l + 1)) * r**l, atol=1e-11, rtol=1e-11
        )
    assert torch.all(out[:, 0] == 1) and torch.all(out[0, 1:] == 0)
    xt = torch.tensor(x)
    for lam in (-1.5, 0.3):
        scaled = hp(hp.in_type(lam * xt)).tensor
        for l in range(L + 1):
            sl = slice(l * l, (l + 1) ** 2)
            torch.testing.assert_close(scaled[:, sl], lam**l * out[:, sl], atol=1e-10, rtol=1e-12)


def test_shapes_coords_gradients():
    hp = HarmonicPolynomialR3(3)
    pts = torch.randn(7, 3, requires_grad=True)
    coords = torch.zeros(7, 0)
    out = hp(GeometricTensor(pts, hp.in_type, coords))
    assert out.tensor.shape == (7, 16) and out.coords is coords and out.type == hp.out_type
    out.tensor.pow(2).sum().backward()
    assert torch.isfinite(pts.grad).all() and pts.grad.abs().max() > 0
    one = hp(GeometricTensor(torch.tensor([0.0, 0.0, 1.0]), hp.in_type))
    assert one.tensor.shape == (16,)
    assert hp.evaluate_output_shape((7, 3)) == (7, 16)
    assert hp.evaluate_output_shape((3,)) == (16,)
    with pytest.raises(ValueError, match="input_shape"):
        hp.evaluate_output_shape((7, 4))


def test_export_pickle_state():
    hp = HarmonicPolynomialR3(3, "o3")
    x = hp.in_type(torch.randn(9, 3))
    out = hp(x).tensor
    ex = hp.export()
    assert not isinstance(ex, HarmonicPolynomialR3) and not list(ex.parameters()) and not list(ex.buffers())
    torch.testing.assert_close(ex(x.tensor), out, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(ex(x.tensor[0]), out[0], atol=1e-6, rtol=1e-6)
    for clone in (pickle.loads(pickle.dumps(hp)), copy.deepcopy(hp)):
        torch.testing.assert_close(clone(x).tensor, out)
    assert hp.state_dict() == {} and hp.eval().state_dict() == {}
    assert [n for n, _ in HarmonicPolynomialR3(3).named_buffers()] == []
    d = hp.double()(x.to(torch.float64))
    assert d.tensor.dtype == torch.float64


def test_bad_input():
    for bad, exc in ((-1, ValueError), (1.5, TypeError), (True, TypeError), ("2", TypeError)):
        with pytest.raises(exc, match="L"):
            HarmonicPolynomialR3(bad)
    with pytest.raises(ValueError, match="group"):
        HarmonicPolynomialR3(2, "so2")
    with pytest.raises(ValueError, match="group"):
        HarmonicPolynomialR3(2, cyclic_group(4))
    with pytest.raises(TypeError, match="group"):
        HarmonicPolynomialR3(2, 3)
    hp = HarmonicPolynomialR3(2)
    with pytest.raises(TypeError, match="GeometricTensor"):
        hp(torch.randn(4, 3))
    other = FieldType(no_base_space(so3_group(2)), [so3_group(2).irrep(1)])
    with pytest.raises(ValueError, match="field type"):
        hp(GeometricTensor(torch.randn(4, 3), other))
