"""The shop's Redis, when REDIS_URL is set: one client for conversation state, shared
limits and signals. A Redis that does not answer at start stops the start in one line."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.config import ConfigError
from storage.db import safe_url


async def connect_redis(url: str) -> Redis:
    client = Redis.from_url(
        url,
        socket_connect_timeout=5,
        health_check_interval=15,  # a connection Redis dropped (a restart) is noticed
        retry=Retry(ExponentialBackoff(cap=2.0, base=0.1), retries=3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"REDIS_URL: cannot use Redis at {safe_url(url)}: {reason}") from None
    return client
