"""The task-agnostic Trainer: custom model/loss/metrics/callbacks, metric aggregation, exact resume,
extending a run, logs and plots, DDP under torchrun, and errors that name the argument."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from steerable.training import (
    Callback,
    CheckpointError,
    ConfigError,
    EarlyStopping,
    LambdaCallback,
    Trainer,
    accuracy,
    find_free_port,
    load_checkpoint,
    plot_history,
)


def _blobs(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long() + (x[:, 2] > 1).long()  # 3 classes, unbalanced
    return torch.utils.data.TensorDataset(x, y)


class _MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.net = torch.nn.Sequential(
            torch.nn.Linear(4, 16),
            torch.nn.BatchNorm1d(16),
            torch.nn.ReLU(),
            torch.nn.Dropout(0.1),
            torch.nn.Linear(16, 3),
        )

    def forward(self, x):
        return self.net(x)


def _smooth_ce(output, target):  # a custom loss
    return torch.nn.functional.cross_entropy(output, target, label_smoothing=0.05)


def _errors_ratio(output, target):  # a ratio metric: (total, count)
    return float((output.argmax(1) != target).sum()), float(len(target))


def _margin(output, target):  # a batch-mean metric (0-d tensor)
    return (output.gather(1, target[:, None]) - output.logsumexp(1, keepdim=True)).mean()


LR = 0.05
METRICS = {"acc": accuracy, "err": _errors_ratio, "margin": _margin}


class _Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_fit_start(self, trainer):
        self.events.append("start")

    def on_epoch_start(self, trainer, epoch):
        self.events.append(f"epoch{epoch}")

    def on_step(self, trainer, epoch, step, loss):
        self.events.append("step")

    def on_epoch_end(self, trainer, row):
        row["steps_so_far"] = self.events.count("step")  # a column added by a callback is logged
        self.events.append("end")

    def on_fit_end(self, trainer, result):
        self.events.append(f"done{len(result.history)}")


def _trainer(out=None, epochs=3, callbacks=(), **kw):
    data = _blobs()
    return Trainer(
        _MLP(),
        data,
        loss=_smooth_ce,
        metrics=METRICS,
        eval_data={"test": _blobs(40, 1), "again": data},
        epochs=epochs,
        batch_size=16,
        lr=LR,
        callbacks=list(callbacks),
        out=out,
        device="cpu",
        progress=False,
        **kw,
    )


def test_custom_model_loss_metrics_and_callbacks_train(tmp_path):
    rec = _Recorder()
    res = _trainer(out=str(tmp_path / "run"), callbacks=[rec]).fit()
    assert [h["epoch"] for h in res.history] == [1, 2, 3]
    assert rec.events[:2] == ["start", "epoch0"] and rec.events[-1] == "done3"
    assert rec.events.count("step") == 3 * 6 and rec.events.count("end") == 3
    first, last = res.history[0], res.history[-1]
    assert last["again_acc"] > 0.8 and last["train_loss"] < first["train_loss"]
    for split in ("train", "test", "again"):  # accuracy and the error ratio agree on every set
        assert last[f"{split}_acc"] + last[f"{split}_err"] == pytest.approx(1.0, abs=1e-12)
    # the model comes back in eval mode and its evaluation reproduces the logged numbers
    assert not res.model.training
    again = _trainer().evaluate(res.model)
    assert again["test_acc"] == last["test_acc"] and again["again_margin"] == pytest.approx(last["again_margin"])

    # log.csv has the task's columns (and the callback's), log.json the plan and the history
    with open(tmp_path / "run" / "log.csv") as f:
        header = next(csv.reader(f))
    assert header == [
        "epoch",
        "train_loss",
        "train_acc",
        "train_err",
        "train_margin",
        "test_loss",
        "test_acc",
        "test_err",
        "test_margin",
        "again_loss",
        "again_acc",
        "again_err",
        "again_margin",
        "lr",
        "seconds",
        "steps_so_far",
    ]
    log = json.loads((tmp_path / "run" / "log.json").read_text())
    assert log["args"]["epochs"] == 3 and log["args"]["lr"] == LR and log["model"] == {"name": "_MLP"}
    assert [h["steps_so_far"] for h in log["history"]] == [6, 12, 18]

    png = plot_history([("mlp", res.history)], str(tmp_path / "fig" / "history.png"))
    assert open(png, "rb").read(4) == b"\x89PNG"


def test_metric_means_do_not_depend_on_the_batch_size():
    model = _MLP().eval()
    data = _blobs(50, 3)  # 50 = 3 batches of 16 + 2: unequal batches
    x, y = data.tensors
    with torch.no_grad():
        out = model(x)
    exact = {
        "test_acc": float(accuracy(out, y).mean()),
        "test_err": float((out.argmax(1) != y).double().mean()),
        "test_margin": float(_margin(out, y)),
        "test_loss": float(_smooth_ce(out, y)),
    }
    for bs in (1, 7, 16, 50):
        got = Trainer(
            model, data, loss=_smooth_ce, metrics=METRICS, eval_data=data, epochs=1, device="cpu", eval_batch_size=bs
        ).evaluate(model)
        for k, v in exact.items():
            assert got[k] == pytest.approx(v, rel=1e-6, abs=1e-7), (bs, k)


class _Stop(Exception):
    pass


def _tensors(state):
    if isinstance(state, torch.Tensor):
        return [state]
    if isinstance(state, dict):
        return [t for k in sorted(state, key=str) for t in _tensors(state[k])]
    if isinstance(state, (list, tuple)):
        return [t for v in state for t in _tensors(v)]
    return []


def test_interrupted_and_resumed_equals_uninterrupted_bit_for_bit(tmp_path):
    full = _trainer(out=str(tmp_path / "full"), epochs=4, callbacks=[EarlyStopping("test_loss", patience=9)]).fit()

    def die(trainer, epoch, step, loss):
        if epoch == 2 and step == 3:
            raise _Stop

    part = str(tmp_path / "part")
    with pytest.raises(_Stop):
        _trainer(
            out=part, epochs=4, callbacks=[EarlyStopping("test_loss", patience=9), LambdaCallback(on_step=die)]
        ).fit()
    assert load_checkpoint(part)["epoch"] == 2
    stop = EarlyStopping("test_loss", patience=9)
    res = _trainer(out=part, epochs=4, resume=True, callbacks=[stop]).fit()
    assert res.start_epoch == 2 and stop.best == min(h["test_loss"] for h in full.history)
    a, b = load_checkpoint(tmp_path / "full"), load_checkpoint(part)
    for k in a["model_state"]:
        assert torch.equal(a["model_state"][k], b["model_state"][k]), k
    ta, tb = _tensors(a["optimizer_state"]), _tensors(b["optimizer_state"])
    assert len(ta) == len(tb) > 0 and all(torch.equal(u, v) for u, v in zip(ta, tb))
    strip = [{k: v for k, v in h.items() if k != "seconds"} for h in a["history"]]
    assert strip == [{k: v for k, v in h.items() if k != "seconds"} for h in b["history"]]
    assert a["callbacks"] == b["callbacks"]


def test_more_epochs_extend_a_run_and_the_cosine_follows_the_new_length(tmp_path):
    out = str(tmp_path / "run")
    two = _trainer(out=out, epochs=2).fit()
    assert two.history[-1]["lr"] == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(CheckpointError, match=r"lr=0\.5 differs from the checkpoint's 0\.05"):
        Trainer(
            _MLP(),
            _blobs(),
            loss=_smooth_ce,
            epochs=4,
            batch_size=16,
            lr=0.5,
            out=out,
            resume=True,
            device="cpu",
            progress=False,
        ).fit()
    four = _trainer(out=out, epochs=4, resume=True).fit()
    assert four.start_epoch == 2 and four.history[:2] == two.history
    steps = 6
    import math

    for h in four.history[2:]:  # lr(s) = lr0 (1 + cos(pi s / total)) / 2 of the new total
        assert h["lr"] == pytest.approx(LR * 0.5 * (1 + math.cos(math.pi * h["epoch"] * steps / (4 * steps))))
    with pytest.raises(CheckpointError, match="already trained 4 epochs"):
        _trainer(out=out, epochs=3, resume=True).fit()


def test_early_stopping_ends_the_run_and_a_resume_does_not_undo_it(tmp_path):
    out = str(tmp_path / "run")
    stop = EarlyStopping("train_loss", mode="max", patience=1)  # the loss falls: "no improvement" at once
    res = _trainer(out=out, epochs=6, callbacks=[stop]).fit()
    assert res.stopped and len(res.history) == 2
    again = _trainer(
        out=out, epochs=6, resume=True, callbacks=[EarlyStopping("train_loss", mode="max", patience=1)]
    ).fit()
    assert again.stopped and len(again.history) == 2 and again.start_epoch == 2


def test_bad_arguments_name_the_argument(tmp_path):
    data = _blobs(8)
    ce = torch.nn.functional.cross_entropy
    lin = torch.nn.Linear(4, 3)
    cases = [
        (dict(epochs=0), ConfigError, r"^epochs: expected an integer > 0, got 0$"),
        (dict(epochs=2, batch_size=2.5), ConfigError, r"^batch_size: expected an integer > 0, got 2.5$"),
        (dict(epochs=2, lr=float("nan")), ConfigError, r"^lr: expected a number > 0"),
        (dict(epochs=2, weight_decay=-1), ConfigError, r"^weight_decay: expected a number >= 0"),
        (dict(epochs=2, metrics={"loss": accuracy}), ConfigError, r"^metrics: metric names"),
        (dict(epochs=2, metrics={"acc": 3}), TypeError, r"^metrics\['acc'\]: expected a callable"),
        (dict(epochs=2, eval_data=[1, 2, 3]), TypeError, r"^eval_data\['test'\]: expected a torch Dataset"),
        (dict(epochs=2, callbacks=[print]), TypeError, r"^callbacks\[0\]: expected a steerable.training.Callback"),
        (dict(epochs=2, device="tpu"), ConfigError, r"^device: expected 'cpu', 'cuda' or 'auto'"),
    ]
    for kw, kind, msg in cases:
        with pytest.raises(kind, match=msg):
            Trainer(lin, data, loss=ce, **kw)
    with pytest.raises(TypeError, match=r"^model: expected a torch.nn.Module"):
        Trainer("net", data, loss=ce, epochs=1)
    with pytest.raises(TypeError, match=r"^loss: expected a callable"):
        Trainer(lin, data, loss=None, epochs=1)
    with pytest.raises(ConfigError, match=r"^resume=True needs out"):
        Trainer(lin, data, loss=ce, epochs=1, resume=True, device="cpu").fit()
    with pytest.raises(ConfigError, match=r"exclude each other"):
        Trainer(lin, data, loss=ce, epochs=1, resume=True, overwrite=True, out=str(tmp_path), device="cpu").fit()
    with pytest.raises(FileNotFoundError, match=r"^resume=True: no checkpoint to continue in out="):
        Trainer(lin, data, loss=ce, epochs=1, resume=True, out=str(tmp_path / "none"), device="cpu").fit()
    with pytest.raises(ConfigError, match=r"^patience: expected an integer > 0"):
        EarlyStopping(patience=0)
    with pytest.raises(ConfigError, match=r"^monitor='nope': not a column"):
        Trainer(lin, data, loss=ce, epochs=1, device="cpu", progress=False, callbacks=[EarlyStopping("nope")]).fit()
    # the same errors as the command line spells them: options instead of keywords
    from steerable.cli import option_name

    with pytest.raises(ConfigError) as e:
        Trainer(lin, data, loss=ce, epochs=2, batch_size=0)
    assert e.value.render(option_name) == "--batch-size: expected an integer > 0, got 0"
    with pytest.raises(FileNotFoundError) as e:
        Trainer(lin, data, loss=ce, epochs=1, resume=True, out=str(tmp_path / "none"), device="cpu").fit()
    assert e.value.render(option_name).startswith(f"--resume: no checkpoint to continue in --out {tmp_path / 'none'} (")


_DDP_WORKER = textwrap.dedent(
    """
    import sys, torch
    torch.set_num_threads(1)
    from steerable.training import Trainer, accuracy
    out, dump = sys.argv[1], sys.argv[2]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(70, 4, generator=g); y = (x[:, 0] > 0).long()
    data = torch.utils.data.TensorDataset(x, y)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    t = Trainer(model, data, loss=torch.nn.functional.cross_entropy, metrics={"acc": accuracy},
                eval_data=torch.utils.data.TensorDataset(x[:33], y[:33]), epochs=2, batch_size=14, lr=0.05,
                out=out, device="cpu", progress=False)
    res = t.fit()
    torch.save({"state": res.model.state_dict(), "history": res.history, "rank": res.rank,
                "world": res.world_size}, dump + f"{res.rank}.pt")
    """
)


def test_trainer_under_torchrun_two_processes(tmp_path):
    out = tmp_path / "ddp"
    script = tmp_path / "worker.py"
    script.write_text(_DDP_WORKER)
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
            str(script),
            str(out),
            str(tmp_path / "rank"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    r0, r1 = (torch.load(tmp_path / f"rank{i}.pt", weights_only=True) for i in (0, 1))
    assert r0["world"] == r1["world"] == 2
    for k in r0["state"]:  # parameters and BatchNorm statistics, bit for bit
        assert torch.equal(r0["state"][k], r1["state"][k]), k
    assert r0["history"] == r1["history"] and [h["epoch"] for h in r0["history"]] == [1, 2]
    assert sorted(os.listdir(out)) == ["checkpoint.pt", "log.csv", "log.json"]  # rank 0 alone wrote
    ckpt = load_checkpoint(out)
    assert ckpt["run"]["world_size"] == 2 and len(ckpt["rng"]) == 2
    # the metrics summed over the ranks are those of the whole evaluation set (33 samples: 17 + 16)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    model.load_state_dict(ckpt["model_state"])
    g = torch.Generator().manual_seed(0)
    x = torch.randn(70, 4, generator=g)
    y = (x[:, 0] > 0).long()
    with torch.no_grad():
        acc = float(accuracy(model.eval()(x[:33]), y[:33]).mean())
    assert r0["history"][-1]["test_acc"] == pytest.approx(acc, abs=1e-12)
    assert r0["history"][-1]["train_acc"] * 70 == pytest.approx(round(r0["history"][-1]["train_acc"] * 70))
