"""PostgreSQL and Redis for tests: a database of its own for each test (created, then
dropped) and a Redis key prefix of its own. `TEST_DATABASE_URL` and `TEST_REDIS_URL` say
where the servers are (default: 127.0.0.1). Where none answers (a laptop without them),
the tests that need one skip with a one-line reason; under CI=true they fail instead."""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import redis.asyncio as aioredis

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
_names = itertools.count()


def unavailable(what: str, exc: BaseException) -> None:
    """Skip (or, in CI, fail) the test that needs a server that does not answer."""
    reason = f"{what} does not answer ({type(exc).__name__}: {exc})"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """The URL of a new, empty database, dropped afterwards."""
    name = f"storefront_test_{os.getpid()}_{next(_names)}_{secrets.token_hex(3)}"
    try:
        admin = await asyncpg.connect(POSTGRES_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        unavailable(f"PostgreSQL at {POSTGRES_URL}", exc)
        raise
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield _with_database(POSTGRES_URL, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@asynccontextmanager
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of its own on the test Redis; its keys are deleted afterwards."""
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (OSError, aioredis.RedisError) as exc:
        await client.aclose()
        unavailable(f"Redis at {REDIS_URL}", exc)
        raise
    prefix = f"sftest{os.getpid()}x{next(_names)}x{secrets.token_hex(3)}"
    try:
        yield prefix
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def answering(within: float) -> list[str]:
    """What does not answer (a query, a PING) within `within` seconds: nothing, or names."""
    deadline = asyncio.get_running_loop().time() + within
    missing: list[str] = []
    for name, probe in (("PostgreSQL", _postgres_answers), ("Redis", _redis_answers)):
        while True:
            try:
                await probe()
                break
            except (OSError, asyncpg.PostgresError, aioredis.RedisError) as exc:
                if asyncio.get_running_loop().time() >= deadline:
                    missing.append(f"{name} ({type(exc).__name__}: {exc})")
                    break
                await asyncio.sleep(0.5)
    return missing


async def _postgres_answers() -> None:
    connection = await asyncpg.connect(POSTGRES_URL, timeout=5)
    try:
        await connection.fetchval("SELECT 1")
    finally:
        await connection.close()


async def _redis_answers() -> None:
    client = aioredis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        await client.ping()
    finally:
        await client.aclose()


if __name__ == "__main__":  # CI: `python -m tests.support.services` before the tests
    missing = asyncio.run(answering(within=60))
    for what in missing:
        print(f"services: {what} does not answer: its tests cannot run", file=sys.stderr)
    sys.exit(1 if missing else 0)
