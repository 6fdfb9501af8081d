"""Checkpoints: atomic writes, validated reads, RNG states, model rebuilding.

A checkpoint is a plain dict (loadable with ``torch.load(..., weights_only=True)``)::

    format, version            'steerable-checkpoint', 1
    task                       the task's name (``steerable.training.task_names``), if trained as a task
    model                      what the task says of its model; rotated MNIST:
                               {'name', 'n_classes', 'width', 'in_channels', 'group_name'}
    model_state                state_dict without DDP's 'module.' prefix
    optimizer_state, scheduler_state
    epoch                      number of completed epochs
    rng                        per-rank RNG states (torch, cuda, numpy, python) at the epoch's end
    args                       the training plan (epochs, batch_size, lr, ..., the task's options)
    history                    one dict per completed epoch (losses, metrics, lr, seconds)
    callbacks, stopped         the callbacks' states; whether a callback ended the run

>>> import tempfile, os
>>> d = tempfile.mkdtemp()
>>> p = os.path.join(d, "x.pt")
>>> atomic_torch_save({"a": 1}, p)
>>> sorted(os.listdir(d))
['x.pt']
"""

from __future__ import annotations

import io
import os
import pickle
import random
import tempfile
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ._errors import ConfigError

FORMAT = "steerable-checkpoint"
VERSION = 1
_REQUIRED = ("model", "model_state", "epoch", "args", "history")


class CheckpointError(ConfigError):
    """A checkpoint that cannot be used: corrupt, foreign, from another model, or contradicting the
    arguments of the run that resumes it (a ``ValueError``)."""


def atomic_write(path: str, write: Callable[[io.BufferedWriter], object]) -> None:
    """Write ``path`` through a temporary file in the same folder, then rename it into place.

    A reader (or a resumed run after a crash) sees the old file or the new one, never half of one.
    What ``write`` returns is ignored.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_torch_save(obj: Any, path: str) -> None:
    """``torch.save(obj, path)``, atomically."""
    atomic_write(path, lambda f: torch.save(obj, f))


def atomic_write_text(text: str, path: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def strip_ddp_prefix(state_dict: dict) -> dict:
    """Remove the ``module.`` prefix DistributedDataParallel (and ``torch.compile``'s
    ``_orig_mod.``) put in front of every key.

    >>> from steerable.training import strip_ddp_prefix
    >>> list(strip_ddp_prefix({"module.conv.weight": 0}))
    ['conv.weight']
    """
    out = {}
    for k, v in state_dict.items():
        for prefix in ("module.", "_orig_mod."):
            if k.startswith(prefix):
                k = k[len(prefix) :]
        out[k] = v
    return out


# ----------------------------------------------------------------------------------------- RNG


def capture_rng_state() -> dict:
    """This process's RNG states (torch CPU, CUDA, numpy, python), as weights-only-loadable data."""
    np_state = np.random.get_state()
    if not isinstance(np_state, tuple):  # the legacy global generator is always MT19937
        raise RuntimeError(f"numpy's global RNG state: expected the legacy tuple, got {type(np_state).__name__}")
    state = {
        "torch": torch.get_rng_state(),
        "numpy": [
            np_state[0],
            torch.from_numpy(np_state[1].astype(np.int64)),
            int(np_state[2]),
            int(np_state[3]),
            float(np_state[4]),
        ],
        "python": _to_lists(random.getstate()),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    """Inverse of :func:`capture_rng_state`."""
    torch.set_rng_state(state["torch"].cpu())
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(keys).astype(np.uint32), pos, has_gauss, cached))
    random.setstate(_to_tuples(state["python"]))
    if "cuda" in state and torch.cuda.is_available():
        cuda = list(state["cuda"])[: torch.cuda.device_count()]
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda])


def _to_lists(x):
    return [_to_lists(v) for v in x] if isinstance(x, (tuple, list)) else x


def _to_tuples(x):
    return tuple(_to_tuples(v) for v in x) if isinstance(x, (tuple, list)) else x


# ------------------------------------------------------------------------------------- loading


