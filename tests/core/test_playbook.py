"""The playbook: templates parsed from TOML, and the recovery ticket planned from a recovery."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import REPO
from worker.core.playbook import (
    MAX_SUMMARY,
    STAGES,
    client_domain,
    duration_text,
    parse_playbook,
    plan_recovery,
    point_of_contact,
    promised_cadence,
)
from worker.domain.document import BulletList, Quote
from worker.domain.recovery import Recovery, idempotency_key
from worker.errors import ConfigurationError
from worker.settings import JiraSettings, Settings

DEFAULTS = REPO / "worker" / "defaults" / "playbook.toml"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def playbook_text() -> str:
    return DEFAULTS.read_text(encoding="utf-8")


def recovery(**changes: object) -> Recovery:
    base = Recovery(
        id=1,
        source_key="mail:<abc@acme.example>",
        source_kind="mail",
        idempotency_key=idempotency_key("mail:<abc@acme.example>"),
        client="Jane Roe <jane@mail.acme.example>",
        owner="",
        severity="sev2",
        summary="Invoices export broken for the third time",
        jira_key=None,
        state="pending",
        opened_at=NOW,
        resolved_at=None,
        reopen_count=0,
        source_ref="<abc@acme.example>",
        source_at=datetime(2026, 3, 2, 8, 55, tzinfo=UTC),
        excerpt="This is the THIRD time.\n{code}unacceptable{code}",
        reasons=("anger words: unacceptable", "repeat: third time"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def settings(**jira: object) -> Settings:
    return Settings(jira=JiraSettings(**jira))


def test_shipped_playbook_parses_into_three_stages() -> None:
    """The shipped templates have KNOW, HAVE and DO, each with a checklist."""
    playbook = parse_playbook(playbook_text())
    assert tuple(s.name for s in playbook.stages) == STAGES
    assert all(len(s.checklist) >= 3 for s in playbook.stages)
    assert playbook.stages[0].summary.startswith("KNOW")


def test_config_copy_matches_the_shipped_playbook() -> None:
    """config/playbook.toml is the file teams copy and edit; it must match the shipped one."""
    assert (REPO / "config" / "playbook.toml").read_text(encoding="utf-8") == playbook_text()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[know", "not valid TOML"),
        ("[know]\nsummary='K'\nchecklist=['a']\n[have]\nsummary='H'\nchecklist=['a']", "[do]"),
        (
            "[know]\nsummary='K'\nchecklist=[]\n[have]\nsummary='H'\nchecklist=['a']\n"
            "[do]\nsummary='D'\nchecklist=['a']",
            "[know] needs a checklist",
        ),
        (
            "[know]\nsummary='K'\nchecklist=['a']\n[have]\nsummary='H'\nchecklist=['a']\n"
            "[do]\nsummary='D'\nchecklist=['a']\n[dont]\nsummary='X'",
            "unknown sections dont",
        ),
    ],
)
def test_broken_playbooks_are_refused_with_the_reason(text: str, problem: str) -> None:
    """A playbook missing a section, a checklist, or with an unknown section is refused."""
    with pytest.raises(ConfigurationError) as info:
        parse_playbook(text)
    assert problem in str(info.value)


def test_plan_for_a_mail_complaint() -> None:
    """Summary, labels with the idempotency key, priority from severity, the owner by domain."""
    rec = recovery()
    plan = plan_recovery(
        rec,
        settings(owners={"acme.example": "alice"}, labels=["recovery", "client care"]),
        NOW,
        playbook=parse_playbook(playbook_text()),
    )
    parent = plan.parent
    assert parent.summary == "Recovery: Invoices export broken for the third time"
    assert parent.labels == ("recovery", "client-care", rec.idempotency_key)
    assert parent.priority == "High"
    assert parent.assignee == "alice"
    assert (parent.project, parent.issue_type) == ("SUP", "Task")
    text = parent.description.plain_text()
    assert "Jane Roe <jane@mail.acme.example>" in text
    assert "sev2" in text
    assert "2026-03-02 08:55 UTC" in text
    assert "anger words: unacceptable" in text
    assert "a first answer within 4 hours, then an update every 8 hours" in text
    assert "(counted in business hours)" in text
    quotes = [b for b in parent.description.blocks if isinstance(b, Quote)]
    assert quotes == [Quote(rec.excerpt)]


def test_plan_subtasks_carry_the_checklists() -> None:
    """Three subtasks, KNOW/HAVE/DO, each a checklist, each findable by its own label."""
    rec = recovery()
    plan = plan_recovery(rec, settings(), NOW, playbook=parse_playbook(playbook_text()),
                         subtask_type="Sub-task")  # fmt: skip
    assert [s.summary.split(":")[0] for s in plan.subtasks] == ["KNOW", "HAVE", "DO"]
    assert [s.labels[-1] for s in plan.subtasks] == [
        f"{rec.idempotency_key}-{stage}" for stage in STAGES
    ]
    assert all(s.issue_type == "Sub-task" and s.parent is None for s in plan.subtasks)
    lists = [b for s in plan.subtasks for b in s.description.blocks if isinstance(b, BulletList)]
    assert all(bl.checklist for bl in lists)
    assert [s.parent for s in plan.subtasks_of("SUP-7")] == ["SUP-7"] * 3


def test_plan_for_a_jira_signal_names_the_source_issue() -> None:
    """A recovery from a Jira issue names that issue and keeps its assignee as owner."""
    rec = recovery(source_kind="jira", source_key="jira:OPS-4", source_ref="OPS-4",
                   owner="bob", severity="sev1", excerpt="")  # fmt: skip
    plan = plan_recovery(rec, settings(default_owner="alice"), NOW,
                         playbook=parse_playbook(playbook_text()))  # fmt: skip
    assert "Jira issue OPS-4" in plan.parent.description.plain_text()
    assert plan.parent.assignee == "bob"
    assert plan.parent.priority == "Highest"


def test_point_of_contact_falls_back_in_order() -> None:
    """Source assignee, then the domain (or a parent domain) owner, then the default, then none."""
    jira = JiraSettings(owners={"@acme.example": "alice"}, default_owner="carol")
    assert point_of_contact(recovery(owner="bob"), jira) == "bob"
    assert point_of_contact(recovery(), jira) == "alice"
    assert point_of_contact(recovery(client="x@other.example"), jira) == "carol"
    assert point_of_contact(recovery(client="x@other.example"), JiraSettings()) is None
    assert client_domain("Jane <Jane@ACME.example>") == "acme.example"


def test_long_and_multiline_summaries_fit_jira() -> None:
    """A summary is one line and at most 255 characters."""
    rec = recovery(summary="line one\nline two " + "x" * 400)
    plan = plan_recovery(rec, settings(), NOW, playbook=parse_playbook(playbook_text()))
    for issue in (plan.parent, *plan.subtasks):
        assert len(issue.summary) <= MAX_SUMMARY
        assert "\n" not in issue.summary


def test_a_team_playbook_file_replaces_the_wording(tmp_path: Path) -> None:
    """An edited playbook changes the subtasks' titles and checklists."""
    edited = playbook_text().replace("KNOW: the client", "KNOW: our client")
    plan = plan_recovery(recovery(), settings(), NOW, playbook=parse_playbook(edited))
    assert plan.subtasks[0].summary.startswith("KNOW: our client")


def test_cadence_follows_the_sla_policy() -> None:
    """The promised cadence is written from the configured SLA policy of the severity."""
    configured = Settings.model_validate(
        {"sla": {"policies": {"sev1": {"first_contact": "30m", "update_every": "2h",
                                       "resolution": "1d", "calendar": "24x7"}}}}
    )  # fmt: skip
    assert promised_cadence("sev1", configured) == (
        "a first answer within 30 minutes, then an update every 2 hours until it is resolved, "
        "resolution within 1 day (counted around the clock)"
    )
    assert duration_text(timedelta(days=1, hours=2, minutes=5)) == "1 day 2 hours 5 minutes"
