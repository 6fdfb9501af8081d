"""Constants with float64 masters (steerable.nn._constants.ExactConstants), the one mechanism
every module uses for its bases, sampling matrices and changes of basis.

For every kind of module: after ``.float().double()`` (or building in float32 and converting),
every floating buffer equals the one of a module built in float64 bit for bit; the constants stay
out of the state_dict; pickling and deepcopy keep the masters; a dtype change rebuilds from the
master (also to half precision), a move that keeps the dtype keeps the buffer.
"""

from __future__ import annotations

import copy
import pickle
from contextlib import contextmanager

import numpy as np
import pytest
import torch

from steerable import gspaces, nn
from steerable.group import cyclic_group
from steerable.nn._constants import ExactConstants


@contextmanager
def default_dtype(dtype: torch.dtype):
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


class _CustomBasisConv(nn.R2Conv):
    """An R2Conv overriding ``_build_kernel_basis``: its basis is a RepBasisExpansion."""

    def _build_kernel_basis(self, in_repr, out_repr):
        return super()._build_kernel_basis(in_repr, out_repr)


def _c8():
    return gspaces.rot2dOnR2(8)


def _mixed(gs):
    return nn.FieldType(gs, [gs.regular_repr, gs.irrep(1), gs.trivial_repr])


def _linear():  # regular fields of C_8: the bases in the fields' own basis hold cos(pi/4)
    gs = gspaces.no_base_space(cyclic_group(8))
    return nn.Linear(nn.FieldType(gs, [gs.regular_repr, gs.irrep(1)]), nn.FieldType(gs, [gs.regular_repr] * 2))


def _conv():
    gs = _c8()
    return nn.R2Conv(_mixed(gs), _mixed(gs), 5)


def _conv_irreps():  # blocks with changes of basis (no folded plan)
    gs = gspaces.rot2dOnR2(-1, maximum_frequency=3)
    t = nn.FieldType(gs, [gs.irrep(1), gs.irrep(2), gs.trivial_repr])
    return nn.R2Conv(t, t, 3)


def _custom_conv():
    gs = gspaces.rot2dOnR2(4)
    return _CustomBasisConv(_mixed(gs), _mixed(gs), 3)


def _point_conv():
    gs = _c8()
    return nn.R2PointConv(_mixed(gs), _mixed(gs), rings=[0.0, 1.0])


BUILDERS = {
    "Linear": _linear,
    "R2Conv": _conv,
    "R2Conv-irreps": _conv_irreps,
    "R2Conv-custom-basis": _custom_conv,
    "R2PointConv": _point_conv,
    "InnerBatchNorm": lambda: nn.InnerBatchNorm(
        nn.FieldType(gspaces.rot2dOnR2(6), [gspaces.rot2dOnR2(6).regular_repr])
    ),
    "GNormBatchNorm": lambda: nn.GNormBatchNorm(_mixed(_c8())),
    "IIDBatchNorm2d": lambda: nn.IIDBatchNorm2d(_mixed(_c8())),
    "FieldNorm": lambda: nn.FieldNorm(nn.FieldType(_c8(), [_c8().regular_repr, _c8().irrep(1)])),
    "LayerNorm": lambda: nn.LayerNorm(_mixed(_c8())),
    "InstanceNorm": lambda: nn.InstanceNorm(_mixed(_c8())),
    "FourierPointwise": lambda: nn.FourierPointwise(
        gspaces.rot2dOnR2(-1, maximum_frequency=3), 2, [(0,), (1,), (2,)], "regular", 7
    ),
    "QuotientFourierPointwise": lambda: nn.QuotientFourierPointwise(
        gspaces.rot3dOnR3(maximum_frequency=2), (False, -1), 1, 1, "thomson", 12
    ),
    "TensorProductModule": lambda: nn.TensorProductModule(
        nn.FieldType(_c8(), [_c8().irrep(1)] * 2), nn.FieldType(_c8(), [_c8().irrep(2), _c8().irrep(0)])
    ),
    "VectorFieldNonLinearity": lambda: nn.VectorFieldNonLinearity(
        nn.FieldType(gspaces.rot2dOnR2(6), [gspaces.rot2dOnR2(6).regular_repr])
    ),
}


def _constants(module: torch.nn.Module) -> dict[str, np.ndarray]:
    """Every registered constant of ``module`` and its submodules: qualified name -> master."""
    out = {}
    for prefix, m in module.named_modules():
        if isinstance(m, ExactConstants):
            for name in m.__dict__.get("_constant_masters", {}):
                out[f"{prefix}.{name}" if prefix else name] = m.constant_master(name)
    return out


