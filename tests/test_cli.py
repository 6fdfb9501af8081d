"""The ``steerable`` command: the whole pipeline on a tiny model (in-process), one-line errors for
bad input (subprocesses), ``python -m steerable --help`` and a two-process ``torchrun`` run."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from steerable.cli import main, resolve_model_name
from steerable.training import find_free_port, load_checkpoint, model_from_checkpoint

TINY = ["--width", "0.25", "--limit", "96", "--test-limit", "40", "--batch-size", "32", "--device", "cpu",
        "--quiet", "--threads", "1"]


def _run(*args, timeout=120):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "steerable", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A c8 run trained for one epoch through the CLI."""
    out = tmp_path_factory.mktemp("cli") / "c8"
    assert main(["train", "--model", "c8", "--epochs", "1", "--out", str(out), *TINY]) == 0
    return out


def test_help():
    r = _run("--help")
    assert r.returncode == 0, r.stderr
    for cmd in ("train", "evaluate", "export", "quantize", "plot", "compare"):
        assert cmd in r.stdout
    r = _run("train", "--help")
    assert r.returncode == 0 and "--resume" in r.stdout and "--transform" in r.stdout


def test_pipeline(run_dir, tmp_path, capsys):
    ckpt = load_checkpoint(run_dir / "checkpoint.pt")
    assert ckpt["epoch"] == 1 and ckpt["model"]["name"] == "c8" and ckpt["model"]["group_name"] == "C8"
    assert {"optimizer_state", "scheduler_state", "rng", "args", "history"} <= set(ckpt)
    log = json.loads((run_dir / "log.json").read_text())
    assert [h["epoch"] for h in log["history"]] == [1]
    assert (run_dir / "log.csv").read_text().splitlines()[0].startswith("epoch,train_loss,train_acc")

    # resume to a second epoch: the plan (model, width, ...) comes from the checkpoint
    assert main(["train", "--out", str(run_dir), "--epochs", "2", "--resume", "--quiet"]) == 1  # plan says 1
    assert "--epochs 2 differs" in capsys.readouterr().err
    assert main(["train", "--out", str(run_dir), "--resume", "--quiet", "--device", "cpu"]) == 0
    assert "nothing to do" in capsys.readouterr().out

    assert main(["evaluate", str(run_dir), "--limit", "24", "--angle-step", "45"]) == 0
    out = capsys.readouterr().out
    assert "90° rotations" in out and "other angles" in out and "resampling alone" in out
    rep = json.loads((run_dir / "eval.json").read_text())
    assert rep["rot90"]["max_rel"] < 1e-4 and len(rep["angles"]) == 8 and rep["arbitrary"]["interpolation_order"] == 3
    assert [a["degrees"] for a in rep["angles"]][:3] == [0.0, 45.0, 90.0]

    assert main(["export", str(run_dir), "--limit", "16"]) == 0
    plain = torch.load(run_dir / "model.pt", weights_only=False)
    model = model_from_checkpoint(load_checkpoint(run_dir))
    x = torch.rand(3, 1, 29, 29)
    torch.testing.assert_close(plain(x), model(x), rtol=1e-5, atol=1e-5)
    assert (run_dir / "model.ts").exists()

    assert main(["quantize", str(run_dir), "--calibration", "32", "--limit", "40"]) == 0
    assert "int8" in capsys.readouterr().out and (run_dir / "model_int8.ts").exists()

    docs = tmp_path / "docs"
    assert main(["plot", str(run_dir), str(run_dir), "--labels", "a", "b", "--out", str(docs)]) == 0
    for f in ("accuracy.png", "invariance.png"):
        assert (docs / f).read_bytes()[:4] == b"\x89PNG"


def test_group_alias():
    assert resolve_model_name(None, "C8") == "c8"
    assert resolve_model_name("C16", "c16") == "c16"
    assert resolve_model_name(None, "trivial") == "cnn"
    assert resolve_model_name(None, None) is None


def _bad_cases(run_dir, tmp_path):
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes((run_dir / "checkpoint.pt").read_bytes()[:3000])  # truncated
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    return [
        (["train", "--model", "resnet9000"], "unknown model 'resnet9000'"),
        (["train", "--group", "SO(7)"], "unknown group"),
        (["train", "--epochs", "-3"], "--epochs"),
        (["evaluate", str(tmp_path / "missing.pt")], "not found"),
        (["evaluate", str(corrupt)], "not a readable checkpoint"),
        (["export", str(run_dir), "--model", "cnn"], "holds a 'c8' model, not 'cnn'"),
        (["train", "--model", "cnn", "--out", str(a_file / "run")], "cannot write"),
        (["plot", str(tmp_path / "nowhere")], "not found"),
    ]


def test_bad_input_gives_one_line_and_nonzero_exit(run_dir, tmp_path):
    for args, expected in _bad_cases(run_dir, tmp_path):
        r = _run(*args)
        lines = r.stderr.strip().splitlines()
        assert r.returncode != 0, (args, r.stdout, r.stderr)
        assert len(lines) == 1 and "Traceback" not in r.stderr, (args, r.stderr)
        assert lines[0].startswith("steerable") and expected in lines[0], (args, lines[0])


def test_torchrun_two_processes(tmp_path):
    out = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", "2",
         "--master_addr", "127.0.0.1", "--master_port", str(find_free_port()),
         "-m", "steerable", "train", "--model", "cnn", "--epochs", "1", "--out", str(out), *TINY],
        capture_output=True, text=True, timeout=180, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 process(es)" in r.stdout and r.stdout.count("test accuracy") == 1  # rank 0 reports
    ckpt = load_checkpoint(out)
    assert ckpt["run"]["world_size"] == 2 and not any(k.startswith("module.") for k in ckpt["model_state"])
    model_from_checkpoint(ckpt, "cnn")  # loads in a single process
