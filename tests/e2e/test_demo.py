"""`recovery-worker demo`: the whole lifecycle, told in order, on embedded defaults."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from worker.cli import main

pytestmark = pytest.mark.integration

STORY = (
    "recovery opened: SUP-1 (sev1)",
    "subtask SUP-2: KNOW",
    "subtask SUP-3: HAVE",
    "subtask SUP-4: DO",
    "reply threaded",
    "WARNING sent: first_contact on SUP-1",
    "BREACH alert sent to ops: first_contact on SUP-1",
    "client update logged on SUP-1",
    "resolution seen on SUP-1",
    "follow-up task created: SUP-5 for SUP-1",
    "Recovery report",
    "Where to look",
)


@pytest.mark.parametrize("dialect", ["cloud", "datacenter"])
def test_demo_tells_the_lifecycle_in_order(
    dialect: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each decision and action appears once, in the order the lifecycle runs, within a minute."""
    started = time.monotonic()
    assert main(["demo", "--dialect", dialect, "--workdir", str(tmp_path)]) == 0
    assert time.monotonic() - started < 60

    out = capsys.readouterr().out
    positions = [out.find(line) for line in STORY]
    assert -1 not in positions, [line for line, at in zip(STORY, positions, strict=True) if at < 0]
    assert positions == sorted(positions)
    assert out.count("recovery opened") == 1
    assert "not_complaint" in out
    assert out.count("skipped") == 2
    assert (tmp_path / "jira.json").is_file()
    # It ends with where to look: the sandbox's issues and the report, on the demo's own files.
    assert f"recovery-worker sandbox --dialect {dialect} --data {tmp_path / 'jira.json'}" in out
    assert f"recovery-worker report --config {tmp_path / 'demo.toml'}" in out


def test_report_after_the_demo_reads_the_same_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The report command pointed at the demo's settings counts the demo's recovery."""
    assert main(["demo", "--workdir", str(tmp_path)]) == 0
    capsys.readouterr()

    assert main(["report", "--config", str(tmp_path / "demo.toml"), "--format", "json"]) == 0

    report = json.loads(capsys.readouterr().out)
    assert report["recoveries"] == 1
    assert report["breaches"] == 1
    assert report["followups"]["waiting"] == 1
