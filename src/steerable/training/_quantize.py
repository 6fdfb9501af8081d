"""Export to plain torch and int8 post-training static quantisation (FX graph mode).

``model.export()`` turns a steerable model into plain ``torch.nn`` modules computing the same
function in eval mode; from there the ecosystem's tools apply unchanged:

- ``torch.save(module)`` (a pickle; load with ``torch.load(path, weights_only=False)``) and a
  TorchScript trace (``torch.jit.load`` needs neither steerable nor Python source);
- int8 static quantisation with ``torch.ao.quantization.quantize_fx`` (``prepare_fx``, calibration
  on training images, ``convert_fx``). Quantised FX modules are saved as TorchScript, the form
  PyTorch reloads reliably (pickled fused FX modules do not load back).

>>> import torch
>>> m = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
...                         torch.nn.Linear(4 * 7 * 7, 10)).eval()
>>> x = torch.rand(16, 1, 9, 9)
>>> q = quantize_int8(m, x)
>>> tuple(q(x).shape)
(16, 10)
"""

from __future__ import annotations

import copy
import os
import warnings
from contextlib import contextmanager

import torch

from ._checkpoint import atomic_write


@contextmanager
def quiet_torch_deprecations():
    """Silence torch's own deprecation notices for TorchScript and ``torch.ao.quantization``
    (both still work in the torch versions steerable supports)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.")
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.")
        warnings.filterwarnings("ignore", message=r".*(deprecated|torch\.ao\.quantization|TorchScript).*")
        yield


def export_model(model: torch.nn.Module) -> torch.nn.Module:
    """``model.export()`` in eval mode, on the CPU, with a clear error if there is none."""
    model = model.eval().cpu()
    export = getattr(model, "export", None)
    if not callable(export):
        raise TypeError(f"model: {type(model).__name__} has no export() method")
    plain = export()
    if not isinstance(plain, torch.nn.Module):
        raise TypeError(f"{type(model).__name__}.export() returned {type(plain).__name__}, not a torch.nn.Module")
    return plain.eval()


@torch.no_grad()
def max_relative_difference(a: torch.nn.Module, b: torch.nn.Module, x: torch.Tensor, batch_size: int = 250) -> float:
    """``max |a(x) - b(x)| / max |a(x)|`` over a batch of inputs (both modules in eval mode)."""
    a.eval()
    b.eval()
    num, den = 0.0, 0.0
    for i in range(0, len(x), batch_size):
        ya, yb = a(x[i : i + batch_size]).double(), b(x[i : i + batch_size]).double()
        num = max(num, float((ya - yb).abs().max()))
        den = max(den, float(ya.abs().max()))
    return num / max(den, 1e-12)


def save_module(module: torch.nn.Module, path: str) -> None:
    """``torch.save`` of the module object (atomic)."""
    atomic_write(path, lambda f: torch.save(module, f))


def save_torchscript(module: torch.nn.Module, example: torch.Tensor, path: str) -> torch.jit.ScriptModule:
    """Trace ``module`` on ``example`` and save the TorchScript program (atomic)."""
    with quiet_torch_deprecations(), torch.no_grad():
        # shape checks inside forward become constants of the trace: fine for a fixed input layout
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        traced = torch.jit.trace(module.eval(), example, check_trace=False)
        atomic_write(path, lambda f: torch.jit.save(traced, f))
    return traced


def load_saved(path: str) -> torch.nn.Module:
    """Load what :func:`save_module` or :func:`save_torchscript` wrote (by trying TorchScript first)."""
    with quiet_torch_deprecations():
        try:
            return torch.jit.load(path, map_location="cpu").eval()
        except (RuntimeError, ValueError):
            pass
    obj = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(obj, torch.nn.Module):
        raise ValueError(f"{path} holds a {type(obj).__name__}, not a saved module")
    return obj.eval()


def quantization_engine(preferred: str | None = None) -> str:
    """The quantised-kernel engine to use: ``preferred`` if supported, else x86, fbgemm, qnnpack."""
    supported = [e for e in torch.backends.quantized.supported_engines if e != "none"]
    if preferred is not None:
        if preferred not in supported:
            raise ValueError(f"--backend: {preferred!r} is not supported here; supported: {', '.join(supported)}")
        return preferred
    for e in ("x86", "fbgemm", "qnnpack"):
        if e in supported:
            return e
    raise RuntimeError("this torch build has no quantised CPU kernels (supported_engines is empty)")


@torch.no_grad()
def quantize_int8(
    plain: torch.nn.Module, calibration: torch.Tensor, engine: str | None = None, batch_size: int = 250
) -> torch.nn.Module:
    """Int8 static post-training quantisation of a plain (exported) module with FX graph mode.

    ``calibration``: input images (N, C, H, W) the observers see before conversion (a few hundred
    training images are enough). Returns the converted ``GraphModule`` (CPU, eval mode).
    """
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    engine = quantization_engine(engine)
    torch.backends.quantized.engine = engine
    model = copy.deepcopy(plain).eval().cpu()
    with quiet_torch_deprecations():
        prepared = prepare_fx(model, get_default_qconfig_mapping(engine), (calibration[:1],))
        for i in range(0, len(calibration), batch_size):
            prepared(calibration[i : i + batch_size])
        return convert_fx(prepared).eval()


def file_size_mb(path: str) -> float:
    return os.path.getsize(path) / 2**20
