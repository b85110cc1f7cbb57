"""The compose and systemd examples parse and hold together with the worker they run.

Neither docker nor systemd is needed: the compose file is read as YAML, the unit
as its key=value lines, and each is checked against the settings and exit codes.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML comes with openapi-core

from tests.conftest import REPO
from worker.cli import EXIT_USAGE
from worker.settings import ENV_PREFIX, Settings

COMPOSE = REPO / "config" / "compose.yaml"
UNIT = REPO / "config" / "systemd" / "recovery-worker.service"
#: How long the worker may take after SIGTERM (docs/deployment.md): the grace plus margin.
STOP_WITHIN = timedelta(seconds=10)


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def unit() -> dict[str, list[tuple[str, str]]]:
    """Each [Section] of the unit with its settings in order (keys may repeat)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for raw in UNIT.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"setting outside a section: {line}"
        key, sep, value = line.partition("=")
        assert sep, f"not key=value: {line}"
        current.append((key.strip(), value.strip()))
    return sections


def values(section: list[tuple[str, str]], key: str) -> list[str]:
    return [value for k, value in section if k == key]


def seconds(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)\s*(s|min)?", text)
    assert match, text
    return timedelta(seconds=int(match[1]) * (60 if match[2] == "min" else 1))


def test_compose_secrets_and_volumes_are_declared() -> None:
    """Every secret and named volume the service uses is declared at the top level."""
    data = compose()
    (service,) = data["services"].values()
    assert set(service["secrets"]) <= set(data["secrets"])
    named = {v.split(":", 1)[0] for v in service["volumes"] if not v.startswith((".", "/"))}
    assert named
    assert named <= set(data["volumes"])


def test_compose_secret_files_point_at_mounted_secrets() -> None:
    """A *_FILE variable names a secret the service mounts, under /run/secrets."""
    (service,) = compose()["services"].values()
    files = {k: v for k, v in service["environment"].items() if k.endswith("_FILE")}
    assert files, "the example gives its secrets as files"
    mounted = {f"/run/secrets/{name}" for name in service["secrets"]}
    assert set(files.values()) <= mounted
    assert all(key.startswith(ENV_PREFIX) for key in service["environment"])


def test_compose_waits_longer_than_the_worker_needs_to_stop() -> None:
    """docker stop waits past the worker's own shutdown grace before it kills."""
    (service,) = compose()["services"].values()
    assert seconds(service["stop_grace_period"]) > STOP_WITHIN
    assert Settings().loop.shutdown_grace < STOP_WITHIN


def test_unit_runs_the_worker_and_its_credentials_exist() -> None:
    """ExecStart runs the service; every %d/NAME variable has a LoadCredential=NAME."""
    service = unit()["Service"]
    (start,) = values(service, "ExecStart")
    assert start.split()[:2] == ["/opt/recovery-worker/bin/recovery-worker", "run"]
    credentials = {c.split(":", 1)[0] for c in values(service, "LoadCredential")}
    used = {
        match
        for line in values(service, "Environment")
        for match in re.findall(r"%d/([\w.-]+)", line)
    }
    assert used
    assert used == credentials


def test_unit_stops_in_time_and_does_not_restart_on_bad_settings() -> None:
    """Invalid settings (exit 2) are not restarted; the stop timeout covers the grace."""
    service = unit()["Service"]
    assert values(service, "RestartPreventExitStatus") == [str(EXIT_USAGE)]
    (timeout,) = values(service, "TimeoutStopSec")
    assert seconds(timeout) > STOP_WITHIN
    assert values(unit()["Install"], "WantedBy") == ["multi-user.target"]
