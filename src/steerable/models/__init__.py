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
    "count_parameters",
    "PlainCNN",
    "matched_plain_cnn",
    "EquivariantCNN",
    "EquivariantWideResNet",
    "EquivariantMobileNetV2",
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


def build_model(name: str, n_classes: int = 10, width: float = 1.0, in_channels: int = 1, **kwargs) -> torch.nn.Module:
    """Build the zoo model ``name`` (one of ``MODEL_NAMES``, case-insensitive).

    ``width`` multiplies the number of fields (channels for ``cnn``, which is sized to match the
    parameter count of ``c8`` at the same width); further keyword arguments go to the model's
    class (e.g. ``group='D8'`` for ``wrn``/``mobilenet``, ``input_size=...``, ``dropout=...``).
    Unknown names raise ``ValueError``.

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
