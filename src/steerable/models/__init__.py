"""The model zoo: equivariant classifiers built from ``steerable.nn``, and a plain baseline.

Every model takes a plain tensor ``(B, in_channels, H, W)`` and returns logits
``(B, n_classes)``; ``model.export()`` gives a plain ``torch.nn.Module`` (eval mode) computing the
same function, which torch's FX post-training quantisation accepts; ``model.group_name`` names
the symmetry group (``'none'`` for the plain CNN).

=============  =============================================================================
name           model
=============  =============================================================================
``cnn``        :class:`PlainCNN`, parameter-matched to ``c8`` (``matched_plain_cnn``)
``c8``         :class:`EquivariantCNN` ``('C8')``: rotated-MNIST CNN, C8 regular fields
``c16``        :class:`EquivariantCNN` ``('C16')``
``d16``        :class:`EquivariantCNN` ``('D16')`` (rotations and reflections)
``d16c16``     :class:`EquivariantCNN` ``('D16', restrict_to='C16')``: "D16|C16"
``wrn``        :class:`EquivariantWideResNet` (WRN-10-2, C8 regular fields by default)
``mobilenet``  :class:`EquivariantMobileNetV2` (C8 regular fields by default)
=============  =============================================================================

>>> import torch
>>> from steerable.models import build_model, count_parameters
>>> model = build_model('c8', width=0.5).eval()
>>> model(torch.randn(2, 1, 29, 29)).shape
torch.Size([2, 10])
>>> model.group_name
'C8'
"""

from __future__ import annotations

from typing import Any

import torch

from ._cnn import PlainCNN, matched_plain_cnn
from ._e2cnn import EquivariantCNN, EquivariantResidual, InvariantClassifier, PlainResidual, gspace_for
from ._mobilenet import EquivariantMobileNetV2
from ._mobilenet_any import (
    PCAM_SETTINGS,
    PlainMobileNetV2,
    SteerableMobileNetV2,
    downsample_window,
    matched_plain_mobilenet,
)
from ._width import (
    count_parameters,
    plain_channels_for,
    plain_cnn_param_count,
    plain_width_for,
    regular_fields_for,
    scaled_channels,
)
from ._wrn import EquivariantWideResNet

__all__ = [
    "MODEL_NAMES",
    "build_model",
    "default_lr",
    "count_parameters",
    "PlainCNN",
    "matched_plain_cnn",
    "EquivariantCNN",
    "EquivariantWideResNet",
    "EquivariantMobileNetV2",
    "SteerableMobileNetV2",
    "PlainMobileNetV2",
    "matched_plain_mobilenet",
    "downsample_window",
    "PCAM_SETTINGS",
    "InvariantClassifier",
    "EquivariantResidual",
    "PlainResidual",
    "gspace_for",
    "plain_width_for",
    "plain_channels_for",
    "plain_cnn_param_count",
    "regular_fields_for",
    "scaled_channels",
]

MODEL_NAMES: tuple[str, ...] = ("cnn", "c8", "c16", "d16", "d16c16", "wrn", "mobilenet")

# The peak AdamW learning rate each model trains with by default. AdamW moves every coefficient by
# about ``lr`` per step whatever its size, so a model learns at the pace of lr / (its weights'
# scale). Generalised He initialisation gives narrow, small-kernel layers large basis coefficients
# (std 0.3-1.0 in the 3×3 / 1×1 convolutions of wrn and mobilenet, 0.07-0.3 in the 7×7 / 5×5 ones
# of c8), and every convolution there is followed by a batch norm, which makes the function blind
# to that scale: at c8's 2e-3 those models crawl (3 epochs on the 4000 digits: wrn 88.7 %,
# mobilenet 74.4 %); at 1e-2 they reach 94.0 % and 90.7 %.
_DEFAULT_LR: dict[str, float] = {
    "cnn": 2e-3,
    "c8": 2e-3,
    "c16": 2e-3,
    "d16": 2e-3,
    "d16c16": 2e-3,
    "wrn": 1e-2,
    "mobilenet": 1e-2,
}


def default_lr(name: str) -> float:
    """The peak learning rate (AdamW, cosine decay) model ``name`` trains with when none is given
    (``steerable train --model NAME`` without ``--lr``): 2e-3 for the CNNs, 1e-2 for ``wrn`` and
    ``mobilenet``, whose narrow 3×3 / 1×1 layers start with weights 3-10 times larger, so that
    AdamW's steps of about ``lr`` per weight move them that much more slowly.

    >>> from steerable.models import default_lr
    >>> default_lr('c8'), default_lr('MobileNet')
    (0.002, 0.01)
    """
    if not isinstance(name, str):
        raise TypeError(f"name: expected a model name (one of {MODEL_NAMES}), got {type(name).__name__}")
    key = name.strip().lower()
    if key not in _DEFAULT_LR:
        raise ValueError(f"name: unknown model {name!r}; expected one of {MODEL_NAMES}")
    return _DEFAULT_LR[key]


def build_model(name: str, n_classes: int = 10, width: float = 1.0, in_channels: int = 1, **kwargs) -> torch.nn.Module:
    """Build the zoo model ``name`` (one of ``MODEL_NAMES``, case-insensitive).

    ``width`` multiplies the number of fields (channels for ``cnn``, which is sized to match the
    parameter count of ``c8`` at the same width); further keyword arguments go to the model's
    class (e.g. ``group='D8'`` for ``wrn``/``mobilenet``, ``input_size=...``, ``dropout=...``).
    Unknown names raise ``ValueError``.

    >>> from steerable.models import build_model
    >>> build_model('d16c16', width=0.5).group_name
    'D16|C16'
    """
    if not isinstance(name, str):
        raise TypeError(f"name: expected a model name (one of {MODEL_NAMES}), got {type(name).__name__}")
    key = name.strip().lower()
    if key not in MODEL_NAMES:
        raise ValueError(f"name: unknown model {name!r}; expected one of {MODEL_NAMES}")
    common: dict[str, Any] = dict(n_classes=n_classes, width=width, in_channels=in_channels)
    if key == "cnn":
        return matched_plain_cnn(**common, **kwargs)
    if key in ("c8", "c16", "d16"):
        return EquivariantCNN(key.upper(), **common, **kwargs)
    if key == "d16c16":
        kwargs.setdefault("restrict_to", "C16")
        return EquivariantCNN("D16", **common, **kwargs)
    if key == "wrn":
        return EquivariantWideResNet(**common, **kwargs)
    return EquivariantMobileNetV2(**common, **kwargs)
