"""The reliability harness: real Dovecot, a Jira sandbox, and `recovery-worker run` as a process.

The worker runs exactly as in production, from a TOML file, in a subprocess that the tests
kill, stop and restart. What it did is read from the outside: the sandbox's issues, the
store's SQLite file, the alert webhook receiver, and the JSON log lines it printed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, TypeVar

from tests.support.dovecot import USER, Dovecot, free_port
from tests.support.webhooks import WebhookReceiver
from worker.sandbox import Exchange, ExchangeHook, RunningSandbox

T = TypeVar("T")

#: Seconds a worker gets to start serving before a test gives up on it.
START_TIMEOUT = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Timeout(AssertionError):
    """A condition a test waited for did not come true before its deadline."""


def wait_until(
    condition: Callable[[], T | None],
    timeout: float,
    what: str,
    *,
    interval: float = 0.05,
    ignoring: tuple[type[BaseException], ...] = (),
) -> T:
    """Poll `condition` until it returns something truthy; fail with `what` at the deadline.

    Exceptions of the `ignoring` types count as "not yet" (a port not listening yet).
    """
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            value = condition()
        except ignoring as exc:
            last, value = exc, None
        if value:
            return value
        if time.monotonic() > deadline:
            raise Timeout(f"not within {timeout:.0f}s: {what} (last error: {last!r})")
        time.sleep(interval)  # polling with a deadline, not waiting for a result


class Deadline:
    """A whole test's time budget, checked between its phases."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def check(self, phase: str) -> None:
        if self.left() < 0:
            raise Timeout(f"the test ran over its {self.seconds:.0f}s budget during {phase}")


# --- TOML --------------------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value))  # a JSON string is a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        pairs = (f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def to_toml(sections: Mapping[str, Mapping[str, Any]]) -> str:
    """Settings sections as TOML tables (values: scalars, lists and inline tables)."""
    lines: list[str] = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
        lines.append("")
    return "\n".join(lines)


def merge(base: dict[str, dict[str, Any]], extra: Mapping[str, Mapping[str, Any]]) -> None:
    """Merge settings sections into `base`, key by key."""
    for section, values in extra.items():
        base.setdefault(section, {}).update(values)


# --- the Jira side -------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One answered Jira call as the sandbox saw it, with when it arrived."""

    at: float  # time.monotonic() at arrival: a late answer does not make a call look recent
    name: str  # "POST /rest/api/3/issue"
    status: int
    accepted: bool


@dataclass
class CallLog:
    """An exchange hook that keeps a timed log of every call, then hands it to the next hook."""

    then: ExchangeHook | None = None
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, exchange: Exchange) -> None:
        if exchange.template is not None:
            name = f"{exchange.method} {exchange.template}"
            with self._lock:
                at = exchange.received_at or time.monotonic()
                self.calls.append(Call(at, name, exchange.status, exchange.accepted))
        if self.then is not None:
            self.then(exchange)

    def snapshot(self) -> list[Call]:
        with self._lock:
            return list(self.calls)


def rich_text(value: Any) -> str:
    """The plain text of a description or comment: wiki markup as is, ADF's text nodes joined."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text":
                parts.append(str(node.get("text", "")))
            for child in node.get("content", []) or []:
                walk(child)
            if node.get("type") in ("paragraph", "heading", "listItem", "codeBlock"):
                parts.append("\n")
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(value)
    return "".join(parts)


def adf_text_nodes(value: Any) -> list[dict[str, Any]]:
    """Every node of an ADF document whose type is not a container of text."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            found.append(node)
            for child in node.get("content", []) or []:
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(value)
    return found


def recovery_issues(sandbox: RunningSandbox, project: str = "SUP") -> list[dict[str, Any]]:
    """Issues of the project that are not subtasks (recoveries, follow-ups), as stored."""
    with sandbox.state.lock:
        return [
            dict(i)
            for i in sandbox.state.issues.values()
            if i["project"] == project and not i.get("parent")
        ]


def subtasks_of(sandbox: RunningSandbox, issue: Mapping[str, Any]) -> list[dict[str, Any]]:
    with sandbox.state.lock:
        return [
            dict(i)
            for i in sandbox.state.issues.values()
            if i.get("parent") in (issue["id"], issue["key"])
        ]


def issue_text(issue: Mapping[str, Any]) -> str:
    """Summary and description of a stored issue as plain text."""
    return f"{issue.get('summary') or ''}\n{rich_text(issue.get('description'))}"


