"""Smoke test of benchmarks/lattice.py --quick: every method reports, the JSON is written."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import torch

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "lattice.py"


def test_quick_benchmark(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("_benchmark_lattice", _PATH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    threads = torch.get_num_threads()
    try:
        out = mod.main(["--quick", "--out", str(tmp_path / "lattice.json"), "--figure", str(tmp_path / "f.png")])
    finally:
        torch.set_num_threads(threads)
    assert json.loads((tmp_path / "lattice.json").read_text()) == json.loads(json.dumps(out))
    methods = {r["method"] for r in out["results"]}
    assert {"input", "Seysen", "LLL δ=0.99 (numpy)", "gauss-moves (init)", "gauss-moves (trained)"} <= methods
    for r in out["results"]:
        assert r["mean_defect"] >= 1.0 - 1e-9 and r["median_defect"] >= 1.0 - 1e-9  # δ >= 1
        if r["method"] != "input":
            assert (
                r["mean_log_defect"]
                <= next(x["mean_log_defect"] for x in out["results"] if x["method"] == "input" and x["n"] == r["n"])
                + 1e-9
            )
    assert len(out["mimo"]["results"]) == 5
    assert "| n | model |" in capsys.readouterr().out
