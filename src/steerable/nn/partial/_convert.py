"""Turning a model's layers partially equivariant, collecting their densities, and the
regularisers of the learned degree of equivariance."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

import torch

from ._density import EquivarianceDensity
from ._source import PartialEquivarianceSource, supports_partial_equivariance

__all__ = ["make_partially_equivariant", "partial_densities", "partial_equivariance_loss"]


def _selected(layers, name: str, module) -> bool:
    if layers is None:
        return True
    if callable(layers):
        return bool(layers(name, module))
    return name in layers


def make_partially_equivariant(
    model: torch.nn.Module,
    L: int = 4,
    shared: bool = False,
    layers: Sequence[str] | Callable[[str, torch.nn.Module], bool] | None = None,
    subgroup=None,
    density: EquivarianceDensity | None = None,
    quadrature_degree: int | None = None,
) -> OrderedDict:
    """Give every supported layer of ``model`` (``Linear``, grid and point convolutions with the
    analytic basis; the model itself may be one) a :class:`PartialEquivarianceSource`, in place,
    and return ``{layer name: density}`` in module order.

    Args:
        L: the band limit of each density (default 4).
        shared: one density per group shared by all converted layers (default: one per layer).
        layers: the names (as in ``model.named_modules()``) of the layers to convert, or a
            predicate ``(name, module) -> bool``; default: every supported layer.
        subgroup: a subgroup id; every density is left-invariant under it (the layers stay
            exactly equivariant to that subgroup).
        density: use this one density for every converted layer (implies sharing).
        quadrature_degree: passed to :class:`EquivarianceDensity`.

    Layers whose kernel source is not the default are left alone. Nothing changes numerically:
    the densities start uniform, so the model is the same function until it trains.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.flipRot2dOnR2(-1, maximum_frequency=2)
    >>> t0 = nn.FieldType(gs, [gs.trivial_repr])
    >>> t1 = nn.FieldType(gs, [gs.irrep(1, 0), gs.irrep(1, 1), gs.irrep(1, 2)])
    >>> model = nn.SequentialModule(nn.R2Conv(t0, t1, 5), nn.NormNonLinearity(t1), nn.R2Conv(t1, t0, 5))
    >>> x = t0(torch.randn(2, 1, 13, 13))
    >>> y = model(x).tensor
    >>> dens = nn.make_partially_equivariant(model, L=3)
    >>> list(dens), bool(torch.allclose(model(x).tensor, y, atol=1e-5))
    (['0', '2'], True)
    >>> float(nn.partial_equivariance_loss(model, kl_uniform=1.0, kl_layers=1.0, alignment=1.0).detach())
    0.0
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    if layers is not None and not callable(layers):
        if isinstance(layers, str) or not all(isinstance(n, str) for n in layers):
            raise TypeError("layers: expected a sequence of module names or a predicate (name, module) -> bool")
        names = {n for n, _ in model.named_modules()}
        missing = [n for n in layers if n not in names]
        if missing:
            raise ValueError(f"layers: no modules named {missing} in the model")
    if density is not None and not isinstance(density, EquivarianceDensity):
        raise TypeError(f"density: expected an EquivarianceDensity, got {type(density).__name__}")
    per_group: dict = {}
    out: OrderedDict = OrderedDict()
    for name, module in model.named_modules():
        if not supports_partial_equivariance(module) or not _selected(layers, name, module):
            continue
        if module._modules.get("_kernel_source") is not None:
            continue
        G = module.in_type.gspace.fibergroup
        if density is not None:
            dens = density
        elif shared and G in per_group:
            dens = per_group[G]
        else:
            dens = EquivarianceDensity(G, L, subgroup=subgroup, quadrature_degree=quadrature_degree)
            dens = dens.to(device=module.weights.device, dtype=module.weights.dtype)
            per_group[G] = dens
        module.kernel_source = PartialEquivarianceSource(module, dens)
        out[name] = dens
    if not out and layers is not None:
        raise ValueError("layers: none of the selected modules supports partial equivariance")
    return out


def partial_densities(model: torch.nn.Module) -> OrderedDict:
    """``{layer name: density}`` of the partially equivariant layers of ``model``, in module order
    (shared densities appear under every layer using them)."""
    out: OrderedDict = OrderedDict()
    for name, module in model.named_modules():
        src = module._modules.get("_kernel_source")
        if isinstance(src, PartialEquivarianceSource):
            out[name] = src.density
    return out


def partial_equivariance_loss(
    model: torch.nn.Module, kl_uniform: float = 0.0, kl_layers: float = 0.0, alignment: float = 0.0
) -> torch.Tensor:
    """The regularisers of the learned degree of equivariance, summed over the model's partially
    equivariant layers:

    ``kl_uniform · Σ_l KL(λ_l ‖ uniform) + kl_layers · Σ_l KL(λ_l ‖ λ_{l+1}) + alignment · Σ_l a(λ_l)``

    with consecutive layers in module order (over the same group), ``a`` the identity-mode
    penalty :meth:`EquivarianceDensity.alignment`, and each distinct density counted once in the
    first and last sums. A zero tensor when the model has none.
    """
    for k, v in (("kl_uniform", kl_uniform), ("kl_layers", kl_layers), ("alignment", alignment)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise ValueError(f"{k}: expected a non-negative number, got {v!r}")
    dens = list(partial_densities(model).values())
    total = torch.zeros(())
    if not dens:
        return total
    total = total.to(dens[0].coefficients)
    distinct = list({id(d): d for d in dens}.values())
    if kl_uniform:
        total = total + kl_uniform * sum(d.kl_uniform() for d in distinct)
    if alignment:
        total = total + alignment * sum(d.alignment() for d in distinct)
    if kl_layers:
        for a, b in zip(dens, dens[1:]):
            if a is not b and a.group == b.group:
                total = total + kl_layers * a.kl(b)
    return total
