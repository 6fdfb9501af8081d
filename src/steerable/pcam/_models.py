"""Model names of the PCam pipeline: ``'plain'``, ``'C4'``, ``'D4'``, ``'C8'``, ``'D8'``, …, with
``':quotient'`` (quotient fields) and ``'|C4'`` (restriction to a subgroup in the last stage)."""

from __future__ import annotations

import re

import torch

from steerable.models import PlainMobileNetV2, SteerableMobileNetV2, matched_plain_mobilenet

__all__ = ["build_pcam_model", "parse_model_spec"]

_SPEC = re.compile(r"^([CD]\d+)(:quotient)?(?:\|([CD]\d+))?$")


def parse_model_spec(spec: str) -> dict:
    """Split a model name into :class:`~steerable.models.SteerableMobileNetV2` arguments
    (``{}`` for ``'plain'``).

    >>> from steerable.pcam import parse_model_spec
    >>> parse_model_spec('D8:quotient|C4')
    {'group': 'D8', 'fields': 'quotient', 'restrict_to': 'C4'}
    >>> parse_model_spec('plain')
    {}
    """
    if not isinstance(spec, str):
        raise TypeError(f"model: expected a name such as 'D4', 'C8:quotient', 'D8|C4' or 'plain', got {spec!r}")
    s = spec.strip()
    if s.lower() == "plain":
        return {}
    m = _SPEC.match(s.upper().replace(":QUOTIENT", ":quotient"))
    if m is None:
        raise ValueError(
            f"model: expected 'plain' or GROUP[:quotient][|SUBGROUP] (e.g. 'D4', 'C8:quotient', 'D8|C4'), got {spec!r}"
        )
    out = {"group": m.group(1), "fields": "quotient" if m.group(2) else "regular"}
    if m.group(3):
        out["restrict_to"] = m.group(3)
    return out


def build_pcam_model(
    spec: str = "D4",
    width: float = 1.0,
    *,
    match: str | None = None,
    match_by: str = "params",
    in_channels: int = 3,
    n_classes: int = 2,
    input_size: int = 96,
    **kwargs,
) -> torch.nn.Module:
    """A MobileNetV2 for PCam-like inputs: the equivariant ``spec`` (see :func:`parse_model_spec`)
    at ``width``, or ``'plain'``: the plain MobileNetV2 at ``width``, or — with ``match='D4'`` (any
    equivariant spec) — the plain one with the parameters (``match_by='params'``) or the compute
    (``'compute'``) of that equivariant model at ``width``. Further keyword arguments go to the
    model class.

    >>> from steerable.pcam import build_pcam_model
    >>> from steerable.models import count_parameters
    >>> d4 = build_pcam_model('D4', 0.5)
    >>> plain = build_pcam_model('plain', 0.5, match='D4')
    >>> d4.group_name, plain.group_name, abs(count_parameters(plain) / count_parameters(d4) - 1) < 0.1
    ('D4', 'none', True)
    """
    args = parse_model_spec(spec)
    common = dict(in_channels=in_channels, n_classes=n_classes, input_size=input_size, **kwargs)
    if args:
        if match is not None:
            raise ValueError("match: only the plain model is matched to an equivariant one")
        return SteerableMobileNetV2(width=width, **args, **common)
    if match is None:
        return PlainMobileNetV2(width=width, **common)
    target_args = parse_model_spec(match)
    if not target_args:
        raise ValueError(f"match: expected an equivariant model name such as 'D4', got {match!r}")
    target = SteerableMobileNetV2(width=width, **target_args, **common)
    return matched_plain_mobilenet(target, match_by)
