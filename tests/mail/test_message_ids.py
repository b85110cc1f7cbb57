"""Long Message-IDs: two ids sharing a long prefix stay two mails, and replies still find them."""

from __future__ import annotations

from datetime import UTC, datetime

from worker.core.decision import MemoryContext, decide
from worker.core.detection import Detector, load_signals
from worker.domain.decision import RECOVERY, THREAD
from worker.mail.parse import MAX_ID_LENGTH, parse_message

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PREFIX = "a" * (MAX_ID_LENGTH + 50)


def raw(mid: str, *, body: str, sender: str, references: str = "") -> bytes:
    refs = f"References: <{references}>\r\nIn-Reply-To: <{references}>\r\n" if references else ""
    return (
        f"From: {sender}\r\nTo: support@acme.example\r\nSubject: Portal\r\n"
        f"Message-ID: <{mid}>\r\n{refs}\r\n{body}\r\n"
    ).encode()


def test_ids_sharing_a_long_prefix_are_two_mails() -> None:
    first = parse_message(raw(PREFIX + "-one@x", body="hi", sender="a@client.example"))
    second = parse_message(raw(PREFIX + "-two@x", body="hi", sender="b@client.example"))
    assert first.message_id != second.message_id
    assert first.key != second.key
    assert len(first.message_id or "") <= MAX_ID_LENGTH


def test_a_second_complaint_with_a_long_id_is_not_a_duplicate() -> None:
    detector, context = Detector(load_signals()), MemoryContext()
    angry = "This is unacceptable, the portal is still not working."
    decisions = []
    for n, sender in enumerate(("a@one.example", "b@two.example")):
        mail = parse_message(raw(f"{PREFIX}-{n}@x", body=angry, sender=sender))
        decision = decide(mail, detector, context, NOW)
        context.remember(mail, decision, NOW)
        decisions.append(decision.decision)
    assert decisions == [RECOVERY, RECOVERY]


def test_a_reply_to_a_long_id_joins_its_recovery() -> None:
    detector, context = Detector(load_signals()), MemoryContext()
    angry = "This is unacceptable, the portal is still not working."
    first = parse_message(raw(PREFIX + "@x", body=angry, sender="a@one.example"))
    context.remember(first, decide(first, detector, context, NOW), NOW)
    answer = parse_message(
        raw("reply@x", body="Any news?", sender="a@one.example", references=PREFIX + "@x")
    )
    assert answer.references == (first.message_id,)
    assert decide(answer, detector, context, NOW).decision == THREAD
