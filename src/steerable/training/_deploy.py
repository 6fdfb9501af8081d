"""Deployment utilities for plain (exported) torch image models: cost, memory, latency, QAT, ONNX.

They work on any plain ``torch.nn.Module`` mapping images ``(B, C, H, W)`` to logits, such as what
``model.export()`` of a steerable model returns, and on its FX int8 form (:func:`quantize_int8`,
:func:`quantize_qat`):

- :func:`count_macs`: multiply-accumulates of one forward pass per input (float and int8 agree);
- :func:`peak_memory_bytes`: weight bytes and peak bytes of live activations during one pass;
- :func:`measure_latency`: median / p90 milliseconds per call of any callable on a tensor;
- :func:`quantize_qat`: int8 by quantisation-aware training (FX graph mode);
- :func:`export_onnx`, :func:`quantize_onnx_int8`, :class:`OnnxModel`: ONNX files and
  onnxruntime inference (optional packages: ``pip install "steerable[onnx]"``);
- :func:`d4_invariance_error`: change of the logits under the 7 non-trivial symmetries of the square.

>>> import torch
>>> m = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
...                         torch.nn.Linear(4 * 6 * 6, 10)).eval()
>>> x = torch.randn(2, 1, 8, 8)
>>> count_macs(m, x)  # 4*6*6 outputs * 1*3*3 + 144 * 10
2736
>>> peak_memory_bytes(m, x)["weights"]  # (40 + 1450) float32 parameters
5960
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import math
import statistics
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.fx

from ._quantize import quantization_engine, quiet_torch_deprecations

_ONNX_HINT = 'pip install "steerable[onnx]"'


def _check_module(module: Any, name: str = "module") -> torch.nn.Module:
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"{name}: expected a torch.nn.Module, got {type(module).__name__}")
    return module


def _check_images(example: Any, name: str = "example") -> torch.Tensor:
    if not isinstance(example, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor of images (B, C, H, W), got {type(example).__name__}")
    if example.dim() != 4 or example.shape[0] < 1:
        raise ValueError(f"{name}: expected a tensor of shape (B, C, H, W) with B >= 1, got {tuple(example.shape)}")
    return example


def _quantized_module_types() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(convolution classes, linear classes) of torch's quantised module families."""
    convs: list[type] = [torch.nn.modules.conv._ConvNd]
    linears: list[type] = [torch.nn.Linear]
    try:
        import torch.ao.nn.quantized as nnq

        # intrinsic quantised modules (ConvReLU2d, LinearReLU, ...) subclass these
        convs.append(nnq.modules.conv._ConvNd)
        linears.append(nnq.Linear)
    except ImportError:  # pragma: no cover - torch without quantisation
        pass
    try:
        import torch.ao.nn.quantized.dynamic as nnqd

        linears.append(nnqd.Linear)
    except ImportError:  # pragma: no cover
        pass
    return tuple(convs), tuple(linears)


def _first_tensor(out: Any) -> torch.Tensor | None:
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    return None


