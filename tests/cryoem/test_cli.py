"""``python -m steerable.cryoem``: simulate a data set, reconstruct from its STAR file."""

from __future__ import annotations

import json

import pytest
import torch

from steerable.cryoem import load_relion, read_mrc
from steerable.cryoem._cli import main


def test_simulate_then_reconstruct(tmp_path, capsys):
    pytest.importorskip("mrcfile")
    data, run = tmp_path / "sim", tmp_path / "run"
    assert main(["simulate", "--out", str(data), "--particles", "40", "--atoms", "16", "--snr", "1"]) == 0
    stack = load_relion(data / "particles.star")
    assert len(stack) == 40 and stack.size == 64 and stack.rotations is not None
    truth, pixel = read_mrc(data / "truth.mrc", volume=True)
    assert truth.shape == (64, 64, 64) and pixel == pytest.approx(2.0)
    argv = [
        "reconstruct",
        str(data / "particles.star"),
        "--out",
        str(run),
        "--steps",
        "3",
        "--eval-every",
        "3",
        "--batch-size",
        "8",
        "--encoder",
        "C4",
        "--threads",
        "1",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "step 3" in out and "resolution" in out
    log = json.loads((run / "log.json").read_text())
    assert log["encoder"] == "C4" and len(log["history"]) == 1 and "resolution_fsc_0_5" in log
    poses = load_relion(run / "poses.star")
    assert torch.allclose(torch.linalg.det(poses.rotations), torch.ones(40, dtype=torch.float64), atol=1e-4)
    assert (run / "reconstruction.mrc").is_file() and (run / "fsc.png").is_file() and (run / "slices.png").is_file()


def test_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["simulate", "--out", str(tmp_path), "--particles", "0"])
    assert "expected a positive number" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="no such file"):
        main(["reconstruct", str(tmp_path / "missing.star"), "--out", str(tmp_path / "r")])
