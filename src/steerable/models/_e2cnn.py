"""Rotated-MNIST equivariant CNNs (Weiler & Cesa 2019, "General E(2)-Equivariant Steerable
CNNs", section 4.2, at small scale), and the pieces the other zoo models share: group names,
symmetric pooling, the invariant classifier wrapper and residual blocks with plain exports.

Every model of the zoo takes a plain tensor ``(B, in_channels, H, W)``, wraps it into a
GeometricTensor of ``in_channels`` trivial fields, runs equivariant layers, pools over the group
(``GroupPooling``: invariant) and over the grid (a global average), and ends with a plain MLP
head. ``export()`` gives a plain ``torch.nn.Module`` computing the same function (eval mode).

**Exact invariance.** Every layer before the head commutes with the 90° rotations (and, for
dihedral groups, the reflections) of the grid when the grid is square and every strided window
sits symmetrically on it (odd sizes with kernel 3, stride 2, padding 1, ...). The models pick the
pooling paddings from ``input_size`` (29 for rotated MNIST) so that this holds; their logits
are then invariant to ``torch.rot90`` of the input up to float rounding.
"""

from __future__ import annotations

import copy
import re
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from numbers import Real

import torch

from steerable import gspaces
from steerable.nn import (
    EquivariantModule,
    FieldType,
    GeometricTensor,
    GroupPooling,
    InnerBatchNorm,
    PointwiseMaxPool2D,
    R2Conv,
    ReLU,
    RestrictionModule,
    SequentialModule,
)

from ._width import MNIST_CHANNELS, MNIST_KERNELS, _check_positive_int, _check_width, regular_fields_for

__all__ = ["EquivariantCNN", "InvariantClassifier", "EquivariantResidual", "PlainResidual", "gspace_for"]

_GROUP_RE = re.compile(r"^([CD])(\d+)$")


# ---------------------------------------------------------------------------------------- helpers
def _parse_group(group) -> tuple[str, int]:
    if not isinstance(group, str):
        raise TypeError(f"group: expected a name such as 'C8' or 'D16', got {type(group).__name__}")
    m = _GROUP_RE.match(group.strip().upper())
    if m is None or int(m.group(2)) < 1:
        raise ValueError(f"group: expected 'C<N>' (rotations) or 'D<N>' (rotations and reflections), got {group!r}")
    return m.group(1), int(m.group(2))


def gspace_for(group: str):
    """The gspace of a group name: ``'C<N>'`` → ``rot2dOnR2(N)``, ``'D<N>'`` → ``flipRot2dOnR2(N)``.

    >>> from steerable.models import gspace_for
    >>> gspace_for('D16').fibergroup.order()
    32
    """
    kind, n = _parse_group(group)
    return gspaces.rot2dOnR2(n) if kind == "C" else gspaces.flipRot2dOnR2(n)


def _regular(gs, n: int) -> FieldType:
    return FieldType(gs, [gs.regular_repr] * n)


def _check_input_size(input_size) -> int:
    return _check_positive_int(input_size, "input_size")


def _check_dropout(p) -> float:
    if isinstance(p, bool) or not isinstance(p, Real) or not 0.0 <= float(p) < 1.0:
        raise ValueError(f"dropout: expected a probability in [0, 1), got {p!r}")
    return float(p)


def _check_momentum(m) -> float:
    if isinstance(m, bool) or not isinstance(m, Real) or not 0.0 < float(m) <= 1.0:
        raise ValueError(f"bn_momentum: expected a number in (0, 1], got {m!r}")
    return float(m)