@torch.no_grad()
def count_macs(module: torch.nn.Module, example: torch.Tensor) -> int:
    """Multiply-accumulates of one forward pass, per input image (the count on ``example``
    divided by its batch size).

    Counted with forward hooks on every call of a convolution (output elements ×
    ``in_channels / groups`` × kernel elements; transposed: input elements × ``out_channels /
    groups`` × kernel elements) and of a linear layer (``in_features`` per output element),
    float, QAT or quantised (``torch.ao.nn.quantized`` ``Conv2d``/``Linear`` and the intrinsic
    ``ConvReLU2d``/``LinearReLU``), so a float model and its int8 form give the same count.
    Element-wise operations, pooling and batch norm are not counted. A module applied several
    times in a forward pass counts each time. The module is run as it is (set eval mode
    yourself).

    >>> import torch
    >>> from steerable.training import count_macs
    >>> conv = torch.nn.Conv2d(4, 8, 3, padding=1, groups=2)
    >>> count_macs(conv, torch.randn(3, 4, 5, 5))  # 8*5*5 outputs * (4/2)*3*3
    3600
    """
    module = _check_module(module)
    example = _check_images(example)
    convs, linears = _quantized_module_types()
    total = [0]

    def hook(m: torch.nn.Module, _inputs: Any, out: Any) -> None:
        y = _first_tensor(out)
        if y is None:
            return
        if isinstance(m, convs):
            kernel_size: Any = m.kernel_size
            kernel = math.prod(int(k) for k in kernel_size)
            groups = int(m.groups)  # type: ignore[arg-type]
            if getattr(m, "transposed", False):  # each input element meets out_channels/groups × kernel weights
                x = _first_tensor(_inputs)
                if x is not None:
                    total[0] += x.numel() * (int(m.out_channels) // groups) * kernel  # type: ignore[arg-type]
            else:
                total[0] += y.numel() * (int(m.in_channels) // groups) * kernel  # type: ignore[arg-type]
        elif isinstance(m, linears):
            total[0] += y.numel() * int(m.in_features)  # type: ignore[arg-type]

    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, convs + linears)]
    try:
        with quiet_torch_deprecations():
            module(example)
    finally:
        for h in handles:
            h.remove()
    return total[0] // example.shape[0]


def _tensor_bytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


def _state_bytes(value: Any) -> int:
    """Bytes of the tensors in a state-dict value (packed quantised params are tuples)."""
    if isinstance(value, torch.Tensor):
        return _tensor_bytes(value)
    if isinstance(value, (tuple, list)):
        return sum(_state_bytes(v) for v in value)
    return 0


def _storages(value: Any) -> dict[int, int]:
    """{storage key: bytes} of the tensors in a node's value; tensors on one storage (a tensor and
    its views) count once, with the bytes of the largest of them (not of the whole storage: a
    slice ``x[:1]`` of a large batch counts as one image)."""
    found: dict[int, int] = {}
    if isinstance(value, torch.Tensor):
        try:
            key = value.untyped_storage().data_ptr() or id(value)
        except (RuntimeError, NotImplementedError):  # tensors without an untyped storage
            key = id(value)
        found[key] = _tensor_bytes(value)
    elif isinstance(value, (tuple, list, dict)):
        for v in value.values() if isinstance(value, dict) else value:
            for key, nbytes in _storages(v).items():
                found[key] = max(found.get(key, 0), nbytes)
    return found


class _PeakInterpreter(torch.fx.Interpreter):
    """Runs a graph, dropping each value after its last use, and records the peak live bytes."""

    def __init__(self, gm: torch.fx.GraphModule):
        super().__init__(gm, garbage_collect_values=True)
        self.live: dict[torch.fx.Node, dict[int, int]] = {}
        self.peak = 0
        self.last_users: dict[torch.fx.Node, list[torch.fx.Node]] = {}
        seen: set[torch.fx.Node] = set()
        for node in reversed(list(gm.graph.nodes)):
            for arg in node.all_input_nodes:
                if arg not in seen:
                    seen.add(arg)
                    self.last_users.setdefault(node, []).append(arg)

    def _live_bytes(self) -> int:
        merged: dict[int, int] = {}
        for storages in self.live.values():
            for key, nbytes in storages.items():
                merged[key] = max(merged.get(key, 0), nbytes)
        return sum(merged.values())

    def run_node(self, n: torch.fx.Node) -> Any:
        result = super().run_node(n)
        if n.op != "get_attr":  # constants and weights are counted as weights
            self.live[n] = _storages(result)
        self.peak = max(self.peak, self._live_bytes())
        if n.op != "output":
            for arg in self.last_users.get(n, []):
                self.live.pop(arg, None)
        return result


