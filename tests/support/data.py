"""Where the tests find third-party data: vendored in tests/data, or beside the repository.

What a licence lets the project redistribute is copied unchanged under ``tests/data`` (its
README names each source, commit and licence). What it does not, the Jira Data Center spec,
is read from ``../shared`` (or the folder ``RECOVERY_WORKER_SHARED`` names) or from the file
``RECOVERY_WORKER_TEST_DC_SPEC`` names; a test that needs it and finds none is skipped with
the way to get it, or fails under CI=true.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.ci import unavailable

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
#: Real mail from mail libraries and bounce collections, laid out as in its sources.
MAIL = DATA / "mail"
CLOUD_SPEC = DATA / "jira-openapi" / "jira-cloud-platform-v3.json"

# Read once, at import: every test runs with the RECOVERY_WORKER_* variables removed.
SHARED = Path(os.environ.get("RECOVERY_WORKER_SHARED") or REPO.parent / "shared")
DC_SPEC = Path(
    os.environ.get("RECOVERY_WORKER_TEST_DC_SPEC")
    or SHARED / "jira-openapi" / "jira-datacenter-10.3.json"
)
DC_SPEC_MISSING = (
    f"Jira Data Center OpenAPI spec not at {DC_SPEC} (Atlassian's terms keep it out of the "
    "repository): set RECOVERY_WORKER_TEST_DC_SPEC to jira_software_dc_10003_swagger.v3.json "
    "from developer.atlassian.com (Jira Software Data Center 10.3 REST API)"
)


def vendored(folder: Path, pattern: str = "*", *, at_least: int = 1) -> list[Path]:
    """The files under a folder of tests/data, sorted; fails, naming what is missing, if too few.

    The data is part of the repository, so a shortfall is a broken checkout, never a skip.
    """
    files = sorted(p for p in folder.rglob(pattern) if p.is_file()) if folder.is_dir() else []
    if len(files) < at_least:
        where = folder.relative_to(REPO) if folder.is_relative_to(REPO) else folder
        pytest.fail(
            f"test data missing: {where} holds {len(files)} files matching {pattern!r}, "
            f"at least {at_least} expected (see tests/data/README.md)",
            pytrace=False,
        )
    return files


def require_dc_spec() -> Path:
    """The Data Center spec's path; skips (fails under CI=true) when it is not there."""
    if not DC_SPEC.is_file():
        unavailable(DC_SPEC_MISSING)
    return DC_SPEC
