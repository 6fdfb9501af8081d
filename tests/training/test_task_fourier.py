"""The ``fourier_sampling`` task: fixed against adaptive group grids in SO2FourierNet (rotated MNIST)
and SO3FourierShapesNet (rotated 3-D point clouds): invariance, options, a tiny run, the CLI."""

from __future__ import annotations

import math

import pytest
import torch

from steerable import nn
from steerable.cli import main
from steerable.data import PointShapes, random_rotations
from steerable.training import (
    ConfigError,
    FourierSamplingTask,
    SO2FourierNet,
    SO3FourierShapesNet,
    fit_task,
    invariance_error,
    load_checkpoint,
    model_from_checkpoint,
)


def test_shapes_net_exactly_invariant_only_when_adaptive():
    # real clouds: every point has neighbours within the kernels' width, so its frame is well
    # defined (an isolated point has no first-order features: its frame is ill-conditioned)
    torch.manual_seed(0)
    x = PointShapes(3, n_points=32, seed=0).points.double()
    rots = torch.as_tensor(random_rotations(3, seed=1))
    errs = {}
    for sampling in ("adaptive", "fixed"):
        net = SO3FourierShapesNet(sampling, 8, channels=(2, 2), k=5).double().eval()
        with torch.no_grad():
            y = net(x)
            errs[sampling] = max(float((net(x @ r.T) - y).abs().max() / y.abs().max()) for r in rots)
    assert errs["adaptive"] < 1e-9
    assert errs["fixed"] > 1e-4  # 8 Thomson points do not resolve degree-2 functions on the sphere


def test_mnist_net_invariant_to_the_grid_rotations():
    torch.manual_seed(0)
    for sampling, n in (("adaptive", 2), ("fixed", 8)):
        net = SO2FourierNet(sampling, n, max_frequency=2, channels=(2, 2)).eval()
        x = torch.randn(2, 1, 29, 29)
        with torch.no_grad():
            y = net(x)
            for k in (1, 2, 3):
                torch.testing.assert_close(net(x.rot90(k, (2, 3))), y, atol=1e-4, rtol=1e-4)
    assert any(isinstance(m, nn.AdaptiveFourierELU) for m in SO2FourierNet("adaptive", 4).modules())
    assert not any(isinstance(m, nn.AdaptiveFourierELU) for m in SO2FourierNet("fixed", 4).modules())


def test_adaptive_network_is_more_invariant_to_continuous_rotations():
    torch.manual_seed(0)
    x = PointShapes(4, n_points=32, seed=1).points
    fixed = invariance_error(SO3FourierShapesNet("fixed", 8, channels=(2,), k=5), x, "shapes")
    adaptive = invariance_error(SO3FourierShapesNet("adaptive", 8, channels=(2,), k=5), x, "shapes")
    assert adaptive < 1e-4 < fixed


def test_plan_defaults_follow_the_data_set():
    m, s = FourierSamplingTask(), FourierSamplingTask(dataset="shapes", n_train=8, n_test=4)
    assert (m.plan["max_frequency"], m.plan["lr"], m.plan["batch_size"]) == (3, 2e-3, 64)
    assert (s.plan["max_frequency"], s.plan["lr"], s.plan["batch_size"]) == (2, 1e-2, 32)
    assert FourierSamplingTask(dataset="shapes", lr=0.5).plan["lr"] == 0.5
    assert len(s.train_data()) == 8 and len(s.eval_data()["test"]) == 4


@pytest.mark.parametrize(
    "bad, name",
    [
        (dict(dataset="cifar"), "dataset"),
        (dict(sampling="random"), "sampling"),
        (dict(samples=0), "samples"),
        (dict(max_frequency=-1), "max_frequency"),
        (dict(dataset="shapes", n_points=8, k=8), "k"),
        (dict(width=0), "width"),
    ],
)
def test_bad_options_are_named(bad, name):
    with pytest.raises(ConfigError, match=f"^{name}"):
        FourierSamplingTask(**bad)


def test_network_argument_errors():
    with pytest.raises(ValueError, match="^sampling"):
        SO2FourierNet("grid", 4)
    with pytest.raises(ValueError, match="^channels"):
        SO3FourierShapesNet("fixed", 8, channels=())
    with pytest.raises(ValueError, match="^x:"):
        SO2FourierNet("fixed", 8, channels=(1,))(torch.randn(2, 3, 29, 29))
    with pytest.raises(ValueError, match="^x:"):
        SO3FourierShapesNet("fixed", 8, channels=(1,))(torch.randn(2, 3))


@pytest.mark.parametrize("dataset", ["mnist", "shapes"])
def test_fit_task_tiny_and_reload(dataset, tmp_path):
    small = dict(limit=64) if dataset == "mnist" else dict(n_train=32, n_test=16, n_points=16, k=4)
    run = str(tmp_path / "run")
    res = fit_task(
        "fourier_sampling",
        out=run,
        dataset=dataset,
        sampling="adaptive",
        samples=2,
        width=0.25,
        epochs=1,
        device="cpu",
        progress=False,
        **small,
    )
    assert res.task == "fourier_sampling" and res.plan["samples"] == 2
    for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
        assert math.isfinite(res.last[key]), key
    model = model_from_checkpoint(load_checkpoint(run))
    assert type(model) is type(res.model)
    report = FourierSamplingTask(**res.plan).evaluate(model)
    assert math.isfinite(report["invariance"])


def test_cli_flags(tmp_path, capsys):
    run = tmp_path / "cli"
    argv = ["train", "--task", "fourier_sampling", "--dataset", "shapes", "--sampling", "fixed", "--samples", "16"]
    small = ["--max-frequency", "1", "--n-train", "16", "--n-test", "8", "--n-points", "16", "--k", "4"]
    assert main([*argv, *small, "--epochs", "1", "--quiet", "--out", str(run)]) == 0
    args = load_checkpoint(run)["args"]
    assert (args["sampling"], args["samples"], args["max_frequency"]) == ("fixed", 16, 1)
    assert main([*argv, "--dataset", "svhn", "--out", str(tmp_path / "x"), "--quiet"]) == 1
    assert "dataset" in capsys.readouterr().err