def _float_buffers(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: b for n, b in module.named_buffers() if b.is_floating_point()}


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def built(request):
    build = BUILDERS[request.param]
    torch.manual_seed(0)
    m32 = build()
    with default_dtype(torch.float64):
        torch.manual_seed(0)
        m64 = build()
    return request.param, m32, m64


def test_every_module_kind_has_constants(built):
    name, m32, _ = built
    consts = _constants(m32)
    assert consts, f"{name} registers no constant"
    buffers = dict(m32.named_buffers())
    for n in consts:
        assert buffers[n].dtype == torch.float32


def test_float_then_double_is_bitwise_the_float64_module(built):
    name, m32, m64 = built
    m = copy.deepcopy(m32).float().double()
    got, want = _float_buffers(m), _float_buffers(m64)
    assert set(got) == set(want)
    for n in want:
        assert got[n].dtype == torch.float64, n
        assert torch.equal(got[n], want[n]), f"{name}: buffer {n} differs from the float64-built module"
    # and the constants are their masters, which are not float32 numbers (the test has teeth)
    consts = _constants(m)
    lossy = [n for n, v in consts.items() if not np.array_equal(v, v.astype(np.float32).astype(np.float64))]
    for n, v in consts.items():
        assert np.array_equal(dict(m.named_buffers())[n].numpy(), v), n
    assert lossy, f"{name}: every constant is exact in float32, so the check proves nothing"


def test_constants_stay_out_of_the_state_dict(built):
    name, m32, m64 = built
    keys32 = list(m32.state_dict())
    assert keys32 == list(m64.state_dict()) == list(copy.deepcopy(m32).double().state_dict())
    assert not set(_constants(m32)) & set(keys32), name


def test_pickle_and_deepcopy_keep_the_masters(built):
    name, m32, m64 = built
    for m in (pickle.loads(pickle.dumps(m32)), copy.deepcopy(m32)):
        assert set(_constants(m)) == set(_constants(m32))
        for n, b in _float_buffers(m).items():
            assert torch.equal(b, _float_buffers(m32)[n]), n
        m.double()
        for n, b in _float_buffers(m64).items():
            assert torch.equal(_float_buffers(m)[n], b), f"{name}: {n} after a round trip and .double()"


def test_half_is_cast_from_the_master():
    m = _conv_irreps().half()
    for n, master in _constants(m).items():
        assert torch.equal(dict(m.named_buffers())[n], torch.as_tensor(master, dtype=torch.float16)), n


class _Scale(ExactConstants, torch.nn.Module):
    def __init__(self, source=(1 / 3, 2 / 3)):
        super().__init__()
        self.calls = 0
        self.register_constant("c", source)

    def forward(self, x):
        return x * self.c.sum()


class _Recomputed(ExactConstants, torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.calls = 0
        self.register_constant("c", self.source)

    def source(self):
        self.calls += 1
        return np.array([np.pi, np.e])


def test_a_move_that_keeps_the_dtype_keeps_the_buffer():
    m = _Scale()
    with torch.no_grad():
        m.c.add_(1.0)  # a user's in-place edit survives .to(same dtype) and .cpu()
    edited = m.c.clone()
    m.to("cpu").cpu().to(torch.float32)
    assert torch.equal(m.c, edited)
    m.double()  # a dtype change rebuilds from the master
    assert torch.equal(m.c, torch.tensor([1 / 3, 2 / 3], dtype=torch.float64))


def test_a_callable_source_is_recomputed_on_each_dtype_change():
    m = _Recomputed()
    assert m.calls == 1 and m.c.dtype == torch.get_default_dtype()
    m.cpu()
    assert m.calls == 1
    m.double()
    assert m.calls == 2 and torch.equal(m.c, torch.tensor([np.pi, np.e], dtype=torch.float64))
    m2 = pickle.loads(pickle.dumps(m.float()))
    m2.double()
    assert torch.equal(m2.c, torch.tensor([np.pi, np.e], dtype=torch.float64))


def test_register_constant_checks_its_arguments():
    m = _Scale()
    with pytest.raises(TypeError, match="dtype"):
        m.register_constant("d", [1.0], torch.int64)
    with pytest.raises(TypeError, match="source"):
        m.register_constant("d", ["a", "b"])
    with pytest.raises(TypeError, match="name"):
        m.register_constant("", [1.0])
    with pytest.raises(KeyError, match="'d'"):
        m.constant_master("d")
    assert "c" not in m.state_dict()


def test_torch_compile_traces_a_module_with_constants():
    m = _Scale()
    x = torch.randn(3)
    compiled = torch.compile(m, fullgraph=True, backend="eager")
    assert torch.allclose(compiled(x), m(x))
    m.double()
    assert torch.allclose(compiled(x.double()), x.double())
