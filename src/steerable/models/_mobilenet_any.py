"""MobileNetV2 (Sandler et al. 2018) for images of any size, exactly invariant on every grid:
the equivariant network of "A Data and Compute Efficient Design for Limited-Resources Deep
Learning" (Mohamed, Cesa, Cohen & Welling 2020) for PCam's 96 × 96 RGB patches, and the plain
MobileNetV2 of the same layout.

**Exact downsampling on even and odd grids.** A 3 × 3 stride-2 convolution with padding 1 sits
symmetrically only on odd sizes n ≡ 1 (mod 4); 96 × 96 inputs would lose exactness at the first
stride. Here every depth-wise convolution has stride 1 and each downsampling is an average
pooling laid out for the current side ``n``: 2 × 2 windows without padding when ``n`` is even
(they tile the grid, which every symmetry of the square maps onto itself), 3 × 3 windows with
padding 1 when ``n`` is odd (centred on the even pixels 0, 2, …, n − 1, a set the symmetries
preserve). In a stride-2 block the pooling comes first, so the expansion, the depth-wise and
the projection convolutions all run at the low resolution (cheaper than a stride-2 depth-wise
convolution at the high one). 96 → 48 → 24 → 12 → 6 with the default layout.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence

import torch

from steerable.nn import (
    FieldType,
    InnerBatchNorm,
    PointwiseAvgPool2D,
    R2Conv,
    ReLU,
    RestrictionModule,
    SequentialModule,
)

from ._cnn import plain_export
from ._e2cnn import (
    InvariantClassifier,
    PlainResidual,
    _check_dropout,
    _check_momentum,
    _parse_group,
    gspace_for,
    mlp_head,
)
from ._mobilenet import _inverted_residual
from ._width import _check_positive_int, _check_width, count_parameters

__all__ = [
    "PCAM_SETTINGS",
    "SteerableMobileNetV2",
    "PlainMobileNetV2",
    "matched_plain_mobilenet",
    "downsample_window",
]

#: ``(expansion t, plain output channels c, repeats n, stride s)`` of the inverted residual stages
#: for 96 × 96 inputs (after the stem and its pooling: 48 → 24 → 12 → 6).
PCAM_SETTINGS: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (4, 24, 2, 2),
    (4, 32, 3, 2),
    (4, 64, 2, 2),
    (4, 96, 2, 1),
)

_FIELDS = ("regular", "quotient")


def downsample_window(n: int) -> tuple[int, int]:
    """``(kernel_size, padding)`` of the stride-2 average pooling on a side of ``n`` pixels that
    commutes with the symmetries of the square grid: ``(2, 0)`` for even ``n`` (output n / 2),
    ``(3, 1)`` for odd ``n`` (output (n + 1) / 2).

    >>> from steerable.models import downsample_window
    >>> downsample_window(96), downsample_window(29)
    ((2, 0), (3, 1))
    """
    n = _check_positive_int(n, "n")
    return (2, 0) if n % 2 == 0 else (3, 1)


def _side_after(n: int) -> int:
    k, p = downsample_window(n)
    return (n + 2 * p - k) // 2 + 1


def _check_settings(settings) -> tuple[tuple[int, int, int, int], ...]:
    settings = tuple(tuple(s) for s in settings)
    if not settings:
        raise ValueError("settings: expected at least one (expansion, channels, repeats, stride) stage")
    for s in settings:
        if len(s) != 4 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in s):
            raise ValueError(f"settings: expected (expansion, channels, repeats, stride) positive ints, got {s!r}")
        if s[3] not in (1, 2):
            raise ValueError(f"settings: the stride of a stage must be 1 or 2, got {s!r}")
    return settings


def _check_input_size(input_size, n_down: int) -> int:
    n = _check_positive_int(input_size, "input_size")
    if n < 2**n_down:
        raise ValueError(f"input_size: the layout halves the grid {n_down} times; expected at least {2**n_down}")
    return n


# ---------------------------------------------------------------------------------------- fields
class _Fields:
    """Field types of one gspace: ``regular`` fields, or ``quotient`` units (a regular field and
    a quotient field G/H: H the reflection subgroup of D_N, C_2 in C_N with N even), standing in
    for ``c`` plain channels at equal compute (``width · c / unit size`` units, at least 1)."""

    def __init__(self, gs, kind: str):
        self.gs = gs
        reps = [gs.regular_repr]
        if kind == "quotient":
            group = gs.fibergroup
            order = group.order()
            if group.name.startswith("D"):
                reps.append(gs.quotient_repr((0, 1)))
            elif order % 2 == 0 and order > 2:
                reps.append(gs.quotient_repr(2))
            else:
                raise ValueError(f"fields: 'quotient' needs a dihedral group or C_N with even N > 2, got {group.name}")
        self.unit = reps
        self.unit_size = sum(r.size for r in reps)

    def units(self, channels: int, width: float) -> int:
        return max(1, int(round(channels * width / self.unit_size)))

    def make(self, units: int) -> FieldType:
        return FieldType(self.gs, self.unit * units)


def _check_common(
    n_classes, in_channels, width, dropout, bn_momentum, stem_channels, last_channels, hidden, settings, input_size
) -> tuple:
    """The arguments both MobileNetV2s share, checked (``input_size`` against the halvings)."""
    settings = _check_settings(settings)
    return (
        _check_positive_int(n_classes, "n_classes"),
        _check_positive_int(in_channels, "in_channels"),
        _check_width(width),
        _check_dropout(dropout),
        _check_momentum(bn_momentum),
        _check_positive_int(stem_channels, "stem_channels"),
        _check_positive_int(last_channels, "last_channels"),
        hidden if hidden == 0 else _check_positive_int(hidden, "hidden"),
        settings,
        _check_input_size(input_size, 1 + sum(s[3] == 2 for s in settings)),
    )


class SteerableMobileNetV2(InvariantClassifier):
    """An equivariant MobileNetV2 for square images of any size (default: 96 × 96 RGB, two
    classes: PCam), exactly invariant to the rotations by 90° and the flips of the grid.

    Layout: a 3 × 3 stem convolution (trivial → ``fields`` fields, at full resolution),
    InnerBatchNorm–ReLU, a symmetric stride-2 average pooling, the inverted residual stages of
    ``settings`` (expansion, plain channels, repeats, stride; a stride-2 stage starts with the
    pooling, see the module docstring), a 1 × 1 convolution to ``last_channels``, BN–ReLU,
    ``GroupPooling``, a global average and the zoo's MLP head (``hidden`` units, 0: one Linear).

    Args:
        group: ``'C<N>'`` or ``'D<N>'`` (C4, D4, C8, D8, …): the grid's exact symmetries are the
            multiples of 90° (and the flips), so C4/D4 are exact and C8/D8 add 45° steps that the
            grid only approximates.
        fields: ``'regular'`` fields, or ``'quotient'``: units of a regular field and a quotient
            field G/H (H: the flip subgroup of D_N, C_2 in C_N), fewer channels per unit of
            compute in the later layers' spatial cost.
        width: multiplies every stage's number of fields (plain ``c`` channels become
            ``width · c / unit size`` units: the compute of the plain network of that width).
        restrict_to: ``None`` or a subgroup (``'C<M>'``; ``'D<M>'`` from ``D<N>``): after
            ``restrict_at`` stages the fields are restricted and the later stages use fields of
            the subgroup at the same compute (e.g. ``group='D8', restrict_to='C4'``).
        input_size: the side the layout is checked against (any size works; it must survive
            the halvings). ``in_channels``, ``n_classes``, ``dropout``, ``bn_momentum``: as named.

    >>> import torch
    >>> from steerable.models import SteerableMobileNetV2
    >>> model = SteerableMobileNetV2('D4', width=0.5).eval()
    >>> x = torch.rand(2, 3, 96, 96)
    >>> model(x).shape
    torch.Size([2, 2])
    >>> flipped = torch.flip(torch.rot90(x, 1, (2, 3)), (3,))
    >>> bool(torch.allclose(model(flipped), model(x), atol=1e-5))
    True
    """

    def __init__(
        self,
        group: str = "D4",
        n_classes: int = 2,
        width: float = 1.0,
        in_channels: int = 3,
        fields: str = "regular",
        settings: Sequence[tuple[int, int, int, int]] = PCAM_SETTINGS,
        stem_channels: int = 16,
        last_channels: int = 256,
        restrict_to: str | None = None,
        restrict_at: int | None = None,
        hidden: int = 64,
        dropout: float = 0.0,
        input_size: int = 96,
        bn_momentum: float = 0.1,
    ):
        super().__init__()
        n_classes, in_channels, width, dropout, bn_momentum, stem_channels, last_channels, hidden, settings, n = (
            _check_common(
                n_classes,
                in_channels,
                width,
                dropout,
                bn_momentum,
                stem_channels,
                last_channels,
                hidden,
                settings,
                input_size,
            )
        )
        if fields not in _FIELDS:
            raise ValueError(f"fields: expected one of {_FIELDS}, got {fields!r}")
        gs = gspace_for(group)
        kind, order = _parse_group(group)
        name = f"{kind}{order}"
        sub_id = None
        if restrict_to is not None:
            sub_id, sub_name = _restriction(kind, order, restrict_to)
            if restrict_at is None:
                restrict_at = len(settings) - 1
            if (
                isinstance(restrict_at, bool)
                or not isinstance(restrict_at, int)
                or not 1 <= restrict_at < len(settings)
            ):
                raise ValueError(f"restrict_at: expected an integer in 1..{len(settings) - 1}, got {restrict_at!r}")
            name = f"{name}|{sub_name}"
        elif restrict_at is not None:
            raise ValueError("restrict_at: only meaningful with restrict_to")
        self.group_name = name if fields == "regular" else f"{name} quotient"
        self.fields = fields
        f = _Fields(gs, fields)
        in_type = FieldType(gs, [gs.trivial_repr] * in_channels)
        t = f.make(f.units(stem_channels, width))
        k, p = downsample_window(n)
        layers: list = [
            ("stem", R2Conv(in_type, t, 3, padding=1, bias=False)),
            ("stem_bn", InnerBatchNorm(t, momentum=bn_momentum)),
            ("stem_relu", ReLU(t, inplace=True)),
            ("stem_pool", PointwiseAvgPool2D(t, k, 2, p)),
        ]
        n = _side_after(n)
        units: int | None = len(t) // len(f.unit)  # None: a restricted type, not made of units
        for i, (exp, c, reps, s) in enumerate(settings):
            if sub_id is not None and i == restrict_at:
                res = RestrictionModule(t, sub_id)
                layers.append(("restrict", res))
                t = res.out_type
                f = _Fields(t.gspace, fields)
                units = None
            out = f.make(f.units(c, width))
            for j in range(reps):
                if s == 2 and j == 0:
                    k, p = downsample_window(n)
                    layers.append((f"pool{i + 1}", PointwiseAvgPool2D(t, k, 2, p)))
                    n = _side_after(n)
                if exp == 1 and units is not None:
                    block = _inverted_residual(t, out, t, 1, False, bn_momentum, groups=units)
                else:
                    # after a restriction: expand from the restricted fields at the same channel count
                    n_exp = (units if units is not None else max(1, round(t.size / f.unit_size))) * exp
                    block = _inverted_residual(t, out, f.make(n_exp), 1, True, bn_momentum, groups=n_exp)
                layers.append((f"block{i + 1}_{j + 1}", block))
                t, units = out, len(out) // len(f.unit)
        last = f.make(f.units(last_channels, width))
        layers += [
            ("last", R2Conv(t, last, 1, bias=False)),
            ("last_bn", InnerBatchNorm(last, momentum=bn_momentum)),
            ("last_relu", ReLU(last, inplace=True)),
        ]
        self.settings = settings
        self.input_size = int(input_size)
        self.width = width
        self._finish(in_type, SequentialModule(OrderedDict(layers)), n_classes, hidden, dropout, bn_momentum)


def _restriction(kind: str, order: int, restrict_to) -> tuple:
    skind, sorder = _parse_group(restrict_to)
    if order % sorder or (skind == "D" and kind != "D"):
        raise ValueError(
            f"restrict_to: expected 'C<M>'{' or D<M>' if kind == 'D' else ''} with M dividing {order}, "
            f"got {restrict_to!r}"
        )
    if kind == "C":
        return sorder, f"C{sorder}"
    return ((None, sorder) if skind == "C" else (0.0, sorder)), f"{skind}{sorder}"


# ---------------------------------------------------------------------------------------- plain
class PlainMobileNetV2(torch.nn.Module):
    """The plain MobileNetV2 of :class:`SteerableMobileNetV2`'s layout (same stem, poolings,
    stages, last layer and head; ``Conv2d``/``BatchNorm2d``/``ReLU``; channels
    ``round(width · c)``): the baseline, not invariant.

    >>> import torch
    >>> from steerable.models import PlainMobileNetV2
    >>> model = PlainMobileNetV2(width=0.5).eval()
    >>> model(torch.rand(2, 3, 96, 96)).shape
    torch.Size([2, 2])
    """

    group_name = "none"

    def __init__(
        self,
        n_classes: int = 2,
        width: float = 1.0,
        in_channels: int = 3,
        settings: Sequence[tuple[int, int, int, int]] = PCAM_SETTINGS,
        stem_channels: int = 16,
        last_channels: int = 256,
        hidden: int = 64,
        dropout: float = 0.0,
        input_size: int = 96,
        bn_momentum: float = 0.1,
    ):
        super().__init__()
        n_classes, in_channels, width, dropout, bn_momentum, stem_channels, last_channels, hidden, settings, n = (
            _check_common(
                n_classes,
                in_channels,
                width,
                dropout,
                bn_momentum,
                stem_channels,
                last_channels,
                hidden,
                settings,
                input_size,
            )
        )

        def ch(c: int) -> int:
            return max(1, int(round(c * width)))

        def bn(c: int) -> torch.nn.BatchNorm2d:
            return torch.nn.BatchNorm2d(c, momentum=bn_momentum)

        c = ch(stem_channels)
        k, p = downsample_window(n)
        layers: list = [
            ("stem", torch.nn.Conv2d(in_channels, c, 3, padding=1, bias=False)),
            ("stem_bn", bn(c)),
            ("stem_relu", torch.nn.ReLU(inplace=True)),
            ("stem_pool", torch.nn.AvgPool2d(k, 2, p)),
        ]
        n = _side_after(n)
        for i, (exp, cs, reps, s) in enumerate(settings):
            out = ch(cs)
            for j in range(reps):
                if s == 2 and j == 0:
                    k, p = downsample_window(n)
                    layers.append((f"pool{i + 1}", torch.nn.AvgPool2d(k, 2, p)))
                    n = _side_after(n)
                mid = c * exp
                body: list = []
                if exp != 1:
                    body += [
                        ("expand", torch.nn.Conv2d(c, mid, 1, bias=False)),
                        ("bn1", bn(mid)),
                        ("relu1", torch.nn.ReLU(inplace=True)),
                    ]
                body += [
                    ("depthwise", torch.nn.Conv2d(mid, mid, 3, padding=1, groups=mid, bias=False)),
                    ("bn2", bn(mid)),
                    ("relu2", torch.nn.ReLU(inplace=True)),
                    ("project", torch.nn.Conv2d(mid, out, 1, bias=False)),
                    ("bn3", bn(out)),
                ]
                seq = torch.nn.Sequential(OrderedDict(body))
                layers.append((f"block{i + 1}_{j + 1}", PlainResidual(seq) if c == out else seq))
                c = out
        last = ch(last_channels)
        layers += [
            ("last", torch.nn.Conv2d(c, last, 1, bias=False)),
            ("last_bn", bn(last)),
            ("last_relu", torch.nn.ReLU(inplace=True)),
        ]
        self.features = torch.nn.Sequential(OrderedDict(layers))
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.flatten = torch.nn.Flatten(1)
        self.head = mlp_head(last, n_classes, hidden, dropout, bn_momentum)
        self.in_channels, self.n_classes = in_channels, n_classes
        self.settings, self.width, self.input_size = settings, width, int(input_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] != self.in_channels:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"input: PlainMobileNetV2 expects a tensor (B, {self.in_channels}, H, W), got {got}")
        return self.head(self.flatten(self.pool(self.features(x))))

    def export(self) -> torch.nn.Module:
        """The network itself in eval mode (it is plain torch already), a copy without the input
        check so that ``torch.fx`` traces it like the steerable models' exports."""
        return plain_export(self.features, self.head)


