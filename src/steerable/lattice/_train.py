"""Self-supervised training of the Gauss-move reducers: no labels, the loss is the mean log
orthogonality defect of the bases along the reduction trajectory."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch

from ._data import random_lattices
from ._defect import _check_bases, log_orthogonality_defect
from ._model import ConvGaussMoveReducer, GaussMoveReducer

__all__ = ["train_reducer"]


def train_reducer(
    model: GaussMoveReducer,
    n: int,
    family: str = "gaussian",
    iterations: int = 200,
    batch_size: int = 64,
    steps: int | None = None,
    lr: float = 2e-3,
    seed: int = 0,
    tau: float = 1.0,
    noise: float = 1.0,
    sampler: Callable[[int, np.random.Generator], np.ndarray] | None = None,
    validation: np.ndarray | None = None,
    eval_every: int = 10,
) -> list[float]:
    """Train ``model`` with Adam on fresh random bases every iteration (``random_lattices(batch_size,
    n, family)``, or ``sampler(batch_size, rng)`` when given, e.g. grids for the convolutional
    variant); ``tau`` and ``noise`` are the temperature and Gumbel-noise scale of the pivot
    selection (see :meth:`GaussMoveReducer.forward`); returns the loss (mean log defect over the
    trajectory) per iteration. With ``validation`` bases, the mean log defect of the model's
    reduction of them (``model.reduce(validation, steps)``) is measured before training and every
    ``eval_every`` iterations, and the model ends with the parameters that gave the least (model
    selection). The model is left in eval mode.

    >>> import torch
    >>> from steerable.lattice import GaussMoveReducer, train_reducer
    >>> torch.manual_seed(0) and None
    >>> losses = train_reducer(GaussMoveReducer(channels=8), n=4, iterations=3, batch_size=8)
    >>> len(losses)
    3
    """
    if not isinstance(model, GaussMoveReducer):
        raise TypeError(f"model: expected a GaussMoveReducer, got {type(model).__name__}")
    for name, v, lo in (("n", n, 2), ("iterations", iterations, 1), ("batch_size", batch_size, 1)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name}: expected an integer >= {lo}, got {v!r}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr: expected a positive number, got {lr!r}")
    if sampler is not None and not callable(sampler):
        raise TypeError(f"sampler: expected a callable (batch_size, rng) -> bases, got {type(sampler).__name__}")
    if sampler is None and isinstance(model, ConvGaussMoveReducer):
        raise ValueError("sampler: a ConvGaussMoveReducer needs a sampler of grids (e.g. mimo_lattice_grid)")
    if isinstance(eval_every, bool) or not isinstance(eval_every, int) or eval_every < 1:
        raise ValueError(f"eval_every: expected a positive integer, got {eval_every!r}")
    if validation is not None:
        validation = _check_bases(validation, "validation", min_n=2)
    rng = np.random.default_rng(seed)
    if sampler is None:
        random_lattices(1, n, family)  # validates the family early

        def sampler(b: int, r: np.random.Generator) -> np.ndarray:
            return random_lattices(b, n, family, seed=int(r.integers(2**31)))

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses: list[float] = []

    def score(v: np.ndarray) -> float:
        red, _ = model.reduce(v, steps=steps)
        return float(np.mean(log_orthogonality_defect(red)))

    best = (score(validation), copy.deepcopy(model.state_dict())) if validation is not None else None
    model.train()
    for it in range(iterations):
        B = torch.from_numpy(np.asarray(sampler(batch_size, rng), dtype=np.float64))
        out = model(B, steps=steps, tau=tau, noise=noise)
        loss = out.log_defects[..., 1:].mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(loss.detach()))
        if validation is not None and best is not None and ((it + 1) % eval_every == 0 or it + 1 == iterations):
            val = score(validation)
            if val < best[0]:
                best = (val, copy.deepcopy(model.state_dict()))
            model.train()
    if best is not None:
        model.load_state_dict(best[1])
    model.eval()
    return losses