# --- the worker process ------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a live process, from /proc/PID/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces; the fields after its closing parenthesis are fixed.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def memory_bytes(pid: int, field: str = "VmHWM") -> int:
    """A memory figure of a live process: VmHWM is its peak resident size, VmRSS the current."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _clean_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOVERY_WORKER_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


class WorkerProcess:
    """`recovery-worker run --config FILE` in a subprocess, with its output kept in files.

    Every run appends to the same stdout and stderr files, so the log of the whole test,
    across kills and restarts, can be read at the end.
    """

    def __init__(self, config: Path, workdir: Path, *, command: str = "run") -> None:
        self.config = config
        self.workdir = workdir
        self.command = command
        self.stdout_path = workdir / "worker.stdout"
        self.stderr_path = workdir / "worker.stderr"
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0
        self.kills = 0
        self.terminations: list[tuple[int, float]] = []  # (exit code, seconds)

    @property
    def pid(self) -> int:
        assert self.process is not None, "the worker is not running"
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, *extra: str) -> None:
        """Start a run; returns at once (use wait_for_event to know it is serving)."""
        assert not self.alive(), "the worker is already running"
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "worker",
                    self.command,
                    "--config",
                    str(self.config),
                    *extra,
                ],
                cwd=self.workdir,
                env=_clean_environment(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        self.runs += 1

    def start_and_wait(self, event: str = "worker.started", timeout: float = START_TIMEOUT) -> None:
        """Start a run and wait until it logs `event` (from this run)."""
        before = len(self.events())
        self.start()
        self.wait_for_event(event, timeout, after=before)

    def wait_for_event(
        self, event: str, timeout: float, *, after: int = 0, **fields: Any
    ) -> dict[str, Any]:
        """Wait until an event (with these fields) is logged, looking at events after `after`."""

        def found() -> dict[str, Any] | None:
            for item in self.events()[after:]:
                if item.get("event") == event and all(item.get(k) == v for k, v in fields.items()):
                    return item
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(
                    f"the worker exited ({self.process.returncode}) before {event}:\n"
                    + self.output()[-3000:]
                )
            return None

        return wait_until(found, timeout, f"worker logs {event} {fields or ''}")

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to clean up."""
        if self.alive():
            assert self.process is not None
            self.process.kill()
            self.process.wait(timeout=10)
            self.kills += 1

    def terminate(self, timeout: float = 10.0) -> tuple[int, float]:
        """SIGTERM, then wait up to `timeout`; return the exit code and the seconds it took."""
        assert self.process is not None, "the worker was never started"
        assert self.alive(), "the worker is not running"
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise AssertionError(f"the worker did not exit within {timeout}s of SIGTERM") from None
        result = (code, time.monotonic() - started)
        self.terminations.append(result)
        return result

    def wait_exit(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def peak_memory(self) -> int:
        return memory_bytes(self.pid)

    def stop(self) -> None:
        """End the run at the end of a test, whatever state it is in."""
        if self.alive():
            with contextlib.suppress(AssertionError):
                self.terminate(timeout=10)
        if self.alive():
            self.kill()

    def output(self) -> str:
        """Everything the worker printed so far, stdout then stderr."""
        out = self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""
        err = self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""
        return out + err

    def events(self) -> list[dict[str, Any]]:
        """The JSON log events printed so far, across every run, in order."""
        if not self.stdout_path.exists():
            return []
        found = []
        for line in self.stdout_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    found.append(json.loads(line))
        return found


# --- the whole rig -----------------------------------------------------------------------


@dataclass
class Rig:
    """Dovecot, a sandbox, a webhook receiver, and one worker configured against all three."""

    workdir: Path
    dovecot: Dovecot
    sandbox: RunningSandbox
    calls: CallLog
    webhook: WebhookReceiver
    settings: dict[str, dict[str, Any]]
    worker: WorkerProcess = field(init=False)

    def __post_init__(self) -> None:
        self.worker = WorkerProcess(self.config_path, self.workdir)
        self.write_config()

    @property
    def config_path(self) -> Path:
        return self.workdir / "recovery-worker.toml"

    @property
    def store_path(self) -> Path:
        return self.workdir / "state.db"

    @property
    def health_url(self) -> str:
        health = self.settings["health"]
        return f"http://{health['host']}:{health['port']}"

    def write_config(self, **overrides: Mapping[str, Any]) -> None:
        """(Re)write the worker's TOML file, with sections merged from `overrides`."""
        merge(self.settings, overrides)
        self.config_path.write_text(to_toml(self.settings), encoding="utf-8")

    def store_rows(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        """Rows from the worker's store, read-only (the worker may be running)."""
        if not self.store_path.exists():
            return []
        conn = sqlite3.connect(f"file:{self.store_path}?mode=ro", uri=True, timeout=10)
        try:
            return list(conn.execute(query, args))
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise
        finally:
            conn.close()

    def decisions(self) -> dict[str, int]:
        """Decisions per message key in the store (each must be exactly one)."""
        rows = self.store_rows("SELECT key, COUNT(*) FROM messages GROUP BY key")
        return {str(key): int(n) for key, n in rows}

    def decided_message_ids(self) -> set[str]:
        return {r[0] for r in self.store_rows("SELECT message_id FROM messages") if r[0]}


# --- what the worker did, read from the outside ------------------------------------------


def decided(rig: Rig) -> int:
    """How many mails have a recorded decision, each counted once."""
    rows = rig.store_rows("SELECT COUNT(DISTINCT key) FROM messages")
    return int(rows[0][0]) if rows else 0


def more_than(rig: Rig, count: int) -> Callable[[], bool]:
    """A condition: more than `count` mails are decided."""
    return lambda: decided(rig) > count


def inbox_failures(rig: Rig) -> int:
    """How often the worker has noticed the mail server gone (a failed poll or IDLE)."""
    return sum(
        1
        for e in rig.worker.events()
        if e.get("event") == "inbox.idle.interrupted"
        or (e.get("event") == "worker.step.transient_failure" and e.get("step") == "inbox.imap")
    )


def noticed(rig: Rig, failures: int) -> Callable[[], bool]:
    """A condition: the worker has noticed the server gone since `failures` were counted."""
    return lambda: inbox_failures(rig) > failures


WEBHOOK_SECRET = "rw-webhook-signing-key-5d1e8a"
SEVERITIES = ("sev1", "sev2", "sev3")
#: Deadlines short enough to be missed during a test, on a calendar that never closes.
FAST_POLICY = {"first_contact": "20s", "update_every": "1m", "resolution": "1h", "calendar": "24x7"}


def worker_settings(
    workdir: Path, dovecot: Dovecot, sandbox: RunningSandbox, webhook: WebhookReceiver
) -> dict[str, dict[str, Any]]:
    """The worker's settings for the rig: everything on 127.0.0.1, short intervals, JSON logs."""
    return {
        "store": {"url": f"sqlite:///{workdir / 'state.db'}"},
        "imap": {
            "host": dovecot.host,
            "port": dovecot.imap_port,
            "security": "plain",
            "username": dovecot.user,
            "password": dovecot.password,
            "timeout": "5s",
            "poll_interval": "1s",
            "idle_renew": "30s",
        },
        "jira": {
            "url": sandbox.url,
            "dialect": sandbox.dialect,
            **sandbox.credentials,
            "project": "SUP",
            "default_owner": "alice" if sandbox.dialect == "datacenter" else "",
            "poll_interval": "1s",
            "connect_timeout": "2s",
            "read_timeout": "5s",
            # Longer than the sandbox's search lag and a slow write's landing, shorter than a
            # test's patience.
            "visibility_window": "15s",
        },
        "detection": {"own_addresses": [USER]},
        "alerts": {
            "webhook_url": webhook.url,
            "webhook_secret": WEBHOOK_SECRET,
            "webhook_timeout": "5s",
            "warn_at": 0.5,
            "jira_comment": False,
        },
        "sla": {"policies": {severity: dict(FAST_POLICY) for severity in SEVERITIES}},
        "health": {"host": "127.0.0.1", "port": free_port()},
        "loop": {"sweep_interval": "1s", "max_backoff": "5s", "shutdown_grace": "5s"},
        "log": {"level": "info", "format": "json"},
    }


@contextlib.contextmanager
def rig(
    workdir: Path,
    dovecot: Dovecot,
    sandbox: RunningSandbox,
    calls: CallLog,
    **overrides: Mapping[str, Any],
) -> Iterator[Rig]:
    """A rig whose worker is stopped, and whose webhook receiver is closed, at the end."""
    webhook = WebhookReceiver()
    settings = worker_settings(workdir, dovecot, sandbox, webhook)
    merge(settings, overrides)
    made = Rig(workdir, dovecot, sandbox, calls, webhook, settings)
    try:
        yield made
    finally:
        made.worker.stop()
        webhook.close()


# --- mail ----------------------------------------------------------------------------------

ANGRY = (
    "This is unacceptable. Your service has been down for three days and nobody answers. "
    "I am furious, I want a refund and I will cancel our contract if this is not fixed today."
)


def complaint(
    token: str,
    *,
    sender: str | None = None,
    name: str = "Dana Client",
    subject: str | None = None,
    body: str = ANGRY,
    date: datetime | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    headers: Mapping[str, str] = {},
) -> tuple[bytes, str]:
    """A complaint mail carrying `token` in subject and body; returns it and its Message-ID."""
    msg = EmailMessage()
    address = sender or f"{token.lower()}@client-{token.lower()}.test"
    msg["From"] = f"{name} <{address}>"
    msg["To"] = USER
    msg["Subject"] = subject if subject is not None else f"Outage again, case {token}"
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    mid = message_id or make_msgid(idstring=token.lower(), domain="client.test")
    msg["Message-ID"] = mid
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    for key, value in headers.items():
        msg[key] = value
    msg.set_content(f"{body}\n\nReference: case {token}\n")
    return bytes(msg), mid
