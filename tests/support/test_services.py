"""CI's check that PostgreSQL and Redis answer before the tests run."""

from __future__ import annotations

from tests.support import services


async def test_the_running_servers_answer():
    missing = await services.answering(within=10)
    if missing:  # a laptop without them skips; CI fails
        services.unavailable(", ".join(missing), RuntimeError("no answer"))
    assert missing == []


async def test_a_server_that_does_not_answer_is_named(monkeypatch):
    monkeypatch.setattr(services, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens
    [missing] = await services.answering(within=1)
    assert missing.startswith("Redis (")