@torch.no_grad()
def peak_memory_bytes(module: torch.nn.Module, example: torch.Tensor) -> dict[str, int]:
    """Memory of one forward pass on ``example``, in bytes: ``{"weights", "activations", "total"}``.

    - ``weights``: the bytes of every tensor of ``module.state_dict()`` (parameters and buffers,
      e.g. batch-norm statistics; for quantised modules the int8 weights, their float bias,
      scales and zero points, as the state dict holds them);
    - ``activations``: the largest sum of bytes of tensors alive at once while the graph runs,
      where the input is alive until its last use, each intermediate value from its computation
      to its last use, and the output to the end; a tensor and its views count once; quantised
      tensors count ``element_size`` of their dtype (1 byte). The module is traced with
      ``torch.fx.symbolic_trace`` (an FX ``GraphModule`` is run as it is); temporaries inside a
      leaf module (e.g. inside one ``Conv2d`` kernel) are not seen. This is for the whole batch
      of ``example``;
    - ``total``: the sum of the two.

    >>> import torch
    >>> from steerable.training import peak_memory_bytes
    >>> m = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU())
    >>> mem = peak_memory_bytes(m, torch.randn(1, 1, 8, 8))
    >>> mem["activations"]  # ReLU: its input 2*6*6 and its output 2*6*6 floats
    576
    """
    module = _check_module(module)
    example = _check_images(example)
    weights = sum(_state_bytes(v) for v in module.state_dict().values())
    if isinstance(module, torch.fx.GraphModule):
        gm = module
    else:
        try:
            gm = torch.fx.symbolic_trace(module)
        except Exception as e:  # torch.fx raises many kinds of errors on untraceable code
            raise ValueError(
                f"module: {type(module).__name__} is not traceable by torch.fx ({type(e).__name__}: {e})"
            ) from e
    interp = _PeakInterpreter(gm)
    with quiet_torch_deprecations():
        interp.run(example)
    return {"weights": int(weights), "activations": int(interp.peak), "total": int(weights + interp.peak)}


def measure_latency(
    fn: Callable[[torch.Tensor], Any], example: torch.Tensor, repeats: int = 50, warmup: int = 5
) -> dict[str, float]:
    """Wall-clock time of ``fn(example)`` under ``torch.no_grad`` (``time.perf_counter``).

    ``fn``: any callable on a tensor (a torch or TorchScript module, an :class:`OnnxModel`).
    ``warmup`` calls are not timed, then ``repeats`` calls are. Returns ``{"median_ms", "p90_ms",
    "mean_ms", "min_ms"}`` in milliseconds per call (per batch of ``example``) and ``"repeats"``.
    Thread count is torch's / the session's own (set ``torch.set_num_threads`` yourself).

    >>> import torch
    >>> from steerable.training import measure_latency
    >>> t = measure_latency(torch.nn.Conv2d(1, 2, 3).eval(), torch.randn(1, 1, 8, 8), repeats=5, warmup=1)
    >>> t["median_ms"] > 0 and t["p90_ms"] >= t["median_ms"]
    True
    """
    if not callable(fn):
        raise TypeError(f"fn: expected a callable on a tensor, got {type(fn).__name__}")
    if not isinstance(example, torch.Tensor):
        raise TypeError(f"example: expected a torch.Tensor, got {type(example).__name__}")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats: expected an int >= 1, got {repeats!r}")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup: expected an int >= 0, got {warmup!r}")
    times: list[float] = []
    with torch.no_grad(), quiet_torch_deprecations():
        for _ in range(warmup):
            fn(example)
        for _ in range(repeats):
            start = time.perf_counter()
            fn(example)
            times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    p90 = times[min(len(times) - 1, math.ceil(0.9 * len(times)) - 1)]
    return {
        "median_ms": float(statistics.median(times)),
        "p90_ms": float(p90),
        "mean_ms": float(statistics.fmean(times)),
        "min_ms": float(times[0]),
        "repeats": float(repeats),
    }


def _cycle(batches: Iterable[Any]) -> Iterator[Any]:
    while True:
        count = 0
        for b in batches:
            count += 1
            yield b
        if count == 0:
            raise ValueError("batches: the iterable yielded no (x, y) batch (an exhausted iterator?)")


