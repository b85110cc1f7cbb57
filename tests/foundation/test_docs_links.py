"""The operator documentation holds together: its links lead somewhere, its commands exist.

Every relative link in README.md and docs/*.md points at a file of the repository (anchors
are not checked), every ``recovery-worker <subcommand>`` written in their code names a
subcommand the command line has, and every ``RECOVERY_WORKER_*`` variable they (and the
compose and systemd examples) set is a real setting.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path
from typing import get_origin
from urllib.parse import unquote

import pytest
from pydantic import BaseModel

from worker.cli import build_parser
from worker.settings import ENV_NESTED_DELIMITER, ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
EXAMPLES = [ROOT / "config" / "compose.yaml", *sorted((ROOT / "config" / "systemd").glob("*"))]
VARIABLE = re.compile(re.escape(ENV_PREFIX) + r"[A-Z][A-Z0-9_]*")

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# `recovery-worker WORD` (found overlapping, so `recovery-worker recovery-worker check` works)
COMMAND = re.compile(r"(?=recovery-worker[ \t]+([a-z][a-z0-9_-]*))")
# ... counts where recovery-worker is the program run: at the start of the code, after a path
# (/opt/recovery-worker/bin/recovery-worker), a shell separator, or the container of the same
# name (`docker exec recovery-worker recovery-worker check`).
PROGRAM_POSITION = re.compile(r"(?:^\s*(?:\$\s+)?|/|[;&|(]\s*|recovery-worker\s+)$")


@dataclass(frozen=True)
class Line:
    """One line of a document, split into its prose and its code."""

    path: Path
    number: int
    prose: str
    code: list[str]

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT).as_posix()}:{self.number}"


def split_lines(path: Path, text: str) -> list[Line]:
    """Each line's prose (code spans removed) and code (fenced lines, inline spans)."""
    lines: list[Line] = []
    fenced = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if FENCE.match(raw):
            fenced = not fenced
            lines.append(Line(path, number, "", []))
        elif fenced:
            lines.append(Line(path, number, "", [raw]))
        else:
            code = [m.group(2) for m in INLINE_CODE.finditer(raw)]
            lines.append(Line(path, number, INLINE_CODE.sub("", raw), code))
    return lines


def link_targets(line: Line) -> list[str]:
    """The targets of the prose's links and link definitions."""
    targets = [m.group(1) for m in INLINE_LINK.finditer(line.prose)]
    definition = REFERENCE_LINK.match(line.prose)
    if definition:
        targets.append(definition.group(1))
    return targets


def local_path(document: Path, target: str) -> Path | None:
    """The file a relative link points at; None for URLs and anchors within the page."""
    if SCHEME.match(target) or target.startswith("#"):
        return None
    relative = unquote(target.split("#", 1)[0].split("?", 1)[0])
    if not relative:
        return None
    base = ROOT if relative.startswith("/") else document.parent
    return (base / relative.lstrip("/")).resolve()


def commands_named(code: str) -> list[str]:
    """The words that follow ``recovery-worker`` where it is the program being run."""
    return [
        match.group(1)
        for match in COMMAND.finditer(code)
        if PROGRAM_POSITION.search(code[: match.start()])
    ]


def subcommands() -> set[str]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def setting_variables() -> tuple[set[str], set[str]]:
    """The environment variables of every setting, and those that take nested keys after ``__``."""
    exact: set[str] = set()
    nested: set[str] = set()

    def walk(model: type[BaseModel], parts: list[str]) -> None:
        for key, field in model.model_fields.items():
            path = [*parts, key]
            name = ENV_PREFIX + ENV_NESTED_DELIMITER.join(p.upper() for p in path)
            exact.add(name)
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, path)
            elif get_origin(annotation) is dict:
                nested.add(name)

    walk(Settings, [])
    return exact, nested


