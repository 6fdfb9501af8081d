"""An E(2)-equivariant wide ResNet (Zagoruyko & Komodakis 2016; equivariant version as in
Weiler & Cesa 2019, section 4.3), small: WRN-10-2 by default."""

from __future__ import annotations

from collections import OrderedDict

from steerable.nn import FieldDropout, FieldType, InnerBatchNorm, R2Conv, ReLU, SequentialModule

from ._e2cnn import (
    EquivariantResidual,
    InvariantClassifier,
    _check_dropout,
    _check_input_size,
    _check_momentum,
    _parse_group,
    _regular,
    _warn_strided_sizes,
    gspace_for,
)
from ._width import _check_positive_int, _check_width, regular_fields_for

__all__ = ["EquivariantWideResNet"]


def _bn_relu(t: FieldType, momentum: float = 0.1) -> SequentialModule:
    return SequentialModule(OrderedDict(bn=InnerBatchNorm(t, momentum=momentum), relu=ReLU(t, inplace=True)))


def _wide_block(
    in_type: FieldType, out_type: FieldType, stride: int, dropout: float, momentum: float = 0.1
) -> EquivariantResidual:
    """Pre-activation basic block: BN–ReLU, then conv3×3(stride)–BN–ReLU–(dropout)–conv3×3, plus
    the input (same type, stride 1) or a 1×1 strided projection of the pre-activated input."""
    layers = [
        ("conv1", R2Conv(in_type, out_type, 3, padding=1, stride=stride, bias=False)),
        ("bn2", InnerBatchNorm(out_type, momentum=momentum)),
        ("relu2", ReLU(out_type, inplace=True)),
    ]
    if dropout:
        layers.append(("dropout", FieldDropout(out_type, dropout)))
    layers.append(("conv2", R2Conv(out_type, out_type, 3, padding=1, bias=False)))
    body = SequentialModule(OrderedDict(layers))
    pre = _bn_relu(in_type, momentum)
    if in_type == out_type and stride == 1:
        return EquivariantResidual(body, None, pre, shortcut_after_pre=False)
    shortcut = R2Conv(in_type, out_type, 1, stride=stride, bias=False)
    return EquivariantResidual(body, shortcut, pre, shortcut_after_pre=True)


class EquivariantWideResNet(InvariantClassifier):
    """A wide ResNet of regular fields of ``group`` (``'C<N>'`` or ``'D<N>'``), exactly
    equivariant on 29 × 29 inputs (sizes n ≡ 1 mod 4), with an invariant head.

    Layout (WRN-``depth``-``widen``, ``(depth − 4) / 6`` pre-activation blocks per stage): a 3×3
    stem conv, three stages of plain widths ``16·widen, 32·widen, 64·widen`` (the stem: 16) with
    strides 1, 2, 2 (3×3 convs with padding 1: 29 → 15 → 8, windows symmetric on odd sizes; 1×1
    strided projections on the shortcuts), a final BN–ReLU, ``GroupPooling``, a global average and
    the MLP head of the other zoo models (Linear–BatchNorm1d–ELU–Linear, ``hidden`` units; one
    ``Linear`` with ``hidden=0``). The widths are turned into regular fields with
    ``preserve='compute'`` (``fields = width · channels / |G|``), so the convolutions have the
    plain WRN's channels and compute with about ``|G|`` times fewer parameters.

    Why the batch-normalised head: the invariant descriptor (a global average of group-pooled
    ReLU outputs, 16 numbers for C8) is nearly constant across images (mean ≈ 1.2, spread ≈ 0.1
    at initialisation); a bare ``Linear`` on it needs large weights and AdamW at lr 2e-3 takes
    thousands of steps to grow them (13 % test accuracy after 2 epochs on 1000 digits, against
    46 % with this head).

    Why ``bn_momentum=0.3`` (torch's default is 0.1) and ``steerable.models.default_lr('wrn')``
    = 1e-2: the 3×3 / 1×1 layers start with large coefficients, so AdamW needs that rate to
    move them (at 2e-3: 88.7 % after 3 epochs on the 4000 digits, at 1e-2: 94.0 %); the weights
    then change fast enough that running statistics averaged over the last ~10 steps lag behind,
    and since the head sees a descriptor whose spread is a tenth of its mean, eval mode breaks
    down (2 epochs on 1000 digits: 41 % test accuracy while 75 % of the training batches are
    right). An average over the last ~3 steps tracks the weights (76 % test accuracy).

    ``input_size`` only serves a check: the stride-2 windows sit symmetrically on sizes
    n ≡ 1 (mod 4) (29 → 15 → 8; 25, 33, ...). On other sizes (e.g. 32 × 32, CIFAR) the network
    runs but is not exactly equivariant; building it with such an ``input_size`` warns.

    >>> from steerable.models import EquivariantWideResNet
    >>> import torch
    >>> model = EquivariantWideResNet('C4', width=0.5).eval()
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
        depth: int = 10,
        widen: int = 2,
        dropout: float = 0.0,
        hidden: int = 64,
        input_size: int = 29,
        bn_momentum: float = 0.3,
    ):
        super().__init__()
        n_classes = _check_positive_int(n_classes, "n_classes")
        in_channels = _check_positive_int(in_channels, "in_channels")
        width = _check_width(width)
        bn_momentum = _check_momentum(bn_momentum)
        widen = _check_positive_int(widen, "widen")
        depth = _check_positive_int(depth, "depth")
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(f"depth: expected 6·n + 4 with n >= 1 (10, 16, 22, 28, ...), got {depth}")
        dropout = _check_dropout(dropout)
        _warn_strided_sizes(_check_input_size(input_size), "EquivariantWideResNet")
        if hidden != 0:
            hidden = _check_positive_int(hidden, "hidden")
        gs = gspace_for(group)
        kind, order = _parse_group(group)
        self.group_name = f"{kind}{order}"
        n_blocks = (depth - 4) // 6
        fields = regular_fields_for(
            (16, 16 * widen, 32 * widen, 64 * widen), gs.fibergroup.order(), width, preserve="compute"
        )
        self.fields = fields
        self.depth, self.widen, self.input_size = depth, widen, int(input_size)
        in_type = FieldType(gs, [gs.trivial_repr] * in_channels)
        t = _regular(gs, fields[0])
        layers: list = [("stem", R2Conv(in_type, t, 3, padding=1, bias=False))]
        for s, (f, stride) in enumerate(zip(fields[1:], (1, 2, 2))):
            out = _regular(gs, f)
            for b in range(n_blocks):
                block = _wide_block(t, out, stride if b == 0 else 1, dropout, bn_momentum)
                layers.append((f"block{s + 1}_{b + 1}", block))
                t = out
        layers += [("bn", InnerBatchNorm(t, momentum=bn_momentum)), ("relu", ReLU(t, inplace=True))]
        self.bn_momentum = bn_momentum
        self._finish(in_type, SequentialModule(OrderedDict(layers)), n_classes, hidden, 0.0, bn_momentum)
