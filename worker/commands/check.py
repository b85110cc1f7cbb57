"""``recovery-worker check``: validate settings and connectivity, print a checklist.

The checklist is all it prints on stdout; log lines, if any, go to stderr. It says
NOT READY whenever ``run`` could do no useful work with these settings: nothing to
read from, nowhere to open recoveries, nobody to own them, or rules it cannot read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from worker.clock import SystemClock
from worker.commands import add_config_option
from worker.core.detection import load_signals
from worker.core.playbook import parse_playbook
from worker.domain.issue import CheckItem
from worker.errors import ConfigurationError, WorkerError
from worker.logs import configure_logging, redact, register_secrets
from worker.mail.imap import ImapInbox
from worker.retry import RetryPolicy
from worker.settings import Settings, load_settings
from worker.store import Store
from worker.store.db import is_store_error
from worker.tracker.jira import JiraTracker

OK, FAILED, SKIPPED = "ok", "FAILED", "skipped"


@dataclass(frozen=True)
class Outcome:
    """The result of one item of the checklist."""

    status: str
    detail: str


Probe = Callable[[Settings], Outcome]


def check_store(settings: Settings) -> Outcome:
    where = settings.store.location()
    try:
        store = Store(settings.store.url)
    except WorkerError as exc:
        return Outcome(FAILED, f"{where}: {exc}")
    try:
        version = store.migrate()
        if not store.ping():
            return Outcome(FAILED, f"{where}: the store does not answer")
        return Outcome(OK, f"{store.engine.dialect.name}, schema version {version}, in {where}")
    except WorkerError as exc:
        return Outcome(FAILED, f"{where}: {exc}")
    except Exception as exc:
        if not is_store_error(exc):
            raise
        # Not a database at all (a stray file at that path), or one the driver refuses.
        return Outcome(FAILED, f"{where}: not a usable store: {getattr(exc, 'orig', None) or exc}")
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
    # One attempt: a checklist answers now, it does not wait out an outage.
    tracker = JiraTracker.from_settings(settings.jira, retry=RetryPolicy(attempts=1))
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
    except ConfigurationError as exc:
        return CheckItem("playbook", False, str(exc))
    except (OSError, UnicodeDecodeError) as exc:
        return CheckItem("playbook", False, f"cannot read playbook file {path}: {exc}")
    return CheckItem("playbook", True, f"{path}: {len(playbook.stages)} subtasks")


def check_rules(settings: Settings) -> Outcome:
    """Whether the complaint rules (the configured file, or the shipped one) can be used."""
    path = settings.detection.signals_file
    try:
        signals = load_signals(path)
    except ConfigurationError as exc:
        return Outcome(FAILED, str(exc))
    source = path if path is not None else "signals.toml (built in)"
    model = "model off" if signals.learned is None else f"model {signals.learned.model.source}"
    detail = f"{source}: {len(signals.rules)} rules, {model}"
    ungated = [rule.name for rule in signals.rules if not rule.pattern.gated]
    if ungated:  # works, but costs every mail a full try: worth knowing while tuning
        detail += f"; tried in full on every mail (no words to look for): {', '.join(ungated)}"
    return Outcome(OK, detail)


def check_sources(settings: Settings) -> Outcome:
    """Whether run has anything to read complaints from."""
    sources = []
    if settings.imap.host:
        sources.append(f"IMAP {settings.imap.host}")
    if settings.maildir.path is not None:
        sources.append(f"Maildir {settings.maildir.path}")
    if settings.jira.url and settings.jira.watch_projects:
        sources.append(f"Jira projects {', '.join(settings.jira.watch_projects)}")
    if not sources:
        return Outcome(
            FAILED,
            "nothing to read complaints from: set imap.host or maildir.path "
            "(or jira.watch_projects with jira.url)",
        )
    return Outcome(OK, ", ".join(sources))


def check_destination(settings: Settings) -> Outcome:
    """Whether run has somewhere to open recoveries."""
    jira = settings.jira
    if not jira.url:
        return Outcome(
            FAILED,
            "nowhere to open recoveries: set jira.url, jira.project and the Jira credentials",
        )
    if not jira.project.strip():
        return Outcome(FAILED, "jira.project is empty: recoveries need a project key")
    # The credentials are the Jira line's to judge: it uses them.
    return Outcome(OK, f"Jira project {jira.project}, issue type {jira.issue_type}")


def check_owners(settings: Settings) -> Outcome:
    """Whether a new recovery gets somebody to own it."""
    jira = settings.jira
    if not jira.owners and not jira.default_owner:
        return Outcome(
            FAILED,
            "no owner for new recoveries: set jira.default_owner, and jira.owners per "
            "client domain where another person is the point of contact",
        )
    if not jira.default_owner:
        return Outcome(
            OK,
            f"{len(jira.owners)} client domain(s); mail from any other domain gets no owner "
            "(set jira.default_owner)",
        )
    if jira.owners:
        return Outcome(
            OK, f"{len(jira.owners)} client domain(s) mapped, {jira.default_owner} for the rest"
        )
    return Outcome(OK, f"{jira.default_owner} for every client")


PROBES: tuple[tuple[str, Probe], ...] = (
    ("state store", check_store),
    ("IMAP inbox", check_imap),
    ("Maildir inbox", check_maildir),
    ("Jira", check_jira),
    ("rules", check_rules),
    ("complaint sources", check_sources),
    ("recoveries", check_destination),
    ("owners", check_owners),
)


def run_checks(
    settings: Settings, probes: tuple[tuple[str, Probe], ...] = PROBES
) -> list[tuple[str, Outcome]]:
    """Run every probe; a probe that raises is a failed item, never a crash."""
    results = []
    for name, probe in probes:
        try:
            outcome = probe(settings)
        except (WorkerError, OSError) as exc:
            outcome = Outcome(FAILED, f"{type(exc).__name__}: {exc}")
        except ValueError as exc:
            # An unreadable *_file secret is found only when the secret is read.
            outcome = Outcome(FAILED, str(exc))
        results.append((name, outcome))
    return results


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate settings and connectivity",
        description=(
            "Validate the settings, then connect to the state store, the inbox and Jira, read "
            "the rules and the playbook, and print a checklist. It fails when `run` could do "
            "no useful work: nothing to read from, nowhere to open recoveries, no owner for "
            "them. Exits 0 when nothing failed, 1 when something did, 2 on invalid settings."
        ),
    )
    add_config_option(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    # Failures are the checklist's to report: only errors are logged, and never on stdout.
    configure_logging("error", settings.log.format, stream=sys.stderr)
    register_secrets(settings.secret_values())
    print("[  ok   ] settings are valid")
    failed: list[str] = []
    skipped: list[str] = []
    for name, outcome in run_checks(settings):
        print(f"[{outcome.status:^7}] {name}: {redact(outcome.detail)}")
        if outcome.status == FAILED:
            failed.append(name)
        elif outcome.status == SKIPPED:
            skipped.append(name)
    if failed:
        print(f"verdict: NOT READY ({len(failed)} failed: {', '.join(failed)})")
        return 1
    note = f" ({', '.join(skipped)} not configured)" if skipped else ""
    print(f"verdict: ready{note}")
    return 0
