"""`recovery-worker run --local`: the real service on embedded defaults, until Ctrl-C."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path

import pytest
import requests

from worker.cli import main
from worker.clock import SystemClock

MAILS = Path(__file__).resolve().parents[2] / "worker" / "demo" / "mails"
DEADLINE = 30.0


@dataclass
class Running:
    """A `run --local` process and the lines it has printed so far."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str]
    seen: list[str] = field(default_factory=list)

    def line_with(self, text: str) -> str:
        """The first printed line holding ``text``, waiting for it up to the deadline."""
        until = time.monotonic() + DEADLINE
        while True:
            for line in self.seen:
                if text in line:
                    return line
            left = until - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line with {text!r} in:\n" + "".join(self.seen))
            try:
                self.seen.append(self.lines.get(timeout=left))
            except queue.Empty:
                continue

    def value(self, label: str) -> str:
        """What a first line says after ``label``: a folder or a URL."""
        return self.line_with(label).split(label, 1)[1].split()[0]

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=DEADLINE)


@contextmanager
def run_local(folder: Path, state: Path) -> Iterator[Running]:
    """Start `run --local --local-dir folder` with its state directory elsewhere."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RECOVERY_WORKER_")}
    environment["XDG_STATE_HOME"] = str(state)
    process = subprocess.Popen(
        [sys.executable, "-m", "worker", "run", "--local", "--local-dir", str(folder)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    assert stdout is not None

    def read() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        yield Running(process, lines)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=DEADLINE)


def poll(check: Callable[[], bool], what: str) -> None:
    """Wait until ``check`` holds, up to the deadline."""
    until = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > until:
            raise AssertionError(f"not within {DEADLINE:.0f} s: {what}")
        time.sleep(0.2)


def page(url: str) -> str:
    response = requests.get(url, timeout=5)
    assert response.status_code == 200
    return response.text


@pytest.mark.integration
def test_a_dropped_mail_becomes_a_recovery_on_the_page_and_ctrl_c_stops_cleanly(
    tmp_path: Path,
) -> None:
    """The first lines name the inbox and the page; a mail dropped in becomes a recovery with
    its subtasks; Ctrl-C exits 0; a second start finds the same issues."""
    folder = tmp_path / "local"
    state = tmp_path / "state"
    with run_local(folder, state) as running:
        inbox = Path(running.value("drop .eml files into:"))
        url = running.value("issues in Jira:")
        health = running.value("health:")
        assert inbox == folder / "inbox" / "new"
        assert inbox.is_dir()
        assert "No issues yet." in page(url)
        assert requests.get(health, timeout=5).status_code in (200, 503)
        assert running.seen.index(running.line_with("drop .eml")) < 3  # among the first lines

        raw = (MAILS / "01-angry-client.eml").read_bytes()
        dated = raw.replace(
            b"Date: Mon, 02 Mar 2026 08:12:00 +0000",
            f"Date: {format_datetime(SystemClock().now())}".encode(),
        )
        (inbox.parent / "tmp" / "angry.eml").write_bytes(dated)
        (inbox.parent / "tmp" / "angry.eml").rename(inbox / "angry.eml")

        poll(lambda: "Subtasks (3)" in page(url), "the recovery and its subtasks on the page")
        shown = page(url)
        assert "Recovery: Third outage this month - this is unacceptable" in shown
        assert "Alice Martin" in shown  # the embedded default owner
        poll(lambda: not any(inbox.iterdir()), "the mail filed out of new/")
        assert running.stop() == 0
    assert running.line_with("worker.stopped")
    assert running.line_with("recovery.opened")
    assert (folder / "state.db").is_file()
    assert not state.exists()  # --local-dir keeps everything in the named folder

    with run_local(folder, state) as again:
        shown = page(again.value("issues in Jira:"))
        assert "Recovery: Third outage this month - this is unacceptable" in shown
        assert again.stop() == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--local", "--config", "x.toml"], "reads no --config"),
        (["run", "--local-dir", "x"], "--local-dir is for run --local"),
    ],
)
def test_local_options_that_do_not_fit_are_refused(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_local_and_dry_run_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--local", "--dry-run"])
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.integration
def test_the_default_folder_is_under_the_state_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """One pass of --local --once (no signal handling needed) creates the folder it names."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert main(["run", "--local", "--once"]) == 0
    folder = tmp_path / "state" / "recovery-worker" / "local"
    out = capsys.readouterr().out
    assert f"drop .eml files into:  {folder / 'inbox' / 'new'}" in out
    assert (folder / "inbox" / "new").is_dir()
    assert (folder / "state.db").is_file()