def is_setting(variable: str, exact: set[str], nested: set[str]) -> bool:
    return variable in exact or any(variable.startswith(n + ENV_NESTED_DELIMITER) for n in nested)


def test_links_are_found_outside_code_and_urls_are_skipped(tmp_path: Path) -> None:
    """Links in code are not links; URLs and in-page anchors are not files."""
    doc = ROOT / "docs" / "example.md"
    lines = split_lines(
        doc,
        'See [a](a.md#part), ![img](../img.png "t") and [web](https://example.com).\n'
        "`[not](a-link.md)`\n"
        "```\n[not](either.md)\n```\n"
        "[ref]: ../README.md\n",
    )
    targets = [t for line in lines for t in link_targets(line)]
    assert targets == ["a.md#part", "../img.png", "https://example.com", "../README.md"]
    assert local_path(doc, "a.md#part") == ROOT / "docs" / "a.md"
    assert local_path(doc, "https://example.com") is None
    assert local_path(doc, "#anchor") is None


def test_commands_are_read_where_recovery_worker_is_the_program() -> None:
    """Paths, options, prose and container names are not taken for subcommands."""
    assert commands_named("recovery-worker check") == ["check"]
    assert commands_named("$ recovery-worker run --once") == ["run"]
    assert commands_named("/opt/recovery-worker/bin/recovery-worker config example") == ["config"]
    assert commands_named("docker exec recovery-worker recovery-worker check") == ["check"]
    assert commands_named("cd /tmp && recovery-worker demo") == ["demo"]
    assert commands_named("journalctl -u recovery-worker -f") == []
    assert commands_named("sudo -u recovery-worker env X=1 run") == []
    assert commands_named("systemctl enable --now recovery-worker") == []
    assert commands_named("recovery-worker --help") == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_point_at_files_that_exist(document: Path) -> None:
    """A link to a moved or unwritten document is caught here, not by a reader."""
    broken = []
    for line in split_lines(document, document.read_text(encoding="utf-8")):
        for target in link_targets(line):
            path = local_path(document, target)
            if path is not None and not path.exists():
                broken.append(f"{line.where}: {target}")
    assert not broken, "links to files that do not exist:\n  " + "\n  ".join(broken)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_commands_in_docs_exist(document: Path) -> None:
    """`recovery-worker <subcommand>` in a document names a real subcommand."""
    known = subcommands()
    unknown = [
        f"{line.where}: recovery-worker {name}"
        for line in split_lines(document, document.read_text(encoding="utf-8"))
        for code in line.code
        for name in commands_named(code)
        if name not in known
    ]
    assert not unknown, f"unknown subcommands (known: {sorted(known)}):\n  " + "\n  ".join(unknown)


def test_setting_variables_follow_the_settings_model() -> None:
    """Sections, their keys and the keys of mappings are settings; a misspelling is not."""
    exact, nested = setting_variables()
    assert is_setting("RECOVERY_WORKER_JIRA__API_TOKEN_FILE", exact, nested)
    assert is_setting("RECOVERY_WORKER_JIRA__PRIORITIES__SEV1", exact, nested)
    assert not is_setting("RECOVERY_WORKER_JIRA__APITOKEN_FILE", exact, nested)
    assert not is_setting("RECOVERY_WORKER_JIRA__URL__X", exact, nested)


@pytest.mark.parametrize(
    "document", DOCUMENTS + EXAMPLES, ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_variables_in_docs_and_examples_are_settings(document: Path) -> None:
    """A renamed setting cannot leave a stale variable in an example."""
    exact, nested = setting_variables()
    unknown = [
        f"{document.relative_to(ROOT).as_posix()}:{number}: {variable}"
        for number, text in enumerate(document.read_text(encoding="utf-8").splitlines(), 1)
        for variable in VARIABLE.findall(text)
        if not is_setting(variable, exact, nested)
    ]
    assert not unknown, "variables that are no setting:\n  " + "\n  ".join(unknown)
