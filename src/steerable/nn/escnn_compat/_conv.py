"""Convert the state of an escnn convolution / Linear layer to the steerable layer of the same
architecture: escnn's filter ``B_e w_e`` is rebuilt from its weights and sampled bases (stored in
its state_dict, or re-derived), then the steerable ``weights`` solving ``B_s w_s = B_e w_e`` are
found by least squares through the layer's own expansion, and the residual is checked."""

from __future__ import annotations

import numpy as np
import torch

from . import _layout
from ._probe import fit_parameter, float64_copy, relative_residual

#: relative residual ||B_s w_s - B_e w_e|| / ||B_e w_e|| above which the spans are declared different
SPAN_RTOL = 1e-5

# escnn state entries that are derived from the parameters (or are constants) and are not loaded
_DERIVED = ("filter", "expanded_bias", "bias_expansion", "matrix")


def _field_labels(ftype_reps) -> np.ndarray:
    return np.concatenate([np.full(r.size, f) for f, r in enumerate(ftype_reps)]) if ftype_reps else np.zeros(0, int)


def _kind(module) -> str:
    from .._linear import Linear
    from ..conv import R2ConvTransposed, R3ConvTransposed

    if isinstance(module, Linear):
        return "linear"
    if isinstance(module, (R2ConvTransposed, R3ConvTransposed)):
        return "transposed"
    return "conv"


def _expansion_types(module, kind: str):
    """(input reps, output reps) of escnn's BlocksBasisExpansion for this layer."""
    ins, outs = list(module.in_type.representations), list(module.out_type.representations)
    g = getattr(module, "groups", 1)
    if kind == "conv":
        ins = ins[: len(ins) // g]
    elif kind == "transposed":
        outs = outs[: len(outs) // g]
    return ins, outs


def _to_numpy(v) -> np.ndarray:
    return v.detach().cpu().double().numpy() if isinstance(v, torch.Tensor) else np.asarray(v, dtype=np.float64)


def convert(module, sub: dict, where: str) -> tuple[dict, set]:
    """The steerable state (``weights``, ``bias``) of ``module`` from escnn's entries ``sub``
    (keys relative to the layer). Returns (state, escnn keys consumed)."""
    kind = _kind(module)
    if "weights" not in sub:
        raise ValueError(f"{where}: the escnn checkpoint has no '{where}.weights' for this {type(module).__name__}")
    used = {"weights"}
    ins, outs = _expansion_types(module, kind)
    stored = _layout.stored_pairs(sub)
    names = {_layout.escape(r.name): r.name for r in ins + outs}
    if stored:
        bases = {}
        for (ie, oe), b in stored.items():
            if ie not in names or oe not in names:
                raise ValueError(
                    f"{where}: the escnn checkpoint has a kernel basis for the representations ({ie!r}, {oe!r}), "
                    f"which the layer's field types {sorted(set(names.values()))} do not contain"
                )
            bases[(names[ie], names[oe])] = _to_numpy(b)
            used.add(_layout.block_key(names[ie], names[oe]))
    else:
        from ._r2_basis import escnn_bases

        bases = escnn_bases(module, ins, outs, kind, where)
    used |= {k for k in sub if k.startswith("_basisexpansion.") and ("in_indices_" in k or "out_indices_" in k)}
    used |= {k for k in _DERIVED if k in sub}
    f_e = _layout.expand(_to_numpy(sub["weights"]), bases, ins, outs, where)  # (C_out, C_in, S)
    if kind == "transposed":
        f_e = f_e.transpose(1, 0, 2)
        d0, d1 = ins, outs
    else:
        d0, d1 = outs, ins
    state: dict = {}
    m64 = float64_copy(module)
    with torch.no_grad():
        for _, p in m64.named_parameters():
            p.zero_()
    shape = f_e.shape
    lab0 = np.broadcast_to(_field_labels(d0)[:, None, None], shape)
    lab1 = np.broadcast_to(_field_labels(d1)[None, :, None], shape)
    w = fit_parameter(m64, "weights", 0, f_e, [lab0, lab1])
    with torch.no_grad():
        m64.weights.copy_(torch.as_tensor(w))
    res = relative_residual(m64, 0, f_e)
    if not res <= SPAN_RTOL:
        raise ValueError(
            f"{where}: the escnn filter of this {type(module).__name__} is not in the span of the steerable "
            f"layer's basis (relative residual {res:.2e} > {SPAN_RTOL:g}); the layer was likely built with "
            "different basis arguments (kernel_size, rings, sigma, frequencies_cutoff, maximum_offset, "
            "basis_filter) or field types than the checkpoint's"
        )
    state["weights"] = torch.as_tensor(w)
    state.update(_convert_bias(module, m64, sub, where, used))
    return state, used


def _convert_bias(module, m64, sub: dict, where: str, used: set) -> dict:
    """escnn's expanded bias (``bias_expansion @ bias``, over the whole output type) fitted by
    the steerable layer's bias."""
    has_e = "bias" in sub
    has_s = getattr(module, "bias", None) is not None
    if not has_e and not has_s:
        return {}
    if has_e:
        used.add("bias")
        b_e = _to_numpy(sub["bias"])
        if "bias_expansion" in sub:
            target = _to_numpy(sub["bias_expansion"]) @ b_e
        else:
            target = _escnn_bias_expansion(module.out_type) @ b_e
    else:
        target = np.zeros(module.out_type.size)
    if not has_s:
        if np.any(target != 0):
            raise ValueError(
                f"{where}: the escnn checkpoint has a non-zero bias but the layer was built with bias=False"
            )
        return {}
    b = fit_parameter(m64, "bias", 1, target, [_field_labels(list(module.out_type.representations))])
    with torch.no_grad():
        m64.bias.copy_(torch.as_tensor(b))
    res = relative_residual(m64, 1, target)
    if not res <= SPAN_RTOL:
        raise ValueError(
            f"{where}: the escnn bias cannot be expressed by this layer's bias (relative residual {res:.2e})"
        )
    return {"bias": torch.as_tensor(b)}


def _escnn_bias_expansion(out_type) -> np.ndarray:
    """escnn's (C_out, n_trivial) bias expansion: the change-of-basis column of every trivial
    irrep of every output field (not normalised)."""
    G = out_type.gspace.fibergroup
    cols = []
    pos = 0
    for rep in out_type.representations:
        q = np.asarray(rep.change_of_basis, dtype=np.float64)
        c = 0
        for irr in rep.irreps:
            size = G.irrep(*irr).size
            if irr == G.trivial_irrep_id:
                v = np.zeros(out_type.size)
                col = q[:, c]
                v[pos : pos + rep.size] = col * np.sign(col.sum()) if col.sum() != 0 else col
                cols.append(v)
            c += size
        pos += rep.size
    return np.stack(cols, 1) if cols else np.zeros((out_type.size, 0))
