"""Fixtures of the simulator tests: each module starts its simulator as ``sim``; ``client``
talks to it over HTTP, sending ``client_headers`` (override it for credentials)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from vendors.simulators.base import SimulatorServer


@pytest.fixture
def client_headers() -> dict[str, str]:
    return {}


@pytest.fixture
async def client(
    sim: SimulatorServer, client_headers: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    assert sim.base_url is not None
    async with httpx.AsyncClient(base_url=sim.base_url, headers=client_headers, timeout=5) as http:
        yield http
