"""Tasks built by name: each learns at tiny sizes, its model has the symmetry it claims, a task run
resumes bit for bit, checkpoints rebuild their model, and a user's own task trains by name."""

from __future__ import annotations

import pytest
import torch

from steerable.data import VoxelTetris, cube_rotations, random_rotations, rotate_voxels
from steerable.testing import assert_equivariant, assert_invariant
from steerable.training import (
    CheckpointError,
    ConfigError,
    DipoleNet,
    LambdaCallback,
    Task,
    TetrisNet,
    accuracy,
    build_task,
    describe_tasks,
    fit_task,
    get_task,
    load_checkpoint,
    model_from_checkpoint,
    register_task,
    task_names,
    unregister_task,
)

DIPOLE = dict(hidden=1, n_train=96, n_test=48, epochs=5, batch_size=16, device="cpu", progress=False)


def test_registry_lists_the_tasks_with_a_description():
    names = task_names()
    assert {"rotated_mnist", "tetris", "dipole"} <= set(names)
    for name, text in describe_tasks():
        assert text and "\n" not in text, name
        epochs = get_task(name).defaults["epochs"]
        if epochs is None:  # a per-data-set default, resolved in the plan
            epochs = build_task(name).plan["epochs"]
        assert epochs > 0, name
    with pytest.raises(ConfigError, match=r"^task: unknown task 'nope'; expected one of .*tetris"):
        get_task("nope")
    with pytest.raises(ConfigError, match=r"^n_train: expected an integer > 0, got 0$"):
        build_task("dipole", n_train=0)
    with pytest.raises(ConfigError, match=r"^limit: not an option of task 'tetris'; it takes model, fields"):
        build_task("tetris", limit=3)
    with pytest.raises(ConfigError, match=r"^model: expected one of octa, cnn for task 'tetris'"):
        build_task("tetris", model="c8")


def test_tetris_model_is_invariant_under_the_24_cube_rotations():
    torch.manual_seed(0)
    net = TetrisNet(fields=1).eval()
    x = VoxelTetris(4, seed=3).voxels + 0.1 * torch.rand(4, 1, 7, 7, 7)
    results = assert_invariant(net, inputs=x, elements=list(cube_rotations()), in_action=rotate_voxels)
    assert len(results) == 24


def test_dipole_model_is_equivariant_under_rotations():
    torch.manual_seed(0)
    net = DipoleNet(hidden=2).eval().double()
    x = torch.randn(5, 6, 4, dtype=torch.float64)
    rotations = list(torch.as_tensor(random_rotations(4, seed=5)))
    assert_equivariant(
        net,
        inputs=x,
        elements=rotations,
        atol=0.0,
        rtol=1e-10,
        in_action=lambda x, r: torch.cat([x[..., :3] @ r.T, x[..., 3:]], -1),
        out_action=lambda y, r: y @ r.T,
    )


def test_tetris_learns_upright_and_classifies_rotated_pieces_alike():
    res = fit_task("tetris", fields=2, n_train=64, n_test=32, epochs=8, batch_size=8, device="cpu", progress=False)
    last = res.last
    assert last["test_acc"] >= 0.3, res.history  # chance: 1/8
    assert last["rotated_acc"] == last["test_acc"]  # invariant logits: the same predictions
    assert last["rotated_loss"] == pytest.approx(last["test_loss"], rel=1e-5)


def test_dipole_regression_learns_and_generalises_to_rotated_sets():
    res = fit_task("dipole", **DIPOLE)
    first, last = res.history[0], res.last
    assert last["test_cos_err"] < 0.25 and last["test_mse"] < 0.5 * first["test_mse"], res.history
    assert last["rotated_cos_err"] == pytest.approx(last["test_cos_err"], rel=1e-4)  # never saw these directions


def test_a_task_run_resumes_bit_for_bit_and_its_checkpoint_rebuilds_the_model(tmp_path):
    full = fit_task("dipole", out=str(tmp_path / "full"), **DIPOLE)

    class Stop(Exception):
        pass

    def die(trainer, epoch, step, loss):
        if epoch == 3 and step == 2:
            raise Stop

    part = str(tmp_path / "part")
    with pytest.raises(Stop):
        fit_task("dipole", out=part, callbacks=[LambdaCallback(on_step=die)], **DIPOLE)
    with pytest.raises(CheckpointError, match=r"^hidden=2 differs from the checkpoint's 1 .*; drop hidden"):
        fit_task("dipole", out=part, resume=True, device="cpu", progress=False, hidden=2)
    with pytest.raises(CheckpointError, match="holds a run of task 'dipole', not 'tetris'"):
        fit_task("tetris", out=part, resume=True, device="cpu", progress=False)
    res = fit_task("dipole", out=part, resume=True, device="cpu", progress=False)  # the plan from the checkpoint
    assert res.start_epoch == 3 and res.plan == full.plan
    a, b = load_checkpoint(tmp_path / "full"), load_checkpoint(part)
    assert a["task"] == b["task"] == "dipole"
    for k in a["model_state"]:
        assert torch.equal(a["model_state"][k], b["model_state"][k]), k
    assert [h["test_mse"] for h in a["history"]] == [h["test_mse"] for h in b["history"]]

    model = model_from_checkpoint(b)
    x = build_task("dipole", **b["args"]).eval_data()["rotated"].points[:8]
    with torch.no_grad():
        torch.testing.assert_close(model(x), res.model(x))


class _Parity(Task):
    """A user's task: is the sum of the inputs positive?"""

    name = "test-parity"
    description = "sign of a sum (a test's own task)"
    defaults = dict(epochs=3, batch_size=16, lr=0.1, weight_decay=0.0, seed=0, n=128)

    def build_model(self):
        return torch.nn.Linear(3, 2)

    def _set(self, seed):
        x = torch.randn(self.plan["n"], 3, generator=torch.Generator().manual_seed(seed))
        return torch.utils.data.TensorDataset(x, (x.sum(1) > 0).long())

    def train_data(self):
        return self._set(0)

    def eval_data(self):
        return self._set(1)

    def loss(self, output, target):
        return torch.nn.functional.cross_entropy(output, target)

    def metrics(self):
        return {"acc": accuracy}


def test_a_users_task_trains_by_name(tmp_path):
    assert register_task(_Parity) is _Parity
    try:
        res = fit_task("test-parity", out=str(tmp_path / "p"), device="cpu", progress=False)
        assert res.task == "test-parity" and res.last["test_acc"] > 0.85
        ckpt = load_checkpoint(tmp_path / "p")
        assert ckpt["task"] == "test-parity" and ckpt["args"]["n"] == 128
        assert isinstance(model_from_checkpoint(ckpt), torch.nn.Linear)
        assert _Parity().evaluate(res.model)["test_acc"] == res.last["test_acc"]
    finally:
        unregister_task("test-parity")
