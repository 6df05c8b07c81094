"""Fixtures of the vendor tests: the hand-moved clock (a test module that needs another
start, such as the real time, overrides ``clock``)."""

from __future__ import annotations

import pytest

from tests.vendors.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
