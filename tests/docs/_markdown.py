"""The ```python blocks of a Markdown page, in order (the fence opens a line, unindented or
indented inside an admonition; ```bash, ```text, ```pycon and others are not run)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[A-Za-z0-9_+-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.S | re.M
)


def code_blocks(text: str, lang: str = "python") -> list[tuple[int, str]]:
    """``(first line number, source)`` of every fenced block in ``lang``, dedented."""
    out = []
    for m in _FENCE.finditer(text):
        if m.group("lang") != lang:
            continue
        indent = m.group("indent")
        body = "".join(
            line[len(indent) :] if line.startswith(indent) else line
            for line in m.group("body").splitlines(keepends=True)
        )
        line_no = text.count("\n", 0, m.start("body")) + 1
        out.append((line_no, body))
    return out


def run_page(path: Path) -> dict:
    """Execute the python blocks of ``path`` in order in one namespace; returns the namespace.

    Each block is compiled with the page's name and its line offset, so a traceback points at
    the line of the Markdown file.
    """
    text = path.read_text(encoding="utf-8")
    namespace: dict = {"__name__": f"docs.{path.stem}"}
    for line_no, source in code_blocks(text):
        code = compile("\n" * (line_no - 1) + source, str(path), "exec")
        exec(code, namespace)
    return namespace
