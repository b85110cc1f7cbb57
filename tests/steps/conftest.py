"""Fixtures for the step tests."""

from __future__ import annotations

import pytest

from tests.support.builders import make_services
from worker.clock import FrozenClock
from worker.steps import Services
from worker.store import Store
from worker.tracker.base import Tracker


@pytest.fixture
def services(store: Store, clock: FrozenClock, tracker: Tracker) -> Services:
    """Services with the default settings on the test's tracker (the fake unless overridden)."""
    return make_services(store, clock, tracker)
