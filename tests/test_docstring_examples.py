"""Every docstring example of a public class or function paste-runs as written: run in an empty
namespace (as a user pasting it would), it imports every name it uses, and it imports them from
public paths only (``from steerable.nn import X``, never ``steerable.nn._module``).

pytest's own doctest run (``--doctest-modules``) executes the examples in their module's namespace,
where a missing import goes unnoticed; this file checks the examples as a user sees them."""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import pkgutil

import pytest

import steerable

# every public package or module with an ``__all__`` (test_every_public_package_is_checked keeps
# the list complete)
PACKAGES = [
    "steerable.cryoem",
    "steerable.data",
    "steerable.group",
    "steerable.group.functional",
    "steerable.gspaces",
    "steerable.kernels",
    "steerable.lattice",
    "steerable.models",
    "steerable.nn",
    "steerable.nn.conv",
    "steerable.nn.implicit",
    "steerable.nn.init",
    "steerable.nn.modules.basismanager",
    "steerable.nn.modules.conv",
    "steerable.nn.modules.conv.rd_convolution",
    "steerable.nn.modules.conv.rd_transposed_convolution",
    "steerable.nn.modules.pointconv",
    "steerable.nn.modules.pointconv.rd_point_convolution",
    "steerable.nn.nonlinear",
    "steerable.nn.norm",
    "steerable.nn.partial",
    "steerable.nn.point",
    "steerable.nn.pooling",
    "steerable.pcam",
    "steerable.sheaf",
    "steerable.testing",
    "steerable.theory",
    "steerable.training",
]


def _private(module: str) -> bool:
    return any(part.startswith("_") and part != "__future__" for part in module.split("."))


def _public_tests(package):
    """(name, doctest) for the docstring example of every class and function of ``package.__all__``
    (its own docstring, not its methods'), with an empty namespace."""
    finder = doctest.DocTestFinder()
    for name in package.__all__:
        obj = getattr(package, name)  # lazy exports (steerable.nn) load here
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        for t in finder.find(obj, name, globs={}):
            if t.name == name and t.examples:
                t.globs = {}
                yield name, t


def _examples_run_as_pasted(package) -> list[str]:
    """Names of ``package.__all__`` whose docstring example fails when run in an empty namespace
    (as a user pasting it would: every name it uses must be imported in the example)."""
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    return [name for name, t in _public_tests(package) if runner.run(t, out=lambda s: None).failed]


def _private_imports_in_examples(package) -> list[tuple[str, str]]:
    """(name, module) for every import of a private steerable path (a dotted component starting
    with ``_``, or a ``_name`` imported from a steerable module) in the docstring examples of
    ``package.__all__``."""
    bad = []
    for name, t in _public_tests(package):
        for ex in t.examples:
            try:
                tree = ast.parse(ex.source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    mods = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    mod = node.module or ""
                    mods = [mod] + [f"{mod}.{a.name}" for a in node.names if a.name.startswith("_")]
                else:
                    continue
                bad += [(name, m) for m in mods if m.startswith("steerable") and _private(m)]
    return bad


@pytest.mark.parametrize("package", PACKAGES)
def test_docstring_examples_paste_run(package):
    assert _examples_run_as_pasted(importlib.import_module(package)) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_docstring_examples_import_public_names(package):
    assert _private_imports_in_examples(importlib.import_module(package)) == []


def test_every_public_package_is_checked():
    public = []
    for info in pkgutil.walk_packages(steerable.__path__, "steerable."):
        if _private(info.name) or info.name == "steerable.cli":
            continue
        if hasattr(importlib.import_module(info.name), "__all__"):
            public.append(info.name)
    assert sorted(public) == sorted(PACKAGES)


def test_the_checkers_catch_missing_and_private_imports():
    import types

    def uses_a_global():
        """>>> inspect.isfunction(uses_a_global)
        True
        """

    def imports_privately():
        """>>> from steerable.group._planar import CyclicGroup
        >>> from steerable.group import _utils
        """

    pkg = types.SimpleNamespace(__all__=["uses_a_global", "imports_privately"])
    pkg.uses_a_global, pkg.imports_privately = uses_a_global, imports_privately
    assert _examples_run_as_pasted(pkg) == ["uses_a_global"]
    assert _private_imports_in_examples(pkg) == [
        ("imports_privately", "steerable.group._planar"),
        ("imports_privately", "steerable.group._utils"),
    ]
