"""Random inputs built from the input types (grids, vectors), reproducible from a seed."""

from __future__ import annotations

from typing import Any

import torch

from steerable.group import Representation
from steerable.nn import FieldType, GeometricTensor


def default_spatial(f: Any, d: int) -> int:
    """The grid side: the module's own choice where it has one (every strided layer's windows
    placed symmetrically, as ``check_equivariance`` picks it), else 9 on R^2 and 5 on R^3."""
    pick = getattr(f, "_exact_spatial_size", None)
    if callable(pick) and isinstance(getattr(f, "in_type", None), (FieldType, dict, tuple, list)):
        return int(pick())
    return 9 if d == 2 else 5


def first_field_type(spec: Any) -> FieldType | None:
    if isinstance(spec, FieldType):
        return spec
    if isinstance(spec, dict):
        spec = list(spec.values())
    if isinstance(spec, (tuple, list)):
        for s in spec:
            t = first_field_type(s)
            if t is not None:
                return t
    return None


def random_inputs(
    spec: Any, *, spatial: int, batch: int, gen: torch.Generator, dtype: torch.dtype, device: torch.device
) -> Any:
    """GeometricTensors (B, C, *grid) for FieldTypes, tensors (B, size) for Representations, in
    the structure of ``spec``."""
    if isinstance(spec, dict):
        return type(spec)(
            (k, random_inputs(v, spatial=spatial, batch=batch, gen=gen, dtype=dtype, device=device))
            for k, v in spec.items()
        )
    if isinstance(spec, (tuple, list)):
        return type(spec)(
            random_inputs(v, spatial=spatial, batch=batch, gen=gen, dtype=dtype, device=device) for v in spec
        )
    if isinstance(spec, FieldType):
        shape = (batch, spec.size) + (spatial,) * spec.gspace.dimensionality
        return GeometricTensor(torch.randn(shape, generator=gen, dtype=dtype).to(device), spec)
    if isinstance(spec, Representation):
        return torch.randn(batch, spec.size, generator=gen, dtype=dtype).to(device)
    raise ValueError(
        f"inputs: random inputs can be built from FieldTypes and Representations only, got a "
        f"{type(spec).__name__} among the input types: pass inputs= explicitly"
    )
