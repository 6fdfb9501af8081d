"""Griffe extension for the API reference: steerable's docstrings are reST-flavoured prose with
doctest examples. Before mkdocstrings renders them as Markdown, this

- fences every doctest block (``>>>`` lines, their ``...`` continuations and expected output)
  as ```` ```pycon ````, so examples show as code and ``x[i][j]`` is not read as a link;
- turns reST roles (``:class:`Foo```, ``:func:`bar```, ``:math:`x```) into inline code;
- ends a paragraph introducing an indented literal block with ``:`` instead of reST's ``::``
  (the indented block is Markdown code already);
- turns reST simple tables (``=====  =====`` rules) into Markdown tables.
"""

from __future__ import annotations

import re

from griffe import Extension

_RULE = re.compile(r"^\s*=+(?:\s+=+)+\s*$")
_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|obj|data|exc|const|math|ref|term|doc):`~?([^`]+)`")


def _fence_doctests(text: str) -> str:
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    in_fence = False
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            out.append(line)
            i += 1
            continue
        if not in_fence and line.lstrip().startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i].lstrip())
                i += 1
            if out and out[-1].strip():
                out.append("")
            out.append("```pycon")
            out.extend(block)
            out.append("```")
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def _columns(rule: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"=+", rule)]


def _cells(line: str, cols: list[tuple[int, int]]) -> list[str]:
    out = []
    for k, (a, _) in enumerate(cols):
        b = cols[k + 1][0] if k + 1 < len(cols) else len(line)
        out.append(line[a:b].strip().replace("|", "\\|"))
    return out


def _tables(text: str) -> str:
    """reST simple tables (header, rule, rows, rule) as Markdown tables; others left alone."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        if _RULE.match(lines[i]) and i + 2 < len(lines) and _RULE.match(lines[i + 2]):
            end = next((j for j in range(i + 3, len(lines)) if _RULE.match(lines[j])), None)
            if end is not None:
                cols = _columns(lines[i])
                header = _cells(lines[i + 1], cols)
                if out and out[-1].strip():
                    out.append("")
                out.append("| " + " | ".join(header) + " |")
                out.append("|" + "---|" * len(cols))
                out.extend("| " + " | ".join(_cells(row, cols)) + " |" for row in lines[i + 3 : end] if row.strip())
                i = end + 1
                continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def rest_to_markdown(text: str) -> str:
    """The docstring ``text`` with doctests fenced, reST tables as Markdown tables and reST roles
    as inline code."""
    text = _tables(_fence_doctests(text))
    parts = re.split(r"(```[\s\S]*?```)", text)  # leave code untouched
    for k in range(0, len(parts), 2):
        parts[k] = _ROLE.sub(r"``\1``", parts[k])
        parts[k] = re.sub(r"(?m)(\S)::[ \t]*$", r"\1:", parts[k])  # "text::" + indented block
    return "".join(parts)


class RestDocstrings(Extension):
    def on_object(self, *, obj, **kwargs) -> None:  # griffe >= 1.14
        if obj.docstring is not None and not obj.is_alias:
            obj.docstring.value = rest_to_markdown(obj.docstring.value)

    def on_instance(self, *, obj, **kwargs) -> None:  # older griffe
        self.on_object(obj=obj)
