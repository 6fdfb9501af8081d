"""Every ```python block of the documentation runs: the pages of docs/tutorials/ and the home
page, each page's blocks in order in one namespace (as a reader would paste them)."""

from __future__ import annotations

import os
import time
import warnings

import pytest
import torch

from ._markdown import DOCS, code_blocks, run_page

PAGES = sorted(p.relative_to(DOCS).as_posix() for p in [DOCS / "index.md", *DOCS.glob("tutorials/*.md")])
SLOW: set[str] = set()  # pages over ~10 s on one core: none so far


def _params():
    for page in PAGES:
        marks = [pytest.mark.slow] if page in SLOW else []
        yield pytest.param(page, id=page, marks=marks)


def test_pages_found():
    assert "index.md" in PAGES and len(PAGES) >= 7, PAGES


@pytest.mark.parametrize("page", list(_params()))
def test_page_runs(page, tmp_path, monkeypatch, capsys):
    path = DOCS / page
    if page != "tutorials/index.md":
        assert code_blocks(path.read_text(encoding="utf-8")), f"{page} has no python block"
    monkeypatch.chdir(tmp_path)  # pages that write files write them here
    # a page may call init_distributed: make sure no torchrun variables leak in from outside
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    threads = torch.get_num_threads()
    engine = torch.backends.quantized.engine
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            run_page(path)
    finally:
        torch.set_num_threads(threads)
        torch.backends.quantized.engine = engine
    seconds = time.perf_counter() - start
    with capsys.disabled():
        if os.environ.get("STEERABLE_DOCS_TIMES"):
            print(f"\n{page}: {seconds:.1f} s")
