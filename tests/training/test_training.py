"""Training machinery: DDP over two gloo processes, exact resume, export and int8 quantisation.

Small models on subsets of rotated MNIST; the whole file takes about a minute with one thread.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest
import torch

from steerable.models import build_model
from steerable.training import (
    CheckpointError,
    TrainConfig,
    accuracy_of,
    export_model,
    find_free_port,
    load_checkpoint,
    load_saved,
    max_relative_difference,
    model_from_checkpoint,
    predict_logits,
    quantize_int8,
    rot90_invariance,
    save_module,
    save_torchscript,
    train,
)
from steerable.training._train import load_data

TINY = dict(model="c8", width=0.25, batch_size=32, limit=128, test_limit=64, device="cpu", progress=False)


# ------------------------------------------------------------------------------------------ DDP

_WORKER = textwrap.dedent(
    """
    import sys, torch
    torch.set_num_threads(1)
    from steerable.training import TrainConfig, train
    out, dump = sys.argv[1], sys.argv[2]
    res = train(TrainConfig(model="c8", width=0.25, epochs=2, batch_size=32, limit=96, test_limit=50,
                            device="cpu", progress=False, out=out))
    assert res.world_size == 2, res.world_size
    torch.save({"state": res.model.state_dict(), "history": res.history, "rank": res.rank}, dump)
    """
)


def test_ddp_two_processes_keep_identical_parameters(tmp_path):
    port = find_free_port()
    out = tmp_path / "run"
    procs = []
    for rank in range(2):
        env = dict(
            os.environ,
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=str(port),
            WORLD_SIZE="2",
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            OMP_NUM_THREADS="1",
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", _WORKER, str(out), str(tmp_path / f"rank{rank}.pt")],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    logs = []
    for p in procs:
        try:
            logs.append(p.communicate(timeout=120)[0])
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
    assert all(p.returncode == 0 for p in procs), "\n".join(logs)
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert r0["state"].keys() == r1["state"].keys()
    for k in r0["state"]:  # parameters and BatchNorm statistics, bit for bit
        assert torch.equal(r0["state"][k], r1["state"][k]), k
    # both ranks log the same (all-reduced) metrics
    assert [h["test_acc"] for h in r0["history"]] == [h["test_acc"] for h in r1["history"]]
    assert [h["epoch"] for h in r0["history"]] == [1, 2]
    # rank 0 alone wrote the checkpoint, without the DDP prefix; it loads in a single process
    assert sorted(os.listdir(out)) == ["checkpoint.pt", "log.csv", "log.json"]
    ckpt = load_checkpoint(out / "checkpoint.pt")
    assert ckpt["epoch"] == 2 and len(ckpt["rng"]) == 2
    assert not any(k.startswith("module.") for k in ckpt["model_state"])
    model = model_from_checkpoint(ckpt)
    for k, v in model.state_dict().items():
        assert torch.equal(v, r0["state"][k]), k


# --------------------------------------------------------------------------------------- resume


class _Interrupt(Exception):
    pass


def _optimizer_tensors(state: dict) -> list:
    return [(i, k, v) for i, s in sorted(state["state"].items()) for k, v in sorted(s.items())]


def test_resume_after_interruption_matches_uninterrupted_run(tmp_path):
    cfg = dict(TINY, epochs=3)
    full = train(TrainConfig(**cfg, out=str(tmp_path / "full")))
    assert full.start_epoch == 0 and [h["epoch"] for h in full.history] == [1, 2, 3]

    def stop(epoch, step, loss):  # dies in the middle of the second epoch
        if epoch == 1 and step == 2:
            raise _Interrupt

    part_out = str(tmp_path / "part")
    with pytest.raises(_Interrupt):
        train(TrainConfig(**cfg, out=part_out), on_step=stop)
    assert load_checkpoint(part_out)["epoch"] == 1  # the last finished epoch survived
    assert [f for f in os.listdir(part_out) if f.endswith(".tmp")] == []  # atomic writes leave no debris

    # an explicit value that contradicts the checkpoint is refused; an omitted one is taken from it
    with pytest.raises(CheckpointError, match="lr=0.1 differs"):
        train(TrainConfig(**dict(cfg, lr=0.1), out=part_out, resume=True))
    with pytest.raises(ValueError, match="pass resume=True"):
        train(TrainConfig(**cfg, out=part_out))  # neither --resume nor --overwrite
    resumed = train(TrainConfig(out=part_out, resume=True, device="cpu", progress=False))
    assert resumed.start_epoch == 1 and resumed.config.width == 0.25
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]

    a, b = load_checkpoint(tmp_path / "full"), load_checkpoint(part_out)
    assert a["epoch"] == b["epoch"] == 3
    for k in a["model_state"]:
        torch.testing.assert_close(b["model_state"][k], a["model_state"][k], rtol=0, atol=1e-6)
    ta, tb = _optimizer_tensors(a["optimizer_state"]), _optimizer_tensors(b["optimizer_state"])
    assert [(i, k) for i, k, _ in ta] == [(i, k) for i, k, _ in tb] and ta
    for (_, _, va), (_, _, vb) in zip(ta, tb):  # Adam moments and step counts
        torch.testing.assert_close(vb, va, rtol=0, atol=1e-6)
    assert a["scheduler_state"]["last_epoch"] == b["scheduler_state"]["last_epoch"]
    for ha, hb in zip(a["history"], b["history"]):
        assert ha["test_acc"] == hb["test_acc"]
        assert abs(ha["train_loss"] - hb["train_loss"]) < 1e-6

    # a finished run resumed again does nothing
    again = train(TrainConfig(out=part_out, resume=True, device="cpu", progress=False))
    assert again.start_epoch == 3 and len(again.history) == 3


def test_more_epochs_extend_a_finished_run_exactly(tmp_path):
    one = str(tmp_path / "one")
    first = train(TrainConfig(**dict(TINY, epochs=1), out=one))
    for m in first.model.modules():  # the trainer's BatchNorm warm-up leaves the modules' own momentum
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) or hasattr(m, "running_var"):
            assert m.momentum == 0.1
    a_out, b_out = str(tmp_path / "a"), str(tmp_path / "b")
    shutil.copytree(one, a_out)
    shutil.copytree(one, b_out)
    with pytest.raises(CheckpointError, match="width=0.5 differs"):  # other plan values still may not change
        train(TrainConfig(out=a_out, resume=True, epochs=3, width=0.5, device="cpu", progress=False))
    a = train(TrainConfig(out=a_out, resume=True, epochs=3, device="cpu", progress=False))
    assert a.start_epoch == 1 and [h["epoch"] for h in a.history] == [1, 2, 3]
    assert a.history[0] == first.history[0] and a.config.epochs == 3

    def stop(epoch, step, loss):
        if epoch == 2 and step == 1:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        train(TrainConfig(out=b_out, resume=True, epochs=3, device="cpu", progress=False), on_step=stop)
    assert load_checkpoint(b_out)["args"]["epochs"] == 3  # the extended plan was saved with epoch 2
    b = train(TrainConfig(out=b_out, resume=True, device="cpu", progress=False))
    ca, cb = load_checkpoint(a_out), load_checkpoint(b_out)
    for k in ca["model_state"]:
        torch.testing.assert_close(cb["model_state"][k], ca["model_state"][k], rtol=0, atol=1e-6)
    assert [h["lr"] for h in b.history] == [h["lr"] for h in a.history]
    with pytest.raises(CheckpointError, match="already trained 3 epochs"):
        train(TrainConfig(out=a_out, resume=True, epochs=2, device="cpu", progress=False))


def test_resume_without_checkpoint_and_resume_with_overwrite_are_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="resume=True: no checkpoint"):
        train(TrainConfig(**TINY, epochs=1, out=str(tmp_path / "empty"), resume=True))
    with pytest.raises(ValueError, match="exclude each other"):
        train(TrainConfig(**TINY, epochs=1, out=str(tmp_path / "x"), resume=True, overwrite=True))
    with pytest.raises(ValueError, match=r"^epochs: expected an integer > 0, got 0"):
        train(TrainConfig(**dict(TINY, epochs=0)))


# ------------------------------------------------------------------------- export, quantisation


def test_export_and_int8_quantisation_of_a_trained_model(tmp_path):
    res = train(
        TrainConfig(model="c8", width=0.5, epochs=3, batch_size=32, limit=2000, seed=0, device="cpu", progress=False)
    )
    train_ds, x, y = load_data(res.config)
    assert len(y) == 1000
    model = res.model.eval()
    plain = export_model(model)
    assert max_relative_difference(model, plain, x[:250]) < 1e-5
    inv = rot90_invariance(plain, x[:250], y[:250])
    assert inv["max_rel"] < 1e-5, inv  # exact symmetries of the grid: invariant logits

    save_module(plain, str(tmp_path / "model.pt"))
    save_torchscript(plain, x[:4], str(tmp_path / "model.ts"))
    for f in ("model.pt", "model.ts"):
        assert max_relative_difference(plain, load_saved(str(tmp_path / f)), x[:100]) < 1e-6

    acc_float = accuracy_of(predict_logits(plain, x), y)
    assert acc_float > 0.7
    calib = torch.stack([train_ds[i][0] for i in range(512)])
    q = quantize_int8(plain, calib)
    acc_int8 = accuracy_of(predict_logits(q, x), y)
    assert abs(acc_int8 - acc_float) <= 0.01, (acc_float, acc_int8)
    save_torchscript(q, x[:4], str(tmp_path / "int8.ts"))
    assert accuracy_of(predict_logits(load_saved(str(tmp_path / "int8.ts")), x), y) == acc_int8


def test_checkpoint_errors_are_one_line(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="not a readable checkpoint") as e:
        load_checkpoint(bad)
    assert "\n" not in str(e.value)
    sd = tmp_path / "sd.pt"
    torch.save(build_model("cnn", width=0.25).state_dict(), sd)
    with pytest.raises(CheckpointError, match="not a steerable checkpoint"):
        load_checkpoint(sd)
