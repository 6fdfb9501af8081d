"""The ``steerable`` command: the whole pipeline on a tiny model (in-process), one-line errors for
bad input (subprocesses), ``python -m steerable --help`` and a two-process ``torchrun`` run."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys

import pytest
import torch

import steerable
from steerable.cli import build_parser, main, resolve_model_name
from steerable.training import find_free_port, load_checkpoint, model_from_checkpoint

TINY = [
    "--width",
    "0.25",
    "--limit",
    "96",
    "--test-limit",
    "40",
    "--batch-size",
    "32",
    "--device",
    "cpu",
    "--quiet",
    "--threads",
    "1",
]


def _run(*args, timeout=120):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "-m", "steerable", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


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

    # resuming a finished run: the plan (model, width, ...) comes from the checkpoint, nothing to do
    assert main(["train", "--out", str(run_dir), "--resume", "--quiet", "--device", "cpu"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert main(["train", "--out", str(run_dir), "--resume", "--quiet", "--lr", "0.5"]) == 1
    assert "--lr 0.5 differs" in capsys.readouterr().err

    assert (
        main(["evaluate", str(run_dir), "--limit", "24", "--angle-step", "45", "--json", str(run_dir / "eval.json")])
        == 0
    )
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
        (["compare", "--models", "c8", "foo", "--out", str(tmp_path / "cmp")], "--models: unknown model 'foo'"),
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
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nnodes",
            "1",
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            str(find_free_port()),
            "-m",
            "steerable",
            "train",
            "--model",
            "cnn",
            "--epochs",
            "1",
            "--out",
            str(out),
            *TINY,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 process(es)" in r.stdout and r.stdout.count("test accuracy") == 1  # rank 0 reports
    ckpt = load_checkpoint(out)
    assert ckpt["run"]["world_size"] == 2 and not any(k.startswith("module.") for k in ckpt["model_state"])
    model_from_checkpoint(ckpt, "cnn")  # loads in a single process


# ------------------------------------------------------------------ edge cases that used to pass silently


def _usage_error(capsys, argv) -> str:
    """Run ``main(argv)``, expect argparse's exit status 2, return the one-line message."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2, argv
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"steerable {steerable.__version__}"


def test_debug_before_or_after_the_subcommand(tmp_path, capsys):
    missing = str(tmp_path / "missing.pt")
    assert main(["evaluate", missing]) == 1 and "not found" in capsys.readouterr().err
    for argv in (["--debug", "evaluate", missing], ["evaluate", missing, "--debug"], ["evaluate", "--debug", missing]):
        with pytest.raises(FileNotFoundError):  # the traceback, not the one-line message
            main(argv)


def test_limits_must_be_positive(capsys):
    for argv in (
        ["train", "--limit", "0"],
        ["train", "--test-limit", "0"],
        ["compare", "--limit", "0"],
        ["evaluate", "run", "--limit", "0"],
        ["export", "run", "--limit", "0"],
        ["quantize", "run", "--limit", "-2"],
    ):
        err = _usage_error(capsys, argv)
        assert ("--limit" in err or "--test-limit" in err) and "expected an integer > 0" in err, err
        assert "leave the option out to use every image" in err


def test_epochs_zero_and_negative_give_the_same_message(capsys):
    for v in ("0", "-1", "x"):
        err = _usage_error(capsys, ["train", "--epochs", v])
        assert f"argument --epochs: expected an integer > 0, got '{v}'" in err, err


def test_angle_step_must_be_zero_or_positive(run_dir, capsys):
    for v in ("-15", "400", "nan"):
        err = _usage_error(capsys, ["evaluate", str(run_dir), "--angle-step", v])
        assert "--angle-step" in err and "(0, 360]" in err, err


