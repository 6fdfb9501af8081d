"""Run folders and their logs: ``log.json`` (plan, model, history) and ``log.csv`` (one row per epoch).

The CSV's columns are those of the history: ``epoch``, the training loss and metrics
(``train_*``), those of each evaluation set (``test_*``, ...), ``lr``, ``seconds``, then anything a
callback added, in the order they first appear.

>>> history_columns([{"epoch": 1, "train_loss": 0.5, "test_cos": 0.1, "lr": 1e-3, "seconds": 1.0}])
['epoch', 'train_loss', 'test_cos', 'lr', 'seconds']
"""

from __future__ import annotations

import csv
import io
import json
import os

from ._checkpoint import atomic_write_text
from ._errors import Arg, ConfigError

LOG_JSON = "log.json"
LOG_CSV = "log.csv"


def history_columns(history: list[dict]) -> list[str]:
    """Every key of the history rows, in order of first appearance."""
    cols: list[str] = []
    for row in history:
        for k in row:
            if k not in cols:
                cols.append(k)
    return cols


def write_logs(out: str, doc: dict, history: list[dict]) -> None:
    """``out/log.json`` (``doc`` plus the history) and ``out/log.csv`` (atomic writes).

    >>> import os
    >>> import tempfile
    >>> from steerable.training import write_logs
    >>> d = tempfile.mkdtemp()
    >>> write_logs(d, {"args": {"epochs": 1}}, [{"epoch": 1, "train_loss": 0.5}])
    >>> open(os.path.join(d, "log.csv")).read().splitlines()
    ['epoch,train_loss', '1,0.5']
    """
    atomic_write_text(json.dumps({**doc, "history": history}, indent=2) + "\n", os.path.join(out, LOG_JSON))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=history_columns(history), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in history:
        w.writerow(row)
    atomic_write_text(buf.getvalue(), os.path.join(out, LOG_CSV))


def prepare_output(out: str) -> None:
    """Create the folder ``out`` and check that files can be written in it (``ConfigError`` if not)."""
    try:
        os.makedirs(out, exist_ok=True)
        probe = os.path.join(out, f".write-test-{os.getpid()}")
        with open(probe, "wb") as f:
            f.write(b"ok")
        os.unlink(probe)
    except OSError as e:
        p = os.path.abspath(out)
        while not os.path.exists(p) and os.path.dirname(p) != p:
            p = os.path.dirname(p)
        why = f"{p} is a file, not a folder" if os.path.isfile(p) else (e.strerror or str(e))
        raise ConfigError(Arg("out", out), f": cannot write there ({why})") from None
