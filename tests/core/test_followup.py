"""Follow-up planning and the root-cause check, without any I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from worker.core.followup import (
    followup_label,
    parse_sections,
    plan_followup,
    root_cause,
    root_cause_gaps,
)
from worker.domain.document import BulletList, Quote
from worker.domain.issue import Issue, StatusCategory
from worker.domain.recovery import OPEN, Recovery
from worker.settings import FollowupSettings, Settings

RESOLVED_AT = datetime(2026, 3, 10, 16, 30, tzinfo=UTC)
NOW = datetime(2026, 3, 10, 16, 31, tzinfo=UTC)

FILLED_HAVE = """\
Root-cause analysis
But-for cause: the nightly export ran twice after the scheduler restarted
Systemic cause: nothing stops two runs of the same job
Fix: removed the duplicate invoices and refunded the client
Remediation:
- a lock around the export job
- an alert when an export runs twice
Next steps
- call the client on Friday
"""


def make_recovery(**changes: object) -> Recovery:
    recovery = Recovery(
        id=7,
        source_key="mail:<abc@example.com>",
        source_kind="mail",
        idempotency_key="rw-0123456789abcdef0123",
        client="ana@client.example",
        owner="alice",
        severity="sev2",
        summary="Invoices sent twice this month",
        jira_key="SUP-1",
        state=OPEN,
        opened_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        resolved_at=RESOLVED_AT,
        reopen_count=0,
        excerpt="We were billed twice. This is the third time!",
    )
    return replace(recovery, **changes)  # type: ignore[arg-type]


def make_issue(key: str, description: str = "", **changes: object) -> Issue:
    issue = Issue(
        key=key,
        id=key.split("-")[1],
        project="SUP",
        issue_type="Task",
        summary="Recovery: invoices sent twice",
        status="Done",
        status_category=StatusCategory.DONE,
        created_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        updated_at=RESOLVED_AT,
        resolved_at=RESOLVED_AT,
        assignee="alice",
        description=description,
    )
    return replace(issue, **changes)  # type: ignore[arg-type]


def test_followup_is_due_the_configured_days_after_resolution() -> None:
    """The due date counts from the resolution, not from now, by the recovery's severity."""
    settings = Settings(followup=FollowupSettings(due_after_days={"sev1": 14, "sev2": 30}))
    later = datetime(2026, 3, 20, tzinfo=UTC)
    planned = plan_followup(make_recovery(), make_issue("SUP-1"), None, settings, later)
    assert planned.due == date(2026, 4, 9)
    sev1 = plan_followup(make_recovery(severity="sev1"), make_issue("SUP-1"), None, settings, later)
    assert sev1.due == date(2026, 3, 24)


def test_followup_days_left_out_keep_the_default_and_must_be_positive() -> None:
    """Setting only sev1 keeps 30 days for the others; zero or negative days are refused."""
    assert FollowupSettings(due_after_days={"sev1": 7}).due_after_days == {
        "sev1": 7,
        "sev2": 30,
        "sev3": 30,
    }
    with pytest.raises(ValidationError, match="at least 1 day"):
        FollowupSettings(due_after_days={"sev2": 0})


def test_followup_falls_back_to_the_issue_resolution_date() -> None:
    """Without a recorded resolution time, Jira's resolution date counts."""
    issue = make_issue("SUP-1", resolved_at=datetime(2026, 1, 31, 23, 0, tzinfo=UTC))
    planned = plan_followup(make_recovery(resolved_at=None), issue, None, Settings(), NOW)
    assert planned.due == date(2026, 3, 2)


def test_followup_goes_to_the_same_point_of_contact() -> None:
    """The recovery's current assignee owns the follow-up; the recorded owner when there is none."""
    settings = Settings()
    reassigned = make_issue("SUP-1", assignee="bob")
    assert plan_followup(make_recovery(), reassigned, None, settings, NOW).assignee == "bob"
    unassigned = make_issue("SUP-1", assignee=None)
    assert plan_followup(make_recovery(), unassigned, None, settings, NOW).assignee == "alice"


def test_followup_carries_its_labels_type_and_project() -> None:
    """Configured labels plus the idempotency label; the configured issue type."""
    planned = plan_followup(make_recovery(), make_issue("SUP-1"), None, Settings(), NOW)
    assert planned.labels == ("recovery-followup", followup_label(make_recovery()))
    assert planned.issue_type == "Task"
    assert planned.project == "SUP"
    assert planned.parent is None
    assert planned.summary == "Follow-up call: Invoices sent twice this month"


def test_label_differs_per_recovery_and_round() -> None:
    """Each recovery, and each new round after a cancel, has its own label."""
    first = followup_label(make_recovery())
    assert first.startswith("rw-fu-")
    assert first != followup_label(make_recovery(idempotency_key="rw-other"))
    assert first != followup_label(make_recovery(), 1)


def test_description_recaps_and_lists_the_remediation() -> None:
    """The complaint is recapped, the remediation listed, value and the client's view asked for."""
    have = make_issue("SUP-3", FILLED_HAVE, summary="HAVE: root cause and options")
    planned = plan_followup(make_recovery(), make_issue("SUP-1"), have, Settings(), NOW)
    text = planned.description.plain_text()
    assert "SUP-1 was resolved on 2026-03-10" in text
    assert "Invoices sent twice this month" in text
    assert "- a lock around the export job" in text
    assert "- an alert when an export runs twice" in text
    assert "call the client on Friday" not in text  # next steps are not measures
    assert "Something of value to offer" in text
    assert "The client's view" in text
    quotes = [b for b in planned.description.blocks if isinstance(b, Quote)]
    assert quotes == [Quote("We were billed twice. This is the third time!")]


