"""The voxel-tetris task: classify the eight 3-D tetris pieces, trained upright, tested turned.

The model (:class:`TetrisNet`) is built from ``steerable.nn`` on ``gspaces.octaOnR3()``: regular
fields of the cube's 24 rotations, group pooling to invariant fields and a global pooling over
the grid, so its logits are invariant under the 24 rotations of the cube (exactly: they permute
the odd-sized grid). Trained on upright pieces only (random translations), it classifies turned
pieces as well as upright ones: ``test_acc`` (upright test pieces) equals ``rotated_acc`` (the
same pieces, each turned by a random cube rotation). ``model='cnn'`` is a plain 3-D CNN baseline
(``8 · fields`` channels), which has only seen upright pieces and does not.

>>> task = TetrisTask(n_train=16, n_test=8)
>>> sorted(task.eval_data())
['rotated', 'test']
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._errors import Arg, ConfigError, check_number
from ._metrics import accuracy
from ._task import Task, register_task

MODELS = ("octa", "cnn")


class TetrisNet(torch.nn.Module):
    """Invariant classifier of voxel grids ``(B, 1, n, n, n)`` under the rotations of the cube.

    ``layers`` 3×3×3 steerable convolutions to ``fields`` regular fields (24 channels each) with
    batch norm and ReLU, a last one to ``8 · fields`` invariant (trivial) fields, their mean and
    max over the grid, and a linear layer to ``n_classes`` logits.

    >>> import torch
    >>> from steerable.training import TetrisNet
    >>> net = TetrisNet(fields=2).eval()
    >>> x = torch.rand(2, 1, 7, 7, 7)
    >>> bool(torch.allclose(net(x), net(torch.rot90(x, 1, dims=(2, 3))), atol=1e-5))
    True
    """

    group_name = "octahedral"

    def __init__(self, fields: int = 4, n_classes: int = 8, layers: int = 2):
        super().__init__()
        from steerable import gspaces, nn

        check_number("fields", fields, integer=True)
        check_number("layers", layers, integer=True)
        gs = gspaces.octaOnR3()
        self.in_type = nn.FieldType(gs, [gs.trivial_repr])
        hid = nn.FieldType(gs, [gs.regular_repr] * fields)
        invariant = nn.FieldType(gs, [gs.trivial_repr] * (8 * fields))
        mods, t = [], self.in_type
        for _ in range(layers):
            mods += [nn.R3Conv(t, hid, kernel_size=3, padding=1), nn.InnerBatchNorm(hid), nn.ReLU(hid)]
            t = hid
        mods.append(nn.R3Conv(hid, invariant, kernel_size=3, padding=1))
        self.body = nn.SequentialModule(*mods)
        self.head = torch.nn.Linear(2 * invariant.size, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.body(self.in_type(x)).tensor
        return self.head(torch.cat([f.mean((2, 3, 4)), f.amax((2, 3, 4))], 1))


class PlainTetrisCNN(torch.nn.Module):
    """The baseline: plain Conv3d layers with batch norm and ReLU, mean and max pooling, linear.

    >>> import torch
    >>> from steerable.training import PlainTetrisCNN
    >>> PlainTetrisCNN(channels=8)(torch.rand(2, 1, 7, 7, 7)).shape
    torch.Size([2, 8])
    """

    group_name = "none"

    def __init__(self, channels: int = 24, n_classes: int = 8, layers: int = 2):
        super().__init__()
        mods, c = [], 1
        for _ in range(layers):
            mods += [torch.nn.Conv3d(c, channels, 3, padding=1), torch.nn.BatchNorm3d(channels), torch.nn.ReLU()]
            c = channels
        mods.append(torch.nn.Conv3d(c, channels, 3, padding=1))
        self.body = torch.nn.Sequential(*mods)
        self.head = torch.nn.Linear(2 * channels, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.body(x)
        return self.head(torch.cat([f.mean((2, 3, 4)), f.amax((2, 3, 4))], 1))


@register_task
class TetrisTask(Task):
    """Voxel tetris with an octahedral steerable CNN (or a plain baseline); metric acc.

    >>> from steerable.training import TetrisTask
    >>> TetrisTask(fields=2).plan["fields"], TetrisTask.defaults["model"]
    (2, 'octa')
    """

    name = "tetris"
    description = (
        "3-D voxel tetris, 8 pieces: octahedral steerable CNN trained upright, tested on rotated pieces; metric acc"
    )
    defaults = dict(
        model="octa",
        fields=4,
        epochs=6,
        batch_size=16,
        lr=1e-2,
        weight_decay=1e-4,
        seed=0,
        n_train=256,
        n_test=128,
        size=7,
        data_seed=0,
    )

    def check(self) -> None:
        p = self.plan
        if p["model"] not in MODELS:
            raise ConfigError(
                Arg("model"), f": expected one of {', '.join(MODELS)} for task 'tetris', got {p['model']!r}"
            )
        super().check()
        for k in ("fields", "n_train", "n_test"):
            check_number(k, p[k], integer=True)
        check_number("data_seed", p["data_seed"], integer=True, strict=False)
        if isinstance(p["size"], bool) or not isinstance(p["size"], int) or p["size"] < 7 or p["size"] % 2 == 0:
            raise ConfigError(Arg("size"), f": expected an odd integer >= 7, got {p['size']!r}")

    def build_model(self) -> torch.nn.Module:
        if self.plan["model"] == "cnn":
            return PlainTetrisCNN(channels=8 * self.plan["fields"])
        return TetrisNet(fields=self.plan["fields"])

    def train_data(self):
        from steerable.data import VoxelTetris

        p = self.plan
        return VoxelTetris(p["n_train"], size=p["size"], seed=2 * p["data_seed"])

    def eval_data(self):
        from steerable.data import VoxelTetris, cube_rotations, rotate_voxels

        p = self.plan
        test = VoxelTetris(p["n_test"], size=p["size"], seed=2 * p["data_seed"] + 1)
        g = torch.Generator().manual_seed(p["data_seed"])
        which = torch.randint(0, 24, (len(test),), generator=g)
        rots = cube_rotations()
        turned = torch.stack([rotate_voxels(v, rots[int(k)]) for v, k in zip(test.voxels, which)])
        return {"test": test, "rotated": torch.utils.data.TensorDataset(turned, test.labels)}

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(output, target)

    def metrics(self) -> dict:
        return {"acc": accuracy}
