"""The charged N-body task: the simulator's physics and determinism, the data set, the models'
symmetries (exact for the steerable ones, absent from the baselines), their sizes, and tiny runs."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
import torch

import steerable.training._task_nbody as nb
from steerable.data import random_rotations
from steerable.data._nbody import (
    ChargedNBody,
    charged_nbody_energy,
    integrate_charged_nbody,
    simulate_charged_nbody,
)
from steerable.training import ConfigError, build_task, fit_task


def _systems(b=4, p=5, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, p, 6, generator=g, dtype=dtype) * 0.5
    q = torch.randint(0, 2, (b, p, 1), generator=g).to(dtype) * 2 - 1
    return torch.cat([x, q], -1)


def _move(x, r, t):
    return torch.cat([x[..., :3] @ r.T + t, x[..., 3:6] @ r.T, x[..., 6:]], -1)


# -- the simulator


def test_simulation_is_deterministic_and_has_the_documented_shapes():
    a = simulate_charged_nbody(6, n_particles=4, steps=50, seed=2)
    b = simulate_charged_nbody(6, n_particles=4, steps=50, seed=2)
    c = simulate_charged_nbody(6, n_particles=4, steps=50, seed=3)
    assert [x.shape for x in a] == [(6, 4, 3), (6, 4, 3), (6, 4), (6, 4, 3)]
    assert all(x.dtype == np.float64 for x in a)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[0], c[0])
    assert set(np.unique(a[2])) == {-1.0, 1.0}
    x0, v0, _, x1 = simulate_charged_nbody(3, steps=0)
    assert np.array_equal(x0, x1)


def test_simulation_conserves_momentum_and_roughly_energy():
    x0, v0, q, x1, v1 = simulate_charged_nbody(400, steps=1000, seed=1, return_velocities=True)
    assert np.isfinite(x1).all() and np.isfinite(v1).all()
    np.testing.assert_allclose(v1.sum(1), v0.sum(1), atol=1e-10)  # unit masses: Σ v is the momentum
    e0, e1 = charged_nbody_energy(x0, v0, q), charged_nbody_energy(x1, v1, q)
    rel = np.abs(e1 - e0) / (1 + np.abs(e0))
    # leapfrog keeps the energy of ordinary systems; close encounters (clipped force) may not
    assert np.median(rel) < 1e-3 and np.quantile(rel, 0.9) < 2e-2, np.quantile(rel, [0.5, 0.9])
    assert np.abs(x1 - x0).mean() > 0.1  # the particles do move


def test_simulation_is_equivariant_under_rotations_and_translations():
    x0, v0, q, x1, v1 = simulate_charged_nbody(5, steps=200, seed=4, return_velocities=True)
    r, t = random_rotations(1, seed=1)[0], np.array([0.3, -1.0, 2.0])
    y1, w1 = integrate_charged_nbody(x0 @ r.T + t, v0 @ r.T, q, steps=200)
    np.testing.assert_allclose(y1, x1 @ r.T + t, atol=1e-8)
    np.testing.assert_allclose(w1, v1 @ r.T, atol=1e-8)


def test_simulation_names_its_bad_arguments():
    with pytest.raises(ValueError, match=r"^n: expected an integer >= 1, got 0$"):
        simulate_charged_nbody(0)
    with pytest.raises(TypeError, match=r"^n_particles: expected an integer, got float$"):
        simulate_charged_nbody(2, n_particles=5.0)
    with pytest.raises(ValueError, match=r"^n_particles: expected an integer >= 2, got 1$"):
        simulate_charged_nbody(2, n_particles=1)
    with pytest.raises(ValueError, match=r"^steps: expected an integer >= 0, got -1$"):
        simulate_charged_nbody(2, steps=-1)
    with pytest.raises(ValueError, match=r"^dt: expected a finite number > 0, got nan$"):
        simulate_charged_nbody(2, dt=math.nan)
    with pytest.raises(TypeError, match=r"^dt: expected a number, got str$"):
        simulate_charged_nbody(2, dt="0.1")
    with pytest.raises(ValueError, match=r"^seed: expected an integer >= 0, got -3$"):
        simulate_charged_nbody(2, seed=-3)
    with pytest.raises(TypeError, match=r"^return_velocities: expected a bool, got int$"):
        simulate_charged_nbody(2, return_velocities=1)
    with pytest.raises(ValueError, match=r"^positions, velocities, charges: expected shapes"):
        integrate_charged_nbody(np.zeros((2, 3, 3)), np.zeros((2, 3, 3)), np.zeros((2, 4)))


# -- the data set


def test_dataset_items_shapes_and_dtypes():
    ds = ChargedNBody(10, n_particles=4, steps=20, seed=5)
    assert len(ds) == 10
    x, y = ds[3]
    assert x.shape == (4, 7) and y.shape == (4, 3) and x.dtype == y.dtype == torch.float32
    x0, v0, q, x1 = simulate_charged_nbody(10, n_particles=4, steps=20, seed=5)
    np.testing.assert_allclose(x.numpy(), np.concatenate([x0[3], v0[3], q[3][:, None]], 1), rtol=1e-6)
    np.testing.assert_allclose(y.numpy(), x1[3], rtol=1e-6)
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch[0].shape == (4, 4, 7) and batch[1].shape == (4, 4, 3)


def test_rotated_dataset_moves_inputs_and_targets_alike():
    a, b = ChargedNBody(6, steps=30, seed=2), ChargedNBody(6, steps=30, seed=2, rotate=True)
    assert torch.equal(a.inputs[..., 6], b.inputs[..., 6])  # charges stay
    assert not torch.allclose(a.targets, b.targets)
    speed = lambda d: d.inputs[..., 3:6].norm(dim=-1)
    dist = lambda z: torch.cdist(z, z)
    shift = lambda d: (d.targets - d.inputs[..., :3]).norm(dim=-1)
    assert torch.allclose(speed(a), speed(b), atol=1e-5)
    assert torch.allclose(dist(a.inputs[..., :3]), dist(b.inputs[..., :3]), atol=1e-5)
    assert torch.allclose(dist(a.targets), dist(b.targets), atol=1e-5)
    assert torch.allclose(shift(a), shift(b), atol=1e-5)


def test_dataset_names_its_bad_arguments():
    with pytest.raises(ValueError, match=r"^n: expected an integer >= 1, got -2$"):
        ChargedNBody(-2)
    with pytest.raises(TypeError, match=r"^steps: expected an integer, got float$"):
        ChargedNBody(2, steps=10.5)
    with pytest.raises(TypeError, match=r"^rotate: expected a bool, got str$"):
        ChargedNBody(2, rotate="yes")


# -- the models


@pytest.mark.parametrize("kernel", ["implicit", "analytic"])
def test_steerable_models_are_rotation_and_translation_equivariant(kernel):
    torch.manual_seed(0)
    net = nb.NBodyNet(kernel, hidden=2, n_layers=2).double().eval()
    with torch.no_grad():
        net.gain.fill_(1.0)  # a trained-like network: the displacement counts
    x = _systems(b=3)
    with torch.no_grad():
        y = net(x)
        assert (y - x[..., :3] - x[..., 3:6]).abs().max() > 1e-2  # a non-trivial map
        for k, r in enumerate(torch.as_tensor(random_rotations(3, seed=7))):
            t = torch.randn(3, dtype=torch.float64, generator=torch.Generator().manual_seed(k))
            got, want = net(_move(x, r, t)), y @ r.T + t
            assert float((got - want).norm() / want.norm()) < 1e-10
    # float32, as trained
    net = net.float()
    x32, r = x.float(), torch.as_tensor(random_rotations(1, seed=9)[0], dtype=torch.float32)
    with torch.no_grad():
        got, want = net(_move(x32, r, torch.ones(3))), net(x32) @ r.T + 1
    assert float((got - want).norm() / want.norm()) < 1e-5


@pytest.mark.parametrize("model", ["mlp", "gnn"])
def test_plain_baselines_are_not_rotation_equivariant(model):
    torch.manual_seed(0)
    net = nb.NBodyMLP(5, 32) if model == "mlp" else nb.NBodyGNN(16, 2)
    net = net.double().eval()
    x, r = _systems(b=3), torch.as_tensor(random_rotations(1, seed=2)[0])
    with torch.no_grad():
        got, want = net(_move(x, r, torch.zeros(3, dtype=torch.float64))), net(x) @ r.T
    assert float((got - want).norm() / want.norm()) > 1e-3


def test_models_reject_bad_inputs_and_arguments():
    net = nb.NBodyGNN(8, 1)
    with pytest.raises(ValueError, match=r"^x: expected systems \(B, P, 7\)"):
        net(torch.zeros(2, 5, 6))
    with pytest.raises(ValueError, match=r"^x: this MLP was built for 5 particles, got 4$"):
        nb.NBodyMLP(5, 8)(torch.zeros(2, 4, 7))
    with pytest.raises(ValueError, match=r"^kernel: expected one of implicit, analytic, got 'grid'$"):
        nb.NBodyNet("grid")
    with pytest.raises(ConfigError, match=r"^hidden: expected an integer > 0, got 0$"):
        nb.NBodyNet(hidden=0)


def test_baselines_are_sized_like_the_implicit_model_at_the_defaults():
    task = build_task("nbody")
    counts = {}
    for m in ("implicit", "analytic", "mlp", "gnn"):
        task.plan["model"] = m
        counts[m] = nb.count_parameters(task.build_model())
    for m in ("mlp", "gnn"):
        assert 0.7 < counts[m] / counts["implicit"] < 1.3, counts
    assert 0 < counts["analytic"] < counts["implicit"]


def test_model_building_does_not_move_the_global_rng():
    nb._implicit_parameter_count.cache_clear()
    torch.manual_seed(0)
    a = nb.build_nbody_model("mlp", hidden=1, n_layers=1).state_dict()
    torch.manual_seed(0)
    b = nb.build_nbody_model("mlp", hidden=1, n_layers=1).state_dict()  # the count is cached now
    assert all(torch.equal(a[k], b[k]) for k in a)


# -- the task


def test_task_options_are_checked():
    with pytest.raises(ConfigError, match=r"^model: expected one of implicit, analytic, mlp, gnn, e3nn for task"):
        build_task("nbody", model="cnn")
    with pytest.raises(ConfigError, match=r"^steps: expected an integer > 0, got 0$"):
        build_task("nbody", steps=0)
    with pytest.raises(ConfigError, match=r"^n_particles: expected an integer > 1, got 1$"):
        build_task("nbody", n_particles=1)


@pytest.mark.skipif(importlib.util.find_spec("e3nn") is not None, reason="e3nn is installed")
def test_e3nn_model_says_the_package_is_optional():
    with pytest.raises(ConfigError, match=r"^model='e3nn': needs the optional package e3nn, which is not installed"):
        build_task("nbody", model="e3nn")
    with pytest.raises(ConfigError, match=r"optional package e3nn"):
        nb.build_nbody_model("e3nn")


@pytest.mark.skipif(importlib.util.find_spec("e3nn") is None, reason="the optional e3nn is not installed")
def test_e3nn_model_is_equivariant():
    torch.manual_seed(0)
    net = nb.NBodyE3nn(hidden=2, n_layers=2).double().eval()
    with torch.no_grad():
        net.gain.fill_(1.0)
    x, r = _systems(b=3), torch.as_tensor(random_rotations(1, seed=4)[0])
    t = torch.tensor([0.5, -0.2, 1.0], dtype=torch.float64)
    with torch.no_grad():
        got, want = net(_move(x, r, t)), net(x) @ r.T + t
    assert float((got - want).norm() / want.norm()) < 1e-8


@pytest.mark.parametrize("model", ["implicit", "analytic", "mlp", "gnn"])
def test_tiny_runs_report_finite_metrics(model):
    res = fit_task(
        "nbody", model=model, hidden=2, n_train=32, n_test=16, steps=50, epochs=1, device="cpu", progress=False
    )
    assert res.task == "nbody" and res.plan["model"] == model
    for k in ("train_loss", "train_mse", "test_mse", "rotated_mse"):
        assert math.isfinite(res.last[k]), (k, res.last)
    assert res.last["test_loss"] == pytest.approx(res.last["test_mse"], rel=1e-5)
    if model in ("implicit", "analytic"):
        assert res.last["rotated_mse"] == pytest.approx(res.last["test_mse"], rel=1e-4)


def test_a_checkpointed_run_rebuilds_its_model(tmp_path):
    from steerable.training import load_checkpoint, model_from_checkpoint

    plan = dict(model="implicit", hidden=1, n_layers=1, n_train=16, n_test=8, steps=20, epochs=1)
    fit_task("nbody", out=str(tmp_path / "run"), device="cpu", progress=False, **plan)
    model = model_from_checkpoint(load_checkpoint(str(tmp_path / "run")))
    assert isinstance(model, nb.NBodyNet) and model.gain.item() != 0.0  # trained: the gain moved
    x = build_task("nbody", **plan).eval_data()["test"].inputs
    with torch.no_grad():
        assert torch.isfinite(model(x)).all()
