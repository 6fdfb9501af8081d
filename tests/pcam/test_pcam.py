"""The PCam pipeline: model names, AUC, the in-memory splits and augmentation, training,
deployment (plain torch, TorchScript, int8 PTQ/QAT, ONNX) and the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from steerable.data import make_synthetic_pcam
from steerable.models import count_parameters
from steerable.pcam import (
    D4Augmented,
    binary_metrics,
    build_pcam_model,
    deploy_model,
    evaluate_pcam,
    load_run,
    load_split,
    parse_model_spec,
    roc_auc,
    train_pcam,
)
from steerable.pcam._cli import main


@pytest.fixture(scope="module")
def pcam_dir(tmp_path_factory):
    return make_synthetic_pcam(tmp_path_factory.mktemp("pcam"), n_train=48, n_valid=8, n_test=16, seed=2)


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("D4", {"group": "D4", "fields": "regular"}),
        ("c8:quotient", {"group": "C8", "fields": "quotient"}),
        ("D8|C4", {"group": "D8", "fields": "regular", "restrict_to": "C4"}),
        ("Plain", {}),
    ],
)
def test_model_names(spec, expected):
    assert parse_model_spec(spec) == expected


@pytest.mark.parametrize("spec", ["D4:irreps", "SO2", "D4|", 4])
def test_bad_model_names(spec):
    with pytest.raises((ValueError, TypeError), match="model"):
        parse_model_spec(spec)


def test_match_only_for_plain():
    with pytest.raises(ValueError, match="match"):
        build_pcam_model("D4", match="C4")
    with pytest.raises(ValueError, match="match"):
        build_pcam_model("plain", match="plain")
    d8 = build_pcam_model("D8", 0.5)
    plain = build_pcam_model("plain", 0.5, match="D8")
    assert abs(count_parameters(plain) / count_parameters(d8) - 1) < 0.1


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 1)), min_size=2, max_size=40))
def test_auc_is_the_pairwise_ordering_probability(pairs):
    scores = np.array([p[0] for p in pairs], dtype=float)
    labels = np.array([p[1] for p in pairs])
    if labels.min() == labels.max():
        with pytest.raises(ValueError, match="both classes"):
            roc_auc(scores, labels)
        return
    pos, neg = scores[labels == 1], scores[labels == 0]
    brute = np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg])
    assert roc_auc(scores, labels) == pytest.approx(brute)


def test_metric_errors():
    with pytest.raises(ValueError, match="labels"):
        roc_auc([0.1, 0.2], [0, 2])
    with pytest.raises(ValueError, match="labels"):
        roc_auc([0.1, 0.2], [0, 1, 1])
    with pytest.raises(ValueError, match="logits"):
        binary_metrics(torch.zeros(3, 3), torch.tensor([0, 1, 0]))


def test_splits_and_augmentation(pcam_dir):
    x, y = load_split(pcam_dir, "train", limit=10)
    assert x.shape == (10, 3, 96, 96) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert set(y.tolist()) <= {0, 1}
    with pytest.raises(FileNotFoundError, match="data_dir"):
        load_split(pcam_dir / "missing", "train")
    torch.manual_seed(0)
    ds = D4Augmented(x, y)
    images = {
        name: g
        for k in range(4)
        for name, g in (
            (f"r{k}", torch.rot90(x[3], k, (1, 2))),
            (f"fr{k}", torch.flip(torch.rot90(x[3], k, (1, 2)), (2,))),
        )
    }
    seen = set()
    for _ in range(60):
        a, b = ds[3]
        match = [n for n, g in images.items() if torch.equal(a, g)]
        assert len(match) == 1 and int(b) == int(y[3])
        seen.add(match[0])
    assert len(seen) == 8  # all the symmetries of the square occur
    assert torch.equal(D4Augmented(x, y, augment=False)[3][0], x[3])
    with pytest.raises(ValueError, match="labels"):
        D4Augmented(x, y[:3])


def test_training_learns_the_easy_set(tmp_path):
    root = make_synthetic_pcam(tmp_path, n_train=192, n_valid=8, n_test=64, seed=5)
    torch.manual_seed(0)
    model = build_pcam_model("D4", 0.5, last_channels=64)
    train_pcam(model, load_split(root, "train"), epochs=3, batch_size=32)
    r = evaluate_pcam(model, *load_split(root, "test"))
    assert r["auc"] > 0.85 and r["accuracy"] > 0.7, r


def _settled_model(x):
    torch.manual_seed(0)
    model = build_pcam_model("D4", 0.25, input_size=32, last_channels=32)
    model.train()
    with torch.no_grad():
        model(x)
    return model.eval()


def test_deploy_forms_without_onnx():
    torch.manual_seed(1)
    x, y = torch.rand(48, 3, 32, 32), torch.tensor([0, 1] * 24)
    model = _settled_model(x)
    r = deploy_model(model, (x, y), (x, y), calibration=32, qat_steps=4, batch_size=8, onnx=False, repeats=2)
    forms = r["forms"]
    assert set(forms) == {"float", "torchscript", "int8_ptq", "int8_qat"}
    assert r["export_difference"] < 1e-5 and forms["torchscript"]["difference"] < 1e-5
    assert forms["float"]["d4_invariance"] < 1e-5  # the exported float network is exactly invariant
    assert forms["int8_ptq"]["difference"] < 0.5
    assert forms["float"]["macs"] == forms["int8_ptq"]["macs"] > 0
    assert forms["int8_ptq"]["peak_memory_mb"] < forms["float"]["peak_memory_mb"]


def test_deploy_onnx(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    pytest.importorskip("onnxruntime")
    torch.manual_seed(2)
    x, y = torch.rand(40, 3, 32, 32), torch.tensor([0, 1] * 20)
    model = _settled_model(x)
    r = deploy_model(model, (x, y), (x, y), tmp_path, calibration=16, qat_steps=2, batch_size=8, onnx=True, repeats=2)
    assert r["forms"]["onnx"]["difference"] < 1e-4
    assert r["forms"]["onnx"]["d4_invariance"] < 1e-4
    assert r["forms"]["onnx_int8"]["difference"] < 0.5
    for name in ("model.pt", "model.ts", "model_int8_ptq.ts", "model_int8_qat.ts", "model.onnx", "model_int8.onnx"):
        assert (tmp_path / name).is_file(), name


def test_cli_end_to_end(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["make-data", "--out", str(data), "--train", "32", "--valid", "8", "--test", "16"]) == 0
    run = tmp_path / "run"
    args = ["train", "--data-dir", str(data), "--model", "C4", "--width", "0.25", "--epochs", "1"]
    assert main([*args, "--batch-size", "16", "--out", str(run)]) == 0
    cfg = json.loads((run / "model.json").read_text())
    assert cfg["model"] == "C4" and set(cfg["test"]) == {"accuracy", "auc"}
    model = load_run(run)
    assert model.group_name == "C4"
    deploy = ["deploy", str(run), "--data-dir", str(data), "--test-limit", "16", "--calibration", "16"]
    assert main([*deploy, "--qat-steps", "2", "--no-onnx"]) == 0
    report = json.loads((run / "deploy.json").read_text())
    assert report["forms"]["float"]["d4_invariance"] > 0  # C4: the flips are not symmetries
    assert "int8_qat" in capsys.readouterr().out


def test_cli_errors(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--data-dir", str(tmp_path), "--model", "Q8", "--out", str(tmp_path / "r")])
    assert "--model" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="match"):
        main(["train", "--data-dir", str(tmp_path), "--model", "D4", "--match", "C4", "--out", str(tmp_path / "r")])
    with pytest.raises(SystemExit, match="model.json"):
        main(["deploy", str(tmp_path), "--data-dir", str(tmp_path)])
