"""The shape of the code: rooms of a size a reader can hold, arrows that run one way.

Read from the source with ``ast`` (lazy and ``TYPE_CHECKING`` imports count: a reader follows
them too), so a circle or an oversized module fails here before it grows.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("archiver", "spiders", "pipelines")
MAX_MODULE_LINES = 700
MAX_CLASS_LINES = 300
SHARED_MODULES = {"__init__", "__main__", "items", "errors", "settings", "processes"}
"""The only modules at the top of ``archiver/``: what every wing shares, and the entry."""


@cache
def modules() -> dict[str, Path]:
    """Every first-party module by dotted name (the migrations are Alembic's scripts)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _owner(name: str) -> str | None:
    """The first-party module that an imported dotted name lives in, if any."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> set[str]:
    """The first-party modules that *module* imports, anywhere in its body."""
    path = modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            owner = _owner(name)
            if owner is not None and owner != module:
                found.add(owner)
    return found


def import_circles() -> Iterator[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    graph = {module: imports_of(module) for module in modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for module in graph:
        if module not in index:
            visit(module)
    return iter(circles)


def test_the_import_graph_has_no_circles() -> None:
    assert list(import_circles()) == []


def test_the_circle_finder_finds_a_circle(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above would pass on a finder that finds nothing: show it finds one."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    monkeypatch.setattr("tests.test_layout.modules", lambda: dict.fromkeys(graph, Path("x.py")))
    monkeypatch.setattr("tests.test_layout.imports_of", lambda module: graph[module])
    assert list(import_circles()) == [["a", "b", "c"]]


def test_the_library_never_imports_spiders_or_pipelines() -> None:
    """Spiders and pipelines are Scrapy's plug-ins on the library: Scrapy finds them by name
    (``SPIDER_MODULES``, ``ITEM_PIPELINES``), the library never reaches for them."""
    reaching = {
        module: sorted(target for target in imports_of(module) if not target.startswith("archiver"))
        for module in modules()
        if module.startswith("archiver")
    }
    assert {module: targets for module, targets in reaching.items() if targets} == {}


def test_only_storage_imports_sqlalchemy() -> None:
    importers = []
    for module, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name.split(".")[0] == "sqlalchemy" for name in names):
                importers.append(module)
                break
    assert [m for m in importers if not m.startswith("archiver.storage")] == []


def test_modules_and_classes_are_of_a_readable_size() -> None:
    oversized = []
    for module, path in modules().items():
        text = path.read_text(encoding="utf-8")
        if (lines := len(text.splitlines())) > MAX_MODULE_LINES:
            oversized.append(f"{module}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_CLASS_LINES:
                    oversized.append(f"{module}.{node.name}: {length} lines")
    assert oversized == []


def test_the_top_of_archiver_holds_packages_and_what_they_share() -> None:
    top = ROOT / "archiver"
    loose = sorted(path.stem for path in top.glob("*.py") if path.stem not in SHARED_MODULES)
    assert loose == []
