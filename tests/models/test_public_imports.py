"""The model zoo is built from the library's public names only: no module of steerable.models
imports a private module (a dotted path with a component starting with ``_``) of another part of
the library. Its own private files (``from ._width import ...``) are its business."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import steerable.models

MODELS_DIR = Path(steerable.models.__file__).parent
SOURCES = sorted(MODELS_DIR.glob("*.py"))


def _private(module: str) -> bool:
    return any(part.startswith("_") and part != "__future__" for part in module.split("."))


def private_imports(source: str, package: str = "steerable.models") -> list[tuple[int, str]]:
    """(line, imported module) for every import of a private module outside ``package``,
    relative imports resolved against ``package`` (the file's package)."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: max(len(parts) - (node.level - 1), 0)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            # "from steerable.nn import _x" imports a private name (a module or an attribute)
            mods = [mod] + [f"{mod}.{a.name}" for a in node.names if a.name.startswith("_")]
        else:
            continue
        for m in mods:
            own = m == package or m.startswith(package + ".")
            if m.startswith("steerable") and not own and _private(m):
                bad.append((node.lineno, m))
    return bad


def test_the_models_package_has_sources():
    names = {p.name for p in SOURCES}
    assert "__init__.py" in names and len(SOURCES) >= 3


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_models_import_only_public_names(path: Path):
    bad = private_imports(path.read_text())
    assert not bad, f"{path.name} imports private modules of the library: {bad}"


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from steerable.nn._structure import SequentialModule", ["steerable.nn._structure"]),
        ("import steerable.nn.pooling._max", ["steerable.nn.pooling._max"]),
        ("from steerable.nn import _module", ["steerable.nn._module"]),
        ("from ..nn._module import EquivariantModule", ["steerable.nn._module"]),
        ("def f():\n    from steerable.group._planar import CyclicGroup\n", ["steerable.group._planar"]),
        ("from steerable.nn import SequentialModule\nfrom steerable import gspaces", []),
        ("from ._width import regular_fields_for\nimport torch\nfrom collections import OrderedDict", []),
    ],
)
def test_the_checker_flags_private_imports(source: str, expected: list[str]):
    assert [m for _, m in private_imports(source)] == expected
