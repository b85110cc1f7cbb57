"""``recovery-worker check``: validate settings and connectivity, print a checklist."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from worker.clock import SystemClock
from worker.commands import add_config_option
from worker.core.playbook import parse_playbook
from worker.errors import ConfigurationError, WorkerError
from worker.mail.imap import ImapInbox
from worker.retry import RetryPolicy
from worker.settings import Settings, load_settings
from worker.store import Store
from worker.tracker.base import CheckItem
from worker.tracker.jira import JiraTracker

OK, FAILED, SKIPPED = "ok", "FAILED", "skipped"


@dataclass(frozen=True)
class Outcome:
    """The result of one item of the checklist."""

    status: str
    detail: str


Probe = Callable[[Settings], Outcome]


def check_store(settings: Settings) -> Outcome:
    store = Store(settings.store.url)
    try:
        version = store.migrate()
        if not store.ping():
            return Outcome(FAILED, "the store does not answer")
        return Outcome(OK, f"{store.engine.dialect.name}, schema version {version}")
    finally:
        store.close()


def check_imap(settings: Settings) -> Outcome:
    if not settings.imap.host:
        return Outcome(SKIPPED, "imap.host is not set; the IMAP inbox is off")
    inbox = ImapInbox.from_settings(settings.imap, SystemClock())
    try:
        return Outcome(OK, inbox.check())
    finally:
        inbox.close()


def check_maildir(settings: Settings) -> Outcome:
    path = settings.maildir.path
    if path is None:
        return Outcome(SKIPPED, "maildir.path is not set; the Maildir inbox is off")
    missing = [sub for sub in ("new", "cur", "tmp") if not (path / sub).is_dir()]
    if missing:
        return Outcome(FAILED, f"{path} is not a Maildir (missing {', '.join(missing)})")
    return Outcome(OK, f"{path} is a Maildir")


def check_jira(settings: Settings) -> Outcome:
    if not settings.jira.url:
        return Outcome(SKIPPED, "jira.url is not set; recoveries cannot be opened")
    # One quick retry at most: a checklist should answer, not wait out a long outage.
    tracker = JiraTracker.from_settings(settings.jira, retry=RetryPolicy(attempts=2, max_wait=5))
    wanted = [settings.jira.issue_type, settings.jira.followup_issue_type]
    items = tracker.check(
        settings.jira.project, list(dict.fromkeys(wanted)), settings.jira.subtask_type
    )
    if settings.jira.playbook_file is not None:
        items.append(check_playbook(settings.jira.playbook_file))
    failed = [item for item in items if not item.ok]
    shown = failed or items
    detail = "; ".join(f"{item.name}: {item.detail}" for item in shown)
    return Outcome(FAILED if failed else OK, detail)


def check_playbook(path: Path) -> CheckItem:
    """Whether the configured playbook file reads as KNOW, HAVE and DO."""
    try:
        playbook = parse_playbook(path.read_text(encoding="utf-8"), str(path))
    except (ConfigurationError, OSError, UnicodeDecodeError) as exc:
        return CheckItem("playbook", False, str(exc))
    return CheckItem("playbook", True, f"{path}: {len(playbook.stages)} subtasks")


PROBES: tuple[tuple[str, Probe], ...] = (
    ("state store", check_store),
    ("IMAP inbox", check_imap),
    ("Maildir inbox", check_maildir),
    ("Jira", check_jira),
)


def run_checks(
    settings: Settings, probes: tuple[tuple[str, Probe], ...] = PROBES
) -> list[tuple[str, Outcome]]:
    """Run every probe; a probe that raises is a failed item, never a crash."""
    results = []
    for name, probe in probes:
        try:
            outcome = probe(settings)
        except WorkerError as exc:
            outcome = Outcome(FAILED, f"{type(exc).__name__}: {exc}")
        except OSError as exc:
            outcome = Outcome(FAILED, f"{type(exc).__name__}: {exc}")
        results.append((name, outcome))
    return results


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate settings and connectivity",
        description=(
            "Validate the settings, then connect to the state store, the inbox and Jira and print "
            "a checklist. Exits 0 when nothing failed, 1 when something did, 2 on invalid settings."
        ),
    )
    add_config_option(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    print("[  ok   ] settings are valid")
    results = run_checks(settings)
    for name, outcome in results:
        print(f"[{outcome.status:^7}] {name}: {outcome.detail}")
    failed = [name for name, outcome in results if outcome.status == FAILED]
    if failed:
        print(f"verdict: NOT READY ({len(failed)} failed: {', '.join(failed)})")
        return 1
    skipped = [name for name, outcome in results if outcome.status == SKIPPED]
    note = f" ({', '.join(skipped)} not configured)" if skipped else ""
    print(f"verdict: ready{note}")
    return 0
