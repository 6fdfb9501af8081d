"""SteerableMobileNetV2 / PlainMobileNetV2: exact invariance on even and odd grids, the variants
(groups, quotient fields, restriction, widths), the plain baselines at equal params/compute, and
bad input."""

from __future__ import annotations

import pytest
import torch

from steerable.models import (
    PlainMobileNetV2,
    SteerableMobileNetV2,
    count_parameters,
    downsample_window,
    matched_plain_mobilenet,
)
from steerable.nn import EquivariantModule
from steerable.training import count_macs

SMALL = dict(width=0.5, last_channels=64, hidden=16)


def _d4_images(x: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    out = []
    for k in range(4):
        r = torch.rot90(x, k, (2, 3))
        out.append((f"rot{90 * k}", r))
        out.append((f"flip·rot{90 * k}", torch.flip(r, (3,))))
    return out[1:]


def _settled(model: torch.nn.Module, x: torch.Tensor) -> torch.nn.Module:
    """Batch-norm statistics from a few training-mode passes (so that eval mode is not trivial)."""
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(x)
    return model.eval()


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize(
    "kwargs, size, channels",
    [
        (dict(group="D4"), 96, 3),
        (dict(group="D8"), 96, 3),
        (dict(group="D4", fields="quotient"), 96, 3),
        (dict(group="D4"), 29, 1),  # odd grids: 3×3 windows with padding 1
        (dict(group="D8", fields="quotient"), 33, 1),
    ],
)
def test_dihedral_models_are_exactly_d4_invariant(kwargs, size, channels):
    torch.manual_seed(0)
    x = torch.rand(4, channels, size, size)
    model = _settled(SteerableMobileNetV2(**kwargs, **SMALL, in_channels=channels, input_size=size), x)
    with torch.no_grad():
        y = model(x)
        for name, gx in _d4_images(x):
            assert _rel(model(gx), y) < 1e-5, name


@pytest.mark.parametrize(
    "kwargs",
    [dict(group="C4"), dict(group="C8"), dict(group="C8", fields="quotient"), dict(group="D8", restrict_to="C4")],
)
def test_rotation_models_are_invariant_to_quarter_turns_only(kwargs):
    torch.manual_seed(1)
    x = torch.rand(4, 3, 48, 48)
    model = _settled(SteerableMobileNetV2(**kwargs, **SMALL, input_size=48), x)
    with torch.no_grad():
        y = model(x)
        for k in (1, 2, 3):
            assert _rel(model(torch.rot90(x, k, (2, 3))), y) < 1e-5
        # a flip is not a symmetry of these models: the check above would catch a broken one
        assert _rel(model(torch.flip(x, (3,))), y) > 1e-4


def test_restriction_to_a_dihedral_subgroup_keeps_its_flip():
    torch.manual_seed(2)
    x = torch.rand(4, 3, 32, 32)
    model = _settled(SteerableMobileNetV2("D4", restrict_to="D2", restrict_at=2, **SMALL, input_size=32), x)
    assert model.group_name == "D4|D2"
    names = [n for n, _ in model.features.named_children()]
    assert names.index("restrict") < names.index("block3_1")
    with torch.no_grad():
        y = model(x)
        errs = {name: _rel(model(gx), y) for name, gx in _d4_images(x)}
    exact = [n for n, e in errs.items() if e < 1e-5]
    # D2 = {e, rot180, a flip, the flip's composite with rot180}: three non-trivial exact symmetries
    assert "rot180" in exact and len(exact) == 3, errs


def test_export_is_the_same_function_and_exactly_invariant():
    torch.manual_seed(3)
    x = torch.rand(4, 3, 96, 96)
    model = _settled(SteerableMobileNetV2("D4", **SMALL), x)
    plain = model.export()
    assert not any(isinstance(m, EquivariantModule) for m in plain.modules())
    with torch.no_grad():
        y = plain(x)
        assert _rel(y, model(x)) < 1e-5
        for name, gx in _d4_images(x):
            assert _rel(plain(gx), y) < 1e-5, name


def test_downsampling_layout_on_96():
    model = SteerableMobileNetV2("C4", **SMALL)
    pools = [m for n, m in model.features.named_children() if "pool" in n]
    assert [(p.kernel_size, p.padding) for p in pools] == [((2, 2), (0, 0))] * 4  # 96 → 48 → 24 → 12 → 6
    x = torch.rand(1, 3, 96, 96)
    shape = model.features(model.in_type(x)).shape
    assert shape[-2:] == (6, 6)
    assert downsample_window(7) == (3, 1) and downsample_window(8) == (2, 0)


def test_fields_and_widths():
    q = SteerableMobileNetV2("D4", fields="quotient", **SMALL)
    reps = {r.name for r in q.features.out_type.representations}
    assert len(reps) == 2 and any("quotient" in r for r in reps), reps
    assert q.group_name == "D4 quotient"
    small, big = SteerableMobileNetV2("C8", width=0.5), SteerableMobileNetV2("C8", width=1.0)
    assert count_parameters(big) > 2 * count_parameters(small)


def test_plain_baselines_match_parameters_and_compute():
    eq = SteerableMobileNetV2("D4")
    by_params = matched_plain_mobilenet(eq, "params")
    by_compute = matched_plain_mobilenet(eq, "compute")
    assert abs(count_parameters(by_params) / count_parameters(eq) - 1) < 0.05
    x1 = torch.zeros(1, 3, 96, 96)
    assert abs(count_macs(by_compute.export(), x1) / count_macs(eq.export(), x1) - 1) < 0.05
    # at equal compute the plain network has many more free filter weights
    assert count_parameters(by_compute) > 4 * count_parameters(eq)
    x = torch.rand(2, 3, 96, 96)
    assert torch.allclose(by_compute.eval()(x), by_compute.export()(x))


def test_plain_model_is_not_equivariant():
    torch.manual_seed(4)
    x = torch.rand(4, 3, 32, 32)
    model = _settled(PlainMobileNetV2(**SMALL, input_size=32), x)
    with torch.no_grad():
        stem = model.features.stem
        turned = torch.rot90(stem(x), 1, (2, 3))
        assert _rel(stem(torch.rot90(x, 1, (2, 3))), turned) > 1e-2


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(fields="irreps"), "fields"),
        (dict(group="C3", fields="quotient"), "fields"),
        (dict(group="D4", restrict_to="C3"), "restrict_to"),
        (dict(group="C4", restrict_to="D2"), "restrict_to"),
        (dict(group="D4", restrict_at=2), "restrict_at"),
        (dict(group="D4", restrict_to="C4", restrict_at=9), "restrict_at"),
        (dict(input_size=8), "input_size"),
        (dict(settings=[(4, 16, 1, 3)]), "settings"),
        (dict(group="Q8"), "group"),
        (dict(width=0), "width"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SteerableMobileNetV2(**kwargs)


def test_bad_input_and_match():
    with pytest.raises(ValueError, match="input"):
        PlainMobileNetV2()(torch.rand(1, 1, 96, 96))
    with pytest.raises(ValueError, match="match"):
        matched_plain_mobilenet(SteerableMobileNetV2("C4", **SMALL), "flops")
    with pytest.raises(TypeError, match="model"):
        matched_plain_mobilenet(PlainMobileNetV2(), "params")
