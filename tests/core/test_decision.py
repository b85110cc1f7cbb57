"""Decisions: duplicates, noise, threads, Jira keys in subjects, floods, angrier replies."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from worker.core.decision import (
    DecisionPolicy,
    MemoryContext,
    arrival_time,
    decide,
    jira_keys_in,
    sent_time,
    thread_root,
)
from worker.core.detection import Account, Assessment, Detector, load_signals
from worker.domain.decision import DECISIONS, NOT_COMPLAINT, RECOVERY, SKIPPED, THREAD, Decision
from worker.domain.mail import ParsedMail
from worker.mail.parse import parse_message

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANGRY = "This is unacceptable, the portal is still not working."
CALM = "Could you send me the March invoice?"


def mail(
    body: str,
    *,
    mid: str,
    sender: str = "client@customer.example",
    subject: str = "Portal",
    extra: str = "",
) -> ParsedMail:
    raw = (
        f"From: {sender}\r\nTo: support@acme.example\r\nSubject: {subject}\r\n"
        f"Message-ID: <{mid}>\r\n{extra}\r\n{body}\r\n"
    )
    return parse_message(raw.encode())


def date_header(at: datetime) -> str:
    return f"Date: {at:%a, %d %b %Y %H:%M:%S +0000}\r\n"


def run(
    context: MemoryContext,
    detector: Detector,
    parsed: ParsedMail,
    at: datetime = NOW,
    policy: DecisionPolicy | None = None,
    received: datetime | None = None,
) -> Decision:
    decision = decide(parsed, detector, context, at, policy, received=received)
    context.remember(parsed, decision, at, received=received)
    assert decision.decision in DECISIONS
    return decision


def test_complaint_opens_a_recovery_and_a_question_does_not(detector: Detector) -> None:
    context = MemoryContext()
    first = run(context, detector, mail(ANGRY, mid="a@x"))
    assert first.decision == RECOVERY
    assert first.severity is not None
    assert first.thread_root == "a@x"
    other = run(context, detector, mail(CALM, mid="b@x", sender="other@y.example"))
    assert other.decision == NOT_COMPLAINT
    assert other.reason.startswith("score 0 below")


def test_the_same_message_twice_is_skipped(detector: Detector) -> None:
    context = MemoryContext()
    run(context, detector, mail(ANGRY, mid="a@x"))
    # A reply-all / CC copy carries the same Message-ID.
    again = run(context, detector, mail(ANGRY, mid="a@x"))
    assert again.decision == SKIPPED
    assert again.reason.startswith("duplicate")


def test_noise_is_skipped_before_anything_else(detector: Detector) -> None:
    decision = run(MemoryContext(), detector, mail(ANGRY, mid="a@x", extra="Precedence: bulk\r\n"))
    assert decision.decision == SKIPPED
    assert decision.reason == "precedence: bulk"


def test_own_and_ignored_senders_from_the_policy(detector: Detector) -> None:
    policy = DecisionPolicy(own_addresses=["support@acme.example"], ignore_senders=["@ci.example"])
    context = MemoryContext()
    own = run(context, detector, mail(ANGRY, mid="1@x", sender="support@acme.example"), NOW, policy)
    ci = run(context, detector, mail(ANGRY, mid="2@x", sender="bot@ci.example"), NOW, policy)
    assert (own.reason, ci.reason) == (
        "our own address, but not authenticated by the receiving server",
        "ignored sender (@ci.example)",
    )


def test_reply_in_the_thread_joins_the_recovery(detector: Detector) -> None:
    context = MemoryContext()
    run(context, detector, mail(ANGRY, mid="a@x"))
    later = NOW + timedelta(days=2)
    reply = mail(
        CALM, mid="b@x", sender="colleague@customer.example", extra="In-Reply-To: <a@x>\r\n"
    )
    decision = run(context, detector, reply, later)
    assert decision.decision == THREAD
    assert decision.recovery_id == 1
    assert decision.reason == "reply in a recovery's thread"
    deeper = mail(CALM, mid="c@x", extra="References: <a@x> <b@x>\r\nIn-Reply-To: <b@x>\r\n")
    assert run(context, detector, deeper, later).recovery_id == 1
    assert thread_root(deeper) == "a@x"


def test_subject_with_the_jira_key_joins_the_recovery(detector: Detector) -> None:
    context = MemoryContext()
    run(context, detector, mail(ANGRY, mid="a@x"))
    context.jira_keys["SUP-12"] = 1
    later = NOW + timedelta(days=1)
    decision = run(
        context,
        detector,
        mail(CALM, mid="z@x", sender="new@customer.example", subject="Re: [SUP-12] Portal"),
        later,
    )
    assert decision.decision == THREAD
    assert decision.reason == "subject names the recovery's issue SUP-12"
    stranger = mail(ANGRY, mid="s@x", sender="eve@evil.example", subject="[SUP-12] Portal")
    refused = run(context, detector, stranger, later)
    assert (refused.decision, refused.recovery_id) == (RECOVERY, None)
    assert "subject names SUP-12, a recovery of another client: not joined" in refused.reasons
    strict = DecisionPolicy(key_join="address")
    colleague = mail(CALM, mid="y@x", sender="bob@customer.example", subject="[SUP-12] Portal")
    assert run(context, detector, colleague, later, strict).decision == NOT_COMPLAINT
    unknown = mail(ANGRY, mid="q@x", sender="n@d.example", subject="About SUP-99")
    assert run(context, detector, unknown, later).decision == RECOVERY


def test_jira_keys_in_subjects() -> None:
    assert jira_keys_in("Re: [SUP-12] and SUP-12, OPS-7:") == ("SUP-12", "OPS-7")
    assert jira_keys_in("x-SUP-1 SUP-0 sup-3 ABC-12x") == ()


def test_flood_yields_one_recovery_and_the_rest_joins_it(detector: Detector) -> None:
    context = MemoryContext()
    policy = DecisionPolicy(flood_count=3, flood_window=timedelta(minutes=10))
    decisions = [
        run(context, detector, mail(ANGRY, mid=f"{i}@x"), NOW + timedelta(minutes=i), policy)
        for i in range(6)
    ]
    assert [d.decision for d in decisions] == [RECOVERY] + [THREAD] * 5
    assert {d.recovery_id for d in decisions[1:]} == {1}
    assert decisions[4].reason.startswith("flood: 5 mails")


def test_a_flood_of_calm_mail_opens_nothing(detector: Detector) -> None:
    """A chatty sender or a feed writing often is not a complaint: floods never open alone."""
    context = MemoryContext()
    policy = DecisionPolicy(flood_count=3)
    decisions = [
        run(
            context, detector, mail(f"{CALM} {i}", mid=f"{i}@x"), NOW + timedelta(seconds=i), policy
        )
        for i in range(5)
    ]
    assert [d.decision for d in decisions] == [NOT_COMPLAINT] * 5
    assert "repeat-contact not counted (4 earlier, no evidence)" in decisions[4].reasons


def test_repeat_contact_tips_a_mild_complaint_over(detector: Detector) -> None:
    """A third mail about a failure within minutes weighs more than the first one did."""
    context = MemoryContext()
    failing = "The export will not download."
    decisions = [
        run(context, detector, mail(failing, mid=f"{i}@x"), NOW + timedelta(minutes=i))
        for i in range(3)
    ]
    assert [d.decision for d in decisions] == [NOT_COMPLAINT, RECOVERY, THREAD]
    assert "repeat-contact +1.0 (1 earlier)" in decisions[1].reasons


def test_a_key_account_weighs_only_on_a_mail_with_evidence() -> None:
    signals = load_signals()
    account = Account("key account: Northwind", "@northwind.example", 2.0, "sev2")
    keyed = Detector(replace(signals, accounts=(account,)))
    calm = keyed.assess_text(CALM, sender="ann@northwind.example")
    assert not calm.is_complaint
    assert "account not counted (key account: Northwind, no evidence)" in calm.reasons
    mild = keyed.assess_text("The export will not download.", sender="ann@northwind.example")
    assert (mild.is_complaint, mild.severity) == (True, "sev2")


def test_after_the_flood_window_a_new_complaint_opens_a_new_recovery(detector: Detector) -> None:
    context = MemoryContext()
    run(context, detector, mail(ANGRY, mid="a@x"))
    decision = run(context, detector, mail(ANGRY, mid="b@x"), NOW + timedelta(hours=1))
    assert decision.decision == RECOVERY


def test_a_backlog_of_mails_a_day_apart_is_no_flood(detector: Detector) -> None:
    # Read in one go after downtime: decided together, but they arrived days apart.
    context = MemoryContext()
    policy = DecisionPolicy(flood_count=5)
    decided = NOW + timedelta(days=5)
    by_date = [
        run(
            context,
            detector,
            mail(f"{CALM} Order {i}.", mid=f"d{i}@x", extra=date_header(NOW + timedelta(days=i))),
            decided,
            policy,
        )
        for i in range(5)
    ]
    by_internaldate = [
        run(
            context,
            detector,
            mail(f"{CALM} Order {i}.", mid=f"r{i}@x", sender="bob@customer.example"),
            decided,
            policy,
            received=NOW + timedelta(days=i),
        )
        for i in range(5)
    ]
    for decision in (*by_date, *by_internaldate):
        assert decision.decision == NOT_COMPLAINT
        assert not [r for r in decision.reasons if r.startswith("repeat-contact")]


def test_a_backlog_of_mails_minutes_apart_is_still_a_flood(detector: Detector) -> None:
    context = MemoryContext()
    policy = DecisionPolicy(flood_count=5, flood_window=timedelta(minutes=10))
    decided = NOW + timedelta(days=2)
    decisions = [
        run(
            context,
            detector,
            mail(f"{ANGRY} {i}", mid=f"{i}@x"),
            decided,
            policy,
            received=NOW + timedelta(minutes=2 * i),
        )
        for i in range(6)
    ]
    assert [d.decision for d in decisions] == [RECOVERY] + [THREAD] * 5
    assert {d.recovery_id for d in decisions[1:]} == {1}
    assert "repeat-contact +1.0 (1 earlier)" in decisions[1].reasons
    assert decisions[4].reason == "flood: 5 mails within 10 minutes"
    assert decisions[5].reason == "flood: 6 mails within 10 minutes"


def test_a_sender_joins_a_recovery_only_from_mail_that_arrived_in_the_window(
    detector: Detector,
) -> None:
    context = MemoryContext()
    decided = NOW + timedelta(days=3)
    first = run(context, detector, mail(ANGRY, mid="a@x"), decided, received=NOW)
    days_later = run(
        context, detector, mail(ANGRY, mid="b@x"), decided, received=NOW + timedelta(days=2)
    )
    minutes_later = run(
        context,
        detector,
        mail(CALM, mid="c@x"),
        decided,
        received=NOW + timedelta(days=2, minutes=5),
    )
    assert (first.decision, days_later.decision) == (RECOVERY, RECOVERY)
    assert (minutes_later.decision, minutes_later.recovery_id) == (THREAD, 2)
    assert minutes_later.reason == "sender's recovery from the last 10 minutes"


def test_the_arrival_time_of_a_mail() -> None:
    dated = mail(CALM, mid="a@x", extra=date_header(NOW - timedelta(days=1)))
    received = NOW - timedelta(hours=1)
    assert arrival_time(dated, received, NOW) == received
    assert arrival_time(dated, None, NOW) == NOW - timedelta(days=1)
    assert arrival_time(mail(CALM, mid="b@x"), None, NOW) == NOW
    # A sender's clock a little fast is believed; a Date far in the future is not.
    skewed = mail(CALM, mid="c@x", extra=date_header(NOW + timedelta(minutes=5)))
    assert arrival_time(skewed, None, NOW) == NOW + timedelta(minutes=5)
    future = mail(CALM, mid="d@x", extra=date_header(NOW + timedelta(days=3)))
    assert arrival_time(future, None, NOW) == NOW


def test_the_sent_time_of_a_mail_is_its_date_only_when_plausible() -> None:
    def dated(at: datetime) -> ParsedMail:
        return mail(CALM, mid=f"{at.timestamp()}@x", extra=date_header(at))

    received = NOW - timedelta(hours=1)
    assert sent_time(dated(NOW - timedelta(hours=3)), received, NOW) == NOW - timedelta(hours=3)
    # A sender's clock in 1980 or a year behind would have every SLA clock missed at once.
    assert sent_time(dated(datetime(1980, 1, 1, tzinfo=UTC)), received, NOW) == received
    assert sent_time(dated(NOW - timedelta(days=3)), received, NOW) == received
    assert sent_time(dated(NOW + timedelta(days=3)), received, NOW) == received
    # Without the server's arrival time, a backlog read a week late keeps its dates.
    assert sent_time(dated(NOW - timedelta(days=7)), None, NOW) == NOW - timedelta(days=7)
    assert sent_time(dated(NOW - timedelta(days=90)), None, NOW) == NOW
    assert sent_time(mail(CALM, mid="none@x"), None, NOW) == NOW


def test_a_date_past_the_end_of_the_calendar_is_no_date() -> None:
    edge = mail(CALM, mid="edge@x", extra="Date: Fri, 31 Dec 9999 23:59:59 -1400\r\n")
    assert edge.date is None
    assert sent_time(edge, None, NOW) == NOW


def test_a_future_date_cannot_hide_a_flood(detector: Detector) -> None:
    context = MemoryContext()
    policy = DecisionPolicy(flood_count=3)
    decisions = [
        run(
            context,
            detector,
            mail(ANGRY, mid=f"{i}@x", extra=date_header(NOW + timedelta(days=10 * i))),
            NOW + timedelta(seconds=i),
            policy,
        )
        for i in range(1, 4)
    ]
    assert [d.decision for d in decisions] == [RECOVERY, THREAD, THREAD]
    assert decisions[2].reason == "flood: 3 mails within 10 minutes"


def test_an_angrier_reply_raises_the_recovery_severity(detector: Detector) -> None:
    context = MemoryContext()
    first = run(context, detector, mail("The export still does not work.", mid="a@x"))
    assert first.severity == "sev3"
    furious = "Still not fixed. Unacceptable. Our lawyers will be in touch."
    reply = run(
        context,
        detector,
        mail(furious, mid="b@x", extra="In-Reply-To: <a@x>\r\n"),
        NOW + timedelta(days=1),
    )
    assert reply.raise_to == "sev1"
    assert context.severity_of(1) == "sev1"
    calmer = run(
        context,
        detector,
        mail("Thanks", mid="c@x", extra="In-Reply-To: <a@x>\r\n"),
        NOW + timedelta(days=2),
    )
    assert calmer.raise_to is None


def test_a_given_assessment_is_used_as_is() -> None:
    verdict = Assessment(True, 42.0, "sev1", ("manual",))
    decision = decide(mail(CALM, mid="a@x"), verdict, MemoryContext(), NOW)
    assert (decision.decision, decision.score, decision.reasons) == (RECOVERY, 42.0, ("manual",))