def matched_plain_mobilenet(model: torch.nn.Module, match: str = "params", **kwargs) -> PlainMobileNetV2:
    """The :class:`PlainMobileNetV2` standing beside a :class:`SteerableMobileNetV2` (same
    layout, classes and input channels), at the width whose parameter count
    (``match='params'``) or multiply-adds per image (``match='compute'``, counted on the
    exported networks at ``input_size``) is closest to the model's. (At equal compute the plain
    network is wider than the channel counts of the equivariant one: its depth-wise filters act
    on single channels, the equivariant ones on whole fields, |G| channels.)

    >>> from steerable.models import SteerableMobileNetV2, matched_plain_mobilenet, count_parameters
    >>> eq = SteerableMobileNetV2('D4', width=1.0)
    >>> plain = matched_plain_mobilenet(eq, 'params')
    >>> abs(count_parameters(plain) / count_parameters(eq) - 1) < 0.1
    True
    """
    if not isinstance(model, SteerableMobileNetV2):
        raise TypeError(f"model: expected a SteerableMobileNetV2, got {type(model).__name__}")
    if match not in ("params", "compute"):
        raise ValueError(f"match: expected 'params' or 'compute', got {match!r}")
    common = dict(
        n_classes=model.n_classes,
        in_channels=model.in_type.size,
        settings=model.settings,
        input_size=model.input_size,
        hidden=kwargs.pop("hidden", _head_hidden(model)),
    )
    common.update(kwargs)
    example = torch.zeros(1, model.in_type.size, model.input_size, model.input_size)

    def measure(m: torch.nn.Module) -> int:
        if match == "params":
            return count_parameters(m)
        from steerable.training import count_macs  # the training package builds on the models

        return count_macs(m.export(), example)  # type: ignore[operator]

    target = measure(model)

    def size(w: float) -> int:
        return measure(PlainMobileNetV2(width=w, **common))

    lo, hi = 0.02, 8.0
    for _ in range(30):  # both counts grow monotonically with the width
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if size(mid) < target else (lo, mid)
    best = min((lo, hi), key=lambda w: abs(size(w) - target))
    return PlainMobileNetV2(width=best, **common)


def _head_hidden(model: SteerableMobileNetV2) -> int:
    linears = [m for m in model.head.modules() if isinstance(m, torch.nn.Linear)]
    return linears[0].out_features if len(linears) > 1 else 0
