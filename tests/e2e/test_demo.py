"""`recovery-worker demo`: the whole lifecycle, told in order, on embedded defaults."""

from __future__ import annotations

import json
import os
import queue
import shlex
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests

from worker.cli import main

pytestmark = pytest.mark.integration

STORY = (
    "mail <demo-angry-0001@northwind-legal.example>: recovery (complaint), sev1",
    'why: strong-dissatisfaction +3.0 ("unacceptable")',
    "recovery opened: SUP-1 (sev1)",
    "subtask SUP-2: KNOW",
    "subtask SUP-3: HAVE",
    "subtask SUP-4: DO",
    "reply threaded",
    "WARNING sent: first_contact on SUP-1",
    "BREACH alert sent to ops: first_contact on SUP-1",
    "client update logged on SUP-1",
    "the time read from that promise: next update by ",
    "resolution seen on SUP-1",
    "follow-up task created: SUP-5 for SUP-1",
    "the client writes again: the portal is down again",
    "complaint after resolution: SUP-1 moved out of Done",
    "recovery SUP-1 reopened (reopen 1), clocks running again; follow-up on hold",
    "SUP-1 is To Do again",
    "Recovery report",
    "Where to look",
)


def hint(out: str, label: str) -> list[str]:
    """The command printed after ``label`` in the closing hints, as an argument list."""
    line = next(line for line in out.splitlines() if line.strip().startswith(label))
    return shlex.split(line.split(label, 1)[1])


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
    browse = hint(out, "browse the Jira:")
    assert browse[1:] == ["sandbox", "--dialect", dialect, "--data", str(tmp_path / "jira.json")]
    report = hint(out, "the report:")
    assert report[1:] == ["report", "--config", str(tmp_path / "demo.toml")]


def test_the_closing_hints_work_as_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run from another directory, the printed commands start the sandbox with the demo's
    issues on a read-only page, and report on the demo's store."""
    assert main(["demo", "--workdir", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RECOVERY_WORKER_")}
    environment["PATH"] = "/usr/bin:/bin"  # the venv's bin/ is not on it: the path must be full

    report = hint(out, "the report:")
    assert Path(report[0]).is_absolute()
    done = subprocess.run(
        report,
        check=False,
        cwd=elsewhere,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Recoveries opened: 1" in done.stdout
    assert "Recoveries reopened:   1" in done.stdout

    browse = hint(out, "browse the Jira:")
    assert "then open the URL it prints: a read-only page of the issues" in out
    server = subprocess.Popen(
        browse, cwd=elsewhere, env=environment, stdout=subprocess.PIPE, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    stdout = server.stdout
    assert stdout is not None

    def read() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        first = lines.get(timeout=30)  # "Jira sandbox (cloud) at http://127.0.0.1:PORT"
        url = first.split(" at ", 1)[1].strip()
        page = requests.get(url, timeout=5)
        assert page.status_code == 200
        assert page.headers["Content-Type"].startswith("text/html")
        assert "Recovery: Third outage this month - this is unacceptable" in page.text
        assert "Subtasks (3)" in page.text
        assert 'id="SUP-5"' in page.text
        assert "followup-on-hold" in page.text
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0


def test_the_temporary_folder_is_removed_unless_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --workdir the demo's folder goes at the end; --keep keeps it and says where."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))

    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert list(temporary.iterdir()) == []
    assert "the demo's files:  removed; " in out
    assert " demo --keep keeps them" in out
    assert "browse the Jira:" not in out

    assert main(["demo", "--keep"]) == 0
    out = capsys.readouterr().out
    (kept,) = temporary.iterdir()
    assert (kept / "jira.json").is_file()
    assert hint(out, "browse the Jira:")[-1] == str(kept / "jira.json")
    assert hint(out, "the report:")[-1] == str(kept / "demo.toml")


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
    # Resolved, followed up, then reopened: the follow-up waits on hold.
    assert report["followups"]["on_hold"] == 1
    assert report["reopened"] == {"recoveries": 1, "reopens": 1}