def symmetric_pool_window(n: int, kernel_size: int = 3, stride: int = 2) -> tuple[int, int]:
    """``(kernel_size, padding)`` of a stride-``stride`` pooling whose windows sit symmetrically
    on a side of ``n`` pixels (``(n + 2p − k) % stride == 0``), preferring an odd output size
    (so that a later pooling can be symmetric too), then the largest padding. Even sizes fall
    back to ``kernel_size = stride`` without padding when the size allows it.

    >>> symmetric_pool_window(29), symmetric_pool_window(15), symmetric_pool_window(8)
    ((3, 1), (3, 0), (2, 1))
    """
    options = []
    for k in (kernel_size, stride):
        for p in range(k // 2, -1, -1):
            if n + 2 * p >= k and (n + 2 * p - k) % stride == 0:
                out = (n + 2 * p - k) // stride + 1
                options.append((0 if out % 2 else 1, 0 if k == kernel_size else 1, -p, k, p))
    if not options:  # no symmetric placement: plain floor pooling
        return kernel_size, kernel_size // 2
    _, _, _, k, p = min(options)
    return k, p


def _warn_strided_sizes(input_size: int, owner: str) -> None:
    """Two 3×3 stride-2 convolutions with padding 1 sit symmetrically on n and on (n + 1) / 2 only
    when n ≡ 1 (mod 4) (29 → 15 → 8, 25, 33, ...)."""
    if input_size % 4 != 1:
        warnings.warn(
            f"input_size: {owner} downsamples with 3×3 stride-2 convolutions (padding 1), whose windows sit "
            f"symmetrically only on sizes n ≡ 1 (mod 4) (29 → 15 → 8); on {input_size} × {input_size} inputs "
            "the network runs but is not exactly equivariant to the grid's rotations/reflections",
            stacklevel=3,
        )


def _pool_out(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


def _conv_block(in_type: FieldType, out_type: FieldType, kernel_size: int, stride: int = 1) -> list:
    """R2Conv (no bias: a batch norm follows) → InnerBatchNorm → ReLU."""
    return [
        R2Conv(in_type, out_type, kernel_size, padding=kernel_size // 2, stride=stride, bias=False),
        InnerBatchNorm(out_type),
        ReLU(out_type, inplace=True),
    ]


def mlp_head(
    in_features: int, n_classes: int, hidden: int = 64, dropout: float = 0.0, momentum: float = 0.1
) -> torch.nn.Sequential:
    """The plain head: ``Linear → BatchNorm1d → ELU → Dropout → Linear`` (one ``Linear`` when
    ``hidden == 0``); ``momentum``: the batch norm's."""
    if hidden:
        layers = [
            torch.nn.Linear(in_features, hidden),
            torch.nn.BatchNorm1d(hidden, momentum=momentum),
            torch.nn.ELU(inplace=True),
        ]
        if dropout:
            layers.append(torch.nn.Dropout(dropout))
        layers.append(torch.nn.Linear(hidden, n_classes))
    else:
        layers = ([torch.nn.Dropout(dropout)] if dropout else []) + [torch.nn.Linear(in_features, n_classes)]
    return torch.nn.Sequential(*layers)


# ---------------------------------------------------------------------------------------- residual
class PlainResidual(torch.nn.Module):
    """``body(pre(x)) + shortcut(pre(x) if shortcut_after_pre else x)``: a residual block in plain
    torch (what :class:`EquivariantResidual` exports to). ``pre``/``shortcut`` default to the
    identity. Traceable by ``torch.fx`` (FX quantisation turns the sum into a quantised add).

    >>> from steerable.models import PlainResidual
    >>> import torch
    >>> block = PlainResidual(torch.nn.Conv2d(4, 4, 3, padding=1))
    >>> block(torch.randn(1, 4, 5, 5)).shape
    torch.Size([1, 4, 5, 5])
    """

    def __init__(
        self,
        body: torch.nn.Module,
        shortcut: torch.nn.Module | None = None,
        pre: torch.nn.Module | None = None,
        shortcut_after_pre: bool = False,
    ):
        super().__init__()
        self.pre = pre if pre is not None else torch.nn.Identity()
        self.body = body
        self.shortcut = shortcut if shortcut is not None else torch.nn.Identity()
        self.shortcut_after_pre = bool(shortcut_after_pre)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pre(x)
        s = self.shortcut(y if self.shortcut_after_pre else x)
        return self.body(y) + s

    def extra_repr(self) -> str:
        return f"shortcut_after_pre={self.shortcut_after_pre}"


class EquivariantResidual(EquivariantModule):
    """An equivariant residual block ``body(pre(x)) + shortcut(pre(x) or x)``.

    ``pre`` (optional, e.g. the pre-activation BN–ReLU of a wide ResNet) maps ``in_type`` to
    itself or to another type; ``body`` maps its output to ``out_type``; ``shortcut`` (optional:
    the identity, which needs ``in_type == out_type``) maps ``pre``'s output
    (``shortcut_after_pre=True``) or the input to ``out_type``. A sum of equivariant maps to the
    same type is equivariant. ``export()`` gives a :class:`PlainResidual`.

    >>> from steerable.models import EquivariantResidual
    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr] * 2)
    >>> block = EquivariantResidual(nn.R2Conv(t, t, 3, padding=1))
    >>> x = t(torch.randn(1, 8, 7, 7))
    >>> bool(torch.allclose(block.export()(x.tensor), block(x).tensor, atol=1e-6))
    True
    >>> _ = block.check_equivariance(atol=1e-5)
    """

    def __init__(
        self,
        body: EquivariantModule,
        shortcut: EquivariantModule | None = None,
        pre: EquivariantModule | None = None,
        shortcut_after_pre: bool = False,
    ):
        super().__init__()
        for name, m in (("body", body), ("shortcut", shortcut), ("pre", pre)):
            if m is not None and not isinstance(m, EquivariantModule):
                raise TypeError(f"{name}: expected an EquivariantModule, got {type(m).__name__}")
        mid = pre.out_type if pre is not None else body.in_type
        if pre is not None and body.in_type != pre.out_type:
            raise ValueError(f"body: its in_type {body.in_type!r} is not pre's out_type {pre.out_type!r}")
        self.in_type = pre.in_type if pre is not None else body.in_type
        self.out_type = body.out_type
        src = mid if shortcut_after_pre else self.in_type
        if shortcut is None:
            if src != self.out_type:
                raise ValueError(
                    f"shortcut: the identity shortcut needs matching types, got {src!r} -> {self.out_type!r}; "
                    "pass a projection"
                )
        elif shortcut.in_type != src or shortcut.out_type != self.out_type:
            raise ValueError(
                f"shortcut: expected a map {src!r} -> {self.out_type!r}, got "
                f"{shortcut.in_type!r} -> {shortcut.out_type!r}"
            )
        self.pre = pre
        self.body = body
        self.shortcut = shortcut
        self.shortcut_after_pre = bool(shortcut_after_pre)

    def forward(self, x: GeometricTensor) -> GeometricTensor:
        self._check_input(x)
        y = self.pre(x) if self.pre is not None else x
        src = y if self.shortcut_after_pre else x
        s = self.shortcut(src) if self.shortcut is not None else src
        return GeometricTensor(self.body(y).tensor + s.tensor, self.out_type)

    def evaluate_output_shape(self, input_shape) -> tuple:
        shape = self.pre.evaluate_output_shape(input_shape) if self.pre is not None else tuple(input_shape)
        return self.body.evaluate_output_shape(shape)

    def export(self) -> PlainResidual:
        """A :class:`PlainResidual` of the parts' exports."""
        return PlainResidual(
            self.body.export(),
            self.shortcut.export() if self.shortcut is not None else None,
            self.pre.export() if self.pre is not None else None,
            self.shortcut_after_pre,
        ).train(self.training)

    def extra_repr(self) -> str:
        return f"shortcut_after_pre={self.shortcut_after_pre}"


# ---------------------------------------------------------------------------------------- classifier
class InvariantClassifier(torch.nn.Module):
    """Base of the zoo's equivariant models: plain tensor in, logits out.

    ``forward(x)``: ``x`` (B, in_channels, H, W) → GeometricTensor of ``in_channels`` trivial
    fields → ``features`` (equivariant, regular fields) → ``gpool`` (GroupPooling: invariant) →
    global average over the grid → ``head`` (plain torch) → logits (B, n_classes).

    Subclasses build ``features`` and call :meth:`_finish`.
    """

    group_name: str

    def _finish(
        self,
        in_type: FieldType,
        features: EquivariantModule,
        n_classes: int,
        hidden: int,
        dropout: float,
        bn_momentum: float = 0.1,
    ) -> None:
        self.in_type = in_type
        self.features = features
        self.gpool = GroupPooling(features.out_type)
        self.head = mlp_head(len(features.out_type), n_classes, hidden, dropout, bn_momentum)
        self.n_classes = n_classes

    def _check_tensor(self, x) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(
                f"input: {type(self).__name__} expects a torch.Tensor (B, {self.in_type.size}, H, W), "
                f"got {type(x).__name__}"
            )
        if x.dim() != 4 or x.shape[1] != self.in_type.size:
            raise ValueError(
                f"input: {type(self).__name__} expects shape (B, {self.in_type.size}, H, W), got {tuple(x.shape)}"
            )

    def invariant_features(self, x: torch.Tensor) -> torch.Tensor:
        """The invariant descriptor (B, n_fields) fed to the head."""
        self._check_tensor(x)
        y = self.gpool(self.features(GeometricTensor(x, self.in_type))).tensor
        return y.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.invariant_features(x))

    def export(self) -> torch.nn.Sequential:
        """A plain ``torch.nn.Sequential`` (``features``, ``gpool``, ``pool``, ``flatten``,
        ``head``) computing the same function as this model in eval mode, returned in eval mode.
        Only ``torch.nn`` modules and torch ops inside; traceable by ``torch.fx``, so FX
        post-training quantisation applies."""
        return torch.nn.Sequential(
            OrderedDict(
                features=self.features.export(),
                gpool=self.gpool.export(),
                pool=torch.nn.AdaptiveAvgPool2d(1),
                flatten=torch.nn.Flatten(1),
                head=copy.deepcopy(self.head),
            )
        ).eval()

    def extra_repr(self) -> str:
        return f"group={self.group_name}"


# ---------------------------------------------------------------------------------------- the MNIST CNNs
class EquivariantCNN(InvariantClassifier):
    """The E(2)-CNN paper's rotated-MNIST model with regular fields, at small scale.

    Five steerable convolutions (7×7, then four 5×5, "same" padding, no bias), each followed by
    ``InnerBatchNorm`` and ``ReLU``; a pointwise max pooling (kernel 3, stride 2) after the first
    and the third, with paddings chosen from ``input_size`` so that the windows sit symmetrically
    (29 → 15 → 7); then ``GroupPooling``, a global average and a plain MLP head
    (Linear–BatchNorm1d–ELU–Linear).

    Args:
        group: ``'C<N>'`` (``rot2dOnR2(N)``) or ``'D<N>'`` (``flipRot2dOnR2(N)``).
        n_classes, in_channels: logits and input channels (trivial fields).
        width: multiplies the numbers of fields.
        channels: the plain-channel profile; the regular-field counts are
            ``regular_fields_for(channels, |G|, width)`` (parameters roughly independent of the
            group, as in the paper).
        restrict_to: ``None`` or a subgroup name (``'C<M>'``): after block ``restrict_at`` the
            fields are restricted (``RestrictionModule``) and the later blocks use regular fields
            of the subgroup ("D16|5 C16" in the paper is ``group='D16', restrict_to='C16'``).
        restrict_at: number of blocks (1–4) before the restriction.
        hidden, dropout: the head's hidden width (0: one Linear) and dropout.
        input_size: side of the (square) inputs the pooling is laid out for.

    >>> from steerable.models import EquivariantCNN
    >>> import torch
    >>> model = EquivariantCNN('C4', width=0.5).eval()
    >>> x = torch.randn(2, 1, 29, 29)
    >>> model(x).shape
    torch.Size([2, 10])
    >>> bool(torch.allclose(model(torch.rot90(x, 1, (2, 3))), model(x), atol=1e-5))
    True
    """

    def __init__(
        self,
        group: str = "C8",
        n_classes: int = 10,
        width: float = 1.0,
        in_channels: int = 1,
        channels: Sequence[int] = MNIST_CHANNELS,
        restrict_to: str | None = None,
        restrict_at: int = 3,
        hidden: int = 64,
        dropout: float = 0.0,
        input_size: int = 29,
    ):
        super().__init__()
        n_classes = _check_positive_int(n_classes, "n_classes")
        in_channels = _check_positive_int(in_channels, "in_channels")
        width = _check_width(width)
        n = _check_input_size(input_size)
        dropout = _check_dropout(dropout)
        if hidden != 0:
            hidden = _check_positive_int(hidden, "hidden")
        channels = tuple(channels)
        if len(channels) != len(MNIST_KERNELS):
            raise ValueError(f"channels: expected {len(MNIST_KERNELS)} numbers, got {channels}")
        gs = gspace_for(group)
        kind, order = _parse_group(group)
        name = f"{kind}{order}"
        fields = list(regular_fields_for(channels, gs.fibergroup.order(), width))
        sub_id = None
        if restrict_to is not None:
            skind, sorder = _parse_group(restrict_to)
            if skind != "C" or order % sorder:
                raise ValueError(f"restrict_to: expected 'C<M>' with M dividing {order}, got {restrict_to!r}")
            if isinstance(restrict_at, bool) or not isinstance(restrict_at, int) or not 1 <= restrict_at <= 4:
                raise ValueError(f"restrict_at: expected an integer in 1..4, got {restrict_at!r}")
            sub_id = (None, sorder) if kind == "D" else sorder
            sub_fields = regular_fields_for(channels, sorder, width)
            fields[restrict_at:] = sub_fields[restrict_at:]
            name = f"{name}|C{sorder}"
        self.group_name = name
        self.fields = tuple(fields)
        in_type = FieldType(gs, [gs.trivial_repr] * in_channels)
        layers: list[tuple[str, EquivariantModule]] = []
        t = in_type
        for i, (f, k) in enumerate(zip(fields, MNIST_KERNELS)):
            if sub_id is not None and i == restrict_at:
                res = RestrictionModule(t, sub_id)
                layers.append(("restrict", res))
                t = res.out_type
                gs = t.gspace
            out = _regular(gs, f)
            conv, bn, act = _conv_block(t, out, k)
            layers += [(f"conv{i + 1}", conv), (f"bn{i + 1}", bn), (f"relu{i + 1}", act)]
            t = out
            if i in (0, 2):
                pk, pp = symmetric_pool_window(n)
                layers.append((f"pool{1 if i == 0 else 2}", PointwiseMaxPool2D(t, pk, 2, pp)))
                n = _pool_out(n, pk, 2, pp)
        self.input_size = int(input_size)
        self._finish(in_type, SequentialModule(OrderedDict(layers)), n_classes, hidden, dropout)
