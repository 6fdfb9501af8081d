"""Tests of the deployment utilities (MACs, memory, latency, QAT, ONNX, D4 invariance)."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch

from steerable.models import PlainResidual
from steerable.training import (
    OnnxModel,
    count_macs,
    d4_invariance_error,
    export_onnx,
    max_relative_difference,
    measure_latency,
    peak_memory_bytes,
    quantize_int8,
    quantize_onnx_int8,
    quantize_qat,
)

torch.set_num_threads(1)


def _cnn(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        PlainResidual(nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=2), nn.BatchNorm2d(8), nn.ReLU())),
        nn.AvgPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ELU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 5),
    ).eval()


# hand count for _cnn on 16×16: conv 3->8 k3: 8*16*16 outputs * 3*9; grouped conv 8->8 (groups 2):
# 8*256 * 4*9; after 2x pooling conv 8->16: 16*8*8 * 8*9; linear 16->5
_CNN_MACS = 8 * 256 * 27 + 8 * 256 * 36 + 16 * 64 * 72 + 16 * 5


def _warm_bn(model: torch.nn.Module, x: torch.Tensor) -> torch.nn.Module:
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(x)
    return model.eval()


def test_count_macs_hand_count_float_int8_and_batch():
    m = _cnn()
    x = torch.randn(4, 3, 16, 16)
    assert count_macs(m, x) == _CNN_MACS
    assert count_macs(m, x[:1]) == _CNN_MACS
    q = quantize_int8(_warm_bn(m, x), torch.randn(32, 3, 16, 16))
    assert count_macs(q, x) == _CNN_MACS

    # a module applied twice counts twice
    class Twice(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(3, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.lin(self.lin(x.flatten(1)))

    assert count_macs(Twice(), torch.randn(2, 1, 1, 3)) == 2 * 3 * 3
    # transposed convolution: every input element meets out_channels/groups x kernel weights
    up = torch.nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2)
    assert count_macs(up, torch.randn(2, 4, 5, 5)) == 4 * 25 * 3 * 9


def test_count_macs_errors():
    with pytest.raises(TypeError, match="module"):
        count_macs("net", torch.randn(1, 1, 4, 4))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="example"):
        count_macs(torch.nn.Linear(4, 2), torch.randn(4))
    with pytest.raises(TypeError, match="example"):
        count_macs(torch.nn.Linear(4, 2), [1.0])  # type: ignore[arg-type]


def test_peak_memory_hand_count():
    nn = torch.nn
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(72, 3)).eval()
    mem = peak_memory_bytes(m, torch.randn(1, 1, 8, 8))
    # weights: conv 2*9 + 2, linear 72*3 + 3, float32
    assert mem["weights"] == (20 + 219) * 4
    # input 64 floats -> conv 72 (both live: 544 B) -> relu 72 (conv output still live: 576 B, input
    # freed) -> flatten is a view of the relu output -> linear 3 floats (288 + 12 B)
    assert mem["activations"] == 576
    assert mem["total"] == mem["weights"] + mem["activations"]
    # batch scales activations, not weights
    mem4 = peak_memory_bytes(m, torch.randn(4, 1, 8, 8))
    assert mem4["weights"] == mem["weights"] and mem4["activations"] == 4 * 576
    # a slice of a larger batch counts as what it is, not as its base storage
    assert peak_memory_bytes(m, torch.randn(8, 1, 8, 8)[:1]) == mem
    # a GraphModule is run as it is
    gm = torch.fx.symbolic_trace(m)
    assert peak_memory_bytes(gm, torch.randn(1, 1, 8, 8)) == mem


def test_peak_memory_int8_about_four_times_smaller():
    nn = torch.nn
    torch.manual_seed(0)
    m = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 10),
    ).eval()
    x = torch.randn(2, 3, 16, 16)
    f = peak_memory_bytes(m, x)
    q = peak_memory_bytes(quantize_int8(m, torch.randn(32, 3, 16, 16)), x)
    assert 3.0 < f["weights"] / q["weights"] < 4.5
    assert 3.0 < f["activations"] / q["activations"] < 4.5
    assert 3.0 < f["total"] / q["total"] < 4.5


def test_peak_memory_untraceable():
    class Branchy(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x if x.sum() > 0 else -x

    with pytest.raises(ValueError, match="module"):
        peak_memory_bytes(Branchy(), torch.randn(1, 1, 2, 2))


def test_measure_latency():
    m = _cnn()
    x = torch.randn(2, 3, 16, 16)
    t = measure_latency(m, x, repeats=5, warmup=1)
    assert t["median_ms"] > 0 and t["p90_ms"] >= t["median_ms"] >= t["min_ms"] > 0
    assert t["repeats"] == 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript deprecation notices
        traced = torch.jit.trace(m, x, check_trace=False)
    assert measure_latency(traced, x, repeats=3, warmup=0)["median_ms"] > 0
    with pytest.raises(ValueError, match="repeats"):
        measure_latency(m, x, repeats=0)
    with pytest.raises(ValueError, match="warmup"):
        measure_latency(m, x, warmup=-1)
    with pytest.raises(TypeError, match="fn"):
        measure_latency(3, x)  # type: ignore[arg-type]


def _separable(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Class = which of the two halves (left/right) is brighter, plus noise."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = 0.5 * torch.randn(n, 3, 16, 16, generator=g)
    x[y == 0, :, :, :8] += 1.0
    x[y == 1, :, :, 8:] += 1.0
    return x, y


def _small_classifier() -> torch.nn.Module:
    torch.manual_seed(1)
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.AvgPool2d(4),
        nn.Flatten(),
        nn.Linear(8 * 16, 2),
    )


def _accuracy(fn, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((fn(x).argmax(1) == y).float().mean())


def test_quantize_qat_close_to_float_and_accurate():
    x, y = _separable(256, 0)
    xt, yt = _separable(256, 1)
    model = _small_classifier().train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(60):
        i = (step * 32) % 256
        loss = torch.nn.functional.cross_entropy(model(x[i : i + 32]), y[i : i + 32])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    before = copy.deepcopy(model.state_dict())
    float_acc = _accuracy(model, xt, yt)
    assert float_acc > 0.9
    batches = [(x[i : i + 32], y[i : i + 32]) for i in range(0, 256, 32)]
    q = quantize_qat(model, batches, steps=24, lr=1e-3)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # plain not modified
    assert not model.training
    assert any("quantized" in type(m).__module__ for m in q.modules())
    assert max_relative_difference(model, q, xt) < 0.25
    assert _accuracy(q, xt, yt) >= float_acc - 0.05
    assert count_macs(q, xt[:1]) == count_macs(model, xt[:1])


def test_quantize_qat_errors():
    m = _small_classifier()
    data = [_separable(8, 0)]
    with pytest.raises(ValueError, match="steps"):
        quantize_qat(m, data, steps=0)
    with pytest.raises(ValueError, match="lr"):
        quantize_qat(m, data, steps=1, lr=-1.0)
    with pytest.raises(ValueError, match="freeze_bn_after"):
        quantize_qat(m, data, steps=1, freeze_bn_after=2.0)
    with pytest.raises(ValueError, match="optimizer"):
        quantize_qat(m, data, steps=1, optimizer="lbfgs")
    with pytest.raises(ValueError, match="batches"):
        quantize_qat(m, [], steps=1)
    with pytest.raises(TypeError, match="batches"):
        quantize_qat(m, [torch.randn(2, 3, 16, 16)], steps=1)
    with pytest.raises(TypeError, match="plain"):
        quantize_qat(None, data, steps=1)  # type: ignore[arg-type]


class _D4Average(torch.nn.Module):
    """A plain module applied to the 8 transformed inputs, logits averaged: D4-invariant."""

    def __init__(self, inner: torch.nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = []
        for flip in (False, True):
            xf = torch.flip(x, dims=(-1,)) if flip else x
            for k in range(4):
                outs.append(self.inner(torch.rot90(xf, k, dims=(-2, -1))))
        return torch.stack(outs).mean(0)


def test_d4_invariance_error():
    x = torch.randn(3, 3, 16, 16, dtype=torch.float64)
    cnn = _cnn().double()
    assert d4_invariance_error(_D4Average(cnn), x) < 1e-12
    assert d4_invariance_error(cnn, x) > 1e-3

    # a model invariant only to rotations is caught by the flips
    class C4Average(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.stack([cnn(torch.rot90(x, k, dims=(-2, -1))) for k in range(4)]).mean(0)

    assert d4_invariance_error(C4Average(), x) > 1e-3
    with pytest.raises(ValueError, match="square"):
        d4_invariance_error(cnn, torch.randn(1, 3, 8, 9))
    with pytest.raises(TypeError, match="fn"):
        d4_invariance_error("cnn", x)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def onnx_files(tmp_path_factory):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    pytest.importorskip("onnxruntime")
    d = tmp_path_factory.mktemp("onnx")
    m = _warm_bn(_cnn(), torch.randn(16, 3, 16, 16))
    calibration = torch.randn(64, 3, 16, 16)
    f = export_onnx(m, torch.randn(2, 3, 16, 16), d / "float.onnx")
    q = quantize_onnx_int8(f, calibration, d / "int8.onnx")
    return m, f, q, d


def test_onnx_float_matches_torch_and_dynamic_batch(onnx_files):
    m, f, _, _ = onnx_files
    om = OnnxModel(f)
    assert om.eval() is om
    assert [p.name for p in f.parent.iterdir() if p.name.startswith("float.onnx")] == ["float.onnx"]  # weights inline
    for n in (1, 5):
        x = torch.randn(n, 3, 16, 16)
        assert om(x).shape == (n, 5)
        assert max_relative_difference(m, om, x) < 1e-4
    assert measure_latency(om, torch.randn(1, 3, 16, 16), repeats=3, warmup=1)["median_ms"] > 0


def test_onnx_int8_close_to_float(onnx_files):
    m, f, q, _ = onnx_files
    x = torch.randn(64, 3, 16, 16)
    oq = OnnxModel(q)
    assert max_relative_difference(m, oq, x) < 0.15
    with torch.no_grad():
        agree = float((oq(x).argmax(1) == m(x).argmax(1)).float().mean())
    assert agree >= 0.8
    assert oq(x[:3]).shape == (3, 5)


def test_onnx_export_of_fx_int8(onnx_files):
    _, _, _, d = onnx_files
    nn = torch.nn
    torch.manual_seed(0)
    m = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        PlainResidual(nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=2), nn.ReLU())),
        nn.AvgPool2d(2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 5),
    )
    q = quantize_int8(_warm_bn(m, torch.randn(16, 3, 16, 16)), torch.randn(64, 3, 16, 16))
    path = export_onnx(q, torch.randn(1, 3, 16, 16), d / "fx_int8.onnx")
    x = torch.randn(8, 3, 16, 16)
    assert max_relative_difference(q, OnnxModel(path), x) < 0.05
    assert OnnxModel(path)(torch.randn(3, 3, 16, 16)).shape == (3, 5)  # dynamic batch
    with pytest.raises(ValueError, match="plain"):  # torch.export cannot capture FX int8 modules
        export_onnx(q, torch.randn(1, 3, 16, 16), d / "fail.onnx", dynamo=True)
    # quantized ELU has no ONNX symbolic in the TorchScript exporter: a clear error
    q_elu = quantize_int8(onnx_files[0], torch.randn(16, 3, 16, 16))
    with pytest.raises(ValueError, match="quantize_onnx_int8"):
        export_onnx(q_elu, torch.randn(1, 3, 16, 16), d / "fail_elu.onnx")


def test_onnx_errors(tmp_path):
    pytest.importorskip("onnxruntime")
    with pytest.raises(ValueError, match="path"):
        OnnxModel(tmp_path / "missing.onnx")
    with pytest.raises(ValueError, match="float_onnx_path"):
        quantize_onnx_int8(tmp_path / "missing.onnx", torch.randn(2, 1, 4, 4), tmp_path / "q.onnx")
    with pytest.raises(TypeError, match="plain"):
        export_onnx("model", torch.randn(1, 1, 4, 4), tmp_path / "m.onnx")  # type: ignore[arg-type]
