"""Reading escnn's batch-norm state dicts: escnn keeps one entry set per field size, we keep one
tensor with an entry per field (in field order)."""

from __future__ import annotations

import torch

from .._field_type import FieldType


def _fields_by_size(in_type: FieldType) -> tuple[int, dict]:
    """(number of fields, {field size: [indices of the fields of that size, in order]})."""
    groups: dict = {}
    for f, r in enumerate(in_type.representations):
        groups.setdefault(r.size, []).append(f)
    return len(in_type.representations), groups


def _merge_per_size(state_dict, prefix: str, n_fields: int, groups: dict, names, key, what: str) -> None:
    """For each of ``names``, pop escnn's per-field-size entries ``key(s, name)`` and store one
    tensor with an entry per field (in field order) under ``prefix + name``."""
    for name in names:
        parts = {s: state_dict.pop(f"{prefix}{key(s, name)}", None) for s in groups}
        if all(v is None for v in parts.values()):
            continue
        if any(v is None for v in parts.values()):
            raise ValueError(f"state_dict: escnn {what} state under {prefix!r} lacks {name} for some field sizes")
        ref = next(iter(parts.values()))
        out = torch.empty(n_fields, dtype=ref.dtype, device=ref.device)
        for s, fields in groups.items():
            v = parts[s].reshape(-1)
            if v.numel() != len(fields):
                raise ValueError(
                    f"state_dict: escnn key {prefix}{key(s, name)} has {v.numel()} entries, but the field type "
                    f"has {len(fields)} fields of size {s}"
                )
            out[torch.as_tensor(fields)] = v
        state_dict[f"{prefix}{name}"] = out


def _escnn_norm_keys(in_type: FieldType, state_dict, prefix: str) -> None:
    """Rewrite, in place, an escnn ``NormBatchNorm`` state (``{s}_weight``, ``{s}_running_var`` of
    shape (1, n_s, 1) per field size ``s``, plus ``{s}_indices``) into ours (one entry per field).
    Does nothing if the state has no escnn keys."""
    n, groups = _fields_by_size(in_type)
    if not any(f"{prefix}{s}_running_var" in state_dict or f"{prefix}{s}_weight" in state_dict for s in groups):
        return
    _merge_per_size(state_dict, prefix, n, groups, ("weight", "running_var"), lambda s, k: f"{s}_{k}", "NormBatchNorm")
    for s in groups:
        state_dict.pop(f"{prefix}{s}_indices", None)


def _escnn_inner_keys(in_type: FieldType, state_dict, prefix: str) -> None:
    """Rewrite, in place, an escnn ``InnerBatchNorm`` state (one ``batch_norm_[s]`` BatchNorm per
    field size ``s``, over the fields of that size in order, plus ``indices_s``) into ours (one
    entry per field, in field order). Does nothing if the state has no escnn keys."""
    n, groups = _fields_by_size(in_type)
    if not any(
        f"{prefix}batch_norm_[{s}].{k}" in state_dict for s in groups for k in ("weight", "running_var", "running_mean")
    ):
        return
    _merge_per_size(
        state_dict,
        prefix,
        n,
        groups,
        ("weight", "bias", "running_mean", "running_var"),
        lambda s, k: f"batch_norm_[{s}].{k}",
        "InnerBatchNorm",
    )
    counts = [state_dict.pop(f"{prefix}batch_norm_[{s}].num_batches_tracked", None) for s in groups]
    counts = [c for c in counts if c is not None]
    if counts:
        state_dict[f"{prefix}num_batches_tracked"] = torch.stack([c.reshape(()) for c in counts]).max()
    for s in groups:
        state_dict.pop(f"{prefix}indices_{s}", None)