def load_checkpoint(path: str, map_location: str | torch.device = "cpu") -> dict:
    """Read and validate a checkpoint written by ``steerable train``.

    Raises ``FileNotFoundError`` for a missing file and :class:`CheckpointError` (a ``ValueError``)
    for anything else that is wrong with it, with a one-line message.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        candidate = os.path.join(path, "checkpoint.pt")
        if not os.path.exists(candidate):
            raise FileNotFoundError(f"{path} is a folder without a checkpoint.pt")
        path = candidate
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except IsADirectoryError:
        raise CheckpointError(f"{path} is a folder, not a checkpoint file") from None
    except PermissionError as e:
        raise CheckpointError(f"{path}: cannot read it ({e.strerror})") from None
    except (
        RuntimeError,
        EOFError,
        OSError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
        ValueError,
        AttributeError,
        TypeError,
        KeyError,
        IndexError,
        UnicodeDecodeError,
    ) as e:
        raise CheckpointError(
            f"{path} is not a readable checkpoint (corrupt, truncated, or not written by "
            f"'steerable train'): {_load_failure_reason(e)}"
        ) from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a steerable checkpoint (expected a file written by 'steerable train')")
    if ckpt.get("version", 0) > VERSION:
        raise CheckpointError(
            f"{path} has checkpoint version {ckpt.get('version')}; this steerable reads up to {VERSION}"
        )
    missing = [k for k in _REQUIRED if k not in ckpt]
    if missing:
        raise CheckpointError(f"{path} lacks {', '.join(missing)}: it is incomplete")
    ckpt["path"] = path
    return ckpt


def _load_failure_reason(e: BaseException) -> str:
    """The gist of a ``torch.load`` failure, on one short line."""
    text = str(e)
    if "WeightsUnpickler error:" in text:
        text = text.split("WeightsUnpickler error:", 1)[1].split("Check the documentation", 1)[0]
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    reason = lines[0] if lines else type(e).__name__
    if isinstance(e, OSError) and e.strerror:
        reason = e.strerror
    return reason if len(reason) <= 160 else reason[:157] + "..."


def check_model_name(ckpt: dict, expected: str | None) -> None:
    """Raise :class:`CheckpointError` if ``expected`` is given and the checkpoint is another model."""
    name = ckpt["model"]["name"]
    if expected is not None and expected != name:
        raise CheckpointError(f"{ckpt.get('path', 'checkpoint')} holds a '{name}' model, not '{expected}'")


def model_from_checkpoint(ckpt: dict, expected_model: str | None = None) -> torch.nn.Module:
    """Rebuild the model a checkpoint was trained with and load its weights (eval mode, CPU).

    Rotated-MNIST checkpoints rebuild their zoo model; those of another task ask the task
    (:func:`steerable.training.build_task` with the checkpoint's plan) to build it.
    """
    from steerable.models import build_model

    check_model_name(ckpt, expected_model)
    spec = ckpt["model"]
    task = ckpt.get("task", "rotated_mnist")
    try:
        if task != "rotated_mnist":
            from ._task import build_task

            model = build_task(task, **ckpt["args"]).build_model()
        else:
            model = build_model(
                spec["name"], n_classes=spec["n_classes"], width=spec["width"], in_channels=spec["in_channels"]
            )
    except (ValueError, TypeError, KeyError) as e:
        raise CheckpointError(f"{ckpt.get('path', 'checkpoint')}: cannot rebuild model {spec!r}: {e}") from None
    load_model_state(model, ckpt["model_state"], where=ckpt.get("path", "checkpoint"))
    return model.eval()


def load_model_state(model: torch.nn.Module, state: dict, where: str = "checkpoint") -> None:
    """``model.load_state_dict`` with a one-line :class:`CheckpointError` on a mismatch."""
    state = strip_ddp_prefix(state)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        if wrong:
            k = wrong[0]
            parts.append(f"{len(wrong)} of another shape (e.g. {k}: {tuple(state[k].shape)} vs {tuple(own[k].shape)})")
        raise CheckpointError(f"{where}: weights do not fit the model: " + "; ".join(parts))
    model.load_state_dict(state)
