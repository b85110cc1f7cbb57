"""Fixtures shared by the tests of the pure core."""

from __future__ import annotations

import pytest

from worker.core.detection import Detector, load_signals


@pytest.fixture(scope="module")
def detector() -> Detector:
    """The detector with the shipped rules and model."""
    return Detector(load_signals())
