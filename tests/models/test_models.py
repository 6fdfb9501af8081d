"""Tests of the model zoo ``steerable.models``: construction, shapes, export, exact invariance to the
grid's symmetries, parameter matching, backward, FX quantisation of the exports, errors."""

from __future__ import annotations

import copy
import io
import pickle
import warnings

import pytest
import torch

from steerable import gspaces
from steerable.models import (
    MODEL_NAMES,
    EquivariantCNN,
    EquivariantMobileNetV2,
    EquivariantWideResNet,
    PlainCNN,
    PlainResidual,
    build_model,
    count_parameters,
    plain_channels_for,
    plain_cnn_param_count,
    plain_width_for,
    regular_fields_for,
)
from steerable.models._e2cnn import symmetric_pool_window
from steerable.nn.pooling._group import MaxPoolChannels
from steerable.testing import assert_invariant, equivariance_errors

EQUIVARIANT = ("c8", "c16", "d16", "d16c16", "wrn", "mobilenet")
GROUP_NAMES = {
    "cnn": "none",
    "c8": "C8",
    "c16": "C16",
    "d16": "D16",
    "d16c16": "D16|C16",
    "wrn": "C8",
    "mobilenet": "C8",
}
SIZE = 29

_CACHE: dict = {}


def _model(name: str, **kwargs) -> torch.nn.Module:
    """A model of the zoo whose BatchNorm running statistics were updated on a few random batches
    (so eval mode is not the trivial mean 0 / var 1 normalisation), in eval mode. Built once per
    test session (the tests that change a model deep-copy it)."""
    key = (name, tuple(sorted(kwargs.items())))
    if key not in _CACHE:
        torch.manual_seed(0)
        model = build_model(name, **kwargs)
        model.train()
        with torch.no_grad():
            for _ in range(2):
                model(torch.rand(8, model_in_channels(model), SIZE, SIZE))
        _CACHE[key] = model.eval()
    return _CACHE[key]


def model_in_channels(model) -> int:
    return model.in_type.size if hasattr(model, "in_type") else model.in_channels


