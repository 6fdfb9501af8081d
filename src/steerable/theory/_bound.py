"""Margin-based PAC-Bayes bounds for chains of (equivariant) layers."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import torch

from steerable import nn

from ._layers import AffineLayer, FixedMap, affine_layer, fixed_map

__all__ = ["PacBayesBound", "margins", "nbs18_bound", "pac_bayes_bound"]

_AFFINE = (nn.R2Conv, nn.R3Conv, nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d, torch.nn.Linear)
# the prior's scales: σ_j = 2^(j/4) · 1e-12, j = 0 … 319 (a data-independent grid; union bound)
_SIGMA_GRID = 1e-12 * 2.0 ** (np.arange(320) / 4.0)


@dataclass
class PacBayesBound:
    """A computed bound and the empirical quantities beside it.

    ``bound`` ≥ the test error with probability ≥ 1 − ``delta`` over the training sample;
    ``empirical_margin_loss`` is L̂_γ (training fraction with margin ≤ γ), ``complexity`` the
    square-root term, ``kl`` = ‖w‖² / (2σ²). ``layers`` lists each layer's terms.
    """

    bound: float
    empirical_margin_loss: float
    complexity: float
    margin: float
    kl: float
    sigma: float
    m: int
    delta: float
    input_norm: float
    perturbation: str
    layers: list = field(default_factory=list)
    train_error: float = float("nan")
    test_error: float = float("nan")
    margins: np.ndarray | None = None
    test_margins: np.ndarray | None = None

    @property
    def gap(self) -> float:
        """Measured generalisation gap: test error − training error (nan without test data)."""
        return self.test_error - self.train_error


def _leaves(model) -> list[tuple[str, torch.nn.Module]]:
    if isinstance(model, (nn.SequentialModule, torch.nn.Sequential)):
        out = []
        for n, m in model.named_children():
            out += [(f"{n}.{k}" if k else n, c) for k, c in _leaves(m)]
        return out
    return [("", model)]


def _apply(layer, t: torch.Tensor) -> torch.Tensor:
    if isinstance(layer, nn.EquivariantModule):
        y = layer(layer.in_type(t))
    else:
        y = layer(t)
    return y.tensor if isinstance(y, nn.GeometricTensor) else y


def _as_tensors(data) -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], torch.Tensor):
        x, y = data
    elif isinstance(data, Iterable):
        xs, ys = zip(*[(b[0], b[1]) for b in data])
        x, y = torch.cat(xs), torch.cat(ys)
    else:
        raise TypeError(f"data: expected (inputs, labels) tensors or an iterable of batches, got {type(data).__name__}")
    x = x.tensor if isinstance(x, nn.GeometricTensor) else x
    if x.shape[0] != y.shape[0] or y.dim() != 1:
        raise ValueError(f"data: expected inputs (m, ...) and labels (m,), got {tuple(x.shape)} and {tuple(y.shape)}")
    if x.shape[0] < 2:
        raise ValueError("data: the bound needs at least 2 training samples")
    return x, y.long()


def _logits(layers, x: torch.Tensor, batch: int = 512) -> torch.Tensor:
    outs = []
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            t = x[i : i + batch]
            for _, m in layers:
                t = _apply(m, t)
            outs.append(t.reshape(t.shape[0], -1) if t.dim() > 2 and all(s == 1 for s in t.shape[2:]) else t)
    out = torch.cat(outs)
    if out.dim() != 2:
        raise ValueError(f"model: expected logits (m, classes), got outputs of shape {tuple(out.shape)}")
    return out


def margins(model, data) -> np.ndarray:
    """Classification margins f(x)[y] − max_{j≠y} f(x)[j] of a model on (inputs, labels).

    >>> import torch
    >>> from steerable.theory import margins
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
    >>> margins(net, (torch.randn(5, 2, 2), torch.tensor([0, 1, 2, 0, 1]))).shape
    (5,)
    """
    x, y = _as_tensors(data)
    was = model.training
    model.eval()
    try:
        f = _logits(_leaves(model), x)
    finally:
        model.train(was)
    if int(y.max()) >= f.shape[1] or int(y.min()) < 0:
        raise ValueError(f"data: labels must lie in [0, {f.shape[1]}), got [{int(y.min())}, {int(y.max())}]")
    true = f.gather(1, y[:, None])[:, 0]
    other = f.clone()
    other.scatter_(1, y[:, None], -float("inf"))
    return (true - other.max(1).values).double().numpy()


def _terms(layers, x0: torch.Tensor, perturbation: str) -> list:
    terms: list[AffineLayer | FixedMap] = []
    t = x0[:1]
    for name, m in layers:
        shape = tuple(t.shape)
        with torch.no_grad():
            out = _apply(m, t)
        if isinstance(m, _AFFINE):
            terms.append(affine_layer(m, name or type(m).__name__, shape, tuple(out.shape), perturbation))
        else:
            terms.append(fixed_map(m, name or type(m).__name__, shape))
        t = out
    return terms


def _deviation(terms, sigma: float, input_norm: float) -> float:
    """Upper bound on ‖f_{w+u}(x) − f_w(x)‖₂ on the event that every ‖U_l‖₂ ≤ t_l, ‖u_b‖ ≤ s_l."""
    n_events = sum(1 + (t.bias_params > 0) for t in terms if isinstance(t, AffineLayer))
    eps = 1.0 / (2.0 * max(n_events, 1))
    r, dev = input_norm, 0.0
    for t in terms:
        if isinstance(t, FixedMap):
            r, dev = t.lipschitz * r + t.offset, t.lipschitz * dev
            continue
        tl = sigma * math.sqrt(2.0 * t.variance * math.log(t.dims / eps))
        sl = 0.0
        if t.bias_params:
            sl = sigma * math.sqrt(t.bias_broadcast) * (math.sqrt(t.bias_params) + math.sqrt(2.0 * math.log(1.0 / eps)))
        dev = (t.spectral_norm + tl) * dev + tl * r + sl
        r = t.spectral_norm * r + math.sqrt(t.bias_broadcast) * t.bias_norm
    return dev


def pac_bayes_bound(
    model,
    data,
    margin: float | None = None,
    delta: float = 0.05,
    test_data=None,
    input_norm: float | None = None,
    perturbation: str = "equivariant",
) -> PacBayesBound:
    r"""Margin PAC-Bayes bound on the test error of a trained classifier (Behboodi, Cesa & Cohen
    2022, on the argument of Neyshabur, Bhojanapalli & Srebro 2018).

    With probability ≥ 1 − δ over the m training samples (Lemma 1 of NBS18, prior N(0, σ²I) on
    the weights in an orthonormal basis of each layer's weight space, union bound over the
    fixed grid of J = 320 scales σ):

    .. math::

        L_0(f_w) \le \hat L_\gamma(f_w)
            + 4\sqrt{\frac{\|w\|^2 / (2\sigma^2) + \ln(6 m J / \delta)}{m - 1}}

    for the largest grid σ whose perturbation moves every output by less than γ/4 with
    probability ≥ 1/2. That condition is checked layer by layer: with R_l a bound on the
    activations (R_0 = B = max training input norm, R_l = ‖W_l‖₂R_{l-1} + ‖b_l‖ for affine
    layers, L_l R_{l-1} + ‖φ_l(0)‖ for fixed maps of Lipschitz constant L_l), the output deviation
    obeys Δ_l = (‖W_l‖₂ + t_l) Δ_{l-1} + t_l R_{l-1} + s_l, where t_l bounds the perturbation's
    spectral norm through the matrix Gaussian series tail P(‖U_l‖₂ ≥ t) ≤ D_l e^{-t²/(2σ²v_l)}
    (each event given probability ≤ 1/(2·#events)) and s_l the bias perturbation.

    ``perturbation='equivariant'`` perturbs equivariant layers only within their space of
    equivariant weights, in the Fourier domain: ‖W_l‖₂ is the maximum over irrep blocks (per
    spatial frequency for convolutions), and v_l comes from the irreps' multiplicities
    (``max_ψ (e_ψ/d_ψ) max(m_out, m_in)`` for Linear) or the steerable basis, instead of the
    layer width; ``'dense'`` is the classic NBS18 perturbation of every weight of the plain
    network (:func:`nbs18_bound`). ‖w‖² = Σ_l ‖W_l‖_F² + ‖b_l‖² is the same in both.

    ``margin`` is γ; by default the bound is minimised over γ among quantiles of the training
    margins (allowed: the PAC-Bayes inequality holds for every posterior at once, so for every
    γ, given the prior). ``model`` is a chain (``SequentialModule`` / ``torch.nn.Sequential``,
    nested) of convolutions (``R2Conv``, ``R3Conv``, torch convs; zero or circular padding),
    ``Linear`` layers, pointwise ReLU/ELU/LeakyReLU/tanh/sigmoid, group/norm pooling, max and
    average pooling, flatten, identity and dropout (eval mode); its output is the logits.

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> from steerable.theory import pac_bayes_bound
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t0, t1 = nn.FieldType(gs, [gs.trivial_repr]), nn.FieldType(gs, [gs.regular_repr] * 2)
    >>> net = nn.SequentialModule(nn.R2Conv(t0, t1, 3, padding=1, bias=False), nn.ReLU(t1),
    ...                           nn.GroupPooling(t1), nn.PointwiseAdaptiveAvgPool2D(nn.GroupPooling(t1).out_type, 1))
    >>> x, y = torch.randn(50, 1, 7, 7), torch.randint(0, 2, (50,))
    >>> eq, dense = pac_bayes_bound(net, (x, y)), pac_bayes_bound(net, (x, y), perturbation="dense")
    >>> bool(eq.complexity < dense.complexity)
    True
    """
    if perturbation not in ("equivariant", "dense"):
        raise ValueError(f"perturbation: expected 'equivariant' or 'dense', got {perturbation!r}")
    if not (0.0 < float(delta) < 1.0):
        raise ValueError(f"delta: expected a probability in (0, 1), got {delta!r}")
    if margin is not None and not float(margin) > 0:
        raise ValueError(f"margin: expected a positive number, got {margin!r}")
    x, y = _as_tensors(data)
    was = model.training
    model.eval()
    try:
        layers = _leaves(model)
        with torch.no_grad():
            full = model(layers[0][1].in_type(x[:8]) if isinstance(layers[0][1], nn.EquivariantModule) else x[:8])
        full = full.tensor if isinstance(full, nn.GeometricTensor) else full
        chain = _logits(layers, x[:8])
        if full.reshape(chain.shape).shape != chain.shape or not torch.allclose(
            full.reshape(chain.shape), chain, atol=1e-5, rtol=1e-4
        ):
            raise ValueError("model: it is not a chain of its submodules (residual or custom forward)")
        terms = _terms(layers, x, perturbation)
        mg = margins(model, (x, y))
        test_mg = margins(model, test_data) if test_data is not None else None
    finally:
        model.train(was)
    m = len(mg)
    bnorm = float(x.reshape(m, -1).double().norm(dim=1).max()) if input_norm is None else float(input_norm)
    w2 = sum(t.frobenius_norm**2 + t.bias_norm**2 for t in terms if isinstance(t, AffineLayer))
    devs = np.array([_deviation(terms, s, bnorm) for s in _SIGMA_GRID])
    log_term = math.log(6.0 * m * len(_SIGMA_GRID) / delta)
    pos = np.sort(mg[mg > 0])
    cands = (
        [float(margin)]
        if margin is not None
        else sorted({float(np.quantile(pos, q)) for q in np.linspace(0.0, 1.0, 41)})
        if pos.size
        else [1.0]
    )
    best: tuple[float, float, float, float, float, float] | None = None
    for gamma in cands:
        ok = np.nonzero(devs < gamma / 4.0)[0]
        loss = float(np.mean(mg <= gamma))
        if ok.size == 0:
            sigma, kl, comp = 0.0, float("inf"), float("inf")
        else:
            sigma = float(_SIGMA_GRID[ok[-1]])
            kl = w2 / (2.0 * sigma**2)
            comp = 4.0 * math.sqrt((kl + log_term) / (m - 1))
        if best is None or loss + comp < best[0]:
            best = (loss + comp, loss, comp, gamma, kl, sigma)
    assert best is not None
    total, loss, comp, gamma, kl, sigma = best
    return PacBayesBound(
        bound=total,
        empirical_margin_loss=loss,
        complexity=comp,
        margin=gamma,
        kl=kl,
        sigma=sigma,
        m=m,
        delta=float(delta),
        input_norm=bnorm,
        perturbation=perturbation,
        layers=terms,
        train_error=float(np.mean(mg <= 0)),
        test_error=float(np.mean(test_mg <= 0)) if test_mg is not None else float("nan"),
        margins=mg,
        test_margins=test_mg,
    )


def nbs18_bound(model, data, margin: float | None = None, delta: float = 0.05, test_data=None, input_norm=None):
    """The classic bound of Neyshabur, Bhojanapalli & Srebro (2018): :func:`pac_bayes_bound` with
    every weight of the plain (exported) network perturbed, the layer width in the tail.

    >>> import torch
    >>> from steerable.theory import nbs18_bound
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    >>> r = nbs18_bound(net, (torch.randn(40, 2, 2), torch.randint(0, 2, (40,))))
    >>> r.perturbation, r.bound > r.empirical_margin_loss
    ('dense', True)
    """
    return pac_bayes_bound(model, data, margin, delta, test_data, input_norm, perturbation="dense")
