"""The site's structure: every page in mkdocs.yml's nav exists (but the lead's
escnn-migration.md, checked only when present), every page of docs/ is in the nav, the
generated API page of steerable.nn lists steerable.nn.__all__, and the relative links of the
pages point at files that exist. The site itself is built by scripts/docs.sh."""

from __future__ import annotations

import importlib.util
import re

import pytest

from ._markdown import DOCS, ROOT

NAV_ENTRY = re.compile(r"^\s*-\s*(?:[^:\n]+:\s*)?([\w./-]+\.md)\s*$", re.M)


def _nav_pages() -> list[str]:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    return NAV_ENTRY.findall(text[text.index("\nnav:") :])


def test_nav_pages_exist():
    missing = [p for p in _nav_pages() if not (DOCS / p).is_file() and p != "escnn-migration.md"]
    assert not missing, f"in mkdocs.yml's nav but not in docs/: {missing}"


def test_every_page_is_in_the_nav():
    nav = set(_nav_pages())
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md") if not p.parts[-2].startswith("_")}
    assert not pages - nav, f"pages of docs/ missing from the nav: {sorted(pages - nav)}"


def test_api_pages_cover_the_public_modules():
    for module in (
        "group",
        "group.functional",
        "gspaces",
        "kernels",
        "nn",
        "nn.init",
        "testing",
        "models",
        "training",
        "data",
    ):
        page = DOCS / "api" / (module.replace(".", "-") + ".md")
        assert f"::: steerable.{module}\n" in page.read_text(encoding="utf-8"), page


def _hook(name: str):
    spec = importlib.util.spec_from_file_location(f"docs_hook_{name}", DOCS / "_hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_nn_api_page_is_fresh():
    """docs/api/nn.md is generated: run ``python docs/_hooks/make_nn_api.py`` when this fails."""
    expected = _hook("make_nn_api").render()
    actual = (DOCS / "api" / "nn.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/api/nn.md is stale: run python docs/_hooks/make_nn_api.py"


def test_relative_links_resolve():
    link = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
    bad = []
    for page in DOCS.rglob("*.md"):
        for target in link.findall(page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            resolved = (page.parent / target).resolve()
            if not resolved.exists() and resolved.name != "escnn-migration.md":
                bad.append(f"{page.relative_to(DOCS)} → {target}")
    assert not bad, bad


def test_griffe_extension_fences_doctests():
    pytest.importorskip("griffe")  # installed with the docs tools (docs/requirements.txt)
    out = _hook("griffe_rest").rest_to_markdown("See :class:`Foo`.\n>>> b[3]['j']\n1\n\nEnd ``x``.")
    assert "```pycon\n>>> b[3]['j']\n1\n```" in out and "``Foo``" in out and "``x``" in out
    table = _hook("griffe_rest").rest_to_markdown("Intro.\n\n===  ====\na    b\n===  ====\n1    two\n===  ====\n")
    assert "| a | b |\n|---|---|\n| 1 | two |" in table
