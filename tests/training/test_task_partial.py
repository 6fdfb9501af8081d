"""The ``partial_equivariance`` task: double-digit MNIST, the networks, the densities' mass, the CLI."""

from __future__ import annotations

import math

import pytest
import torch

from steerable.cli import main
from steerable.data import DOUBLE_MNIST_SYMMETRIES, DoubleMNIST
from steerable.training import (
    ConfigError,
    DoubleDigitNet,
    PartialEquivarianceTask,
    fit_task,
    load_checkpoint,
    model_from_checkpoint,
    true_symmetry_mask,
)

SMALL = (1, 1, 1, 1, 2)


def test_double_mnist_canvases_labels_and_symmetries():
    for sym in DOUBLE_MNIST_SYMMETRIES:
        ds = DoubleMNIST("train", sym, n=10, size=11, seed=3)
        assert ds.images.shape == (10, 1, 11, 21) and len(ds) == 10
        assert torch.equal(ds.labels, 10 * ds.digits[:, 0] + ds.digits[:, 1])
        assert float(ds.images.min()) >= 0.0 and float(ds.images.max()) <= 1.0
    a, b = DoubleMNIST("test", "none", n=5, seed=1), DoubleMNIST("test", "none", n=5, seed=1)
    assert torch.equal(a.images, b.images)
    assert not torch.equal(DoubleMNIST("test", "so2", n=5, seed=1).images, a.images)
    # the same pairs without a transformation: 'none' digits are the untouched (resized) images
    for bad, match in (
        (dict(split="val"), "split"),
        (dict(symmetry="so3"), "symmetry"),
        (dict(n=0), "n"),
        (dict(size=3), "size"),
    ):
        with pytest.raises(ValueError, match=match):
            DoubleMNIST(**bad)


@pytest.mark.parametrize("kind", ["equivariant", "partial", "partial_shared"])
def test_steerable_networks_are_equivariant_at_start(kind):
    """At initialisation the partial networks are the equivariant one: their features are
    exactly equivariant to the grid's rotations and flips."""
    torch.manual_seed(0)
    net = DoubleDigitNet(kind, fields=SMALL).eval()
    x = torch.randn(2, 1, 17, 17)
    with torch.no_grad():
        f = net.features(x)
        for k in (1, 2, 3):
            torch.testing.assert_close(net.features(x.rot90(k, (2, 3))), f.rot90(k, (2, 3)), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(net.features(x.flip(-1)), f.flip(-1), atol=1e-5, rtol=1e-5)
    assert len(net.densities()) == (0 if kind == "equivariant" else 5)
    if kind == "partial_shared":
        assert len({id(d) for d in net.densities().values()}) == 1


def test_plain_network_and_bad_arguments():
    net = DoubleDigitNet("plain", fields=SMALL)
    assert net(torch.randn(3, 1, 17, 33)).shape == (3, 100) and net.densities() == {}
    with pytest.raises(ValueError, match="kind"):
        DoubleDigitNet("mlp")
    with pytest.raises(ValueError, match="fields"):
        DoubleDigitNet("plain", fields=(1, 2))


def test_true_symmetry_masks():
    from steerable import nn

    net = DoubleDigitNet("partial", fields=SMALL)
    d = next(iter(net.densities().values()))
    sizes = {s: int(true_symmetry_mask(s, d).sum()) for s in DOUBLE_MNIST_SYMMETRIES}
    assert sizes == {"so2": 4, "c4": 4, "flips": 2, "none": 1}
    # the uniform density puts the subgroup's share of D4 on it
    assert float(d.mass(true_symmetry_mask("flips", d)).detach()) == pytest.approx(0.25, abs=1e-6)
    assert isinstance(d, nn.EquivarianceDensity)


def test_plan_checks():
    assert PartialEquivarianceTask(fields="2,2,2,2,4").plan["fields"] == (2, 2, 2, 2, 4)
    for bad in (
        dict(symmetry="so3"),
        dict(model="mlp"),
        dict(size=16),
        dict(fields="1,2"),
        dict(fields="a,b"),
        dict(density_lr=0),
    ):
        with pytest.raises(ConfigError):
            PartialEquivarianceTask(**bad)


def test_fit_tiny_trains_the_density_and_reloads(tmp_path):
    run = str(tmp_path / "run")
    res = fit_task(
        "partial_equivariance",
        out=run,
        model="partial",
        symmetry="flips",
        fields=SMALL,
        n_train=64,
        n_test=16,
        epochs=2,
        batch_size=16,
        alignment=0.1,
        kl_uniform=0.01,
        device="cpu",
        progress=False,
    )
    for key in ("train_loss", "test_acc"):
        assert math.isfinite(res.last[key])
    dens = res.model.densities()
    assert all(float(d.coefficients.detach().abs().max()) > 0 for d in dens.values())
    model = model_from_checkpoint(load_checkpoint(run))
    assert type(model) is DoubleDigitNet
    for (n, a), b in zip(dens.items(), model.densities().values()):
        torch.testing.assert_close(a.coefficients, b.coefficients, msg=n)
    report = PartialEquivarianceTask(**res.plan).evaluate(model)
    assert set(report["mass"]) == set(dens) and all(0.0 <= v <= 1.0 for v in report["mass"].values())
    assert all(report["mass_identity"][k] <= report["mass"][k] + 1e-6 for k in dens)  # {e} ⊂ {e, mirror}


def test_density_parameters_get_their_own_learning_rate():
    task = PartialEquivarianceTask(model="partial_shared", fields=SMALL, n_train=8, n_test=4, density_lr=5.0)
    tr = task.trainer(progress=False)
    opt = task._optimizer(list(tr.model.parameters()))
    assert len(opt.param_groups) == 2
    assert (
        opt.param_groups[1]["lr"] == pytest.approx(5.0 * task.plan["lr"]) and opt.param_groups[1]["weight_decay"] == 0.0
    )
    assert len(opt.param_groups[1]["params"]) == 1


def test_cli(tmp_path, capsys):
    run = tmp_path / "cli"
    argv = ["train", "--task", "partial_equivariance", "--model", "partial_shared", "--symmetry", "c4"]
    small = ["--fields", "1,1,1,1,2", "--n-train", "16", "--n-test", "8", "--epochs", "1", "--quiet"]
    assert main([*argv, *small, "--out", str(run)]) == 0
    args = load_checkpoint(run)["args"]
    assert (args["model"], args["symmetry"], tuple(args["fields"])) == ("partial_shared", "c4", SMALL)
    assert main([*argv, "--symmetry", "so3", "--out", str(tmp_path / "x"), "--quiet"]) == 1
    assert "symmetry" in capsys.readouterr().err
