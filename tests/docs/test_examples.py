"""Every script of examples/ runs to completion, with small arguments, in a fresh process
(one CPU thread), and prints what it checked."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ._markdown import ROOT

EXAMPLES = ROOT / "examples"

# script -> (small arguments, a line the output must contain, slow?)
CASES = {
    "e2_images.py": (["--size", "16", "--fields", "2"], "equivariance error", False),
    "so3_voxels.py": (["--size", "7"], "24 cube rotations", False),
    "point_cloud.py": (["--points", "40", "--rotations", "3"], "random rotations", False),
    "mlp_no_base_space.py": (["--steps", "20", "--batch", "64"], "random rotations", False),
    "export_int8.py": (["--steps", "5", "--width", "0.25", "--test", "100"], "int8 vs exported", True),
    "escnn_port.py": (["--batch", "2"], "relative change of the logits", False),
    "lattice_reduction.py": (
        ["--n", "5", "--iterations", "2", "--batch", "8", "--test", "16"],
        "B_n equivariance Q(BM) == M^T Q(B) M: True",
        False,
    ),
    "sheaf_node_classification.py": (
        ["--points", "80", "--holes", "1", "--epochs", "20"],
        "persistent local homology sheaf",
        False,
    ),
    "pac_bayes_bound.py": (
        ["--group", "4", "--fields", "2", "--train", "200", "--test", "100", "--epochs", "1"],
        "NBS18 / equivariant bound",
        False,
    ),
    "cryoem_poses.py": (["--particles", "200", "--steps", "10"], "equivariance error of the pose encoder", False),
    "pcam_mobilenet.py": (
        ["--train", "32", "--test", "32", "--epochs", "1", "--width", "0.25"],
        "D4 invariance of the exported float model",
        False,
    ),
    "implicit_kernels.py": (
        ["--train", "48", "--test", "24", "--epochs", "1", "--steps", "50"],
        "equivariance error",
        False,
    ),
}


def test_every_example_is_tested():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(CASES)


@pytest.mark.parametrize(
    "script", [pytest.param(s, marks=[pytest.mark.slow] if CASES[s][2] else []) for s in sorted(CASES)]
)
def test_example_runs(script):
    args, expected, _ = CASES[script]
    lines = (EXAMPLES / script).read_text(encoding="utf-8").count("\n")
    assert lines < 80, f"{script}: {lines} lines (examples stay short)"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    r = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, f"{script} failed:\n{r.stdout}\n{r.stderr}"
    assert expected in r.stdout, r.stdout
