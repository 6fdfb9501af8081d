"""The equivariant MobileNetV2 for histopathology (Mohamed, Cesa, Cohen & Welling 2020, "A Data
and Compute Efficient Design for Limited-Resources Deep Learning") on Patch Camelyon: models,
training, evaluation (accuracy, AUC) and deployment (plain torch, int8, ONNX).

A pipeline on the public library (``steerable.models``, ``steerable.data``,
``steerable.training``); nothing in the core imports it. Data: the official PCam HDF5 files
(``steerable.data.PCam``, extra ``steerable[pcam]``) or the synthetic set in their format
(``steerable.data.make_synthetic_pcam``). Command line: ``python -m steerable.pcam``.

>>> import torch
>>> from steerable.pcam import build_pcam_model
>>> model = build_pcam_model('D4', width=0.5).eval()
>>> x = torch.rand(2, 3, 96, 96)
>>> bool(torch.allclose(model(torch.rot90(x, 1, (2, 3))), model(x), atol=1e-5))
True
"""

from ._cli import load_run
from ._deploy import deploy_model, efficiency
from ._metrics import binary_metrics, predict_scores, roc_auc
from ._models import build_pcam_model, parse_model_spec
from ._train import D4Augmented, evaluate_pcam, load_split, train_pcam

__all__ = [
    "build_pcam_model",
    "parse_model_spec",
    "roc_auc",
    "binary_metrics",
    "predict_scores",
    "load_split",
    "D4Augmented",
    "train_pcam",
    "evaluate_pcam",
    "deploy_model",
    "efficiency",
    "load_run",
]
