"""Pose encoders: image → (rotation, shift). A plain CNN (cryoAI's baseline) and steerable CNNs
equivariant to C_N / D_N acting on the image plane, whose outputs transform exactly as the pose
does: an in-plane map ``A`` of the image sends the predicted rotation ``R`` to ``(A ⊕ det A) R``
and the shift ``t`` to ``A t``."""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from steerable import gspaces
from steerable import nn as enn

from ._rotations import rotation_from_6d

__all__ = ["PoseEncoder", "pose_encoder"]

_GROUPS = ("trivial", "C4", "C8", "D4", "D8")


def _soft_argmax(heat: torch.Tensor, factor: int, size: int) -> torch.Tensor:
    """Expected position (pixels of the input image, origin at its centre) under softmax(heat)."""
    b, h, w = heat.shape
    pos = (torch.arange(h, dtype=heat.dtype, device=heat.device) + 0.5) * factor - 0.5 - (size - 1) / 2
    p = torch.softmax(heat.reshape(b, -1), -1).reshape(b, h, w)
    return torch.stack([(p.sum(2) * pos).sum(1), (p.sum(1) * pos).sum(1)], -1)


class PoseEncoder(torch.nn.Module):
    """An amortised pose encoder: ``forward(images (B, N, N)) -> (rotations (B, 3, 3), shifts (B, 2))``.

    Four 2x-downsampling stages (the first a plain average pool) of convolutions with
    ``widths`` channels; the rotation comes from a head that sees the whole final map
    (a convolution as large as the map, the analogue of cryoAI's flatten + MLP) and outputs two 3-vectors turned
    into a rotation by Gram–Schmidt (:func:`rotation_from_6d`); the shift is the soft-argmax of
    a heat map at 1/4 resolution. With ``group="trivial"`` every layer is a plain
    ``torch.nn.Conv2d``; otherwise each is an ``R2Conv`` of regular fields of the group, with
    output fields ``ψ₁ ⊕ ψ_z`` for each 3-vector (ψ₁ the frequency-1 irrep, ψ_z trivial for
    C_N and the sign of reflections for D_N) and a trivial heat map, so the encoder is exactly
    equivariant to the grid's symmetries (90° rotations, flips) and nearly so to 45°.

    ``size`` is the image side, a multiple of 32 and at least 64, so every pooling is exactly equivariant.

    >>> import torch
    >>> from steerable.cryoem import pose_encoder
    >>> enc = pose_encoder("D4", widths=(8, 8, 8, 8), hidden=16)
    >>> r, t = enc(torch.randn(2, 64, 64))
    >>> r.shape, t.shape
    (torch.Size([2, 3, 3]), torch.Size([2, 2]))
    """

    def __init__(
        self, group: str = "D4", widths: tuple[int, ...] = (16, 32, 64, 64), hidden: int = 128, size: int = 64
    ):
        super().__init__()
        if isinstance(size, bool) or not isinstance(size, int) or size < 64 or size % 32:
            # four exact 2x poolings, and a final map of at least 4x4 (a 2x2 head has no equivariant basis)
            raise ValueError(f"size: expected the image side, a multiple of 32 and at least 64, got {size!r}")
        self.size = size
        k = size // 16  # the side of the final map: the rotation head sees all of it
        if group not in _GROUPS:
            raise ValueError(f"group: expected one of {', '.join(_GROUPS)}, got {group!r}")
        if len(widths) != 4 or any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths):
            raise ValueError(f"widths: expected 4 positive ints (channels per stage), got {widths!r}")
        if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
            raise ValueError(f"hidden: expected a positive int, got {hidden!r}")
        self.group = group
        self.equivariant = group != "trivial"
        self.heat: torch.nn.Module
        self.head: torch.nn.Module
        if not self.equivariant:
            chans = (1, *widths)
            self.stages = torch.nn.ModuleList(
                torch.nn.Conv2d(chans[i], chans[i + 1], 5 if i == 0 else 3, padding=2 if i == 0 else 1)
                for i in range(4)
            )
            self.heat = torch.nn.Conv2d(widths[1], 1, 3, padding=1)
            self.head = torch.nn.Sequential(
                torch.nn.Conv2d(widths[3], hidden, k), torch.nn.ReLU(), torch.nn.Conv2d(hidden, 6, 1)
            )
            return
        n = int(group[1:])
        gs = gspaces.flipRot2dOnR2(n) if group[0] == "D" else gspaces.rot2dOnR2(n)
        order = gs.fibergroup.order()

        def regular(channels: int) -> enn.FieldType:
            return enn.FieldType(gs, [gs.regular_repr] * max(1, channels // order))

        types = [enn.FieldType(gs, [gs.trivial_repr])] + [regular(w) for w in widths]
        self.in_type = types[0]
        self.stages = torch.nn.ModuleList(
            enn.SequentialModule(
                enn.R2Conv(types[i], types[i + 1], 5 if i == 0 else 3, padding=2 if i == 0 else 1),
                enn.ReLU(types[i + 1], inplace=True),
            )
            for i in range(4)
        )
        self.pools = torch.nn.ModuleList(enn.PointwiseAvgPool2D(types[i + 1], 2) for i in range(3))
        self.heat = enn.R2Conv(types[2], enn.FieldType(gs, [gs.trivial_repr]), 3, padding=1)
        if group[0] == "D":
            vec = [gs.fibergroup.irrep(1, 1), gs.fibergroup.irrep(1, 0)]
        else:
            vec = [gs.fibergroup.irrep(1), gs.fibergroup.trivial_representation]
        hid = regular(hidden)
        with warnings.catch_warnings():
            # the k x k kernel maps the whole k x k map to one output at its centre: the grid's
            # rotations and flips about that centre are exact, so the even-size warning does not apply
            warnings.filterwarnings("ignore", message=f"kernel_size={k} is even")
            full = enn.R2Conv(types[4], hid, k)
        self.head = enn.SequentialModule(
            full, enn.ReLU(hid, inplace=True), enn.R2Conv(hid, enn.FieldType(gs, vec * 2), 1)
        )

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(images, torch.Tensor) or images.ndim != 3 or images.shape[1] != images.shape[2]:
            raise ValueError(
                f"images: expected a tensor (B, N, N), got {getattr(images, 'shape', type(images).__name__)}"
            )
        size = images.shape[-1]
        if size != self.size:
            raise ValueError(f"images: this encoder was built for {self.size}x{self.size} images, got {size}x{size}")
        x = F.avg_pool2d(images[:, None], 2)
        if self.equivariant:
            x = enn.GeometricTensor(x, self.in_type)
        heat = None
        for i, stage in enumerate(self.stages):
            x = stage(x) if self.equivariant else F.relu(stage(x))
            if i == 1:
                heat = self.heat(x)
            if i < 3:
                x = self.pools[i](x) if self.equivariant else F.avg_pool2d(x, 2)
        out = self.head(x)
        if self.equivariant:
            out, heat = out.tensor, heat.tensor  # type: ignore[union-attr]
        assert heat is not None
        v = out.reshape(len(images), 6)
        return rotation_from_6d(v), _soft_argmax(heat[:, 0], 4, size)


def pose_encoder(
    group: str = "D4", widths: tuple[int, ...] = (16, 32, 64, 64), hidden: int = 128, size: int = 64
) -> PoseEncoder:
    """The :class:`PoseEncoder` of ``group`` (``"trivial"`` for the plain CNN, ``"C4"``, ``"C8"``,
    ``"D4"``, ``"D8"``), with ``widths`` channels per stage for every group (equal compute).

    >>> from steerable.cryoem import pose_encoder
    >>> sum(p.numel() for p in pose_encoder("trivial").parameters()) > sum(
    ...     p.numel() for p in pose_encoder("D4").parameters())
    True
    """
    return PoseEncoder(group, widths, hidden, size)