def test_resume_needs_a_checkpoint_and_excludes_overwrite(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    for out in (empty, tmp_path / "nowhere"):
        assert main(["train", "--out", str(out), "--resume", *TINY]) == 1
        err = capsys.readouterr().err
        assert "--resume: no checkpoint to continue" in err and "drop --resume" in err, err
    assert os.listdir(empty) == []  # nothing was trained there
    err = _usage_error(capsys, ["train", "--out", str(empty), "--resume", "--overwrite"])
    assert "--overwrite: not allowed with argument --resume" in err


def test_resume_with_more_epochs_extends_a_finished_run(run_dir, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    first = load_checkpoint(run)
    assert main(["train", "--out", str(run), "--resume", "--epochs", "3", "--quiet"]) == 0
    assert "2 epoch(s) (resumed after epoch 1)" in capsys.readouterr().out
    ckpt = load_checkpoint(run)
    assert ckpt["epoch"] == 3 and ckpt["args"]["epochs"] == 3 and ckpt["args"]["width"] == 0.25
    assert ckpt["history"][0] == first["history"][0]  # the first epoch is kept as it was
    assert [h["epoch"] for h in json.loads((run / "log.json").read_text())["history"]] == [1, 2, 3]
    # the extra epochs follow the cosine of the new length from where the run was: lr > 0, then 0
    lrs = [h["lr"] for h in ckpt["history"]]
    assert lrs[0] == pytest.approx(0.0, abs=1e-12) and lrs[1] > 0 and lrs[2] == pytest.approx(0.0, abs=1e-12)
    assert main(["train", "--out", str(run), "--resume", "--epochs", "2", "--quiet"]) == 1
    assert "already trained 3 epochs" in capsys.readouterr().err


def test_evaluate_subset_keeps_the_full_report_and_shows_progress(run_dir, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    (run / "eval.json").write_text('{"full": true}')
    assert main(["evaluate", str(run), "--limit", "12", "--angle-step", "90"]) == 0
    captured = capsys.readouterr()
    assert "report: " + str(run / "eval-limit12.json") in captured.out
    assert "evaluate" in captured.err and "pass" in captured.err  # the tqdm bar (stderr)
    assert json.loads((run / "eval.json").read_text()) == {"full": True}
    rep = json.loads((run / "eval-limit12.json").read_text())
    assert rep["n_images"] == 12 and rep["limit"] == 12
    # every tested angle is a multiple of 90°: no interpolated angles to summarise (no NaN, said so)
    assert "none, every tested angle is a multiple of 90°" in captured.out and "nan" not in captured.out
    assert rep["arbitrary"]["mean_rel"] is None and rep["arbitrary"]["accuracy"] is None
    assert "NaN" not in (run / "eval-limit12.json").read_text()
    assert main(["evaluate", str(run), "--limit", "12", "--angle-step", "0", "--quiet"]) == 0
    assert capsys.readouterr().err == ""  # --quiet: no bar


def test_plot_writes_beside_the_runs_by_default(run_dir, tmp_path, capsys):
    demo = tmp_path / "demo"
    shutil.copytree(run_dir, demo / "c8")
    assert main(["plot", str(demo / "c8")]) == 0
    assert (demo / "accuracy.png").read_bytes()[:4] == b"\x89PNG"
    assert str(demo / "accuracy.png") in capsys.readouterr().out


def test_every_option_has_help():
    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = []
    for name, p in [("steerable", parser), *subs.choices.items()]:
        for a in p._actions:
            if a.option_strings and not (a.help and a.help.strip()):
                missing.append(f"{name} {a.option_strings[0]}")
    assert not missing, missing
    # task options whose default is None get a readable placeholder, not the type's name
    train = subs.choices["train"].format_help()
    assert "NONETYPE" not in train and "--max-frequency VALUE" in train
    compare = subs.choices["compare"].format_help()
    assert "--resume" not in compare and "an existing run with fewer is extended" in " ".join(compare.split())


# ------------------------------------------------------------------------------------- tasks

DIPOLE = [
    "--hidden",
    "0",
    "--n-train",
    "64",
    "--n-test",
    "32",
    "--epochs",
    "2",
    "--batch-size",
    "16",
    "--device",
    "cpu",
    "--quiet",
    "--threads",
    "1",
]


def test_tasks_are_listed(capsys):
    assert main(["tasks"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith("rotated_mnist ") and listed[0].endswith("(default)")
    assert {line.split()[0] for line in listed} >= {"rotated_mnist", "tetris", "dipole"}
    assert main(["train", "--list-tasks"]) == 0
    assert capsys.readouterr().out.splitlines() == listed


def test_train_evaluate_and_plot_another_task(tmp_path, capsys):
    run = tmp_path / "dipole"
    assert main(["train", "--task", "dipole", "--out", str(run), *DIPOLE]) == 0
    out = capsys.readouterr().out
    assert "task dipole: model" in out and "2 epoch(s)" in out and "rotated_cos_err" in out
    header = (run / "log.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["epoch", "train_loss", "train_mse", "train_cos_err"] and "rotated_cos_err" in header
    assert load_checkpoint(run)["task"] == "dipole"

    # resumed with more epochs (the plan from the checkpoint); a contradicting option is refused
    assert main(["train", "--task", "dipole", "--out", str(run), "--resume", "--epochs", "3", "--quiet"]) == 0
    assert "1 epoch(s) (resumed after epoch 2)" in capsys.readouterr().out
    assert main(["train", "--task", "dipole", "--out", str(run), "--resume", "--hidden", "2", "--quiet"]) == 1
    assert "--hidden 2 differs from the checkpoint's 0" in capsys.readouterr().err

    assert main(["evaluate", str(run)]) == 0
    assert "task dipole, epoch 3" in capsys.readouterr().out
    rep = json.loads((run / "eval.json").read_text())
    assert rep["task"] == "dipole" and 0 <= rep["test_cos_err"] < 2 and "rotated_mse" in rep

    assert main(["plot", str(run), "--out", str(tmp_path / "fig")]) == 0
    assert (tmp_path / "fig" / "history.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["export", str(run)]) == 1
    assert "holds a run of task 'dipole'; 'export' reads rotated_mnist runs only" in capsys.readouterr().err


def test_task_options_are_checked_against_the_task(tmp_path, capsys):
    for argv, expected in [
        (["train", "--task", "dipole", "--limit", "5"], "--limit: not an option of task 'dipole'"),
        (["train", "--fields", "2"], "--fields: not an option of task 'rotated_mnist'"),
        (["train", "--task", "tetris", "--group", "C8"], "--group: names a model of the rotated_mnist task"),
        (
            ["train", "--task", "dipole", "--n-train", "0", "--out", str(tmp_path / "x")],
            "--n-train: expected an integer > 0, got 0",
        ),
        (["train", "--task", "tetris", "--model", "c8"], "--model: expected one of octa, cnn"),
    ]:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and expected in err, (argv, err)
    assert not (tmp_path / "x").exists()  # bad options stop before the run folder is touched
    err = _usage_error(capsys, ["train", "--task", "nope"])
    assert "--task: invalid choice: 'nope'" in err


def test_group_and_model_are_task_options_where_a_task_has_them(tmp_path, capsys):
    """shapes3d takes --group (its own option, not a zoo model), nbody takes --model."""
    small = ["--n-train", "16", "--n-test", "8", "--epochs", "1", "--quiet"]
    run = tmp_path / "shapes"
    argv = ["train", "--task", "shapes3d", "--group", "so2z", "--kernel", "analytic", "--n-points", "16"]
    assert main([*argv, "--out", str(run), *small]) == 0
    assert "SO(2) about z" in capsys.readouterr().out
    assert load_checkpoint(run)["args"]["group"] == "so2z"
    assert main(["train", "--task", "shapes3d", "--group", "c8", "--out", str(tmp_path / "y"), *small]) == 1
    assert "group" in capsys.readouterr().err
    run = tmp_path / "nbody"
    assert main(["train", "--task", "nbody", "--model", "gnn", "--steps", "20", "--out", str(run), *small]) == 0
    assert "model gnn" in capsys.readouterr().out
