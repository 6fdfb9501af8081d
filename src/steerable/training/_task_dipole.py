"""The dipole task: regress the dipole moment of a set of point charges, an SO(3)-covariant vector.

The model (:class:`DipoleNet`) is built from ``steerable.nn`` on ``gspaces.rot3dOnR3()``: point
convolutions over the complete graph of each set, from the scalar charges to a vector field (the
irrep of frequency 1), averaged over the points. Its output rotates with its input for *every*
rotation (points are not resampled), so trained on sets whose dipoles all point upwards
(``d_z >= 0``) it predicts the dipoles of arbitrarily rotated sets as well: ``test_cos_err``
(upward sets) and ``rotated_cos_err`` (the same sets turned by random rotations) agree. Loss:
mean squared error; metrics: ``mse`` (squared error per set) and ``cos_err`` (1 - cosine of the
angle between prediction and dipole).

>>> task = DipoleTask(n_train=16, n_test=8)
>>> x, d = task.train_data()[0]
>>> tuple(x.shape), tuple(d.shape)
((8, 4), (3,))
"""

from __future__ import annotations

import numpy as np
import torch

from ._errors import check_number
from ._metrics import cosine_error, squared_error
from ._task import Task, register_task


def _coordinate_basis(gs) -> np.ndarray:
    """The orthogonal ``Q`` with ``Q ρ₁(g) = A(g) Q`` (``ρ₁`` the frequency-1 irrep, ``A`` the rotation
    of R³): irrep coordinates → Cartesian ones, from the null space of the intertwining equations."""
    eqs = []
    for g in gs.fibergroup.sample(3, seed=0):
        a, r = np.asarray(gs.basespace_action(g), float), np.asarray(gs.irrep(1)(g), float)
        eqs.append(np.kron(a, np.eye(3)) - np.kron(np.eye(3), r.T))  # vec(A Q - Q R) = 0, row-major vec
    _, s, vt = np.linalg.svd(np.concatenate(eqs))
    q = vt[-1].reshape(3, 3)
    return q / np.sqrt((q @ q.T)[0, 0])


class DipoleNet(torch.nn.Module):
    """SO(3)-equivariant map from point sets ``(B, N, 4)`` (rows ``x, y, z, q``) to vectors ``(B, 3)``.

    ``out = mean_i (K_lin ⋆ q)_i + mean_i (K₂ ⋆ σ(K₁ ⋆ q))_i``: a linear point convolution from the
    charges to a vector field, plus a two-layer path through ``hidden`` copies of scalar and
    vector fields with a norm nonlinearity (``hidden=0``: the linear path only); every convolution
    is over all pairs of points of a set, up to distance ``radius``.

    >>> import torch
    >>> from steerable.data import random_rotations
    >>> from steerable.training import DipoleNet
    >>> net = DipoleNet(hidden=2).eval()
    >>> x = torch.randn(3, 6, 4)
    >>> r = torch.as_tensor(random_rotations(1)[0], dtype=torch.float32)
    >>> xr = torch.cat([x[..., :3] @ r.T, x[..., 3:]], -1)
    >>> bool(torch.allclose(net(xr), net(x) @ r.T, atol=1e-5))
    True
    """

    group_name = "SO(3)"

    def __init__(self, hidden: int = 4, radius: float = 2.0, n_rings: int = 5):
        super().__init__()
        from steerable import gspaces, nn

        check_number("hidden", hidden, integer=True, strict=False)
        check_number("radius", radius)
        check_number("n_rings", n_rings, integer=True)
        gs = gspaces.rot3dOnR3()
        self.in_type = nn.FieldType(gs, [gs.trivial_repr])
        out_type = nn.FieldType(gs, [gs.irrep(1)])
        self.linear = nn.R3PointConv(self.in_type, out_type, width=radius, n_rings=n_rings, bias=False)
        self.hidden = hidden
        if hidden:
            hid = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(1)] * hidden)
            self.conv1 = nn.R3PointConv(self.in_type, hid, width=radius, n_rings=n_rings)
            self.act = nn.NormNonLinearity(hid)
            self.conv2 = nn.R3PointConv(hid, out_type, width=radius, n_rings=n_rings, bias=False)
        self.register_buffer("basis", torch.as_tensor(_coordinate_basis(gs), dtype=torch.float32), persistent=False)
        self._edges: dict = {}

    def _graph(self, b: int, n: int, device) -> torch.Tensor:
        key = (b, n, str(device))
        if key not in self._edges:
            i, j = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
            keep = i != j
            src, dst = j[keep], i[keep]
            offs = (torch.arange(b) * n)[:, None]
            self._edges = {key: torch.stack([(src + offs).reshape(-1), (dst + offs).reshape(-1)]).to(device)}
        return self._edges[key]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[-1] != 4:
            raise ValueError(f"x: expected point sets (B, N, 4) of rows (x, y, z, q), got shape {tuple(x.shape)}")
        b, n, _ = x.shape
        edges = self._graph(b, n, x.device)
        f = self.in_type(x[..., 3:].reshape(b * n, 1), coords=x[..., :3].reshape(b * n, 3))
        y = self.linear(f, edges).tensor
        if self.hidden:
            y = y + self.conv2(self.act(self.conv1(f, edges)), edges).tensor
        return y.reshape(b, n, 3).mean(1) @ self.basis.T


@register_task
class DipoleTask(Task):
    """Dipole moments of point-charge sets with an SO(3)-equivariant point-convolution network.

    >>> from steerable.training import DipoleTask
    >>> sorted(DipoleTask().metrics())
    ['cos_err', 'mse']
    """

    name = "dipole"
    description = (
        "dipole vector of point charges: SO(3)-equivariant point-conv regression, trained on upward "
        "dipoles, tested on rotated sets; metrics mse, cos_err"
    )
    defaults = dict(
        hidden=4,
        epochs=8,
        batch_size=16,
        lr=5e-2,
        weight_decay=0.0,
        seed=0,
        n_train=512,
        n_test=256,
        n_points=8,
        data_seed=0,
    )

    def check(self) -> None:
        super().check()
        p = self.plan
        check_number("hidden", p["hidden"], integer=True, strict=False)
        for k in ("n_train", "n_test"):
            check_number(k, p[k], integer=True)
        check_number("data_seed", p["data_seed"], integer=True, strict=False)
        if (
            isinstance(p["n_points"], bool)
            or not isinstance(p["n_points"], int)
            or p["n_points"] < 2
            or p["n_points"] % 2
        ):
            from ._errors import Arg, ConfigError

            raise ConfigError(Arg("n_points"), f": expected an even integer >= 2, got {p['n_points']!r}")

    def build_model(self) -> torch.nn.Module:
        return DipoleNet(hidden=self.plan["hidden"])

    def train_data(self):
        from steerable.data import PointDipoles

        p = self.plan
        return PointDipoles(p["n_train"], n_points=p["n_points"], hemisphere=True, seed=2 * p["data_seed"])

    def eval_data(self):
        from steerable.data import PointDipoles

        p = self.plan
        kw = dict(n_points=p["n_points"], hemisphere=True, seed=2 * p["data_seed"] + 1)
        return {"test": PointDipoles(p["n_test"], **kw), "rotated": PointDipoles(p["n_test"], rotate=True, **kw)}

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.mse_loss(output, target)

    def metrics(self) -> dict:
        return {"mse": squared_error, "cos_err": cosine_error}
