"""The rotated 3-D shapes data set (``PointShapes``) and the ``shapes3d`` task (``ShapesNet``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import steerable.training._task_shapes  # noqa: F401  (registers the task)
from steerable.data import random_rotations
from steerable.data._shapes import SHAPE_CLASSES, PointShapes, random_poses
from steerable.training import ConfigError, fit_task
from steerable.training._task_shapes import ShapesNet, ShapesTask, knn_graph

# -------------------------------------------------------------------------------------- data


def test_shapes_deterministic_and_typed():
    a, b = PointShapes(30, n_points=20, seed=4), PointShapes(30, n_points=20, seed=4)
    assert torch.equal(a.points, b.points) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.points, PointShapes(30, n_points=20, seed=5).points)
    x, y = a[3]
    assert x.shape == (20, 3) and x.dtype == torch.float32 and y.dtype == torch.int64 and y.dim() == 0
    assert len(a) == 30 and len(SHAPE_CLASSES) == 10


def test_shapes_balanced_and_normalised():
    ds = PointShapes(205, n_points=32, poses="none", noise=0.0, seed=1)
    counts = torch.bincount(ds.labels, minlength=10)
    assert int(counts.max() - counts.min()) <= 1 and int(counts.sum()) == 205
    assert torch.allclose(ds.points.mean(1), torch.zeros(205, 3), atol=1e-5)
    assert torch.allclose(ds.points.pow(2).sum(-1).mean(1), torch.ones(205), atol=1e-4)
    assert torch.isfinite(ds.points).all()


def test_shapes_so2z_keeps_z_and_xy_norms():
    plain = PointShapes(40, n_points=16, poses="none", noise=0.0, seed=2)
    turned = PointShapes(40, n_points=16, poses="so2z", noise=0.0, seed=2)
    assert torch.equal(plain.labels, turned.labels)
    assert torch.allclose(plain.points[..., 2], turned.points[..., 2], atol=1e-6)
    assert torch.allclose(plain.points[..., :2].norm(dim=-1), turned.points[..., :2].norm(dim=-1), atol=1e-5)
    assert not torch.allclose(plain.points, turned.points, atol=1e-3)


def test_shapes_o3_reflects_and_so3_rotates():
    o3 = PointShapes(60, n_points=8, poses="o3", seed=0)
    det = torch.linalg.det(o3.rotations.double())
    assert torch.allclose(det.abs(), torch.ones(60, dtype=torch.float64), atol=1e-5)
    assert 10 < int((det < 0).sum()) < 50
    so3 = PointShapes(60, n_points=8, poses="so3", noise=0.0, seed=0)
    clean = PointShapes(60, n_points=8, poses="none", noise=0.0, seed=0)
    assert (torch.linalg.det(so3.rotations) > 0).all()
    assert torch.allclose(so3.points, clean.points @ so3.rotations.transpose(1, 2), atol=1e-5)
    r = random_poses(5, "none")
    assert np.allclose(r, np.eye(3))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(n=0), "n"),
        (dict(n=2.5), "n"),
        (dict(n=4, n_points=2), "n_points"),
        (dict(n=4, poses="so2"), "poses"),
        (dict(n=4, noise=-0.1), "noise"),
        (dict(n=4, noise=float("nan")), "noise"),
        (dict(n=4, seed=-1), "seed"),
        (dict(n=True), "n"),
    ],
)
def test_shapes_argument_errors(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        PointShapes(**kwargs)


def test_shapes_generation_is_fast():
    import time

    t = time.perf_counter()
    PointShapes(2000, n_points=64, seed=0)
    assert time.perf_counter() - t < 2.0


# ------------------------------------------------------------------------------------ model


def _group_elements(group: str, n: int, seed: int) -> list[torch.Tensor]:
    if group == "so2z":
        mats = random_poses(n, "so2z", seed=seed)
    else:
        mats = random_rotations(n, seed=seed)
        if group == "o3":
            mats = mats @ np.diag([1.0, -1.0, 1.0])  # every one a reflection
            mats[0] = -np.eye(3)  # the inversion
    return [torch.as_tensor(m, dtype=torch.float64) for m in mats]


@pytest.mark.parametrize("kernel", ["implicit", "analytic"])
@pytest.mark.parametrize("group", ["so3", "o3", "so2z"])
def test_model_is_invariant(group, kernel):
    torch.manual_seed(0)
    net = ShapesNet(group, kernel, hidden=2, k=5).double().eval()
    x = PointShapes(3, n_points=24, poses="so3", seed=1).points.double()
    x = x + torch.tensor([0.3, -0.2, 0.5], dtype=torch.float64)  # off-centre: the model centres each cloud
    with torch.no_grad():
        ref = net(x)
        for r in _group_elements(group, 3, seed=7):
            out = net(x @ r.T)
            assert torch.allclose(out, ref, atol=1e-9 * max(1.0, float(ref.abs().max()))), (group, kernel)


@pytest.mark.parametrize("kernel", ["implicit", "analytic"])
def test_so2z_model_is_not_so3_invariant(kernel):
    torch.manual_seed(0)
    net = ShapesNet("so2z", kernel, hidden=2, k=5).double().eval()
    x = PointShapes(3, n_points=24, poses="so3", seed=2).points.double()
    c, s = math.cos(math.pi / 2), math.sin(math.pi / 2)
    rx = torch.tensor([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]], dtype=torch.float64)
    with torch.no_grad():
        ref, out = net(x), net(x @ rx.T)
    assert (out - ref).abs().max() > 1e-4 * ref.abs().max()


def test_knn_graph_batches_disconnected_clouds():
    pos = torch.randn(3, 7, 3, generator=torch.Generator().manual_seed(0))
    e = knn_graph(pos, 3)
    assert e.shape == (2, 3 * 7 * 4) and e.dtype == torch.long
    assert torch.equal(e[0] // 7, e[1] // 7)  # no edges across clouds
    assert torch.equal(e[0].view(-1, 4)[:, 0], e[1].view(-1, 4)[:, 0])  # every point receives from itself
    d = torch.cdist(pos[1], pos[1])
    nbr = set((e[0].view(3, 7, 4)[1, 2] - 7).tolist())
    assert nbr == set(d[2].argsort()[:4].tolist())


def test_model_argument_errors():
    with pytest.raises(ValueError, match="^group:"):
        ShapesNet("so2")
    with pytest.raises(ValueError, match="^kernel:"):
        ShapesNet("so3", "grid")
    with pytest.raises(ValueError, match="^x:"):
        ShapesNet("so3", "analytic", hidden=1)(torch.randn(4, 3))


# ------------------------------------------------------------------------------------- task


def test_task_options_and_errors():
    t = ShapesTask(group="so2z", kernel="analytic", n_train=10, n_test=5, n_points=16)
    x, y = t.train_data()[0]
    assert x.shape == (16, 3) and sorted(t.eval_data()) == ["test"]
    assert t.train_data().poses == "so2z" and t.eval_data()["test"].poses == "so2z"
    assert not torch.equal(t.train_data().points[:5], t.eval_data()["test"].points)
    for bad, name in [
        (dict(group="so2"), "group"),
        (dict(kernel="grid"), "kernel"),
        (dict(k=0), "k"),
        (dict(n_points=8, k=8), "k"),
        (dict(n_points=3), "n_points"),
        (dict(hidden=0), "hidden"),
    ]:
        with pytest.raises(ConfigError, match=f"^{name}"):
            ShapesTask(**bad)


@pytest.mark.parametrize("kernel", ["implicit", "analytic"])
def test_fit_task_tiny(kernel, tmp_path):
    from steerable.training import load_checkpoint, model_from_checkpoint

    res = fit_task(
        "shapes3d",
        out=str(tmp_path / "run"),
        group="o3",
        kernel=kernel,
        n_train=40,
        n_test=20,
        n_points=32,
        epochs=1,
        device="cpu",
        progress=False,
    )
    assert res.task == "shapes3d" and res.plan["kernel"] == kernel
    for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
        assert math.isfinite(res.last[key]), key
    assert 0.0 <= res.last["test_acc"] <= 1.0
    model = model_from_checkpoint(load_checkpoint(str(tmp_path / "run")))
    assert isinstance(model, ShapesNet) and model.kernel == kernel and model.group == "o3"
    x = PointShapes(2, n_points=32, poses="o3", seed=9).points
    with torch.no_grad():
        assert torch.isfinite(model(x)).all()
