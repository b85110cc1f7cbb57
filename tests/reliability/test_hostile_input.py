"""Hostile mail read through real Dovecot: bounded in time, memory and bytes, and inert in Jira."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from datetime import timedelta

import pytest

from tests.reliability.exactly_once import settled
from tests.reliability.figures import Figures
from tests.reliability.harness import Deadline, Rig, recovery_issues, wait_until
from tests.reliability.hostile import (
    HOSTILE,
    Hostile,
    adf_problems,
    many_recipients,
    wiki_problems,
)
from tests.support.dovecot import CountingProxy, Dovecot, plain_settings
from worker.domain.document import document, paragraph
from worker.errors import MessageUnparseable
from worker.mail.imap import ImapInbox
from worker.mail.parse import parse_message
from worker.sandbox import Dialect
from worker.tracker.markup import to_adf, to_wiki

pytestmark = pytest.mark.integration

TABLE = "hostile input: IMAP adapter and parser"


@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
def test_hostile_mail_is_read_within_bounds_and_rendered_inert(
    dovecot: Dovecot, figures: Figures, hostile: Hostile
) -> None:
    """Fetching and parsing the mail stays within its time, memory and wire budget."""
    raw = hostile.build("H1")
    uid = dovecot.append(raw)
    proxy = CountingProxy((dovecot.host, dovecot.imap_port))
    settings = plain_settings(dovecot, port=proxy.port, timeout=timedelta(seconds=10))
    inbox = ImapInbox(settings)
    try:
        tracemalloc.start()
        started = time.perf_counter()
        (fetched,) = inbox.fetch_since("INBOX", 0)
        try:
            parsed = parse_message(
                fetched.raw,
                attachments=fetched.attachments,
                max_text_bytes=settings.max_text_bytes,
            )
        except MessageUnparseable:
            parsed = None
        text = "" if parsed is None else f"{parsed.subject}\n{parsed.sender.name}\n{parsed.text}"
        body = document(paragraph(text))
        wiki, adf = to_wiki(body), to_adf(body)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        inbox.close()
        wire = proxy.to_client
        proxy.close()

    figures.note(
        TABLE,
        **{
            f"{hostile.name}: seconds": seconds,
            f"{hostile.name}: peak MiB": peak / 2**20,
            f"{hostile.name}: bytes from the server": wire,
        },
    )
    figures.count(messages=1)
    assert fetched.uid == uid
    assert seconds < hostile.max_seconds
    assert peak < hostile.max_peak_bytes
    if hostile.max_wire_bytes is not None:
        assert wire < hostile.max_wire_bytes, f"{wire} bytes fetched for a {len(raw)} byte mail"
    assert parsed is not None, "a hostile but well-formed mail must still be read"
    assert "H1" in f"{parsed.subject} {parsed.text}"
    assert "\r" not in parsed.subject
    assert "\n" not in parsed.subject
    assert "\n" not in parsed.sender.name
    assert not {"bcc", "x-injected"} & set(parsed.headers)
    assert all("evil.test" not in a.email for a in parsed.reply_to)
    assert len(parsed.to) <= 100
    assert wiki_problems(wiki) == []
    assert adf_problems(adf) == []


def test_a_huge_address_header_keeps_the_mails_identity(dovecot: Dovecot) -> None:
    """Subject and Message-ID after 10,000 recipients still reach the parser."""
    dovecot.append(many_recipients("H2"))
    inbox = ImapInbox(
        plain_settings(dovecot, port=dovecot.imap_port, timeout=timedelta(seconds=10))
    )
    try:
        (fetched,) = inbox.fetch_since("INBOX", 0)
    finally:
        inbox.close()
    parsed = parse_message(fetched.raw)
    assert "H2" in parsed.subject
    assert parsed.message_id is not None


@pytest.mark.parametrize("dialect", ["cloud", "datacenter"])
def test_hostile_mail_through_the_worker_arrives_inert_in_jira(
    make_rig: Callable[..., Rig], figures: Figures, dialect: Dialect
) -> None:
    """Every hostile mail is decided by the running worker; what reaches Jira is inert text."""
    deadline = Deadline(120)
    rig = make_rig(dialect)
    proxy = CountingProxy((rig.dovecot.host, rig.dovecot.imap_port))
    rig.write_config(imap={"port": proxy.port})
    raws = [h.build(f"H{n}") for n, h in enumerate(HOSTILE)]
    try:
        rig.worker.start_and_wait()
        baseline = rig.worker.peak_memory()
        proxy.reset_counts()
        for raw in raws:
            rig.dovecot.append(raw)
        wait_until(
            lambda: len(rig.decisions()) == len(raws), deadline.left() - 30, "every mail decided"
        )
        wait_until(lambda: settled(rig), deadline.left() - 10, "the worker settles", interval=0.5)
        peak = rig.worker.peak_memory()
        code, _ = rig.worker.terminate()
    finally:
        wire = proxy.to_client
        proxy.close()
    tickets = [i for i in recovery_issues(rig.sandbox) if "recovery" in i["labels"]]
    problems = {
        t["key"]: wiki_problems(t["description"] or "")
        if dialect == "datacenter"
        else adf_problems(t["description"])
        for t in tickets
    }
    comments = [c for t in tickets for c in rig.sandbox.state.comments(t["key"])]
    figures.note(
        f"hostile input through the worker ({dialect})",
        mails=len(raws),
        mail_bytes=sum(len(r) for r in raws),
        bytes_from_imap=wire,
        recovery_tickets=len(tickets),
        worker_peak_rss_growth_MiB=(peak - baseline) / 2**20,
    )
    figures.count(runs=rig.worker.runs, terminations=1, messages=len(raws))
    assert code == 0
    assert tickets, "no hostile complaint opened a recovery: the check below saw nothing"
    assert all(not p for p in problems.values()), problems
    for comment in comments:
        body = comment.get("body")
        assert (wiki_problems(body) if isinstance(body, str) else adf_problems(body)) == []
    assert wire < 2 * 1024 * 1024, f"{wire} bytes read for {sum(len(r) for r in raws)} of mail"
    assert peak - baseline < 150 * 2**20