def test_description_says_when_no_remediation_is_written() -> None:
    """Without a remediation, the task asks to find out before the call."""
    planned = plan_followup(make_recovery(), make_issue("SUP-1"), None, Settings(), NOW)
    text = planned.description.plain_text()
    assert "No remediation is written down" in text
    lists = [b for b in planned.description.blocks if isinstance(b, BulletList)]
    assert all(block.checklist for block in lists)


def test_outside_text_is_capped() -> None:
    """A huge summary or excerpt cannot blow up the follow-up."""
    recovery = make_recovery(summary="x" * 5000, excerpt="y" * 50_000)
    planned = plan_followup(recovery, make_issue("SUP-1"), None, Settings(), NOW)
    assert len(planned.summary) <= 200
    quote = next(b for b in planned.description.blocks if isinstance(b, Quote))
    assert len(quote.text) <= 1500


def test_filled_analysis_has_no_gaps() -> None:
    """All four parts written as labelled lines: nothing is missing."""
    have = make_issue("SUP-3", FILLED_HAVE)
    assert root_cause_gaps(have, {}, FollowupSettings()) == []


def test_missing_have_misses_everything() -> None:
    """No HAVE subtask at all: every part is missing, in the usual order."""
    assert root_cause_gaps(None, {}, FollowupSettings()) == [
        "but-for cause",
        "systemic cause",
        "fix",
        "remediation",
    ]


def test_template_prompts_and_placeholders_do_not_count() -> None:
    """An untouched template (questions, TBD, dots) is not an analysis."""
    template = """\
But-for cause:
- What, had it not happened, would have avoided the problem?
Systemic cause: TBD
Fix: ...
Remediation
- [ ]
"""
    have = make_issue("SUP-3", template)
    assert root_cause_gaps(have, {}, FollowupSettings()) == [
        "but-for cause",
        "systemic cause",
        "fix",
        "remediation",
    ]


@pytest.mark.parametrize(
    "text",
    [
        # wiki markup flattened by the adapter: headings gone, bullets as "- ", bold kept
        "But-for cause\n- the export ran twice\n*Systemic cause:* no lock on jobs\n"
        "Fix\n- refunds sent\nRemediation\n- a lock on the export",
        # raw wiki markup, in case it reaches us unflattened
        "h3. But-for cause\n* the export ran twice\nh3. Systemic cause\n* no lock\n"
        "h3. Fix\n* refunds sent\nh3. Remediation (from the systemic cause)\n* a lock",
        # ADF flattened: headings on their own lines, list items with a checkbox
        "BUT FOR CAUSE\n- \u2610 the export ran twice\nSystemic cause\n- \u2610 no lock\n"
        "The fix\nrefunds sent\nRemediation \u2013 a lock on the export",
        # one line per part, with dashes and odd spacing
        "  But for  cause - the export ran twice\nSystemic cause = no lock\n"
        "_Fix_: refunds sent\n1. Remediation: a lock",
    ],
)
def test_sections_are_found_in_flattened_text(text: str) -> None:
    """Wiki, ADF-flattened and hand-written forms all yield the four parts."""
    sections = parse_sections(text, FollowupSettings())
    assert set(sections) == {"but_for_cause", "systemic_cause", "fix", "remediation"}
    assert "twice" in sections["but_for_cause"]


def test_prose_that_starts_with_a_label_word_is_not_a_label() -> None:
    """A line such as "Fixed ..." or "Fix the ..." inside a section does not open the fix one."""
    text = "Systemic cause: no lock\nFixed the scheduler as well\nFix the docs later"
    sections = parse_sections(text, FollowupSettings())
    assert set(sections) == {"systemic_cause"}
    assert "Fix the docs later" in sections["systemic_cause"]


def test_configured_fields_take_precedence() -> None:
    """A part held in a custom field is read from it; the others still from the text."""
    settings = FollowupSettings(
        root_cause_fields={"but_for_cause": "customfield_1", "fix": "customfield_2"}
    )
    have = make_issue("SUP-3", "Systemic cause: no lock\nRemediation: a lock")
    fields = {"customfield_1": "the export ran twice", "customfield_2": "  "}
    assert root_cause_gaps(have, fields, settings) == ["fix"]
    assert root_cause(have, fields, settings)["but_for_cause"] == "the export ran twice"


def test_configured_headings_replace_the_defaults() -> None:
    """A team that calls the sections differently configures their labels."""
    settings = FollowupSettings(
        root_cause_headings={
            "but_for_cause": ["Trigger"],
            "systemic_cause": ["Why it could happen"],
            "fix": ["Repair"],
            "remediation": ["Prevention"],
        }
    )
    text = "Trigger: a restart\nWhy it could happen: no lock\nRepair: refunds\nPrevention: lock"
    assert root_cause_gaps(make_issue("SUP-3", text), {}, settings) == []


@pytest.mark.parametrize("changes", [{"labels": ["follow up"]}, {"hold_label": ""}])
def test_labels_jira_would_refuse_are_settings_errors(changes: dict[str, object]) -> None:
    """Jira labels cannot hold spaces: such a setting is refused at start, not at the create."""
    with pytest.raises(ValueError, match="Jira label"):
        FollowupSettings(**changes)
