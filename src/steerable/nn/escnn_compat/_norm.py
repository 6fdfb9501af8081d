"""Convert escnn's batch-norm state to steerable's per-field layout.

escnn keeps one set of statistics per *field size* s (``InnerBatchNorm``: a ``torch`` batch norm
``batch_norm_[s]`` over the fields of size s; ``NormBatchNorm``: ``{s}_weight`` and
``{s}_running_var`` of shape (1, n_s, 1)) or per *representation name* (``GNormBatchNorm``,
``IIDBatchNorm``: ``{name}_weight`` of shape (n_name, per field), ...), the fields of a group in
field order; steerable keeps the entries of all fields in field order. They are re-interleaved
field by field.
"""

from __future__ import annotations

import numpy as np
import torch

from ..escnn_compat._layout import escape


def _per_field(sizes: list[int], groups: dict[int, torch.Tensor]) -> torch.Tensor:
    rank: dict[int, int] = {}
    out = []
    for s in sizes:
        k = rank.get(s, 0)
        rank[s] = k + 1
        out.append(groups[s].reshape(-1)[k])
    return torch.stack(out) if out else torch.zeros(0)


def _sizes(module) -> list[int]:
    return [r.size for r in module.in_type.representations]


def _direct(module, sub: dict) -> tuple[dict, set] | None:
    """If the module already uses escnn's names, the entries load as they are."""
    own = set(module.state_dict().keys())
    if own and own <= set(sub):
        return {k: sub[k] for k in own}, set(sub)
    return None


def _check_groups(sub: dict, sizes: list[int], fmt: str, where: str, what: str) -> None:
    missing = [fmt.format(s) for s in sorted(set(sizes)) if fmt.format(s) not in sub]
    if missing:
        raise ValueError(
            f"{where}: the escnn checkpoint lacks {missing} for this {what}: its field types differ from the layer's"
        )


def convert_inner(module, sub: dict, where: str) -> tuple[dict, set]:
    direct = _direct(module, sub)
    if direct is not None:
        return direct
    sizes = _sizes(module)
    state, used = {}, set()
    for name in ("weight", "bias", "running_mean", "running_var"):
        if module.state_dict().get(name) is None:
            continue
        fmt = "batch_norm_[{}]." + name
        _check_groups(sub, sizes, fmt, where, "InnerBatchNorm")
        state[name] = _per_field(sizes, {s: sub[fmt.format(s)] for s in set(sizes)})
        used |= {fmt.format(s) for s in set(sizes)}
    if "num_batches_tracked" in module.state_dict():
        keys = [f"batch_norm_[{s}].num_batches_tracked" for s in sorted(set(sizes))]
        vals = [sub[k] for k in keys if k in sub]
        if vals:
            state["num_batches_tracked"] = max(vals, key=lambda t: int(t))
        used |= set(keys)
    used |= {k for k in sub if k.startswith("indices_")}
    return state, used


def convert_norm(module, sub: dict, where: str) -> tuple[dict, set]:
    direct = _direct(module, sub)
    if direct is not None:
        return direct
    sizes = _sizes(module)
    state, used = {}, set()
    for name in ("weight", "running_var"):
        if module.state_dict().get(name) is None:
            continue
        fmt = "{}_" + name
        _check_groups(sub, sizes, fmt, where, "NormBatchNorm")
        state[name] = _per_field(sizes, {s: sub[fmt.format(s)] for s in set(sizes)})
        used |= {fmt.format(s) for s in set(sizes)}
    if "num_batches_tracked" in module.state_dict() and "num_batches_tracked" in sub:
        state["num_batches_tracked"] = sub["num_batches_tracked"]
        used.add("num_batches_tracked")
    used |= {k for k in sub if k.endswith("_indices")}
    return state, used


def _per_name(reps, groups: dict[str, torch.Tensor]) -> torch.Tensor:
    """Rows of escnn's per-name tensors (n_name, k) taken field by field, concatenated."""
    rank: dict[str, int] = {}
    out = []
    for r in reps:
        k = rank.get(r.name, 0)
        rank[r.name] = k + 1
        out.append(groups[r.name].reshape(groups[r.name].shape[0], -1)[k])
    return torch.cat(out) if out else torch.zeros(0)


def _convert_by_name(module, sub: dict, where: str, what: str, names: list[str], field_map=None) -> tuple[dict, set]:
    direct = _direct(module, sub)
    if direct is not None:
        return direct
    reps = list(module.in_type.representations)
    own = module.state_dict()
    state, used = {}, set()
    for name in names:
        if own.get(name) is None:
            continue
        keys = {r.name: f"{escape(r.name)}_{name}" for r in reps}
        present = {n: sub[k] for n, k in keys.items() if k in sub}
        if field_map is not None and name in field_map:
            present = {n: field_map[name](r, present[n]) for n, r in {r.name: r for r in reps}.items() if n in present}
        needs = {r.name for r in reps if own[name].numel() and _contributes(r, name, module)}
        missing = sorted(keys[n] for n in needs if n not in present)
        if missing:
            raise ValueError(
                f"{where}: the escnn checkpoint lacks {missing} for this {what}: its field types differ from the layer's"
            )
        state[name] = _per_name([r for r in reps if r.name in present], present)
        used |= {keys[n] for n in present}
    if "num_batches_tracked" in own and "num_batches_tracked" in sub:
        state["num_batches_tracked"] = sub["num_batches_tracked"]
        used.add("num_batches_tracked")
    derived = ("_indices", "_change_of_basis", "_change_of_basis_inv", "_avg")
    used |= {k for k in sub if k.endswith(derived) or k.startswith(("vars_aggregator_", "vars_propagator_"))}
    return state, used


def _n_trivial(rep) -> int:
    G = rep.group
    return sum(1 for i in rep.irreps if i == G.trivial_irrep_id)


def _contributes(rep, name: str, module) -> bool:
    """Whether fields of this representation hold entries of the steerable tensor ``name``."""
    if name in ("bias", "running_mean"):
        return _n_trivial(rep) > 0
    return True


def convert_gnorm(module, sub: dict, where: str) -> tuple[dict, set]:
    return _convert_by_name(module, sub, where, "GNormBatchNorm", ["weight", "bias", "running_mean", "running_var"])


def _iid_mean(rep, mean: torch.Tensor) -> torch.Tensor:
    """escnn's IID running mean is the field-space mean (n, size) projected on the invariant
    subspace; steerable keeps its trivial-irrep coordinates (n, n_trivial)."""
    G = rep.group
    qinv = np.asarray(rep.change_of_basis_inv, dtype=np.float64)
    pos, rows = 0, []
    for i in rep.irreps:
        if i == G.trivial_irrep_id:
            rows.append(pos)
        pos += G.irrep(*i).size
    q = torch.as_tensor(qinv[rows], dtype=torch.float64)
    return mean.double().reshape(mean.shape[0], -1) @ q.T


def convert_iid(module, sub: dict, where: str) -> tuple[dict, set]:
    return _convert_by_name(
        module,
        sub,
        where,
        "IIDBatchNorm",
        ["weight", "bias", "running_mean", "running_var"],
        field_map={"running_mean": _iid_mean},
    )
