"""Metrics: callables of ``(output, target)`` whose values the trainer averages over a whole data set.

A metric returns, for one batch, either

- a 0-d tensor or a float: the batch's *mean* (weighted by the batch size when batches are combined),
- a 1-d tensor of one value per sample (summed and counted: exact for any batch sizes), or
- a pair ``(total, count)``: a ratio metric (e.g. correct predictions over labelled samples).

The trainer keeps ``(total, count)`` per metric, sums both over batches and over the ranks of a
distributed run, and reports ``total / count``: the mean over every sample of the epoch, the same
for any batch size or number of processes.

>>> import torch
>>> out, y = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]]), torch.tensor([0, 0, 0])
>>> accuracy(out, y)
tensor([1., 0., 1.], dtype=torch.float64)
>>> acc = MetricTotals({"acc": accuracy})
>>> acc.update(out[:2], y[:2]); acc.update(out[2:], y[2:])
>>> round(acc.means()["acc"], 4)
0.6667
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

Metric = Callable[[torch.Tensor, torch.Tensor], object]


def accuracy(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per sample: 1.0 if the arg-max of the logits ``output`` (B, C) is the label ``target`` (B,).

    >>> import torch
    >>> from steerable.training import accuracy
    >>> accuracy(torch.tensor([[0.1, 0.9]]), torch.tensor([1]))
    tensor([1.], dtype=torch.float64)
    """
    return (output.argmax(1) == target).to(torch.float64)


def squared_error(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per sample: the squared Euclidean distance ``|output - target|²`` over the last axes.

    >>> import torch
    >>> from steerable.training import squared_error
    >>> squared_error(torch.tensor([[1.0, 2.0]]), torch.tensor([[1.0, 0.0]]))
    tensor([4.], dtype=torch.float64)
    """
    d = (output.detach().double() - target.double()).reshape(len(output), -1)
    return (d * d).sum(1)


def cosine_error(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per sample: ``1 - cos`` of the angle between the vectors ``output`` and ``target`` (B, d):
    0 for the right direction, 1 for a perpendicular (or random) one, 2 for the opposite.

    >>> import torch
    >>> from steerable.training import cosine_error
    >>> cosine_error(torch.tensor([[0.0, 2.0], [1.0, 0.0]]), torch.tensor([[0.0, 1.0], [0.0, 1.0]]))
    tensor([0., 1.], dtype=torch.float64)
    """
    a = output.detach().double().reshape(len(output), -1)
    b = target.double().reshape(len(target), -1)
    return 1.0 - torch.nn.functional.cosine_similarity(a, b, dim=1, eps=1e-12)


def check_metrics(metrics: Mapping[str, Metric] | None, name: str = "metrics") -> dict:
    """``metrics`` as a dict of callables with identifier-like names (``ValueError``/``TypeError`` otherwise)."""
    from ._errors import Arg, ConfigError

    if metrics is None:
        return {}
    if not isinstance(metrics, Mapping):
        raise TypeError(f"{name}: expected a dict of name -> callable(output, target), got {type(metrics).__name__}")
    out = {}
    for k, f in metrics.items():
        if not isinstance(k, str) or not k.replace("_", "a").isalnum() or k == "loss":
            raise ConfigError(Arg(name), f": metric names are identifiers other than 'loss', got {k!r}")
        if not callable(f):
            raise TypeError(f"{name}[{k!r}]: expected a callable(output, target), got {type(f).__name__}")
        out[k] = f
    return out


def _total_count(value, batch: int, name: str) -> tuple[float, float]:
    if isinstance(value, tuple) and len(value) == 2:
        return float(value[0]), float(value[1])
    if isinstance(value, torch.Tensor):
        v = value.detach()
        if v.dim() == 0:
            return float(v) * batch, float(batch)
        if v.dim() == 1:
            return float(v.double().sum()), float(v.numel())
        raise ValueError(
            f"metric {name!r}: expected a scalar, one value per sample or (total, count), "
            f"got a tensor of shape {tuple(v.shape)}"
        )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) * batch, float(batch)
    raise TypeError(f"metric {name!r}: expected a tensor, a float or (total, count), got {type(value).__name__}")


class MetricTotals:
    """Running ``(total, count)`` of each metric (and of the loss) over the batches of an epoch.

    >>> import torch
    >>> from steerable.training import MetricTotals
    >>> t = MetricTotals({})
    >>> t.update(torch.zeros(4, 2), torch.zeros(4), loss=0.5)
    >>> t.means()
    {'loss': 0.5}
    """

    def __init__(self, metrics: Mapping[str, Metric]):
        self.metrics = dict(metrics)
        self.names = ["loss", *self.metrics]
        self.totals = [0.0] * (2 * len(self.names))

    def update(self, output: torch.Tensor, target: torch.Tensor, loss: float | None = None) -> None:
        """Add one batch: its mean ``loss`` (weighted by the batch size) and every metric."""
        n = len(target) if hasattr(target, "__len__") else len(output)
        if loss is not None:
            self.totals[0] += float(loss) * n
            self.totals[1] += n
        with torch.no_grad():
            for i, (k, f) in enumerate(self.metrics.items(), start=1):
                total, count = _total_count(f(output, target), n, k)
                self.totals[2 * i] += total
                self.totals[2 * i + 1] += count

    def means(self, totals: list[float] | None = None) -> dict:
        """``total / count`` per name (from ``totals``, e.g. summed over ranks, or this process's own)."""
        t = self.totals if totals is None else totals
        out = {}
        for i, k in enumerate(self.names):
            if t[2 * i + 1] > 0:
                out[k] = t[2 * i] / t[2 * i + 1]
        return out

    def running(self, name: str) -> float | None:
        i = self.names.index(name)
        return self.totals[2 * i] / self.totals[2 * i + 1] if self.totals[2 * i + 1] else None
