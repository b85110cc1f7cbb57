"""The Prometheus rules and the Grafana dashboard load and use only metrics the worker exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML comes with openapi-core

from worker.core.alerting import AlertKind
from worker.metrics import Metrics
from worker.outbox.followup_alerts import FOLLOWUP_OVERDUE, ROOT_CAUSE_MISSING

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "config" / "prometheus" / "recovery-worker.rules.yml"
DASHBOARD = ROOT / "config" / "grafana" / "recovery-worker.json"
ALERTS_MD = ROOT / "docs" / "alerts.md"
METRIC = re.compile(r"\brecovery_worker_[a-z0-9_]+")
KIND = re.compile(r'\bkind=~?"([^"]*)"')
TABLE_NAME = re.compile(r"^\| `([A-Za-z_:.]+)` \|", re.MULTILINE)
SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "gauge": ("",),
}


def exported() -> set[str]:
    """Every series name the registry can expose, including the suffixes of each type."""
    names: set[str] = set()
    for family in Metrics().registry.collect():
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return names


def rule_expressions() -> list[str]:
    data: dict[str, Any] = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule["expr"] for group in data["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    data = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [target["expr"] for panel in data["panels"] for target in panel["targets"]]


def balanced(expr: str) -> bool:
    depth = 0
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    for char in expr:
        if char in "([{":
            stack.append(char)
        elif char in pairs and (not stack or stack.pop() != pairs[char]):
            return False
        depth = len(stack)
    return depth == 0


def test_rules_are_valid_and_name_their_alerts() -> None:
    """Every rule has an alert name, an expression and a summary."""
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    rules = [rule for group in data["groups"] for rule in group["rules"]]
    assert {r["alert"] for r in rules} >= {"RecoverySlaBreached", "RecoverySlaWarning"}
    assert all(r["expr"] and r["annotations"]["summary"] for r in rules)


def test_dashboard_panels_have_unique_ids_and_targets() -> None:
    """Grafana needs unique panel ids; every panel queries something."""
    data = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    ids = [panel["id"] for panel in data["panels"]]
    assert len(ids) == len(set(ids))
    assert all(panel["targets"] for panel in data["panels"])


def test_every_metric_used_exists_in_the_registry() -> None:
    """A renamed metric cannot silently empty a panel or disarm an alert."""
    names = exported()
    expressions = rule_expressions() + dashboard_expressions()
    used = {name for expr in expressions for name in METRIC.findall(expr)}
    assert used, "no metric found: the pattern is wrong"
    assert used <= names, f"unknown metrics: {sorted(used - names)}"
    assert all(balanced(expr) for expr in expressions)


def test_the_check_catches_an_unknown_metric() -> None:
    """The name check fails for a metric the worker does not export."""
    assert "recovery_worker_breaches_total" not in exported()
    assert "recovery_worker_alerts_total" in exported()
    assert "recovery_worker_sla_sweep_seconds_bucket" in exported()


def documented_names(heading: str) -> set[str]:
    """The names in the first column of the table under ``heading`` in docs/alerts.md."""
    text = ALERTS_MD.read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return set(TABLE_NAME.findall(section))


def test_every_exported_metric_is_documented() -> None:
    """docs/alerts.md lists each metric the worker exports, under the name Prometheus shows."""
    exported_names = set()
    for family in Metrics().registry.collect():
        exported_names.add(family.name + ("_total" if family.type == "counter" else ""))
    assert documented_names("Metrics") == exported_names


def test_every_rule_is_documented() -> None:
    """docs/alerts.md describes each alert rule in the rules file, and no other."""
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    rules = {rule["alert"] for group in data["groups"] for rule in group["rules"]}
    assert documented_names("Prometheus") == rules


def test_alert_kinds_filtered_on_are_raised_by_the_worker() -> None:
    """A rule or panel that filters on an alert kind the worker never raises would stay empty."""
    raised = {str(kind) for kind in AlertKind} | {FOLLOWUP_OVERDUE, ROOT_CAUSE_MISSING}
    expressions = rule_expressions() + dashboard_expressions()
    used = {k for expr in expressions for match in KIND.findall(expr) for k in match.split("|")}
    assert {"escalation", FOLLOWUP_OVERDUE, ROOT_CAUSE_MISSING} <= used
    assert used <= raised, f"kinds never raised: {sorted(used - raised)}"
