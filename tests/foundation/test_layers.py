"""The import rules of docs/architecture.md, checked on the source."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import worker

PACKAGE = Path(worker.__file__).parent


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def _imports(path: Path) -> set[str]:
    """Every module the file imports, at any depth (imports inside functions count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


MODULES = dict(_modules())


def _violations(
    layer: str, allowed: tuple[str, ...], forbidden_outside: str = "worker"
) -> list[str]:
    bad = []
    for name, path in MODULES.items():
        if not _within(name, layer):
            continue
        for imported in _imports(path):
            if _within(imported, "worker") and not _within(imported, *allowed):
                bad.append(f"{name} imports {imported}")
    return sorted(set(bad))


def test_domain_imports_nothing_of_the_worker_but_itself() -> None:
    assert _violations("worker.domain", ("worker.domain",)) == []


def test_core_imports_only_the_domain_and_the_error_tree() -> None:
    assert _violations("worker.core", ("worker.core", "worker.domain", "worker.errors")) == []


@pytest.mark.parametrize(
    "adapter", ["worker.store", "worker.mail", "worker.tracker", "worker.alerts"]
)
def test_adapters_know_nothing_of_steps_outbox_or_commands(adapter: str) -> None:
    outer = ("worker.steps", "worker.outbox", "worker.commands", "worker.app", "worker.supervisor")
    bad = [
        f"{name} imports {imported}"
        for name, path in MODULES.items()
        if _within(name, adapter)
        for imported in _imports(path)
        if _within(imported, *outer)
    ]
    assert bad == []


def test_the_outbox_knows_nothing_of_steps_wiring_or_commands() -> None:
    outer = ("worker.steps", "worker.wiring", "worker.commands", "worker.app", "worker.supervisor")
    bad = [
        f"{name} imports {imported}"
        for name, path in MODULES.items()
        if _within(name, "worker.outbox")
        for imported in _imports(path)
        if _within(imported, *outer)
    ]
    assert bad == []


def test_no_step_imports_another_step() -> None:
    bad = [
        f"{name} imports {imported}"
        for name, path in MODULES.items()
        if _within(name, "worker.steps") and name != "worker.steps"
        for imported in _imports(path)
        if _within(imported, "worker.steps")
        and imported
        not in (
            "worker.steps",
            "worker.steps.Services",
            "worker.steps.end_of_pass",
            "worker.steps.failed",
        )
        and not _within(imported, name)
    ]
    assert bad == []


def test_only_the_store_speaks_sql() -> None:
    bad = [
        f"{name} imports {imported}"
        for name, path in MODULES.items()
        if not _within(name, "worker.store")
        for imported in _imports(path)
        if _within(imported, "sqlalchemy", "sqlite3")
    ]
    assert bad == []


def test_the_rules_see_every_module() -> None:
    # A rule over no files passes whatever the code does.
    for layer in ("worker.domain", "worker.core", "worker.store", "worker.steps", "worker.outbox"):
        assert any(_within(name, layer) for name in MODULES), layer