def _inputs(batch: int = 3, channels: int = 1, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(batch, channels, SIZE, SIZE, generator=g)


def _assert_close(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-5, what: str = "") -> None:
    err = (a - b).abs().max().item()
    scale = max(1.0, b.abs().max().item())
    assert err <= tol * scale, f"{what}: max error {err:.3g} (scale {scale:.3g})"


# --------------------------------------------------------------------------------------- construction
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_build_forward_shape_group_name(name):
    model = _model(name)
    with torch.no_grad():
        out = model(_inputs())
    assert out.shape == (3, 10) and out.dtype == torch.float32
    assert torch.isfinite(out).all()
    assert model.group_name == GROUP_NAMES[name]
    assert isinstance(model, torch.nn.Module) and callable(model.export)


@pytest.mark.parametrize("name", ["cnn", "c8", "wrn", "mobilenet"])
def test_classes_and_input_channels(name):
    model = build_model(name, n_classes=3, width=0.5, in_channels=2).eval()
    with torch.no_grad():
        assert model(_inputs(2, channels=2)).shape == (2, 3)
    with pytest.raises(ValueError, match="input"):
        model(_inputs(2, channels=1))
    with pytest.raises(TypeError, match="input"):
        model(_inputs(2, channels=2).numpy())


def test_model_classes():
    assert isinstance(_model("cnn"), PlainCNN)
    for name in ("c8", "c16", "d16", "d16c16"):
        assert isinstance(_model(name), EquivariantCNN)
    assert isinstance(_model("wrn"), EquivariantWideResNet)
    assert isinstance(_model("mobilenet"), EquivariantMobileNetV2)
    assert build_model("C8", width=0.25).group_name == "C8"  # names are case-insensitive


def test_width_scales_fields():
    small, big = build_model("c8", width=0.5), build_model("c8", width=2.0)
    assert sum(small.fields) < sum(_model("c8").fields) < sum(big.fields)
    assert count_parameters(small) < count_parameters(_model("c8")) < count_parameters(big)


def test_bad_name_and_arguments():
    with pytest.raises(ValueError) as info:
        build_model("resnet50")
    for name in MODEL_NAMES:
        assert name in str(info.value)
    with pytest.raises(TypeError, match="name"):
        build_model(8)
    with pytest.raises(ValueError, match="width"):
        build_model("c8", width=0.0)
    with pytest.raises(TypeError, match="width"):
        build_model("c8", width="wide")
    with pytest.raises(ValueError, match="n_classes"):
        build_model("c8", n_classes=0)
    with pytest.raises(TypeError, match="in_channels"):
        build_model("mobilenet", in_channels=1.5)
    with pytest.raises(ValueError, match="group"):
        build_model("wrn", group="SO2")
    with pytest.raises(ValueError, match="depth"):
        build_model("wrn", depth=12)
    with pytest.raises(ValueError, match="restrict_to"):
        build_model("d16c16", restrict_to="C5")
    with pytest.raises(TypeError):
        build_model("c8", no_such_option=1)


# --------------------------------------------------------------------------------------- export
def _plain_only(module: torch.nn.Module) -> None:
    """Only torch.nn modules (plus this package's plain residual / channel-max helpers); no
    steerable objects (field types, gspaces, representations) anywhere in their attributes."""
    allowed = (PlainResidual, MaxPoolChannels)
    for name, m in module.named_modules():
        cls = type(m)
        assert cls.__module__.startswith("torch.") or isinstance(m, allowed), f"{name}: {cls}"
        for attr, value in vars(m).items():
            if attr.startswith("_") and attr in ("_modules", "_parameters", "_buffers"):
                continue
            mod = type(value).__module__ or ""
            assert not mod.startswith("steerable.") or isinstance(value, allowed), f"{name}.{attr}: {type(value)}"


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_export_matches_eval(name):
    model = _model(name)
    exported = model.export()
    assert not exported.training
    _plain_only(exported)
    x = _inputs(4)
    with torch.no_grad():
        _assert_close(exported(x), model(x), 1e-5, f"{name} export")
    # the export is an ordinary module: it deep-copies and pickles
    buf = io.BytesIO()
    torch.save(exported, buf)
    assert copy.deepcopy(exported)(x).shape == (4, 10)


def test_export_is_independent_copy():
    model = copy.deepcopy(_model("c8"))
    exported = model.export()
    x = _inputs(2)
    with torch.no_grad():
        before = exported(x).clone()
        for p in model.parameters():
            p.add_(0.1)
        _assert_close(exported(x), before, 0.0, "export after the model changed")


# --------------------------------------------------------------------------------------- invariance
# images (B, 1, H, W) are trivial fields: the grid's exact rotations (C4) and also its reflections (D4)
ROT90 = gspaces.rot2dOnR2(4).type(gspaces.rot2dOnR2(4).trivial_repr)
D4 = gspaces.flipRot2dOnR2(4).type(gspaces.flipRot2dOnR2(4).trivial_repr)


@pytest.mark.parametrize("name", EQUIVARIANT)
def test_invariance_to_rot90(name):
    assert len(assert_invariant(_model(name), inputs=_inputs(3), in_type=ROT90)) == 4


@pytest.mark.parametrize("name", ["d16"])
def test_invariance_to_reflections(name):
    """The 4 reflections of the grid (flips of x and y, both diagonals) and the rotations."""
    assert len(assert_invariant(_model(name), inputs=_inputs(3), in_type=D4)) == 8


def test_rotation_models_are_not_reflection_invariant():
    """Sanity check that the invariance tests can fail: C8 and D16|C16 logits change under a flip,
    the plain CNN's under a rotation (inputs with a ramp, so that the transforms matter)."""
    x = _inputs(3) * torch.linspace(0.0, 1.0, SIZE) * torch.linspace(0.0, 1.0, SIZE)[:, None]
    reflections = [g for g in D4.testing_elements if torch.det(torch.as_tensor(D4.gspace.basespace_matrix(g))) < 0]
    assert len(reflections) == 4

    def changes(model, ftype, elements) -> list:
        """max |f(g·x) − f(x)| / max |f(x)| for each g."""
        return [
            e.error
            for e in equivariance_errors(model, inputs=x, in_type=ftype, out_action=lambda y, g: y, elements=elements)
        ]

    for name in ("c8", "d16c16"):
        assert min(changes(_model(name), D4, reflections)) > 1e-3, name
    assert min(changes(_model("cnn"), ROT90, ROT90.testing_elements[1:])) > 1e-3


@pytest.mark.parametrize(
    "name,kwargs",
    [("wrn", dict(group="D8", width=0.5)), ("mobilenet", dict(group="D4", width=0.5)), ("mobilenet", dict(group="C4"))],
)
def test_other_groups_invariance(name, kwargs):
    model = _model(name, **kwargs)
    assert model.group_name == kwargs["group"]
    assert_invariant(model, inputs=_inputs(2), in_type=D4 if kwargs["group"].startswith("D") else ROT90)


@pytest.mark.parametrize("size", [25, 31, 33])
def test_invariance_other_odd_sizes(size):
    """The pooling paddings follow ``input_size``: exact invariance on other odd sizes too."""
    torch.manual_seed(0)
    model = build_model("c8", width=0.25, input_size=size).eval()
    assert_invariant(model, inputs=torch.rand(2, 1, size, size), in_type=ROT90)


def test_strided_models_warn_on_asymmetric_sizes():
    for cls in (EquivariantWideResNet, EquivariantMobileNetV2):
        with pytest.warns(UserWarning, match="input_size"):
            cls("C4", width=0.25, input_size=32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        EquivariantWideResNet("C4", width=0.25, input_size=33)


def test_symmetric_pool_window():
    for n in (29, 15, 7, 31, 9):
        k, p = symmetric_pool_window(n)
        assert (n + 2 * p - k) % 2 == 0 and p <= k // 2
    assert symmetric_pool_window(29) == (3, 1)  # 29 -> 15
    assert symmetric_pool_window(15) == (3, 0)  # 15 -> 7


# --------------------------------------------------------------------------------------- parameters
def test_cnn_matches_c8_parameter_count():
    n_cnn, n_c8 = count_parameters(_model("cnn")), count_parameters(_model("c8"))
    assert abs(n_cnn - n_c8) <= 0.25 * n_c8, (n_cnn, n_c8)
    assert count_parameters(_model("cnn")) == plain_cnn_param_count(_model("cnn").channels)


def test_width_helpers():
    for target in (5_000, 31_000, 200_000):
        ch = plain_channels_for(target)
        assert abs(plain_cnn_param_count(ch) - target) <= 0.1 * target
    assert plain_width_for(40_000) > plain_width_for(10_000)
    assert regular_fields_for((12, 16), 16) == (3, 4)
    assert regular_fields_for((16, 32), 8, preserve="compute") == (2, 4)
    with pytest.raises(ValueError, match="preserve"):
        regular_fields_for((8,), 8, preserve="flops")
    with pytest.raises(ValueError, match="target_params"):
        plain_width_for(0)


def test_count_parameters():
    lin = torch.nn.Linear(4, 3)
    assert count_parameters(lin) == 15
    lin.bias.requires_grad_(False)
    assert count_parameters(lin) == 12 and count_parameters(lin, trainable_only=False) == 15


# --------------------------------------------------------------------------------------- training
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_backward(name):
    model = copy.deepcopy(_model(name)).train()
    x, y = _inputs(4), torch.tensor([0, 1, 2, 3])
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
    assert any(p.grad.abs().sum() > 0 for p in model.parameters())


def test_state_dict_same_keys_train_eval_and_pickle():
    model = copy.deepcopy(_model("mobilenet"))
    keys_eval = list(model.eval().state_dict())
    keys_train = list(model.train().state_dict())
    assert keys_eval == keys_train
    clone = pickle.loads(pickle.dumps(model.eval()))
    x = _inputs(2)
    with torch.no_grad():
        _assert_close(clone(x), model(x), 1e-6, "pickled mobilenet")


# --------------------------------------------------------------------------------------- quantisation
@pytest.mark.parametrize("name", ["c8", "mobilenet", "wrn"])
def test_fx_post_training_quantisation(name):
    from torch.ao.quantization import get_default_qconfig_mapping, quantize_fx

    engines = torch.backends.quantized.supported_engines
    backend = "x86" if "x86" in engines else "fbgemm" if "fbgemm" in engines else None
    assert backend is not None, f"no x86/fbgemm quantised engine in {engines}"
    model = _model(name)
    exported = model.export()
    x = _inputs(8, seed=3)
    previous = torch.backends.quantized.engine
    torch.backends.quantized.engine = backend
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.ao.quantization's deprecation notices
            prepared = quantize_fx.prepare_fx(exported, get_default_qconfig_mapping(backend), (x,))
            with torch.no_grad():
                for seed in range(4):
                    prepared(_inputs(8, seed=10 + seed))
            quantised = quantize_fx.convert_fx(prepared)
            with torch.no_grad():
                out = quantised(x)
                ref = model(x)
    finally:
        torch.backends.quantized.engine = previous
    assert out.shape == ref.shape and out.dtype == torch.float32 and torch.isfinite(out).all()
    # int8 is approximate: the logits stay close to the float model's
    assert (out - ref).abs().max() <= 0.2 * max(1.0, ref.abs().max().item())
    assert any("quantized" in type(m).__module__ for m in quantised.modules())
