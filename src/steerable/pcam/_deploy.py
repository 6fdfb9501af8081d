"""Deployment of a trained PCam model: export to plain torch, TorchScript, int8 by post-training
quantisation and by quantisation-aware training, ONNX float and int8 (checked with onnxruntime),
with the efficiency and invariance figures of each form."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from steerable.models import count_parameters
from steerable.training import (
    OnnxModel,
    count_macs,
    d4_invariance_error,
    export_model,
    export_onnx,
    load_saved,
    max_relative_difference,
    measure_latency,
    peak_memory_bytes,
    quantize_int8,
    quantize_onnx_int8,
    quantize_qat,
    save_module,
    save_torchscript,
)

from ._metrics import binary_metrics, predict_scores

__all__ = ["deploy_model", "efficiency"]


def _have_onnx() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxscript", "onnxruntime"))


@torch.no_grad()
def efficiency(fn, example: torch.Tensor, macs_of: torch.nn.Module | None = None, repeats: int = 20) -> dict:
    """``{'macs', 'latency_ms', 'latency_batch_ms', 'peak_memory_mb'}`` of a deployable form ``fn``
    (a plain/int8 torch module, a TorchScript module or an :class:`~steerable.training.OnnxModel`:
    MACs and memory only for torch modules; ``macs_of``: the float module to count on). ``example``: a batch;
    the latency is measured on its first image and on the whole batch (per call).

    >>> import torch
    >>> from steerable.pcam import efficiency
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(), torch.nn.Linear(4 * 30 * 30, 2))
    >>> r = efficiency(net.eval(), torch.rand(4, 3, 32, 32), repeats=2)
    >>> r['macs'] == 4 * 3 * 9 * 30 * 30 + 4 * 30 * 30 * 2, r['latency_ms'] > 0
    (True, True)
    """
    out: dict = {}
    counted = macs_of if macs_of is not None else (fn if isinstance(fn, torch.nn.Module) else None)
    if counted is not None:
        out["macs"] = int(count_macs(counted, example[:1]))
    out["latency_ms"] = float(measure_latency(fn, example[:1], repeats=repeats)["median_ms"])
    out["latency_batch_ms"] = float(measure_latency(fn, example, repeats=max(2, repeats // 4))["median_ms"])
    if isinstance(fn, torch.nn.Module) and not isinstance(fn, torch.jit.ScriptModule):  # fx cannot trace TorchScript
        out["peak_memory_mb"] = peak_memory_bytes(fn, example[:1])["total"] / 2**20
    return out


def _quality(fn, images: torch.Tensor, labels: torch.Tensor, probe: torch.Tensor) -> dict:
    r = binary_metrics(predict_scores(fn, images).float(), labels)
    r["d4_invariance"] = float(d4_invariance_error(fn, probe))
    return r


def deploy_model(
    model: torch.nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    out_dir: str | os.PathLike | None = None,
    *,
    calibration: int = 256,
    qat_steps: int = 100,
    qat_lr: float = 1e-5,
    batch_size: int = 32,
    onnx: bool | None = None,
    latency_batch: int = 32,
    repeats: int = 20,
    seed: int = 0,
) -> dict:
    """Every deployable form of a trained ``model`` (steerable or plain MobileNetV2), each with
    its test accuracy and AUC, its D4 invariance error (max relative change of the logits over the
    symmetries of the square, on 16 test images) and its efficiency (see :func:`efficiency`):

    - ``float``: ``model.export()`` (plain torch), checked against the model;
    - ``torchscript``: a trace of it, saved and reloaded;
    - ``int8_ptq``: FX post-training static quantisation, calibrated on ``calibration`` training images;
    - ``int8_qat``: FX quantisation-aware training, ``qat_steps`` steps of ``batch_size`` training
      images (augmented by the square's symmetries) at ``qat_lr``;
    - ``onnx`` and ``onnx_int8``: ONNX export run by onnxruntime, and its static int8 (QDQ)
      quantisation (when ``onnx`` is True, or None and onnx/onnxscript/onnxruntime are installed).

    With ``out_dir`` the artefacts are written there (``model.pt``, ``model.ts``,
    ``model_int8_ptq.ts``, ``model_int8_qat.ts``, ``model.onnx``, ``model_int8.onnx``).

    >>> import torch
    >>> from steerable.pcam import build_pcam_model, deploy_model
    >>> _ = torch.manual_seed(0)
    >>> m = build_pcam_model('D4', 0.25, input_size=32)
    >>> x, y = torch.rand(32, 3, 32, 32), torch.tensor([0, 1] * 16)
    >>> _ = m.train()(x)
    >>> r = deploy_model(m, (x, y), (x, y), calibration=16, qat_steps=2, batch_size=8, onnx=False, repeats=2)
    >>> sorted(r['forms']), r['forms']['float']['d4_invariance'] < 1e-4
    (['float', 'int8_ptq', 'int8_qat', 'torchscript'], True)
    """
    if onnx is None:
        onnx = _have_onnx()
    x_train, y_train = train
    x_test, y_test = test
    if len(x_train) < 1 or len(x_test) < 1:
        raise ValueError("train, test: expected non-empty (images, labels) tensors")
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    probe = x_test[:16]
    example = x_test[:latency_batch]
    plain = export_model(model)
    report: dict = {
        "parameters": count_parameters(model),
        "export_difference": max_relative_difference(model, plain, x_test[:64]),
        "forms": {},
    }
    forms = report["forms"]

    def add(name: str, fn, macs_of=None) -> None:
        forms[name] = {**_quality(fn, x_test, y_test, probe), **efficiency(fn, example, macs_of, repeats)}

    add("float", plain)
    ts_path = str(out / "model.ts") if out is not None else None
    if out is not None:
        save_module(plain, str(out / "model.pt"))
        save_torchscript(plain, x_test[:1], ts_path)  # type: ignore[arg-type]
        ts = load_saved(ts_path)  # type: ignore[arg-type]
    else:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ts = torch.jit.trace(plain, x_test[:1], check_trace=False)
    add("torchscript", ts, plain)
    forms["torchscript"]["difference"] = max_relative_difference(plain, ts, x_test[:64])

    g = torch.Generator().manual_seed(seed)
    calib = x_train[torch.randperm(len(x_train), generator=g)[:calibration]]
    ptq = quantize_int8(plain, calib)
    add("int8_ptq", ptq, plain)
    forms["int8_ptq"]["difference"] = max_relative_difference(plain, ptq, x_test[:64])

    def batches():
        while True:
            idx = torch.randint(len(x_train), (batch_size,), generator=g)
            xb = torch.rot90(x_train[idx], int(torch.randint(4, (), generator=g)), (2, 3))
            yield xb, y_train[idx]

    qat = quantize_qat(plain, batches(), qat_steps, lr=qat_lr)
    add("int8_qat", qat, plain)
    forms["int8_qat"]["difference"] = max_relative_difference(plain, qat, x_test[:64])
    if out is not None:
        save_torchscript(ptq, x_test[:1], str(out / "model_int8_ptq.ts"))
        save_torchscript(qat, x_test[:1], str(out / "model_int8_qat.ts"))

    if onnx:
        import tempfile

        folder = out if out is not None else Path(tempfile.mkdtemp(prefix="steerable-onnx-"))
        f_path = export_onnx(plain, x_test[:1], folder / "model.onnx")
        session = OnnxModel(f_path)
        add("onnx", session, plain)
        forms["onnx"]["difference"] = max_relative_difference(plain, session, x_test[:64])  # type: ignore[arg-type]
        q_path = quantize_onnx_int8(f_path, calib, folder / "model_int8.onnx")
        q_session = OnnxModel(q_path)
        add("onnx_int8", q_session, plain)
        forms["onnx_int8"]["difference"] = max_relative_difference(plain, q_session, x_test[:64])  # type: ignore[arg-type]
    return report