def _freeze_bn(model: torch.nn.Module) -> None:
    import torch.ao.nn.intrinsic.qat as nniqat

    model.apply(nniqat.freeze_bn_stats)  # fused conv-bn QAT modules
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):  # stand-alone batch norms
            m.eval()


def quantize_qat(
    plain: torch.nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    steps: int,
    lr: float = 1e-4,
    engine: str | None = None,
    freeze_bn_after: float = 0.5,
    observer_off_after: float = 0.75,
    optimizer: str = "sgd",
) -> torch.nn.Module:
    """Int8 by quantisation-aware training (FX graph mode) of a plain (exported) classifier.

    A deep copy of ``plain`` is prepared with ``prepare_qat_fx`` and
    ``get_default_qat_qconfig_mapping(engine)`` in train mode (fake quantisation of weights and
    activations, conv + batch norm fused), trained for ``steps`` optimisation steps of
    cross-entropy on ``(x, y)`` batches drawn from ``batches`` (cycled if shorter; a list or
    ``DataLoader``), with ``optimizer`` ``"sgd"`` (momentum 0.9) or ``"adam"`` at learning rate
    ``lr``. After ``freeze_bn_after × steps`` steps the batch-norm statistics are frozen, after
    ``observer_off_after × steps`` the observers (quantisation ranges); then ``convert_fx`` in
    eval mode. ``plain`` itself is not changed. Returns the int8 ``GraphModule`` (CPU, eval).

    >>> import torch
    >>> from steerable.training import quantize_qat
    >>> torch.manual_seed(0) and None
    >>> m = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
    ...                         torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 2)).eval()
    >>> data = [(torch.randn(8, 1, 8, 8), torch.randint(0, 2, (8,))) for _ in range(2)]
    >>> q = quantize_qat(m, data, steps=4)
    >>> tuple(q(torch.randn(3, 1, 8, 8)).shape)
    (3, 2)
    """
    from torch.ao.quantization import disable_observer, get_default_qat_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_qat_fx

    _check_module(plain, "plain")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps: expected an int >= 1, got {steps!r}")
    if not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr: expected a positive number, got {lr!r}")
    for name, frac in (("freeze_bn_after", freeze_bn_after), ("observer_off_after", observer_off_after)):
        if not isinstance(frac, (int, float)) or not 0.0 <= frac <= 1.0:
            raise ValueError(f"{name}: expected a fraction in [0, 1], got {frac!r}")
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer: expected 'sgd' or 'adam', got {optimizer!r}")
    if isinstance(batches, Iterator):
        pass  # one pass only; _cycle raises if it runs dry before any batch
    elif not isinstance(batches, Iterable):
        raise TypeError(f"batches: expected an iterable of (x, y) batches, got {type(batches).__name__}")
    stream = _cycle(batches)
    first = next(stream)
    if not (isinstance(first, (tuple, list)) and len(first) == 2 and all(isinstance(t, torch.Tensor) for t in first)):
        raise TypeError(f"batches: expected (x, y) pairs of tensors, got a {type(first).__name__}")
    _check_images(first[0], "batches (x)")

    engine = quantization_engine(engine)
    torch.backends.quantized.engine = engine
    model = copy.deepcopy(plain).cpu().train()
    freeze_bn_at = int(round(freeze_bn_after * steps))
    observer_off_at = int(round(observer_off_after * steps))
    with quiet_torch_deprecations():
        prepared = prepare_qat_fx(model, get_default_qat_qconfig_mapping(engine), (first[0][:1],))
        prepared.train()
        params = [p for p in prepared.parameters() if p.requires_grad]
        opt: torch.optim.Optimizer = (
            torch.optim.SGD(params, lr=lr, momentum=0.9) if optimizer == "sgd" else torch.optim.Adam(params, lr=lr)
        )
        batch = first
        for step in range(steps):
            if step == freeze_bn_at:
                _freeze_bn(prepared)
            if step == observer_off_at:
                prepared.apply(disable_observer)
            if step > 0:
                batch = next(stream)
            x, y = batch
            loss = torch.nn.functional.cross_entropy(prepared(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        prepared.eval()
        with torch.no_grad():
            return convert_fx(prepared).eval()


@torch.no_grad()
def d4_invariance_error(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> float:
    """``max_g max|fn(g x) - fn(x)| / max|fn(x)|`` over the 7 non-identity symmetries of the square.

    The symmetries are ``torch.rot90`` by 1, 2, 3 quarter turns of the last two axes and the
    horizontal flip composed with 0-3 quarter turns. For a logits function (output without
    spatial axes): 0 for an invariant model, up to rounding. Modules are run as they are (put them
    in eval mode first).

    >>> import torch
    >>> from steerable.training import d4_invariance_error
    >>> avg = lambda x: x.mean(dim=(-2, -1))   # invariant: mean over the pixels
    >>> d4_invariance_error(avg, torch.randn(2, 3, 6, 6)) < 1e-6
    True
    """
    if not callable(fn):
        raise TypeError(f"fn: expected a callable on a tensor, got {type(fn).__name__}")
    x = _check_images(x, "x")
    if x.shape[-1] != x.shape[-2]:
        raise ValueError(f"x: the D4 symmetries need square images, got H×W = {x.shape[-2]}×{x.shape[-1]}")
    with quiet_torch_deprecations():
        ref = torch.as_tensor(fn(x)).double()
        scale = max(float(ref.abs().max()), 1e-12)
        worst = 0.0
        for flip in (False, True):
            for k in range(4):
                if not flip and k == 0:
                    continue
                gx = torch.flip(x, dims=(-1,)) if flip else x
                gx = torch.rot90(gx, k, dims=(-2, -1))
                worst = max(worst, float((torch.as_tensor(fn(gx)).double() - ref).abs().max()))
    return worst / scale


# --------------------------------------------------------------------------- ONNX


def _import_onnx(*names: str) -> list[Any]:
    import importlib

    mods = []
    for name in names:
        try:
            mods.append(importlib.import_module(name))
        except ImportError as e:
            raise ImportError(f"{name} is needed for ONNX export and inference: {_ONNX_HINT}") from e
    return mods


def _is_quantized(module: torch.nn.Module) -> bool:
    return any(type(m).__module__.startswith("torch.ao.nn.quantized") for m in module.modules()) or any(
        type(m).__module__.startswith("torch.ao.nn.intrinsic.quantized") for m in module.modules()
    )


@contextlib.contextmanager
def _quiet_export() -> Iterator[None]:
    """Silence the exporter's warnings, log records and prints."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "torch._dynamo", "onnxscript")]
    levels = [lg.level for lg in loggers]
    buffer = io.StringIO()
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with (
            warnings.catch_warnings(),
            quiet_torch_deprecations(),
            contextlib.redirect_stdout(buffer),
            contextlib.redirect_stderr(buffer),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


@contextlib.contextmanager
def _quiet_fd(fd: int) -> Iterator[None]:
    """Send what native code writes to file descriptor ``fd`` to a temporary file."""
    import os
    import sys
    import tempfile

    try:
        saved = os.dup(fd)
    except OSError:  # no such descriptor (embedded interpreters): nothing to silence
        yield
        return
    with tempfile.TemporaryFile() as sink:
        try:
            for stream in (sys.__stdout__, sys.__stderr__):
                if stream is not None:
                    stream.flush()
            os.dup2(sink.fileno(), fd)
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)


def export_onnx(
    plain: torch.nn.Module,
    example: torch.Tensor,
    path: str | Path,
    dynamic_batch: bool = True,
    dynamo: bool | None = None,
) -> Path:
    """Write ``plain`` as an ONNX file (input ``"image"``, output ``"logits"``) and check it.

    Float modules go through ``torch.onnx.export(..., dynamo=True)`` (``torch.export``), with a
    dynamic batch dimension when ``dynamic_batch``. FX int8 modules (:func:`quantize_int8`,
    :func:`quantize_qat`) cannot be captured by ``torch.export``; for them (``dynamo=None``
    chooses) the TorchScript-based exporter (``dynamo=False``) is used, which writes the
    quantised operators as ONNX QDQ / QLinear nodes; it knows quantised conv, linear, ReLU, add
    and pooling but not e.g. quantised ELU (then a ``ValueError``: export the float module and
    use :func:`quantize_onnx_int8`). The file is verified with ``onnx.checker.check_model``.
    The weights are stored inside the one file. Needs ``onnx`` and ``onnxscript``
    (``pip install "steerable[onnx]"``).

    >>> import tempfile, torch
    >>> from steerable.training import export_onnx
    >>> m = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten()).eval()
    >>> p = export_onnx(m, torch.randn(1, 1, 5, 5), tempfile.mkdtemp() + "/m.onnx")
    >>> p.suffix
    '.onnx'
    """
    _check_module(plain, "plain")
    example = _check_images(example)
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path: expected a file path, got {type(path).__name__}")
    (onnx,) = _import_onnx("onnx")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    quantized = _is_quantized(plain)
    use_dynamo = (not quantized) if dynamo is None else bool(dynamo)
    plain = plain.eval()
    try:
        _run_onnx_export(plain, example, path, dynamic_batch, use_dynamo)
    except Exception as e:  # the exporters raise many kinds of errors
        hint = "; for int8 ONNX, export the float module and use quantize_onnx_int8" if quantized else ""
        raise ValueError(
            f"plain: torch.onnx.export ({'dynamo' if use_dynamo else 'TorchScript'} exporter) failed on "
            f"{type(plain).__name__}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}{hint}"
        ) from e
    onnx.checker.check_model(onnx.load(str(path)))
    return path


def _run_onnx_export(
    plain: torch.nn.Module, example: torch.Tensor, path: Path, dynamic_batch: bool, use_dynamo: bool
) -> None:
    with _quiet_export(), torch.no_grad():
        if use_dynamo:
            _import_onnx("onnxscript")
            shapes = ({0: torch.export.Dim("batch")},) if dynamic_batch else None
            torch.onnx.export(
                plain,
                (example,),
                str(path),
                dynamo=True,
                input_names=["image"],
                output_names=["logits"],
                dynamic_shapes=shapes,
                external_data=False,  # one self-contained file (weights inline; fine below 2 GB)
                verbose=False,
            )
        else:
            axes = {"image": {0: "batch"}, "logits": {0: "batch"}} if dynamic_batch else None
            with _quiet_fd(1):  # the TorchScript exporter prints its graph from C++ when it fails
                torch.onnx.export(
                    plain,
                    (example,),
                    str(path),
                    dynamo=False,
                    input_names=["image"],
                    output_names=["logits"],
                    dynamic_axes=axes,
                    opset_version=17,
                )


def _calibration_reader(calibration: torch.Tensor, input_name: str, batch_size: int) -> Any:
    from onnxruntime.quantization import CalibrationDataReader

    class _Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter(
                [
                    {input_name: calibration[i : i + batch_size].detach().cpu().float().numpy()}
                    for i in range(0, len(calibration), batch_size)
                ]
            )

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.batches, None)

    return _Reader()


def quantize_onnx_int8(
    float_onnx_path: str | Path,
    calibration: torch.Tensor,
    out_path: str | Path,
    per_channel: bool = True,
    batch_size: int = 32,
) -> Path:
    """Static int8 quantisation of a float ONNX file with onnxruntime (QDQ format).

    ``quant_pre_process`` (shape inference and graph optimisation) runs first; then
    ``onnxruntime.quantization.quantize_static`` with activation ranges calibrated (min-max) on
    ``calibration`` images (N, C, H, W), fed in batches of ``batch_size``; weights int8
    (``per_channel`` scales for convolutions), activations uint8. Needs ``onnxruntime``
    (``pip install "steerable[onnx]"``).

    >>> import tempfile, torch
    >>> from steerable.training import export_onnx, quantize_onnx_int8
    >>> m = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten()).eval()
    >>> d = tempfile.mkdtemp()
    >>> f = export_onnx(m, torch.randn(1, 1, 5, 5), d + "/m.onnx")
    >>> quantize_onnx_int8(f, torch.randn(8, 1, 5, 5), d + "/m_int8.onnx").name
    'm_int8.onnx'
    """
    if not isinstance(float_onnx_path, (str, Path)) or not Path(float_onnx_path).is_file():
        raise ValueError(f"float_onnx_path: expected an existing ONNX file, got {float_onnx_path!r}")
    calibration = _check_images(calibration, "calibration")
    if not isinstance(out_path, (str, Path)):
        raise TypeError(f"out_path: expected a file path, got {type(out_path).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected an int >= 1, got {batch_size!r}")
    _import_onnx("onnx", "onnxruntime")
    import tempfile

    import onnxruntime
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    session = onnxruntime.InferenceSession(str(float_onnx_path), providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    with tempfile.TemporaryDirectory() as tmp, _quiet_export():
        pre = Path(tmp) / "pre.onnx"
        source = Path(float_onnx_path)
        try:
            quant_pre_process(str(source), str(pre), skip_symbolic_shape=False)
            source = pre
        except Exception:  # pre-processing is an optimisation; quantise the file as it is
            pass
        quantize_static(
            str(source),
            str(out_path),
            _calibration_reader(calibration, input_name, batch_size),
            quant_format=QuantFormat.QDQ,
            per_channel=per_channel,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
    return out_path


class OnnxModel:
    """A callable running an ONNX file with onnxruntime on the CPU, taking and returning torch tensors.

    ``intra_op_num_threads`` (default 1) sets onnxruntime's thread count. ``eval()`` and
    ``train(False)`` are no-ops returning ``self``, so :func:`max_relative_difference` and
    :func:`measure_latency` accept it like a module. Needs ``onnxruntime``
    (``pip install "steerable[onnx]"``).

    >>> import tempfile, torch
    >>> from steerable.training import OnnxModel, export_onnx
    >>> m = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten()).eval()
    >>> f = export_onnx(m, torch.randn(1, 1, 5, 5), tempfile.mkdtemp() + "/m.onnx")
    >>> x = torch.randn(4, 1, 5, 5)
    >>> bool(torch.allclose(OnnxModel(f)(x), m(x), atol=1e-5))
    True
    """

    def __init__(self, path: str | Path, intra_op_num_threads: int = 1):
        if not isinstance(path, (str, Path)) or not Path(path).is_file():
            raise ValueError(f"path: expected an existing ONNX file, got {path!r}")
        if isinstance(intra_op_num_threads, bool) or not isinstance(intra_op_num_threads, int):
            raise TypeError(f"intra_op_num_threads: expected an int, got {type(intra_op_num_threads).__name__}")
        if intra_op_num_threads < 0:
            raise ValueError(
                f"intra_op_num_threads: expected an int >= 0 (0: onnxruntime's default), got {intra_op_num_threads}"
            )
        (ort,) = _import_onnx("onnxruntime")
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_num_threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.path = Path(path)
        self.session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
        self.input_name: str = self.session.get_inputs()[0].name
        self.output_name: str = self.session.get_outputs()[0].name

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x: expected a torch.Tensor, got {type(x).__name__}")
        arr = np.ascontiguousarray(x.detach().cpu().float().numpy())
        (out,) = self.session.run([self.output_name], {self.input_name: arr})
        return torch.from_numpy(np.asarray(out))

    def eval(self) -> OnnxModel:
        """No-op (an ONNX program has no training mode); returns ``self``."""
        return self

    def train(self, mode: bool = True) -> OnnxModel:
        """No-op; returns ``self``."""
        return self

    def __repr__(self) -> str:
        return f"OnnxModel({str(self.path)!r})"
