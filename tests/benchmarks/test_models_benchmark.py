"""Smoke test of benchmarks/models.py: one small zoo model, one repeat, a tiny batch."""

import importlib.util
import json
import math
from pathlib import Path

import pytest
import torch

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "models.py"


def _load():
    spec = importlib.util.spec_from_file_location("_benchmark_models", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


bench = _load()


def test_main_reports_ratios_tables_and_profile(tmp_path, capsys):
    threads = torch.get_num_threads()
    path = tmp_path / "out.json"
    try:
        argv = "--models C8 --batch 2 --repeats 1 --warmup 0 --width 0.25 --profile-steps 1 --threads 1".split()
        out = bench.main([*argv, "--json", str(path)])
    finally:
        torch.set_num_threads(threads)
    text = capsys.readouterr().out
    assert out["config"]["models"] == ["c8"] and out["config"]["threads"] == 1
    (r,) = out["results"]
    assert r["model"] == "c8" and r["group"] == "C8"
    # the export holds the expanded filters: more parameters than the basis weights
    assert r["params_plain"] > r["params_steerable"] > 0
    for phase in ("train", "eval"):
        t = r[phase]
        assert t["steerable_ms"] > 0 and t["plain_ms"] > 0
        assert math.isclose(t["ratio"], t["steerable_ms"] / t["plain_ms"], rel_tol=1e-12)
        assert math.isclose(t["paired_ratio"], t["ratio"], rel_tol=1e-12)  # one pair: the same ratio
    prof, plain = r["profile_ms"], r["profile_plain_ms"]
    assert set(prof) == set(plain) == set(bench.CATEGORIES)
    assert prof["expansion"] > 0 and prof["convolution"] > 0 and prof["normalisation"] > 0
    assert plain["expansion"] == 0 and plain["convolution"] > 0  # the export expands nothing
    assert math.isclose(sum(r["profile_fraction"].values()), 1.0, rel_tol=1e-9)
    ev, ev_plain = r["eval_profile_ms"], r["eval_profile_plain_ms"]
    assert ev["optimizer"] == 0 and ev["convolution"] > 0 and ev_plain["expansion"] == 0
    assert math.isclose(sum(r["eval_profile_fraction"].values()), 1.0, rel_tol=1e-9)
    assert "| c8 | C8 |" in text and "train ratio (paired)" in text
    assert text.count("| model | expansion | convolution |") == 2  # the training and the eval split
    assert json.loads(path.read_text()) == json.loads(json.dumps(out))


def test_split_labels_forward_and_backward_ops_by_module():
    model, _plain, x, y = bench.build_pair("cnn", width=0.25, batch=2)
    ms = bench.profile_split(model, bench.train_step(model, x, y), steps=1)
    assert ms["expansion"] == 0  # a plain CNN has no basis expansion
    for cat in ("convolution", "normalisation", "nonlinearity", "pooling", "optimizer", "other"):
        assert ms[cat] > 0, cat
    # the labelling hooks are removed again: the model runs unlabelled outside profile_split
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_unknown_model_and_bad_counts_are_rejected(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--models", "c7"])
    assert "--models: unknown ['c7']" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["--models", "cnn", "--repeats", "0"])
    assert "--repeats: expected an integer >= 1, got 0" in capsys.readouterr().err


def _backward_nodes(model, x, y) -> dict:
    """{autograd node name: set of categories its evaluate_function events got} for one step."""
    step = bench.train_step(model, x, y)
    handles = bench._install_labels(model)
    try:
        step()
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            step()
    finally:
        for h in handles:
            h.remove()
    nodes: dict = {}
    for e, cat in bench.event_categories(prof.events()):
        if e.name.startswith("autograd::engine::evaluate_function:"):
            nodes.setdefault(e.name.split(": ", 1)[1], set()).add(cat)
    return nodes


def test_backward_ops_inherit_the_category_of_their_forward_module():
    cnn, _export, x, y = bench.build_pair("cnn", width=0.25, batch=2)
    plain = _backward_nodes(cnn, x, y)
    assert plain["ConvolutionBackward0"] == {"convolution"}
    assert plain["ReluBackward0"] == {"nonlinearity"}
    assert plain["MaxPool2DWithIndicesBackward0"] == {"pooling"}
    assert plain["NativeBatchNormBackward0"] == {"normalisation"}  # the convs' and the head's batch norms
    assert plain["AddmmBackward0"] == {"other"}  # the head's Linear layers are not labelled
    model, _plain, x, y = bench.build_pair("c8", width=0.25, batch=2)
    eq = _backward_nodes(model, x, y)
    assert eq["ConvolutionBackward0"] == {"convolution"}
    assert eq["MmBackward0"] == {"expansion"}  # weights @ basis: the filter's backward
