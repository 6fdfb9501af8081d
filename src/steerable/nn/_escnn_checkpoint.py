"""Load a state_dict saved from an escnn model into the same architecture built with steerable."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping

import torch

LoadResult = namedtuple("LoadResult", ["missing_keys", "unexpected_keys"])


def _converters():
    from . import GNormBatchNorm, IIDBatchNorm1d, IIDBatchNorm2d, IIDBatchNorm3d, InnerBatchNorm, Linear, NormBatchNorm
    from .conv import R2Conv, R2ConvTransposed, R3Conv, R3ConvTransposed
    from .escnn_compat import _conv, _norm

    return [
        ((R2Conv, R3Conv, R2ConvTransposed, R3ConvTransposed, Linear), _conv.convert),
        ((InnerBatchNorm,), _norm.convert_inner),
        ((NormBatchNorm,), _norm.convert_norm),
        ((GNormBatchNorm,), _norm.convert_gnorm),
        ((IIDBatchNorm1d, IIDBatchNorm2d, IIDBatchNorm3d), _norm.convert_iid),
    ]


def _unsupported():
    from . import InducedNormBatchNorm

    return (InducedNormBatchNorm,)


def load_escnn_state_dict(
    model: torch.nn.Module, escnn_state_dict: Mapping[str, torch.Tensor], strict: bool = True
) -> LoadResult:
    """Load ``escnn_state_dict`` — the ``state_dict()`` of an escnn model — into ``model``, the
    same architecture written with steerable (only the import changed).

    Convolutions (``R2Conv``, ``R3Conv``, their transposes) and ``Linear``: escnn's filter is
    rebuilt from its ``weights`` and the sampled bases escnn keeps in its state_dict (re-derived
    for ``R2Conv`` on C_N with escnn's default basis arguments when they were stripped), and the
    steerable ``weights`` giving the same filter are solved for by least squares (a
    ``ValueError`` names the layer when escnn's filter is outside the steerable layer's span,
    e.g. different basis arguments). ``InnerBatchNorm``, ``NormBatchNorm``, ``GNormBatchNorm``
    and ``IIDBatchNorm*`` statistics are re-laid out per field. Other modules load by name.
    escnn's derived entries (``filter``, ``expanded_bias``, ``bias_expansion``, sampled bases,
    masks, index buffers) are dropped.

    With ``strict`` (default) a steerable entry left unfilled or an escnn entry left unused
    raises ``ValueError``; otherwise they are returned as ``(missing_keys, unexpected_keys)``.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.nn import load_escnn_state_dict
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr])
    >>> bn = nn.InnerBatchNorm(t)
    >>> escnn_sd = {"batch_norm_[4].weight": torch.tensor([2.0]), "batch_norm_[4].bias": torch.tensor([0.5]),
    ...             "batch_norm_[4].running_mean": torch.tensor([1.0]), "batch_norm_[4].running_var": torch.tensor([4.0]),
    ...             "batch_norm_[4].num_batches_tracked": torch.tensor(3), "indices_4": torch.tensor([0, 4])}
    >>> load_escnn_state_dict(bn, escnn_sd)
    LoadResult(missing_keys=[], unexpected_keys=[])
    >>> bn.weight.tolist(), bn.running_var.tolist()
    ([2.0], [4.0])
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(escnn_state_dict, Mapping):
        raise TypeError(
            f"escnn_state_dict: expected a mapping of names to tensors, got {type(escnn_state_dict).__name__}"
        )
    sd = dict(escnn_state_dict)
    converters = _converters()
    unsupported = _unsupported()
    new_state: dict = {}
    used: set = set()
    done: list[str] = []  # prefixes of converted modules (their sub-modules are covered)
    for name, mod in model.named_modules():
        prefix = name + "." if name else ""
        if any(prefix.startswith(p) for p in done):
            continue
        conv = next((fn for classes, fn in converters if isinstance(mod, classes)), None)
        sub = {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}
        where = name or type(mod).__name__
        if conv is None and isinstance(mod, unsupported):
            own = set(mod.state_dict().keys())
            if own and not own <= set(sub):
                raise ValueError(
                    f"{where}: loading escnn's {type(mod).__name__} state is not supported yet (escnn lays its "
                    f"statistics out per representation name); checkpoint keys: {sorted(sub)[:8]}"
                )
        if (
            conv is None
            and "weights" in mod._parameters
            and mod._parameters["weights"] is not None
            and "weights" in sub
        ):
            raise ValueError(
                f"{where}: loading escnn's {type(mod).__name__} is not supported: its 'weights' are coefficients "
                "in escnn's basis, whose order and normalisation differ from steerable's (supported: R2Conv, "
                "R3Conv, R2ConvTransposed, R3ConvTransposed, Linear)"
            )
        if conv is None:
            own = list(mod._parameters.items()) + [
                (k, b) for k, b in mod._buffers.items() if k not in mod._non_persistent_buffers_set
            ]
            for k, v in own:
                if v is None or k not in sub:
                    continue
                e = sub[k]
                if tuple(e.shape) != tuple(v.shape):
                    # escnn keeps some per-field parameters with singleton axes, e.g. (1, F, 1, 1)
                    if e.numel() != v.numel() or [d for d in e.shape if d != 1] != [d for d in v.shape if d != 1]:
                        raise ValueError(
                            f"{prefix}{k}: the escnn checkpoint's entry has shape {tuple(e.shape)}, the "
                            f"steerable {type(mod).__name__} expects {tuple(v.shape)}"
                        )
                    e = e.reshape(v.shape)
                new_state[prefix + k] = e
                used.add(prefix + k)
            own_names = {k for k, _ in own}
            for k in sub:
                if "." not in k and k not in own_names and k in _DERIVED:
                    _check_derived(mod, k, sub[k], prefix)
                    used.add(prefix + k)
            continue
        state, consumed = conv(mod, sub, where)
        for k, v in state.items():
            new_state[prefix + k] = v
        used |= {prefix + k for k in consumed}
        done.append(prefix)
    # escnn's structural entries of modules that hold no state here: index buffers
    leftovers = [k for k in sd if k not in used]
    unexpected = [
        k
        for k in leftovers
        if not (
            isinstance(sd[k], torch.Tensor)
            and not sd[k].is_floating_point()
            and not sd[k].is_complex()
            and _structural(k)
        )
    ]
    target = model.state_dict()
    missing = [k for k in target if k not in new_state]
    if strict and (missing or unexpected):
        raise ValueError(
            "load_escnn_state_dict: the escnn checkpoint does not match the model"
            + (f"; steerable entries not found: {missing}" if missing else "")
            + (f"; escnn entries not used: {unexpected}" if unexpected else "")
        )
    with torch.no_grad():
        for k, v in new_state.items():
            t = target[k]
            if tuple(v.shape) != tuple(t.shape):
                raise ValueError(f"{k}: converted entry has shape {tuple(v.shape)}, the model expects {tuple(t.shape)}")
    model.load_state_dict({k: v.to(target[k].dtype) for k, v in new_state.items()}, strict=False)
    return LoadResult(missing, unexpected)


# escnn buffers computed from a module's construction arguments (no learnt state)
_DERIVED = {"filter", "mask", "A", "Ainv", "eps"}


def _check_derived(mod, name: str, value, prefix: str) -> None:
    """escnn's derived buffer ``name``: dropped; where the steerable module holds the same
    quantity under the same name, it must agree (else the two modules were built differently)."""
    mine = getattr(mod, name, None)
    if isinstance(mine, (int, float)):
        mine = torch.tensor(float(mine))
    if not isinstance(mine, torch.Tensor) or not isinstance(value, torch.Tensor) or mine.numel() != value.numel():
        return
    a, b = mine.detach().double().reshape(-1).cpu(), value.detach().double().reshape(-1).cpu()
    if not torch.allclose(a, b, rtol=1e-4, atol=1e-6 * max(float(b.abs().max()), 1e-30)):
        raise ValueError(
            f"{prefix}{name}: escnn's {type(mod).__name__} was built with a different '{name}' "
            f"(max difference {float((a - b).abs().max()):.3g}): the model's construction arguments differ"
        )


def _structural(key: str) -> bool:
    last = key.rsplit(".", 1)[-1]
    return "indices" in last or "index" in last
